"""Steps and page helpers every role's flows share (login, the flash notice, a click that navigates).

They live here, not in one role's flows, so the flows of one role never import another's.
"""

from __future__ import annotations

from webapp.manuals.keys import field, focused, from_top, press_and_wait, tab_to
from webapp.manuals.walkthrough import Step


def login_steps(login: str, home_caption: str, *, keyboard: bool = True) -> tuple[Step, Step]:
    """Two steps every flow starts with: type the login, then the home page it leads to."""

    def type_login(page, run):
        page.goto(run.base_url + "/login")
        if keyboard:
            from_top(page)
            tab_to(page, field("login"))
            page.keyboard.type(login)
            page.keyboard.press("Tab")
            assert focused(page)["id"] == "password"
            page.keyboard.type(run.password)
        else:
            page.locator("#login").fill(login)
            page.locator("#password").fill(run.password)

    def submit(page, run):
        if keyboard:
            press_and_wait(page, "Enter")
        else:
            with page.expect_navigation():
                page.get_by_role("button", name="ログイン").click()
        assert "/login" not in page.url, page.locator("main").inner_text()

    return (
        Step("login", f"ログイン画面でログインID（{login}）とパスワードを入力します。", type_login),
        Step("home", home_caption, submit),
    )


def notice(page) -> str:
    return page.locator(".notice").inner_text()


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()
