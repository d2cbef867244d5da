"""The hash chain over audit records: computing and verifying it.

hash(n) = SHA-256(prev_hash(n) + canonical JSON of record n's content, id included)
prev_hash(1) = 64 zeros.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import sqlalchemy as sa

from webapp.audit.models import AuditRecord

GENESIS = "0" * 64
HASHED_FIELDS = (
    "id", "occurred_at", "account_id", "actor", "role", "organisation", "client_address",
    "action", "entity", "entity_id", "child_id", "before", "after",
)


def canonical(values: dict) -> bytes:
    content = {}
    for name in HASHED_FIELDS:
        value = values.get(name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        content[name] = value
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def record_hash(prev_hash: str, values: dict) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(values)).hexdigest()


@dataclasses.dataclass
class ChainProblem:
    record_id: int
    problem: str  # Japanese, for the auditor

    def __str__(self) -> str:
        return f"record {self.record_id}: {self.problem}"


def verify_chain(connection, batch: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk every record in id order. Returns (records checked, problems)."""
    problems: list[ChainProblem] = []
    expected_id, prev_hash, checked = 1, GENESIS, 0
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(AuditRecord.__table__).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(batch)
        ).mappings().all()
        if not rows:
            break
        for row in rows:
            checked += 1
            values = dict(row)
            if row["id"] != expected_id:
                problems.append(ChainProblem(
                    expected_id, f"記録 {expected_id}〜{row['id'] - 1} が削除されています（欠番）"))
            if row["prev_hash"] != prev_hash:
                problems.append(ChainProblem(row["id"], "直前の記録とつながっていません（削除または並べ替え）"))
            if record_hash(row["prev_hash"], _normalise(values)) != row["hash"]:
                problems.append(ChainProblem(row["id"], "内容が書き換えられています（ハッシュ不一致）"))
            prev_hash, expected_id, last_id = row["hash"], row["id"] + 1, row["id"]
    return checked, problems


def _normalise(values: dict) -> dict:
    # Timestamps come back naive from SQLite; the recorder hashed them as UTC.
    occurred = values["occurred_at"]
    if occurred is not None and occurred.tzinfo is None:
        import datetime as dt

        values["occurred_at"] = occurred.replace(tzinfo=dt.UTC)
    return values
