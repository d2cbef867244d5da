"""Writes change records for every flush, in the flushing transaction.

Installed on the application's session factory. The actor comes from
``session.info["actor"]`` (an :class:`Actor`), set for requests by
``webapp.db`` and for scripts by :func:`system_actor`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from webapp.audit.chain import GENESIS, record_hash
from webapp.audit.models import AuditRecord
from webapp.db import utcnow

# Any constant will do; it only has to be the same for every writer.
AUDIT_CHAIN_LOCK = 0x6D696D61  # "mima"

# Columns whose values never go into a record, only the fact they changed.
REDACTED = frozenset({"password_hash", "token_hash", "totp_secret", "recovery_codes"})
# Bookkeeping columns: an update touching only these is not a change anyone
# needs to audit (logins are auth events; the record has its own timestamp).
BOOKKEEPING = frozenset({"updated_at", "last_login_at", "last_seen_at", "totp_last_step"})


@dataclasses.dataclass(frozen=True)
class Actor:
    actor: str
    account_id: int | None = None
    role: str | None = None
    organisation: str | None = None
    client_address: str | None = None


def system_actor(command: str) -> Actor:
    return Actor(actor=f"system:{command}")


def actor_for_request(request) -> Actor:
    """The logged-in account (or anonymous) and the client address of a request."""
    address = getattr(request, "client_address", None) or request.client_addr
    account = request.account if request.identity is not None else None
    if account is None:
        return Actor(actor="anonymous", client_address=address)
    return Actor(
        actor=account.login,
        account_id=account.id,
        role=str(account.role),
        organisation=account.organisation_name,
        client_address=address,
    )


def session_actor(session: Session) -> Actor:
    actor = session.info.get("actor")
    if actor is None and session.info.get("request") is not None:
        actor = actor_for_request(session.info["request"])
    return actor or system_actor("unknown")


def _jsonable(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _columns(obj):
    mapper = inspect(obj).mapper
    return [attr for attr in mapper.column_attrs]


def _snapshot(obj) -> dict:
    return {
        attr.key: ("[保護]" if attr.key in REDACTED else _jsonable(getattr(obj, attr.key)))
        for attr in _columns(obj)
    }


def _changes(obj) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in _columns(obj):
        history = state.attrs[attr.key].history
        if not history.has_changes() or attr.key in BOOKKEEPING:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if attr.key in REDACTED:
            before[attr.key], after[attr.key] = "[保護]", "[変更]"
        else:
            before[attr.key], after[attr.key] = _jsonable(old), _jsonable(new)
    return before, after


def _audited(obj) -> bool:
    return getattr(type(obj), "__audit__", True)


def _child_id(obj) -> int | None:
    if type(obj).__tablename__ == "children":
        return obj.id
    return getattr(obj, "child_id", None)


def _dump(data):
    return None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True)


def pending_changes(session: Session) -> list[dict]:
    """Describe the flush in progress: one dict per created/changed/deleted row."""
    changes = []
    for obj in session.new:
        if _audited(obj):
            changes.append({"action": "create", "obj": obj, "before": None, "after": _snapshot(obj)})
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                changes.append({"action": "update", "obj": obj, "before": before, "after": after})
    for obj in session.deleted:
        if _audited(obj):
            changes.append({"action": "delete", "obj": obj, "before": _snapshot(obj), "after": None})
    return changes


def actor_values(actor: Actor) -> dict:
    """The columns of a record that say who acted and from where."""
    return {
        "account_id": actor.account_id,
        "actor": actor.actor,
        "role": actor.role,
        "organisation": actor.organisation,
        "client_address": actor.client_address,
    }


def append_records(connection, actor: Actor, entries: list[dict]) -> None:
    """Append records by one actor, all happening now."""
    now = utcnow()
    append_entries(connection, [{"occurred_at": now, **actor_values(actor), **entry} for entry in entries])


def append_entries(connection, entries: list[dict]) -> None:
    """Append whole records (actor and time included) in list order.

    Serialised: one writer at a time extends the chain, across threads and
    processes, so ids and prev_hash follow one order that verify_chain checks.
    """
    if not entries:
        return
    if connection.dialect.name == "postgresql":
        # Held until this transaction ends, so no other transaction (another
        # thread or app node) can read the same chain tip. On SQLite a writing
        # transaction already holds the database's only write lock.
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_CHAIN_LOCK)))
    tip = connection.execute(
        sa.select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
    ).first()
    next_id, prev_hash = (tip.id + 1, tip.hash) if tip else (1, GENESIS)
    rows = []
    for entry in entries:
        values = {"id": next_id, **entry}
        values["hash"] = record_hash(prev_hash, values)
        values["prev_hash"] = prev_hash
        rows.append(values)
        prev_hash, next_id = values["hash"], next_id + 1
    connection.execute(sa.insert(AuditRecord), rows)


def _after_flush(session: Session, _flush_context) -> None:
    # In after_flush the new/dirty/deleted lists and attribute histories still
    # describe this flush, and new rows already have their ids.
    changes = pending_changes(session)
    if not changes:
        return
    actor = session_actor(session)
    entries = []
    for change in changes:
        obj = change["obj"]
        # New rows have their primary key now, but not yet an identity key.
        identity = inspect(obj).mapper.primary_key_from_instance(obj)
        entries.append({
            "action": change["action"],
            "entity": type(obj).__tablename__,
            "entity_id": ",".join(str(part) for part in identity),
            "child_id": _child_id(obj),
            "before": _dump(change["before"]),
            "after": _dump(change["after"]),
        })
    append_records(session.connection(), actor, entries)


def view_entry(entity: str, entity_id, child_id: int | None) -> dict:
    """The content of a view record ("who saw this child")."""
    return {"action": "view", "entity": entity, "entity_id": str(entity_id), "child_id": child_id,
            "before": None, "after": None}


def record_view(session: Session, actor: Actor, entity: str, entity_id, child_id: int | None) -> None:
    """A view of a personal page, in ``session``'s transaction (requests use webapp.audit.view_records)."""
    append_records(session.connection(), actor, [view_entry(entity, entity_id, child_id)])


def install_recorder(session_factory) -> None:
    """Listen on ``session_factory`` once (the app and a test may both install it).

    The mark lives on the factory itself. ``event.contains`` is not used for
    this: SQLAlchemy's event registry is keyed by object ids, and a new
    factory that reuses a collected one's id could look "already installed".
    """
    if getattr(session_factory, "_mimamori_change_recorder", False):
        return
    event.listen(session_factory, "after_flush", _after_flush)
    session_factory._mimamori_change_recorder = True
