"""Centres and facilities: listing, creating, changing, deleting or disabling.

Also two helpers the higher areas reuse: :class:`Page` (one page of a list,
with a constant number of queries whatever the page size) and
:func:`references` (who still points at a row, so it is disabled rather than
deleted).
"""

from __future__ import annotations

import dataclasses
import math

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.db import Base
from webapp.i18n import _
from webapp.organisations.models import Centre, Facility

PER_PAGE = 50

# What a referencing table means to an admin, for 「…から参照されています」.
TABLE_LABELS = {
    "children": "児童",
    "accounts": "アカウント",
    "facilities": "施設",
    "monthly_reports": "月次報告",
    "monthly_report_versions": "月次報告の版",
    "report_events": "報告の操作履歴",
    "login_sessions": "ログイン履歴",
}


@dataclasses.dataclass
class Page:
    items: list
    total: int
    number: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.per_page, self.total)


def page_number(raw) -> int:
    """A page number from the query string; anything odd is page 1, never an error."""
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), 100_000)


def paginate(db, query: sa.Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Two queries: the count and the page (callers eager-load what the rows show)."""
    total = db.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    last = max(1, math.ceil(total / per_page))
    number = min(number, last)
    items = list(db.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique())
    return Page(items, total, number, per_page)


def search_terms(q: str | None) -> list[str]:
    return [term for term in (q or "").split() if term][:5]


def references(db, table_name: str, row_id: int) -> list[tuple[str, int]]:
    """(label, count) of every row in any table whose foreign key points at this row.

    Read from the schema metadata, so that a table added by a higher area is
    counted without this lower area importing it.
    """
    found = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name and fk.column.name == "id":
                count = db.scalar(sa.select(sa.func.count()).select_from(table).where(fk.parent == row_id))
                if count:
                    found.append((TABLE_LABELS.get(table.name, table.name), count))
    return found


def references_text(refs: list[tuple[str, int]]) -> str:
    return "、".join(f"{label} {count}件" for label, count in refs)


def flush_unique(db, obj, field: str, message) -> dict:
    """Flush ``obj`` in a savepoint; a unique-key race becomes a field error, not a 500."""
    try:
        with db.begin_nested():
            db.add(obj)
            db.flush()
    except IntegrityError:
        return {field: message}
    return {}


class DeleteResult:
    def __init__(self, deleted: bool, refs: list[tuple[str, int]]):
        self.deleted = deleted
        self.refs = refs

    @property
    def reason(self):
        return _("${refs} から参照されているため、削除せずに無効にしました。",
                 mapping={"refs": references_text(self.refs)})


def delete_or_disable(db, obj) -> DeleteResult:
    """Delete ``obj`` if nothing refers to it; otherwise only mark it inactive.

    History (reports, logins) must keep pointing at what it was about.
    """
    refs = references(db, obj.__tablename__, obj.id)
    if refs:
        obj.active = False
        return DeleteResult(False, refs)
    db.delete(obj)
    db.flush()
    return DeleteResult(True, [])


class CentreService:
    def __init__(self, db):
        self.db = db

    def all(self) -> list[Centre]:
        return list(self.db.scalars(sa.select(Centre).order_by(Centre.code)))

    def active(self) -> list[Centre]:
        return list(self.db.scalars(sa.select(Centre).where(Centre.active).order_by(Centre.code)))

    def get(self, centre_id: int) -> Centre | None:
        return self.db.get(Centre, centre_id)

    def code_taken(self, code: str, except_id: int | None = None) -> bool:
        query = sa.select(Centre.id).where(Centre.code == code)
        if except_id is not None:
            query = query.where(Centre.id != except_id)
        return self.db.scalar(query) is not None

    def save(self, centre: Centre | None, values: dict) -> tuple[Centre | None, dict]:
        """Create (``centre`` None) or update; returns the centre and field errors."""
        duplicate = _("このコードは既に使われています。")
        if self.code_taken(values["code"], centre.id if centre else None):
            return centre, {"code": duplicate}
        centre = centre or Centre()
        for name in ("code", "name", "kind", "active"):
            setattr(centre, name, values[name])
        errors = flush_unique(self.db, centre, "code", duplicate)
        return (None if errors and centre.id is None else centre), errors

    def delete(self, centre: Centre) -> DeleteResult:
        return delete_or_disable(self.db, centre)


class FacilityService:
    def __init__(self, db):
        self.db = db

    def search(self, q: str | None, number: int, include_inactive: bool = True) -> Page:
        query = sa.select(Facility).options(joinedload(Facility.centre))
        for term in search_terms(q):
            query = query.where(sa.or_(
                Facility.code.icontains(term, autoescape=True),
                Facility.name.contains(term, autoescape=True),
            ))
        if not include_inactive:
            query = query.where(Facility.active)
        return paginate(self.db, query.order_by(Facility.code, Facility.id), number)

    def active(self, centre_id: int | None = None) -> list[Facility]:
        query = sa.select(Facility).where(Facility.active).order_by(Facility.code)
        if centre_id is not None:
            query = query.where(Facility.centre_id == centre_id)
        return list(self.db.scalars(query))

    def get(self, facility_id: int) -> Facility | None:
        return self.db.get(Facility, facility_id)

    def by_code(self, code: str) -> Facility | None:
        return self.db.scalar(sa.select(Facility).where(Facility.code == code))

    def code_taken(self, code: str, except_id: int | None = None) -> bool:
        query = sa.select(Facility.id).where(Facility.code == code)
        if except_id is not None:
            query = query.where(Facility.id != except_id)
        return self.db.scalar(query) is not None

    def save(self, facility: Facility | None, values: dict) -> tuple[Facility | None, dict]:
        duplicate = _("このコードは既に使われています。")
        if self.code_taken(values["code"], facility.id if facility else None):
            return facility, {"code": duplicate}
        facility = facility or Facility()
        for name in ("code", "name", "facility_type", "centre_id", "active"):
            setattr(facility, name, values[name])
        errors = flush_unique(self.db, facility, "code", duplicate)
        return (None if errors and facility.id is None else facility), errors

    def delete(self, facility: Facility) -> DeleteResult:
        return delete_or_disable(self.db, facility)
