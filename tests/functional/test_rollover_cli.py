"""``mimamori rollover``: a dry run changes nothing; --apply applies once; a second --apply is refused (F-ROLLOVER)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from webapp import migrate
from webapp.children.models import Child, Grade
from webapp.cli import main
from webapp.db import create_engine
from webapp.organisations.models import Centre, CentreKind, Facility, FacilityType

pytestmark = pytest.mark.req("F-ROLLOVER")


@pytest.fixture
def ini(scratch_url, tmp_path, monkeypatch):
    migrate.upgrade(scratch_url)
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
        stamps = {"created_at": now, "updated_at": now}
        centre = conn.execute(sa.insert(Centre).values(code="C1", name="センター", kind=CentreKind.SUPPORT_CENTRE,
                                                       active=True, **stamps)).inserted_primary_key[0]
        school = conn.execute(sa.insert(Facility).values(code="E1", name="小学校", active=True, centre_id=centre,
                                                         facility_type=FacilityType.ELEMENTARY,
                                                         **stamps)).inserted_primary_key[0]
        conn.execute(sa.insert(Child).values(facility_id=school, centre_id=centre, family_name="山田", given_name="花子",
                                             family_name_kana="やまだ", given_name_kana="はなこ", grade=Grade.ES2,
                                             monitoring_start=dt.date(2025, 9, 1), **stamps))
    engine.dispose()
    path = tmp_path / "mimamori.ini"
    # The command's clock stands in the 2026 school year whatever the real date
    # (--apply is refused outside 1 April 2026 – 31 March 2027).
    path.write_text(f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {scratch_url}\n"
                    "mimamori.clock = fixed:2026-11-26T10:00:00+09:00\n", encoding="utf-8")
    monkeypatch.setenv("MIMAMORI_SESSION_SECRET", "s" * 40)
    return str(path), scratch_url


def grade(url) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.scalar(sa.text("SELECT grade FROM children"))
    engine.dispose()
    return value


def test_dry_run_then_apply_once(ini, capsys):
    path, url = ini
    # The roll-over of the school year that started on 1 April 2026 (the command's clock is in it).
    assert main(["-c", path, "rollover", "--year", "2026"]) == 0
    assert "小2 -> 小3" in capsys.readouterr().out
    assert grade(url) == "es2"
    assert main(["-c", path, "rollover", "--year", "2026", "--apply"]) == 0
    assert grade(url) == "es3"
    with pytest.raises(SystemExit) as refused:
        main(["-c", path, "rollover", "--year", "2026", "--apply"])
    assert refused.value.code == 1
    assert "実行済み" in capsys.readouterr().out
    assert grade(url) == "es3"


def test_a_bad_transfer_file_applies_nothing(ini, tmp_path, capsys):
    path, url = ini
    transfers = tmp_path / "t.csv"
    transfers.write_text("1,NO-SUCH\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["-c", path, "rollover", "--year", "2026", "--apply", "--transfers", str(transfers)])
    assert "誤り" in capsys.readouterr().out
    assert grade(url) == "es2"


def test_apply_follows_the_application_clock(ini, monkeypatch, capsys):
    path, url = ini
    # 31 March 2026 in Japan (already 1 April nowhere that matters): too early for 2026.
    monkeypatch.setenv("MIMAMORI_CLOCK", "fixed:2026-03-31T23:59:00+09:00")
    with pytest.raises(SystemExit):
        main(["-c", path, "rollover", "--year", "2026", "--apply"])
    assert "4月1日から" in capsys.readouterr().out
    assert grade(url) == "es2"
    monkeypatch.setenv("MIMAMORI_CLOCK", "fixed:2026-04-01T00:01:00+09:00")
    assert main(["-c", path, "rollover", "--year", "2026", "--apply"]) == 0
    assert grade(url) == "es3"
