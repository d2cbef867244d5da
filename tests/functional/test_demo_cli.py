"""``mimamori demo-data`` generates its months around the application's clock, not the real date (issue #17)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from webapp import migrate
from webapp.cli import main
from webapp.db import create_engine
from webapp.reports.models import MonthlyReport


def test_demo_data_follows_mimamori_clock(scratch_url, tmp_path, monkeypatch, capsys):
    migrate.upgrade(scratch_url)
    ini = tmp_path / "demo.ini"
    ini.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {scratch_url}\n"
                   "mimamori.clock = from:2028-02-29T08:30:00+09:00\n", encoding="utf-8")
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    monkeypatch.delenv("MIMAMORI_DATABASE_URL", raising=False)
    monkeypatch.delenv("MIMAMORI_CLOCK", raising=False)
    assert main(["-c", str(ini), "demo-data", "--scale", "small"]) in (0, None)
    assert "es001" in capsys.readouterr().out
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(MonthlyReport.period), sa.func.max(MonthlyReport.period))).one()
    engine.dispose()
    # Twelve months ending with the month before the clock's: February 2027 – January 2028.
    assert (first, last) == (dt.date(2027, 2, 1), dt.date(2028, 1, 1))
