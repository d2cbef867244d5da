"""``mimamori jobs run``: one runner at a time, idempotent, each job's last run and success
recorded (issue 7 item 5). Real commits, so each test has its own ``scratch_url`` database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from tests.conftest import DEFAULT_NOW
from tests.functional.test_mail_delivery import SmtpServer, free_port, mail_settings_for, text_of
from webapp import migrate
from webapp.clock import FixedClock
from webapp.db import create_engine
from webapp.jobs import registry
from webapp.jobs.models import JobRun
from webapp.jobs.runner import Job, JobError, JobRunner, RunLock
from webapp.mail.models import OutboxMessage
from webapp.mail.services import MailOutbox, MailSettings


@pytest.fixture
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def setup(scratch_url):
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    yield scratch_url, engine
    engine.dispose()


def enqueue(engine, settings, clock, count=1):
    with sessionmaker(bind=engine).begin() as session:
        outbox = MailOutbox(session, MailSettings.from_settings(settings), clock)
        for n in range(count):
            outbox.enqueue("centre@city.example.jp", "urgent_report", path=f"/urgent/{n}")


def job_rows(engine) -> dict[str, JobRun]:
    with sessionmaker(bind=engine)() as session:
        return {row.name: row for row in session.scalars(sa.select(JobRun))}


def statuses(engine) -> list[str]:
    with engine.connect() as connection:
        return [row.status for row in connection.execute(sa.select(OutboxMessage.__table__).order_by("id"))]


def mail_result(report):
    (result,) = [r for r in report.results if r.name == "mail.deliver"]
    return result


def test_the_registry_names_the_mail_job():
    # Mail goes after every job that queues mail, so it goes out in the same run;
    # the checkpoint (which queues none) last, so it signs what the others recorded.
    assert [job.name for job in registry()] == ["alerts.sweep", "reports.remind", "mail.deliver", "audit.checkpoint"]


@pytest.mark.req("F-NOTIFY")
def test_a_run_delivers_the_outbox_and_records_it_and_a_second_run_sends_nothing(setup, smtp):
    url, engine = setup
    settings = mail_settings_for(url, smtp.port)
    clock = FixedClock(DEFAULT_NOW)
    enqueue(engine, settings, clock, count=3)

    report = JobRunner(engine, settings, clock, registry()).run()

    assert report.ok and not report.lock_held_elsewhere
    assert [(r.name, r.message) for r in report.results if r.name == "mail.deliver"] == [
        ("mail.deliver", "sent 3, retrying 0, failed 0")]
    row = job_rows(engine)["mail.deliver"]
    assert (row.last_outcome, row.run_count, row.failure_count) == ("succeeded", 1, 0)
    assert row.last_started_at == row.last_finished_at == row.last_success_at == DEFAULT_NOW

    clock.set(DEFAULT_NOW + dt.timedelta(minutes=5))
    report = JobRunner(engine, settings, clock, registry()).run()
    assert mail_result(report).message == "sent 0, retrying 0, failed 0"
    assert len(smtp.received) == 3
    row = job_rows(engine)["mail.deliver"]
    assert row.run_count == 2 and row.last_success_at == DEFAULT_NOW + dt.timedelta(minutes=5)


@pytest.mark.req("F-NOTIFY")
def test_smtp_down_is_a_failed_run_that_keeps_the_last_success_and_loses_nothing(setup):
    url, engine = setup
    port = free_port()
    settings = mail_settings_for(url, port)
    clock = FixedClock(DEFAULT_NOW)
    JobRunner(engine, settings, clock, registry()).run()  # an empty outbox: a success
    enqueue(engine, settings, clock)
    clock.set(DEFAULT_NOW + dt.timedelta(minutes=5))

    report = JobRunner(engine, settings, clock, registry()).run()

    assert not report.ok
    assert "mail server unreachable" in mail_result(report).message
    row = job_rows(engine)["mail.deliver"]
    assert (row.last_outcome, row.failure_count, row.last_success_at) == ("failed", 1, DEFAULT_NOW)
    assert statuses(engine) == ["pending"]

    server = SmtpServer(port).start()
    try:
        clock.set(DEFAULT_NOW + dt.timedelta(minutes=10))
        assert JobRunner(engine, settings, clock, registry()).run().ok
    finally:
        server.stop()
    assert len(server.received) == 1 and statuses(engine) == ["sent"]
    assert "新しい緊急連絡があります。" in text_of(server.received[0])


def test_a_failing_or_crashing_job_is_recorded_and_does_not_stop_the_others(setup):
    url, engine = setup
    settings = mail_settings_for(url, free_port(), **{"mimamori.mail": "null"})
    clock = FixedClock(DEFAULT_NOW)
    ran = []

    def fails(_context):
        raise JobError("3 reminders could not be computed")

    def crashes(_context):
        raise ZeroDivisionError("division by zero")

    def works(context):
        ran.append(context.clock.now())
        return "fine"

    jobs = [Job("a.fails", "", fails), Job("b.crashes", "", crashes), Job("c.works", "", works)]
    report = JobRunner(engine, settings, clock, jobs).run()

    assert [(r.name, r.ok, r.message) for r in report.results] == [
        ("a.fails", False, "3 reminders could not be computed"),
        ("b.crashes", False, "ZeroDivisionError: division by zero"),
        ("c.works", True, "fine"),
    ]
    assert not report.ok and ran == [DEFAULT_NOW]
    rows = job_rows(engine)
    assert rows["a.fails"].last_success_at is None and rows["a.fails"].last_outcome == "failed"
    assert rows["c.works"].last_success_at == DEFAULT_NOW
    # --only runs the named jobs; unknown names are refused rather than ignored.
    assert [r.name for r in JobRunner(engine, settings, clock, jobs).run(only=["c.works"]).results] == ["c.works"]
    with pytest.raises(ValueError):
        JobRunner(engine, settings, clock, jobs).run(only=["no.such"])


@pytest.mark.req("F-NOTIFY")
def test_two_runners_at_once_one_works_the_other_exits_saying_the_lock_is_held(setup, smtp):
    url, engine = setup
    settings = mail_settings_for(url, smtp.port)
    clock = FixedClock(DEFAULT_NOW)
    enqueue(engine, settings, clock, count=5)
    inside, release = threading.Event(), threading.Event()

    def slow_first_job(_context):
        inside.set()
        assert release.wait(30), "the test never let the first runner finish"
        return "held the lock"

    jobs = [Job("test.slow", "", slow_first_job), *registry()]
    first_report = {}
    first = threading.Thread(target=lambda: first_report.update(report=JobRunner(engine, settings, clock, jobs).run()))
    first.start()
    try:
        assert inside.wait(30)
        second_engine = create_engine(url)  # as another node would: its own connections
        try:
            second = JobRunner(second_engine, settings, clock, registry()).run()
        finally:
            second_engine.dispose()
        assert second.lock_held_elsewhere and second.results == []
        assert len(smtp.received) == 0
    finally:
        release.set()
        first.join(30)
    assert first_report["report"].ok
    assert len(smtp.received) == 5 and len(set(m["Message-ID"] for m in smtp.received)) == 5
    assert job_rows(engine)["mail.deliver"].run_count == 1
    # The lock went with the first runner: the next run takes it.
    assert not JobRunner(engine, settings, clock, registry()).run().lock_held_elsewhere


def test_the_lock_is_exclusive_and_released(setup):
    _url, engine = setup
    first, second = RunLock(engine), RunLock(engine)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_a_postgresql_lock_dies_with_its_runner(setup):
    """If a runner is killed, the server frees its advisory lock (its connection is gone)."""
    url, engine = setup
    if engine.dialect.name != "postgresql":
        # SQLite's flock is released by the kernel when the process's file is closed.
        lock = RunLock(engine)
        assert lock.acquire()
        lock._file.close()  # what the kernel does when the process dies
        lock._file = None
        assert RunLock(engine).acquire()
        return
    lock = RunLock(engine)
    assert lock.acquire()
    lock._connection.invalidate()  # drop the connection without unlocking, as a crash would
    lock._connection = None
    other = create_engine(url)
    try:
        relock = RunLock(other)
        assert relock.acquire()
        relock.release()
    finally:
        other.dispose()
