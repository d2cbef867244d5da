"""Password rules (S-AUTH): long, not the login or the person's name, not a well-known password.

Length and a list of known passwords, as NIST SP 800-63B advises, rather than
rules about character classes: "Password2026!" passes class rules and is among
the first guesses of any cracking tool; a long phrase of the user's own
does not need a symbol to be strong.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata

from webapp.i18n import _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200

# Digits, symbols and spaces at either end: "!!Sakura2026!" is "sakura" to a cracker.
_AFFIXES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# The substitutions every cracking rule set tries.
_UNLEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
# A unit repeated ("abcabcabcabc", "sakurasakura").
_REPEATED = re.compile(r"(.+?)\1+", re.DOTALL)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The list in common_passwords.txt (lower case), read once."""
    text = importlib.resources.files("webapp.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("# "))


def _fold(text: str) -> str:
    """For comparisons: full-width letters as ASCII (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_common(password: str) -> bool:
    """True for listed passwords and the obvious variations of them."""
    folded = _fold(password)
    known = common_passwords()
    if folded in known:
        return True
    # Strip first, then undo the substitutions: "P@ssw0rd2026!" -> "p@ssw0rd" -> "password".
    core = _AFFIXES.sub("", folded)
    if core in known or core.translate(_UNLEET) in known:
        return True
    repeated = _REPEATED.fullmatch(folded)
    if repeated and (len(repeated.group(1)) <= 6 or _AFFIXES.sub("", repeated.group(1)) in known):
        return True
    # Too few different characters to be anything but a pattern.
    return len(set(folded)) < 4


def _name_parts(display_name: str | None) -> list[str]:
    """The name as written and each part of it ("佐藤 一郎" -> 佐藤一郎, 佐藤, 一郎)."""
    parts = [p for p in re.split(r"[\s\u3000・.,]+", _fold(display_name or "")) if p]
    candidates = parts + (["".join(parts)] if len(parts) > 1 else [])
    # One character (or one letter) is too short to be a name worth refusing.
    return [p for p in candidates if len(p) >= 2]


def password_problem(password: str, login: str, display_name: str | None = None):
    """A Japanese message saying what is wrong with ``password``, or None."""
    if not isinstance(password, str):
        return _("パスワードは文字で入力してください。")
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("パスワードは${min}文字以上にしてください。", mapping={"min": MIN_PASSWORD_LENGTH})
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("パスワードは200文字以内にしてください。")
    folded = _fold(password)
    login = _fold(login or "")
    if login and (login in folded or (len(login) >= 3 and login[::-1] in folded)):
        return _("パスワードにログインIDを含めないでください。")
    if any(part in folded for part in _name_parts(display_name)):
        return _("パスワードに氏名を含めないでください。")
    if is_common(password):
        return _("推測されやすいパスワードです。別のパスワードにしてください。")
    return None
