"""Send an urgent report's email right after its transaction commits, not at the next job run.

Both ways: the centre's email about a new report, and the facility's about the centre's answer.

The outbox alone would deliver it at the next ``mimamori jobs run`` (a
systemd timer on every app node, planned every two minutes). For an urgent
report those minutes can matter, so after a successful commit the request starts one
delivery pass in a background thread: the response is not held up by the
mail server, and if the server is down the message simply stays pending for
the job to retry. Both paths lock the row, so nothing is sent twice.

Only when the application owns its engine (``db.engine``): the tests inject
a session factory bound to a rolled-back transaction, where a second
connection would see nothing and, on SQLite, wait for the test's lock.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def deliver_now(engine, mail_settings, clock, transport=None):
    """One delivery pass over due outbox messages; never raises (the job retries anything left)."""
    from webapp.mail.services import OutboxDelivery

    try:
        result = OutboxDelivery(engine, mail_settings, clock, transport).deliver_due()
        log.info("immediate mail delivery (urgent report or answer): %s", result.summary())
        return result
    except Exception:  # noqa: BLE001 — a failure here must never reach the user; the job retries
        log.exception("immediate mail delivery failed; the outbox job will retry")
        return None


def after_commit_hook(success: bool, engine, mail_settings, clock, start=None) -> None:
    if not success:
        return
    start = start or (lambda target: threading.Thread(target=target, name="urgent-mail", daemon=True).start())
    start(lambda: deliver_now(engine, mail_settings, clock))


def deliver_after_commit(request) -> bool:
    """Arrange :func:`deliver_now` after the request's transaction commits; False when not possible."""
    engine = request.registry.get("db.engine")
    mail_settings = request.registry.get("mail.settings")
    if engine is None or mail_settings is None:
        return False
    request.tm.get().addAfterCommitHook(after_commit_hook, args=(engine, mail_settings, request.clock))
    return True
