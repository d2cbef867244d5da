"""Every main flow of every role, walked in Chromium from the steps the manuals are made of.

After each step: axe-core finds no serious or critical WCAG 2.1 A/AA violation,
every form field has a label, and in the facility flows (keyboard only) no
pointer event has happened and every element reached showed a visible focus
(``webapp.manuals.keys``). The server (``walk_url``) is the demo with the alert sweep run once.
"""

from __future__ import annotations

import pytest

from tests.browser.axe import axe_source, unlabelled_fields, violations
from webapp.manuals.browser import new_context
from webapp.manuals.flows import all_flows, flow_by_slug
from webapp.manuals.walkthrough import ROLES, run_flow

# Counts pointer events from the first paint on; a keyboard-only flow must end with zero.
COUNT_POINTER = """window.__pointer = 0;
['pointerdown', 'mousedown', 'click'].forEach(type => document.addEventListener(type, e => {
  if (e.isTrusted && e.detail > 0) window.__pointer += 1; }, true));"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

REQUIRED_FLOWS = {
    "facility": {"facility-attendance", "facility-monthly", "facility-urgent", "facility-messages"},
    "caseworker": {"caseworker-dashboard", "caseworker-submissions", "caseworker-acknowledge", "caseworker-bulk-acknowledge",
                   "caseworker-return", "caseworker-alerts", "caseworker-export"},
    "admin": {"admin-accounts", "admin-import", "admin-notices", "admin-logs"},
    "auditor": {"auditor-logs"},
}


@pytest.fixture(scope="module")
def axe():
    return axe_source()


def test_every_main_flow_of_every_role_is_walked():
    found = {role: {flow.slug for flow in all_flows() if flow.role == role} for role in ROLES}
    assert found == REQUIRED_FLOWS
    for flow in all_flows():
        assert flow.steps and all(step.caption for step in flow.steps), flow.slug
        assert flow.keyboard_only == (flow.role == "facility"), flow.slug


# The ward's two screens (F-UI): a caseworker's or school office's laptop and a tablet in a classroom.
SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 768}},
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True, "is_mobile": True},
}
# Per size, the element under a 24x24 CSS px target (WCAG 2.2, 2.5.8) in the page's main part:
# links inside running text are exempt (inline), so only buttons, inputs and stand-alone links count.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
    'main button, main input:not([type=hidden]), main select, main a.button, nav a'))
  .filter(el => el.offsetParent !== null)
  .map(el => { const r = el.getBoundingClientRect();
               const label = el.closest('label'); const box = label ? label.getBoundingClientRect() : r;
               return {what: el.outerHTML.slice(0, 80), w: Math.max(r.width, box.width), h: Math.max(r.height, box.height)}; })
  .filter(t => t.w < 24 || t.h < 24)"""


@pytest.mark.req("F-UI", "F-HELP")
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("slug", [flow.slug for flow in all_flows()])
def test_walkthrough_is_accessible(browser, request, axe, slug, size):
    flow = flow_by_slug(slug)
    walk_url = request.getfixturevalue("walk_url" if size == "laptop" else "tablet_walk_url")
    context = new_context(browser, walk_url, bypass_csp=True, **SIZES[size])
    context.add_init_script(COUNT_POINTER)
    page = context.new_page()
    problems, unlabelled, pointer, small, checked = [], [], [], [], set()

    def after_step(flow, index, step, page):
        # A step that only typed into the page it was on leaves the same page: checked once.
        if page.url not in checked:
            checked.add(page.url)
            problems.extend(violations(page, axe))
            small.extend(f"{page.url}: {target}" for target in page.evaluate(SMALL_TARGETS))
            if page.evaluate(OVERFLOW) > 0:
                problems.append(f"{page.url} scrolls sideways at {size}")
        unlabelled.extend(f"{page.url}: {html}" for html in unlabelled_fields(page))
        if flow.keyboard_only:
            pointer.append(page.evaluate("() => window.__pointer"))

    try:
        run_flow(flow, page, walk_url, after_step)
    finally:
        context.close()
    assert problems == []
    assert small == [], "targets under 24 px:\n" + "\n".join(small)
    assert unlabelled == []
    assert not any(pointer), f"pointer events in a keyboard-only flow: {pointer}"


def test_the_checks_find_what_they_look_for(browser, walk_url, axe):
    """The checks above would fail: the pointer counter on a real page, axe and the label check on a bad one."""
    context = new_context(browser, walk_url, bypass_csp=True)
    context.add_init_script(COUNT_POINTER)
    page = context.new_page()
    page.goto("/login")
    page.locator("h1").click()
    assert page.evaluate("() => window.__pointer") >= 1
    page.set_content('<html lang="ja"><body><main><input type="text" id="x"><img src="data:,">'
                     '<button id="b"></button></main></body></html>')
    found = {v["id"] for v in violations(page, axe)}
    assert {"label", "image-alt", "button-name"} <= found
    assert len(unlabelled_fields(page)) == 1
    context.close()
