"""The admin dashboard and the CSV import page (F-ADMIN, F-IMPORT). Under /admin (S-ADMINIP).

The dashboard lives here because imports is the highest area: it may count
rows of every area below it without any lower area importing a higher one.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.response import Response
from pyramid.view import view_config

from webapp.accounts.models import Account
from webapp.authz import Permission
from webapp.children.models import Child
from webapp.i18n import _
from webapp.imports.kinds import KINDS
from webapp.imports.parsing import MAX_BYTES
from webapp.imports.services import ImportService, sample_csv
from webapp.organisations.models import Centre, Facility

KIND_LABELS = [(name, kind.label) for name, kind in KINDS.items()]

# What each column means, shown on the page beside the column list.
COLUMN_NOTES = {
    "code": _("半角英数字・ハイフン・下線（20文字以内）。既にあるコードの行は更新、ない行は新規登録。"),
    "name": _("100文字以内"),
    "kind": _("子ども家庭支援センター／児童相談所"),
    "facility_type": _("小学校／中学校／保育園／幼稚園／認定こども園／学童／その他"),
    "centre_code": _("登録済みのセンターのコード"),
    "active": _("有効／無効（1／0）。空欄なら新規は有効、既存は変更しない"),
    "login": _("半角英数字と . _ - の3〜64文字。既にあるIDの行は更新、ない行は新規登録（仮パスワードを発行）"),
    "display_name": _("100文字以内"),
    "role": _("区管理者／センター職員／施設職員／監査担当"),
    "facility_code": _("登録済みの施設のコード"),
    "id": _("更新する児童のID（空欄なら、施設コード・氏名・ふりがなが同じ児童を更新、いなければ新規登録）"),
    "family_name": _("50文字以内"),
    "given_name": _("50文字以内"),
    "family_name_kana": _("ひらがな・カタカナ（ひらがなで保存）"),
    "given_name_kana": _("ひらがな・カタカナ（ひらがなで保存）"),
    "grade": _("「小3」「中1」「5歳児（年長）」など、または es3 などのコード"),
    "class_name": _("30文字以内。任意"),
    "monitoring_start": _("2026-04-01 の形式。空欄なら新規は今日、既存は変更しない"),
    "monitoring_end": _("2026-04-01 の形式。空欄なら終了日なし"),
}
ACCOUNT_NOTES = {
    "centre_code": _("センター職員のとき必須（登録済みのセンターのコード）"),
    "facility_code": _("施設職員のとき必須（登録済みの施設のコード）"),
}
CHILD_NOTES = {
    "centre_code": _("空欄なら、新規は施設の地区のセンター、既存は変更しない"),
    "facility_code": _("登録済みの施設のコード"),
}


def _column_docs():
    docs = {}
    for name, kind in KINDS.items():
        notes = dict(COLUMN_NOTES, **(ACCOUNT_NOTES if name == "accounts" else CHILD_NOTES if name == "children" else {}))
        docs[name] = [(column.header, column.key, column.required, notes.get(column.key, "")) for column in kind.columns]
    return docs


def _page(request, kind="", result=None):
    return {"kind": kind, "kinds": KIND_LABELS, "docs": _column_docs(), "result": result,
            "max_mb": MAX_BYTES // (1024 * 1024)}


@view_config(route_name="admin.home", permission=Permission.ADMIN_MASTERS, renderer="admin/home.html")
def admin_home(request):
    db = request.db
    today = request.clock.today()

    def count(model, *where):
        return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return {"counts": {
        "centres": count(Centre, Centre.active),
        "facilities": count(Facility, Facility.active),
        "accounts": count(Account, Account.active),
        "accounts_pending": count(Account, Account.active, Account.must_change_password),
        "children": count(Child, Child.monitoring_start <= today,
                          sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= today)),
    }}


@view_config(route_name="admin.import", permission=Permission.ADMIN_IMPORT, renderer="imports/import.html",
             request_method="GET")
def import_form(request):
    sample = request.params.get("sample")
    if sample in KINDS:
        return Response(body=sample_csv(sample), content_type="text/csv", charset="utf-8",
                        content_disposition=f'attachment; filename="mimamori-{sample}-sample.csv"')
    return _page(request, request.params.get("kind", "") if request.params.get("kind") in KINDS else "")


@view_config(route_name="admin.import", permission=Permission.ADMIN_IMPORT, renderer="imports/import.html",
             request_method="POST")
def import_run(request):
    kind = request.POST.get("kind", "")
    upload = request.POST.get("file")
    errors = {}
    if kind not in KINDS:
        errors["kind"] = _("取り込むデータの種類を選んでください。")
    if not hasattr(upload, "file"):
        errors["file"] = _("CSVファイルを選んでください。")
    if errors:
        request.response.status = 400
        return dict(_page(request, kind if kind in KINDS else ""), errors=errors)
    # One byte over the limit is enough to know the file is too large.
    data = upload.file.read(MAX_BYTES + 1)
    service = ImportService(request.db, today=request.clock.today(), now=request.clock.now(),
                            account_id=request.account.id)
    result = service.run(kind, data, apply=request.POST.get("action") == "apply")
    if not result.ok:
        request.response.status = 400
    return dict(_page(request, kind, result), filename=getattr(upload, "filename", "")[:100])
