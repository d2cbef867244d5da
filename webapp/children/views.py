"""The child register: list (CHILDREN_VIEW), register and edit (CHILDREN_MANAGE). F-CHILD.

The child's own page (``child.detail``) with the report history lives with the reports.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from webapp.authz import Permission
from webapp.children.models import Grade
from webapp.children.scope import scope_for
from webapp.children.services import ChildChoices, ChildService, validate_child_form
from webapp.forms import FormErrors, search_text
from webapp.organisations.services import page_number

GRADE_OPTIONS = [(grade.value, grade.label) for grade in Grade]


@view_config(route_name="children.list", permission=Permission.CHILDREN_VIEW, renderer="children/list.html")
def children_list(request):
    q = search_text(request.params)
    page = ChildService(request.db, scope_for(request)).search(q, page_number(request.params.get("page")))
    return {"page": page, "q": q, "today": request.clock.today(),
            "can_manage": bool(request.has_permission(Permission.CHILDREN_MANAGE))}


def _form_page(request, choices: ChildChoices, values, errors, child=None):
    return {
        "values": values, "errors": errors, "child": child,
        # The value posted is the grade's Japanese value; only what the reader sees is translated.
        "grade_options": [(value, request.localizer.translate(label)) for value, label in GRADE_OPTIONS],
        "facility_options": [(f.id, f"{f.code} {f.name}" + ("" if f.active else "（無効）"))
                             for f in choices.facilities()],
        "centre_options": [(c.id, c.name) for c in choices.centres()],
        "any_centre": choices.any_centre,
    }


@view_config(route_name="children.new", permission=Permission.CHILDREN_MANAGE,
             renderer="children/form.html", request_method="GET")
def child_new_form(request):
    choices = ChildChoices(request.db, scope_for(request))
    values = {"monitoring_start": request.clock.today().isoformat()}
    return _form_page(request, choices, values, FormErrors())


@view_config(route_name="children.new", permission=Permission.CHILDREN_MANAGE,
             renderer="children/form.html", request_method="POST")
def child_create(request):
    scope = scope_for(request)
    choices = ChildChoices(request.db, scope)
    form = validate_child_form(choices, request.POST)
    errors = form.errors
    if form.ok:
        child, errors = ChildService(request.db, scope).save(None, form.values)
    if errors:
        request.response.status = 400
        return _form_page(request, choices, request.POST, errors)
    return HTTPSeeOther(request.route_url("children.list", _query={"done": "created"}))


@view_config(route_name="child.edit", permission=Permission.CHILDREN_MANAGE,
             renderer="children/form.html", request_method="GET")
def child_edit_form(request):
    scope = scope_for(request)
    child = ChildService(request.db, scope).get(int(request.matchdict["child_id"]))
    values = {
        "facility_id": child.facility_id, "centre_id": child.centre_id,
        "family_name": child.family_name, "given_name": child.given_name,
        "family_name_kana": child.family_name_kana, "given_name_kana": child.given_name_kana,
        "grade": child.grade.value, "class_name": child.class_name or "",
        "monitoring_start": child.monitoring_start.isoformat(),
        "monitoring_end": child.monitoring_end.isoformat() if child.monitoring_end else "",
    }
    return _form_page(request, ChildChoices(request.db, scope, child), values, FormErrors(), child)


@view_config(route_name="child.edit", permission=Permission.CHILDREN_MANAGE,
             renderer="children/form.html", request_method="POST")
def child_update(request):
    scope = scope_for(request)
    service = ChildService(request.db, scope)
    child = service.get(int(request.matchdict["child_id"]))
    choices = ChildChoices(request.db, scope, child)
    form = validate_child_form(choices, request.POST)
    errors = form.errors
    if form.ok:
        _child, errors = service.save(child, form.values)
    if errors:
        request.response.status = 400
        return _form_page(request, choices, request.POST, errors, child)
    return HTTPSeeOther(request.route_url("children.list", _query={"done": "updated"}))
