"""Signed checkpoints of the change-record chain's head (S-AUDIT, SP17 "records that cannot be altered").

STATUS (issue #20 items 1-2):
  done  — Ed25519 key pairs (``mimamori audit keygen``; provisioning makes
          them with openssl in provisioning/lib/secrets.py, rotate-audit-key),
          checkpoint files (named by node where ``mimamori.audit_checkpoint_node``
          is set), the periodic job ``audit.checkpoint`` (last in ``jobs run``;
          a failure where ``mimamori.audit_checkpoints_required`` or half the
          settings are set), a checkpoint after every log CSV export (after
          commit), every ``audit archive`` and every deploy, ``mimamori audit
          checkpoint``, and ``mimamori audit verify`` against the checkpoints,
          also offline (``--database-url --checkpoints --public-keys``, no ini
          file, no server secret). Provisioning, shipping, backups, the daily
          verification with its metric and alert, the restore drill's check:
          runbooks/security-logs.md. Tests: tests/functional/test_audit_anchor*.py,
          tests/unit/test_audit_signatures.py, tests/unit/test_backup_checkpoints.py,
          tests/lab/test_95_audit_tamper.py.
  lab   — 2026-12-07 on the shared lab: test_27_audit_checkpoints.py and
          test_95_audit_tamper.py pass (alert email 14 s after the tampering,
          resolved 15 s after the repair, verify 2-4 s for ~5,950 records);
          test_15_monitoring.py's audit check needed the metric file readable
          by the node exporter (fixed in the verify script).
  left  — ``verify`` checks every checkpoint (about 0.1 ms each with
          ``cryptography``): add ``--since`` if years of them make it slow.

Why: the SHA-256 chain alone proves nothing against someone who can drop the
append-only triggers — they delete the newest rows, or rewrite a row and
recompute every following hash with the app's own :func:`record_hash`, and
the chain verifies. A checkpoint pins (record id, hash) at a time with a
signature made by a key the database and its roles never hold; once a copy
of the checkpoint has left the machine (the log host, the file backups), the
past can no longer be rewritten without ``verify`` naming it.

Files: ``<checkpoint_dir>/checkpoints-YYYY-MM-DD.jsonl`` (the JST day), one
JSON object per line, only ever appended to (a file per day so that shipping
and backups pick up small, finished files). A line::

    {"at": "2026-11-26T01:00:00+00:00", "hash": "…", "key_id": "…", "reason": "job",
     "record_id": 1234, "signature": "…", "v": 1}

The signature covers the canonical JSON of every other field, after
``SIGNED_PREFIX``. ``record_id`` 0 with the genesis hash is an empty chain.

Keys: ``<key_id>.key`` holds the 32-byte seed in hex (mode 0400/0600, owned by
the user the app runs as, read by the app process only — never by the
database or its roles); ``<key_id>.pub`` the public key in hex. The key id is
the first 16 hex digits of SHA-256 of the public key. Public keys are kept
by key id in one directory, so checkpoints signed before a rotation still
verify after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import pathlib
import re

import sqlalchemy as sa

from webapp.audit import signatures
from webapp.audit.chain import GENESIS, ChainProblem, verify_chain
from webapp.audit.models import AuditRecord

log = logging.getLogger(__name__)

SIGNED_PREFIX = b"mimamori-audit-checkpoint-v1\n"
FILE_PATTERN = "checkpoints-*.jsonl"
DEFAULT_INTERVAL_MINUTES = 60
REASONS = ("job", "export", "archive", "manual")
_JST = dt.timezone(dt.timedelta(hours=9))
_HEX = re.compile(r"[0-9a-f]+")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_NODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,62}")


class AnchorError(Exception):
    """A checkpoint could not be written (configuration, key file, directory)."""


@dataclasses.dataclass(frozen=True)
class AnchorSettings:
    signing_key: pathlib.Path | None
    checkpoint_dir: pathlib.Path | None
    public_key_dir: pathlib.Path | None
    interval: dt.timedelta
    # Several app nodes each write their own files, named by node, so that the
    # log host's collected copy keeps every node's lines apart.
    node: str = ""
    # Provisioning sets the key everywhere: then a missing setting is a failure,
    # not "not configured".
    required: bool = False

    @classmethod
    def from_settings(cls, settings: dict) -> AnchorSettings:
        raw = str(settings.get("mimamori.audit_checkpoint_interval_minutes", DEFAULT_INTERVAL_MINUTES)).strip()
        if not re.fullmatch(r"[0-9]{1,5}", raw) or int(raw) < 1:
            raise AnchorError(f"mimamori.audit_checkpoint_interval_minutes must be a whole number of minutes: {raw!r}")

        def path(name):
            value = str(settings.get(name) or "").strip()
            return pathlib.Path(value) if value else None

        node = str(settings.get("mimamori.audit_checkpoint_node") or "").strip()
        if node and not _NODE.fullmatch(node):
            raise AnchorError(f"mimamori.audit_checkpoint_node must be a host name (letters, digits, -): {node!r}")
        required = str(settings.get("mimamori.audit_checkpoints_required") or "").strip().lower() in ("true", "yes", "1")
        return cls(path("mimamori.audit_signing_key"), path("mimamori.audit_checkpoint_dir"),
                   path("mimamori.audit_public_key_dir"), dt.timedelta(minutes=int(raw)), node, required)

    @property
    def signing(self) -> bool:
        """Checkpoints are written (both the key and the directory are set)."""
        return self.signing_key is not None and self.checkpoint_dir is not None

    @property
    def max_age(self) -> dt.timedelta:
        # One missed run is tolerated (a timer late, a node restarting); two are not.
        return 2 * self.interval


# --- Keys ----------------------------------------------------------------------------


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class SigningKey:
    seed: bytes
    public: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    @classmethod
    def load(cls, path: pathlib.Path) -> SigningKey:
        try:
            text = path.read_text().strip()
        except OSError as exc:
            raise AnchorError(f"cannot read the checkpoint signing key {path}: {exc.strerror}") from None
        if not (len(text) == 2 * signatures.SEED_BYTES and _HEX.fullmatch(text)):
            raise AnchorError(f"{path} is not a checkpoint signing key (64 hex digits)")
        seed = bytes.fromhex(text)
        return cls(seed, signatures.public_key(seed))


def generate_key_pair(key_dir: pathlib.Path) -> tuple[str, pathlib.Path, pathlib.Path]:
    """Write ``<id>.key`` (mode 0600, never overwritten) and ``<id>.pub``; return (id, key, pub)."""
    seed = os.urandom(signatures.SEED_BYTES)
    public = signatures.public_key(seed)
    identifier = key_id(public)
    key_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = key_dir / f"{identifier}.key", key_dir / f"{identifier}.pub"
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(seed.hex() + "\n")
    public_path.write_text(public.hex() + "\n")
    return identifier, private_path, public_path


def load_public_keys(directory: pathlib.Path | None) -> dict[str, bytes]:
    """Every ``<key_id>.pub`` of a directory whose name matches its content."""
    keys: dict[str, bytes] = {}
    if directory is None or not directory.is_dir():
        return keys
    for path in sorted(directory.glob("*.pub")):
        text = path.read_text().strip()
        if len(text) == 2 * signatures.PUBLIC_BYTES and _HEX.fullmatch(text):
            public = bytes.fromhex(text)
            if key_id(public) == path.stem:
                keys[path.stem] = public
    return keys


# --- Checkpoints ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    record_id: int
    hash: str
    at: dt.datetime
    key_id: str
    reason: str
    signature: str = ""
    source: str = ""  # file:line, for messages

    def signed_content(self) -> bytes:
        content = {"v": 1, "record_id": self.record_id, "hash": self.hash, "at": self.at.isoformat(),
                   "key_id": self.key_id, "reason": self.reason}
        return SIGNED_PREFIX + json.dumps(content, sort_keys=True, separators=(",", ":")).encode()

    def line(self) -> str:
        content = {"v": 1, "record_id": self.record_id, "hash": self.hash, "at": self.at.isoformat(),
                   "key_id": self.key_id, "reason": self.reason, "signature": self.signature}
        return json.dumps(content, sort_keys=True, separators=(",", ":"))


def chain_head(connection) -> tuple[int, str]:
    row = connection.execute(
        sa.select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).first()
    return (0, GENESIS) if row is None else (row.id, row.hash)


def write_checkpoint(engine: sa.Engine, settings: AnchorSettings, now: dt.datetime, reason: str) -> Checkpoint:
    """Sign the committed head of the chain and append it to today's file."""
    if not settings.signing:
        raise AnchorError("checkpoints are not configured (mimamori.audit_signing_key, mimamori.audit_checkpoint_dir)")
    if reason not in REASONS:
        raise ValueError(f"unknown checkpoint reason {reason!r}")
    key = SigningKey.load(settings.signing_key)
    with engine.connect() as connection:
        record_id, head_hash = chain_head(connection)
    unsigned = Checkpoint(record_id, head_hash, now.astimezone(dt.UTC), key.key_id, reason)
    signed = dataclasses.replace(unsigned, signature=signatures.sign(key.seed, unsigned.signed_content()).hex())
    settings.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    node = f"{settings.node}-" if settings.node else ""
    path = settings.checkpoint_dir / f"checkpoints-{node}{now.astimezone(_JST):%Y-%m-%d}.jsonl"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(descriptor, (signed.line() + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return signed


def write_checkpoint_if_configured(engine, settings: dict, now, reason: str) -> Checkpoint | None:
    anchor = AnchorSettings.from_settings(settings)
    return write_checkpoint(engine, anchor, now, reason) if anchor.signing else None


def _parse(line: str, source: str) -> Checkpoint:
    data = json.loads(line)
    if not isinstance(data, dict) or data.get("v") != 1:
        raise ValueError("not a version 1 checkpoint")
    at = dt.datetime.fromisoformat(data["at"])
    if at.tzinfo is None:
        raise ValueError("time without a zone")
    record_id, head_hash = data["record_id"], data["hash"]
    if not isinstance(record_id, int) or record_id < 0 or not (isinstance(head_hash, str) and len(head_hash) == 64):
        raise ValueError("bad record id or hash")
    return Checkpoint(record_id, head_hash, at, str(data["key_id"]), str(data["reason"]),
                      str(data["signature"]), source)


def read_checkpoints(directory: pathlib.Path) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint line of the directory's files, and a message per unreadable line."""
    checkpoints, unreadable = [], []
    for path in sorted(directory.glob(FILE_PATTERN)):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            source = f"{path.name}:{number}"
            try:
                checkpoints.append(_parse(line, source))
            except (ValueError, KeyError, TypeError):
                unreadable.append(f"checkpoint {source}: 読めない行です（改ざんまたは破損）")
    return checkpoints, unreadable


# --- Verification --------------------------------------------------------------------

# The names ``audit verify`` prints, one per kind of finding.
DELETED_TAIL = "deleted-tail"
RECOMPUTED = "recomputed-chain"
CHANGED = "changed-or-deleted-row"
MISSING = "checkpoint-missing"
BAD_SIGNATURE = "bad-signature"
UNKNOWN_KEY = "unknown-key"
UNREADABLE = "unreadable-checkpoint"


@dataclasses.dataclass(frozen=True)
class Finding:
    kind: str
    message: str  # Japanese, for the auditor

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message}"


@dataclasses.dataclass
class AnchoredResult:
    checked: int
    chain_problems: list[ChainProblem]
    findings: list[Finding]
    checkpoints_verified: int
    latest: Checkpoint | None

    @property
    def ok(self) -> bool:
        return not self.chain_problems and not self.findings


def verify_signatures(checkpoints, public_keys: dict[str, bytes]) -> tuple[list[Checkpoint], list[Finding]]:
    good, findings = [], []
    for checkpoint in checkpoints:
        public = public_keys.get(checkpoint.key_id)
        if public is None:
            findings.append(Finding(UNKNOWN_KEY, f"checkpoint {checkpoint.source}: 鍵 {checkpoint.key_id} "
                                                 "の公開鍵がありません（知らない鍵の署名は受け付けません）"))
            continue
        try:
            signature = bytes.fromhex(checkpoint.signature)
        except ValueError:
            signature = b""
        if not signatures.verify(public, checkpoint.signed_content(), signature):
            findings.append(Finding(BAD_SIGNATURE, f"checkpoint {checkpoint.source}: 署名が一致しません"
                                                   "（チェックポイントが書き換えられています）"))
            continue
        good.append(checkpoint)
    return good, findings


def _compare_with_database(connection, checkpoints, chain_intact: bool) -> list[Finding]:
    findings = []
    last_id, _ = chain_head(connection)
    for checkpoint in checkpoints:
        if checkpoint.record_id == 0:
            continue
        if checkpoint.record_id > last_id:
            findings.append(Finding(DELETED_TAIL, (
                f"checkpoint {checkpoint.source} は記録 {checkpoint.record_id} までを署名していますが、"
                f"データベースの記録は {last_id} までです（末尾の記録 {last_id + 1}〜{checkpoint.record_id} が削除されています）")))
            continue
        stored = connection.execute(
            sa.select(AuditRecord.hash).where(AuditRecord.id == checkpoint.record_id)).scalar()
        if stored is None:
            findings.append(Finding(CHANGED, f"記録 {checkpoint.record_id} がありません（checkpoint {checkpoint.source} "
                                             "が署名した記録が削除されています）"))
        elif stored != checkpoint.hash:
            if chain_intact:
                findings.append(Finding(RECOMPUTED, (
                    f"記録 {checkpoint.record_id} のハッシュが checkpoint {checkpoint.source} と異なります。"
                    "チェーン自体はつながっているため、書き換えの後にハッシュが計算し直されています")))
            else:
                findings.append(Finding(CHANGED, f"記録 {checkpoint.record_id} のハッシュが checkpoint "
                                                 f"{checkpoint.source} と異なります（記録の書き換えまたは削除）"))
    return findings


def verify_anchored(connection, checkpoint_dir: pathlib.Path, public_keys: dict[str, bytes],
                    reference_time: dt.datetime, max_age: dt.timedelta) -> AnchoredResult:
    """The chain by itself, then against every readable, validly signed checkpoint.

    ``reference_time`` is "now" on a server; for a database copy it is the
    newest record's time (checkpoints are then expected up to that moment).
    """
    checked, chain_problems = verify_chain(connection)
    checkpoints, unreadable = read_checkpoints(checkpoint_dir)
    findings = [Finding(UNREADABLE, message) for message in unreadable]
    good, signature_findings = verify_signatures(checkpoints, public_keys)
    findings += signature_findings
    findings += _compare_with_database(connection, good, chain_intact=not chain_problems)
    latest = max(good, key=lambda c: (c.at, c.record_id), default=None)
    if latest is None:
        findings.append(Finding(MISSING, f"{checkpoint_dir} に検証できるチェックポイントがありません"))
    elif reference_time - latest.at > max_age:
        findings.append(Finding(MISSING, (
            f"最新のチェックポイント（{latest.source}、{latest.at.astimezone(_JST):%Y-%m-%d %H:%M} JST）"
            f"から{int(max_age.total_seconds() // 60)}分以上たっています（チェックポイントの欠落または削除）")))
    return AnchoredResult(checked, chain_problems, findings, len(good), latest)


def newest_record_time(connection) -> dt.datetime | None:
    value = connection.execute(sa.select(sa.func.max(AuditRecord.occurred_at))).scalar()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
    return value


def latest_checkpoint_time(directory: pathlib.Path | None) -> dt.datetime | None:
    """The newest checkpoint written in this directory (unverified: only to know whether one is due)."""
    if directory is None or not directory.is_dir():
        return None
    checkpoints, _unreadable = read_checkpoints(directory)
    return max((c.at for c in checkpoints), default=None)


def checkpoint_job(engine, settings: dict, now: dt.datetime) -> str:
    """The periodic job: a checkpoint when the last one here is an interval old (idempotent)."""
    anchor = AnchorSettings.from_settings(settings)
    if not anchor.signing:
        half_set = anchor.signing_key is not None or anchor.checkpoint_dir is not None
        if anchor.required or half_set:
            raise AnchorError("checkpoints are required but mimamori.audit_signing_key and "
                              "mimamori.audit_checkpoint_dir are not both set")
        return "checkpoints not configured (mimamori.audit_signing_key, mimamori.audit_checkpoint_dir)"
    last = latest_checkpoint_time(anchor.checkpoint_dir)
    if last is not None and now - last < anchor.interval:
        return f"not due: last checkpoint {last.astimezone(_JST):%Y-%m-%d %H:%M} JST"
    checkpoint = write_checkpoint(engine, anchor, now, "job")
    return f"checkpoint at record {checkpoint.record_id} signed with key {checkpoint.key_id}"


def _after_commit(success: bool, engine, settings: dict, clock, reason: str) -> None:
    if not success:
        return
    try:
        write_checkpoint_if_configured(engine, settings, clock.now(), reason)
    except Exception:  # noqa: BLE001 — the export is already committed and sent; the job signs the next head
        log.exception("audit checkpoint after %s failed", reason)


def checkpoint_after_commit(request, reason: str = "export") -> bool:
    """Sign the head once the request's transaction (holding the export record) has committed."""
    engine = request.registry.get("db.engine")
    if engine is None:
        return False
    request.tm.get().addAfterCommitHook(_after_commit, args=(engine, request.registry.settings, request.clock, reason))
    return True
