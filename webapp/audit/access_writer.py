"""Where access-log rows go: written at once, or in batches by one background thread.

Every request writes an access-log row. Committing each in its own
transaction on the request's thread costs a round trip and a disk flush per
request (measured by benchmarks/bench_audit_overhead.py); a single writer
thread that commits up to ``max_batch`` rows at a time, at most ``max_delay``
seconds after they arrive, costs the request almost nothing.

What can be lost: rows still queued when the process is killed hard (SIGKILL,
power loss) — at most ``max_delay`` seconds' worth. The same requests are on
standard output as JSON lines already (journald, then the central log host),
so the access trail itself is not lost. A normal stop (SIGTERM) flushes the
queue. When the queue is full the request writes its row itself: slower,
never dropped.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading

import sqlalchemy as sa

from webapp.audit.events import write_deferred
from webapp.audit.models import AccessLogEntry

log = logging.getLogger(__name__)


def write_batch(session_factory, items: list[tuple[dict | None, dict]]) -> None:
    """One transaction for many requests' rows and deferred auth events."""
    session = session_factory()
    try:
        rows = [entry for entry, _environ in items if entry is not None]
        if rows:
            session.execute(sa.insert(AccessLogEntry), rows)
        for _entry, deferred in items:
            write_deferred(session, deferred)
        session.commit()
    except Exception:
        session.rollback()
        # The JSON lines on stdout still carry these requests.
        log.exception("%d access log item(s) not stored", len(items))
    finally:
        session.close()


class SyncWriter:
    """Writes each request's row before the response leaves (tests, one-off scripts)."""

    def __init__(self, session_factory):
        self.session_factory = session_factory

    def submit(self, entry: dict | None, deferred: dict) -> None:
        write_batch(self.session_factory, [(entry, deferred)])

    def flush(self) -> None:
        pass


class BatchedWriter:
    def __init__(self, session_factory, max_batch: int = 200, max_delay: float = 0.2, capacity: int = 10000):
        self.session_factory = session_factory
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.queue: queue.Queue = queue.Queue(maxsize=capacity)
        self.thread = threading.Thread(target=self._run, name="access-log-writer", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def submit(self, entry: dict | None, deferred: dict) -> None:
        try:
            self.queue.put_nowait((entry, deferred))
        except queue.Full:
            write_batch(self.session_factory, [(entry, deferred)])

    def flush(self) -> None:
        """Wait until everything submitted so far is committed."""
        self.queue.join()

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            try:
                while len(batch) < self.max_batch:
                    try:
                        batch.append(self.queue.get(timeout=self.max_delay))
                    except queue.Empty:
                        break
                write_batch(self.session_factory, batch)
            finally:
                for _ in batch:
                    self.queue.task_done()


def make_writer(settings, session_factory):
    if settings.get("mimamori.access_log_writer", "batched") == "sync":
        return SyncWriter(session_factory)
    return BatchedWriter(session_factory)
