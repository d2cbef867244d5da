"""CSV import: check a whole file, then write all of it or nothing (F-IMPORT).

A dry run checks and reports per line what would happen. Applying checks
the same way and writes only when not a single line has a problem; the
writes run in a savepoint, so even a conflict found by the database at the
last moment leaves nothing half-imported.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.exc import IntegrityError

from webapp.accounts.admin_services import bulk_password_service
from webapp.csv_export import csv_bytes
from webapp.i18n import _
from webapp.imports.kinds import CREATE, ERROR, KINDS, UNCHANGED, UPDATE, LineResult
from webapp.imports.parsing import MAX_BYTES, ImportFileError, Problem, decode, read_rows


@dataclasses.dataclass
class ImportResult:
    kind: str
    applied: bool = False
    file_error: object = None
    lines: list[LineResult] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    passwords: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.problems

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (CREATE, UPDATE, UNCHANGED, ERROR)}


class ImportService:
    def __init__(self, db, *, today, now, account_id=None, passwords=None):
        self.db = db
        self.today = today
        self.now = now
        self.account_id = account_id
        self.passwords = passwords or bulk_password_service()

    def run(self, kind_name: str, data: bytes, *, apply: bool) -> ImportResult:
        result = ImportResult(kind_name)
        try:
            if len(data) > MAX_BYTES:
                raise ImportFileError(_("ファイルが大きすぎます（上限 5 MB）。ファイルを分けて取り込んでください。"))
            text = decode(data)
            kind = KINDS[kind_name](self.db, today=self.today, now=self.now, account_id=self.account_id,
                                    passwords=self.passwords)
            rows, problems, present = read_rows(text, kind.columns, kind.refused)
        except ImportFileError as exc:
            result.file_error = exc.message
            return result
        result.problems.extend(problems)
        kind.preload()
        for row in rows:
            line = kind.check(row, present)
            result.lines.append(line)
            result.problems.extend(line.problems)
        result.problems.sort(key=lambda p: p.line or 0)
        if apply and result.ok:
            try:
                with self.db.begin_nested():
                    result.passwords = kind.apply(result.lines)
                    self.db.flush()
            except IntegrityError:
                result.passwords = []
                result.problems.append(Problem(None, None, _("取り込み中に他の操作と重なったため、何も取り込みませんでした。もう一度確認してから取り込んでください。")))
            else:
                result.applied = True
        return result


def sample_csv(kind_name: str) -> bytes:
    """A header and one example line, UTF-8 with BOM so that Excel opens it correctly."""
    kind = KINDS[kind_name]
    return csv_bytes([column.header for column in kind.columns], [kind.example])
