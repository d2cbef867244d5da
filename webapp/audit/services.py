"""Reading the logs: filters, keyset pages and CSV export for the log viewer (S-ACCESSLOG, S-AUDIT).

Three logs, one vocabulary: ``access`` (every request), ``auth``
(authentication events) and ``changes`` (the hash-chained change records,
including views of a child's page).

Periods are typed as Japan dates and stored as UTC instants: a JST day
``d`` is ``[d 00:00 JST, d+1 00:00 JST)``, i.e. ``[d-1 15:00 UTC, d 15:00 UTC)``.

Pages are keyset pages, newest first, ordered by ``(occurred_at, id)``: the
next page starts strictly after the last row shown, so a page costs the same
at row 10 and at row 10,000,000 (OFFSET would read and throw away every row
before it), and rows arriving meanwhile neither repeat nor shift the pages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import unicodedata

import sqlalchemy as sa
import zope.sqlalchemy

from webapp import csv_export
from webapp.audit.chain import verify_chain
from webapp.audit.labels import (
    ACTION_LABELS,
    EVENT_LABELS,
    REASON_LABELS,
    action_label,
    event_label,
    reason_label,
    role_label,
    route_label,
    table_label,
)
from webapp.audit.models import AccessLogEntry, AuditRecord, AuthEvent
from webapp.audit.recorder import Actor, append_records
from webapp.clock import JST
from webapp.forms import FormErrors, clean_choice, clean_date, clean_text
from webapp.i18n import _

PAGE_SIZE = 50
# A bigger export is refused with a message asking for a shorter period: the
# file is built in memory, and a spreadsheet is no tool for a million rows.
EXPORT_MAX_ROWS = 100_000
EXPORT_BATCH = 2_000
# The oldest and newest dates a filter accepts; outside them a typo, not a query.
# Ids are PostgreSQL integers (accounts, children) or bigints (log rows).
MAX_ID = 2**31 - 1
MAX_ROW_ID = 2**63 - 1

MODELS = {"access": AccessLogEntry, "auth": AuthEvent, "changes": AuditRecord}
# Which filter fields each log offers (the form shows exactly these).
FIELDS = {
    "access": ("start", "end", "login", "organisation", "child_id", "route", "status"),
    "auth": ("start", "end", "login", "organisation", "event", "reason"),
    "changes": ("start", "end", "login", "organisation", "child_id", "action", "entity"),
}

# The organisations of accounts, for the auth events (which do not store one).
# Plain table clauses keep this module below the accounts area it would otherwise import.
_accounts = sa.table("accounts", sa.column("id"), sa.column("centre_id"), sa.column("facility_id"))
_centres = sa.table("centres", sa.column("id"), sa.column("name"))
_facilities = sa.table("facilities", sa.column("id"), sa.column("name"))


@dataclasses.dataclass(frozen=True)
class LogFilter:
    """A validated filter. Dates are JST calendar dates, both ends inclusive."""

    start: dt.date | None = None
    end: dt.date | None = None
    login: str | None = None
    organisation: str | None = None
    child_id: int | None = None
    route: str | None = None
    status: str | None = None  # "404" or a class such as "4xx"
    event: str | None = None
    reason: str | None = None
    action: str | None = None
    entity: str | None = None

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for page links and the CSV link)."""
        params = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                params[field.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return params


@dataclasses.dataclass(frozen=True)
class Cursor:
    occurred_at: dt.datetime
    id: int

    def encode(self) -> str:
        micros = (self.occurred_at - EPOCH) // dt.timedelta(microseconds=1)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, text) -> Cursor | None:
        """None for anything that is not a cursor we made: the first page is shown instead."""
        if not isinstance(text, str):
            return None
        match = re.fullmatch(r"(-?\d{1,19})\.(\d{1,19})", text.strip())
        if not match:
            return None
        micros, row_id = int(match.group(1)), int(match.group(2))
        if row_id > MAX_ROW_ID:
            return None
        try:
            return cls(EPOCH + dt.timedelta(microseconds=micros), row_id)
        except OverflowError:
            return None


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclasses.dataclass
class LogPage:
    rows: list
    next_cursor: str | None


def jst_day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Japan date ``day`` begins."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=JST).astimezone(dt.UTC)


# --- Validating the filter form ------------------------------------------------


def _clean_id(raw, *, maximum=MAX_ID):
    text = unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else ""
    if not text:
        return None, None
    if not re.fullmatch(r"\d{1,30}", text):
        return None, _("半角の数字で入力してください。")
    value = int(text)
    if not 1 <= value <= maximum:
        return None, _("${min}から${max}までの数を入力してください。", mapping={"min": 1, "max": maximum})
    return value, None


def _clean_status(raw):
    text = unicodedata.normalize("NFKC", raw).strip().lower() if isinstance(raw, str) else ""
    if not text:
        return None, None
    if not re.fullmatch(r"[1-5](\d\d|xx)", text):
        return None, _("404 のような3桁の番号、または 4xx のように入力してください。")
    return text, None


def _clean_date_in_range(raw):
    # clean_date refuses days outside the application's range (webapp.forms.FIRST_DAY..LAST_DAY).
    return clean_date(raw, required=False)


def parse_filter(kind: str, params, routes: list[str] = ()) -> tuple[LogFilter, FormErrors]:
    """Validate the GET parameters for log ``kind``; unknown parameters are ignored."""
    fields = FIELDS[kind]
    values: dict = {}
    errors = FormErrors()

    def take(name, cleaner, **kwargs):
        if name not in fields:
            return
        value, error = cleaner(params.get(name), **kwargs)
        if error is not None:
            errors[name] = error
        elif value is not None:
            values[name] = value

    take("start", _clean_date_in_range)
    take("end", _clean_date_in_range)
    take("login", clean_text, max_length=64)
    take("organisation", clean_text, max_length=100)
    take("child_id", _clean_id)
    take("route", lambda raw: clean_choice(raw, routes, required=False))
    take("status", _clean_status)
    take("event", lambda raw: clean_choice(raw, [str(e) for e in EVENT_LABELS], required=False))
    take("reason", lambda raw: clean_choice(raw, [str(r) for r in REASON_LABELS], required=False))
    take("action", lambda raw: clean_choice(raw, ACTION_LABELS, required=False))
    take("entity", clean_text, max_length=50)
    if values.get("start") and values.get("end") and values["start"] > values["end"]:
        errors["end"] = _("終了日は開始日と同じか後の日付にしてください。")
    return LogFilter(**values), errors


# --- Queries -------------------------------------------------------------------


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _accounts_of_organisation(text: str):
    pattern = _like(text)
    return (
        sa.select(_accounts.c.id)
        .select_from(_accounts)
        .outerjoin(_centres, _centres.c.id == _accounts.c.centre_id)
        .outerjoin(_facilities, _facilities.c.id == _accounts.c.facility_id)
        .where(sa.or_(_centres.c.name.like(pattern, escape="\\"), _facilities.c.name.like(pattern, escape="\\")))
    )


def filter_clauses(kind: str, f: LogFilter) -> list:
    model = MODELS[kind]
    clauses = []
    if f.start:
        clauses.append(model.occurred_at >= jst_day_start(f.start))
    if f.end:
        clauses.append(model.occurred_at < jst_day_start(f.end + dt.timedelta(days=1)))
    if f.login:
        clauses.append((AuditRecord.actor if kind == "changes" else model.login) == f.login)
    if f.organisation:
        if kind == "auth":
            clauses.append(AuthEvent.account_id.in_(_accounts_of_organisation(f.organisation)))
        else:
            clauses.append(model.organisation.like(_like(f.organisation), escape="\\"))
    if f.child_id is not None:
        if kind == "changes":
            clauses.append(AuditRecord.child_id == f.child_id)
        else:
            # object_ids is the JSON of the route's ids, e.g. {"child_id": "12", "period": "2026-11"};
            # the closing quote keeps 12 from matching 123.
            clauses.append(AccessLogEntry.object_ids.like(_like(f'"child_id": "{f.child_id}"'), escape="\\"))
    if f.route:
        clauses.append(AccessLogEntry.route == f.route)
    if f.status:
        if f.status.endswith("xx"):
            low = int(f.status[0]) * 100
            clauses.append(AccessLogEntry.status.between(low, low + 99))
        else:
            clauses.append(AccessLogEntry.status == int(f.status))
    if f.event:
        clauses.append(AuthEvent.event == f.event)
    if f.reason:
        clauses.append(AuthEvent.reason == f.reason)
    if f.action:
        clauses.append(AuditRecord.action == f.action)
    if f.entity:
        clauses.append(AuditRecord.entity == f.entity)
    return clauses


class LogQueries:
    """Reads one log at a time. Takes a session; no request needed."""

    def __init__(self, db):
        self.db = db

    def _select(self, kind: str, f: LogFilter, after: Cursor | None, limit: int):
        model = MODELS[kind]
        # Plain rows, not ORM objects: nothing piles up in the session's identity map.
        stmt = sa.select(model.__table__).where(*filter_clauses(kind, f))
        if after is not None:
            stmt = stmt.where(sa.or_(
                model.occurred_at < after.occurred_at,
                sa.and_(model.occurred_at == after.occurred_at, model.id < after.id),
            ))
        return stmt.order_by(model.occurred_at.desc(), model.id.desc()).limit(limit)

    def page(self, kind: str, f: LogFilter, cursor: Cursor | None = None, size: int = PAGE_SIZE) -> LogPage:
        """Up to ``size`` rows, newest first, strictly after ``cursor``."""
        rows = list(self.db.execute(self._select(kind, f, cursor, size + 1)))
        more = len(rows) > size
        rows = rows[:size]
        next_cursor = Cursor(rows[-1].occurred_at, rows[-1].id).encode() if more else None
        return LogPage(rows, next_cursor)

    def all_rows(self, kind: str, f: LogFilter, limit: int = EXPORT_MAX_ROWS):
        """Every matching row, newest first, read in keyset batches. Stops after ``limit`` + 1."""
        cursor, count = None, 0
        while count <= limit:
            batch = list(self.db.execute(self._select(kind, f, cursor, EXPORT_BATCH)))
            yield from batch
            count += len(batch)
            if len(batch) < EXPORT_BATCH:
                return
            cursor = Cursor(batch[-1].occurred_at, batch[-1].id)

    def chain_status(self) -> tuple[int, list]:
        """Verify the whole chain (reads every record: run on demand, not on every view)."""
        return verify_chain(self.db.connection())


def record_export(db, actor: Actor, kind: str, f: LogFilter, rows: int) -> None:
    """An export of logs is itself recorded in the chain: who took which logs home."""
    append_records(db.connection(), actor, [{
        "action": "export", "entity": MODELS[kind].__tablename__, "entity_id": None, "child_id": f.child_id,
        "before": None, "after": json.dumps({"filter": f.as_params(), "rows": rows}, ensure_ascii=False,
                                            sort_keys=True),
    }])
    # Written with Core: tell zope.sqlalchemy the transaction must be committed.
    zope.sqlalchemy.mark_changed(db)


# --- Presentation helpers ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Shown:
    """A value as shown on screen; ``raw`` is the stored text when the screen shows it otherwise."""

    text: str
    raw: str | None = None

    def __str__(self) -> str:
        return self.text


# A stored timestamp (``_jsonable`` writes aware datetimes with isoformat()).
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)")


def change_lines(record) -> list[tuple[str, Shown, Shown]]:
    """(field, before, after) for each field a change record mentions, for reading on screen.

    Timestamps are stored in UTC and shown in Japan time, the stored text kept as ``raw``.
    """
    before = _loads(record.before)
    after = _loads(record.after)
    lines = []
    for key in sorted(set(before) | set(after)):
        lines.append((key, _show(before.get(key)), _show(after.get(key))))
    return lines


def _loads(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"(raw)": text}
    return value if isinstance(value, dict) else {"(value)": value}


def _show(value) -> Shown:
    if value is None:
        return Shown("")
    if isinstance(value, bool):
        return Shown("はい" if value else "いいえ")
    if isinstance(value, (dict, list)):
        return Shown(json.dumps(value, ensure_ascii=False))
    text = str(value)
    if isinstance(value, str) and _INSTANT.fullmatch(text):
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError:
            return Shown(text)
        return Shown(instant.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S"), raw=text)
    return Shown(text)


# --- CSV ----------------------------------------------------------------------------

def _jst(value: dt.datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _utc(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat() if value else ""


# Columns are only ever added at the end: spreadsheets and scripts read them by position.
# Each log keeps its stored codes (route, table, event, action, UTC time) and their
# names / Japan time side by side, so a row can be searched either way.


CSV_COLUMNS = {
    "access": [
        ("日時（日本時間）", lambda r: _jst(r.occurred_at)), ("ログインID", lambda r: r.login),
        ("役割", lambda r: role_label(r.role)), ("所属", lambda r: r.organisation),
        ("接続元", lambda r: r.client_address), ("メソッド", lambda r: r.method), ("画面", lambda r: r.route),
        ("パス", lambda r: r.path), ("対象ID", lambda r: r.object_ids), ("結果", lambda r: r.status),
        ("処理時間（ミリ秒）", lambda r: r.duration_ms), ("リクエストID", lambda r: r.request_id),
        ("日時（UTC）", lambda r: _utc(r.occurred_at)), ("画面名", lambda r: route_label(r.route)),
    ],
    "auth": [
        ("日時（日本時間）", lambda r: _jst(r.occurred_at)), ("種別", lambda r: event_label(r.event)),
        ("理由", lambda r: reason_label(r.reason)), ("ログインID", lambda r: r.login),
        ("アカウントID", lambda r: r.account_id), ("操作者アカウントID", lambda r: r.actor_id),
        ("接続元", lambda r: r.client_address), ("ブラウザ", lambda r: r.user_agent),
        ("日時（UTC）", lambda r: _utc(r.occurred_at)), ("種別コード", lambda r: r.event),
        ("理由コード", lambda r: r.reason),
    ],
    "changes": [
        ("記録番号", lambda r: r.id), ("日時（日本時間）", lambda r: _jst(r.occurred_at)),
        ("操作者", lambda r: r.actor), ("役割", lambda r: role_label(r.role)), ("所属", lambda r: r.organisation),
        ("接続元", lambda r: r.client_address), ("操作", lambda r: action_label(r.action)),
        ("対象", lambda r: r.entity), ("対象ID", lambda r: r.entity_id), ("児童ID", lambda r: r.child_id),
        ("変更前", lambda r: r.before), ("変更後", lambda r: r.after), ("ハッシュ", lambda r: r.hash),
        ("日時（UTC）", lambda r: _utc(r.occurred_at)), ("操作コード", lambda r: r.action),
        ("対象名", lambda r: table_label(r.entity)),
    ],
}


def csv_bytes(kind: str, rows) -> tuple[bytes, int]:
    """The filtered rows as an Excel-ready CSV (webapp.csv_export), and how many there were."""
    columns = CSV_COLUMNS[kind]
    lines = [[get(row) for _header, get in columns] for row in rows]
    return csv_export.csv_bytes([header for header, _get in columns], lines), len(lines)
