"""Run the lab's report submission (reportflow.py) against local demo servers
loaded at given dates, without the lab: SQLite, plain http, the app's clock
fixed at each date (``mimamori.clock = fixed:...``) and the demo data generated
for that date (``webapp.demo.load(now=...)``).

    .venv-ops/bin/python tests/lab/try_report_locally.py 2026-12-07 2027-01-04 ...

Run it with a Python that has requests (.venv-ops, made by ci/deploy); the
server side runs in the app's virtualenv (.venv, made by ci/lib.sh ensure_venv).
Each date submits twice, as a lab run does (test_20_report, then the database
drill after a failover). Exits non-zero if any submission failed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import reportflow

REPO = pathlib.Path(__file__).resolve().parents[2]
APP_PYTHON = os.environ.get("MIMAMORI_APP_PYTHON", str(REPO / ".venv" / "bin" / "python"))
LOAD = """\
import datetime as dt, sys, transaction
from webapp import demo
from webapp.cli import _session
db = _session({"sqlalchemy.url": sys.argv[1]}, "demo-data")
with transaction.manager:
    logins = demo.load(db, scale="small", now=dt.datetime.fromisoformat(sys.argv[2]))
print(demo.describe_logins(logins))
"""


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def demo_server_at(moment: dt.datetime):
    with tempfile.TemporaryDirectory(prefix="mimamori-report-") as tmp:
        tmp = pathlib.Path(tmp)
        url_db = f"sqlite:///{tmp / 'mimamori.sqlite'}"
        port = free_port()
        ini = tmp / "demo.ini"
        ini.write_text(
            f"[app:main]\nuse = egg:mimamori\nsqlalchemy.url = {url_db}\n"
            "mimamori.secure_cookies = false\nmimamori.second_factor_roles =\n"
            f"mimamori.mail = null\nmimamori.clock = fixed:{moment.isoformat()}\n"
            # Forms are accepted only from the server's own origin (webapp.csrf).
            f"mimamori.public_url = http://127.0.0.1:{port}\n"
            f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 2\n",
            encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
        env["MIMAMORI_SESSION_SECRET"] = secrets.token_urlsafe(40)
        subprocess.run([APP_PYTHON, "-m", "webapp.cli", "-c", str(ini), "migrate"], cwd=REPO,
                       env=env, check=True, capture_output=True)
        logins = subprocess.run([APP_PYTHON, "-c", LOAD, url_db, moment.isoformat()], cwd=REPO,
                                env=env, check=True, capture_output=True, text=True).stdout
        with (tmp / "server.log").open("w") as log:
            server = subprocess.Popen([APP_PYTHON, "-m", "webapp.cli", "-c", str(ini), "serve"],
                                      cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
            url = f"http://127.0.0.1:{port}"
            try:
                for _ in range(300):
                    with contextlib.suppress(OSError), \
                            urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                        if resp.status == 200:
                            break
                    time.sleep(0.2)
                yield url, logins
            finally:
                server.terminate()
                server.wait(timeout=10)


def main(dates: list[str]) -> int:
    failed = 0
    for text in dates:
        moment = dt.datetime.fromisoformat(text if "T" in text else f"{text}T09:00:00+09:00")
        with demo_server_at(moment) as (url, logins):
            for attempt in (1, 2):
                try:
                    done = reportflow.submit_a_report(url, logins)
                    print(f"{text} #{attempt}: submitted {done.child} {done.period} "
                          f"(days expected {done.values['days_expected']})")
                except AssertionError:
                    failed += 1
                    print(f"{text} #{attempt}: FAILED")
                    traceback.print_exc()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
