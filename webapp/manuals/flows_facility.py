"""Facility staff (schools, nurseries, kindergartens): daily attendance, the monthly report,
an urgent report and the message book. Every step uses the keyboard only (see ``keys``)."""

from __future__ import annotations

import re

from webapp.manuals.flow_steps import login_steps, notice
from webapp.manuals.keys import button, field, focused, from_top, link, press_and_wait, replace_text, tab_to
from webapp.manuals.walkthrough import Flow, Step

LOGIN = "es001"


# What the facility's home (今日やること, webapp/today) shows; every facility flow starts there.
HOME_CAPTION = ("ログインすると「今日やること」が開きます。今日の出欠、差し戻された報告、未提出の月次報告、"
                "未読の連絡帳とお知らせが件数つきで並び、それぞれのリンクから作業を始められます。上のメニューから各画面にも移れます。")


# --- daily attendance -------------------------------------------------------------------------

def open_attendance(page, run):
    tab_to(page, link("日々の出欠"))
    press_and_wait(page)
    # Weekends and holidays refuse entry: step back to the last open day, as a user would.
    for _ in range(10):
        if page.locator("p.notice-warn").count() == 0:
            break
        from_top(page)
        tab_to(page, link("← 前日"))
        press_and_wait(page)
    assert page.locator("p.notice-warn").count() == 0, "no open day in the last ten days"
    assert page.locator("table.attendance").is_visible()


def mark_first_absent(page, run):
    info = tab_to(page, lambda i: i["name"].startswith("status-") and i["type"] == "radio")
    run.notes["child_id"] = info["name"].split("-", 1)[1]
    # In a radio group the arrow keys choose: 出席 → 欠席.
    page.keyboard.press("ArrowRight")
    assert focused(page)["value"] == "absent", focused(page)
    tab_to(page, lambda i: i["name"] == f"reason-{run.notes['child_id']}", limit=3)
    page.keyboard.press("ArrowDown")  # 病気・けが
    assert page.locator(f"#reason-{run.notes['child_id']}").input_value() == "illness"


def save_all_present(page, run):
    tab_to(page, button("未入力の児童を全員出席にして保存"))
    press_and_wait(page)
    assert notice(page) == "出欠を保存しました。"
    row = page.locator(f"#row-{run.notes['child_id']}")
    assert row.locator("input[value=absent]").is_checked()
    assert page.locator("table.attendance").get_by_text("未入力", exact=True).count() == 0


ATTENDANCE = Flow(
    slug="facility-attendance", role="facility", login=LOGIN, keyboard_only=True,
    title="日々の出欠を入力する",
    summary="その日の出欠を、児童全員分まとめて1回で入力します。欠席の児童だけ選び、残りは全員出席にして保存できます。",
    steps=login_steps(LOGIN, HOME_CAPTION) + (
        Step("open", "「今日やること」の「今日の出欠を入力」か、メニューの「日々の出欠」を開くと、今日の出欠入力画面が開きます。"
             "休業日のときは「← 前日」で開所日に移ります。"
             "一覧の上の「学年」「クラス」で絞り込むこともできます。",
             open_attendance),
        Step("absent", "欠席の児童は「欠席」を選び、欠席の理由を選びます。連絡がなかったときは「連絡なし」にチェックします。",
             mark_first_absent),
        Step("save", "画面の下に常に出ている「未入力の児童を全員出席にして保存」を押すと、表示中の残りの児童は出席として保存されます。"
             "後から訂正すると版が残ります。",
             save_all_present),
    ),
)


# --- monthly report ---------------------------------------------------------------------------

REPORT_FIELDS = {
    "days_expected": "20", "days_attended": "19", "days_absent": "1", "late_count": "0",
    "early_leave_count": "0", "absent_illness": "1", "absent_family": "0", "absent_bereavement": "0",
    "absent_suspension": "0", "absent_unknown": "0", "absent_other": "0", "absence_note": "",
}
CONDITION = "元気に登校している。給食をよく食べ、友だちと遊ぶ姿が見られる。"


def open_month_list(page, run):
    assert page.locator("h1").inner_text() == "今日やること"
    tab_to(page, lambda i: i["tag"] == "a" and i["id"] == "month-list-link")
    press_and_wait(page)
    assert re.search(r"/reports/period/\d{4}-\d{2}$", page.url), page.url


def open_report_form(page, run):
    info = tab_to(page, link("入力する"))
    run.notes["period_url"] = page.url
    run.notes["child_path"] = info["href"]
    press_and_wait(page)
    assert re.search(r"/children/\d+$", page.url)
    assert page.locator("#days_expected").is_visible()


def fill_report(page, run):
    tab_to(page, field("days_expected"))
    for name, value in REPORT_FIELDS.items():
        assert focused(page)["id"] == name, (name, focused(page))
        replace_text(page, value)
        page.keyboard.press("Tab")
    assert focused(page)["name"] == "family_contact"
    page.keyboard.press("Space")  # 有
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "condition"
    page.keyboard.type(CONDITION)


def submit_report(page, run):
    tab_to(page, button("提出"), limit=5)
    press_and_wait(page)
    assert notice(page) == "提出しました。"
    child_id = run.notes["child_path"].rsplit("/", 1)[-1]
    row = page.locator("tr", has=page.locator(f"a[href$='/children/{child_id}']"))
    assert "提出済" in row.inner_text()


MONTHLY = Flow(
    slug="facility-monthly", role="facility", login=LOGIN, keyboard_only=True,
    title="月次報告を提出する",
    summary="見守り中の児童ごとに、月の出欠日数と様子を報告します。期限は翌月10日です。",
    steps=login_steps(LOGIN, "ログインすると「今日やること」が開きます。今回の報告月の提出期限（あと何日か）と未提出の件数、"
                             "差し戻された報告がセンターの理由とともに表示されます。") + (
        Step("list", "「〇年〇月の報告一覧へ」を押すと、その月に報告が必要な児童の一覧が開きます（メニューの「月次報告」からも開けます）。"
             "状態が「未作成」の児童の「入力する」を押します。差し戻された報告は「今日やること」から直接開けます。",
             open_month_list),
        Step("open", "報告の入力画面です。出席すべき日数、出席日数、欠席日数などを入力します。", open_report_form),
        Step("fill", "欠席がある月は、欠席理由ごとの日数（合計が欠席日数と同じ）と家庭からの連絡の有無を入力し、気になる様子を書きます。",
             fill_report),
        Step("submit", "「提出」を押すと一覧に戻り、状態が「提出済」になります。「提出して次へ」を押すと、一覧に戻らずに"
             "次に入力が残っている児童の報告が開きます。途中で保存するときは「下書き保存」を押します。",
             submit_report),
    ),
)


# --- urgent report ----------------------------------------------------------------------------

URGENT_TEXT = "本日朝、右腕に新しいあざがあるのを担任が確認した。本人は「転んだ」と話している。"


def open_urgent_list(page, run):
    tab_to(page, link("緊急連絡"))
    press_and_wait(page)
    assert page.locator("h1").inner_text() == "緊急連絡"


def open_urgent_form(page, run):
    tab_to(page, link("緊急連絡を送る"))
    press_and_wait(page)
    assert page.locator("#urgent-form").is_visible()


def fill_urgent(page, run):
    tab_to(page, field("child"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the first child (the first option is 施設全体)
    run.notes["child"] = page.locator("#child option:checked").inner_text()
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "category"
    page.keyboard.press("ArrowDown")  # けが・あざなど
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "description"
    page.keyboard.type(URGENT_TEXT)
    # 確認した日時 is filled with now; keep it.
    assert page.locator("#observed_date").input_value()


def send_urgent(page, run):
    tab_to(page, button("送信する"))
    press_and_wait(page)
    assert notice(page) == "緊急連絡を送信しました。センターに通知しました。"
    assert URGENT_TEXT in page.locator("main").inner_text()
    assert "未確認" in page.locator(".status").inner_text()


URGENT = Flow(
    slug="facility-urgent", role="facility", login=LOGIN, keyboard_only=True,
    title="緊急連絡を送る",
    summary="月次報告を待たずにすぐセンターに知らせたいことがあるときに使います。命に関わるときは、まず110番・119番へ。",
    steps=login_steps(LOGIN, "ログインしたら、上のメニューの「緊急連絡」を開きます。") + (
        Step("list", "送った緊急連絡の一覧と、センターの対応状況（未確認・確認済・対応中・終了）が表示されます。", open_urgent_list),
        Step("form", "「緊急連絡を送る」を押すと入力画面が開きます。", open_urgent_form),
        Step("fill", "対象の児童と種別を選び、見たこと・聞いたことを、いつ・どこで・だれが・どのように、の順に書きます。", fill_urgent),
        Step("send", "「送信する」を押すと、担当センターの画面にすぐ表示され、職員にメールで通知されます。", send_urgent),
    ),
)


# --- message book -----------------------------------------------------------------------------

MESSAGE = "明日の個人面談は15時からでお願いします。保護者の方にもお伝えしました。"


def open_messages(page, run):
    tab_to(page, link("連絡帳"))
    press_and_wait(page)
    assert page.locator("h1").inner_text() == "連絡帳"


def open_thread(page, run):
    first = page.locator("table tbody th a").first
    name = first.inner_text()
    tab_to(page, lambda i: i["tag"] == "a" and i["text"] == name)
    press_and_wait(page)
    assert page.locator("h1").inner_text() == f"連絡帳：{name}"


def write_message(page, run):
    tab_to(page, field("body"))
    page.keyboard.type(MESSAGE)


def send_message(page, run):
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "送信する"
    press_and_wait(page)
    assert notice(page) == "メッセージを送信しました。"
    assert MESSAGE in page.locator("#latest").inner_text()


MESSAGES = Flow(
    slug="facility-messages", role="facility", login=LOGIN, keyboard_only=True,
    title="連絡帳でセンターとやりとりする",
    summary="児童ごとの連絡帳で、センターとメッセージをやりとりします。未読の数がメニューに表示されます。",
    steps=login_steps(LOGIN, "ログインしたら、上のメニューの「連絡帳」を開きます。未読があると件数が表示されます。") + (
        Step("list", "児童ごとの連絡帳の一覧です。未読のあるものが先に並びます。児童の名前を押して開きます。", open_messages),
        Step("thread", "これまでのやりとりが古い順に表示されます。", open_thread),
        Step("write", "下の欄にメッセージを書きます。個人的な連絡先などは書かないでください。", write_message),
        Step("send", "「送信する」を押すと、センターの画面に未読として表示されます。", send_message),
    ),
)

FLOWS = (ATTENDANCE, MONTHLY, URGENT, MESSAGES)
