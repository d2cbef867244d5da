"""A throwaway demo server for walkthroughs: fresh SQLite, small demo data, the alert sweep run once.

The same commands the README uses (``mimamori migrate``, ``demo-data``, ``jobs run``,
``serve``) in child processes, on a free loopback port; mail only logged.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator

REPO = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(ini: pathlib.Path, *args: str, env: dict, timeout: float = 600) -> str:
    """``mimamori -c INI ARGS`` in a child process; its stdout, or an error with its stderr."""
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "-c", str(ini), *args],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"mimamori {' '.join(args)} failed: {result.stderr[-3000:]}")
    return result.stdout


def wait_until_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


@contextlib.contextmanager
def demo_server(scale: str = "small", workdir: pathlib.Path | None = None, sweep: bool = True,
                clock: str | None = None) -> Iterator[str]:
    """Yield the base URL of a demo server that lives as long as the ``with`` block.

    ``clock`` is a ``mimamori.clock`` value (webapp.clock), e.g.
    ``from:2027-01-04T08:30:00+09:00``: the demo data, the alert sweep and the
    server then all believe it is that day. None: ``MIMAMORI_CLOCK`` if set
    (the child processes do not inherit MIMAMORI_* variables), else the real time.
    """
    clock = clock or os.environ.get("MIMAMORI_CLOCK") or None
    with contextlib.ExitStack() as stack:
        tmp = workdir or pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mimamori-demo-")))
        database = tmp / "mimamori.sqlite"
        port = free_port()
        ini = tmp / "demo.ini"
        ini.write_text(
            "[app:main]\nuse = egg:mimamori\n"
            f"sqlalchemy.url = sqlite:///{database}\n"
            "mimamori.secure_cookies = false\n"
            "mimamori.second_factor_roles =\n"
            "mimamori.mail = null\n"
            # Forms are accepted only from the server's own origin (webapp.csrf).
            f"mimamori.public_url = http://127.0.0.1:{port}\n"
            + (f"mimamori.clock = {clock}\n" if clock else "")
            + f"\n[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\nthreads = 4\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
        env["MIMAMORI_SESSION_SECRET"] = secrets.token_urlsafe(40)
        run_cli(ini, "migrate", env=env)
        run_cli(ini, "demo-data", "--scale", scale, env=env)
        if sweep:
            # Alerts come from the periodic sweep; run it once so the alert flows have some.
            run_cli(ini, "jobs", "run", env=env)
        log = (tmp / "server.log").open("w")
        stack.callback(log.close)
        process = subprocess.Popen([sys.executable, "-m", "webapp.cli", "-c", str(ini), "serve"],
                                   cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
