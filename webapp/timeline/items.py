"""What a timeline is made of: items, their kinds, and the month a page shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from webapp.clock import JST


class Kind(enum.StrEnum):
    """Where an item comes from; also its CSS class (``tl-<kind>``)."""

    ATTENDANCE = "attendance"
    CORRECTION = "correction"
    REPORT = "report"
    ALERT = "alert"
    URGENT = "urgent"
    MESSAGE = "message"


@dataclasses.dataclass(frozen=True)
class Link:
    """A route and its parameters; the template turns it into a URL (sources need no request)."""

    route: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def to(cls, route: str, **params) -> Link:
        return cls(route, tuple(sorted(params.items())))

    def kwargs(self) -> dict:
        return dict(self.params)


@dataclasses.dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline.

    ``when`` is timezone-aware; items that belong to a whole day (an absence)
    carry the start of that day in Japan and ``all_day=True`` so the page shows
    the date without a time. ``title`` is a TranslationString (translated by the
    template); ``detail`` is text someone typed (notes, comments), shown as is.
    """

    when: dt.datetime
    kind: Kind
    title: object
    link: Link | None = None
    detail: str | None = None
    all_day: bool = False
    # Sorts items with the same ``when`` (e.g. a report's events) in the order they happened.
    seq: int = 0


@dataclasses.dataclass(frozen=True)
class Window:
    """One calendar month in Japan: ``first``..``last`` days, and the UTC instants bounding it."""

    first: dt.date
    last: dt.date

    @classmethod
    def month(cls, first: dt.date) -> Window:
        first = first.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first, following - dt.timedelta(days=1))

    @property
    def start(self) -> dt.datetime:
        return day_start(self.first)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: the first instant of the next month."""
        return day_start(self.last + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def day_start(day: dt.date) -> dt.datetime:
    """Midnight in Japan, as an aware UTC datetime (the timeline's key for whole-day items)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=JST).astimezone(dt.UTC)


def newest_first(items) -> list[TimelineItem]:
    return sorted(items, key=lambda item: (item.when, item.seq), reverse=True)
