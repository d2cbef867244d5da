"""Driving a page with the keyboard only, as a user without a mouse would.

Keys used: Tab and Shift+Tab to move, Enter and Space to press, arrow keys in
radio groups and selects, and typing. Every element reached is checked for a
visible focus indicator (WCAG 2.4.7): an outline or a box shadow.
"""

from __future__ import annotations

# What the focused element is, and how its focus is drawn.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body"};
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id || "", name: el.getAttribute("name") || "",
          type: el.getAttribute("type") || "", value: el.value === undefined ? "" : String(el.value),
          text: (el.innerText || "").trim(), href: el.getAttribute("href") || "",
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
          shadow: style.boxShadow !== "none"};
}"""


def focused(page) -> dict:
    return page.evaluate(_FOCUSED)


def assert_focus_visible(info: dict) -> None:
    assert info["outline"] or info["shadow"], f"no visible focus on {info}"


def tab_to(page, matches, *, limit: int = 250, backwards: bool = False) -> dict:
    """Press Tab until the focused element satisfies ``matches(info)``; fails if never reached."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        info = focused(page)
        if info["tag"] != "body" and matches(info):
            assert_focus_visible(info)
            return info
    raise AssertionError(f"never reached by {key}; last focused: {focused(page)}")


def press_and_wait(page, key: str = "Enter") -> None:
    """Press ``key`` (Enter on a link or button) and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state()


def link(text: str):
    return lambda info: info["tag"] == "a" and info["text"].startswith(text)


def button(text: str):
    return lambda info: info["tag"] == "button" and info["text"] == text


def field(id_: str):
    return lambda info: info["id"] == id_


def replace_text(page, text: str) -> None:
    """Replace what the focused field holds with ``text``."""
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    if text:
        page.keyboard.type(text)


def from_top(page) -> None:
    """Start tabbing from the top of the page (what a reloaded page does)."""
    page.locator("body").focus()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
