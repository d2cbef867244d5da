"""Where notifications go: an optional, validated email address on accounts, set on the admin
form or by CSV import (F-ADMIN, F-NOTIFY)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.functional.test_import import problems, upload
from webapp.accounts.admin_forms import clean_email
from webapp.accounts.models import Account
from webapp.authz import Role


@pytest.fixture
def admin(make, login_as):
    account = make.account(Role.ADMIN)
    login_as(account)
    return account


def _errors(response) -> dict[str, str]:
    return {e["id"].removesuffix("-error"): e.get_text() for e in response.html.select(".field-error")}


@pytest.mark.req("F-ADMIN", "F-NOTIFY")
def test_the_admin_sets_changes_and_clears_an_accounts_email(app, db, make, admin):
    centre = make.centre()
    db.commit()
    form = app.get("/admin/accounts/new").forms["account-form"]
    form["login"], form["display_name"], form["role"] = "tanaka", "田中 花子", "caseworker"
    form["centre_id"], form["email"] = str(centre.id), " ｔａｎａｋａ@centre.example.jp "
    assert form.submit().status_int in (200, 303)
    account = db.scalar(sa.select(Account).where(Account.login == "tanaka"))
    assert account.email == "tanaka@centre.example.jp"  # full-width typed, normalised

    form = app.get(f"/admin/accounts/{account.id}").forms["account-form"]
    assert form["email"].value == "tanaka@centre.example.jp"
    form["email"] = ""
    form.submit(status=303)
    db.expire_all()
    assert db.get(Account, account.id).email is None


@pytest.mark.req("F-ADMIN")
@pytest.mark.parametrize("email, message", [
    ("tanaka", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。"),
    ("田中@example.jp", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。"),
    ("a b@example.jp", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。"),
    ("😀@example.jp", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。"),
    ("x@example.jp\r\nBcc: evil@example.jp", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。"),
    ("a" * 250 + "@example.jp", "254文字以内で入力してください（現在261文字）。"),
])
def test_a_bad_email_is_an_error_beside_the_field_with_the_input_kept(app, db, make, admin, email, message):
    target = make.account(Role.FACILITY)
    db.commit()
    form = app.get(f"/admin/accounts/{target.id}").forms["account-form"]
    form["email"] = email

    response = form.submit(status=400)

    assert _errors(response)["email"] == message
    if "\n" not in email:  # an input cannot hold a line break; everything else comes back as typed
        assert response.forms["account-form"]["email"].value == email
    db.expire_all()
    assert db.get(Account, target.id).email is None


def test_clean_email_accepts_blank_as_none():
    assert clean_email("") == (None, None) and clean_email(None) == (None, None)
    assert clean_email("ok@example.jp") == ("ok@example.jp", None)


@pytest.mark.req("F-ADMIN")
def test_the_csv_import_sets_emails_and_a_file_without_the_column_keeps_them(app, db, make, admin):
    facility = make.facility(code="F01")
    keeper = make.account(Role.FACILITY, facility=facility, login="keeper", email="keep@school.example.jp")
    db.commit()
    data = ("ログインID,氏名,役割,所属センターコード,所属施設コード,状態,メールアドレス\n"
            "new.staff,新人 職員,施設職員,,F01,有効,new@school.example.jp\n")
    upload(app, "accounts", data.encode(), "apply", 200)
    db.expire_all()
    assert db.scalar(sa.select(Account.email).where(Account.login == "new.staff")) == "new@school.example.jp"

    without = ("ログインID,氏名,役割,所属センターコード,所属施設コード,状態\n"
               f"keeper,{keeper.display_name},施設職員,,F01,有効\n")
    upload(app, "accounts", without.encode(), "apply", 200)
    db.expire_all()
    assert db.get(Account, keeper.id).email == "keep@school.example.jp"

    bad = ("ログインID,氏名,役割,所属センターコード,所属施設コード,状態,メールアドレス\n"
           "bad.mail,誤り,施設職員,,F01,有効,誤り@example\n")
    response = upload(app, "accounts", bad.encode(), "apply", 400)
    assert ("2", "メールアドレス", "メールアドレスは name@example.jp の形式で、半角英数字で入力してください。") \
        in problems(response)
