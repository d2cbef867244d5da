"""``mimamori rollover --year 2027 [--transfers file.csv] [--apply]``: the roll-over from the command line.

Without ``--apply`` it prints the dry run and changes nothing. With it, the
plan is applied in one transaction (all or nothing), exactly as the admin
screen does; the change records name ``system:rollover``.
"""

from __future__ import annotations

import pathlib

import transaction

from webapp.clock import SystemClock
from webapp.imports.parsing import ImportFileError, decode
from webapp.rollover.services import RolloverError, RolloverPlan, RolloverService, parse_transfers


def _text(message) -> str:
    return message.interpolate() if hasattr(message, "interpolate") else str(message)


def describe(plan: RolloverPlan) -> str:
    lines = [f"{plan.year}年度: 対象 {len(plan.changes)}人 (進級 {plan.grade_ups}, 見守り終了 {plan.graduations}, "
             f"所属変更 {plan.transfers})"]
    if plan.already_applied is not None:
        lines.append(f"実行済み ({plan.already_applied.created_at.isoformat()}): もう一度実行しても何も変わりません")
    for change in plan.changes:
        grade = (f"{change.grade_from.label} 卒業 見守り終了 {change.ends_monitoring.isoformat()}"
                 if change.ends_monitoring else f"{change.grade_from.label} -> {change.grade_to.label}")
        facility = (f"{change.facility_from.code} -> {change.facility_to.code}" if change.facility_to
                    else change.facility_from.code)
        lines.append(f"  {change.child.id}\t{grade}\t{facility}")
    for error in plan.errors:
        lines.append(f"  CSV {error.line}行目: {_text(error.message)}")
    return "\n".join(lines)


def run(args, session, clock=None) -> int:
    """Returns the exit status: 0 done (or dry run printed), 1 refused."""
    text = ""
    if args.transfers:
        try:
            text = decode(pathlib.Path(args.transfers).read_bytes())
        except (OSError, ImportFileError) as exc:
            print(f"移動のCSVを読めません: {_text(getattr(exc, 'message', exc))}")
            return 1
    transfers, errors = parse_transfers(text)
    service = RolloverService(session)
    with transaction.manager:
        try:
            if args.apply:
                plan = service.apply(args.year, transfers, today=(clock or SystemClock()).today(), account_id=None,
                                     csv_errors=errors)
                print(describe(plan))
                print("年度更新を実行しました。")
            else:
                print(describe(service.plan(args.year, transfers, errors)))
                print("（確認のみ。変更するには --apply を付けてください）")
        except RolloverError as exc:
            print(_text(exc.message))
            transaction.abort()
            return 1
    return 0
