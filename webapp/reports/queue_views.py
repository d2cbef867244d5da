"""The centre's review queue: paged and filtered list, and bulk acknowledgement.

"確認して次へ" lives with the single acknowledgement in :mod:`webapp.reports.views`.
Bulk acknowledgement is GET (a confirmation page listing exactly the reports)
then POST (all or nothing: every id is checked again for scope, status and
"no concern"; one that no longer qualifies refuses the whole batch).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.children.scope import scope_for
from webapp.i18n import _
from webapp.organisations.models import FacilityType
from webapp.organisations.services import page_number
from webapp.reports.queue import BULK_MAX, QueueFilter, ReviewQueueService, concern_absent_days_setting
from webapp.reports.services import ReportError, ReportService


def queue_service(request) -> ReviewQueueService:
    return ReviewQueueService(request.db, concern_absent_days_setting(request.registry.settings))


@view_config(route_name="centre.review_queue", permission=Permission.REPORTS_REVIEW,
             renderer="centre/review_queue.html", request_method="GET")
def centre_review_queue(request):
    scope = scope_for(request)
    service = queue_service(request)
    filters = QueueFilter.from_params(request.GET)
    page = service.page(scope, filters, page_number(request.GET.get("page")))
    query = filters.to_params()
    return {
        "page": page,
        "filters": filters,
        "query": query,
        "page_url": lambda n: request.route_url("centre.review_queue", _query={**query, "page": n}),
        "facility_options": service.facility_options(scope),
        "period_options": service.period_options(scope),
        "type_options": list(FacilityType),
        "absent_days": service.concern_absent_days,
        "bulk_max": BULK_MAX,
    }


class _BadSelection(Exception):
    def __init__(self, message, status):
        super().__init__(str(message))
        self.message = message
        self.status = status


def _selected_ids(request, params) -> list[int]:
    """The chosen ids in order, without duplicates; 400 for anything that is not a plain id."""
    key = "page_id" if params.get("pick") == "page" else "id"
    raw = params.getall(key)
    ids: list[int] = []
    for value in raw:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > 2**31 - 1 \
                or int(value) == 0:
            raise _BadSelection(_("選択した報告の指定が正しくありません。一覧に戻って選び直してください。"), 400)
        if int(value) not in ids:
            ids.append(int(value))
    if not ids:
        raise _BadSelection(_("まとめて確認する報告を選んでください。"), 400)
    if len(ids) > BULK_MAX:
        raise _BadSelection(_("一度にまとめて確認できるのは${max}件までです。", mapping={"max": BULK_MAX}), 400)
    return ids


def _eligible_or_refuse(request, ids: list[int]):
    rows = queue_service(request).bulk_eligible(scope_for(request), ids)
    if len(rows) != len(ids):
        raise _BadSelection(
            _("選択した${total}件のうち${count}件は、まとめて確認できません（確認済・差戻し済・懸念あり・"
              "担当外のいずれかです）。何も確認していません。一覧に戻って選び直してください。",
              mapping={"total": len(ids), "count": len(ids) - len(rows)}),
            409,
        )
    return rows


def _error(request, error: _BadSelection, filters: QueueFilter):
    request.response.status = error.status
    return {"rows": [], "error": error.message, "filters": filters, "query": filters.to_params()}


@view_config(route_name="centre.review_bulk", permission=Permission.REPORTS_REVIEW,
             renderer="centre/review_bulk.html", request_method="GET")
def review_bulk_confirm(request):
    filters = QueueFilter.from_params(request.GET)
    try:
        rows = _eligible_or_refuse(request, _selected_ids(request, request.GET))
    except _BadSelection as error:
        return _error(request, error, filters)
    return {"rows": rows, "error": None, "filters": filters, "query": filters.to_params()}


@view_config(route_name="centre.review_bulk", permission=Permission.REPORTS_REVIEW,
             renderer="centre/review_bulk.html", request_method="POST")
def review_bulk_acknowledge(request):
    filters = QueueFilter.from_params(request.POST)
    try:
        rows = _eligible_or_refuse(request, _selected_ids(request, request.POST))
        service = ReportService(request.db)
        try:
            # A savepoint: if another reviewer acts on one of them meanwhile,
            # none of the batch is acknowledged (and no change record stays).
            with request.db.begin_nested():
                for row in rows:
                    service.acknowledge(row.report, request.account)
        except ReportError:
            raise _BadSelection(
                _("選択した報告のうち、ほかの職員が先に確認または差戻しをしたものがあります。"
                  "何も確認していません。一覧に戻って選び直してください。"),
                409,
            ) from None
    except _BadSelection as error:
        return _error(request, error, filters)
    query = {**filters.to_params(), "done": "bulk_acknowledged", "count": str(len(rows))}
    return HTTPSeeOther(request.route_url("centre.review_queue", _query=query))
