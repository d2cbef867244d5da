"""Message threads (連絡帳, F-MSG) between the centre and the facility, one per child."""


def _unread_by_child(request) -> dict[int, int]:
    """{child id: unread messages} for the logged-in account (badges in the menu and on lists);
    empty without the permission."""
    from webapp.authz import Permission
    from webapp.children.scope import scope_for
    from webapp.messages.services import MessageService

    if request.account is None or not request.has_permission(Permission.MESSAGES_USE):
        return {}
    return request.find_service(MessageService).unread_counts(scope_for(request))


def _unread_total(request) -> int:
    return sum(request.unread_by_child.values())


def _dashboard_items(request):
    from webapp.children.scope import scope_for
    from webapp.messages.services import MessageService

    if request.account is None or request.account.role != "caseworker":
        return []
    return request.find_service(MessageService).threads(scope_for(request), unread_only=True)


def includeme(config):
    from webapp.mail.services import MailOutbox
    from webapp.messages.services import MessageService

    config.register_service_factory(
        lambda _context, request: MessageService(request.db, request.find_service(MailOutbox), request.clock),
        MessageService,
    )
    config.add_request_method(_unread_by_child, "unread_by_child", reify=True)
    config.add_request_method(_unread_total, "unread_messages", reify=True)
    config.add_dashboard_section("messages", _dashboard_items, "centre/dashboard_sections/messages.html", order=30)
    config.scan(".views")
