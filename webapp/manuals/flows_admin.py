"""The ward's administrators (accounts, CSV import, notices, logs) and the auditor (logs)."""

from __future__ import annotations

from webapp.manuals.flow_steps import click_and_wait, login_steps, notice
from webapp.manuals.walkthrough import Flow, Step

ADMIN = "admin"
AUDITOR = "auditor"
IMPORT_CSV = (
    "code,name,facility_type,centre_code\r\n"
    "NS101,桜丘ひかり保育園,保育園,setagaya\r\n"
    "KG101,上町わかば幼稚園,幼稚園,setagaya\r\n"
).encode("utf-8")


def admin_link(name: str, heading: str):
    def action(page, run):
        click_and_wait(page, page.locator("main a", has_text=name).first)
        assert page.locator("h1").inner_text() == heading
    return action


def open_admin(page, run):
    assert page.locator("h1").inner_text() == "管理"


# --- accounts ---------------------------------------------------------------------------------

def fill_account(page, run):
    click_and_wait(page, page.locator("main a", has_text="アカウントを登録"))
    page.locator("#login").fill("ns001-2")
    page.locator("#display_name").fill("山本 花子（主任）")
    page.locator("#role").select_option(label="施設職員")
    value = page.locator("#facility_id option", has_text="東坂保育園").first.get_attribute("value")
    page.locator("#facility_id").select_option(value)


def save_account(page, run):
    click_and_wait(page, page.get_by_role("button", name="保存する"))
    assert page.locator("h1").inner_text() == "アカウントを登録しました"
    assert page.locator(".temporary-password").inner_text().strip()


def search_account(page, run):
    click_and_wait(page, page.locator("main a", has_text="アカウント一覧へ"))
    page.locator("main input[type=search], main input[name=q]").first.fill("ns001")
    click_and_wait(page, page.locator("main").get_by_role("button", name="検索"))
    assert "ns001-2" in page.locator("table").inner_text()


ACCOUNTS = Flow(
    slug="admin-accounts", role="admin", login=ADMIN,
    title="アカウントを登録する",
    summary="施設やセンターの職員のアカウントを登録します。仮パスワードは一度だけ表示されます。",
    steps=login_steps(ADMIN, "ログインすると管理トップが開きます（区役所のネットワークからのみ使えます）。", keyboard=False) + (
        Step("accounts", "「アカウント」を開くと、アカウントの一覧と検索が表示されます。", admin_link("アカウント", "アカウント")),
        Step("form", "「アカウントを登録」を押し、ログインID、氏名、役割と所属を入力します。", fill_account),
        Step("saved", "「保存する」を押すと仮パスワードが表示されます。本人に直接（電話・手渡しなど）伝えてください。メールでは送りません。",
             save_account),
        Step("search", "一覧ではログインIDや氏名で検索できます。パスワードの再設定やロック解除はアカウントの画面から行います。",
             search_account),
    ),
)


# --- CSV import -------------------------------------------------------------------------------

def choose_file(page, run):
    page.locator("#kind-facilities").check()
    page.locator("#file").set_input_files(files=[{"name": "facilities.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV}])


def dry_run(page, run):
    click_and_wait(page, page.get_by_role("button", name="確認（ドライラン）"))
    assert "問題はありません" in page.locator(".import-result").inner_text()


def apply_import(page, run):
    choose_file(page, run)
    click_and_wait(page, page.get_by_role("button", name="取り込む"))
    assert "取り込みました。新規 2件" in page.locator(".import-result").inner_text()


IMPORT = Flow(
    slug="admin-import", role="admin", login=ADMIN,
    title="CSVで施設・児童などをまとめて登録する",
    summary="センター・施設・アカウント・児童を、CSVファイルでまとめて登録・更新します。まず「確認（ドライラン）」で確かめます。",
    steps=login_steps(ADMIN, "ログインすると管理トップが開きます。", keyboard=False) + (
        Step("import", "「CSV取り込み」を開きます。下に列の説明と見本のCSVがあります。", admin_link("CSV取り込み", "CSV取り込み")),
        Step("file", "取り込むデータの種類を選び、CSVファイル（UTF-8またはShift_JIS）を選びます。", choose_file),
        Step("dry_run", "「確認（ドライラン）」を押すと、何も変更せずに行ごとの結果とエラーが表示されます。", dry_run),
        Step("apply", "エラーがなければ同じファイルを選び直して「取り込む」を押します。エラーが1件でもあると1行も取り込みません。",
             apply_import),
    ),
)


# --- notices ----------------------------------------------------------------------------------

def fill_notice(page, run):
    click_and_wait(page, page.locator("main a", has_text="お知らせを作成"))
    page.locator("#kind").select_option(label="お知らせ")
    page.locator("#title").fill("年末年始の報告期限について")
    page.locator("#body").fill("12月分の月次報告の期限は1月13日（水）です。年末年始（12月29日〜1月3日）は休業日として扱います。")
    page.locator("#audience-all").check()


def save_notice(page, run):
    click_and_wait(page, page.get_by_role("button", name="保存する"))
    assert notice(page) == "登録しました。"
    assert "年末年始の報告期限について" in page.locator("table").inner_text()


NOTICES = Flow(
    slug="admin-notices", role="admin", login=ADMIN,
    title="施設へのお知らせを出す",
    summary="全施設または施設の種類を選んでお知らせを出します。計画停止はログイン画面にも表示されます。",
    steps=login_steps(ADMIN, "ログインすると管理トップが開きます。", keyboard=False) + (
        Step("list", "「お知らせ」を開くと、掲載中・予定のお知らせの一覧が表示されます。", admin_link("お知らせ", "お知らせ")),
        Step("form", "「お知らせを作成」を押し、種類、件名、本文、対象を入力します。掲載期間は空欄なら今から取り下げるまでです。", fill_notice),
        Step("saved", "「保存する」を押すと、対象の施設のお知らせ欄に未読として表示されます。", save_notice),
    ),
)


# --- logs (admin and auditor) -----------------------------------------------------------------

def open_logs(page, run):
    if page.locator("h1").inner_text() != "アクセスログ":
        click_and_wait(page, page.locator("nav .menu a", has_text="ログ").first)
    assert page.locator("h1").inner_text() == "アクセスログ"


def filter_by_login(page, run):
    # The user's own login: its requests are in the log whatever else the server has seen.
    page.locator("#login").fill(run.flow.login)
    click_and_wait(page, page.get_by_role("button", name="表示"))
    rows = page.locator("table tbody tr")
    assert rows.count() >= 1
    assert all(run.flow.login in text for text in rows.all_inner_texts()[:20])
    # Screens by name, the stored route name in small type under it.
    screen = rows.first.locator("td").nth(5)
    name, code = screen.locator("span[title]").inner_text(), screen.locator(".raw").inner_text()
    assert name and code and name != code and "." not in name and "_" not in name


def auth_log(page, run):
    click_and_wait(page, page.locator(".log-tabs a", has_text="認証ログ"))
    assert page.locator("h1").inner_text() == "認証ログ"
    table = page.locator("table").inner_text()
    assert "ログイン成功" in table and "login_succeeded" in table


def change_log(page, run):
    click_and_wait(page, page.locator(".log-tabs a", has_text="変更記録"))
    assert page.locator("h1").inner_text() == "変更記録"
    click_and_wait(page, page.get_by_role("button", name="改ざん検査を実行"))
    assert "改ざん" in page.locator("main").inner_text()


def log_steps(home_caption: str) -> tuple[Step, ...]:
    return (
        Step("access", "アクセスログには、すべての操作の日時（日本時間）、ログインID、接続元、画面、結果が新しい順に並びます。"
             "画面は「アカウントの編集」のような名前で示し、その下の小さな文字は記録そのままの値（admin.account_edit など）です。",
             open_logs),
        Step("filter", "期間、ログインID、所属、児童ID、画面などで絞り込めます。「この条件でCSV出力」で絞り込んだ結果を保存できます。"
             "CSVには記録そのままの値（画面・種別のコード、UTCの日時）と、名前・日本時間の両方が入ります。", filter_by_login),
        Step("auth", "「認証ログ」には、ログインの成功・失敗とその理由、パスワード変更、ロックが記録されています。", auth_log),
        Step("changes", "「変更記録」はデータの変更と児童のページの閲覧の記録です。対象は「月次報告」のような名前で、"
             "その下にテーブル名を示します。「改ざん検査を実行」で記録のつながりを検査できます。", change_log),
    )


ADMIN_LOGS = Flow(
    slug="admin-logs", role="admin", login=ADMIN,
    title="ログを確認する（区管理者）",
    summary="アクセスログ、認証ログ、変更記録を確認します。",
    steps=login_steps(ADMIN, "ログインしたら、メニューの「ログ」を開きます。", keyboard=False) + log_steps(""),
)

AUDITOR_LOGS = Flow(
    slug="auditor-logs", role="auditor", login=AUDITOR,
    title="ログを監査する",
    summary="監査担当は、ログの閲覧と出力だけができます。データを変更することはできません。",
    steps=login_steps(AUDITOR, "ログインすると、アクセスログが開きます。", keyboard=False) + log_steps(""),
)

FLOWS = (ACCOUNTS, IMPORT, NOTICES, ADMIN_LOGS, AUDITOR_LOGS)
