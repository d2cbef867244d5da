"""Login throttling (S-AUTH): a growing wait per address, the lockout per
account, and failure messages that never tell whether an ID exists."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import PASSWORD
from tests.functional.test_security import attempt, events
from webapp.accounts.services import PasswordService
from webapp.accounts.throttle import AddressThrottle

pytestmark = pytest.mark.req("S-AUTH")

OFFICE = "203.0.113.66"  # a facility's one global address, shared by its staff


def messages(response) -> tuple[str, str]:
    """The error and the advice under it, as shown."""
    error = re.search(r'role="alert">([^<]*)<', response.text)
    advice = re.search(r'id="lockout-advice">([^<]*)<', response.text)
    return (error.group(1) if error else "", advice.group(1) if advice else "")


def test_one_person_mistyping_thirty_times_does_not_stop_a_colleague(app, make, db):
    clumsy, colleague = make.account("facility"), make.account("facility")
    for _ in range(30):
        assert attempt(app, clumsy.login, "wrong-password-1", REMOTE_ADDR=OFFICE).status_int == 400
    # Their own account is locked (the per-account lockout stays) ...
    db.refresh(clumsy)
    assert clumsy.locked_until is not None
    assert "throttled" not in {e.reason for e in events(db, login=clumsy.login)}
    # ... but the address is not: the colleague at the next desk logs in at once.
    assert attempt(app, colleague.login, PASSWORD, REMOTE_ADDR=OFFICE).status_int == 303


def test_a_spray_across_many_ids_from_one_address_gets_growing_waits(app, make, db, clock):
    colleague = make.account("facility")
    for n in range(10):
        assert attempt(app, f"guess{n}", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 400
    waits = []
    for n in range(10, 14):
        refused = attempt(app, f"guess{n}", "Spring2026!", REMOTE_ADDR=OFFICE)
        assert refused.status_int == 429
        seconds = int(refused.headers["Retry-After"])
        assert f"{seconds}秒待ってから" in refused.text
        waits.append(seconds)
        # Inside the wait even the right password is not tried (and no sleeping: answered at once).
        assert attempt(app, colleague.login, PASSWORD, REMOTE_ADDR=OFFICE).status_int == 429
        clock.set(clock.now() + dt.timedelta(seconds=seconds))
        assert attempt(app, f"guess{n}", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 400
    assert waits == [2, 4, 8, 16]
    assert events(db, login="guess10")[0].reason == "throttled"
    # Another address is not slowed down, and after the wait a correct login works.
    assert attempt(app, colleague.login, PASSWORD, REMOTE_ADDR="203.0.113.67").status_int == 303
    clock.set(clock.now() + dt.timedelta(seconds=32))
    app.reset()
    assert attempt(app, colleague.login, PASSWORD, REMOTE_ADDR=OFFICE).status_int == 303


def test_waiting_attempts_do_not_make_the_wait_longer(app, db, clock):
    for n in range(10):
        attempt(app, f"guess{n}", "Spring2026!", REMOTE_ADDR=OFFICE)
    for n in range(20):
        assert attempt(app, f"other{n}", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 429
    clock.set(clock.now() + dt.timedelta(seconds=2))
    assert attempt(app, "guess10", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 400
    assert attempt(app, "guess11", "Spring2026!", REMOTE_ADDR=OFFICE).headers["Retry-After"] == "4"


def test_the_wait_grows_to_a_cap_and_the_window_forgets():
    throttle = AddressThrottle(logins=10, base_delay=dt.timedelta(seconds=2), max_delay=dt.timedelta(minutes=5))
    assert throttle.delay_after(9) is None
    assert [throttle.delay_after(n).total_seconds() for n in (10, 11, 12, 17, 18, 1000)] == \
        [2, 4, 8, 256, 300, 300]


def test_old_failures_leave_the_window(app, clock):
    for n in range(10):
        attempt(app, f"guess{n}", "Spring2026!", REMOTE_ADDR=OFFICE)
    assert attempt(app, "guess10", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 429
    clock.set(clock.now() + dt.timedelta(minutes=61))
    assert attempt(app, "guess10", "Spring2026!", REMOTE_ADDR=OFFICE).status_int == 400


def test_unknown_and_known_ids_give_identical_messages_and_one_password_check(app, make, monkeypatch):
    known = make.account("facility")
    locked = make.account("facility")
    checks = []
    real_verify = PasswordService.verify
    monkeypatch.setattr(PasswordService, "verify",
                        lambda self, hashed, password: checks.append(1) or real_verify(self, hashed, password))
    for _ in range(5):
        attempt(app, locked.login, "wrong-password-1")
    checks.clear()
    pages = {}
    for name, login, password in (("unknown", "nobody-here", "wrong-password-1"),
                                  ("wrong password", known.login, "wrong-password-1"),
                                  ("locked, right password", locked.login, PASSWORD),
                                  ("locked, wrong password", locked.login, "wrong-password-1")):
        pages[name] = attempt(app, login, password)
    assert {page.status_int for page in pages.values()} == {400}
    assert len({messages(page) for page in pages.values()}) == 1
    assert len(checks) == len(pages)  # exactly one argon2 check each, whether the ID exists or not
    error, advice = messages(pages["locked, right password"])
    assert error == "ログインIDまたはパスワードが正しくありません。"
    # What a locked-out user should do: wait, or ask for the lock to be lifted.
    assert "15分待ってから" in advice and "区の管理者" in advice and "施設の管理者" in advice
