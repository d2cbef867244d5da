"""GET /metrics (webapp.metrics, O-MON): only the monitoring host, never through a
load balancer, and nothing personal in what it says."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from webtest import TestApp

from tests.conftest import login
from webapp.alerts.models import AlertStatus
from webapp.jobs.models import JobRun
from webapp.mail.models import MailStatus, OutboxMessage

MONITOR = "192.0.2.51"
BALANCER = "192.0.2.11"
BASE_ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "localhost",
                "HTTP_ORIGIN": "https://localhost"}


@pytest.fixture
def metrics_wsgi_app(settings, clock):
    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings({**settings, "mimamori.metrics_cidrs": f"{MONITOR}/32",
                                       "mimamori.trusted_proxies": BALANCER}, environ={}))
    config.registry["clock"] = clock
    return config.make_wsgi_app()


@pytest.fixture
def client(metrics_wsgi_app, db):
    def _client(address: str, **headers) -> TestApp:
        db.commit()
        return TestApp(metrics_wsgi_app, extra_environ={**BASE_ENVIRON, "REMOTE_ADDR": address,
                                                        **headers})
    return _client


def scrape(client) -> str:
    response = client(MONITOR).get("/metrics")
    assert response.content_type == "text/plain"
    return response.text


def value(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in the exposition"
    return float(match.group(1))


def test_monitoring_host_reads_metrics(client):
    text = scrape(client)
    assert "# TYPE mimamori_http_requests_total counter" in text
    assert value(text, "mimamori_metrics_database_up") == 1


@pytest.mark.parametrize("address", ["192.0.2.10", "127.0.0.1", "198.51.100.7"])
def test_other_addresses_get_not_found(client, address):
    response = client(address).get("/metrics", status=404)
    assert "mimamori_" not in response.text


def test_not_served_through_a_load_balancer_even_for_the_monitoring_host(client):
    # The balancer relays the monitoring host's address: still refused, so the
    # virtual IP never serves metrics whatever X-Forwarded-For says.
    client(BALANCER, HTTP_X_FORWARDED_FOR=MONITOR).get("/metrics", status=404)
    client(BALANCER).get("/metrics", status=404)


def test_a_forged_forwarded_for_does_not_help(client):
    client("192.0.2.10", HTTP_X_FORWARDED_FOR=MONITOR).get("/metrics", status=404)


def test_requests_count_by_route_name_never_by_path(client, make):
    child = make.child()
    before = scrape(client)
    series = 'mimamori_http_requests_total{method="GET",route="healthz",status="200"}'
    count = value(before, series) if series in before else 0
    client("192.0.2.10").get("/healthz")
    client("192.0.2.10").get(f"/children/{child.id}/nowhere-{child.id}", status=404)
    text = scrape(client)
    assert value(text, series) == count + 1
    assert 'route="none"' in text
    assert f"/children/{child.id}" not in text and f"nowhere-{child.id}" not in text
    assert 'mimamori_http_request_duration_seconds_bucket{le="0.025",route="healthz"}' in text


def test_login_failures_counted_by_reason_without_the_login(client, make):
    account = make.account("facility", login="sato-hanako-login")
    text = scrape(client)
    series = 'mimamori_login_failures_total{reason="wrong_password"}'
    before = value(text, series) if series in text else 0
    browser = client("192.0.2.10")
    form = browser.get("/login").forms[0]
    form["login"], form["password"] = account.login, "not the password"
    form.submit(status="*")
    text = scrape(client)
    assert value(text, series) == before + 1
    assert "sato-hanako" not in text


def test_database_gauges_and_no_personal_data(client, make, db, clock):
    now = clock.now().astimezone(dt.UTC)
    centre = make.centre(name="三軒茶屋センター")
    late = make.facility(centre=centre, name="桜小学校")
    on_time = make.facility(centre=centre, name="楓小学校")
    named = make.child(facility=late, family_name="鈴木", given_name="一郎")
    done = make.child(facility=on_time, family_name="高橋", given_name="花子")
    # October 2026's reports were due on 10 November; it is 26 November.
    make.report(done, dt.date(2026, 10, 1))
    make.alert(named)
    make.alert(named, status=AlertStatus.ACKNOWLEDGED, streak_id=dt.date(2026, 11, 2))
    make.alert(named, status=AlertStatus.RESOLVED, streak_id=dt.date(2026, 10, 5))
    for n, (status, age) in enumerate([(MailStatus.PENDING, 7200), (MailStatus.PENDING, 60),
                                       (MailStatus.FAILED, 9000), (MailStatus.SENT, 100)]):
        db.add(OutboxMessage(template="t", recipient=f"suzuki{n}@example.jp", subject="鈴木 一郎",
                             body="本文", message_id=f"<m{n}@test>", status=status,
                             created_at=now - dt.timedelta(seconds=age)))
    db.add(JobRun(name="mail", last_success_at=now - dt.timedelta(minutes=5)))
    db.add(JobRun(name="never_succeeded"))
    db.flush()

    text = scrape(client)
    assert value(text, 'mimamori_alerts_open{status="open"}') == 1
    assert value(text, 'mimamori_alerts_open{status="acknowledged"}') == 1
    assert 'status="resolved"' not in text.split("mimamori_alerts_open")[-1].split("# HELP")[0]
    assert value(text, "mimamori_reports_overdue_facilities") == 1
    assert value(text, 'mimamori_mail_outbox_messages{status="pending"}') == 2
    assert value(text, 'mimamori_mail_outbox_messages{status="failed"}') == 1
    assert value(text, 'mimamori_mail_outbox_messages{status="sent"}') == 1
    assert value(text, "mimamori_mail_outbox_oldest_pending_age_seconds") == 7200
    assert value(text, 'mimamori_job_last_success_timestamp_seconds{task="mail"}') \
        == (now - dt.timedelta(minutes=5)).timestamp()
    assert "never_succeeded" not in text
    for personal in ["鈴木", "一郎", "高橋", "花子", "桜小学校", "楓小学校", "三軒茶屋", "suzuki",
                     "example.jp", named.given_name_kana]:
        assert personal not in text, personal
