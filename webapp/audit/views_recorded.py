"""Recording views of personal pages ("who saw this child", S-AUDIT).

A tween inside the request transaction: when a page about a child is shown
successfully, it finds the child and hands a ``view`` record to
webapp.audit.view_records, which has it written after the request.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.audit.view_records import record_views

# route name -> the matchdict key that identifies the object shown
RECORDED_ROUTES = {
    "child.detail": "child_id",
    "child.edit": "child_id",
    "admin.child_siblings": "child_id",
    "child.timeline": "child_id",
    "facility.report_edit": "child_id",
    "report.detail": "report_id",
    "report.version": "report_id",
    "urgent.detail": "urgent_id",
    "child.messages": "child_id",
    "alert.detail": "alert_id",
}


def _child_of_report(db, report_id: int) -> int | None:
    return db.scalar(sa.text("SELECT child_id FROM monthly_reports WHERE id = :id"), {"id": report_id})


def _child_of_alert(db, alert_id: int) -> int | None:
    return db.scalar(sa.text("SELECT child_id FROM alerts WHERE id = :id"), {"id": alert_id})


def _child_of_urgent_report(db, report_id: int) -> int | None:
    return db.scalar(sa.text("SELECT child_id FROM urgent_reports WHERE id = :id"), {"id": report_id})


def view_recording_tween_factory(handler, registry):
    def tween(request):
        response = handler(request)
        route = request.matched_route.name if request.matched_route else None
        if route in RECORDED_ROUTES and request.method == "GET" and response.status_code == 200:
            key = RECORDED_ROUTES[route]
            object_id = int(request.matchdict[key])
            if key == "child_id":
                entity, child_id = "children", object_id
            elif key == "urgent_id":
                entity, child_id = "urgent_reports", _child_of_urgent_report(request.db, object_id)
            elif key == "alert_id":
                entity, child_id = "alerts", _child_of_alert(request.db, object_id)
            else:
                entity, child_id = "monthly_reports", _child_of_report(request.db, object_id)
            record_views(request, entity, object_id, [child_id])
        return response

    return tween
