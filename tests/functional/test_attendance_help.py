"""The help area: /help/<topic> serves templates/help/<topic>.html to any logged-in role."""

import pytest


@pytest.mark.req("F-DAILY")
@pytest.mark.parametrize("role", ["facility", "caseworker", "admin", "auditor"])
def test_every_role_reads_the_help_index(app, make, login_as, role):
    login_as(make.account(role))
    page = app.get("/help/index")
    assert page.html.select_one("h1").get_text(strip=True) == "ヘルプ"


def test_help_needs_a_login(app):
    response = app.get("/help/index")
    assert response.status_int == 303 and "/login" in response.location


@pytest.mark.parametrize("topic", ["no_such_topic", "Index", "..", "base", "index.html", "a-b"])
def test_unknown_or_malformed_topics_are_404(app, make, login_as, topic):
    login_as(make.account("facility"))
    app.get(f"/help/{topic}", status=404)


@pytest.mark.req("F-DAILY")
def test_the_index_lists_the_daily_attendance_page_which_explains_entry_correction_and_closures(app, make, login_as):
    login_as(make.account("facility"))
    index = app.get("/help/index")
    link = index.html.find("a", string="日々の出欠の入力")
    assert link["href"].endswith("/help/daily_attendance")
    page = app.get(link["href"])
    headings = [h.get_text(strip=True) for h in page.html.select("h2")]
    assert {"1日分を入力する", "学年・クラスで絞り込む", "訂正する", "休業期間・特別開所日を設定する"} <= set(headings)
    # Reachable from the day screen too.
    day = app.get("/attendance").follow()
    assert day.html.find("a", string="入力のしかた（ヘルプ）")["href"].endswith("/help/daily_attendance")
