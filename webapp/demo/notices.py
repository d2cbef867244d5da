"""Demo data for notices, a planned stop and sibling links (F-NOTICE, O-247, F-SIB).

A little only: two notices from the ward (one to every facility, one to
nurseries), a planned stop on the first Sunday at least 10 days ahead (so the
login page shows it), and a few sibling pairs among children who share a
family name — one pair across centres, so the "other centre" mark shows.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from webapp.accounts.models import Account
from webapp.authz import Role
from webapp.children.siblings import SiblingLink
from webapp.clock import JST
from webapp.notices.maintenance import NOTICE_LEAD
from webapp.notices.models import Notice, NoticeKind

SIBLING_PAIRS = 6


def _row(when: dt.datetime, **values) -> dict:
    return {"created_at": when, "updated_at": when, **values}


def first_sunday_after(moment: dt.datetime) -> dt.date:
    day = (moment + NOTICE_LEAD + dt.timedelta(days=1)).astimezone(JST).date()
    return day + dt.timedelta(days=(6 - day.weekday()) % 7)


def generate(ids, now: dt.datetime, children: list[dict]) -> None:
    admin_id = ids.db.scalar(sa.select(Account.id).where(Account.role == Role.ADMIN).order_by(Account.id))
    if admin_id is not None:
        week_ago = now - dt.timedelta(days=7)
        sunday = first_sunday_after(now)
        start = dt.datetime.combine(sunday, dt.time(1, 0), tzinfo=JST)
        end = dt.datetime.combine(sunday, dt.time(5, 0), tzinfo=JST)
        common = {"withdrawn_at": None, "author_id": admin_id, "publish_until": None,
                  "maintenance_start": None, "maintenance_end": None}
        ids.insert(Notice, [
            _row(week_ago, **common, kind=NoticeKind.GENERAL, title="12月分の月次報告の締切について",
                 body="年末年始のため、12月分の月次報告は1月8日までに提出してください。",
                 audience_all=True, audience_types="", publish_from=week_ago),
            _row(week_ago, **common, kind=NoticeKind.GENERAL, title="保育園の土曜日の出欠入力について",
                 body="土曜保育の日も出欠を入力してください。", audience_all=False, audience_types="nursery",
                 publish_from=week_ago),
            _row(now, **{**common, "maintenance_start": start, "maintenance_end": end, "publish_until": end},
                 kind=NoticeKind.MAINTENANCE, title="システムの計画停止",
                 body="サーバの更新のため、システムを停止します。停止中はログインできません。",
                 audience_all=True, audience_types="", publish_from=now),
        ])
    by_family: dict[str, list[dict]] = {}
    for child in children:
        by_family.setdefault(child["family_name"], []).append(child)
    pairs = []
    for group in by_family.values():
        if len(group) >= 2 and len(pairs) < SIBLING_PAIRS:
            low, high = sorted((group[0]["id"], group[1]["id"]))
            pairs.append(_row(now, child_id=low, sibling_id=high))
    if pairs:
        ids.insert(SiblingLink, pairs)
