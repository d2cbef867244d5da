"""A child's month: the attendance calendar and the timeline of everything about the child.

Contract: ``TimelineService.month(child, first_day)`` returns what the viewer may
see of that month, newest item first. The caller has already found the child
through the scope (``Scope.get_child``: out of scope -> 404); the sources
filter further by the viewer (facility staff: their own facility's items).
Every source runs a fixed number of queries bounded by the month, so the cost
does not grow with the years of history behind it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from webapp.children.models import Child
from webapp.children.scope import Scope
from webapp.closed_days.facility_days import why_closed
from webapp.closed_days.services import Calendar
from webapp.timeline import sources, sources_alerts, sources_attendance, sources_messages, sources_urgent
from webapp.timeline.items import TimelineItem, Window, newest_first
from webapp.timeline.month_grid import MonthGrid, build_month
from webapp.timeline.viewer import Viewer

# A source: (db, viewer, child_id, window) -> items. Attendance is not here:
# its rows also feed the calendar, so the service loads them once itself.
Source = Callable[[object, Viewer, int, Window], list[TimelineItem]]

SOURCES: tuple[Source, ...] = (
    sources.report_items,
    sources_alerts.alert_items,
    sources_urgent.urgent_items,
    sources_messages.message_items,
)


@dataclasses.dataclass(frozen=True)
class TimelineMonth:
    child: Child
    window: Window
    grid: MonthGrid
    items: list[TimelineItem]
    facility_view: bool


class TimelineService:
    def __init__(self, db, scope: Scope, calendar: Calendar, translate: Callable[[object], str] | None = None):
        """``translate`` turns the calendar's reasons (TranslationStrings) into the page's language."""
        self.db = db
        self.viewer = Viewer.of(scope)
        self.calendar = calendar
        self.translate = translate or (lambda message: message.interpolate())

    def month(self, child: Child, first_day: dt.date) -> TimelineMonth:
        window = Window.month(first_day)
        attendance = sources_attendance.load_attendance(self.db, self.viewer, child.id, window)
        items = sources_attendance.attendance_items(attendance) + sources_attendance.correction_items(attendance)
        for source in SOURCES:
            items += source(self.db, self.viewer, child.id, window)
        return TimelineMonth(child, window, self._grid(child, window, attendance), newest_first(items),
                             self.viewer.is_facility)

    def _grid(self, child: Child, window: Window, attendance) -> MonthGrid:
        # A day is judged by the calendar of the facility that recorded it;
        # a day without an entry by the viewer's facility, or the child's current one.
        default_facility = self.viewer.facility_id or child.facility_id
        recorded_by = attendance.facility_by_day()

        def facility_on(day: dt.date) -> int:
            return recorded_by.get(day, default_facility)

        return build_month(
            window,
            today=self.viewer.scope.today,
            entries=attendance.day_entries(),
            elsewhere=attendance.elsewhere,
            is_open=lambda day: self.calendar.is_open(facility_on(day), day),
            closed_reason=lambda day: self._why_closed(facility_on(day), day),
            monitoring_start=child.monitoring_start,
            monitoring_end=child.monitoring_end,
        )

    def _why_closed(self, facility_id: int, day: dt.date) -> str:
        reason = why_closed(self.calendar, facility_id, day)
        return self.translate(reason) if reason is not None else ""
