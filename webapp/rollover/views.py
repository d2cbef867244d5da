"""The admin's roll-over screen (/admin/rollover): dry run first, then apply (F-ROLLOVER)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.forms import FormErrors, clean_int
from webapp.i18n import _
from webapp.imports.parsing import MAX_BYTES, ImportFileError, decode
from webapp.rollover.services import RolloverError, RolloverService, parse_transfers, school_year_start


def _default_year(request) -> int:
    """The school year whose roll-over is due next."""
    today = request.clock.today()
    year = today.year if today >= school_year_start(today.year) else today.year - 1
    if RolloverService(request.db).run_for(year) is not None:
        return year + 1
    return year


def _page(values, errors, plan=None, transfers_text=""):
    return {"values": values, "errors": errors, "plan": plan, "transfers_text": transfers_text}


@view_config(route_name="admin.rollover", permission=Permission.ROLLOVER, renderer="rollover/rollover.html",
             request_method="GET")
def rollover_form(request):
    return _page({"year": str(_default_year(request))}, FormErrors())


def _transfers_text(request, errors) -> str:
    """The transfer CSV: an uploaded file on the dry run, the carried-over text on apply."""
    upload = request.POST.get("transfers_file")
    if hasattr(upload, "file"):
        data = upload.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            errors["transfers_file"] = _("ファイルが大きすぎます（${max}MBまで）。", mapping={"max": MAX_BYTES // 2**20})
            return ""
        try:
            return decode(data)
        except ImportFileError as exc:
            errors["transfers_file"] = exc.message
            return ""
    text = request.POST.get("transfers", "")
    return text[:MAX_BYTES] if isinstance(text, str) else ""


@view_config(route_name="admin.rollover", permission=Permission.ROLLOVER, renderer="rollover/rollover.html",
             request_method="POST")
def rollover_submit(request):
    errors = FormErrors()
    year, error = clean_int(request.POST.get("year"), minimum=2000, maximum=2100)
    if error:
        errors["year"] = error
    text = _transfers_text(request, errors)
    if errors:
        request.response.status = 400
        return _page(request.POST, errors, transfers_text=text)
    transfers, line_errors = parse_transfers(text)
    service = RolloverService(request.db)
    if request.POST.get("action") == "apply":
        try:
            service.apply(year, transfers, today=request.clock.today(), account_id=request.account.id,
                          csv_errors=line_errors)
        except RolloverError as exc:
            errors["_form"] = exc.message
            request.response.status = 400
            return _page(request.POST, errors, service.plan(year, transfers, line_errors), text)
        return HTTPSeeOther(request.route_url("admin.rollover", _query={"done": "rolled_over"}))
    return _page(request.POST, errors, service.plan(year, transfers, line_errors), text)
