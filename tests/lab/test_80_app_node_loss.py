"""Destructive: app1 stops while requests keep coming; HAProxy's retries and
health checks keep every request answered (O-REDUNDANT)."""

import time

import pytest

import labkit


@pytest.mark.req("O-REDUNDANT")
def test_stopping_app1_fails_no_request(acme_ca):
    with labkit.RequestLoop(acme_ca) as loop:
        time.sleep(3)
        labkit.lab("stop", "app1")
        assert labkit.wait_for(lambda: labkit.haproxy_servers(labkit.vip_holder())["app1"] == "DOWN",
                               timeout=20)
        time.sleep(3)
    assert loop.result.ok > 20
    print(loop.result.summary(), *loop.result.client_timeouts, sep="\n  ")
    assert loop.result.failed == 0, loop.result.errors


@pytest.mark.req("O-REDUNDANT")
def test_app1_rejoins_when_it_comes_back():
    labkit.lab("start", "app1")
    assert labkit.wait_for(lambda: labkit.haproxy_servers(labkit.vip_holder())["app1"] == "UP",
                           timeout=60)
