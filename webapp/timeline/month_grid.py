"""The attendance calendar's data: one cell per day of a month, and the month's totals.

Pure: it is given the entries, a way to ask whether the facility was open and
why not, and the child's monitoring period, so it is unit-tested without a
database. Whose entries it is given is the caller's (the scope's) decision.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import Counter
from collections.abc import Callable, Mapping

from webapp.attendance.status import Attendance
from webapp.i18n import _
from webapp.timeline.items import Window

WEEKDAYS_JA = "月火水木金土日"


class CellStatus(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    NO_CONTACT = "no_contact"  # 連絡なし欠席: its own colour and mark, it raises its own alert
    LATE = "late"
    LEFT_EARLY = "left_early"
    MISSING = "missing"  # an open day in the past with no entry (未入力)
    CLOSED = "closed"  # 休業日: weekend, holiday, year-end, the facility's own closure
    OUTSIDE = "outside"  # not watched then, or at another facility (対象外)
    FUTURE = "future"

    @property
    def label(self):
        """A TranslationString: ``request.localizer.translate`` or ``.interpolate()`` for Japanese."""
        return CELL_LABELS[self]

    @property
    def letter(self) -> str:
        """A mark per status, so the calendar reads without colour (WCAG 1.4.1) and in black-and-white print."""
        return CELL_LETTERS[self]


CELL_LABELS = {
    CellStatus.PRESENT: _("出席"),
    CellStatus.ABSENT: _("欠席"),
    CellStatus.NO_CONTACT: _("連絡なし欠席"),
    CellStatus.LATE: _("遅刻"),
    CellStatus.LEFT_EARLY: _("早退"),
    CellStatus.MISSING: _("未入力"),
    CellStatus.CLOSED: _("休業日"),
    CellStatus.OUTSIDE: _("対象外"),
    CellStatus.FUTURE: _("今後"),
}

CELL_LETTERS = {
    CellStatus.PRESENT: "出",
    CellStatus.ABSENT: "欠",
    CellStatus.NO_CONTACT: "欠!",
    CellStatus.LATE: "遅",
    CellStatus.LEFT_EARLY: "早",
    CellStatus.MISSING: "未",
    CellStatus.CLOSED: "休",
    CellStatus.OUTSIDE: "－",
    CellStatus.FUTURE: "",
}

# The statuses counted in the month's summary, in the order shown.
SUMMARY_ORDER = (
    CellStatus.PRESENT,
    CellStatus.LATE,
    CellStatus.LEFT_EARLY,
    CellStatus.ABSENT,
    CellStatus.NO_CONTACT,
    CellStatus.MISSING,
)


@dataclasses.dataclass(frozen=True)
class DayEntry:
    """What the calendar needs of an attendance entry (not the whole row: no notes, no author)."""

    status: Attendance
    no_contact: bool = False
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Cell:
    day: dt.date
    status: CellStatus
    # Why a closed day is closed (文化の日, 夏休み, 定休日), or the absence reason.
    note: str = ""

    @property
    def weekday_label(self) -> str:
        return WEEKDAYS_JA[self.day.weekday()]

    def description(self, translate=None) -> str:
        """``11月3日（火） 休業日 祝日（文化の日）``: the cell as one line of text (the SVG's <title>)."""
        label = (translate or _interpolate)(self.status.label)
        text = f"{self.day.month}/{self.day.day}（{self.weekday_label}） {label}"
        return f"{text} {self.note}" if self.note else text


def _interpolate(message) -> str:
    return message.interpolate()


@dataclasses.dataclass(frozen=True)
class MonthGrid:
    window: Window
    cells: tuple[Cell, ...]

    @property
    def first(self) -> dt.date:
        return self.window.first

    def counts(self) -> dict[CellStatus, int]:
        found = Counter(cell.status for cell in self.cells)
        return {status: found.get(status, 0) for status in CellStatus}

    def open_days(self) -> int:
        """Days the child was expected: open days in the monitoring period up to today."""
        counts = self.counts()
        return sum(counts[status] for status in SUMMARY_ORDER)

    def summary(self) -> list[tuple[CellStatus, int]]:
        counts = self.counts()
        return [(status, counts[status]) for status in SUMMARY_ORDER]

    def weeks(self) -> list[list[Cell | None]]:
        """Rows of seven, Sunday first (as on Japanese wall calendars), ``None`` outside the month."""
        lead = (self.first.weekday() + 1) % 7  # Monday=0 -> Sunday-first column
        slots: list[Cell | None] = [None] * lead + list(self.cells)
        slots += [None] * (-len(slots) % 7)
        return [slots[i:i + 7] for i in range(0, len(slots), 7)]


_FROM_ATTENDANCE = {
    Attendance.PRESENT: CellStatus.PRESENT,
    Attendance.ABSENT: CellStatus.ABSENT,
    Attendance.LATE: CellStatus.LATE,
    Attendance.LEFT_EARLY: CellStatus.LEFT_EARLY,
}


def build_month(
    window: Window,
    *,
    today: dt.date,
    entries: Mapping[dt.date, DayEntry],
    elsewhere: frozenset[dt.date] | set[dt.date] = frozenset(),
    is_open: Callable[[dt.date], bool],
    closed_reason: Callable[[dt.date], str],
    monitoring_start: dt.date,
    monitoring_end: dt.date | None,
) -> MonthGrid:
    """One cell per day of ``window``.

    ``elsewhere`` are days entered by another facility that the viewer may not
    see: they show as 対象外 without their content. An entry wins over a
    closed day (a child can attend a Saturday event not in the calendar).
    """
    cells = []
    for day in window.days():
        entry = entries.get(day)
        if entry is not None:
            status = _FROM_ATTENDANCE[Attendance(entry.status)]
            if status is CellStatus.ABSENT and entry.no_contact:
                status = CellStatus.NO_CONTACT
            cells.append(Cell(day, status, entry.reason))
        elif day in elsewhere or day < monitoring_start or (monitoring_end is not None and day > monitoring_end):
            cells.append(Cell(day, CellStatus.OUTSIDE))
        elif not is_open(day):
            cells.append(Cell(day, CellStatus.CLOSED, closed_reason(day)))
        elif day > today:
            cells.append(Cell(day, CellStatus.FUTURE))
        else:
            cells.append(Cell(day, CellStatus.MISSING))
    return MonthGrid(window, tuple(cells))
