"""A facility account logs in through the VIP over verified TLS and submits a
monthly report (F-MONTHLY through the whole deployed stack: HAProxy, both app
nodes with a shared session secret, PostgreSQL over internal TLS).

The browser walk itself is reportflow.submit_a_report, which also runs against
a local demo server at any date (try_report_locally.py)."""

import pytest

import reportflow
from labkit import BASE, on


def demo_logins() -> str:
    return on("app1", "cat /var/lib/mimamori/demo-logins.txt")


@pytest.mark.req("F-MONTHLY", "S-TLS")
def test_facility_logs_in_and_submits_a_monthly_report(acme_ca):
    log_in_and_submit_a_report(acme_ca)


def log_in_and_submit_a_report(acme_ca: str) -> None:
    """The whole write path through the VIP; the database drills call it too,
    to prove the app writes again after a failover without a restart. Only the
    lab's ACME root may vouch for the site."""
    done = reportflow.submit_a_report(BASE, demo_logins(), verify=acme_ca)
    print(f"submitted the {done.period} report of {done.child}")
