"""Benchmark (not a test): backup and restore time at Setagaya demo scale and at
ten times its volume (issue 8, item 6), and how they grow.

On this machine, as root, the script starts a throwaway PostgreSQL 15 cluster
(run as the postgres user, on its own port and folder under /tmp) archiving to
an encrypted local pgBackRest repository configured like the backup host's
(aes-256-cbc, zstd, bundles, two processes), then for each volume:

1. ``1x``: migrates and loads the ``setagaya`` demo (bench_pages.prepare_database:
   5,000 children, 500 facilities, a year of reports); ``10x``: adds filler rows
   of random text until the database is ten times that size (more demo data
   would mean more years; the backup's time depends on bytes, not on which rows);
2. takes a full backup (pgbackrest backup --type=full) and times it;
3. restores it with backup/drill into a scratch instance (restore, WAL replay,
   the drill's checks, teardown) and prints the drill's own timings.

Then it prints database size, repository size, backup and restore seconds, and
each as a ratio of 10x to 1x. Nothing is asserted. Run it with

    .venv/bin/python benchmarks/bench_backup.py [--port 55491] [--keep]

It takes a few minutes (the demo load is most of it). Needs pgbackrest and
postgresql-15 (apt-get install pgbackrest postgresql-15).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
PG_BIN = "/usr/lib/postgresql/15/bin"


def as_pg(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, text=True,
                          capture_output=True, **kw)


def setup(base: Path, port: int) -> Path:
    shutil.rmtree(base, ignore_errors=True)
    for d in ("repo", "log", "spool", "sock"):
        (base / d).mkdir(parents=True)
    conf = base / "pgbackrest.conf"
    conf.write_text(
        "[global]\n"
        f"repo1-path={base}/repo\nrepo1-cipher-type=aes-256-cbc\n"
        f"repo1-cipher-pass={os.urandom(24).hex()}\n"
        "repo1-retention-full-type=count\nrepo1-retention-full=10\nrepo1-bundle=y\n"
        "compress-type=zst\nprocess-max=2\nstart-fast=y\narchive-async=y\n"
        f"log-path={base}/log\nspool-path={base}/spool\nlog-level-console=warn\n"
        f"[mimamori]\npg1-path={base}/data\npg1-port={port}\npg1-socket-path={base}/sock\n")
    subprocess.run(["chown", "-R", "postgres:", str(base)], check=True)
    as_pg(f"{PG_BIN}/initdb", "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--locale=C.UTF-8", "--data-checksums")
    opts = (f"-p {port} -k {base}/sock -c listen_addresses='' -c archive_mode=on -c wal_level=replica"
            f" -c \"archive_command=pgbackrest --config={conf} --stanza=mimamori archive-push %p\"")
    as_pg(f"{PG_BIN}/pg_ctl", "-D", str(base / "data"), "-l", str(base / "pg.log"), "-w",
          "start", "-o", opts)
    as_pg("psql", "-X", "-q", "-h", str(base / "sock"), "-p", str(port), "-U", "postgres",
          "-c", "CREATE DATABASE mimamori")
    as_pg("pgbackrest", f"--config={conf}", "--stanza=mimamori", "stanza-create")
    return conf


def sql(base: Path, port: int, query: str) -> str:
    return as_pg("psql", "-X", "-At", "-h", str(base / "sock"), "-p", str(port), "-U", "postgres",
                 "-d", "mimamori", "-c", query).stdout.strip()


def db_size(base: Path, port: int) -> int:
    return int(sql(base, port, "SELECT pg_database_size('mimamori')"))


def fill_to(base: Path, port: int, target: int) -> None:
    """Random text rows (compressible about as well as real rows) up to ``target`` bytes."""
    sql(base, port, "CREATE TABLE IF NOT EXISTS bench_volume (id bigserial PRIMARY KEY, body text)")
    while db_size(base, port) < target:
        sql(base, port, "INSERT INTO bench_volume (body) SELECT string_agg(md5(random()::text), ' ')"
                        " FROM generate_series(1, 12) g, generate_series(1, 50000) r GROUP BY r")


def measure(base: Path, port: int, conf: Path, label: str) -> dict:
    size = db_size(base, port)
    t0 = time.perf_counter()
    as_pg("pgbackrest", f"--config={conf}", "--stanza=mimamori", "--type=full", "backup")
    backup_s = time.perf_counter() - t0
    info = json.loads(as_pg("pgbackrest", f"--config={conf}", "--stanza=mimamori", "--output=json",
                            "info").stdout)[0]["backup"][-1]
    env = {**os.environ, "MIMAMORI_TEXTFILE_DIR": str(base / "prom"),
           "MIMAMORI_BACKUP_LOG_DIR": str(base / "logs")}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(REPO / "backup" / "drill"), "--config", str(conf),
                        "--user", "postgres", "--scratch", str(base / "drill"),
                        "--port", str(port + 1), "--no-metrics"], env=env, text=True,
                       capture_output=True)
    drill_s = time.perf_counter() - t0
    entry = json.loads(r.stdout[r.stdout.index("{"):r.stdout.rindex("}") + 1])
    return {"label": label, "db_mb": size / 2**20, "repo_mb": info["info"]["repository"]["size"] / 2**20,
            "backup_s": backup_s, "restore_s": entry.get("restore_seconds", float("nan")),
            "replay_s": entry.get("recovery_seconds", float("nan")), "drill_s": drill_s,
            "drill": entry["result"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=55491)
    p.add_argument("--dir", type=Path, default=Path("/tmp/mimamori-bench-backup"))
    p.add_argument("--keep", action="store_true", help="leave the cluster and repository")
    a = p.parse_args()
    from bench_pages import prepare_database

    conf = setup(a.dir, a.port)
    try:
        url = f"postgresql+psycopg://postgres@/mimamori?host={a.dir}/sock&port={a.port}"
        load_s = prepare_database(url)
        print(f"setagaya demo loaded in {load_s:.1f} s")
        rows = [measure(a.dir, a.port, conf, "1x")]
        fill_to(a.dir, a.port, 10 * rows[0]["db_mb"] * 2**20)
        rows.append(measure(a.dir, a.port, conf, "10x"))
    finally:
        if not a.keep:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D",
                            str(a.dir / "data"), "-m", "immediate", "stop"], capture_output=True)
            shutil.rmtree(a.dir, ignore_errors=True)
    cols = ("db_mb", "repo_mb", "backup_s", "restore_s", "replay_s", "drill_s")
    print(f"{'volume':8}" + "".join(f"{c:>11}" for c in cols) + "  drill")
    for r in rows:
        print(f"{r['label']:8}" + "".join(f"{r[c]:11.1f}" for c in cols) + f"  {r['drill']}")
    print(f"{'10x/1x':8}" + "".join(f"{rows[1][c] / rows[0][c]:11.2f}" if rows[0][c] else f"{'-':>11}"
                                    for c in cols))


if __name__ == "__main__":
    main()
