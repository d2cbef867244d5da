"""Demo data for urgent reports and message threads (F-URGENT, F-MSG), at the showcase facility.

A little only, so the caseworker's home shows "対応が必要なもの" filled in and
the facility sees every state: one report just received, one being handled
(with a reply the facility sees and an internal note), one closed; and two
message threads, one with an unread message for the centre.
"""

from __future__ import annotations

import datetime as dt

from webapp.clock import JST
from webapp.messages.models import Message, MessageRead, Side
from webapp.urgent.models import UrgentCategory, UrgentReport, UrgentResponse, UrgentStatus


def _row(when: dt.datetime, **values) -> dict:
    return {"created_at": when, "updated_at": when, **values}


def generate(ids, now: dt.datetime, children: list[dict], facilities: list[dict],
             caseworkers: dict[int, list[int]], facility_accounts: dict[int, int]) -> None:
    showcase = facilities[0]
    today = now.astimezone(JST).date()
    watched = [c for c in children if c["facility_id"] == showcase["id"]
               and (c["monitoring_end"] is None or c["monitoring_end"] >= today)]
    if len(watched) < 3:
        return
    staff = facility_accounts[showcase["id"]]
    first, second, third = watched[:3]

    def caseworker_of(child):
        return caseworkers[child["centre_id"]][0]

    def report(child, category, description, ago, status, **extra):
        when = now - ago
        values = {"acknowledged_at": None, "acknowledged_by_id": None, "closed_at": None, "closed_by_id": None,
                  "closing_note": None, **extra}
        return _row(when, facility_id=showcase["id"], centre_id=child["centre_id"], child_id=child["id"],
                    category=category, description=description, observed_at=when - dt.timedelta(minutes=30),
                    status=status, reported_by_id=staff, **values)

    handled_by = caseworker_of(second)
    closed_by = caseworker_of(third)
    reports = [
        report(first, UrgentCategory.INJURY, "朝の健康観察で、左腕の内側に複数のあざを確認。本人は「転んだ」と話すが、"
               "位置が不自然。", dt.timedelta(hours=2), UrgentStatus.RECEIVED),
        report(second, UrgentCategory.NOT_SEEN, "3日続けて欠席。家庭に電話がつながらず、本人の姿を確認できていない。",
               dt.timedelta(days=1), UrgentStatus.RESPONDING,
               acknowledged_at=now - dt.timedelta(hours=23), acknowledged_by_id=handled_by),
        report(third, UrgentCategory.DISCLOSURE, "「家に帰りたくない」と担任に話した。", dt.timedelta(days=20),
               UrgentStatus.CLOSED, acknowledged_at=now - dt.timedelta(days=20, hours=-1),
               acknowledged_by_id=closed_by, closed_at=now - dt.timedelta(days=18), closed_by_id=closed_by,
               closing_note="家庭訪問で安全を確認。見守りを続ける。"),
    ]
    report_ids = ids.insert(UrgentReport, reports)
    ids.insert(UrgentResponse, [
        _row(now - dt.timedelta(hours=22), report_id=report_ids[1], author_id=handled_by, shared=True,
             text="センターから保護者に連絡を取っています。登校したらお知らせください。"),
        _row(now - dt.timedelta(hours=21), report_id=report_ids[1], author_id=handled_by, shared=False,
             text="以前にも同様の長期欠席あり。本日夕方に家庭訪問予定。"),
        _row(now - dt.timedelta(days=19), report_id=report_ids[2], author_id=closed_by, shared=True,
             text="本日家庭訪問します。学校での様子を引き続き見てください。"),
    ])

    messages = [
        _row(now - dt.timedelta(days=3), child_id=second["id"], facility_id=showcase["id"], author_id=staff,
             side=Side.FACILITY, body="最近遅刻が増えています。家庭の状況で何かご存じでしょうか。"),
        _row(now - dt.timedelta(days=2), child_id=second["id"], facility_id=showcase["id"],
             author_id=caseworker_of(second), side=Side.CENTRE,
             body="確認して折り返します。朝の様子を記録しておいてください。"),
        _row(now - dt.timedelta(hours=3), child_id=first["id"], facility_id=showcase["id"], author_id=staff,
             side=Side.FACILITY, body="本日、保護者の迎えが大幅に遅れました。"),
    ]
    message_ids = ids.insert(Message, messages)
    # The facility has read the centre's reply; the newest message waits, unread, for the centre.
    ids.insert(MessageRead, [
        _row(now - dt.timedelta(days=1), account_id=staff, child_id=second["id"],
             last_read_message_id=message_ids[1], notified_at=None),
    ])
