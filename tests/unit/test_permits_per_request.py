"""A request's permission decisions are remembered for that request only, and decided afresh
when what they depend on changes (issue 19 item 4)."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from webapp.authz import Permission, Role
from webapp.security import MimamoriSecurityPolicy

pytestmark = pytest.mark.req("S-AUTH")


class SecondFactorNeverNeeded:
    def needs_enrolment(self, account):
        return False


class FakeRequest:
    from_admin_network = False

    def __init__(self, session, path="/help/index"):
        self._mimamori_identity = session
        self.path = path
        self.lookups = 0

    def find_service(self, _kind):
        self.lookups += 1
        return SecondFactorNeverNeeded()


class Session:
    """A login session with its account (hashable by identity, as the ORM's are)."""

    def __init__(self, role, must_change_password):
        self.account = types.SimpleNamespace(role=role, must_change_password=must_change_password,
                                             totp_secret=None, totp_enrolled_at=None)


def session_of(role=Role.CASEWORKER, must_change_password=False):
    return Session(role, must_change_password)


POLICY = MimamoriSecurityPolicy(secure_cookies=False, absolute=dt.timedelta(hours=8))


def test_a_permission_asked_again_is_decided_once():
    request = FakeRequest(session_of())
    answers = [POLICY.permits(request, None, Permission.ALERTS_VIEW) for _ in range(5)]
    assert all(answers) and request.lookups == 1


def test_a_change_within_the_request_is_decided_afresh():
    session = session_of()
    request = FakeRequest(session)
    assert POLICY.permits(request, None, Permission.ALERTS_VIEW)
    session.account.must_change_password = True
    assert not POLICY.permits(request, None, Permission.ALERTS_VIEW)
    session.account.must_change_password = False
    session.account.role = Role.AUDITOR
    assert not POLICY.permits(request, None, Permission.ALERTS_VIEW)


def test_nothing_is_kept_from_one_request_to_the_next():
    session = session_of()
    assert POLICY.permits(FakeRequest(session), None, Permission.ALERTS_VIEW)
    session.account.role = Role.AUDITOR
    assert not POLICY.permits(FakeRequest(session), None, Permission.ALERTS_VIEW)
