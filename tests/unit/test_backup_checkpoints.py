"""The restore drill checks the restored change records against the signed
checkpoints the file backups kept (S-AUDIT, O-RESTORE; backup/backuplib.py,
backup/drill): checkpoints the app signed verify with the backup host's
standard-library-plus-cryptography code, and a deleted tail, a changed or
recomputed record and a forged checkpoint are each named."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import pytest

from tests.unit.test_backup_lib import _append, _audit_lines, _script, backuplib
from webapp.audit import signatures
from webapp.audit.anchor import Checkpoint, key_id

pytestmark = pytest.mark.req("O-RESTORE", "S-AUDIT")

AT = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
SEED = bytes(range(32))


def signed_line(record_id: int, head_hash: str, at=AT, seed=SEED) -> str:
    public = signatures.public_key(seed)
    unsigned = Checkpoint(record_id, head_hash, at, key_id(public), "job")
    signature = signatures.sign(seed, unsigned.signed_content()).hex()
    return Checkpoint(record_id, head_hash, at, key_id(public), "job", signature).line()


def backed_up(tmp_path, lines, seed=SEED):
    """What restic restores: a node's checkpoint file, the log host's copy, the public key."""
    node = tmp_path / "app1/var/lib/mimamori/audit-checkpoints"
    collected = tmp_path / "mon1/var/log/remote/audit-checkpoints"
    keys = tmp_path / "app1/etc/mimamori/audit-keys"
    for folder in (node, collected, keys):
        folder.mkdir(parents=True)
    (node / "checkpoints-app1-2026-11-26.jsonl").write_text("".join(line + "\n" for line in lines))
    (collected / "checkpoints-app1-2026-11-26.jsonl").write_text("".join(line + "\n" for line in lines))
    public = signatures.public_key(seed)
    (keys / f"{key_id(public)}.pub").write_text(public.hex() + "\n")
    return tmp_path


@pytest.fixture
def rows(connection):
    _append(connection, 3)
    return [backuplib.parse_audit_line(line) for line in _audit_lines(connection)]


def check(root, rows, not_after=None):
    return backuplib.verify_checkpoints(rows, backuplib.read_checkpoint_lines(root),
                                        backuplib.read_public_keys(root), not_after)


def test_checkpoints_the_app_signed_verify_once_each(tmp_path, rows):
    root = backed_up(tmp_path, [signed_line(rows[-2]["id"], rows[-2]["hash"]),
                                signed_line(rows[-1]["id"], rows[-1]["hash"], AT + dt.timedelta(hours=1))])
    # The node's file and the log host's copy hold the same lines: counted once.
    assert check(root, rows) == (2, [])


def test_a_deleted_tail_is_named(tmp_path, rows):
    root = backed_up(tmp_path, [signed_line(rows[-1]["id"], rows[-1]["hash"])])
    verified, problems = check(root, rows[:-2])
    assert verified == 1 and "deleted tail" in problems[0]


def test_a_recomputed_record_is_named(tmp_path, rows):
    root = backed_up(tmp_path, [signed_line(rows[-1]["id"], rows[-1]["hash"])])
    recomputed = [*rows[:-1], {**rows[-1], "hash": "f" * 64}]
    assert f"record {rows[-1]['id']} differs from its signed hash" in check(root, recomputed)[1][0]


def test_a_forged_or_unknown_checkpoint_is_named(tmp_path, rows):
    good = signed_line(rows[-1]["id"], rows[-1]["hash"])
    forged = json.loads(good) | {"record_id": rows[-2]["id"], "hash": rows[-2]["hash"]}
    stranger = signed_line(rows[-1]["id"], rows[-1]["hash"], seed=bytes(32))
    root = backed_up(tmp_path, [json.dumps(forged), stranger, "not json"])
    verified, problems = check(root, rows)
    assert verified == 0
    assert [p.split(": ", 1)[1] for p in problems] == ["bad signature", f"unknown key {key_id(signatures.public_key(bytes(32)))}", "unreadable"]


def test_a_point_in_time_drill_ignores_checkpoints_after_its_target(tmp_path, rows):
    root = backed_up(tmp_path, [signed_line(rows[-1]["id"], rows[-1]["hash"], AT + dt.timedelta(hours=2))])
    assert check(root, rows[:-1], not_after=AT) == (0, [])


def drill_args(tmp_path, checkpoints, target_time=None):
    return argparse.Namespace(checkpoints=checkpoints, target_time=target_time, scratch=tmp_path / "scratch",
                              restic_root=tmp_path / "none", restic_settings=tmp_path / "none")


def test_the_drill_reports_the_checkpoints_or_fails_naming_the_problem(tmp_path, rows):
    drill = _script("drill")
    root = backed_up(tmp_path / "files", [signed_line(rows[-1]["id"], rows[-1]["hash"])])
    assert drill.check_checkpoints(drill_args(tmp_path, root), rows) == {
        "audit_checkpoints_verified": 1, "audit_checkpoint_keys": 1}
    with pytest.raises(drill.DrillFailed, match="deleted tail"):
        drill.check_checkpoints(drill_args(tmp_path, root), rows[:-1])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert drill.check_checkpoints(drill_args(tmp_path, empty), rows)["audit_checkpoints_verified"] == 0
    with pytest.raises(drill.DrillFailed, match="target-time"):
        drill.check_checkpoints(drill_args(tmp_path, root, "yesterday"), rows)
