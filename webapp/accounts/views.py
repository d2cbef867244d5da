from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from webapp.accounts.admin_forms import ROLE_ORGANISATION, organisation_error, validate_account
from webapp.accounts.admin_services import AccountAdminService
from webapp.accounts.forms import password_problem
from webapp.accounts.services import AuthenticationService, PasswordService, SessionService
from webapp.audit.events import AuthEventLog, AuthEventType
from webapp.authz import Permission, Role
from webapp.forms import FormErrors, clean_choice, search_text
from webapp.i18n import _
from webapp.organisations.services import CentreService, FacilityService, page_number


@view_config(route_name="account.password", permission=Permission.ACCOUNT_SELF,
             renderer="accounts/password.html", request_method="GET")
def password_form(request):
    return {"errors": FormErrors()}


@view_config(route_name="account.password", permission=Permission.ACCOUNT_SELF,
             renderer="accounts/password.html", request_method="POST")
def password_change(request):
    account = request.account
    current = request.POST.get("current_password", "")
    new = request.POST.get("new_password", "")
    confirm = request.POST.get("confirm_password", "")
    errors = FormErrors()
    if not request.find_service(PasswordService).verify(account.password_hash, current):
        errors["current_password"] = _("現在のパスワードが正しくありません。")
    problem = password_problem(new, account.login, account.display_name)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = _("確認用のパスワードが一致しません。")
    elif new == current:
        errors["new_password"] = _("現在と異なるパスワードにしてください。")
    if errors:
        request.response.status = 400
        return {"errors": errors}
    request.find_service(AuthenticationService).set_password(account, new, must_change=False)
    AuthEventLog(request.db, request.clock).record(
        AuthEventType.PASSWORD_CHANGED, login=account.login, account_id=account.id,
        client_address=request.client_address, user_agent=request.user_agent)
    return HTTPSeeOther(request.route_url("home", _query={"done": "password"}))


# --- Admin: accounts (F-ADMIN) ----------------------------------------------------
# Under /admin (S-ADMINIP). A temporary password is rendered once, straight from
# the POST that made it (no redirect: it is never stored to be shown later).

ACTIVE_OPTIONS = [("1", "有効"), ("0", "無効")]


def _account_admin(request) -> AccountAdminService:
    return AccountAdminService(request.db, request.find_service(PasswordService),
                               request.find_service(SessionService))


def _organisation_options(request, account=None):
    keep_centre = account.centre_id if account else None
    keep_facility = account.facility_id if account else None
    centres = [(c.id, c.name + ("" if c.active else "（無効）")) for c in CentreService(request.db).all()
               if c.active or c.id == keep_centre]
    facilities = [(f.id, f"{f.code} {f.name}") for f in FacilityService(request.db).active()]
    if keep_facility and keep_facility not in {f_id for f_id, _label in facilities}:
        facility = FacilityService(request.db).get(keep_facility)
        facilities.append((facility.id, f"{facility.code} {facility.name}（無効）"))
    return centres, facilities


def _account_page(request, values, errors, account=None, message=None):
    centres, facilities = _organisation_options(request, account)
    return {"values": values, "errors": errors, "account": account, "message": message,
            "role_options": [(role.value, role.label) for role in Role],
            "centre_options": centres, "facility_options": facilities, "active_options": ACTIVE_OPTIONS}


def _validate_account_form(request, account=None):
    form = validate_account(request.POST)
    centres, facilities = _organisation_options(request, account)
    centre_id, centre_error = clean_choice(request.POST.get("centre_id"), [c for c, _l in centres], required=False)
    facility_id, facility_error = clean_choice(request.POST.get("facility_id"), [f for f, _l in facilities],
                                               required=False)
    form.values["centre_id"] = int(centre_id) if centre_id else None
    form.values["facility_id"] = int(facility_id) if facility_id else None
    role = form.values.get("role")
    needed = ROLE_ORGANISATION.get(role) if role else None
    # Only the organisation the role uses is checked; the other select is ignored.
    if needed == "centre" and centre_error:
        form.error("centre_id", centre_error)
    elif needed == "facility" and facility_error:
        form.error("facility_id", facility_error)
    else:
        problem = organisation_error(role, form.values["centre_id"], form.values["facility_id"])
        if problem:
            form.error(problem[0] + "_id", problem[1])
    login = form.values.get("login")
    if login and _account_admin(request).login_taken(login, account.id if account else None):
        # Checked with the other fields so every problem is reported at once; the
        # service checks again (and the unique key last) when saving.
        form.error("login", _("このログインIDは既に使われています。"))
    if account is not None and account.id == request.account.id:
        # An admin cannot lock themselves out: someone must be left to manage accounts.
        if role is not None and role != Role.ADMIN:
            form.error("role", _("自分自身の役割は変更できません。"))
        if form.values.get("active") is False:
            form.error("active", _("自分自身を無効にすることはできません。"))
    return form


def _account_values(account, active=None):
    return {"login": account.login, "display_name": account.display_name, "role": account.role.value,
            "centre_id": account.centre_id or "", "facility_id": account.facility_id or "",
            "active": active or ("1" if account.active else "0"), "email": account.email or ""}


def _get_account(request):
    account = _account_admin(request).get(int(request.matchdict["account_id"]))
    if account is None:
        raise HTTPNotFound()
    return account


@view_config(route_name="admin.accounts", permission=Permission.ADMIN_ACCOUNTS, renderer="admin/accounts.html")
def accounts_list(request):
    q = search_text(request.params)
    return {"page": _account_admin(request).search(q, page_number(request.params.get("page"))), "q": q}


@view_config(route_name="admin.account_new", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_form.html", request_method="GET")
def account_new_form(request):
    return _account_page(request, {"active": "1"}, FormErrors())


@view_config(route_name="admin.account_new", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_form.html", request_method="POST")
def account_create(request):
    form = _validate_account_form(request)
    errors = form.errors
    if form.ok:
        account, password, errors = _account_admin(request).create(form.values)
    if errors:
        request.response.status = 400
        return _account_page(request, request.POST, errors)
    return render_to_response("admin/account_password.html",
                              {"account": account, "password": password, "created": True}, request=request)


@view_config(route_name="admin.account_edit", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_form.html", request_method="GET")
def account_edit_form(request):
    account = _get_account(request)
    return _account_page(request, _account_values(account), FormErrors(), account)


@view_config(route_name="admin.account_edit", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_form.html", request_method="POST")
def account_update(request):
    account = _get_account(request)
    service = _account_admin(request)
    if request.POST.get("action") == "delete":
        if account.id == request.account.id:
            request.response.status = 400
            return _account_page(request, _account_values(account), FormErrors(
                _form=_("自分自身は削除できません。")), account)
        result = service.delete(account)
        if result.deleted:
            return HTTPSeeOther(request.route_url("admin.accounts", _query={"done": "deleted"}))
        return _account_page(request, _account_values(account, "0"), FormErrors(), account, message=result.reason)
    form = _validate_account_form(request, account)
    errors = form.errors
    if form.ok:
        errors = service.update(account, form.values)
    if errors:
        request.response.status = 400
        return _account_page(request, request.POST, errors, account)
    return HTTPSeeOther(request.route_url("admin.accounts", _query={"done": "updated"}))


@view_config(route_name="admin.account_reset", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_reset.html", request_method="GET")
def account_reset_form(request):
    return {"account": _get_account(request)}


@view_config(route_name="admin.account_reset", permission=Permission.ADMIN_ACCOUNTS,
             renderer="admin/account_password.html", request_method="POST")
def account_reset(request):
    account = _get_account(request)
    password = _account_admin(request).reset_password(account)
    AuthEventLog(request.db, request.clock).record(
        AuthEventType.PASSWORD_RESET, login=account.login, account_id=account.id, actor_id=request.account.id,
        client_address=request.client_address, user_agent=request.user_agent)
    return {"account": account, "password": password, "created": False}
