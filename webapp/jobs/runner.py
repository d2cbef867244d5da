"""Runs the periodic jobs once, on exactly one node at a time (``mimamori jobs run``).

A systemd timer starts the runner on every app node; the first to take the
lock does the work and the others exit at once. The lock is a PostgreSQL
session advisory lock (released by the server if the runner dies), or on
SQLite — one machine only — an flock on a file beside the database file.
Jobs must be idempotent: each is only ever "do what is due now".
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
from collections.abc import Callable

import sqlalchemy as sa

from webapp.jobs.models import JobRun

log = logging.getLogger(__name__)

# Any constant, distinct from the audit chain's lock; the same on every node.
JOBS_LOCK = 0x6A6F6273  # "jobs"


class JobError(Exception):
    """A job that ran but did not succeed (its message is recorded and printed)."""


@dataclasses.dataclass(frozen=True)
class JobContext:
    engine: sa.Engine
    settings: dict
    clock: object


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[JobContext], str]  # returns a one-line summary; raises JobError on failure


@dataclasses.dataclass(frozen=True)
class JobResult:
    name: str
    ok: bool
    message: str


@dataclasses.dataclass
class RunReport:
    lock_held_elsewhere: bool = False
    results: list[JobResult] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


class RunLock:
    """Non-blocking, whole-run lock. ``acquire()`` is False when another runner has it."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self._connection = None
        self._file = None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            got = connection.execute(sa.select(sa.func.pg_try_advisory_lock(JOBS_LOCK))).scalar()
            # A session-level lock outlives the transaction; do not sit "idle in transaction".
            connection.commit()
            if not got:
                connection.close()
                return False
            self._connection = connection
            return True
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True  # a private in-memory database has no other runner
        handle = open(f"{database}.jobs-lock", "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(sa.select(sa.func.pg_advisory_unlock(JOBS_LOCK)))
            self._connection.commit()
            self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


_runs = JobRun.__table__


class JobRunner:
    def __init__(self, engine: sa.Engine, settings: dict, clock, jobs: list[Job]):
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.context = JobContext(engine, settings, clock)
        self.jobs = jobs

    def run(self, only: list[str] | None = None) -> RunReport:
        jobs = self.jobs if only is None else [job for job in self.jobs if job.name in only]
        unknown = set(only or ()) - {job.name for job in self.jobs}
        if unknown:
            raise ValueError(f"unknown job(s): {', '.join(sorted(unknown))}")
        lock = RunLock(self.context.engine)
        if not lock.acquire():
            log.info("jobs: another runner holds the lock; nothing to do here (pid %d)", os.getpid())
            return RunReport(lock_held_elsewhere=True)
        report = RunReport()
        try:
            for job in jobs:
                report.results.append(self._run_one(job))
        finally:
            lock.release()
        return report

    def _run_one(self, job: Job) -> JobResult:
        engine, clock = self.context.engine, self.context.clock
        with engine.begin() as connection:
            self._record_start(connection, job.name, clock.now())
        try:
            message, ok = job.run(self.context), True
        except JobError as exc:
            message, ok = str(exc), False
        except Exception as exc:  # one broken job must not stop the others or go unrecorded
            log.exception("job %s crashed", job.name)
            message, ok = f"{type(exc).__name__}: {exc}", False
        now = clock.now()
        values = {"last_finished_at": now, "last_outcome": "succeeded" if ok else "failed",
                  "last_message": message[:1000], "updated_at": now}
        if ok:
            values["last_success_at"] = now
        else:
            values["failure_count"] = _runs.c.failure_count + 1
        with engine.begin() as connection:
            connection.execute(sa.update(_runs).where(_runs.c.name == job.name).values(**values))
        return JobResult(job.name, ok, message)

    @staticmethod
    def _record_start(connection, name, now) -> None:
        # Only one runner gets here at a time (the lock), so select-then-insert is safe.
        exists = connection.execute(sa.select(_runs.c.id).where(_runs.c.name == name)).first()
        if exists is None:
            connection.execute(sa.insert(_runs).values(name=name, created_at=now, run_count=0, failure_count=0,
                                                       updated_at=now))
        connection.execute(
            sa.update(_runs).where(_runs.c.name == name).values(
                last_started_at=now, last_outcome="running", run_count=_runs.c.run_count + 1, updated_at=now
            )
        )


def job_status(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        return connection.execute(sa.select(_runs).order_by(_runs.c.name)).all()
