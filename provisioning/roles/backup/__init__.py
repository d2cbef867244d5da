"""Backups (issue 8, O-BACKUP10, O-RESTORE): pgBackRest with its encrypted
repository on the backup host, WAL archiving from whichever database node is
primary, scheduled full backups, check and verify, the weekly restore drill,
and restic for the files that are not in the database. The scripts are
backup/ (run, drill, erase); runbooks/backup.md explains the schedule.

Transport: pgBackRest's own TLS server on both sides (repository host and
database nodes), authenticated by client certificates of the environment's
internal CA (the CN names the host, tls-server-auth names the stanza it may
use). No SSH keys between hosts and no shell for one host on another; the
ports are the two 8432s below, open only between those hosts. File backups use
restic's REST protocol (rclone serve restic, append-only, same client
certificates) so a host can add snapshots but never delete one.
"""

from __future__ import annotations

import secrets as pysecrets
import threading
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server, systemd

from lib import secrets, topology
from roles import db
from roles.wal_archive import STANZA

HERE = Path(__file__).parent
T = HERE / "templates"
SCRIPTS = HERE.parents[2] / "backup"

GENERATIONS = 10
REPO_PATH = "/var/lib/pgbackrest"
TLS_DIR = "/etc/pgbackrest/tls"
LIB = "/usr/local/lib/mimamori-backup"
RESTIC_ROOT = "/var/lib/mimamori-restic"
RESTIC_PORT = 8443
PGBACKREST_PORT = 8432
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
# Files restic keeps (the database is pgBackRest's): configuration, secrets,
# certificates and keys of every host.
# The second: app state, access-log archives and each app node's signed audit
# checkpoints; the third: the log host's collected copy of every node's
# checkpoints (roles/logging). A path a host does not have is skipped.
FILE_PATHS = ["/etc", "/var/lib/mimamori", "/var/log/remote/audit-checkpoints"]
# Hosts whose files are backed up: every appliance host (not the lab's VM,
# which runs no role of the appliance).
FILE_BACKUP_GROUPS = ("lb", "app", "db", "mon", "backup")

# Schedules (runbooks/backup.md; the ward approves them, T-SP 19). Local time.
FULL_CALENDAR = "*-*-* 01:00"
CHECK_CALENDAR = "hourly"
VERIFY_CALENDAR = "Sun *-*-* 04:00"
DRILL_CALENDAR = "Sat *-*-* 05:00"
FILES_CALENDAR = "*-*-* 01:30"


def repo_host() -> str:
    return topology.names("backup")[0]


def _cipher_pass(env: str) -> str:
    return _generated(env, "pgbackrest-cipher-pass", 64)


_lock = threading.Lock()


def _generated(env: str, name: str, length: int) -> str:
    """A secret of this role, made once in secrets/<env>/ like lib/secrets' own.
    Hosts are planned in parallel threads and several read the same secret
    (every host's restic passphrase is also on the backup host): one lock, so
    no two threads make two different values."""
    path = secrets.env_dir(env) / name
    with _lock:
        if not path.exists():
            secrets._write_private(path, pysecrets.token_urlsafe(length)[:length].encode() + b"\n")
        return path.read_text().strip()


def _restic_pass(env: str, name: str) -> str:
    return _generated(env, f"restic-password-{name}", 48)


def _tls(env: str, owner: str) -> None:
    d = host.data
    key, crt = secrets.leaf(env, f"pgbackrest-{host.name}", [host.name], [d.ssh_hostname])
    files.directory(name="pgBackRest's TLS folder", path=TLS_DIR, user=owner, group=owner,
                    mode="0700")
    files.put(name="pgBackRest's key", src=str(key), dest=f"{TLS_DIR}/server.key",
              user=owner, group=owner, mode="0600")
    files.put(name="pgBackRest's certificate", src=str(crt), dest=f"{TLS_DIR}/server.crt",
              user=owner, group=owner, mode="0644")
    files.put(name="The internal CA for pgBackRest", src=str(secrets.ca_paths(env)[1]),
              dest=f"{TLS_DIR}/ca.crt", user=owner, group=owner, mode="0644")


def _server_unit(user: str, why: str, conf_changed) -> None:
    unit = files.template(name="pgBackRest TLS server unit", src=str(T / "pgbackrest-server.service.j2"),
                          dest="/etc/systemd/system/pgbackrest-server.service", mode="0644",
                          user_=user, why=why)  # user= would set the file's owner
    systemd.daemon_reload(name="Reload systemd units (pgBackRest)", _if=unit.did_change)
    systemd.service(name="Run the pgBackRest TLS server", service="pgbackrest-server.service",
                    running=True, enabled=True,
                    restarted=True, _if=lambda: unit.did_change() or conf_changed())


@deploy("pgBackRest on a database node")
def database_node():
    """Client configuration and the TLS server the repository host backs up through."""
    env, d = host.data.env, host.data
    apt.packages(name="Install pgBackRest", packages=["pgbackrest"])
    for path in ("/var/spool/pgbackrest", "/var/log/pgbackrest"):
        files.directory(name=f"Create {path}", path=path, user="postgres", group="postgres",
                        mode="0750")
    _tls(env, "postgres")
    conf = files.template(
        name="Configure pgBackRest (database node)", src=str(T / "db.conf.j2"),
        dest="/etc/pgbackrest/pgbackrest.conf", user="postgres", group="postgres", mode="0600",
        repo_host=repo_host(), tls_dir=TLS_DIR, address=d.ssh_hostname, stanza=STANZA,
        data_dir=db.DATA_DIR, repo_path=REPO_PATH, cipher_pass=_cipher_pass(env),
    )
    _server_unit("postgres", "the repository host takes backups through it", conf.did_change)


@deploy("pgBackRest repository and backup jobs")
def repository():
    env, d = host.data.env, host.data
    files.put(name="Keep the PostgreSQL package from creating a default cluster",
              src=StringIO("create_main_cluster = false\n"),
              dest="/etc/postgresql-common/createcluster.conf", mode="0644")
    apt.packages(name="Install pgBackRest, restic, rclone and PostgreSQL for the drills",
                 packages=["pgbackrest", "restic", "rclone", "postgresql-15", "postgresql-client-15",
                           # the drill checks the audit checkpoints' Ed25519 signatures
                           "python3-cryptography"])
    # Same mode as roles/base gives it where the package is already present (on a
    # bare host it is not when base runs, and a second deploy changed it; issue 22).
    files.directory(name="Only postgres reads its home", path="/var/lib/postgresql", mode="0750")
    systemd.service(name="No PostgreSQL service on the backup host", service="postgresql.service",
                    running=False, enabled=False)
    server.user(name="The repository's owner", user="pgbackrest", system=True,
                home=REPO_PATH, shell="/usr/sbin/nologin")
    # The spool too: Debian's package makes it postgres's (PostgreSQL is
    # installed here for the drills), and a restore as the repository's owner
    # then fails listing it ("Permission denied" on /var/spool/pgbackrest/archive).
    for path, mode in ((REPO_PATH, "0750"), ("/var/log/pgbackrest", "0750"),
                       ("/var/spool/pgbackrest", "0750"), ("/var/log/mimamori-backup", "0750")):
        files.directory(name=f"Create {path}", path=path, user="pgbackrest", group="pgbackrest",
                        mode=mode)
    files.directory(name="Prometheus textfile folder", path=TEXTFILE_DIR, mode="0755")
    _tls(env, "pgbackrest")
    args = dict(repo_path=REPO_PATH, cipher_pass=_cipher_pass(env), generations=GENERATIONS,
                address=d.ssh_hostname, tls_dir=TLS_DIR, stanza=STANZA,
                db_names=topology.names("db"), data_dir=_data_dir())
    conf = files.template(name="Configure pgBackRest (repository)", src=str(T / "repo.conf.j2"),
                          dest="/etc/pgbackrest/pgbackrest.conf", user="root", group="pgbackrest",
                          mode="0640", **args)
    files.template(name="Configure the restore drill", src=str(T / "drill.conf.j2"),
                   dest="/etc/pgbackrest/drill.conf", user="root", group="pgbackrest",
                   mode="0640", **args)
    _server_unit("pgbackrest", "the database nodes push WAL to it", conf.did_change)

    files.directory(name="Backup scripts folder", path=LIB, mode="0755")
    for name in ("backuplib.py", "run", "drill", "erase"):
        files.put(name=f"Install backup/{name}", src=str(SCRIPTS / name), dest=f"{LIB}/{name}",
                  mode="0644" if name.endswith(".py") else "0755")
    for name, target in (("mimamori-backup", "run"), ("mimamori-restore-drill", "drill"),
                         ("mimamori-erase", "erase")):
        files.link(name=f"{name} command", path=f"/usr/local/sbin/{name}", target=f"{LIB}/{target}")

    _job("mimamori-backup-full", "Full backup of the database (pgBackRest)",
         f"{LIB}/run full", "root", FULL_CALENDAR, 6 * 3600)
    _job("mimamori-backup-check", "WAL archiving check (pgBackRest check)",
         f"{LIB}/run check", "root", CHECK_CALENDAR, 900)
    _job("mimamori-backup-verify", "Repository verification (pgBackRest verify)",
         f"{LIB}/run verify", "root", VERIFY_CALENDAR, 6 * 3600)
    _job("mimamori-restore-drill", "Restore drill into a scratch copy (backup/drill)",
         f"{LIB}/drill", "root", DRILL_CALENDAR, 4 * 3600)
    _restic_server(env)


def _data_dir() -> str:
    return db.DATA_DIR


def _job(name: str, description: str, command: str, user: str, calendar: str, timeout: int):
    svc = files.template(name=f"{name}.service", src=str(T / "job.service.j2"),
                         dest=f"/etc/systemd/system/{name}.service", mode="0644",
                         description=description, command=command, user_=user, timeout=timeout)
    timer = files.template(name=f"{name}.timer", src=str(T / "job.timer.j2"),
                           dest=f"/etc/systemd/system/{name}.timer", mode="0644",
                           description=description, calendar=calendar)
    systemd.daemon_reload(name=f"Reload systemd units ({name})",
                          _if=lambda: svc.did_change() or timer.did_change())
    systemd.service(name=f"Schedule {name}", service=f"{name}.timer", running=True, enabled=True)


@deploy("Create the pgBackRest stanza")
def stanza():
    """Once both database nodes serve pgBackRest (previous phase): create the
    stanza (idempotent), prove archiving works, and take the first full backup
    if the repository has none, so a fresh installation is restorable at once.
    Skipped once the repository holds a backup: a second deploy changes nothing,
    and the hourly check (timer) keeps proving that archiving works."""
    backups = host.get_fact(
        Command, f"runuser -u pgbackrest -- pgbackrest --stanza={STANZA} --output=json info"
                 f" 2>/dev/null | grep -c '\"label\"' || true")
    if (backups or "0").strip() != "0":
        return
    server.shell(
        name="Create the stanza, check archiving, first backup if none",
        commands=[
            f"runuser -u pgbackrest -- pgbackrest --stanza={STANZA} stanza-create --log-level-console=warn",
            f"{LIB}/run check >/dev/null",
            f"runuser -u pgbackrest -- pgbackrest --stanza={STANZA} --output=json info"
            f" | grep -q '\"label\"' || {LIB}/run full >/dev/null",
        ],
    )


def _restic_server(env: str) -> None:
    server.user(name="The file repository's owner", user="restic", system=True,
                home=RESTIC_ROOT, shell="/usr/sbin/nologin")
    files.directory(name="File backup repositories", path=RESTIC_ROOT, user="restic",
                    group="restic", mode="0750")
    files.directory(name="restic settings", path="/etc/mimamori-backup", user="root",
                    group="restic", mode="0750")
    # Every host's passphrase: this host expires old snapshots in every repository.
    for name in topology.names(host.data.env):
        files.put(name=f"restic passphrase of {name}", src=StringIO(_restic_pass(env, name) + "\n"),
                  dest=f"/etc/mimamori-backup/restic-{name}.pass", user="root", group="restic",
                  mode="0640")
    key, crt = secrets.leaf(env, f"restic-{host.name}", [host.name], [host.data.ssh_hostname])
    files.directory(name="restic server TLS folder", path="/etc/mimamori-backup/tls", user="restic",
                    group="restic", mode="0700")
    tls = [files.put(name="restic server key", src=str(key), dest="/etc/mimamori-backup/tls/server.key",
                     user="restic", group="restic", mode="0600"),
           files.put(name="restic server certificate", src=str(crt),
                     dest="/etc/mimamori-backup/tls/server.crt", user="restic", group="restic",
                     mode="0644"),
           files.put(name="restic server CA", src=str(secrets.ca_paths(env)[1]),
                     dest="/etc/mimamori-backup/tls/ca.crt", user="restic", group="restic",
                     mode="0644")]
    unit = files.template(name="restic repository server unit", src=str(T / "rclone-restic.service.j2"),
                          dest="/etc/systemd/system/mimamori-restic-server.service", mode="0644",
                          address=host.data.ssh_hostname, port=RESTIC_PORT,
                          tls_dir="/etc/mimamori-backup/tls", repo_root=RESTIC_ROOT)
    systemd.daemon_reload(name="Reload systemd units (restic server)", _if=unit.did_change)
    systemd.service(name="Run the restic repository server", service="mimamori-restic-server.service",
                    running=True, enabled=True,
                    restarted=True, _if=lambda: unit.did_change() or any(o.did_change() for o in tls))


@deploy("Back up this host's files with restic")
def files_client():
    """Every host: /etc into its own encrypted restic repository on the backup
    host, daily; the backup host keeps the latest GENERATIONS snapshots."""
    env, d = host.data.env, host.data
    backup = repo_host()
    remote = host.name != backup
    apt.packages(name="Install restic", packages=["restic"])
    if remote:
        files.directory(name="restic settings", path="/etc/mimamori-backup", mode="0700")
    files.put(name="This host's restic passphrase", src=StringIO(_restic_pass(env, host.name) + "\n"),
              dest="/etc/mimamori-backup/restic.pass", mode="0600")
    files.put(name="The internal CA for restic", src=str(secrets.ca_paths(env)[1]),
              dest="/etc/mimamori-backup/ca.crt", mode="0644")
    if remote:
        key, crt = secrets.leaf(env, f"restic-client-{host.name}", [host.name], [d.ssh_hostname])
        files.put(name="restic client certificate and key",
                  src=StringIO(Path(crt).read_text() + Path(key).read_text()),
                  dest="/etc/mimamori-backup/client.pem", mode="0600")
        repository = f"rest:https://{backup}:{RESTIC_PORT}/{host.name}/"
    else:
        repository = f"{RESTIC_ROOT}/{host.name}"
    files.template(name="File backup script", src=str(T / "files-backup.sh.j2"),
                   dest="/usr/local/sbin/mimamori-files-backup", mode="0700",
                   repository=repository, repo_host=backup, remote=remote, host_name=host.name,
                   paths=FILE_PATHS, generations=GENERATIONS, repo_root=RESTIC_ROOT,
                   textfile_dir=TEXTFILE_DIR)
    _job("mimamori-files-backup", "Back up configuration, secrets and keys (restic)",
         "/usr/local/sbin/mimamori-files-backup", "root", FILES_CALENDAR, 3600)
