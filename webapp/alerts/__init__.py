"""Alerts (F-ALERT): absence streaks, the alerts they raise, and the caseworker's screens.

``webapp.alerts.streaks`` holds the counting rules as pure functions over
dates and enums; ``sweep`` runs them over the attendance entries for the job
``alerts.sweep`` (``mimamori jobs run``) and raises alerts; ``services`` and
``views`` are the caseworker's list, alert page, acknowledge and resolve. This
area sits above ``attendance`` (whose entries it counts; the status enum is
``webapp.attendance.status``) and uses ``closed_days``. Nothing is imported
here at module level, so importing ``streaks`` does not pull the rest of the area in.
"""


def _open_alerts_query(request):
    """The COUNT of open alerts in the user's scope, for the menu badge (None for roles without alerts)."""
    from webapp.alerts.services import AlertService
    from webapp.authz import Permission
    from webapp.children.scope import scope_for

    if request.account is None or not request.has_permission(Permission.ALERTS_VIEW):
        return None
    scope = scope_for(request)
    return scope.statement("alerts.open_count", lambda: AlertService(None, scope).open_count_query())


def _open_alert_count(request) -> int:
    return request.badge_counts.get("alerts", 0)


def _child_alerts(request):
    """``request.child_alerts(child_id)``: the child's alerts for the child page ([] without permission)."""
    from webapp.alerts.services import AlertService
    from webapp.authz import Permission
    from webapp.children.scope import scope_for

    def child_alerts(child_id: int):
        if request.account is None or not request.has_permission(Permission.ALERTS_VIEW):
            return []
        return AlertService(request.db, scope_for(request)).for_child(child_id)

    return child_alerts


def _dashboard_items(request):
    """Unresolved alerts for the caseworker's "対応が必要なもの" (after urgent reports)."""
    from webapp.alerts.services import AlertService
    from webapp.authz import Permission
    from webapp.children.scope import scope_for

    if request.account is None or not request.has_permission(Permission.ALERTS_VIEW):
        return []
    return AlertService(request.db, scope_for(request)).needing_action()


def includeme(config):
    config.add_badge_count("alerts", _open_alerts_query)
    config.add_request_method(_open_alert_count, "open_alert_count", reify=True)
    config.add_dashboard_section("alerts", _dashboard_items, "centre/dashboard_sections/alerts.html", order=20)
    config.add_request_method(_child_alerts, "child_alerts", reify=True)
    config.scan(".views")
