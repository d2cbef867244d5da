"""Per-facility closures from the database: the calendar's provider, the closure rules, and why a day is closed.

``DbFacilityDays`` answers the calendar's three questions from
``facility_closures`` and ``facilities``. The calendar area is the lowest
one, so it reads the facility's type with plain SQL instead of importing the
organisations area.

``ClosureService`` lists, adds and deletes a facility's 休業期間 and
特別開所日 with the rules facility staff must follow:

- a range ends on or after its start and spans at most ``MAX_RANGE_DAYS``
  days (a summer break is ~45 days; anything longer is a typo, and a year of
  closure would silently hide a whole year of absences from the alerts);
- ranges of the same kind do not overlap (two labels for one day would be
  ambiguous); a 特別開所日 inside a 休業期間 is allowed — that is its purpose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from webapp.closed_days.models import LABEL_MAX, ClosureKind, FacilityClosure
from webapp.closed_days.services import YEAR_END, Calendar, Closure
from webapp.forms import FormErrors, Validator, clean_choice, clean_date, clean_text
from webapp.i18n import _

MAX_RANGE_DAYS = 120
WEEKDAY_LABELS = "月火水木金土日"


class DbFacilityDays:
    """A ``FacilityDays`` provider over the database; one query per facility, cached.

    With ``only_day``, only the closures and extra open days covering that day
    are read: a page that asks about one day (the facility's home) then costs
    the same whatever years of closures the facility has kept; ``between=(first,
    last)`` does the same for the days of a range (a child's month). Such a
    provider must not be asked about other days.
    """

    def __init__(self, session, only_day: dt.date | None = None,
                 between: tuple[dt.date, dt.date] | None = None):
        self.session = session
        self.between = (only_day, only_day) if only_day is not None else between
        self._types: dict[int, str] = {}
        self._rows: dict[int, list[FacilityClosure]] = {}

    def facility_type(self, facility_id: int) -> str:
        if facility_id not in self._types:
            found = self.session.scalar(
                sa.text("SELECT facility_type FROM facilities WHERE id = :id"), {"id": facility_id}
            )
            if found is None:
                raise KeyError(facility_id)
            self._types[facility_id] = found
        return self._types[facility_id]

    def _closures(self, facility_id: int) -> list[FacilityClosure]:
        if facility_id not in self._rows:
            query = sa.select(FacilityClosure).where(FacilityClosure.facility_id == facility_id)
            if self.between is not None:
                first, last = self.between
                query = query.where(FacilityClosure.starts_on <= last, FacilityClosure.ends_on >= first)
            self._rows[facility_id] = list(
                self.session.scalars(query.order_by(FacilityClosure.starts_on, FacilityClosure.id))
            )
        return self._rows[facility_id]

    def closures(self, facility_id: int) -> Sequence[Closure]:
        return [
            Closure(row.starts_on, row.ends_on, row.label)
            for row in self._closures(facility_id)
            if row.kind == ClosureKind.CLOSED
        ]

    def openings(self, facility_id: int) -> Sequence[dt.date]:
        days = []
        for row in self._closures(facility_id):
            if row.kind == ClosureKind.EXTRA_OPEN:
                days.extend(row.starts_on + dt.timedelta(days=n) for n in range((row.ends_on - row.starts_on).days + 1))
        return days


def why_closed(calendar: Calendar, facility_id: int, day: dt.date):
    """Why the facility is closed on ``day`` in words for the screen (祝日名, 年末年始, 休業期間の名前, 土日), or None when open."""
    if calendar.is_open(facility_id, day):
        return None
    holidays = calendar.holidays
    if day in holidays.holidays_in(day.year):
        name_of = getattr(holidays, "name_of", None)
        name = name_of(day) if name_of else None
        return _("祝日（${name}）", mapping={"name": name}) if name else _("祝日")
    if (day.month, day.day) in YEAR_END:
        return _("年末年始")
    for closure in calendar.facilities.closures(facility_id):
        if closure.start <= day <= closure.end:
            return _("休業期間（${label}）", mapping={"label": closure.reason}) if closure.reason else _("休業期間")
    return _("${weekday}曜日（定休日）", mapping={"weekday": WEEKDAY_LABELS[day.weekday()]})


class ClosureService:
    def __init__(self, session):
        self.session = session

    def list(self, facility_id: int) -> list[FacilityClosure]:
        return list(
            self.session.scalars(
                sa.select(FacilityClosure)
                .where(FacilityClosure.facility_id == facility_id)
                .order_by(FacilityClosure.starts_on.desc(), FacilityClosure.id.desc())
            )
        )

    def get(self, facility_id: int, closure_id: int) -> FacilityClosure | None:
        return self.session.scalar(
            sa.select(FacilityClosure).where(FacilityClosure.id == closure_id, FacilityClosure.facility_id == facility_id)
        )

    def validate(self, facility_id: int, data) -> tuple[dict, FormErrors]:
        """Clean a posted closure; errors in Japanese beside each field."""
        form = Validator(data)
        form.field("kind", clean_choice, choices=[k.value for k in ClosureKind])
        starts_on = form.field("starts_on", clean_date)
        ends_on = form.field("ends_on", clean_date)
        form.field("label", clean_text, max_length=LABEL_MAX, required=True)
        if starts_on and ends_on:
            if ends_on < starts_on:
                form.error("ends_on", _("終了日は開始日と同じか、それより後の日にしてください。"))
            elif (ends_on - starts_on).days + 1 > MAX_RANGE_DAYS:
                form.error("ends_on", _("一度に登録できるのは${max}日までです。", mapping={"max": MAX_RANGE_DAYS}))
            elif form.values.get("kind"):
                clash = self._overlapping(facility_id, ClosureKind(form.values["kind"]), starts_on, ends_on)
                if clash is not None:
                    form.error("starts_on", _(
                        "同じ種類の登録（${label}：${start}〜${end}）と期間が重なっています。",
                        mapping={"label": clash.label, "start": clash.starts_on.isoformat(),
                                 "end": clash.ends_on.isoformat()},
                    ))
        return form.values, form.errors

    def _overlapping(self, facility_id, kind, starts_on, ends_on) -> FacilityClosure | None:
        return self.session.scalar(
            sa.select(FacilityClosure).where(
                FacilityClosure.facility_id == facility_id,
                FacilityClosure.kind == kind,
                FacilityClosure.starts_on <= ends_on,
                FacilityClosure.ends_on >= starts_on,
            ).limit(1)
        )

    def add(self, facility_id: int, values: dict, account_id: int) -> FacilityClosure:
        closure = FacilityClosure(
            facility_id=facility_id,
            kind=ClosureKind(values["kind"]),
            starts_on=values["starts_on"],
            ends_on=values["ends_on"],
            label=values["label"],
            created_by_id=account_id,
        )
        self.session.add(closure)
        self.session.flush()
        return closure

    def delete(self, closure: FacilityClosure) -> None:
        self.session.delete(closure)
        self.session.flush()
