"""The hash-pinned lock files in locks/ (issue 17): their digest, the staging
approval of that digest, the wheelhouses' own requirement files and the SBOM.

Only the standard library: patch.py and ci/patch run this with Debian's
/usr/bin/python3, without the control virtualenv.

    python3 -m lib.locks digest                   # the current locks' digest
    python3 -m lib.locks check-production         # exit 2 unless staging approved it
    python3 -m lib.locks sbom OUT.json            # CycloneDX SBOM of what a release installs

The digest covers every lock file (name and bytes). A staging approval
(``ci/patch lab|staging``, lib/patching/packages.approve) records it beside the
package manifest; a production deploy, app upgrade or patch refuses when the
current digest is not the latest approved one (MIMAMORI_ALLOW_UNAPPROVED_LOCK=1
overrides, as MIMAMORI_ALLOW_DIRTY does for uncommitted changes: say why in the
change ticket).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "locks"
# Every lock file, in digest order. app.txt: the app nodes' virtualenv;
# app-test.txt: ci/test and ci/run-app; tools.txt: the control machine;
# patroni.txt: the db nodes' Patroni virtualenv; compliance.txt: ci/compliance.
LOCK_FILES = ("app.txt", "app-test.txt", "tools.txt", "patroni.txt", "compliance.txt")
# What the hosts run, per environment: the SBOM's scope.
HOST_ENVIRONMENTS = {"app-venv": "app.txt", "patroni-venv": "patroni.txt"}
STAGING_ENVIRONMENTS = ("lab", "staging")
OVERRIDE = "MIMAMORI_ALLOW_UNAPPROVED_LOCK"
CYCLONEDX_SPEC = "1.5"


class LockError(Exception):
    pass


def normalize(name: str) -> str:
    """PEP 503 name: what the lock, the wheel file names and purls agree on."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> dict[str, dict]:
    """name -> {"version", "hashes" (sha256 hex), "line"} of a pip requirements
    lock (``name==version \\ --hash=sha256:... ``). Raises LockError for a line
    that is not pinned with ``==`` or has no hash."""
    entries: dict[str, dict] = {}
    logical = re.sub(r"\\\n", " ", text)
    for raw in logical.splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        if line.startswith("-"):
            raise LockError(f"unexpected option line in a lock: {line[:60]}")
        spec, _, rest = line.partition(" ")
        spec = spec.split(";", 1)[0]
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)", spec)
        if not m:
            raise LockError(f"not pinned with ==: {line[:60]}")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", rest)
        if not hashes:
            raise LockError(f"no sha256 hash for {spec}")
        entries[normalize(m[1])] = {"version": m[2], "hashes": hashes, "line": spec}
    return entries


def read(name: str, locks: Path = LOCKS) -> dict[str, dict]:
    return parse((locks / name).read_text())


def digest(locks: Path = LOCKS) -> str:
    h = hashlib.sha256()
    for name in LOCK_FILES:
        data = (locks / name).read_bytes()
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return "sha256:" + h.hexdigest()


# ----------------------------------------------------------- staging approval

def latest_approved(manifest_dir: Path) -> dict | None:
    """The most recently approved staging (or lab) manifest whose compliance passed."""
    best = None
    for path in sorted(manifest_dir.glob("*.json")) if manifest_dir.is_dir() else []:
        if path.name.endswith(".cdx.json"):
            continue
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        c = m.get("compliance") or {}
        if m.get("environment") in STAGING_ENVIRONMENTS and c.get("passed"):
            if best is None or c.get("when", "") > best["compliance"].get("when", ""):
                best = m
    return best


def check_manifest(manifest: dict, current: str) -> None:
    """Refuse unless this approved manifest recorded the current locks' digest."""
    approved = manifest.get("locks_digest")
    if approved != current:
        raise LockError(
            f"the locks' digest {current} is not the one staging approved"
            f" (manifest {manifest.get('id')}: {approved or 'no lock digest recorded'});"
            " deploy the locks to staging and approve them there first"
            " (ci/patch staging; runbooks/deploy.md), or set"
            f" {OVERRIDE}=1 and say why in the change ticket")


def check_production(manifest_dir: Path, current: str) -> dict:
    """The latest approved staging manifest if it recorded ``current``, else LockError."""
    m = latest_approved(manifest_dir)
    if m is None:
        raise LockError(f"no approved staging manifest in {manifest_dir}: the locks' digest"
                        f" {current} has not been approved on staging (ci/patch staging),"
                        f" or set {OVERRIDE}=1 and say why in the change ticket")
    check_manifest(m, current)
    return m


def overridden() -> bool:
    return os.environ.get(OVERRIDE, "0") == "1"


# ------------------------------------------------------------------ wheelhouses

WHEEL = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def wheelhouse_requirements(folder: Path, lock: dict[str, dict],
                            own: tuple[str, ...] = ()) -> str:
    """requirements.txt for a built wheelhouse: each wheel pinned to its version
    and the SHA-256 of the very file, for the hosts' ``pip install --no-index
    --require-hashes -r``. Every wheel must be a locked version (or one of
    ``own``, the project's own distribution); every locked package must have a wheel."""
    lines, seen = [], set()
    for whl in sorted(folder.glob("*.whl")):
        m = WHEEL.match(whl.name)
        if not m:
            raise LockError(f"not a wheel file name: {whl.name}")
        name, version = normalize(m["name"]), m["version"]
        if name not in own:
            if name not in lock:
                raise LockError(f"{whl.name} is not in the lock")
            if lock[name]["version"] != version:
                raise LockError(f"{whl.name}: the lock says {name}=={lock[name]['version']}")
        seen.add(name)
        sha = hashlib.sha256(whl.read_bytes()).hexdigest()
        lines.append(f"{name}=={version} --hash=sha256:{sha}")
    missing = sorted(set(lock) - seen)
    if missing:
        raise LockError(f"no wheel for locked {', '.join(missing)}")
    return "# Written by provisioning/lib/wheels.py from the lock: install with --require-hashes.\n" \
        + "\n".join(lines) + "\n"


# ------------------------------------------------------------------------- SBOM

def sbom(locks: Path = LOCKS, *, version: str | None = None, revision: str | None = None,
         when: datetime | None = None) -> dict:
    """CycloneDX (JSON, spec 1.5) of what a release installs on the hosts: the
    app nodes' virtualenv (locks/app.txt and mimamori itself) and the db nodes'
    Patroni virtualenv (locks/patroni.txt), each package with its version, purl
    and the lock's SHA-256 hashes (one per file PyPI has for that version; pip
    accepts only those).

    Written here rather than by cyclonedx-py: that tool reads one requirements
    file per run, and this must run with Debian's bare python3 in patch.py's
    approval step (no control virtualenv); tests/unit/test_locks.py validates the
    result against CycloneDX's schema with cyclonedx-python-lib."""
    when = when or datetime.now(timezone.utc)
    version = version or _project_version()
    app_ref = f"mimamori@{version}"
    components, dependencies = [], []
    for env, name in HOST_ENVIRONMENTS.items():
        refs = []
        for pkg, e in sorted(read(name, locks).items()):
            ref = f"{env}/{pkg}@{e['version']}"
            refs.append(ref)
            components.append({
                "type": "library", "bom-ref": ref, "name": pkg, "version": e["version"],
                "purl": f"pkg:pypi/{pkg}@{e['version']}",
                "hashes": [{"alg": "SHA-256", "content": h} for h in e["hashes"]],
                "properties": [{"name": "mimamori:environment", "value": env},
                               {"name": "mimamori:lock", "value": f"locks/{name}"}],
            })
        dependencies.append({"ref": f"environment/{env}", "dependsOn": refs})
        components.append({"type": "platform", "bom-ref": f"environment/{env}",
                           "name": env, "description": _ENV_DESCRIPTION[env]})
    dependencies.append({"ref": app_ref, "dependsOn": [f"environment/{e}" for e in HOST_ENVIRONMENTS]})
    metadata = {
        "timestamp": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tools": {"components": [{"type": "application", "name": "mimamori lib.locks"}]},
        "component": {"type": "application", "bom-ref": app_ref, "name": "mimamori",
                      "version": version, "purl": f"pkg:pypi/mimamori@{version}",
                      "licenses": [{"license": {"id": "AGPL-3.0-or-later"}}]},
        "properties": [{"name": "mimamori:locks-digest", "value": digest(locks)}],
    }
    if revision:
        metadata["properties"].append({"name": "mimamori:revision", "value": revision})
    return {"bomFormat": "CycloneDX", "specVersion": CYCLONEDX_SPEC,
            "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
            "metadata": metadata, "components": components, "dependencies": dependencies}


_ENV_DESCRIPTION = {
    "app-venv": "the app nodes' release virtualenv (/opt/mimamori/releases/KEY/venv): mimamori's dependencies",
    "patroni-venv": "the db nodes' Patroni virtualenv (/opt/patroni/venv)",
}


def _project_version() -> str:
    m = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    return m[1] if m else "0"


def write_sbom(path: Path, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sbom(**kw), indent=1) + "\n")
    return path


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    if cmd == "digest":
        print(digest())
        return 0
    if cmd == "check-production":
        from lib.patching.packages import manifest_dir  # noqa: PLC0415
        current = digest()
        try:
            m = check_production(manifest_dir(), current)
        except LockError as exc:
            if overridden():
                print(f"warning: {exc} ({OVERRIDE}=1: going on)", file=sys.stderr)
                return 0
            print(f"refusing: {exc}", file=sys.stderr)
            return 2
        print(f"locks {current} approved on {m['environment']} (manifest {m['id']})", file=sys.stderr)
        return 0
    if cmd == "sbom" and len(argv) == 2:
        from lib import record  # noqa: PLC0415
        print(write_sbom(Path(argv[1]), revision=record.git("rev-parse", "HEAD") or None))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
