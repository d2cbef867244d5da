"""The fixed mail templates admit no personal data; addresses and mail settings are checked (F-NOTIFY)."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest

from webapp.mail.services import MailSettings, MailSettingsError, RecipientError, check_address
from webapp.mail.templates import FOOTER, TEMPLATES, MailTemplateError, render
from webapp.mail.transport import Failure, classify
from webapp.settings import DEFAULTS

URL = "https://mimamori.example.jp"


@pytest.mark.req("F-NOTIFY")
def test_urgent_report_mail_says_only_that_there_is_something_to_see():
    subject, body = render("urgent_report", {"path": "/urgent/17"}, URL)
    assert subject == "【見守り】新しい緊急連絡があります"
    assert body == "新しい緊急連絡があります。ログインして確認してください。\n\nhttps://mimamori.example.jp/urgent/17" + FOOTER


@pytest.mark.req("F-NOTIFY")
def test_counts_and_choices_become_fixed_text():
    subject, body = render("report_reminder", {"stage": "overdue", "count": 3, "path": "/reports"}, URL + "/")
    assert subject == "【見守り】月次報告のお知らせ"
    assert body.startswith("月次報告の提出期限を過ぎています。未提出の報告が3件あります。")
    assert "https://mimamori.example.jp/reports\n" in body


@pytest.mark.req("F-NOTIFY")
@pytest.mark.parametrize("path", [
    "/children/山田太郎", "/children?name=yamada", "/a/../b", "https://evil.example/", "/x#frag", "reports",
    "/𠮷", "/😀", "/a b", "/a\r\nBcc: x@example.jp", "", "/" + "a" * 200, 17, None,
])
def test_free_text_cannot_travel_in_a_path(path):
    with pytest.raises(MailTemplateError):
        render("urgent_report", {"path": path}, URL)


@pytest.mark.req("F-NOTIFY")
@pytest.mark.parametrize("count", ["3", "山田", -1, 1_000_001, True, 2.5, None])
def test_counts_must_be_whole_numbers(count):
    with pytest.raises(MailTemplateError):
        render("alerts", {"count": count, "path": "/alerts"}, URL)


@pytest.mark.req("F-NOTIFY")
@pytest.mark.parametrize("template, params", [
    ("no_such_template", {}),
    ("urgent_report", {}),  # missing
    ("urgent_report", {"path": "/u", "child_name": "山田太郎"}),  # not a parameter of it
    ("test", {"note": "自由記述"}),
    ("report_reminder", {"stage": "本日は山田さんの", "count": 1, "path": "/r"}),
])
def test_only_declared_parameters_of_known_templates(template, params):
    with pytest.raises(MailTemplateError):
        render(template, params, URL)


@pytest.mark.req("F-NOTIFY")
def test_every_template_renders_to_its_own_text_plus_numbers_and_the_url():
    """Whatever the parameters, the only variable parts of a mail are digits and the app URL."""
    samples = {"path": "/p", "count": 123456, "stage": "before"}
    for key, template in TEMPLATES.items():
        params = {name: samples[name] for name in template.params}
        subject, body = render(key, params, URL)
        assert subject == template.subject
        stripped = body.replace(URL + "/p", "").replace("123456", "")
        for text in ("", *getattr(template.params.get("stage"), "texts", {}).values()):
            stripped = stripped.replace(text, "")
        fixed = template.body.replace("{url}", "").replace("{count}", "").replace("{stage}", "") + FOOTER
        assert stripped == fixed, key


@pytest.mark.parametrize("address", [
    "a@example.jp\r\nBcc: b@example.jp", "やまだ@example.jp", "a@例え.jp", "no-at-sign", "a@b@c", "a @b.jp",
    "a@-bad.jp", "x" * 250 + "@b.jp", "", None,
])
def test_recipient_addresses_are_refused_when_unusable(address):
    with pytest.raises(RecipientError):
        check_address(address)


def test_plain_addresses_pass():
    assert check_address("kodomo.center+1@city.setagaya.example.jp") == "kodomo.center+1@city.setagaya.example.jp"


def settings(**overrides):
    values = dict(DEFAULTS)
    values.update({f"mimamori.{k}": v for k, v in overrides.items()})
    return values


@pytest.mark.parametrize("key, value", [
    ("mail", "sendmail"), ("smtp_port", "0"), ("smtp_port", "abc"), ("smtp_port", "70000"),
    ("mail_from", "見守り"), ("public_url", "javascript:alert(1)"), ("public_url", "https://x/?q=1"),
    ("mail_max_attempts", "0"), ("smtp_timeout_seconds", "-5"),
])
def test_bad_mail_settings_stop_the_start(key, value):
    with pytest.raises(MailSettingsError):
        MailSettings.from_settings(settings(**{key: value}))


def test_retry_delay_doubles_up_to_the_cap():
    mail = MailSettings.from_settings(settings(mail_retry_base_seconds="60", mail_retry_max_seconds="3600"))
    delays = [mail.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert mail.retry_delay(1000) == dt.timedelta(hours=1)


def test_defaults_parse_and_send_by_smtp():
    mail = MailSettings.from_settings(settings())
    assert (mail.mode, mail.smtp_host, mail.smtp_port, mail.max_attempts) == ("smtp", "localhost", 25, 12)
    assert mail.transport().name == "smtp"
    assert MailSettings.from_settings(settings(mail="null")).transport().name == "null"


@pytest.mark.parametrize("exc, expected", [
    (ConnectionRefusedError(111, "refused"), Failure.UNREACHABLE),
    (TimeoutError("timed out"), Failure.UNREACHABLE),
    (smtplib.SMTPServerDisconnected("gone"), Failure.UNREACHABLE),
    (smtplib.SMTPAuthenticationError(535, b"bad credentials"), Failure.UNREACHABLE),
    (smtplib.SMTPSenderRefused(550, b"not our sender", "noreply@x"), Failure.UNREACHABLE),
    (smtplib.SMTPRecipientsRefused({"a@x.jp": (550, b"no such user")}), Failure.PERMANENT),
    (smtplib.SMTPRecipientsRefused({"a@x.jp": (450, b"mailbox busy")}), Failure.RETRY),
    (smtplib.SMTPDataError(554, b"rejected"), Failure.PERMANENT),
    (smtplib.SMTPDataError(451, b"try later"), Failure.RETRY),
])
def test_failures_are_classified_by_whose_problem_they_are(exc, expected):
    assert classify(exc) is expected


def test_programming_errors_are_told_apart_from_mail_failures():
    assert classify(KeyError("bug")) is Failure.UNEXPECTED
