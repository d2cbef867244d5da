"""View records of a request ("who saw which child", S-AUDIT), written after it, in batches.

Showing a personal page only reads, but its view records extend the hash
chain, whose head is one lock for the whole service (SQLite's write lock; on
PostgreSQL the chain's advisory lock, shared by every app node). Written in
the page's own transaction they made every page view a writer: the daily
attendance page wrote 35 records and held that lock until its template was
rendered, and concurrent readers queued behind each other.

So a request only collects its records here (each with the time it was
shown and who saw it). The access-log tween, outside the request's
transaction, hands them with the request's access-log row to the access-log
writer (access_writer.py), which appends many requests' records to the chain
in one short transaction of its own. They are kept only if the request ended
without an exception, as before, when they were rolled back with it.
"""

from __future__ import annotations

from webapp.audit.recorder import actor_for_request, actor_values, view_entry
from webapp.db import utcnow

VIEW_RECORDS_KEY = "mimamori.view_records"


def record_views(request, entity: str, entity_id, child_ids) -> None:
    """One view record per child shown, all by this request's actor at this moment."""
    if not child_ids:
        return
    who = actor_values(actor_for_request(request))
    now = utcnow()
    request.environ.setdefault(VIEW_RECORDS_KEY, []).extend(
        {"occurred_at": now, **who, **view_entry(entity, entity_id, child_id)} for child_id in child_ids
    )


def view_records_of(request) -> list[dict]:
    return request.environ.get(VIEW_RECORDS_KEY) or []
