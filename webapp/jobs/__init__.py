"""Periodic work (issue 7): a small registry of named jobs run by ``mimamori jobs run``.

Top-level like ``imports``: jobs may use any area. Add a job by appending to
:func:`registry`; each must be idempotent ("do what is due now").
"""

from __future__ import annotations

from webapp.jobs.runner import Job, JobContext, JobError


def deliver_mail(context: JobContext) -> str:
    from webapp.mail.services import MailSettings, OutboxDelivery

    result = OutboxDelivery(context.engine, MailSettings.from_settings(context.settings), context.clock).deliver_due()
    if result.server_unreachable:
        # Nothing is lost (the messages stay pending), but the run did not do
        # its work: recorded as a failure so monitoring sees a stale success.
        raise JobError(result.summary())
    return result.summary()


def registry() -> list[Job]:
    """Every job, in the order a run does them."""
    return [
        Job("mail.deliver", "deliver due messages from the mail outbox (retrying failed ones)", deliver_mail),
    ]
