"""Wheels of the application and its dependencies, built on the control machine.

Hosts never reach PyPI: the deploy copies a wheelhouse to them. Wheels are built
from the committed sources at HEAD (never from uncommitted edits, so the change
record's git revision says exactly what runs). The wheelhouse is keyed by the
git tree of those sources and reused while it is unchanged: a rebuilt wheel
differs byte for byte even from the same source, and reuse is what makes a
second deploy change nothing.
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
    trees = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", *(f"HEAD:{s}" for s in SOURCES)],
        check=True, capture_output=True, text=True,
    ).stdout
    return hashlib.sha256(trees.encode()).hexdigest()[:16]


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
    src = tmp / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", *SOURCES],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", str(src), "-w", str(tmp)],
        env=env, capture_output=True, text=True,
    )
    shutil.rmtree(src)
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
