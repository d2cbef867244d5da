"""Signed checkpoints as provisioning sets them up (S-AUDIT, issue #20 item 2).

The key pairs come from provisioning/lib/secrets.py (made on the control
machine with openssl, never on a database host); the app signs and verifies
with them, a rotation keeps old checkpoints verifying, each node names its
files, and a key that provisioning set but the app cannot use is a failed job.
"""

from __future__ import annotations

import datetime as dt
import stat
import sys
from pathlib import Path

import pytest

from tests.functional.test_audit_anchor import (  # noqa: F401 (fixtures)
    AT, HOUR, add_centres, bypass_append_only, chain_db, kinds, own_database_url, verify)
from webapp.audit import anchor
from webapp.audit.anchor import AnchorError, AnchorSettings, SigningKey, read_checkpoints, write_checkpoint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib import secrets  # noqa: E402

pytestmark = pytest.mark.req("S-AUDIT")


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMAMORI_SECRETS_DIR", str(tmp_path / "secrets"))
    return tmp_path / "secrets"


def provisioned(tmp_path, env="lab", node="app1"):
    """What roles/app deploys: the current private key, every public key, the node's name."""
    key_dir = secrets.audit_key_dir(env)
    current = secrets.audit_signing_key(env)
    return AnchorSettings(key_dir / f"{current}.key", tmp_path / f"checkpoints-{node}", key_dir, HOUR, node, True)


def test_the_control_machine_makes_a_key_pair_the_app_signs_with(secrets_dir, tmp_path, chain_db):
    key_id = secrets.audit_signing_key("lab")
    private = secrets.audit_key_dir("lab") / f"{key_id}.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    # The app's own key id from the seed: the formats agree.
    assert SigningKey.load(private).key_id == key_id
    settings = provisioned(tmp_path)
    checkpoint = write_checkpoint(chain_db, settings, AT, "job")
    assert checkpoint.key_id == key_id
    assert verify(chain_db, settings).ok
    assert secrets.audit_signing_key("lab") == key_id  # never replaced by a later deploy


def test_old_checkpoints_verify_after_a_rotation_and_the_old_private_key_is_gone(secrets_dir, tmp_path, chain_db):
    before = provisioned(tmp_path)
    write_checkpoint(chain_db, before, AT, "job")
    old, new = secrets.rotate_audit_signing_key("lab")
    assert old != new and secrets.audit_signing_key("lab") == new
    assert not (secrets.audit_key_dir("lab") / f"{old}.key").exists()
    assert {p.stem for p in secrets.audit_public_keys("lab")} == {old, new}
    after = provisioned(tmp_path)
    add_centres(chain_db, 1, start=10)
    assert write_checkpoint(chain_db, after, AT + HOUR, "job").key_id == new
    result = verify(chain_db, after, at=AT + HOUR)
    assert result.ok and result.checkpoints_verified == 2


def test_the_rotation_command_names_both_keys(secrets_dir, capsys):
    first = secrets.audit_signing_key("lab")
    assert secrets.main(["rotate-audit-key", "lab"]) == 0
    assert f"{first} -> {secrets.audit_signing_key('lab')}" in capsys.readouterr().out


def test_each_node_names_its_files_and_a_collected_copy_verifies(secrets_dir, tmp_path, chain_db):
    app1, app2 = provisioned(tmp_path, node="app1"), provisioned(tmp_path, node="app2")
    write_checkpoint(chain_db, app1, AT, "job")
    write_checkpoint(chain_db, app2, AT + dt.timedelta(minutes=30), "job")
    assert [p.name for p in app1.checkpoint_dir.iterdir()] == ["checkpoints-app1-2026-11-26.jsonl"]
    collected = tmp_path / "collected"
    collected.mkdir()
    for settings in (app1, app2):
        for path in settings.checkpoint_dir.iterdir():
            # rsyslog's collected copy: the same lines, possibly with leading blanks.
            (collected / path.name).write_text("".join(" " + line + "\n" for line in path.read_text().splitlines()))
    assert len(read_checkpoints(collected)[0]) == 2
    bypass_append_only(chain_db)
    with chain_db.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_records WHERE id = 5")
    result = verify(chain_db, AnchorSettings(None, collected, app1.public_key_dir, HOUR))
    assert kinds(result) == ["deleted-tail", "deleted-tail"]


def test_a_bad_node_name_is_refused():
    with pytest.raises(AnchorError, match="audit_checkpoint_node"):
        AnchorSettings.from_settings({"mimamori.audit_checkpoint_node": "../etc"})


def test_the_job_fails_where_checkpoints_are_required_but_not_set(chain_db):
    with pytest.raises(AnchorError, match="required"):
        anchor.checkpoint_job(chain_db, {"mimamori.audit_checkpoints_required": "true"}, AT)


def test_the_job_fails_where_only_half_is_set(chain_db, tmp_path):
    with pytest.raises(AnchorError, match="not both set"):
        anchor.checkpoint_job(chain_db, {"mimamori.audit_checkpoint_dir": str(tmp_path)}, AT)


@pytest.mark.parametrize("content", [None, "not a key\n"])
def test_the_job_fails_where_the_provisioned_key_is_unusable(chain_db, tmp_path, content):
    key = tmp_path / "gone.key"
    if content is not None:
        key.write_text(content)
    settings = {"mimamori.audit_signing_key": str(key), "mimamori.audit_checkpoint_dir": str(tmp_path / "c"),
                "mimamori.audit_checkpoints_required": "true"}
    with pytest.raises(AnchorError):
        anchor.checkpoint_job(chain_db, settings, AT)


def test_the_jobs_runner_records_an_unusable_key_as_a_failure(chain_db, tmp_path):
    from webapp.jobs import sign_checkpoint
    from webapp.jobs.runner import JobError

    context = type("Context", (), {"engine": chain_db, "clock": type("C", (), {"now": staticmethod(lambda: AT)}),
                                   "settings": {"mimamori.audit_signing_key": str(tmp_path / "missing.key"),
                                                "mimamori.audit_checkpoint_dir": str(tmp_path / "c")}})()
    with pytest.raises(JobError):
        sign_checkpoint(context)
