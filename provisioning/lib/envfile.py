"""Environment files that systemd and a shell read the same way.

systemd's EnvironmentFile= and a POSIX shell (`set -a; . FILE`) disagree on
unquoted values (a shell runs `a&b` as two commands, takes `$x` as a
variable and splits at spaces) and on single quotes (`'it'\\''s'` is one
value to a shell, not to systemd). Inside double quotes they agree: both
take the text literally except that a backslash escapes `"`, `\\`, `$` and
a backtick. So every value is written double-quoted with those four escaped,
and a value holding a line break is refused (the two readers differ there).
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Z_][A-Z0-9_]*\Z")
_ESCAPED = '"\\$`'


def quote(value: str) -> str:
    if any(c in value for c in "\n\r\0"):
        raise ValueError("an environment file value cannot hold a line break or NUL")
    return '"' + "".join("\\" + c if c in _ESCAPED else c for c in value) + '"'


def render(variables: dict[str, str]) -> str:
    """The file's text: one NAME="value" line per variable, in the given order."""
    for name in variables:
        if not _NAME.match(name):
            raise ValueError(f"not an environment variable name: {name!r}")
    return "".join(f"{name}={quote(value)}\n" for name, value in variables.items())
