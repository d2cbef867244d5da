"""Helpers for driving pages with the keyboard, as a user without a mouse would."""

from __future__ import annotations

from webapp.demo import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "focused", "log_in", "press_and_wait", "tab_to"]

# What the focused element is, in a form a test can compare.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el) return {};
  return {tag: el.tagName.toLowerCase(), id: el.id || "", name: el.getAttribute("name") || "",
          type: el.getAttribute("type") || "", value: el.value === undefined ? "" : String(el.value),
          text: (el.innerText || "").trim(), href: el.getAttribute("href") || ""};
}"""


def focused(page) -> dict:
    return page.evaluate(_FOCUSED)


def tab_to(page, matches, *, limit: int = 200, backwards: bool = False) -> dict:
    """Press Tab until the focused element satisfies ``matches(info)``; returns its info.

    Fails if it is not reached within ``limit`` presses — i.e. it is not in the
    keyboard's tab order.
    """
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        info = focused(page)
        if matches(info):
            return info
    raise AssertionError(f"never reached by {key}; last focused: {focused(page)}")


def press_and_wait(page, key: str) -> None:
    """Press ``key`` (e.g. Enter on a link or button) and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def log_in(page, login: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form with the keyboard: type, Tab, type, Enter."""
    page.goto("/login")
    page.locator("#login").focus()
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    press_and_wait(page, "Enter")
    assert "/login" not in page.url, page.locator("main").inner_text()
