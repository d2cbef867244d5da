"""Monthly reports: facility drafts and submits, the centre acknowledges or returns."""


def _pending_review_query(request):
    """The COUNT of submitted reports waiting in the caseworker's scope; None for other roles."""
    from webapp.authz import Permission, Role
    from webapp.children.scope import scope_for
    from webapp.reports.queue import ReviewQueueService

    account = request.account
    if account is None or account.role != Role.CASEWORKER or not request.has_permission(Permission.REPORTS_REVIEW):
        return None
    scope = scope_for(request)
    return scope.statement("reports.pending_review_count", lambda: ReviewQueueService.pending_count_query(scope))


def _pending_review_count(request) -> int:
    """Submitted reports waiting (menu badge, dashboard); 0 for other roles.

    One COUNT per request, with the other menu badges (webapp.badges), whatever the queue's size.
    """
    return request.badge_counts.get("review", 0)


def _dashboard_items(request):
    """The waiting count for the caseworker's "対応が必要なもの" (after urgent reports and alerts)."""
    count = request.pending_review_count
    return [count] if count else []


def includeme(config):
    config.add_badge_count("review", _pending_review_query)
    config.add_request_method(_pending_review_count, "pending_review_count", reify=True)
    config.add_dashboard_section("review", _dashboard_items, "centre/dashboard_sections/review.html", order=25)
    config.scan(".views")
    config.scan(".queue_views")
