"""Destructive, last: lb1 (holding the VIP) stops; keepalived moves the VIP to
lb2 and HTTPS keeps answering (O-REDUNDANT)."""

import time

import pytest

import labkit
from labkit import BASE


@pytest.mark.req("O-REDUNDANT")
def test_stopping_lb1_moves_the_vip_and_https_keeps_answering(acme_ca):
    assert labkit.has_vip("lb1") and not labkit.has_vip("lb2")
    with labkit.RequestLoop(acme_ca, timeout=1.5) as loop:
        time.sleep(3)
        labkit.lab("stop", "lb1")
        assert labkit.wait_for(lambda: labkit.has_vip("lb2"), timeout=15)
        time.sleep(5)
    assert labkit.get(f"{BASE}/healthz", verify=acme_ca, timeout=10).status_code == 200
    # Requests after the move succeed: the failures, if any, are one short window.
    assert loop.result.ok > 20
    assert loop.result.unavailable_seconds < 5, (loop.result.unavailable_seconds,
                                                  loop.result.errors)
    print(f"lb loss: {loop.result.failed} failed requests, "
          f"{loop.result.unavailable_seconds:.1f} s unavailable")
