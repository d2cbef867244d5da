"""Siblings (F-SIB): the admin's link screen and the sibling block on the child's page.

The child's page belongs to the reports area (``child.detail``). Rather than
teach that view about siblings, a BeforeRender subscriber adds ``siblings``
to that one template's values, computed through the viewer's scope.
"""

from __future__ import annotations

from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission, Role
from webapp.children.models import Child
from webapp.children.scope import scope_for
from webapp.children.siblings import SelfLinkError, SiblingService
from webapp.forms import FormErrors, clean_int
from webapp.i18n import _

CHILD_PAGE = "children/detail.html"
# Siblings are the caseworker's view of a family (F-SIB); facilities see only their own child.
SIBLING_ROLES = (Role.ADMIN, Role.CASEWORKER)


def add_siblings_to_child_page(event: BeforeRender) -> None:
    request = event.get("request")
    if event.get("renderer_name") != CHILD_PAGE or request is None or request.identity is None:
        return
    child = (event.rendering_val or {}).get("child")
    if child is None or request.account.role not in SIBLING_ROLES:
        return
    event["siblings"] = SiblingService(request.db).for_viewer(child.id, scope_for(request))


def _page(request, child, values, errors):
    siblings = SiblingService(request.db).for_viewer(child.id, scope_for(request))
    return {"child": child, "siblings": siblings, "values": values, "errors": errors}


@view_config(route_name="admin.child_siblings", permission=Permission.SIBLINGS_MANAGE,
             renderer="children/siblings.html", request_method="GET")
def siblings_form(request):
    child = scope_for(request).get_child(request.db, int(request.matchdict["child_id"]))
    return _page(request, child, {}, FormErrors())


@view_config(route_name="admin.child_siblings", permission=Permission.SIBLINGS_MANAGE,
             renderer="children/siblings.html", request_method="POST")
def siblings_update(request):
    scope = scope_for(request)
    child = scope.get_child(request.db, int(request.matchdict["child_id"]))
    errors = FormErrors()
    other_id, error = clean_int(request.POST.get("sibling_id"), minimum=1, maximum=999_999)
    other = None
    if error is None:
        other = request.db.scalar(scope.children().where(Child.id == other_id))
        if other is None:
            error = _("この児童IDの児童は登録されていません。")
    if error is not None:
        errors["sibling_id"] = error
        request.response.status = 400
        return _page(request, child, request.POST, errors)
    service = SiblingService(request.db)
    if request.POST.get("action") == "unlink":
        service.unlink(child.id, other.id)
        done = "sibling_unlinked"
    else:
        try:
            service.link(child.id, other.id)
        except SelfLinkError:
            errors["sibling_id"] = _("同じ児童どうしはきょうだいにできません。")
            request.response.status = 400
            return _page(request, child, request.POST, errors)
        done = "sibling_linked"
    return HTTPSeeOther(request.route_url("admin.child_siblings", child_id=child.id, _query={"done": done}))


def includeme(config):
    config.add_subscriber(add_siblings_to_child_page, BeforeRender)
    config.scan("webapp.children.siblings_views")
