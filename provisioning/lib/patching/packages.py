"""Package versions on a host, what a run changed, and the staging manifest.

Versions come from ``dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n'``
(only installed packages count). The manifest is what a staging (lab) run
installed, package -> version; a production run installs exactly those
versions and refuses unless the manifest's compliance check passed (O-PATCH:
impact check on staging first).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STAGING_ENVIRONMENTS = ("lab", "staging")


def parse_dpkg(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].startswith("ii"):
            out[parts[0]] = parts[1]
        elif len(parts) == 2:
            out[parts[0]] = parts[1]
    return out


PREVIEW = "apt-get -s -q -o Debug::NoLocking=1 upgrade --with-new-pkgs"


def changes(before: dict[str, str], after: dict[str, str]) -> list[dict]:
    """Each package whose version differs, was added or was removed."""
    out = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            out.append({"package": name, "before": before.get(name), "after": after.get(name)})
    return out


def parse_upgradable(text: str) -> dict[str, str]:
    """``apt-get -s -o Debug::NoLocking=1 upgrade --with-new-pkgs`` lines ``Inst NAME [OLD] (NEW …)``
    -> name -> new version: what a plain upgrade would install now."""
    out = {}
    for line in text.splitlines():
        if line.startswith("Inst "):
            words = line.split()
            rest = line[line.index("(") + 1:] if "(" in line else ""
            if rest:
                out[words[1]] = rest.split()[0]
    return out


class ManifestError(Exception):
    pass


def merge(per_host: dict[str, list[dict]]) -> dict[str, str]:
    """The package set a run installed across its hosts. One package at two
    versions on two hosts means the hosts saw different archives: refuse."""
    merged: dict[str, str] = {}
    for host, rows in sorted(per_host.items()):
        for row in rows:
            if row["after"] is None:
                continue
            have = merged.get(row["package"])
            if have is not None and have != row["after"]:
                raise ManifestError(f"{row['package']} is {have} on one host and "
                                    f"{row['after']} on {host}")
            merged[row["package"]] = row["after"]
    return merged


def manifest_dir() -> Path:
    """Where staging manifests (and their approvals and SBOMs) live on the control machine."""
    return Path(os.environ.get("MIMAMORI_CHANGE_LOG_DIR", "/var/log/mimamori-deploy")) / "patch-manifests"


def write_manifest(path: Path, record: dict, packages: dict[str, str]) -> dict:
    manifest = {"id": record["id"], "environment": record["environment"],
                "when": record["when"], "who": record["who"], "revision": record["revision"],
                "packages": dict(sorted(packages.items())), "compliance": None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def approve(path: Path, passed: bool, results: str, when: str,
            locks_digest: str | None = None, sbom: str | None = None) -> dict:
    """Record the compliance result. With it, the digest of the dependency locks
    the control machine deploys (lib/locks.py: production refuses other locks)
    and the SBOM of what those locks install, both beside the package versions."""
    manifest = json.loads(path.read_text())
    manifest["compliance"] = {"passed": passed, "results": results, "when": when}
    if locks_digest is not None:
        manifest["locks_digest"] = locks_digest
    if sbom is not None:
        manifest["sbom"] = sbom
    path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def check_for_production(manifest: dict) -> dict[str, str]:
    """The package set production may install, or ManifestError saying why not."""
    if manifest.get("environment") not in STAGING_ENVIRONMENTS:
        raise ManifestError(f"manifest {manifest.get('id')} comes from "
                            f"{manifest.get('environment')}, not from staging or the lab")
    compliance = manifest.get("compliance")
    if not compliance:
        raise ManifestError(f"manifest {manifest['id']}: the compliance suite has not run "
                            "after the staging patch (ci/patch runs it)")
    if not compliance.get("passed"):
        raise ManifestError(f"manifest {manifest['id']}: the compliance suite failed after the "
                            f"staging patch ({compliance.get('results')})")
    if not manifest.get("packages"):
        raise ManifestError(f"manifest {manifest['id']} changed no package: nothing to apply")
    return manifest["packages"]


def install_args(wanted: dict[str, str], installed: dict[str, str]) -> list[str]:
    """``apt-get install`` arguments pinning each package to the manifest's
    version, for packages this host has and does not already run at that version."""
    return [f"{name}={version}" for name, version in sorted(wanted.items())
            if name in installed and installed[name] != version]
