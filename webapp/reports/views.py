"""Monthly reports: the facility's period list and form, the report pages, the
centre's matrix, a child's page with its history, and export (the review
queue and bulk acknowledgement are in :mod:`webapp.reports.queue_views`).

Views stay thin: parse the URL, fetch through the user's scope (404 outside
it), call a service, render or redirect (post/redirect/get with ``?done=``).
"""

from __future__ import annotations

import functools

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config

from webapp.authz import Permission, Role
from webapp.children.scope import scope_for
from webapp.closed_days import calendar_for
from webapp.closed_days.facility_days import DbFacilityDays
from webapp.db import read_session_factory
from webapp.forms import FormErrors
from webapp.i18n import _
from webapp.mail.services import MailOutbox
from webapp.reports import export, from_attendance, periods
from webapp.reports.forms import (
    CONDITION_MAX,
    COMMENT_MAX,
    form_values_from_version,
    raw_form_values,
    validate_export_range,
    validate_report,
    validate_return_comment,
)
from webapp.organisations.models import FacilityType
from webapp.organisations.services import page_number
from webapp.reports.matrix import MONTH_CHOICES, MatrixFilter, SubmissionMatrixService
from webapp.reports.matrix_cells import CellWriter
from webapp.reports.models import ABSENCE_REASONS, FamilyContact, ReportStatus
from webapp.reports.queue import QueueFilter
from webapp.reports.queue_views import queue_service
from webapp.reports.scope import get_report
from webapp.reports.services import (
    EditConflict,
    NotEditable,
    NotOpenYet,
    ReportError,
    ReportService,
    edit_token,
    is_editable,
    last_return,
    latest_submitted_version,
    latest_version,
)

def _deadline_day(request) -> int:
    return periods.deadline_day_setting(request.registry.settings)


def _period(request, *, allow_current: bool):
    """The ``{period}`` of the URL as a date; unknown or impossible months are 404."""
    text = request.matchdict["period"]
    if allow_current and text == "current":
        return periods.current_period(request.clock.today(), _deadline_day(request))
    period = periods.parse_period(text)
    if period is None:
        raise HTTPNotFound()
    return period


def _id(request, name: str) -> int:
    # The route only matches digits, but "99999999999999999999" must not
    # overflow a database integer: anything that large cannot exist.
    value = int(request.matchdict[name])
    if value > 2**31 - 1:
        raise HTTPNotFound()
    return value


# --- Facility: the month's list and the report form ------------------------------


@view_config(route_name="facility.period", permission=Permission.REPORTS_ENTER,
             renderer="reports/period.html", request_method="GET")
def facility_period(request):
    period = _period(request, allow_current=True)
    today = request.clock.today()
    day = _deadline_day(request)
    rows = ReportService(request.db).due_rows(scope_for(request), period)
    return {
        "period": period,
        "rows": rows,
        "started": periods.has_started(period, today),
        "deadline": periods.deadline(period, day),
        "overdue": periods.is_overdue(period, today, day),
        "previous": periods.add_months(period, -1),
        "next": periods.add_months(period, 1),
        "current": periods.current_period(today, day),
        "to_do": sum(1 for row in rows if _is_to_do(row)),
    }


def _daily_record(request) -> from_attendance.DailyRecordService:
    return from_attendance.DailyRecordService(
        request.db, lambda: calendar_for(request.registry, DbFacilityDays(request.db)))


def _edit_context(request, child, period, report, values, errors, **extra):
    returned = last_return(report) if report is not None and report.status == ReportStatus.RETURNED else None
    context = {
        "child": child,
        "period": period,
        "report": report,
        "values": values,
        "errors": errors,
        "token": edit_token(report),
        "returned": returned,
        "days_in_month": periods.days_in_month(period),
        "started": periods.has_started(period, request.clock.today()),
        "reasons": ABSENCE_REASONS,
        "contacts": list(FamilyContact),
        "condition_max": CONDITION_MAX,
        "daily": None,
        "prefilled": False,
        "differences": [],
    }
    context.update(extra)
    return context


def _child_and_report(request):
    period = _period(request, allow_current=False)
    scope = scope_for(request)
    child = scope.get_child(request.db, _id(request, "child_id"))
    service = ReportService(request.db)
    if not service.is_due(child, period):
        raise HTTPNotFound()
    return scope, service, child, period, service.find(scope, child.id, period)


@view_config(route_name="facility.report_edit", permission=Permission.REPORTS_ENTER,
             renderer="reports/edit.html", request_method="GET")
def report_edit_form(request):
    _scope, _service, child, period, report = _child_and_report(request)
    if not is_editable(report):
        return HTTPSeeOther(request.route_url("report.detail", report_id=report.id))
    version = latest_version(report) if report else None
    values = form_values_from_version(version)
    daily = _daily_record(request).counts(child, report.facility_id if report else child.facility_id, period)
    prefilled = False
    if version is None and daily is not None:
        # No draft yet: start from the daily record. A saved draft is never overwritten.
        values.update(daily.form_values())
        prefilled = True
    return _edit_context(request, child, period, report, values, FormErrors(), daily=daily, prefilled=prefilled,
                         differences=[] if prefilled else from_attendance.differences(version, daily))


@view_config(route_name="facility.report_edit", permission=Permission.REPORTS_ENTER,
             renderer="reports/edit.html", request_method="POST")
def report_edit_submit(request):
    scope, service, child, period, report = _child_and_report(request)
    action = request.POST.get("action")
    submit = action in ("submit", "submit_next")
    raw = raw_form_values(request.POST)
    values, errors = validate_report(request.POST, days_in_month=periods.days_in_month(period), submit=submit)
    if errors:
        request.response.status = 400
        return _edit_context(request, child, period, report, raw, errors)
    try:
        report = service.save(
            child=child, period=period, account=request.account, values=values,
            token=request.POST.get("edit_token"), submit=submit, today=request.clock.today(),
        )
    except ReportError as error:
        # Keep everything the user typed; show why, and (on a conflict) carry
        # the current token so a deliberate second save goes through.
        request.response.status = 409 if isinstance(error, EditConflict | NotEditable) else 400
        current = service.find(scope, child.id, period)
        return _edit_context(request, child, period, current, raw, FormErrors(_form=error.message),
                             conflict=isinstance(error, EditConflict))
    if action == "submit_next":
        return _next_report_or_list(request, scope, service, child, period)
    if submit:
        return HTTPSeeOther(request.route_url("facility.period", period=periods.format_period(period),
                                              _query={"done": "submitted"}))
    return HTTPSeeOther(request.route_url("facility.report_edit", period=periods.format_period(period),
                                          child_id=child.id, _query={"done": "saved"}))


def _is_to_do(row) -> bool:
    """A row of the month's list whose report is still to write: none yet, a draft, or returned."""
    return row.report is None or is_editable(row.report)


def _still_to_do(rows, after_child_id: int | None = None):
    """The first row still to do (no report, a draft, or returned) in the month's list order;
    with ``after_child_id``, the first after that child's row, wrapping round to the top."""
    position = next((n for n, row in enumerate(rows) if row.child.id == after_child_id), -1)
    for row in rows[position + 1:] + rows[:max(position, 0)]:
        if row.child.id != after_child_id and _is_to_do(row):
            return row
    return None


def _next_report_or_list(request, scope, service, child, period):
    """「提出して次へ」: the next child's form still to do, or the list when none is left."""
    rows = service.due_rows(scope, period, facility_id=child.facility_id)
    following = _still_to_do(rows, after_child_id=child.id)
    if following is None:
        return HTTPSeeOther(request.route_url("facility.period", period=periods.format_period(period),
                                              _query={"done": "submitted_all"}))
    return HTTPSeeOther(request.route_url("facility.report_edit", period=periods.format_period(period),
                                          child_id=following.child.id, _query={"done": "submitted_next"}))


@view_config(route_name="facility.report_next", permission=Permission.REPORTS_ENTER, request_method="GET")
def facility_report_next(request):
    """「未提出の報告を順に入力する」: the month's first report still to do, else the month's list."""
    period = _period(request, allow_current=True)
    first = _still_to_do(ReportService(request.db).due_rows(scope_for(request), period))
    if first is None or not periods.has_started(period, request.clock.today()):
        return HTTPSeeOther(request.route_url("facility.period", period=periods.format_period(period)))
    return HTTPSeeOther(request.route_url("facility.report_edit", period=periods.format_period(period),
                                          child_id=first.child.id))


# --- A report, its versions, and the centre's decision --------------------------


def _detail_context(request, report, *, errors=None, comment="", filters=None):
    is_facility = request.account.role == Role.FACILITY
    # The centre acts on what was submitted; the facility sees its own latest work.
    shown = latest_version(report) if is_facility else (latest_submitted_version(report) or latest_version(report))
    daily = _daily_record(request).counts(report.child, report.facility_id, report.period)
    return {
        "daily": daily,
        "differences": from_attendance.differences(shown, daily),
        "report": report,
        "child": report.child,
        "version": shown,
        "versions": report.versions,
        "events": report.events,
        "returned": last_return(report) if report.status == ReportStatus.RETURNED else None,
        "can_review": request.has_permission(Permission.REPORTS_REVIEW) and report.status == ReportStatus.SUBMITTED,
        "can_edit": request.has_permission(Permission.REPORTS_ENTER) and is_editable(report),
        "errors": errors or FormErrors(),
        "comment": comment,
        "comment_max": COMMENT_MAX,
        "reasons": ABSENCE_REASONS,
        # The review queue's filter, carried so 「確認して次へ」 stays in the same queue.
        "queue_params": (filters or QueueFilter.from_params(request.GET)).to_params(),
    }


@view_config(route_name="report.detail", permission=Permission.CHILDREN_VIEW,
             renderer="reports/detail.html", request_method="GET")
def report_detail(request):
    report = get_report(request.db, scope_for(request), _id(request, "report_id"))
    return _detail_context(request, report)


@view_config(route_name="report.version", permission=Permission.CHILDREN_VIEW,
             renderer="reports/version.html", request_method="GET")
def report_version(request):
    report = get_report(request.db, scope_for(request), _id(request, "report_id"))
    number = _id(request, "number")
    version = next((v for v in report.versions if v.number == number), None)
    if version is None:
        raise HTTPNotFound()
    return {"report": report, "child": report.child, "version": version, "versions": report.versions,
            "reasons": ABSENCE_REASONS}


@view_config(route_name="report.acknowledge", permission=Permission.REPORTS_REVIEW,
             renderer="reports/detail.html", request_method="POST")
def report_acknowledge(request):
    """Acknowledge; with ``then=next``, go on to the next report of the same filtered queue.

    The queue's filter comes back in hidden fields (see QueueFilter); when no
    report is left after this one, the queue itself is shown with a message.
    """
    scope = scope_for(request)
    report = get_report(request.db, scope, _id(request, "report_id"))
    filters = QueueFilter.from_params(request.POST)
    position = (report.submitted_at, report.id)
    try:
        ReportService(request.db).acknowledge(report, request.account)
    except ReportError as error:
        request.response.status = 409
        return _detail_context(request, report, errors=FormErrors(_form=error.message), filters=filters)
    if request.POST.get("then") == "next":
        following = queue_service(request).next_after(scope, filters, *position)
        query = filters.to_params()
        if following is None:
            return HTTPSeeOther(request.route_url("centre.review_queue", _query={**query, "done": "queue_end"}))
        return HTTPSeeOther(request.route_url("report.detail", report_id=following.id,
                                              _query={**query, "done": "acknowledged_next"}))
    return HTTPSeeOther(request.route_url("report.detail", report_id=report.id, _query={"done": "acknowledged"}))


@view_config(route_name="report.return", permission=Permission.REPORTS_REVIEW,
             renderer="reports/detail.html", request_method="POST")
def report_return(request):
    report = get_report(request.db, scope_for(request), _id(request, "report_id"))
    raw_comment = request.POST.get("comment", "")
    raw_comment = raw_comment if isinstance(raw_comment, str) else ""
    comment, errors = validate_return_comment(request.POST)
    if errors:
        request.response.status = 400
        return _detail_context(request, report, errors=errors, comment=raw_comment)
    try:
        ReportService(request.db, request.find_service(MailOutbox)).return_report(report, request.account, comment)
    except ReportError as error:
        request.response.status = 409
        return _detail_context(request, report, errors=FormErrors(_form=error.message), comment=raw_comment)
    return HTTPSeeOther(request.route_url("report.detail", report_id=report.id, _query={"done": "returned"}))


# --- Centre: matrix, one facility's month (the review queue is in queue_views) ---


@view_config(route_name="centre.matrix", permission=Permission.REPORTS_REVIEW,
             renderer="centre/matrix.html", request_method="GET")
def centre_matrix(request):
    today = request.clock.today()
    day = _deadline_day(request)
    current = periods.current_period(today, day)
    filters = MatrixFilter.from_params(request.GET)
    months = periods.months_ending(current, filters.months)
    page = SubmissionMatrixService(request.db).page(
        scope_for(request), months, today, day, filters, page_number(request.GET.get("page")))
    query = filters.to_params()
    link_start = request.route_url("centre.facility_period", facility_id=0, period="PERIOD")[:-len("0/PERIOD")]
    return {
        "matrix": page.matrix, "page": page, "filters": filters, "query": query,
        "cell_writer": functools.partial(CellWriter, link_start, months),
        "current": current, "today": today,
        "type_options": list(FacilityType), "month_choices": MONTH_CHOICES,
        "page_url": lambda n: request.route_url("centre.matrix", _query={**query, "page": n}),
    }


@view_config(route_name="centre.facility_period", permission=Permission.REPORTS_REVIEW,
             renderer="centre/facility_period.html", request_method="GET")
def centre_facility_period(request):
    period = _period(request, allow_current=True)
    scope = scope_for(request)
    service = ReportService(request.db)
    facility = service.facility_in_scope(scope, _id(request, "facility_id"))
    if facility is None:
        raise HTTPNotFound()
    today = request.clock.today()
    day = _deadline_day(request)
    return {
        "facility": facility,
        "period": period,
        "rows": service.due_rows(scope, period, facility.id),
        "deadline": periods.deadline(period, day),
        "overdue": periods.is_overdue(period, today, day),
        "previous": periods.add_months(period, -1),
        "next": periods.add_months(period, 1),
    }


# --- A child's page with the report history (here because children must not import reports)


@view_config(route_name="child.detail", permission=Permission.CHILDREN_VIEW,
             renderer="children/detail.html", request_method="GET")
def child_detail(request):
    scope = scope_for(request)
    child = scope.get_child(request.db, _id(request, "child_id"))
    return {
        "child": child,
        "reports": ReportService(request.db).history(scope, child.id),
        "can_manage": request.has_permission(Permission.CHILDREN_MANAGE),
        "can_enter": request.has_permission(Permission.REPORTS_ENTER),
    }


# --- Export ---------------------------------------------------------------------


@view_config(route_name="export.reports", permission=Permission.REPORTS_EXPORT, request_method="GET")
def export_reports(request):
    current = periods.current_period(request.clock.today(), _deadline_day(request))
    defaults = {"from": periods.format_period(periods.add_months(current, -2)),
                "to": periods.format_period(current)}
    if "from" not in request.GET and "to" not in request.GET:
        return _render_export_form(request, defaults, FormErrors(), status=200)
    (first, last), errors = validate_export_range(request.GET, default_from=None, default_to=None)
    if errors:
        values = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
        return _render_export_form(request, values, errors, status=400)
    scope = scope_for(request)
    if request.GET.get("format") == "print":
        return render_to_response(
            "reports/print.html",
            {"rows": export.export_rows(request.db, scope, first, last), "first": first, "last": last,
             "header": export.HEADER,
             "cells": export.row_cells},
            request=request,
        )
    filename = f"mimamori-reports-{periods.format_period(first)}_{periods.format_period(last)}.csv"
    # Streamed: a ward's 24 months are ~120,000 rows, written as they are read.
    return Response(
        app_iter=export.StreamedExport(read_session_factory(request.registry),
                                       export.export_statement(scope, first, last)),
        content_type="text/csv",
        charset="utf-8",
        content_disposition=f'attachment; filename="{filename}"',
    )


def _render_export_form(request, values, errors, *, status):
    response = render_to_response("reports/export.html", {"values": values, "errors": errors}, request=request)
    response.status = status
    return response
