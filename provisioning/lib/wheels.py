"""Wheels of the application and its dependencies, built on the control machine.

Hosts never reach PyPI: the deploy copies a wheelhouse to them. The wheelhouse
is keyed by a hash of the sources that go into the ``mimamori`` distribution,
and reused while they are unchanged. Reuse is what makes a second deploy change
nothing: a rebuilt wheel differs byte for byte even from the same source.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "provisioning" / "build" / "wheels"
# What the distribution is built from (pyproject's package-data and readme).
SOURCES = ["pyproject.toml", "README.md", "webapp"]


def source_key() -> str:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
         "--", *SOURCES],
        check=True, capture_output=True,
    ).stdout.split(b"\0")
    digest = hashlib.sha256()
    for rel in sorted(p for p in listed if p):
        path = REPO / rel.decode()
        if path.is_file():
            digest.update(rel + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# pyinfra plans hosts concurrently: one build, the others wait for it.
_lock = threading.Lock()
_built: dict[str, Path] = {}


def wheelhouse() -> tuple[str, Path]:
    """Return (release key, folder of wheels), building the wheels if needed."""
    with _lock:
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
    env = dict(os.environ, SOURCE_DATE_EPOCH="315532800", PIP_DISABLE_PIP_VERSION_CHECK="1")
    print(f"--> Building wheels for release {key}", file=sys.stderr)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", str(REPO), "-w", str(tmp)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"pip wheel failed for release {key}")
    (tmp / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    # Keep the last few wheelhouses for rollbacks; older ones are rebuilt on demand.
    old = sorted((p for p in BUILD.iterdir() if p.is_dir() and not p.name.startswith(".")),
                 key=lambda p: p.stat().st_mtime)
    for p in old[:-3]:
        shutil.rmtree(p, ignore_errors=True)
    return target
