"""Caseworkers of the child & family support centres: what needs action, reviewing monthly
reports (the filtered queue, 確認して次へ, bulk acknowledgement, return), alerts from absence
streaks, and the export."""

from __future__ import annotations

import datetime as dt

from webapp.manuals.flow_steps import click_and_wait, login_steps, notice
from webapp.manuals.walkthrough import Flow, Step

LOGIN = "cw-setagaya-1"


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
    summary="ホームの「対応が必要なもの」に、未終了の緊急連絡、未解決のアラート、確認待ちの月次報告の件数、未読の連絡帳がまとめて表示されます。",
    steps=login_steps(LOGIN, "ログインすると提出状況の画面が開き、一番上に「対応が必要なもの」が表示されます。", keyboard=False) + (
        Step("dashboard", "緊急連絡は古いものから、アラートは未対応のものから並びます。", see_dashboard),
        Step("urgent", "「未確認」の緊急連絡を開き、内容を確かめます。", open_urgent),
        Step("acknowledge", "「確認した（対応を始める）」を押すと、確認した日時と職員が記録され、施設にも「確認済」と表示されます。",
             acknowledge_urgent),
        Step("respond", "対応したことを記録します。「施設にも表示する」にチェックすると、施設への回答として表示され、施設の職員には回答があったことだけがメールで届きます。",
             record_response),
    ),
)


# --- reviewing monthly reports ----------------------------------------------------------------

def see_queue(page, run):
    assert page.locator("h1").inner_text() == "確認待ちの報告"
    assert page.locator(".queue-total").inner_text().startswith(tuple("0123456789"))
    assert page.locator("table.review-queue tbody tr").count() >= 1


def filter_queue(field: str, value: str):
    def action(page, run):
        page.locator(field).select_option(value)
        click_and_wait(page, page.locator(".queue-filters").get_by_role("button", name="絞り込む"))
        assert page.locator("table.review-queue tbody tr").count() >= 1
    return action


def open_first_report(page, run):
    assert page.locator("h1").inner_text() == "確認待ちの報告"
    first = page.locator("table.review-queue tbody tr th a").first
    click_and_wait(page, first)
    assert page.locator("#comment").is_visible()


def acknowledge_and_next(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認して次へ"))
    assert notice(page) in ("確認済にしました。次の報告を表示しています。",
                            "確認済にしました。この条件で次に確認する報告はありません。")


def acknowledge_report(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認", exact=True))
    assert notice(page) == "確認済にしました。"
    assert "確認済" in page.locator(".status").first.inner_text()


ACKNOWLEDGE = Flow(
    slug="caseworker-acknowledge", role="caseworker", login=LOGIN,
    title="月次報告を確認する（確認して次へ）",
    summary="施設から提出された月次報告を、懸念のあるものから1件ずつ読み、「確認して次へ」で確認済にして次の報告に進みます。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「確認待ち」を開きます。括弧の中は確認待ちの件数です。", keyboard=False) + (
        Step("queue", "確認待ちの報告が、提出の古い順に50件ずつ並びます。全体の件数と、懸念のある報告には「要確認」とその理由（欠席日数、様子の記載あり、差戻し歴あり）が表示されます。",
             lambda page, run: (menu("確認待ち")(page, run), see_queue(page, run))),
        Step("filter", "「懸念」で「懸念あり」を選んで「絞り込む」を押すと、1件ずつ読むべき報告だけになります。施設・施設の種類・対象月・差戻し歴でも絞り込めます。",
             filter_queue("#filter-concern", "yes")),
        Step("report", "報告を開くと、出欠の日数、欠席の理由、気になる様子と、これまでの版が表示されます。", open_first_report),
        Step("next", "内容に問題がなければ「確認して次へ」を押します。確認済になり、同じ絞り込みの次の報告が開きます。最後の1件のあとは一覧に戻ります。",
             acknowledge_and_next),
        Step("acknowledge", "「確認」を押すと、確認済にしてその報告の画面にとどまります。施設の一覧でも「確認済」になります。", acknowledge_report),
    ),
)


def pick_two(page, run):
    boxes = page.locator("table.review-queue tbody input[type=checkbox]")
    assert boxes.count() >= 2
    boxes.nth(0).check()
    boxes.nth(1).check()


def open_bulk_confirmation(page, run):
    click_and_wait(page, page.get_by_role("button", name="選択した報告をまとめて確認"))
    assert page.locator("h1").inner_text() == "まとめて確認"
    assert page.locator("table.bulk-list tbody tr").count() == 2


def confirm_bulk(page, run):
    click_and_wait(page, page.get_by_role("button", name="2件を確認済にする"))
    assert notice(page) == "2件を確認済にしました。"


BULK = Flow(
    slug="caseworker-bulk-acknowledge", role="caseworker", login=LOGIN,
    title="懸念のない月次報告をまとめて確認する",
    summary="欠席が少なく、様子の記載も差戻し歴もない報告は、一覧で選んでまとめて確認済にできます。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「確認待ち」を開きます。", keyboard=False) + (
        Step("filter", "「懸念」で「懸念なし」を選んで「絞り込む」を押します。懸念のある報告にはチェック欄がなく、まとめて確認できません。",
             lambda page, run: (menu("確認待ち")(page, run), filter_queue("#filter-concern", "no")(page, run))),
        Step("pick", "確認済にする報告にチェックを入れます。このページの懸念なしの報告をすべて選ぶボタンもあります。", pick_two),
        Step("confirm", "「選択した報告をまとめて確認」を押すと、確認済にする報告の氏名・施設・対象月が一覧で表示されます。", open_bulk_confirmation),
        Step("done", "間違いがなければ「2件を確認済にする」を押します。1件でも確認できなくなっていた場合は、1件も確認済にせず、その旨が表示されます。",
             confirm_bulk),
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
        Step("return", "「差戻し」を押すと、施設の一覧で「差戻し」になり、理由が表示されます。施設の職員には、差し戻されたことだけがメールで届きます（児童の名前や理由は書かれません）。",
             return_report),
    ),
)


# --- alerts -----------------------------------------------------------------------------------

def see_alerts(page, run):
    assert page.locator("h1").inner_text() == "アラート一覧"
    assert page.locator("table tbody tr").count() >= 1
    # The most serious first: the demo's 8-day streak without word from home.
    assert "要対応" in page.locator("table tbody tr").first.inner_text()


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
    summary="ひと続きの欠席ごとに、アラートが1件自動で作られます。開所日で数えて3日で「注意」、7日で「要対応」に"
            "引き上げられ、家庭から連絡のない欠席があれば「連絡なし」と表示されます。",
    steps=login_steps(LOGIN, "ログインしたら、メニューの「アラート」を開きます。未対応の件数が表示されています。", keyboard=False) + (
        Step("list", "アラートの一覧です。重いもの（要対応、連絡なし）が先に並びます。状態や重さで絞り込めます。",
             lambda page, run: (menu("アラート")(page, run), see_alerts(page, run))),
        Step("open", "アラートを開くと、重さ、児童、欠席の続いている日数と始まり、これまでの経過が表示されます。", open_alert),
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

# --- submission matrix ------------------------------------------------------------------------

def see_matrix(page, run):
    assert page.get_by_role("heading", name="月次報告の提出状況").is_visible()
    assert "施設（うち期限超過" in page.locator(".matrix-total").inner_text()
    assert page.locator("table.matrix tbody tr").count() >= 1


def filter_overdue(page, run):
    page.get_by_label("期限超過のみ").check()
    click_and_wait(page, page.locator(".matrix-filters").get_by_role("button", name="絞り込む"))
    assert "overdue=1" in page.url
    assert page.locator("table.matrix tbody tr").count() >= 1
    assert page.locator("table.matrix td.o").count() >= 1


def open_overdue_cell(page, run):
    click_and_wait(page, page.locator("table.matrix td.o a").first)
    assert page.locator("tbody tr").count() >= 1


SUBMISSIONS = Flow(
    slug="caseworker-submissions", role="caseworker", login=LOGIN,
    title="月次報告の提出状況を見る（期限超過の施設）",
    summary="施設ごと・月ごとの提出状況を、催促が必要な施設から順に見て、期限を過ぎても揃っていない施設の児童を確かめます。",
    steps=login_steps(LOGIN, "ログインすると提出状況の画面が開きます。「対応が必要なもの」の下に、施設ごと・月ごとの提出状況の表があります。", keyboard=False) + (
        Step("matrix", "各欄は「提出済の人数／報告が必要な人数」です。期限超過のある施設、期限前でまだ揃っていない施設、すべて揃った施設の順に、50施設ずつ並びます。初期設定では直近6か月を表示します。",
             see_matrix),
        Step("overdue", "「期限超過のみ」にチェックを入れて「絞り込む」を押すと、催促が必要な施設だけになります。施設の種類や施設名でも絞り込めます。",
             filter_overdue),
        Step("facility", "「期限超過」の欄を押すと、その施設のその月の児童ごとの提出状況が開きます。", open_overdue_cell),
    ),
)

FLOWS = (DASHBOARD, SUBMISSIONS, ACKNOWLEDGE, BULK, RETURN, ALERTS, EXPORT)
