"""Render monitoring/'s templates with one environment's settings.

One renderer for the pyinfra role (provisioning/roles/monitoring) and for the
offline checks (tests/unit/test_monitoring_config.py runs promtool and amtool on
the output), so what CI checks is what a deploy installs.

Rule files are templates only for their ``for:`` durations: ``wait(name,
default)`` gives the environment's override for that alert, so the lab detects a
stopped service in seconds while production waits long enough not to page for a
restart.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

HERE = Path(__file__).resolve().parent
RULE_FILES = sorted(p.name for p in (HERE / "rules").glob("*.yml.j2"))


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def rules(name: str, waits: dict[str, str] | None = None) -> str:
    waits = waits or {}

    def wait(alert: str, default: str) -> str:
        return waits.get(alert, default)

    return _environment().get_template(f"rules/{name}").render(wait=wait)


def template(name: str, **data) -> str:
    return _environment().get_template(name).render(**data)
