"""One row per periodic job: when it last ran and last succeeded, for monitoring ("job not run")."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Model


class JobRun(Model):
    __tablename__ = "job_runs"
    # Bookkeeping of the runner, written every few minutes; not a change by anyone.
    __audit__ = False

    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    last_started_at: Mapped[dt.datetime | None]
    last_finished_at: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    # "running", "succeeded" or "failed"; "running" with an old start means the runner died.
    last_outcome: Mapped[str | None] = mapped_column(sa.String(20))
    last_message: Mapped[str | None] = mapped_column(sa.String(1000))
    run_count: Mapped[int] = mapped_column(default=0)
    failure_count: Mapped[int] = mapped_column(default=0)
