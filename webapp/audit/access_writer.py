"""Where access-log rows and view records go: written at once, or in batches by one background thread.

Every request writes an access-log row, and a page about children its view
records (webapp/audit/view_records.py). Committing each request's in its own
transaction on the request's thread costs a round trip and a disk flush per
request (measured by benchmarks/bench_audit_overhead.py), and for view
records a turn on the audit chain's lock; a single writer thread that
commits up to ``max_batch`` requests' rows at a time, at most ``max_delay``
seconds after the oldest of them arrived, costs the request almost nothing.

What can be lost: what is still queued when the process is killed hard
(SIGKILL, power loss, OOM killer) — the last ``max_delay`` seconds plus one
commit (runbooks/security-logs.md has the measured window). The same requests are
on standard output as JSON lines already (journald, then the central log
host), with the children a page showed, so neither the access trail nor "who
saw which child" is lost with them. A normal stop (SIGTERM: see
webapp.cli's serve) lets waitress finish its requests and then flushes the
queue. When the queue is full the request writes its rows itself: slower,
never dropped. A batch that fails (database switchover, SQLite lock held past
the busy timeout) is tried again a few times before it is given up and logged.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time

import sqlalchemy as sa

from webapp.audit.events import write_deferred
from webapp.audit.models import AccessLogEntry
from webapp.audit.recorder import append_entries
from webapp.audit.view_records import VIEW_RECORDS_KEY

log = logging.getLogger(__name__)

# Queued by flush(): write what has been collected without waiting for max_delay.
_FLUSH = object()


def write_batch(session_factory, items: list[tuple[dict | None, dict]], attempts: int = 1,
                pause: float = 0.5) -> bool:
    """One transaction for many requests' rows, deferred auth events and view records.

    View records go to the chain in the order the requests were submitted.
    """
    for attempt in range(1, attempts + 1):
        session = session_factory()
        try:
            rows = [entry for entry, _extras in items if entry is not None]
            if rows:
                session.execute(sa.insert(AccessLogEntry), rows)
            for _entry, extras in items:
                write_deferred(session, extras)
            append_entries(session.connection(), [view for _entry, extras in items
                                                  for view in extras.get(VIEW_RECORDS_KEY, ())])
            session.commit()
            return True
        except Exception:
            session.rollback()
            if attempt == attempts:
                # The JSON lines on stdout still carry these requests.
                log.exception("%d access log item(s) not stored", len(items))
                return False
            log.warning("storing %d access log item(s) failed, trying again", len(items), exc_info=True)
        finally:
            session.close()
        time.sleep(pause * attempt)
    return False


class SyncWriter:
    """Writes each request's row before the response leaves (tests, one-off scripts)."""

    def __init__(self, session_factory):
        self.session_factory = session_factory

    def submit(self, entry: dict | None, extras: dict) -> None:
        write_batch(self.session_factory, [(entry, extras)])

    def flush(self) -> None:
        pass


class BatchedWriter:
    # Tries of a failing batch (pauses 0.5, 1 and 1.5 s between them): longer
    # than a database switchover, which the lab measured at 1.5 s.
    ATTEMPTS = 4

    def __init__(self, session_factory, max_batch: int = 200, max_delay: float = 0.2, capacity: int = 10000):
        self.session_factory = session_factory
        self.max_batch = max_batch
        self.max_delay = max_delay
        # Submit-to-commit seconds of the oldest item of the slowest batch so
        # far: what a hard kill could have lost at worst (for measurements).
        self.worst_lag = 0.0
        self.queue: queue.Queue = queue.Queue(maxsize=capacity)
        self.thread = threading.Thread(target=self._run, name="access-log-writer", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def submit(self, entry: dict | None, extras: dict) -> None:
        try:
            self.queue.put_nowait((time.monotonic(), entry, extras))
        except queue.Full:
            write_batch(self.session_factory, [(entry, extras)], attempts=self.ATTEMPTS)

    def _written(self, oldest_waited: float) -> None:
        self.worst_lag = max(self.worst_lag, oldest_waited)

    def flush(self) -> None:
        """Write everything submitted so far now, and wait until it is committed."""
        self.queue.put(_FLUSH)
        self.queue.join()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            taken, batch = 1, []
            try:
                if item is _FLUSH:
                    continue
                batch.append(item)
                # At most max_delay after the oldest item, however fast others
                # arrive: that bounds how long any item waits uncommitted.
                deadline = item[0] + self.max_delay
                while len(batch) < self.max_batch:
                    try:
                        item = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        break
                    taken += 1
                    if item is _FLUSH:
                        break
                    batch.append(item)
                write_batch(self.session_factory, [(entry, extras) for _t, entry, extras in batch],
                            attempts=self.ATTEMPTS)
                self._written(time.monotonic() - batch[0][0])
            finally:
                for _ in range(taken):
                    self.queue.task_done()


def make_writer(settings, session_factory):
    if settings.get("mimamori.access_log_writer", "batched") == "sync":
        return SyncWriter(session_factory)
    return BatchedWriter(session_factory, max_delay=float(settings.get("mimamori.access_log_max_delay", 0.2)))
