"""Prometheus metrics for the monitoring host (issue 9, O-MON): ``GET /metrics``.

What is exported, and nothing else (no names, logins, addresses, ids or paths):

- ``mimamori_http_requests_total{route, method, status}`` and
  ``mimamori_http_request_duration_seconds{route}``: per route *name* (never the
  path, which can carry a child's or a report's id); unmatched URLs count as
  ``route="none"``.
- ``mimamori_login_failures_total{reason}``: failed logins by reason.
- Gauges read from the database when scraped, one cheap aggregate query each
  (the same on every app node: alert rules take ``max``): unresolved alerts by
  status, facilities with missing reports past the deadline, the mail outbox by
  status and the age of its oldest waiting message, and each periodic job's last
  success.

Access: only addresses in ``mimamori.metrics_cidrs`` (the monitoring host),
judged on the address the app trusts (webapp.netaddr), and never through the
load balancers: a request relayed by a trusted proxy is refused whatever it
claims to come from. Anyone else gets a plain 404, as if there were nothing.
HAProxy refuses /metrics on the virtual IP too (roles/lb), and the firewall
admits only the load balancers and the monitoring host to the app's port.
"""

from __future__ import annotations

import time

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.tweens import EXCVIEW

from webapp.metrics import collectors
from webapp.netaddr import in_networks, parse_networks
from webapp.sqlite_reads import retry_as_writer

DEFAULT_CIDRS = "127.0.0.1/32 ::1/128"


def request_metrics_tween_factory(handler, registry):
    def tween(request):
        started = time.perf_counter()
        status = 500
        try:
            response = handler(request)
            status = response.status_int
            return response
        finally:
            matched = getattr(request, "matched_route", None)
            route = matched.name if matched is not None else "none"
            if not retry_as_writer(request):  # a discarded first attempt: the retry is counted
                collectors.observe_request(route, request.method, status, time.perf_counter() - started)

    return tween


def includeme(config):
    settings = config.get_settings()
    config.registry["metrics.networks"] = parse_networks(
        settings.get("mimamori.metrics_cidrs", DEFAULT_CIDRS))
    collectors.watch_login_failures()
    # Above the exception view: a request that ends in an error page counts
    # with the status the client got.
    config.add_tween("webapp.metrics.request_metrics_tween_factory", over=EXCVIEW)
    config.add_route("metrics", "/metrics")
    config.add_view("webapp.metrics.views.metrics_view", route_name="metrics",
                    permission=NO_PERMISSION_REQUIRED, request_method="GET")


def allowed(request) -> bool:
    if in_networks(request.remote_addr, request.registry["net.trusted_proxies"]):
        return False
    return in_networks(request.client_address, request.registry["metrics.networks"])
