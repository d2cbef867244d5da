from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from webapp.accounts.forms import password_problem
from webapp.accounts.services import AuthenticationService, PasswordService
from webapp.authz import Permission
from webapp.forms import FormErrors
from webapp.i18n import _


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
    problem = password_problem(new, account.login)
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
    return HTTPSeeOther(request.route_url("home", _query={"done": "password"}))
