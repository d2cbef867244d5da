"""Change records (O-CHANGE): who deployed what, when, from which git revision.

``python -m lib.record write ENV LOG STATUS SECONDS`` reads pyinfra's results table
from LOG, appends one JSON line to the control machine's record and prints it
(ci/deploy then appends the same line on every host). The record lists each
operation that changed something and on how many hosts, so a no-change run is
visible as ``"changed": 0``.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONTROL_LOG_DIR = Path(os.environ.get("MIMAMORI_CHANGE_LOG_DIR", "/var/log/mimamori-deploy"))
ROW = re.compile(r"^\s{4}(?P<op>\S.*?)\s{2,}(?P<hosts>\d+)\s+(?P<ok>\S+)\s+(?P<err>\S+)\s+(?P<noop>\S+)\s*$")


def parse_results(text: str) -> tuple[list[dict], dict]:
    rows, totals, in_table = [], {"changed": 0, "errors": 0, "unchanged": 0}, False
    for line in text.splitlines():
        if line.startswith("--> Results:"):
            in_table = True
            continue
        if not in_table:
            continue
        m = ROW.match(line)
        if not m or m["op"] == "Operation":
            continue
        num = lambda v: 0 if v == "-" else int(v)  # noqa: E731
        if m["op"] == "Grand total":
            totals = {"changed": num(m["ok"]), "errors": num(m["err"]),
                      "unchanged": num(m["noop"])}
            break
        if num(m["ok"]) or num(m["err"]):
            rows.append({"operation": m["op"], "changed_hosts": num(m["ok"]),
                         "failed_hosts": num(m["err"])})
    return rows, totals


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                          text=True).stdout.strip()


def who() -> str:
    user = os.environ.get("SUDO_USER") or getpass.getuser()
    email = git("config", "user.email")
    return f"{user} <{email}>" if email else user


def base(env: str, status: str, seconds: int | str) -> dict:
    """The fields every change record has, deploys and patch runs alike."""
    return {
        "id": uuid.uuid4().hex[:12],
        "environment": env,
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "who": who(),
        "revision": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "result": "ok" if str(status) == "0" else f"failed (exit {status})",
        "seconds": int(seconds),
    }


def append(env: str, record: dict) -> None:
    log_dir = Path(os.environ.get("MIMAMORI_CHANGE_LOG_DIR", str(CONTROL_LOG_DIR)))
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{env}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(env: str, log: str, status: str, seconds: str) -> None:
    rows, totals = parse_results(Path(log).read_text(errors="replace"))
    record = {**base(env, status, seconds), **totals, "changes": rows, "log": log}
    append(env, record)
    print(json.dumps(record, ensure_ascii=False))


def summary() -> None:
    r = json.load(sys.stdin)
    if r.get("kind") in ("patch", "app-restart"):
        hosts = r["packages"]
        print(f"{r['kind']} {r['environment']}: {sum(len(v) for v in hosts.values())} package changes on "
              f"{sum(1 for v in hosts.values() if v)} host(s), "
              f"{'stopped at ' + r['failed'] if r.get('failed') else 'all hosts done'}, "
              f"{r['seconds']} s, record {r['id']} at revision {r['revision'][:12]}")
        return
    print(f"deploy {r['environment']}: {r['changed']} changed, {r['errors']} failed, "
          f"{r['seconds']} s, record {r['id']} at revision {r['revision'][:12]}")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        main(*sys.argv[2:6])
    else:
        summary()
