"""The access log (S-ACCESSLOG): every request, as a database row and a JSON line on stdout.

The row is written outside the request's transaction, so requests whose own
transaction failed are logged too — by a batching background writer in
production (see access_writer.py for what that trades). The JSON line goes to
standard output, where systemd's journal and rsyslog pick it up for the
central log host (O-LOGKEEP). Health checks from the load balancers (every
few seconds, from every balancer) go to stdout only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
import uuid

from webapp.audit.access_writer import make_writer
from webapp.audit.view_records import VIEW_RECORDS_KEY, view_records_of
from webapp.clock import JST
from webapp.sqlite_reads import retry_as_writer

log = logging.getLogger("mimamori.access")

NOT_IN_DATABASE = frozenset({"healthz"})
# Route parameters that identify objects; recorded as object ids.
OBJECT_KEYS = ("child_id", "report_id", "facility_id", "centre_id", "account_id", "number", "period",
               "urgent_id")


def actor_fields(request) -> dict:
    """Who is asking, as captured when the request was authenticated."""
    return request.environ.get("mimamori.actor") or {}


def build_entry(request, status: int, started: dt.datetime, duration_ms: int) -> dict:
    actor = actor_fields(request)
    route = request.matched_route.name if request.matched_route else None
    ids = {k: v for k, v in (request.matchdict or {}).items() if k in OBJECT_KEYS}
    return {
        "occurred_at": started,
        "request_id": request.environ["mimamori.request_id"],
        "account_id": actor.get("account_id"),
        "login": actor.get("login"),
        "role": actor.get("role"),
        "organisation": actor.get("organisation"),
        "client_address": request.client_address,
        "method": request.method[:10],
        "route": route,
        "path": request.path[:500],
        "object_ids": json.dumps(ids, ensure_ascii=False, sort_keys=True)[:200] if ids else None,
        "status": status,
        "duration_ms": duration_ms,
    }


def json_line(entry: dict, viewed_child_ids=()) -> str:
    record = dict(entry, type="access", occurred_at_jst=entry["occurred_at"].astimezone(JST).isoformat())
    record["occurred_at"] = entry["occurred_at"].isoformat()
    if viewed_child_ids:
        # "Who saw which child" on the way to the central log host before the
        # response leaves, so a hard kill before the batched chain write loses
        # nothing an auditor needs.
        record["viewed_child_ids"] = list(viewed_child_ids)
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def access_log_tween_factory(handler, registry):
    writer = make_writer(registry.settings, registry["db.session_factory"])
    registry["access_log.writer"] = writer
    # Off only for the overhead benchmark; refusals are still recorded.
    enabled = registry.settings.get("mimamori.access_log", "true") != "false"

    def tween(request):
        request.environ["mimamori.request_id"] = uuid.uuid4().hex
        started = registry["clock"].now()
        t0 = time.perf_counter()
        status = 500
        error = None
        try:
            response = handler(request)
            status = response.status_code
            return response
        except BaseException as exc:
            error = exc
            raise
        finally:
            if not retry_as_writer(request, error):  # a discarded first attempt leaves no trace
                failed = error is not None or getattr(request, "exception", None) is not None
                # Kept only when the page was shown, as when they were written in its transaction.
                views = [] if failed else view_records_of(request)
                stored = None
                if enabled:
                    entry = build_entry(request, status, started, int((time.perf_counter() - t0) * 1000))
                    log.info(json_line(entry, sorted({v["child_id"] for v in views if v["child_id"] is not None})))
                    stored = entry if entry["route"] not in NOT_IN_DATABASE else None
                deferred = request.environ.get("mimamori.deferred_auth_events")
                if stored is not None or deferred or views:
                    writer.submit(stored, {"mimamori.deferred_auth_events": deferred or [], VIEW_RECORDS_KEY: views})

    return tween


def configure_stdout_logger() -> None:
    """One JSON object per line on stdout, whatever the ini file's logging says."""
    if not any(getattr(h, "_mimamori_access", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._mimamori_access = True
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
