"""A form refused by the CSRF check (webapp.csrf) loses nothing the user typed:
the browser's Back button brings the form back with the text in it and a
fresh token, so sending it again works."""

from __future__ import annotations

import pytest

from tests.browser.helpers import log_in

pytestmark = pytest.mark.req("S-WEB")


def test_back_after_a_refused_form_keeps_the_text_and_sending_again_works(new_page, server):
    login, child_id = server.query(
        "SELECT a.login, c.id FROM accounts a JOIN children c ON c.facility_id = a.facility_id"
        " WHERE a.login = 'es001' ORDER BY c.id LIMIT 1")[0]
    page = new_page()
    log_in(page, login)
    page.goto(f"/children/{child_id}/messages")
    page.locator("#body").fill("きょうは早退しました。明日の様子も見ます。")
    # The session changes under the open form (say, a login again in another tab).
    other = page.context.new_page()
    other.goto("/")
    other.get_by_role("button", name="ログアウト").click()
    other.wait_for_url("**/login*")
    log_in(other, login)
    other.close()

    with page.expect_navigation():
        page.get_by_role("button", name="送信する").click()
    assert page.locator("h1").inner_text() == "送信を受け付けられませんでした"
    assert "「戻る」ボタン" in page.locator("main").inner_text()

    page.go_back()
    assert page.locator("#body").input_value() == "きょうは早退しました。明日の様子も見ます。"
    with page.expect_navigation():
        page.get_by_role("button", name="送信する").click()
    assert "きょうは早退しました。" in page.locator("main").inner_text()
    assert page.locator("h1").inner_text() != "送信を受け付けられませんでした"
