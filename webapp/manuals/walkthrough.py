"""Flows and steps: what a user does, in order, with the caption a manual shows for each step.

A step's ``action`` receives a Playwright page and a :class:`Run` and does what
the caption says, asserting what the user would see (so a broken screen fails
the walkthrough). Nothing here imports Playwright: the web app reads the flows
(titles and captions) to render the manuals, without a browser.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from webapp.demo import DEMO_PASSWORD

ROLES = ("facility", "caseworker", "admin", "auditor")


@dataclasses.dataclass(frozen=True)
class Step:
    name: str
    caption: str
    action: Callable[[Any, "Run"], None]


@dataclasses.dataclass(frozen=True)
class Flow:
    slug: str
    role: str
    login: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    # Facility flows are done with the keyboard only (F-UI: many school PCs are shared, some staff use no mouse).
    keyboard_only: bool = False


@dataclasses.dataclass
class Run:
    """State one walkthrough run carries from step to step (e.g. the page a later step returns to)."""

    flow: Flow
    base_url: str
    password: str = DEMO_PASSWORD
    notes: dict = dataclasses.field(default_factory=dict)


# (flow, step index, step, page) after each step: tests run axe there, the builder takes a screenshot.
StepHook = Callable[[Flow, int, Step, Any], None]


def run_flow(flow: Flow, page, base_url: str, after_step: StepHook | None = None) -> Run:
    """Do every step of ``flow`` on ``page`` (a fresh context), calling ``after_step`` after each."""
    run = Run(flow=flow, base_url=base_url)
    for index, step in enumerate(flow.steps, start=1):
        try:
            step.action(page, run)
        except Exception as exc:
            raise AssertionError(f"{flow.slug} step {index} ({step.name}) failed at {page.url}: {exc}") from exc
        page.wait_for_load_state()
        if after_step:
            after_step(flow, index, step, page)
    return run
