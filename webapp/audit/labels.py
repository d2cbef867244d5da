"""Human names for what the logs store as codes: screens (routes), tables, events, actions, roles.

The logs keep the raw codes (``admin.account_edit``, ``monthly_reports``,
``login_failed``): they are what an auditor searches by and what the CSV
consumers read. The log screens show these names instead, with the code beside
them. Each name is a message id (``_()``), so the English catalog translates it.

``tests/unit/test_log_labels.py`` fails when a route, a table, an auth event,
a failure reason or an audit action has no name here, so a new screen or table
cannot reach the logs unnamed. A value with no name (an old record of a route
or table since removed) is shown as its code; nothing here raises.
"""

from __future__ import annotations

from webapp.audit.events import AuthEventType, FailureReason
from webapp.authz import Role
from webapp.i18n import _

# Route name -> the screen (or action) it is, as a user would call it.
ROUTE_LABELS = {
    "__static/": _("静的ファイル"),
    "healthz": _("稼働確認"),
    "metrics": _("監視用の計測値"),
    "login": _("ログイン"),
    "logout": _("ログアウト"),
    "locale": _("表示言語の切り替え"),
    "login.second_factor": _("ログイン（二要素認証）"),
    "home": _("トップページ"),
    "account.password": _("パスワードの変更"),
    "account.second_factor": _("二要素認証の設定"),
    "logs.access": _("アクセスログ"),
    "logs.auth": _("認証ログ"),
    "logs.changes": _("変更記録"),
    "facility.today": _("今日やること（施設のホーム）"),
    "facility.period": _("月次報告の一覧"),
    "facility.report_edit": _("月次報告の入力"),
    "facility.report_next": _("月次報告を順に入力（次の未提出へ）"),
    "report.detail": _("月次報告の表示"),
    "report.version": _("月次報告の過去の版"),
    "report.acknowledge": _("月次報告の確認"),
    "report.return": _("月次報告の差し戻し"),
    "centre.matrix": _("提出状況"),
    "centre.facility_period": _("施設の月次報告"),
    "centre.review_queue": _("確認待ちの報告"),
    "centre.review_bulk": _("報告のまとめて確認"),
    "children.list": _("児童の一覧"),
    "children.new": _("児童の登録"),
    "child.detail": _("児童の詳細"),
    "child.edit": _("児童の編集"),
    "export.reports": _("月次報告のCSV出力"),
    "admin.home": _("管理トップ"),
    "admin.centres": _("センターの一覧"),
    "admin.centre_new": _("センターの登録"),
    "admin.centre_edit": _("センターの編集"),
    "admin.facilities": _("施設の一覧"),
    "admin.facility_new": _("施設の登録"),
    "admin.facility_edit": _("施設の編集"),
    "admin.accounts": _("アカウントの一覧"),
    "admin.account_new": _("アカウントの登録"),
    "admin.account_edit": _("アカウントの編集"),
    "admin.account_reset": _("パスワードの再設定"),
    "admin.account_unlock": _("アカウントのロック解除"),
    "admin.account_reset_second_factor": _("二要素認証のリセット"),
    "admin.import": _("CSVの取り込み"),
    "admin.mail": _("メール送信状況"),
    "admin.mail_requeue": _("メールの再送"),
    "help": _("ヘルプ"),
    "help.manual": _("操作マニュアル"),
    "attendance.home": _("日々の出欠"),
    "attendance.day": _("日々の出欠の入力"),
    "attendance.child": _("児童の出欠（60日）"),
    "centre.attendance_day": _("施設の日々の出欠"),
    "closures.list": _("休業日"),
    "closures.delete": _("休業日の削除"),
    "alerts.list": _("アラートの一覧"),
    "alert.detail": _("アラートの詳細"),
    "alert.acknowledge": _("アラートの確認"),
    "alert.resolve": _("アラートの解決"),
    "child.timeline": _("児童の経過"),
    "urgent.list": _("緊急報告の一覧"),
    "urgent.new": _("緊急報告の作成"),
    "urgent.detail": _("緊急報告の詳細"),
    "urgent.acknowledge": _("緊急報告の受付"),
    "urgent.respond": _("緊急報告への対応"),
    "urgent.close": _("緊急報告の完了"),
    "messages.list": _("連絡の一覧"),
    "child.messages": _("児童についての連絡"),
    "notices.list": _("お知らせの一覧"),
    "notice.detail": _("お知らせの表示"),
    "admin.notices": _("お知らせの管理"),
    "admin.notice_new": _("お知らせの作成"),
    "admin.notice_edit": _("お知らせの編集"),
    "admin.child_siblings": _("きょうだいの登録"),
    "admin.rollover": _("年度更新"),
}

# Table name (or a record's entity) -> what it holds.
TABLE_LABELS = {
    "access_log": _("アクセスログ"),
    "accounts": _("アカウント"),
    "alert_events": _("アラートの経過"),
    "alert_sweep_states": _("アラート検出の進み具合"),
    "alerts": _("アラート"),
    "attendance_entries": _("出欠"),
    "attendance_entry_versions": _("出欠の訂正前の版"),
    # Not a table: one facility's day of attendance, saved or viewed as one page.
    "attendance_days": _("施設の日々の出欠"),
    "audit_records": _("変更記録"),
    "auth_events": _("認証ログ"),
    "centres": _("センター"),
    "child_transfers": _("児童の転園・転校"),
    "children": _("児童"),
    "facilities": _("施設"),
    "facility_closures": _("施設の休業日"),
    "job_runs": _("定期処理の実行状況"),
    "login_sessions": _("ログイン中のセッション"),
    "mail_outbox": _("送信メール"),
    "message_reads": _("連絡の既読"),
    "messages": _("連絡"),
    "monthly_report_versions": _("月次報告の過去の版"),
    "monthly_reports": _("月次報告"),
    "notice_reads": _("お知らせの既読"),
    "notices": _("お知らせ"),
    "reminder_sends": _("督促メールの送信記録"),
    "report_events": _("月次報告の履歴"),
    "rollover_runs": _("年度更新の実行記録"),
    "sibling_links": _("きょうだいの関係"),
    "urgent_reports": _("緊急報告"),
    "urgent_responses": _("緊急報告への対応"),
}

EVENT_LABELS = {
    AuthEventType.LOGIN_SUCCEEDED: _("ログイン成功"),
    AuthEventType.LOGIN_FAILED: _("ログイン失敗"),
    AuthEventType.SECOND_FACTOR_SUCCEEDED: _("二要素認証成功"),
    AuthEventType.LOGOUT: _("ログアウト"),
    AuthEventType.SESSION_EXPIRED: _("セッション期限切れ"),
    AuthEventType.PASSWORD_CHANGED: _("パスワード変更"),
    AuthEventType.PASSWORD_RESET: _("パスワード再設定"),
    AuthEventType.ACCOUNT_LOCKED: _("アカウントロック"),
    AuthEventType.ACCOUNT_UNLOCKED: _("ロック解除"),
    AuthEventType.SECOND_FACTOR_ENROLLED: _("二要素認証登録"),
    AuthEventType.SECOND_FACTOR_RESET: _("二要素認証リセット"),
    AuthEventType.ADDRESS_REFUSED: _("接続元アドレス拒否"),
}

REASON_LABELS = {
    FailureReason.UNKNOWN_ACCOUNT: _("存在しないID"),
    FailureReason.WRONG_PASSWORD: _("パスワード誤り"),
    FailureReason.LOCKED: _("ロック中"),
    FailureReason.DISABLED: _("無効なアカウント"),
    FailureReason.SECOND_FACTOR_WRONG: _("二要素認証コード誤り"),
    FailureReason.ADDRESS_NOT_ALLOWED: _("許可されていない接続元"),
    FailureReason.THROTTLED: _("接続元からの失敗が多すぎる"),
}

# The ``action`` of a change record.
ACTION_LABELS = {
    "create": _("作成"),
    "update": _("変更"),
    "delete": _("削除"),
    "view": _("閲覧"),
    "save": _("保存"),
    "export": _("ログ出力"),
    "archive": _("ログ保管"),
}

# The same words as webapp.authz.ROLE_LABELS, as message ids so the log screens translate them.
ROLE_LABELS = {
    Role.ADMIN: _("区管理者"),
    Role.CASEWORKER: _("センター職員"),
    Role.FACILITY: _("施設職員"),
    Role.AUDITOR: _("監査担当"),
}


def _lookup(labels: dict, code) -> str:
    """The name of ``code`` (a message id), or the code itself when it has none."""
    if code is None:
        return ""
    return labels.get(str(code), str(code))


# StrEnum keys hash and compare as their values, so plain strings find them.
def route_label(route: str | None) -> str:
    return _lookup(ROUTE_LABELS, route)


def table_label(table: str | None) -> str:
    return _lookup(TABLE_LABELS, table)


def event_label(event: str | None) -> str:
    return _lookup(EVENT_LABELS, event)


def reason_label(reason: str | None) -> str:
    return _lookup(REASON_LABELS, reason)


def action_label(action: str | None) -> str:
    return _lookup(ACTION_LABELS, action)


def role_label(role: str | None) -> str:
    return _lookup(ROLE_LABELS, role)
