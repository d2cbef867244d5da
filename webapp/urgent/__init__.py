"""Urgent reports (緊急連絡, F-URGENT): filed by a facility at any time, handled by the centre at once."""


def _dashboard_items(request):
    from webapp.children.scope import scope_for
    from webapp.urgent.services import UrgentReportService

    if request.account is None or request.account.role != "caseworker":
        return []
    return request.find_service(UrgentReportService).listing(scope_for(request), open_only=True)


def _open_query(request):
    """The COUNT of open urgent reports the user may see (the menu's badge); None when logged out."""
    from webapp.authz import Permission
    from webapp.children.scope import scope_for
    from webapp.urgent.services import UrgentReportService

    if request.account is None or not request.has_permission(Permission.URGENT_HANDLE):
        return None
    scope = scope_for(request)
    return scope.statement("urgent.open_count", lambda: UrgentReportService.open_count_query(scope))


def _open_count(request) -> int:
    return request.badge_counts.get("urgent", 0)


def includeme(config):
    from webapp.mail.services import MailOutbox
    from webapp.urgent.services import UrgentReportService

    config.register_service_factory(
        lambda _context, request: UrgentReportService(request.db, request.find_service(MailOutbox), request.clock),
        UrgentReportService,
    )
    config.add_badge_count("urgent", _open_query)
    config.add_request_method(_open_count, "open_urgent_count", reify=True)
    config.add_dashboard_section("urgent", _dashboard_items, "centre/dashboard_sections/urgent.html", order=10)
    config.scan(".views")
