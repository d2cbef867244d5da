"""The alerting drill (issue 9, O-MON): stop the app on app1 and the on-call
mailbox gets the alert through a real SMTP server (the lab sink on mon1,
roles/monitoring/lab_sink.py); start it again and the resolution follows.
Prints detection-to-notification times: the contract allows one hour to the
first response, the aim here is under three minutes.

Destructive (stops a service): numbered >= 50 so it runs with the drills."""

import json
import time

import pytest

from labkit import on, wait_for

req = pytest.mark.req

LIMIT = 180  # seconds from the failure to the email


def mail_since(since: float) -> list[dict]:
    lines = on("mon1", "cat /var/lib/mimamori-lab-sink/mail.jsonl 2>/dev/null || true")
    return [m for m in map(json.loads, lines.splitlines()) if m["received"] >= since]


def webhooks_since(since: float, path: str) -> list[dict]:
    lines = on("mon1", "cat /var/lib/mimamori-lab-sink/webhook.jsonl 2>/dev/null || true")
    return [w for w in map(json.loads, lines.splitlines())
            if w["received"] >= since and w["path"] == path]


def app_health(instance: str) -> str:
    out = on("mon1", "curl -sf 'http://127.0.0.1:9090/api/v1/query?query="
                     f"probe_success%7Bjob%3D%22app_health%22,instance%3D%22{instance}%22%7D'")
    result = json.loads(out)["data"]["result"]
    return result[0]["value"][1] if result else ""


def notice(subject_words: tuple[str, ...], since: float):
    def find():
        for m in mail_since(since):
            if all(w in m["subject"] for w in subject_words):
                return m
        return None
    return find


@req("O-MON")
def test_watchdog_reaches_the_dead_mans_switch():
    # Repeated every minute in the lab: one must arrive within two.
    start = time.time() - 5
    hook = wait_for(lambda: webhooks_since(start - 60, "/deadman"), timeout=120, interval=3)
    assert hook, "no Watchdog notification on the dead man's webhook"
    alerts = hook[-1]["payload"]["alerts"]
    assert [a["labels"]["alertname"] for a in alerts] == ["Watchdog"]


@req("O-MON")
def test_stopped_app_node_is_mailed_and_its_recovery_too():
    assert wait_for(lambda: app_health("app1") == "1", timeout=60, interval=2), \
        "app1 is not seen healthy before the drill"
    stopped = time.time()
    on("app1", "systemctl stop mimamori.service")
    try:
        fired = wait_for(notice(("FIRING", "AppNodeDown", "app1"), stopped), timeout=LIMIT,
                         interval=2)
        assert fired, f"no alert email within {LIMIT} s of stopping app1"
        detection = fired["received"] - stopped
        print(f"\napp1 stopped -> alert email after {detection:.0f} s")
        assert fired["to"] == ["oncall@mimamori.lab"]
        # The webhook receiver got the same alert.
        hooks = webhooks_since(stopped, "/oncall")
        assert any(a["labels"]["alertname"] == "AppNodeDown" and a["status"] == "firing"
                   for h in hooks for a in h["payload"]["alerts"])
    finally:
        started = time.time()
        on("app1", "systemctl start mimamori.service")
    resolved = wait_for(notice(("RESOLVED", "AppNodeDown", "app1"), started), timeout=LIMIT,
                        interval=2)
    assert resolved, f"no resolution email within {LIMIT} s of starting app1"
    print(f"app1 started -> resolved email after {resolved['received'] - started:.0f} s")
    assert detection < LIMIT
