"""What backup/drill, backup/run and backup/erase share: pgBackRest's info as
Prometheus metrics, the textfile and log writers, and the audit chain check run
against a restored copy.

Standard library only: it runs on the backup host, which has no app virtualenv.
The one exception, the Ed25519 signatures of the audit checkpoints, uses Debian's
python3-cryptography (roles/backup installs it), imported only when needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

TEXTFILE_DIR = Path(os.environ.get("MIMAMORI_TEXTFILE_DIR", "/var/lib/prometheus/node-exporter"))
LOG_DIR = Path(os.environ.get("MIMAMORI_BACKUP_LOG_DIR", "/var/log/mimamori-backup"))

# The audit chain (webapp/audit/chain.py): the same fields, order and encoding.
# tests/unit/test_backup_lib.py proves both compute the same hashes.
GENESIS = "0" * 64
HASHED_FIELDS = (
    "id", "occurred_at", "account_id", "actor", "role", "organisation", "client_address",
    "action", "entity", "entity_id", "child_id", "before", "after",
)
# One JSON object per record (psql -At): JSON escapes newlines, so one line each.
AUDIT_QUERY = (
    "SELECT json_build_object('id', id, 'occurred_at',"
    " to_char(occurred_at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), 'account_id', account_id,"
    " 'actor', actor, 'role', role, 'organisation', organisation, 'client_address', client_address,"
    " 'action', action, 'entity', entity, 'entity_id', entity_id, 'child_id', child_id,"
    " 'before', before, 'after', after, 'prev_hash', prev_hash, 'hash', hash)"
    " FROM audit_records ORDER BY id"
)


def parse_audit_line(line: str) -> dict:
    """One line of AUDIT_QUERY's output as the values the recorder hashed."""
    row = json.loads(line)
    if row["occurred_at"] is not None:
        # Stored without a zone, in UTC; the recorder hashed the aware value.
        row["occurred_at"] = dt.datetime.fromisoformat(row["occurred_at"]).replace(
            tzinfo=dt.UTC).isoformat()
    return row


def record_hash(prev_hash: str, values: dict) -> str:
    content = {name: values.get(name) for name in HASHED_FIELDS}
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(prev_hash.encode() + data).hexdigest()


def verify_audit_rows(rows: list[dict]) -> list[str]:
    """Problems in the chain (empty when it verifies): gaps, broken links, changed content."""
    problems, expected_id, prev = [], 1, GENESIS
    for row in rows:
        if row["id"] != expected_id:
            problems.append(f"record {expected_id}..{row['id'] - 1} missing")
        if row["prev_hash"] != prev:
            problems.append(f"record {row['id']}: not linked to the previous record")
        if record_hash(row["prev_hash"], row) != row["hash"]:
            problems.append(f"record {row['id']}: content does not match its hash")
        prev, expected_id = row["hash"], row["id"] + 1
    return problems


# The signed checkpoints (webapp/audit/anchor.py): the same lines, prefix and
# canonical JSON. tests/unit/test_backup_lib.py checks checkpoints the app signed.
CHECKPOINT_PREFIX = b"mimamori-audit-checkpoint-v1\n"
CHECKPOINT_GLOB = "checkpoints-*.jsonl"
# Where the file backups hold them (roles/app, roles/logging): each app node's own
# files, the log host's collected copy, and the public keys beside the app's key.
CHECKPOINT_PATHS = ("/var/lib/mimamori/audit-checkpoints", "/var/log/remote/audit-checkpoints")
PUBLIC_KEY_PATTERN = "/etc/mimamori/audit-keys/*.pub"


def read_public_keys(root: Path) -> dict[str, bytes]:
    """Every ``<key id>.pub`` under root (any depth): key id -> raw public key."""
    keys = {}
    for path in root.rglob("*.pub"):
        try:
            keys[path.stem] = bytes.fromhex(path.read_text().strip())
        except ValueError:
            continue
    return keys


def read_checkpoint_lines(root: Path) -> list[tuple[str, str]]:
    """(source, line) of every checkpoint file under root, duplicates (the same line
    from a node and from the log host's copy) once."""
    seen, out = set(), []
    for path in sorted(root.rglob(CHECKPOINT_GLOB)):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            line = line.strip()
            if line and line not in seen:
                seen.add(line)
                out.append((f"{path.name}:{number}", line))
    return out


def _signature_ok(public: bytes, message: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_checkpoints(rows: list[dict], lines: list[tuple[str, str]], public_keys: dict[str, bytes],
                       not_after: dt.datetime | None = None) -> tuple[int, list[str]]:
    """(checkpoints verified, problems): each signed checkpoint's record must be in the
    restored chain with the hash it signed. ``not_after``: a point-in-time restore
    ignores checkpoints signed after its target."""
    by_id = {row["id"]: row["hash"] for row in rows}
    last_id = max(by_id, default=0)
    verified, problems = 0, []
    for source, line in lines:
        try:
            data = json.loads(line)
            content = {k: data[k] for k in ("v", "record_id", "hash", "at", "key_id", "reason")}
            at = dt.datetime.fromisoformat(data["at"])
            signature = bytes.fromhex(data["signature"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"checkpoint {source}: unreadable")
            continue
        public = public_keys.get(content["key_id"])
        message = CHECKPOINT_PREFIX + json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        if public is None:
            problems.append(f"checkpoint {source}: unknown key {content['key_id']}")
            continue
        if not _signature_ok(public, message, signature):
            problems.append(f"checkpoint {source}: bad signature")
            continue
        if not_after is not None and at > not_after:
            continue
        verified += 1
        record_id = content["record_id"]
        if record_id == 0:
            continue
        if record_id > last_id:
            problems.append(f"checkpoint {source} signed record {record_id}, the chain ends at {last_id}"
                            " (deleted tail)")
        elif by_id.get(record_id) is None:
            problems.append(f"checkpoint {source}: record {record_id} is missing")
        elif by_id[record_id] != content["hash"]:
            problems.append(f"checkpoint {source}: record {record_id} differs from its signed hash"
                            " (changed, or recomputed after a change)")
    return verified, problems


def _epoch(value) -> float:
    return float(value)


def info_metrics(info: list[dict], stanza: str = "mimamori") -> dict[str, float]:
    """Metrics from `pgbackrest info --output=json`: the end of the last good
    backup of any type and of the last full one, and how many full backups
    (generations) the repository holds."""
    st = next((s for s in info if s.get("name") == stanza), None)
    if st is None:
        raise ValueError(f"stanza {stanza!r} not in pgBackRest's info")
    backups = [b for b in st.get("backup", []) if not b.get("error")]
    full = [b for b in backups if b.get("type") == "full"]
    out = {
        "mimamori_backup_generations": float(len(full)),
        "mimamori_backup_stanza_ok": 1.0 if st.get("status", {}).get("code") == 0 else 0.0,
    }
    if backups:
        out["mimamori_backup_last_success_timestamp_seconds"] = max(
            _epoch(b["timestamp"]["stop"]) for b in backups)
    if full:
        out["mimamori_backup_last_full_timestamp_seconds"] = max(
            _epoch(b["timestamp"]["stop"]) for b in full)
    return out


HELP = {
    "mimamori_backup_generations": "Full backups (generations) the pgBackRest repository holds",
    "mimamori_backup_stanza_ok": "1 if pgBackRest reports the stanza ok",
    "mimamori_backup_last_success_timestamp_seconds": "End of the last good backup",
    "mimamori_backup_last_full_timestamp_seconds": "End of the last good full backup",
    "mimamori_restore_drill_last_run_timestamp_seconds": "End of the last restore drill",
    "mimamori_restore_drill_last_success_timestamp_seconds": "End of the last restore drill that passed",
    "mimamori_restore_drill_success": "1 if the last restore drill passed, else 0",
    "mimamori_restore_drill_duration_seconds": "Duration of the last restore drill",
    "mimamori_files_backup_last_success_timestamp_seconds": "End of the last good restic backup of files",
}


def render_metrics(values: dict[str, float]) -> str:
    lines = []
    for name in sorted(values):
        lines.append(f"# HELP {name} {HELP.get(name, name)}")
        lines.append(f"# TYPE {name} gauge")
        lines.append(f"{name} {values[name]:.6g}" if abs(values[name]) < 1e6
                     else f"{name} {values[name]:.0f}")
    return "\n".join(lines) + "\n"


def read_metrics(path: Path) -> dict[str, float]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                name, value = line.split()
                out[name] = float(value)
    return out


def write_metrics(name: str, values: dict[str, float], keep: bool = False) -> Path:
    """Write ``name``.prom atomically (the node exporter never reads half a file).
    keep: merge into what the file holds (a failed drill keeps the last success time)."""
    path = TEXTFILE_DIR / f"{name}.prom"
    merged = {**read_metrics(path), **values} if keep else values
    _atomic_write(path, render_metrics(merged), 0o644)
    return path


def _atomic_write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def log(name: str, entry: dict) -> Path:
    """Append one JSON line to the log of ``name`` (drill, backup, erase)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    path = LOG_DIR / f"{name}.jsonl"
    with path.open("a") as f:
        f.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
