"""The load balancers' HAProxy configuration as provisioning renders it (roles/lb)."""

import pathlib
import re

import jinja2
import pytest

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "provisioning/roles/lb/templates/haproxy.cfg.j2"

pytestmark = pytest.mark.req("O-REDUNDANT")


def rendered(threads: int) -> str:
    return jinja2.Template(TEMPLATE.read_text()).render(
        site_name="www.example.jp", app_servers=[("app1", "10.0.0.21"), ("app2", "10.0.0.22")],
        app_port=6543, app_threads=threads, acme_port=8402, lb_peers=[("lb2", "10.0.0.12")])


def backend(config: str, name: str) -> str:
    return re.search(rf"^backend {name}\n(.*?)(?=^\S|\Z)", config, re.S | re.M).group(1)


def test_a_busy_node_gets_no_more_requests_than_its_threads_and_the_rest_wait_in_order():
    app = backend(rendered(threads=8), "app")
    assert re.search(r"^\s+default-server .*\bmaxconn 8\b", app, re.M)
    assert re.search(r"^\s+server app1 10\.0\.0\.21:6543$", app, re.M)
    # Queued requests wait for a free thread rather than get 503 after timeout connect.
    assert re.search(r"^\s+timeout queue 30s$", app, re.M)


def test_the_health_check_outlasts_a_busy_moment():
    # Left unset, the check's timeout is `inter` (1 s): a node answering
    # slowly under load was marked down, and with both down everyone got 503.
    app = backend(rendered(threads=8), "app")
    check = re.search(r"^\s+timeout check (\d+)s$", app, re.M)
    inter = re.search(r"\binter (\d+)s\b", app)
    assert check and inter and int(check.group(1)) > int(inter.group(1))
