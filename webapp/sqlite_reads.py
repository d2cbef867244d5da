"""Embedded SQLite: pages that only read never take the write lock.

SQLite in WAL mode lets any number of readers run beside one writer, but a
transaction that has started reading cannot always become a writer: when
another connection holds the write lock, or committed since this
transaction's snapshot was taken, the first write fails at once with
SQLITE_BUSY / SQLITE_BUSY_SNAPSHOT ("database is locked"). SQLite does not
call the busy handler there (waiting could deadlock), so busy_timeout does
not help. That is why every transaction used to begin IMMEDIATE, holding the
write lock for the whole request, reads and template included: 16 concurrent
users queued on it and some waited past the busy timeout (503).

Now the HTTP method decides:

- unsafe methods (POST and the rest) begin IMMEDIATE, as before: they write,
  and waiting their turn up front is what makes them never fail at the upgrade;
- safe methods (GET, HEAD, OPTIONS) begin DEFERRED, a plain read transaction
  that neither takes nor waits for the write lock. Their audit view records do
  not write in the request either (webapp.audit.view_records).

A few GETs still write now and then (the session's last-seen time once a
minute, an expired session's end). If such a write finds the lock taken, the
whole GET is run once more from the start, beginning IMMEDIATE: a GET is safe
to repeat, its first attempt was rolled back whole, and the second attempt
cannot fail at the upgrade (it waits for the lock like a POST). The first
attempt leaves no trace: no access-log row or line, no metrics count.

PostgreSQL is untouched by all of this (no read engine, default execution
policy): its transactions never hold a database-wide lock.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.router import default_execution_policy

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The Connection execution option read by webapp.db's BEGIN listener.
BEGIN_OPTION = "mimamori_sqlite_begin"
# environ keys: this attempt's transaction began DEFERRED / this is the retry.
DEFERRED_KEY = "mimamori.sqlite_deferred"
RETRY_KEY = "mimamori.sqlite_write_retry"
# sqlite3's result code, without the extended part (BUSY_SNAPSHOT is 517 = 5 | 2 << 8).
SQLITE_BUSY = 5


def read_engine(engine: sa.Engine) -> sa.Engine:
    """The same engine and pool, whose transactions begin DEFERRED."""
    return engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})


def begins_deferred(request) -> bool:
    return request.method in SAFE_METHODS and not request.environ.get(RETRY_KEY)


def _busy(error) -> bool:
    code = getattr(getattr(error, "orig", None), "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY


def retry_as_writer(request, error: BaseException | None = None) -> bool:
    """Did this attempt fail only because its read transaction could not start writing?

    ``error`` is what propagated, if anything; otherwise the exception an
    exception view rendered (``request.exception``).
    """
    if not request.environ.get(DEFERRED_KEY):
        return False
    if error is None:
        error = getattr(request, "exception", None)
    return isinstance(error, sa.exc.OperationalError) and _busy(error)


def execution_policy(environ, router):
    """Pyramid's default policy, plus the one retry of a safe request described above."""
    if environ.get("REQUEST_METHOD") not in SAFE_METHODS:
        return default_execution_policy(environ, router)
    # The first attempt adds keys to environ (request id, actor, parsed
    # cookies, ...); the second starts from what the server handed over.
    pristine = dict(environ)
    with router.request_context(environ) as request:
        try:
            response = router.invoke_request(request)
        except Exception as error:
            if not retry_as_writer(request, error):
                raise
        else:
            if not retry_as_writer(request):
                return response
    environ.clear()
    environ.update(pristine)
    environ[RETRY_KEY] = True
    return default_execution_policy(environ, router)
