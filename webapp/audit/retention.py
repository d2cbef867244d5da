"""Retention: old access-log rows and auth events move to archive files, never silently away.

(S-ACCESSLOG, O-LOGKEEP; the ward contract, T-SP 17, keeps logs for a defined period.)

``mimamori audit archive`` takes every *whole JST month* that lies entirely
before ``today - mimamori.log_retention_days`` and, for each of the two
tables and each month:

1. writes the month's rows, oldest first, as gzip JSON lines to a temporary
   file in ``mimamori.log_archive_dir``, fsyncs it and renames it to
   ``<table>-<YYYY-MM>.jsonl.gz`` (``-2``, ``-3``… if a part exists already);
2. writes the manifest ``<file>.manifest.json`` (SHA-256 of the file, row
   count, first and last id, a digest of the ids) the same way, and appends
   the file's line to ``SHA256SUMS`` (``sha256sum -c SHA256SUMS`` works);
3. reads the file back and checks it against the manifest and the rows read;
4. only then deletes exactly those rows, in one transaction that also appends
   an ``archive`` record (file name, SHA-256, rows) to the change-record
   chain — if the number of rows deleted differs, nothing is deleted.

Whole months only, so each month is archived once and a month's file is
complete; retention is therefore between the setting and a month more.
Running it again is harmless: archived months have no rows left; a month
whose file was written but whose rows were not deleted (a crash between 3
and 4) is recognised by the id digest and finished without a second file.

Change records (``audit_records``) are never archived or deleted: they are an
append-only hash chain, and removing its head would make the rest
unverifiable. See runbooks/security-logs.md for their growth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import hashlib
import json
import os
import pathlib
import re

import sqlalchemy as sa

from webapp.audit.models import AccessLogEntry, AuthEvent
from webapp.audit.recorder import append_records, system_actor
from webapp.clock import JST

DEFAULT_RETENTION_DAYS = 400
DEFAULT_ARCHIVE_DIR = "var/log-archive"
# Below this a value is a typo (days for months?), not a retention policy.
MIN_RETENTION_DAYS = 90
TABLES = {"access_log": AccessLogEntry, "auth_events": AuthEvent}
FORMAT = "mimamori-log-archive/1"
BATCH = 5000
SUMS_FILE = "SHA256SUMS"
# Any constant will do; it only has to differ from the change-record chain's lock.
ARCHIVE_LOCK = 0x6D696D62


class ArchiveError(Exception):
    """Archiving stopped; nothing of the month in question was deleted."""


@dataclasses.dataclass(frozen=True)
class RetentionSettings:
    retention_days: int
    archive_dir: pathlib.Path

    @classmethod
    def from_settings(cls, settings: dict) -> RetentionSettings:
        raw = str(settings.get("mimamori.log_retention_days", DEFAULT_RETENTION_DAYS)).strip()
        if not re.fullmatch(r"[0-9]{1,6}", raw) or int(raw) < MIN_RETENTION_DAYS:
            raise ArchiveError(
                f"mimamori.log_retention_days must be a whole number of days, at least {MIN_RETENTION_DAYS}: {raw!r}")
        directory = settings.get("mimamori.log_archive_dir") or DEFAULT_ARCHIVE_DIR
        return cls(int(raw), pathlib.Path(directory))


@dataclasses.dataclass
class MonthResult:
    table: str
    month: str  # YYYY-MM (JST)
    rows: int
    file: pathlib.Path | None = None
    sha256: str | None = None
    deleted: int = 0
    reused: bool = False  # the file existed from an interrupted run


def cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """The first instant kept: 00:00 JST on the 1st of the month ``retention_days`` ago."""
    day = now.astimezone(JST).date() - dt.timedelta(days=retention_days)
    return dt.datetime(day.year, day.month, 1, tzinfo=JST).astimezone(dt.UTC)


def _next_month(start: dt.datetime) -> dt.datetime:
    local = start.astimezone(JST)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return dt.datetime(year, month, 1, tzinfo=JST).astimezone(dt.UTC)


def _months_before(connection, model, limit: dt.datetime):
    """(start, end) UTC of each JST month holding rows older than ``limit``, oldest first."""
    oldest = connection.execute(sa.select(sa.func.min(model.occurred_at)).where(model.occurred_at < limit)).scalar()
    if oldest is None:
        return
    if oldest.tzinfo is None:  # SQLite, through an aggregate: no type processing
        oldest = oldest.replace(tzinfo=dt.UTC) if isinstance(oldest, dt.datetime) else \
            dt.datetime.fromisoformat(str(oldest)).replace(tzinfo=dt.UTC)
    local = oldest.astimezone(JST)
    start = dt.datetime(local.year, local.month, 1, tzinfo=JST).astimezone(dt.UTC)
    while start < limit:
        end = _next_month(start)
        yield start, end
        start = end


def _in_month(model, start, end):
    return sa.and_(model.occurred_at >= start, model.occurred_at < end)


def _jsonable(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _rows(connection, model, start, end):
    table = model.__table__
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(table).where(_in_month(model, start, end), table.c.id > last_id).order_by(table.c.id).limit(BATCH)
        ).mappings().all()
        if not batch:
            return
        yield from batch
        last_id = batch[-1]["id"]


def _fsync_dir(directory: pathlib.Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + ".manifest.json")


def _write_archive(connection, model, start, end, path: pathlib.Path) -> dict:
    """Write the month's rows to ``path`` durably; returns what the manifest records about them."""
    tmp = path.with_name(path.name + ".tmp")
    ids = hashlib.sha256()
    count, first_id, last_id, first_at, last_at = 0, None, None, None, None
    with open(tmp, "wb") as raw:
        # mtime=0: the same rows always give the same bytes.
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as archive:
            for row in _rows(connection, model, start, end):
                line = json.dumps({k: _jsonable(v) for k, v in row.items()}, ensure_ascii=False, sort_keys=True)
                archive.write(line.encode() + b"\n")
                ids.update(f"{row['id']}\n".encode())
                count += 1
                first_id = row["id"] if first_id is None else first_id
                last_id = row["id"]
                occurred = _jsonable(row["occurred_at"])
                first_at = occurred if first_at is None else min(first_at, occurred)
                last_at = occurred if last_at is None else max(last_at, occurred)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return {"rows": count, "first_id": first_id, "last_id": last_id, "ids_sha256": ids.hexdigest(),
            "first_occurred_at": first_at, "last_occurred_at": last_at}


def _id_digest(connection, model, start, end) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    table = model.__table__
    last_id = 0
    while True:
        batch = connection.execute(
            sa.select(table.c.id).where(_in_month(model, start, end), table.c.id > last_id)
            .order_by(table.c.id).limit(BATCH * 4)
        ).scalars().all()
        if not batch:
            return count, digest.hexdigest()
        for row_id in batch:
            digest.update(f"{row_id}\n".encode())
        count += len(batch)
        last_id = batch[-1]


def verify_archive(path: pathlib.Path) -> list[str]:
    """Check an archive file against its manifest. Returns problems (empty: OK)."""
    path = pathlib.Path(path)
    mpath = manifest_path(path)
    if not path.is_file():
        return [f"{path}: file not found"]
    if not mpath.is_file():
        return [f"{mpath}: manifest not found"]
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{mpath}: manifest is not valid JSON ({exc})"]
    problems = []
    if manifest.get("format") != FORMAT or manifest.get("file") != path.name:
        problems.append(f"{mpath}: not the manifest of {path.name}")
    actual = file_sha256(path)
    if actual != manifest.get("sha256"):
        problems.append(f"{path.name}: SHA-256 {actual} differs from the manifest's {manifest.get('sha256')}"
                        " (the file was changed or damaged)")
    ids = hashlib.sha256()
    count, previous, first_id = 0, None, None
    try:
        with gzip.open(path, "rb") as archive:
            for number, line in enumerate(archive, start=1):
                row = json.loads(line)
                if previous is not None and row["id"] <= previous:
                    problems.append(f"{path.name}: line {number}: ids out of order")
                first_id = row["id"] if first_id is None else first_id
                previous = row["id"]
                ids.update(f"{row['id']}\n".encode())
                count += 1
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"{path.name}: unreadable after {count} rows ({type(exc).__name__}: {exc})")
        return problems
    if count != manifest.get("rows"):
        problems.append(f"{path.name}: {count} rows, the manifest says {manifest.get('rows')}")
    if ids.hexdigest() != manifest.get("ids_sha256") or (first_id, previous) != (
            manifest.get("first_id"), manifest.get("last_id")):
        problems.append(f"{path.name}: the row ids differ from the manifest's")
    return problems


class Archiver:
    """Archives and deletes old log rows. Takes an engine: each month is its own transaction."""

    def __init__(self, engine: sa.Engine, settings: RetentionSettings, now: dt.datetime, report=print):
        self.engine = engine
        self.settings = settings
        self.now = now
        self.report = report
        self.limit = cutoff(now, settings.retention_days)

    def plan(self) -> list[MonthResult]:
        """What would be archived: rows per table and month."""
        planned = []
        with self.engine.connect() as connection:
            for table, model in TABLES.items():
                for start, end in _months_before(connection, model, self.limit):
                    rows = connection.execute(
                        sa.select(sa.func.count()).select_from(model).where(_in_month(model, start, end))).scalar()
                    if rows:
                        planned.append(MonthResult(table, _month_label(start), rows))
        return planned

    def run(self) -> list[MonthResult]:
        directory = self.settings.archive_dir
        directory.mkdir(parents=True, exist_ok=True, mode=0o750)
        if self.engine.dialect.name != "postgresql":
            return self._run_all()
        # Every app node may have the timer; one run at a time does the work.
        with self.engine.connect() as lock:
            if not lock.execute(sa.select(sa.func.pg_try_advisory_lock(ARCHIVE_LOCK))).scalar():
                raise ArchiveError("another 'mimamori audit archive' is running (advisory lock held); nothing done")
            try:
                return self._run_all()
            finally:
                lock.execute(sa.select(sa.func.pg_advisory_unlock(ARCHIVE_LOCK)))
                lock.commit()

    def _run_all(self) -> list[MonthResult]:
        results = []
        for table, model in TABLES.items():
            with self.engine.connect() as connection:
                months = list(_months_before(connection, model, self.limit))
            for start, end in months:
                result = self._archive_month(table, model, start, end)
                if result is not None:
                    results.append(result)
        return results

    def _archive_month(self, table, model, start, end) -> MonthResult | None:
        month = _month_label(start)
        with self.engine.connect() as connection:
            rows, digest = _id_digest(connection, model, start, end)
            if rows == 0:
                return None
            path, reused = self._existing_part(table, month, rows, digest)
            if path is None:
                path = self._new_part_path(table, month)
                self.report(f"{table} {month}: writing {rows} rows to {path}")
                written = _write_archive(connection, model, start, end, path)
                if (written["rows"], written["ids_sha256"]) != (rows, digest):
                    # Rows arrived or went while writing: keep the file, delete nothing.
                    raise ArchiveError(f"{table} {month}: rows changed while archiving; run again")
                self._write_manifest(path, table, month, written)
            else:
                self.report(f"{table} {month}: {path.name} already holds these {rows} rows (earlier run)")
        problems = verify_archive(path)
        if problems:
            raise ArchiveError(f"{table} {month}: {path} failed verification, nothing deleted: " + "; ".join(problems))
        manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        deleted = self._delete(table, model, start, end, manifest, path)
        self.report(f"{table} {month}: verified {path.name} (sha256 {manifest['sha256']}); deleted {deleted} rows")
        return MonthResult(table, month, rows, path, manifest["sha256"], deleted, reused)

    def _existing_part(self, table, month, rows, digest):
        for manifest_file in sorted(self.settings.archive_dir.glob(f"{table}-{month}*.jsonl.gz.manifest.json")):
            try:
                manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if manifest.get("rows") == rows and manifest.get("ids_sha256") == digest:
                return manifest_file.with_name(manifest["file"]), True
        return None, False

    def _new_part_path(self, table, month) -> pathlib.Path:
        n = 1
        while True:
            name = f"{table}-{month}.jsonl.gz" if n == 1 else f"{table}-{month}-{n}.jsonl.gz"
            path = self.settings.archive_dir / name
            if not path.exists() and not manifest_path(path).exists():
                return path
            n += 1

    def _write_manifest(self, path, table, month, written) -> None:
        sha = file_sha256(path)
        manifest = {
            "format": FORMAT, "file": path.name, "table": table, "month": month, "sha256": sha,
            "columns": [c.name for c in TABLES[table].__table__.columns],
            "created_at": self.now.astimezone(dt.UTC).isoformat(), "retention_days": self.settings.retention_days,
            **written,
        }
        _write_durably(manifest_path(path), json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n")
        sums = self.settings.archive_dir / SUMS_FILE
        with open(sums, "a", encoding="utf-8") as out:
            out.write(f"{sha}  {path.name}\n")
            out.flush()
            os.fsync(out.fileno())

    def _delete(self, table, model, start, end, manifest, path) -> int:
        t = model.__table__
        with self.engine.begin() as connection:
            result = connection.execute(sa.delete(t).where(
                _in_month(model, start, end), t.c.id >= manifest["first_id"], t.c.id <= manifest["last_id"]))
            if result.rowcount != manifest["rows"]:
                raise ArchiveError(
                    f"{table} {manifest['month']}: would delete {result.rowcount} rows but archived "
                    f"{manifest['rows']}; rolled back, nothing deleted")
            # The archive's hash joins the tamper-evident chain in the same transaction.
            append_records(connection, system_actor("audit archive"), [{
                "action": "archive", "entity": table, "entity_id": manifest["month"], "child_id": None,
                "before": None,
                "after": json.dumps({"file": path.name, "sha256": manifest["sha256"], "rows": manifest["rows"]},
                                    sort_keys=True),
            }])
        return manifest["rows"]


def _month_label(start: dt.datetime) -> str:
    local = start.astimezone(JST)
    return f"{local.year:04d}-{local.month:02d}"
