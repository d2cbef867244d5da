"""Wheels of the application and its dependencies, built on the control machine.

Hosts never reach PyPI: the deploy copies a wheelhouse to them. Dependencies
come only from the hash-pinned locks (locks/app.txt, locks/patroni.txt; pip
--require-hashes, nothing resolved), sdists are built with the control
virtualenv's locked setuptools and wheel (--no-build-isolation), and each
wheelhouse carries a requirements.txt naming every wheel with its version and
the SHA-256 of the file: the hosts install with --no-index --require-hashes -r
it, so nothing outside the lock can get in. Wheels are built
from the committed sources at HEAD (never from uncommitted edits, so the change
record's git revision says exactly what runs). The wheelhouse is keyed by the
git tree of those sources and reused while it is unchanged: a rebuilt wheel
differs byte for byte even from the same source, and reuse is what makes a
second deploy change nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from lib import locks

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "provisioning" / "build" / "wheels"
PATRONI_BUILD = REPO / "provisioning" / "build" / "patroni"
# What the distribution is built from (pyproject's package-data and readme).
SOURCES = ["pyproject.toml", "README.md", "webapp"]
APP_LOCK = "locks/app.txt"
PATRONI_LOCK = locks.LOCKS / "patroni.txt"
PIP_ENV = dict(os.environ, SOURCE_DATE_EPOCH="315532800", PIP_DISABLE_PIP_VERSION_CHECK="1")
# Hash-checked, nothing resolved, sdists built by the locked setuptools/wheel here.
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation"]


def source_key() -> str:
    trees = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", *(f"HEAD:{s}" for s in [*SOURCES, APP_LOCK])],
        check=True, capture_output=True, text=True,
    ).stdout
    return hashlib.sha256(trees.encode()).hexdigest()[:16]


# pyinfra plans hosts concurrently: one build, the others wait for it.
_lock = threading.Lock()
_built: dict[str, Path] = {}


@contextlib.contextmanager
def _build_lock():
    """One build at a time: threads of one pyinfra run (_lock) and two deploys
    at once (ci/lab-test deploys the VM beside the containers) on a flock."""
    with _lock:
        BUILD.parent.mkdir(parents=True, exist_ok=True)
        with open(BUILD.parent / ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield


def wheelhouse() -> tuple[str, Path]:
    """Return (release key, folder of wheels), building the wheels if needed."""
    with _build_lock():
        key = source_key()
        if key not in _built:
            _built[key] = _build(key)
        return key, _built[key]


def _build(key: str) -> Path:
    target = BUILD / key
    if (target / ".complete").exists():
        return target
    tmp = BUILD / f".{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    print(f"--> Building wheels for release {key}", file=sys.stderr)
    src = tmp / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", *SOURCES, APP_LOCK],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    lock = src / APP_LOCK
    # The locked dependencies, then the app alone (--no-deps): its dependencies
    # are exactly the lock's, which wheelhouse_requirements checks.
    _pip(key, [*PIP_WHEEL, "--require-hashes", "-r", str(lock), "-w", str(tmp)])
    # (A folder has no hash to check: it is HEAD's tree, named by the key.)
    _pip(key, [*PIP_WHEEL, "--no-deps", str(src), "-w", str(tmp)])
    try:
        reqs = locks.wheelhouse_requirements(tmp, locks.parse(lock.read_text()), own=("mimamori",))
    except locks.LockError as exc:
        raise SystemExit(f"wheelhouse for release {key}: {exc}") from None
    shutil.rmtree(src)
    (tmp / "requirements.txt").write_text(reqs)
    (tmp / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    # Keep the last few wheelhouses for rollbacks; older ones are rebuilt on demand.
    old = sorted((p for p in BUILD.iterdir() if p.is_dir() and not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime)
    for p in old[:-3]:
        shutil.rmtree(p, ignore_errors=True)
    return target


def _pip(what: str, argv: list[str]) -> None:
    result = subprocess.run(argv, env=PIP_ENV, capture_output=True, text=True)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"pip wheel failed for {what}")


def patroni_wheelhouse() -> Path:
    """Wheels of Patroni and its dependencies from locks/patroni.txt for the db
    nodes (same Python 3.11 as the control machine), keyed by the lock's
    bytes, built once and reused (reuse keeps a second deploy unchanged)."""
    with _build_lock():
        text = PATRONI_LOCK.read_text()
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        target = PATRONI_BUILD / key
        if (target / ".complete").exists():
            return target
        print(f"--> Building Patroni's wheels from {PATRONI_LOCK.name} ({key})", file=sys.stderr)
        tmp = PATRONI_BUILD / f".{key}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _pip(f"Patroni {key}", [*PIP_WHEEL, "--require-hashes", "-r", str(PATRONI_LOCK), "-w", str(tmp)])
        try:
            reqs = locks.wheelhouse_requirements(tmp, locks.parse(text))
        except locks.LockError as exc:
            raise SystemExit(f"Patroni's wheelhouse {key}: {exc}") from None
        (tmp / "requirements.txt").write_text(reqs)
        (tmp / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        return target


if __name__ == "__main__":
    # Build both wheelhouses without a deploy (from provisioning/, with the
    # control virtualenv's python: python -m lib.wheels).
    print(wheelhouse()[1])
    print(patroni_wheelhouse())
