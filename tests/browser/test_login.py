"""Each demo role logs in in a real browser and lands on its own home page."""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import DEMO_PASSWORD, log_in

# login -> (path the home page redirects to, heading on it, organisation shown)
HOMES = {
    "admin": (r"/admin$", "管理", "世田谷区"),
    "auditor": (r"/logs/access$", "アクセスログ", "世田谷区"),
    "cw-setagaya-1": (r"/centre/submissions$", "提出状況", "世田谷子ども家庭支援センター"),
    "cw-jisou-1": (r"/centre/submissions$", "提出状況", "世田谷区児童相談所"),
    # Facilities land on today's to-do (webapp/today), not on the month's list.
    "es001": (r"/today$", "今日やること", "小学校"),
}


@pytest.mark.req("F-ROLE", "F-UI")
@pytest.mark.parametrize("login", list(HOMES))
def test_each_demo_role_sees_its_home_page(page, login):
    path, heading, organisation = HOMES[login]
    log_in(page, login)
    assert re.search(path, page.url), page.url
    assert heading in page.locator("h1").inner_text()
    assert organisation in page.locator(".who").inner_text()
    # Japanese page, and the logout button is there for every role.
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("button", name="ログアウト").is_visible()


@pytest.mark.req("F-ROLE")
def test_printed_demo_logins_name_every_role(server):
    for login in ("admin", "auditor", "cw-setagaya-1", "es001"):
        assert login in server.logins_text
    assert DEMO_PASSWORD in server.logins_text


@pytest.mark.req("S-AUTH")
def test_wrong_password_keeps_the_user_on_the_login_page(page):
    page.goto("/login")
    page.locator("#login").focus()
    page.keyboard.type("es001")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator(".error-summary").inner_text() == "ログインIDまたはパスワードが正しくありません。"
    assert page.locator("#login").input_value() == "es001"


@pytest.mark.req("F-ROLE")
def test_facility_cannot_open_the_centre_pages(page):
    log_in(page, "es001")
    response = page.goto("/centre/submissions")
    assert response.status == 403
