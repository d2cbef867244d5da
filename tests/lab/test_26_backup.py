"""Backups on an undisturbed lab (issue 8, O-BACKUP10): the pgBackRest stanza
on backup1 is healthy and encrypted, the primary archives its WAL there and the
replica does not, the scheduled jobs exist, only the database nodes reach the
repository, and every host's files reach its restic repository."""

import json

import pytest

import dbdrill
from backupkit import BACKUP, DATA_DIR, archiver, info, switch_wal_and_wait
from labkit import on

req = pytest.mark.req


@req("O-BACKUP10")
def test_stanza_is_ok_encrypted_and_has_a_full_backup():
    st = info()
    assert st["status"]["code"] == 0, st["status"]
    assert st["cipher"] == "aes-256-cbc"
    assert any(b["type"] == "full" and not b["error"] for b in st["backup"])
    # Encrypted on disk: the repository's own index is not readable text.
    head = on(BACKUP, "head -c 64 /var/lib/pgbackrest/backup/mimamori/backup.info | base64 -w0")
    import base64
    assert b"[backup" not in base64.b64decode(head)
    conf = on(BACKUP, "cat /etc/pgbackrest/pgbackrest.conf")
    assert "repo1-retention-full=10" in conf and "repo1-retention-full-type=count" in conf


@req("O-BACKUP10")
def test_the_primary_archives_its_wal_and_the_replica_does_not():
    lead = dbdrill.healthy_cluster()
    replica = dbdrill.other(lead)
    for node in (lead, replica):
        assert dbdrill.psql(node, "SHOW archive_mode", db="postgres").strip() == "on"
    seg = switch_wal_and_wait(lead)
    # The segment is in the repository: the backup host reads it back.
    found = on(BACKUP, f"find /var/lib/pgbackrest/archive/mimamori -name '{seg}-*' | head -1")
    assert seg in found
    assert archiver(lead)["failed_count"] == 0 or archiver(lead)["last_failed_time"] < archiver(lead)["last_archived_time"]
    # Only the primary archives (archive_mode on, not always).
    assert (archiver(replica).get("last_archived_wal") or "") < seg
    # pgBackRest's own end-to-end check, as the hourly job runs it.
    on(BACKUP, "/usr/local/sbin/mimamori-backup check >/dev/null")
    assert on(lead, f"test -d {DATA_DIR} && echo yes").strip() == "yes"


TIMERS = ("mimamori-backup-full", "mimamori-backup-check", "mimamori-backup-verify",
          "mimamori-restore-drill", "mimamori-files-backup")


@req("O-BACKUP10", "O-RESTORE")
def test_backup_jobs_are_scheduled():
    for t in TIMERS:
        assert on(BACKUP, f"systemctl is-enabled {t}.timer").strip() == "enabled", t
        assert on(BACKUP, f"systemctl is-active {t}.timer").strip() == "active", t
    cal = on(BACKUP, "systemctl show -p TimersCalendar --value mimamori-backup-full.timer")
    assert "01:00" in cal
    for h in ("app1", "db1", "lb1", "mon1"):
        assert on(h, "systemctl is-enabled mimamori-files-backup.timer").strip() == "enabled", h
    for h in ("db1", "db2"):
        assert on(h, "systemctl is-active pgbackrest-server").strip() == "active", h


def _reaches(src: str, host: str, port: int) -> bool:
    return on(src, f"timeout 3 bash -c '</dev/tcp/{host}/{port}' && echo open || echo closed",
              check=False).strip() == "open"


@req("O-BACKUP10", "O-FW")
def test_only_the_database_nodes_reach_the_repository():
    assert _reaches("db1", BACKUP, 8432)
    assert _reaches(BACKUP, "db2", 8432)
    assert not _reaches("app1", BACKUP, 8432)
    assert not _reaches("app1", "db1", 8432)
    # Without a certificate of the internal CA the repository server refuses.
    out = on("app1", f"curl -sk --max-time 3 https://{BACKUP}:8443/app1/config -o /dev/null"
                     " -w '%{http_code}' || true", check=False)
    assert out.strip() in ("000", ""), out


@req("O-BACKUP10")
def test_files_are_backed_up_encrypted_and_append_only():
    # Two runs: two snapshots, so an attempt to forget one would show.
    on("app1", "systemctl start mimamori-files-backup.service")
    on("app1", "systemctl start mimamori-files-backup.service")
    repo = "/var/lib/mimamori-restic/app1"
    restic = f"restic -r {repo} --password-file /etc/mimamori-backup/restic-app1.pass --no-cache"
    snaps = json.loads(on(BACKUP, f"runuser -u restic -- {restic} snapshots --json"))
    assert len(snaps) >= 2 and snaps[-1]["hostname"] == "app1"
    listing = on(BACKUP, f"runuser -u restic -- {restic} ls latest /etc/mimamori")
    assert "/etc/mimamori/secrets.env" in listing
    # Encrypted: no file of the repository holds the app's secrets file name.
    assert on(BACKUP, f"grep -rl 'secrets.env' {repo} | head -1", check=False).strip() == ""
    # Append-only: the host itself cannot delete its snapshots.
    out = on("app1", "RESTIC_PASSWORD_FILE=/etc/mimamori-backup/restic.pass restic"
                     " -r rest:https://backup1:8443/app1/ --cacert /etc/mimamori-backup/ca.crt"
                     " --tls-client-cert /etc/mimamori-backup/client.pem --no-cache"
                     " forget --keep-last 1 --prune 2>&1; echo rc=$?", check=False)
    assert "rc=0" not in out, out
    after = json.loads(on(BACKUP, f"runuser -u restic -- {restic} snapshots --json"))
    assert len(after) == len(snaps)


@req("O-RESTORE")
def test_the_restore_drill_passes_on_a_fresh_deploy():
    """By hand, as an operator would run it first (runbooks/backup.md), without
    touching the scheduled drill's metrics."""
    out = on(BACKUP, "/usr/local/sbin/mimamori-restore-drill --no-metrics 2>&1; echo rc=$?")
    assert out.rstrip().endswith("rc=0"), out[-3000:]
    entry = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert entry["result"] == "ok" and entry["counts"]["accounts"] > 0, entry
    assert on(BACKUP, "test -e /var/lib/pgbackrest-drill && echo left || echo gone").strip() == "gone"
