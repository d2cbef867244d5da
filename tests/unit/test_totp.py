"""TOTP and HOTP against the RFCs' own test vectors, and the service's rules without a web request."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from webapp.accounts.second_factor import (
    PendingEnrolment,
    SecondFactorService,
    decode_secret,
    hotp,
    new_recovery_code,
    new_secret,
    normalise_code,
    provisioning_uri,
    qr_data_uri,
    recovery_hash,
    required_roles,
    time_step,
    totp,
)
from webapp.authz import Role
from webapp.settings import SettingsError

# RFC 4226 appendix D and RFC 6238 appendix B use this ASCII key for SHA-1.
RFC_KEY = b"12345678901234567890"
RFC_SECRET = base64.b32encode(RFC_KEY).decode()

# RFC 6238 appendix B, the SHA-1 column (8 digits).
RFC6238_SHA1 = [
    (59, "1970-01-01 00:00:59", 0x1, "94287082"),
    (1111111109, "2005-03-18 01:58:29", 0x23523EC, "07081804"),
    (1111111111, "2005-03-18 01:58:31", 0x23523ED, "14050471"),
    (1234567890, "2009-02-13 23:31:30", 0x273EF07, "89005924"),
    (2000000000, "2033-05-18 03:33:20", 0x3F940AA, "69279037"),
    (20000000000, "2603-10-11 11:33:20", 0x27BC86AA, "65353130"),
]

# RFC 4226 appendix D: HOTP values for counters 0..9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


@pytest.mark.req("S-AUTH")
@pytest.mark.parametrize(("unix_time", "utc", "step", "expected"), RFC6238_SHA1)
def test_totp_matches_rfc_6238_appendix_b(unix_time, utc, step, expected):
    moment = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert moment.timestamp() == unix_time  # the table's two time columns agree
    assert time_step(moment) == step
    assert totp(RFC_SECRET, moment, digits=8) == expected
    # Six digits (what apps show) are the same number modulo 10^6.
    assert totp(RFC_SECRET, unix_time) == expected[-6:]


@pytest.mark.req("S-AUTH")
def test_hotp_matches_rfc_4226_appendix_d():
    assert [hotp(RFC_KEY, counter) for counter in range(10)] == RFC4226


def test_secrets_are_160_bit_base32_and_decode_in_any_spacing_or_case():
    secret = new_secret()
    assert len(decode_secret(secret)) == 20
    assert secret != new_secret()
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)).lower()
    assert decode_secret(spaced) == decode_secret(secret)


def test_codes_typed_with_a_japanese_ime_are_understood():
    assert normalise_code("１２３ ４５６") == "123456"
    assert normalise_code(" 123-456\u3000") == "123456"
    assert recovery_hash("ABCD-EFGH-JKMN") == recovery_hash("abcdefghjkmn")


def test_recovery_codes_are_random_and_readable():
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == 14 and code[4] == code[9] == "-"
        assert not set(code) & set("01ilo")


def test_provisioning_uri_and_qr_code():
    uri = provisioning_uri("JBSWY3DPEHPK3PXP", "sato.ichiro")
    assert uri.startswith("otpauth://totp/Mimamori%3Asato.ichiro?")
    assert "secret=JBSWY3DPEHPK3PXP" in uri and "issuer=Mimamori" in uri and "period=30" in uri
    data = qr_data_uri(uri)
    assert data.startswith("data:image/svg+xml")
    # No script and no style attribute: the strict CSP needs neither.
    assert "script" not in data and "style" not in data


def test_required_roles_setting():
    assert required_roles("admin caseworker") == {Role.ADMIN, Role.CASEWORKER}
    assert required_roles("admin, facility") == {Role.ADMIN, Role.FACILITY}
    assert required_roles("") == frozenset()
    with pytest.raises(SettingsError, match="nobody"):
        required_roles("admin nobody")


class _Clock:
    def __init__(self, now):
        self.current = now

    def now(self):
        return self.current


class _Sessions:
    """Stands in for SessionService: the service only starts and ends sessions."""

    def __init__(self):
        self.ended = []

    def end(self, session):
        self.ended.append(session)

    def start(self, account):
        return "new-token"

    def end_all_for(self, account):
        self.ended.append(("all", account))


class _Policy:
    lockout_threshold = 5
    lockout_duration = dt.timedelta(minutes=15)


class _Account:
    id = 7
    login = "cw"
    role = Role.CASEWORKER
    totp_secret = None
    totp_enrolled_at = None
    totp_last_step = None
    recovery_codes = None
    failed_logins = 0
    locked_until = None


class _Pending:
    def __init__(self, account):
        self.account = account


class _Db:
    def __init__(self):
        self.added = []

    def add(self, obj):
        self.added.append(obj)


NOW = dt.datetime(2026, 11, 26, 1, 0, 10, tzinfo=dt.UTC)


@pytest.fixture
def service():
    return SecondFactorService(_Db(), _Clock(NOW), _Sessions(), _Policy(), "k" * 40,
                               frozenset({Role.ADMIN, Role.CASEWORKER}))


def _enrolled(service):
    """An account enrolled two minutes before NOW (so its last used step is well in the past)."""
    account = _Account()
    service.clock.current = NOW - dt.timedelta(minutes=2)
    enrolment = service.begin_enrolment(account)
    codes = service.confirm_enrolment(account, enrolment, totp(enrolment.secret, service.clock.current))
    service.clock.current = NOW
    assert codes is not None
    return account, enrolment.secret, codes


@pytest.mark.req("S-AUTH")
def test_enrolment_token_is_bound_to_the_account_signed_and_expires(service):
    account = _Account()
    enrolment = service.begin_enrolment(account)
    assert service.pending_enrolment(account, enrolment.token) == enrolment
    other = _Account()
    other.id = 8
    assert service.pending_enrolment(other, enrolment.token) is None
    forged_secret = new_secret()
    forged = forged_secret + enrolment.token[len(enrolment.secret):]
    assert service.pending_enrolment(account, forged) is None
    for junk in ("", "a.b.c", "x" * 500, None, "𠮷.1.2"):
        assert service.pending_enrolment(account, junk) is None
    service.clock.current = NOW + dt.timedelta(minutes=16)
    assert service.pending_enrolment(account, enrolment.token) is None


@pytest.mark.req("S-AUTH")
def test_enrolment_needs_a_right_code_and_stores_only_hashes(service):
    account = _Account()
    assert service.needs_enrolment(account)
    enrolment = service.begin_enrolment(account)
    assert service.confirm_enrolment(account, enrolment, "000000" if totp(enrolment.secret, NOW) != "000000"
                                     else "111111") is None
    assert account.totp_secret is None and not service.is_enrolled(account)
    codes = service.confirm_enrolment(account, enrolment, totp(enrolment.secret, NOW))
    assert len(codes) == 10 and len(set(codes)) == 10
    assert service.is_enrolled(account) and not service.needs_enrolment(account)
    assert account.totp_last_step == time_step(NOW)
    for code in codes:
        assert code not in account.recovery_codes
    assert service.recovery_codes_left(account) == 10
    # A second enrolment over an existing one is refused.
    assert service.confirm_enrolment(account, service.begin_enrolment(account), "123456") is None


@pytest.mark.req("S-AUTH")
def test_one_step_either_side_is_accepted_and_no_step_twice(service):
    account, secret, _codes = _enrolled(service)
    step = dt.timedelta(seconds=30)
    assert service.verify(_Pending(account), totp(secret, NOW - step)).outcome.value == "ok"
    # The same code again (same step) is a replay.
    assert service.verify(_Pending(account), totp(secret, NOW - step)).outcome.value == "wrong"
    assert service.verify(_Pending(account), totp(secret, NOW + step)).outcome.value == "ok"
    # Now even the current step is older than the last one used.
    assert service.verify(_Pending(account), totp(secret, NOW)).outcome.value == "wrong"
    assert service.verify(_Pending(account), totp(secret, NOW + 2 * step)).outcome.value == "wrong"


@pytest.mark.req("S-AUTH")
def test_codes_two_steps_away_are_refused(service):
    account, secret, _codes = _enrolled(service)
    for offset in (-2, 2, 10):
        assert service.verify(_Pending(account), totp(secret, NOW + offset * dt.timedelta(seconds=30))).outcome.value \
            == "wrong"


@pytest.mark.req("S-AUTH")
def test_recovery_code_works_once_and_wrong_codes_lock(service):
    account, _secret, codes = _enrolled(service)
    result = service.verify(_Pending(account), codes[3].upper())
    assert result.outcome.value == "ok" and result.used_recovery_code and result.token == "new-token"
    assert service.recovery_codes_left(account) == 9
    assert service.verify(_Pending(account), codes[3]).outcome.value == "wrong"
    for _ in range(3):
        assert service.verify(_Pending(account), "nonsense").outcome.value == "wrong"
    assert service.verify(_Pending(account), "𠮷" * 100).outcome.value == "locked"
    assert account.locked_until == NOW + dt.timedelta(minutes=15)
    # Locked: even a right code is refused.
    assert service.verify(_Pending(account), codes[0]).outcome.value == "locked"
    assert service.recovery_codes_left(account) == 9


def test_reset_removes_everything_and_ends_sessions(service):
    account, _secret, _codes = _enrolled(service)
    admin = _Account()
    admin.id = 1
    service.reset(account, by=admin)
    assert (account.totp_secret, account.totp_enrolled_at, account.recovery_codes, account.totp_last_step) == (
        None, None, None, None)
    assert ("all", account) in service.sessions.ended
    assert service.db.added[-1].event == "second_factor_reset" and service.db.added[-1].actor_id == 1


def test_pending_enrolment_equality_helper():
    assert PendingEnrolment("A", "t").uri("x").startswith("otpauth://")
