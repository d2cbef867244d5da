"""The README's generated regions: the settings table and the `mimamori` commands.

Each region sits between ``<!-- BEGIN generated: NAME -->`` and
``<!-- END generated: NAME -->``; everything outside them stays hand-written.
"""

from __future__ import annotations

import argparse
import re

from ci.docsgen.setting_meanings import MEANINGS

PATH = "README.md"


class RegionError(Exception):
    pass


def settings_table() -> tuple[str, list[str]]:
    from webapp.settings import DEFAULTS, ENVIRONMENT_OVERRIDES

    variables = {key: variable for variable, key in ENVIRONMENT_OVERRIDES.items()}
    problems = [f"webapp/settings.py has {key} but ci/docsgen/setting_meanings.py says nothing of it: "
                "add one line saying what it means" for key in DEFAULTS if key not in MEANINGS]
    problems += [f"ci/docsgen/setting_meanings.py explains {key}, which webapp/settings.py DEFAULTS lacks"
                 for key in MEANINGS if key not in DEFAULTS]
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for key, default in DEFAULTS.items():
        variable = f"`{variables[key]}`" if key in variables else ""
        shown = f"`{default}`" if default else "empty"
        rows.append(f"| `{key}` | {variable} | {shown} | {MEANINGS.get(key, '?')} |")
    return "\n".join(rows), problems


def _usage(parser: argparse.ArgumentParser) -> str:
    """One line, without -h, with the ini file every command needs."""
    formatter = parser.formatter_class(prog=parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    usage = formatter.format_help().strip().replace(" [-h]", "")
    return usage.replace("mimamori ", "mimamori -c INI ", 1)


def _leaves(parser: argparse.ArgumentParser, help_text: str = ""):
    """(usage, help) of every command that runs something, subcommands included."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield _usage(parser), help_text
        return
    helps = {choice.dest: choice.help or "" for choice in subcommands[0]._choices_actions}
    for name, child in subcommands[0].choices.items():
        yield from _leaves(child, helps.get(name, ""))


def command_list() -> str:
    from webapp.cli import build_parser

    lines = ["```sh"]
    for usage, help_text in _leaves(build_parser()):
        lines += [f"# {help_text}", usage]
    return "\n".join(lines + ["```"])


def replace_region(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- BEGIN generated: {name} [^>]*-->\n).*?(<!-- END generated: {name} -->)", re.S)
    if not pattern.search(text):
        raise RegionError(f"{PATH} has no region {name}: keep its BEGIN/END generated: {name} comments")
    return pattern.sub(lambda match: match.group(1) + body + "\n" + match.group(2), text, count=1)


def render(current: str) -> tuple[str, list[str]]:
    table, problems = settings_table()
    text = replace_region(current, "settings", table)
    return replace_region(text, "commands", command_list()), problems
