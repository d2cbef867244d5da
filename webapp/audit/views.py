"""The log viewer for admins and auditors (S-ACCESSLOG, S-AUDIT): filter, page, export.

GET only: filtering changes nothing. ``?format=csv`` returns the filtered rows
as a CSV file; each export is itself appended to the change-record chain, and the chain's
head is signed into a checkpoint once it commits (webapp.audit.anchor).
"""

from __future__ import annotations

from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response
from pyramid.view import view_config

from webapp.audit.anchor import checkpoint_after_commit
from webapp.audit.labels import (
    ACTION_LABELS,
    EVENT_LABELS,
    REASON_LABELS,
    TABLE_LABELS,
    action_label,
    event_label,
    reason_label,
    role_label,
    route_label,
    table_label,
)
from webapp.audit.recorder import actor_for_request
from webapp.audit.services import (
    EXPORT_MAX_ROWS,
    FIELDS,
    Cursor,
    LogQueries,
    change_lines,
    csv_bytes,
    parse_filter,
    record_export,
)
from webapp.authz import Permission
from webapp.i18n import _

TITLES = {"access": "アクセスログ", "auth": "認証ログ", "changes": "変更記録"}
FILE_NAMES = {"access": "access-log", "auth": "auth-events", "changes": "change-records"}
# How many chain problems the page lists; the command line lists them all.
SHOWN_PROBLEMS = 100


def _route_names(request) -> list[str]:
    mapper = request.registry.getUtility(IRoutesMapper)
    return sorted(route.name for route in mapper.get_routes() if not route.name.startswith("__"))


def _options(request, codes, label) -> list[tuple[str, str]]:
    """(code, "name (code)") for a filter's select: the name to read, the code to search by."""
    translate = request.localizer.translate
    return [(str(code), f"{translate(label(code))} ({code})") for code in codes]


def _log_page(request, kind: str) -> dict | Response:
    routes = _route_names(request) if kind == "access" else []
    log_filter, errors = parse_filter(kind, request.params, routes)
    queries = LogQueries(request.db)
    page = {
        "kind": kind, "title": TITLES[kind], "fields": FIELDS[kind], "values": request.params,
        "errors": errors, "filter": log_filter, "rows": [], "next_cursor": None, "first_page": True,
        "route_options": _options(request, routes, route_label),
        "event_options": _options(request, EVENT_LABELS, event_label),
        "reason_options": _options(request, REASON_LABELS, reason_label),
        "action_options": _options(request, ACTION_LABELS, action_label),
        "entity_options": _options(request, sorted(TABLE_LABELS), table_label),
        "role_label": role_label, "event_label": event_label, "reason_label": reason_label,
        "action_label": action_label, "route_label": route_label, "table_label": table_label,
        "change_lines": change_lines, "export_error": None, "chain": None,
    }
    if errors:
        request.response.status = 400
        return page
    if request.params.get("format") == "csv":
        rows = list(queries.all_rows(kind, log_filter))
        if len(rows) > EXPORT_MAX_ROWS:
            request.response.status = 400
            page["export_error"] = _("${max}件を超えるため出力できません。期間を短くしてください。",
                                     mapping={"max": f"{EXPORT_MAX_ROWS:,}"})
        else:
            body, count = csv_bytes(kind, rows)
            record_export(request.db, actor_for_request(request), kind, log_filter, count)
            # Whoever takes logs home also pins the chain's head, export record included.
            checkpoint_after_commit(request)
            stamp = request.clock.now().strftime("%Y%m%d%H%M%S")
            return Response(
                body=body, content_type="text/csv", charset="utf-8",
                content_disposition=f'attachment; filename="{FILE_NAMES[kind]}-{stamp}.csv"')
    cursor = Cursor.decode(request.params.get("after"))
    result = queries.page(kind, log_filter, cursor)
    page.update(rows=result.rows, next_cursor=result.next_cursor, first_page=cursor is None)
    if kind == "changes" and request.params.get("verify") == "1":
        checked, problems = queries.chain_status()
        page["chain"] = {"checked": checked, "problems": problems[:SHOWN_PROBLEMS], "count": len(problems)}
    return page


@view_config(route_name="logs.access", permission=Permission.AUDIT_READ, renderer="logs/access.html")
def access_log(request):
    return _log_page(request, "access")


@view_config(route_name="logs.auth", permission=Permission.AUDIT_READ, renderer="logs/auth.html")
def auth_log(request):
    return _log_page(request, "auth")


@view_config(route_name="logs.changes", permission=Permission.AUDIT_READ, renderer="logs/changes.html")
def change_records(request):
    return _log_page(request, "changes")
