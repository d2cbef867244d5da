"""Caseworkers of the child & family support centres: what needs action, reviewing monthly
reports (acknowledge, return), alerts from absence streaks, and the export."""

from __future__ import annotations

import datetime as dt

from webapp.manuals.flows_facility import login_steps, notice
from webapp.manuals.walkthrough import Flow, Step

LOGIN = "cw-setagaya-1"


def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()


def menu(name: str):
    def action(page, run):
        click_and_wait(page, page.locator("nav .menu a", has_text=name).first)
    return action


# --- dashboard --------------------------------------------------------------------------------

def see_dashboard(page, run):
    heading = page.locator("#dashboard-heading")
    assert heading.inner_text() == "対応が必要なもの"
    assert page.locator(".dashboard").get_by_text("未確認").count() >= 1


def open_urgent(page, run):
    item = page.locator(".dashboard .urgent li", has_text="未確認").first
    click_and_wait(page, item.locator("a"))
    assert page.locator("h1").inner_text().startswith("緊急連絡：")


def acknowledge_urgent(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認した（対応を始める）"))
    assert notice(page) == "確認済にしました。"


def record_response(page, run):
    page.locator("#response").fill("保護者に連絡し、明日家庭訪問します。学校にも様子を見ていただくようお願いします。")
    page.get_by_label("施設にも表示する（施設への回答）").check()
    click_and_wait(page, page.get_by_role("button", name="記録する"))
    assert notice(page) == "対応を記録しました。"
    assert "施設に表示" in page.locator(".responses").inner_text()


DASHBOARD = Flow(
    slug="caseworker-dashboard", role="caseworker", login=LOGIN,
    title="対応が必要なものを確かめる（緊急連絡への対応）",
    summary="ホームの「対応が必要なもの」に、未終了の緊急連絡、未解決のアラート、未読の連絡帳がまとめて表示されます。",
    steps=login_steps(LOGIN, "ログインすると提出状況の画面が開き、一番上に「対応が必要なもの」が表示されます。", keyboard=False) + (
        Step("dashboard", "緊急連絡は古いものから、アラートは未対応のものから並びます。", see_dashboard),
        Step("urgent", "「未確認」の緊急連絡を開き、内容を確かめます。", open_urgent),
        Step("acknowledge", "「確認した（対応を始める）」を押すと、確認した日時と職員が記録され、施設にも「確認済」と表示されます。",
             acknowledge_urgent),
        Step("respond", "対応したことを記録します。「施設にも表示する」にチェックすると、施設への回答として表示されます。",
             record_response),
    ),
)


# --- reviewing monthly reports ----------------------------------------------------------------

def open_first_report(page, run):
    assert page.locator("h1").inner_text() == "確認待ちの報告"
    first = page.locator("table tbody tr a").first
    click_and_wait(page, first)
    assert page.locator("#comment").is_visible()


def acknowledge_report(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認", exact=True))
    assert notice(page) == "確認済にしました。"
    assert "確認済" in page.locator(".status").first.inner_text()


ACKNOWLEDGE = Flow(
    slug="caseworker-acknowledge", role="caseworker", login=LOGIN,
    title="月次報告を確認する",
    summary="施設から提出された月次報告を読み、「確認」で確認済にします。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「確認待ち」を開きます。", keyboard=False) + (
        Step("queue", "確認待ちの報告が、提出の古い順に並びます。", menu("確認待ち")),
        Step("report", "報告を開くと、出欠の日数、欠席の理由、気になる様子と、これまでの版が表示されます。", open_first_report),
        Step("acknowledge", "内容に問題がなければ「確認」を押します。施設の一覧でも「確認済」になります。", acknowledge_report),
    ),
)


def write_return_comment(page, run):
    page.locator("#comment").fill("欠席日数と欠席理由ごとの日数をもう一度ご確認ください。")


def return_report(page, run):
    click_and_wait(page, page.get_by_role("button", name="差戻し"))
    assert notice(page) == "差し戻しました。"
    assert "差戻し" in page.locator("main").inner_text()


RETURN = Flow(
    slug="caseworker-return", role="caseworker", login=LOGIN,
    title="月次報告を差し戻す",
    summary="報告に確認してほしい点があるときは、理由を書いて施設に差し戻します。施設が修正して再提出すると、すべての版が残ります。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「確認待ち」を開きます。", keyboard=False) + (
        Step("queue", "確認待ちの報告から、差し戻す報告を開きます。", menu("確認待ち")),
        Step("report", "報告の内容を確かめます。", open_first_report),
        Step("comment", "「差し戻す理由」に、施設に直してほしい点を書きます。この文は施設に表示されます。", write_return_comment),
        Step("return", "「差戻し」を押すと、施設の一覧で「差戻し」になり、理由が表示されます。", return_report),
    ),
)


# --- alerts -----------------------------------------------------------------------------------

def see_alerts(page, run):
    assert page.locator("h1").inner_text() == "アラート一覧"
    assert page.locator("table tbody tr").count() >= 1


def open_alert(page, run):
    click_and_wait(page, page.locator("table tbody tr a").first)
    assert page.get_by_role("button", name="確認した").is_visible()


def acknowledge_alert(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認した"))
    assert "確認済" in page.locator("main").inner_text()


def resolve_alert(page, run):
    page.locator("#note").fill("学校に確認したところ、インフルエンザで欠席中。来週から登校予定。")
    click_and_wait(page, page.get_by_role("button", name="対応完了にする"))
    assert notice(page) == "対応完了にしました。"


ALERTS = Flow(
    slug="caseworker-alerts", role="caseworker", login=LOGIN,
    title="アラートに対応する",
    summary="連続欠席（開所日で数えて3日で警告、7日でアラート）と連絡なし欠席から、アラートが自動で作られます。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「アラート」を開きます。未対応の件数が表示されています。", keyboard=False) + (
        Step("list", "アラートの一覧です。状態と種類で絞り込めます。", menu("アラート")),
        Step("open", "アラートを開くと、児童と欠席の続いている日数、欠席の始まりが表示されます。", open_alert),
        Step("acknowledge", "内容を確かめたら「確認した」を押します。", acknowledge_alert),
        Step("resolve", "施設や家庭に確認して対応したら、対応の内容を書いて「対応完了にする」を押します。", resolve_alert),
    ),
)


# --- export -----------------------------------------------------------------------------------

def fill_export(page, run):
    assert page.locator("h1").inner_text() == "月次報告の出力"
    # Six months before the one the form proposes (the server's current period,
    # from its clock, not this machine's): the demo's reports end the month before.
    proposed = dt.date.fromisoformat(page.locator("#to").input_value() + "-01")
    months = [(proposed.year * 12 + proposed.month - 1) - back for back in (6, 1)]
    start, end = (f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months)
    page.locator("#from").fill(start)
    page.locator("#to").fill(end)


def download_csv(page, run):
    with page.expect_download() as info:
        page.get_by_role("button", name="CSVをダウンロード").click()
    download = info.value
    path = download.path()
    text = open(path, encoding="utf-8-sig").read()
    assert download.suggested_filename.endswith(".csv")
    assert text.count("\n") > 1, text[:200]


def print_view(page, run):
    click_and_wait(page, page.get_by_role("button", name="印刷用に表示"))
    assert page.locator("table").count() >= 1


EXPORT = Flow(
    slug="caseworker-export", role="caseworker", login=LOGIN,
    title="月次報告を出力する（CSV・印刷）",
    summary="担当範囲の児童の提出済みの報告を、期間を指定してCSVで出力したり、印刷用に表示したりします。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「報告の出力」を開きます。", keyboard=False) + (
        Step("form", "出力する期間（開始月と終了月）を「2026-04」の形で入力します。", lambda page, run: (menu("報告の出力")(page, run), fill_export(page, run))),
        Step("csv", "「CSVをダウンロード」を押すと、Excelでそのまま開けるCSVファイルが保存されます。", download_csv),
        Step("print", "「印刷用に表示」を押すと、印刷に向いた一覧が表示されます。ブラウザの印刷機能で印刷します。", print_view),
    ),
)

FLOWS = (DASHBOARD, ACKNOWLEDGE, RETURN, ALERTS, EXPORT)
