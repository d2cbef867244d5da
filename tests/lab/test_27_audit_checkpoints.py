"""Signed audit checkpoints as deployed (S-AUDIT, issue #20): the signing key is
the app user's alone and never on a database host, every public key sits beside
it, and each app node's checkpoint lines reach the log host's collected copy."""

import pytest

from labkit import on, wait_for

req = pytest.mark.req

KEYS = "/etc/mimamori/audit-keys"
CHECKPOINTS = "/var/lib/mimamori/audit-checkpoints"
COLLECTED = "/var/log/remote/audit-checkpoints"


@req("S-AUDIT")
@pytest.mark.parametrize("node", ["app1", "app2"])
def test_the_signing_key_is_the_app_users_alone(node):
    keys = on(node, f"stat -c '%n %U %G %a' {KEYS}/*.key").split()
    assert len(keys) == 4 and keys[1:] == ["mimamori", "mimamori", "400"], keys
    assert on(node, f"stat -c '%U %G %a' {KEYS}").split() == ["root", "mimamori", "750"]
    key_id = keys[0].rsplit("/", 1)[1].removesuffix(".key")
    assert on(node, f"test -f {KEYS}/{key_id}.pub && echo yes").strip() == "yes"
    assert f"mimamori.audit_signing_key = {KEYS}/{key_id}.key" in on(node, "cat /etc/mimamori/mimamori.ini")
    # No other user can read it (the app's service user is the only owner).
    assert "denied" in on(node, f"runuser -u nobody -- cat {keys[0]} 2>&1 || true")


@req("S-AUDIT")
@pytest.mark.parametrize("host", ["db1", "db2", "mon1", "backup1"])
def test_no_signing_key_outside_the_app_nodes(host):
    assert on(host, f"ls {KEYS} 2>/dev/null | grep -c '[.]key$' || true").strip() == "0"


@req("S-AUDIT", "O-LOGKEEP")
@pytest.mark.parametrize("node", ["app1", "app2"])
def test_each_nodes_checkpoints_reach_the_log_host(node):
    last = on(node, f"cat {CHECKPOINTS}/checkpoints-{node}-*.jsonl | tail -n 1").strip()
    assert last.startswith("{") and '"signature"' in last, last
    assert wait_for(lambda: last in on("mon1", f"cat {COLLECTED}/checkpoints-{node}-*.jsonl 2>/dev/null",
                                       check=False), timeout=60, interval=2), \
        f"{node}'s newest checkpoint is not in the log host's collected copy"
