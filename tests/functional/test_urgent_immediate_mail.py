"""The urgent report's email leaves right after the commit, not at the next job run (F-URGENT, F-NOTIFY).

Runs the real application on a scratch database it owns (the other tests
inject a session bound to a rolled-back transaction, where no second
connection could see the report).
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from tests.conftest import login
from tests.factories import Factory
from webapp import migrate
from webapp.db import create_engine
from webapp.mail.models import MailStatus, OutboxMessage
from webapp.urgent.notify import after_commit_hook


@pytest.fixture
def real_app(scratch_url, settings, clock):
    from webapp.config import configure
    from webapp.settings import build_settings

    migrate.upgrade(scratch_url)
    own = {k: v for k, v in settings.items() if k != "mimamori.db_session_factory"}
    own.update({"sqlalchemy.url": scratch_url, "mimamori.mail": "null"})
    config = configure(build_settings(own, environ={}))
    config.registry["clock"] = clock
    engine = create_engine(scratch_url)
    yield TestApp(config.make_wsgi_app(), extra_environ={
        "wsgi.url_scheme": "https", "HTTP_HOST": "localhost", "HTTP_ORIGIN": "https://localhost",
        "REMOTE_ADDR": "192.0.2.10"}), sessionmaker(bind=engine)
    config.registry["db.engine"].dispose()
    engine.dispose()


def wait_for(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def file_as_facility(app, sessions, *, caseworker_email=None, facility_email=None):
    """A committed centre, facility, child and two accounts; the facility files a report (web)."""
    with sessions.begin() as session:
        make = Factory(session)
        centre = make.centre()
        facility = make.facility(centre=centre)
        child = make.child(facility=facility)
        caseworker = make.account("caseworker", centre=centre, email=caseworker_email)
        staff = make.account("facility", facility=facility, email=facility_email)
        session.expunge_all()
    login(app, staff)
    form = app.get("/urgent/new").forms["urgent-form"]
    form["child"], form["category"], form["description"] = str(child.id), "not_seen", "3日間姿が見えない。"
    return form.submit(status=303).location, caseworker


def statuses(sessions, template):
    with sessions() as session:
        return session.scalars(sa.select(OutboxMessage.status).where(OutboxMessage.template == template)).all()


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_the_centres_email_is_sent_right_after_the_report_is_committed(real_app):
    app, sessions = real_app
    file_as_facility(app, sessions, caseworker_email="cw@city.example.jp")
    # No job run in between: the after-commit delivery did it.
    assert wait_for(lambda: statuses(sessions, "urgent_report") == [MailStatus.SENT])


@pytest.mark.req("F-URGENT", "F-NOTIFY")
def test_the_facilitys_email_about_an_answer_is_sent_right_after_the_commit(real_app):
    app, sessions = real_app
    location, caseworker = file_as_facility(app, sessions, facility_email="school@city.example.jp")
    login(app, caseworker)
    page = app.get(location).forms["acknowledge-form"].submit().follow()
    form = page.forms["respond-form"]
    form["response"], form["shared"] = "家庭訪問します。", True
    form.submit(status=303)
    assert wait_for(lambda: statuses(sessions, "urgent_answered") == [MailStatus.SENT])


def test_nothing_is_sent_when_the_transaction_did_not_commit():
    started = []
    after_commit_hook(False, engine=None, mail_settings=None, clock=None, start=started.append)
    assert started == []
    after_commit_hook(True, engine=None, mail_settings=None, clock=None, start=started.append)
    assert len(started) == 1
