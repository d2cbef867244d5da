"""The caseworker's "対応が必要なもの" (F-DASH): sections that areas add to the top of the home page.

The caseworker home is the submission matrix (``centre.matrix``). Its template
includes ``centre/dashboard.html``, which shows ``request.dashboard_sections``:
each area registers a section in its ``includeme`` with

    config.add_dashboard_section("urgent", provider, "centre/dashboard_sections/urgent.html", order=10)

``provider(request)`` returns the section's items (already scoped to the
user) or an empty list; the template is rendered with ``section.items``.
Sections are shown by ``order`` (lower first), so urgent reports (10) come
before alerts (20) and messages (30), whatever order the areas are included
in. Areas need not import this module: the directive is looked up on config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class SectionSpec:
    key: str
    provider: Callable
    template: str
    order: int


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    template: str
    items: list


def add_dashboard_section(config, key: str, provider: Callable, template: str, order: int = 50) -> None:
    specs = config.registry.setdefault("dashboard.sections", {})
    if key in specs:
        raise ValueError(f"dashboard section {key!r} registered twice")
    specs[key] = SectionSpec(key, provider, template, order)


def dashboard_sections(request) -> list[Section]:
    """Sections with something in them, in order. Empty ones are left out."""
    specs = sorted(request.registry.get("dashboard.sections", {}).values(), key=lambda s: (s.order, s.key))
    sections = []
    for spec in specs:
        items = list(spec.provider(request) or [])
        if items:
            sections.append(Section(spec.key, spec.template, items))
    return sections


def includeme(config):
    config.add_directive("add_dashboard_section", add_dashboard_section)
    config.add_request_method(dashboard_sections, "dashboard_sections", reify=True)
