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


def sweep_alerts(context: JobContext) -> str:
    from webapp.alerts.sweep import run_sweep

    return run_sweep(context.engine, context.settings, context.clock)


def remind_reports(context: JobContext) -> str:
    from webapp.reports.reminders import run_reminders

    return run_reminders(context.engine, context.settings, context.clock)


def sign_checkpoint(context: JobContext) -> str:
    from webapp.audit.anchor import AnchorError, checkpoint_job

    try:
        return checkpoint_job(context.engine, context.settings, context.clock.now())
    except AnchorError as exc:
        raise JobError(str(exc)) from None


def registry() -> list[Job]:
    """Every job, in the order a run does them."""
    return [
        # Before mail.deliver, so what they queue goes out in the same run.
        Job("alerts.sweep", "raise alerts from absence streaks and tell the centres (F-ALERT)", sweep_alerts),
        Job("reports.remind", "remind facilities of the monthly report deadline, once per step (F-REMIND)",
            remind_reports),
        Job("mail.deliver", "deliver due messages from the mail outbox (retrying failed ones)", deliver_mail),
        # Last, so the head it signs includes what the other jobs recorded.
        Job("audit.checkpoint", "sign the change-record chain's head when the interval is up (S-AUDIT)",
            sign_checkpoint),
    ]
