"""The April roll-over (年度更新, F-ROLLOVER): plan it (dry run), then apply it once per school year.

``plan`` reads; ``apply`` writes every change of the plan in the caller's
transaction (all or nothing) and a :class:`RolloverRun` for the year, whose
unique year makes a second apply change nothing. Every write goes through the
ORM, so the change recorder (S-AUDIT) keeps before and after for each child.

Which children: those watched on 31 March and still on 1 April — registered
before 1 April, and with no monitoring end before 1 April. A child registered
on or after 1 April was registered in the new grade already.

Transfers (転校・転園・進学) come from a CSV of ``child id, new facility code``.
A transferred child's facility changes from 1 April. The child's centre is
not changed (the caseworker decides that), so the centre keeps the whole
history; the old facility stops seeing the child, and reports and daily
entries stay with the facility that wrote them (see the scope functions).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import unicodedata

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from webapp.children.models import Child, Grade
from webapp.i18n import _
from webapp.organisations.models import Facility, FacilityType
from webapp.rollover.grades import progress
from webapp.rollover.models import ChildTransfer, RolloverRun

YEARS = range(2000, 2101)
MAX_TRANSFER_LINES = 20_000


@dataclasses.dataclass(frozen=True)
class Transfer:
    line: int
    child_id: int
    facility_code: str


@dataclasses.dataclass(frozen=True)
class LineError:
    line: int
    message: object  # a TranslationString


@dataclasses.dataclass
class ChildChange:
    child: Child
    grade_from: Grade
    grade_to: Grade
    ends_monitoring: dt.date | None
    facility_from: Facility
    facility_to: Facility | None  # None: stays

    @property
    def changes_anything(self) -> bool:
        return self.grade_from != self.grade_to or self.ends_monitoring is not None or self.facility_to is not None


@dataclasses.dataclass
class RolloverPlan:
    year: int
    changes: list[ChildChange]
    errors: list[LineError]
    already_applied: RolloverRun | None

    @property
    def graduations(self) -> int:
        return sum(1 for c in self.changes if c.ends_monitoring is not None)

    @property
    def transfers(self) -> int:
        return sum(1 for c in self.changes if c.facility_to is not None)

    @property
    def grade_ups(self) -> int:
        return sum(1 for c in self.changes if c.ends_monitoring is None and c.grade_from != c.grade_to)

    def summary(self) -> str:
        return (f"year={self.year} children={len(self.changes)} grade_up={self.grade_ups} "
                f"graduated={self.graduations} transferred={self.transfers}")


class RolloverError(Exception):
    """Why apply refused: ``message`` is a TranslationString for the screen and the command line."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def parse_transfers(text: str) -> tuple[list[Transfer], list[LineError]]:
    """``child id, facility code`` per line; a header line and blank lines are skipped."""
    transfers: list[Transfer] = []
    errors: list[LineError] = []
    text = unicodedata.normalize("NFKC", text.lstrip("\ufeff"))
    seen: dict[int, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if number > MAX_TRANSFER_LINES:
            errors.append(LineError(number, _("行数が多すぎます（${max}行まで）。", mapping={"max": MAX_TRANSFER_LINES})))
            break
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if number == 1 and ("id" in cells[0].lower() or "児童" in cells[0]):
            continue  # header (児童ID,移動先施設コード)
        if len(cells) < 2 or not cells[1]:
            errors.append(LineError(number, _("「児童ID,移動先施設コード」の2列で入力してください。")))
            continue
        if not cells[0].isdigit() or len(cells[0]) > 9:
            errors.append(LineError(number, _("児童ID「${value}」は数字ではありません。", mapping={"value": cells[0][:20]})))
            continue
        child_id = int(cells[0])
        if child_id in seen:
            errors.append(LineError(number, _("児童ID ${id} は${line}行目にもあります。", mapping={"id": child_id, "line": seen[child_id]})))
            continue
        seen[child_id] = number
        transfers.append(Transfer(number, child_id, cells[1][:20]))
    return transfers, errors


def school_year_start(year: int) -> dt.date:
    return dt.date(year, 4, 1)


class RolloverService:
    def __init__(self, db: Session):
        self.db = db

    def run_for(self, year: int) -> RolloverRun | None:
        return self.db.scalar(sa.select(RolloverRun).where(RolloverRun.year == year))

    def _children(self, year: int) -> list[Child]:
        april = school_year_start(year)
        query = (sa.select(Child)
                 .where(Child.monitoring_start < april,
                        sa.or_(Child.monitoring_end.is_(None), Child.monitoring_end >= april))
                 .options(joinedload(Child.facility))
                 .order_by(Child.facility_id, Child.grade, Child.family_name_kana, Child.id))
        return list(self.db.scalars(query))

    def plan(self, year: int, transfers: list[Transfer], csv_errors: list[LineError] = ()) -> RolloverPlan:
        if year not in YEARS:
            raise RolloverError(_("年度は2000から2100までで指定してください。"))
        done = self.run_for(year)
        if done is not None:
            # Applied already: applying again changes nothing, so nothing is listed.
            return RolloverPlan(year, [], list(csv_errors), done)
        errors = list(csv_errors)
        children = self._children(year)
        by_id = {child.id: child for child in children}
        codes = {t.facility_code for t in transfers}
        facilities = {f.code: f for f in self.db.scalars(sa.select(Facility).where(Facility.code.in_(codes)))}
        moves: dict[int, Facility] = {}
        for transfer in transfers:
            child = by_id.get(transfer.child_id)
            facility = facilities.get(transfer.facility_code)
            if child is None:
                errors.append(LineError(transfer.line, _("児童ID ${id} は${year}年4月1日に見守り中の児童ではありません。",
                                                       mapping={"id": transfer.child_id, "year": year})))
            elif facility is None or not facility.active:
                errors.append(LineError(transfer.line, _("施設コード「${code}」の有効な施設はありません。",
                                                       mapping={"code": transfer.facility_code})))
            elif facility.id == child.facility_id:
                errors.append(LineError(transfer.line, _("児童ID ${id} はすでにこの施設の所属です。", mapping={"id": child.id})))
            elif child.grade == Grade.ES6 and facility.facility_type != FacilityType.JUNIOR_HIGH:
                errors.append(LineError(transfer.line, _("児童ID ${id} は小6です。進学先は中学校を指定してください。",
                                                       mapping={"id": child.id})))
            elif progress(child.grade, moves_to_junior_high=False).graduates and child.grade != Grade.ES6:
                errors.append(LineError(transfer.line, _("児童ID ${id} は卒業で見守りが終わるため移動できません。",
                                                       mapping={"id": child.id})))
            else:
                moves[child.id] = facility
        changes = []
        for child in children:
            target = moves.get(child.id)
            moves_to_jh = target is not None and target.facility_type == FacilityType.JUNIOR_HIGH
            step = progress(child.grade, moves_to_junior_high=moves_to_jh)
            changes.append(ChildChange(
                child=child, grade_from=child.grade, grade_to=step.grade,
                ends_monitoring=dt.date(year, 3, 31) if step.graduates else None,
                facility_from=child.facility, facility_to=target))
        return RolloverPlan(year, [c for c in changes if c.changes_anything], errors, None)

    def apply(self, year: int, transfers: list[Transfer], *, today: dt.date, account_id: int | None,
              csv_errors: list[LineError] = ()) -> RolloverPlan:
        """Applies the plan; refuses (RolloverError) before April 1, on any error, or if already applied."""
        if today < school_year_start(year) or today > dt.date(year + 1, 3, 31):
            raise RolloverError(_("${year}年度の年度更新は${year}年4月1日から${next}年3月31日までの間に実行できます。",
                                  mapping={"year": year, "next": year + 1}))
        plan = self.plan(year, transfers, csv_errors)
        if plan.already_applied is not None:
            raise RolloverError(_("${year}年度の年度更新は実行済みです。二度目は何も変更しません。", mapping={"year": year}))
        if plan.errors:
            raise RolloverError(_("移動のCSVに誤りがあります。直してからもう一度確認してください。"))
        april = school_year_start(year)
        for change in plan.changes:
            child = change.child
            child.grade = change.grade_to
            if change.ends_monitoring is not None:
                child.monitoring_end = change.ends_monitoring
            if change.facility_to is not None:
                self.db.add(ChildTransfer(child_id=child.id, from_facility_id=child.facility_id,
                                          to_facility_id=change.facility_to.id, effective_on=april,
                                          rollover_year=year))
                child.facility = change.facility_to
        self.db.add(RolloverRun(year=year, applied_by_id=account_id, summary=plan.summary()))
        # Flushing here turns a concurrent second apply into a unique-key error, not a double roll-over.
        self.db.flush()
        return plan
