"""Monthly reports: facility drafts and submits, the centre acknowledges or returns."""


def _pending_review_count(request) -> int:
    """Submitted reports waiting in the caseworker's scope (menu badge, dashboard); 0 for other roles.

    One COUNT query per request (reified), whatever the queue's size.
    """
    from webapp.authz import Permission, Role
    from webapp.children.scope import scope_for
    from webapp.reports.queue import ReviewQueueService

    account = request.account
    if account is None or account.role != Role.CASEWORKER or not request.has_permission(Permission.REPORTS_REVIEW):
        return 0
    return ReviewQueueService(request.db).pending_count(scope_for(request))


def _dashboard_items(request):
    """The waiting count for the caseworker's "対応が必要なもの" (after urgent reports and alerts)."""
    count = request.pending_review_count
    return [count] if count else []


def includeme(config):
    config.add_request_method(_pending_review_count, "pending_review_count", reify=True)
    config.add_dashboard_section("review", _dashboard_items, "centre/dashboard_sections/review.html", order=25)
    config.scan(".views")
    config.scan(".queue_views")
