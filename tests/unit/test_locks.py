"""The hash-pinned locks (locks/, issue 17): consistent with what they are made
from, every line pinned and hashed; the wheelhouses' own lists; the staging
approval of the locks' digest and production's refusal of other locks; the
CycloneDX SBOM. No network."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "provisioning"))
from lib import locks  # noqa: E402
from lib.patching import packages  # noqa: E402

LOCKS = ROOT / "locks"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements_of(path: Path) -> list[Requirement]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            out += requirements_of(path.parent / line[3:].strip())
        else:
            out.append(Requirement(line))
    return out


def assert_locked(reqs, lock: dict, where: str) -> None:
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} ({where}) is not in the lock: run bash ci/lock"
        assert req.specifier.contains(lock[name]["version"], prereleases=True), (
            f"{where} wants {req}, the lock has {lock[name]['version']}: run bash ci/lock")
        for extra in req.extras:
            assert extra  # the extras' own dependencies are checked by the resolver's output below


@pytest.mark.parametrize("name", locks.LOCK_FILES)
def test_every_requirement_line_is_pinned_and_hashed(name):
    text = (LOCKS / name).read_text()
    entries = locks.read(name)
    assert entries
    # Each requirement starts a line; every one of them parsed, with a sha256.
    starts = [line for line in text.splitlines() if re.match(r"[A-Za-z0-9]", line)]
    assert len(starts) == len(entries)
    for pkg, e in entries.items():
        assert e["hashes"] and all(len(h) == 64 for h in e["hashes"]), pkg
    assert not re.search(r"^\s*-(?!-hash)", text, re.M), "no options (indexes, -e) in a lock"


def test_app_lock_has_every_dependency_of_pyproject():
    assert_locked([Requirement(d) for d in PYPROJECT["project"]["dependencies"]],
                  locks.read("app.txt"), "pyproject.toml [project.dependencies]")


def test_test_lock_has_the_test_extras_at_the_app_locks_versions():
    test = locks.read("app-test.txt")
    assert_locked([Requirement(d) for d in PYPROJECT["project"]["dependencies"]
                   + PYPROJECT["project"]["optional-dependencies"]["test"]],
                  test, "pyproject.toml")
    # The editable build (--no-build-isolation) needs pyproject's build requirements.
    assert_locked([Requirement(d) for d in PYPROJECT["build-system"]["requires"]], test,
                  "pyproject.toml [build-system]")
    app = locks.read("app.txt")
    assert {n: e["version"] for n, e in test.items() if n in app} == {
        n: e["version"] for n, e in app.items()}


def test_tools_lock_has_the_control_machines_requirements_and_the_build_tools():
    tools = locks.read("tools.txt")
    assert_locked(requirements_of(ROOT / "provisioning" / "requirements.txt"), tools,
                  "provisioning/requirements.txt")
    assert_locked(requirements_of(LOCKS / "build.in"), tools, "locks/build.in")
    assert_locked([Requirement(d) for d in PYPROJECT["build-system"]["requires"]], tools,
                  "pyproject.toml [build-system] (the app wheel is built in .venv-ops)")
    assert {"pyinfra", "pytest", "pytest-testinfra", "requests", "setuptools", "wheel",
            "uv"} <= set(tools)


def test_patroni_lock_is_the_db_roles_pin_with_its_extras():
    pin = re.search(r'^PATRONI = "([^"]+)"', (ROOT / "provisioning/roles/db/__init__.py")
                    .read_text(), re.M)[1]
    assert [str(r) for r in requirements_of(LOCKS / "patroni.in")] == [str(Requirement(pin))]
    lock = locks.read("patroni.txt")
    assert_locked([Requirement(pin)], lock, "roles/db PATRONI")
    # etcd3 and psycopg3 extras: their dependencies are in, and nothing is built on the hosts.
    assert {"python-etcd", "psycopg", "psycopg-binary", "ydiff"} <= set(lock)


def test_compliance_lock_has_the_suites_requirements():
    lock = locks.read("compliance.txt")
    assert_locked(requirements_of(ROOT / "tests/compliance/requirements.txt"), lock,
                  "tests/compliance/requirements.txt")
    # sslyze is an sdist: ci/lib.sh pip_locked puts these in first to build it.
    assert {"setuptools", "wheel"} <= set(lock)


def test_parse_refuses_unpinned_or_unhashed_lines():
    with pytest.raises(locks.LockError, match="no sha256"):
        locks.parse("pyramid==2.1\n")
    with pytest.raises(locks.LockError, match="not pinned"):
        locks.parse("pyramid>=2 \\\n    --hash=sha256:" + "a" * 64 + "\n")
    with pytest.raises(locks.LockError, match="option"):
        locks.parse("--index-url https://example.org/simple\n")
    e = locks.parse("# header\nZope.Interface==8.7 \\\n    --hash=sha256:" + "b" * 64 + "\n")
    assert e == {"zope-interface": {"version": "8.7", "hashes": ["b" * 64],
                                    "line": "Zope.Interface==8.7"}}


def test_digest_covers_every_lock_file(tmp_path):
    for name in locks.LOCK_FILES:
        (tmp_path / name).write_bytes((LOCKS / name).read_bytes())
    assert locks.digest(tmp_path) == locks.digest()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", locks.digest())
    for name in locks.LOCK_FILES:
        before = locks.digest(tmp_path)
        (tmp_path / name).write_text((tmp_path / name).read_text() + "\n")
        assert locks.digest(tmp_path) != before, name


def test_wheelhouse_requirements_admit_only_locked_versions(tmp_path):
    lock = locks.parse("zope-interface==8.7 --hash=sha256:" + "a" * 64 + "\n"
                       "python-etcd==0.4.5 --hash=sha256:" + "b" * 64 + "\n")
    (tmp_path / "zope_interface-8.7-cp311-cp311-manylinux_2_17_x86_64.whl").write_bytes(b"z")
    (tmp_path / "python_etcd-0.4.5-py3-none-any.whl").write_bytes(b"e")
    (tmp_path / "mimamori-0.1.0-py3-none-any.whl").write_bytes(b"m")
    text = locks.wheelhouse_requirements(tmp_path, lock, own=("mimamori",))
    import hashlib
    assert f"python-etcd==0.4.5 --hash=sha256:{hashlib.sha256(b'e').hexdigest()}" in text
    assert "mimamori==0.1.0 --hash=sha256:" in text
    with pytest.raises(locks.LockError, match="mimamori-0.1.0.* is not in the lock"):
        locks.wheelhouse_requirements(tmp_path, lock)
    (tmp_path / "python_etcd-0.4.5-py3-none-any.whl").rename(tmp_path / "python_etcd-0.4.6-py3-none-any.whl")
    with pytest.raises(locks.LockError, match="the lock says python-etcd==0.4.5"):
        locks.wheelhouse_requirements(tmp_path, lock, own=("mimamori",))
    (tmp_path / "python_etcd-0.4.6-py3-none-any.whl").unlink()
    with pytest.raises(locks.LockError, match="no wheel for locked python-etcd"):
        locks.wheelhouse_requirements(tmp_path, lock, own=("mimamori",))


def test_hosts_and_control_machine_install_only_from_the_locks():
    """The install commands themselves (the lab proves they work end to end)."""
    app = (ROOT / "provisioning/roles/app/__init__.py").read_text()
    db = (ROOT / "provisioning/roles/db/__init__.py").read_text()
    for role in (app, db):
        assert "--no-index" in role and "--require-hashes -r" in role
    wheels = (ROOT / "provisioning/lib/wheels.py").read_text()
    assert wheels.count('"--require-hashes", "-r"') == 2 and '"--no-build-isolation"' in wheels
    lib = (ROOT / "ci/lib.sh").read_text()
    assert "--require-hashes" in lib and "--no-deps --no-build-isolation -e" in lib
    assert "pip install -q --upgrade pip" not in lib
    for script in ("ci/lib.sh", "ci/deploy", "ci/compliance", "ci/lab/lab", "ci/lab/vm", "Makefile"):
        for line in (ROOT / script).read_text().splitlines():
            if re.search(r"\bapt-get\b", line) and not line.lstrip().startswith("#"):
                assert "DPkg::Lock::Timeout" in line or "APT_GET" in line, f"{script}: {line}"


# ------------------------------------------------------------- staging approval

def approved(tmp_path, mid, digest, when, env="staging", passed=True):
    d = tmp_path / "patch-manifests"
    rec = {"id": mid, "environment": env, "when": when, "who": "ops", "revision": "f" * 40}
    packages.write_manifest(d / f"{mid}.json", rec, {"openssl": "2"})
    packages.approve(d / f"{mid}.json", passed, "r.json", when, locks_digest=digest)
    return d


def test_production_refuses_locks_staging_did_not_approve(tmp_path):
    current = locks.digest()
    d = tmp_path / "patch-manifests"
    with pytest.raises(locks.LockError, match="no approved staging manifest"):
        locks.check_production(d, current)
    approved(tmp_path, "old", current, "2026-12-01T00:00:00+00:00")
    assert locks.check_production(d, current)["id"] == "old"
    # A later approval of other locks: production must run those, not the current ones.
    other = "sha256:" + "0" * 64
    approved(tmp_path, "new", other, "2026-12-02T00:00:00+00:00")
    with pytest.raises(locks.LockError) as exc:
        locks.check_production(d, current)
    assert current in str(exc.value) and other in str(exc.value) and "manifest new" in str(exc.value)
    # A failed approval, a production manifest or one without a digest (made before
    # issue 17) never approve anything.
    approved(tmp_path, "failed", current, "2026-12-03T00:00:00+00:00", passed=False)
    approved(tmp_path, "prod", current, "2026-12-04T00:00:00+00:00", env="production")
    with pytest.raises(locks.LockError, match="manifest new"):
        locks.check_production(d, current)
    approved(tmp_path, "legacy", None, "2026-12-05T00:00:00+00:00")
    with pytest.raises(locks.LockError, match="no lock digest recorded"):
        locks.check_production(d, current)
    approved(tmp_path, "latest", current, "2026-12-06T00:00:00+00:00")
    assert locks.check_production(d, current)["id"] == "latest"


def run_check(tmp_path, **env):
    e = {k: v for k, v in os.environ.items() if k != locks.OVERRIDE}
    e.update(MIMAMORI_CHANGE_LOG_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-m", "lib.locks", "check-production"],
                          cwd=ROOT / "provisioning", env=e, capture_output=True, text=True)


def test_the_check_ci_deploy_and_upgrade_app_run_for_production(tmp_path):
    for script in ("ci/deploy", "ci/upgrade-app"):
        text = (ROOT / script).read_text()
        assert re.search(r"if \[\[ \$ENV == production \]\]; then\n\s+\(cd \"\$[A-Z]+(/provisioning)?\""
                         r" && /usr/bin/python3 -m lib.locks check-production\) \|\| exit 2", text), script
    p = run_check(tmp_path)
    assert p.returncode == 2 and "refusing:" in p.stderr and locks.digest() in p.stderr
    approved(tmp_path, "m1", "sha256:" + "1" * 64, "2026-12-01T00:00:00+00:00")
    p = run_check(tmp_path)
    assert p.returncode == 2 and "sha256:" + "1" * 64 in p.stderr and locks.digest() in p.stderr
    p = run_check(tmp_path, **{locks.OVERRIDE: "1"})
    assert p.returncode == 0 and "going on" in p.stderr
    approved(tmp_path, "m2", locks.digest(), "2026-12-02T00:00:00+00:00")
    assert run_check(tmp_path).returncode == 0


def test_production_patch_refuses_a_manifest_approved_with_other_locks(tmp_path, monkeypatch, capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("patch_cli_locks", ROOT / "provisioning/patch.py")
    patch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(patch)
    monkeypatch.setenv("MIMAMORI_CHANGE_LOG_DIR", str(tmp_path))
    monkeypatch.delenv(locks.OVERRIDE, raising=False)
    d = approved(tmp_path, "m1", "sha256:" + "2" * 64, "2026-12-01T00:00:00+00:00")
    assert patch.main(["production", "--manifest", "m1"]) == 2
    assert "not the one staging approved" in capsys.readouterr().out
    # Approving through patch.py records the current digest and writes the SBOM beside it.
    assert patch.main(["staging", "--approve", "m1", "--results", "r.json", "--passed", "1"]) == 0
    m = json.loads((d / "m1.json").read_text())
    assert m["locks_digest"] == locks.digest() and m["sbom"] == str(d / "m1.cdx.json")
    assert json.loads((d / "m1.cdx.json").read_text())["bomFormat"] == "CycloneDX"


# ------------------------------------------------------------------------- SBOM

def test_sbom_lists_every_locked_package_with_purl_and_hashes_and_validates(tmp_path):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    path = locks.write_sbom(tmp_path / "sbom.cdx.json", revision="f" * 40)
    text = path.read_text()
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert errors is None, errors
    bom = json.loads(text)
    assert bom["specVersion"] == "1.5" and bom["metadata"]["component"]["name"] == "mimamori"
    props = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert props["mimamori:locks-digest"] == locks.digest()
    for env, lock_name in locks.HOST_ENVIRONMENTS.items():
        listed = {c["name"]: c for c in bom["components"]
                  if {"name": "mimamori:environment", "value": env} in c.get("properties", [])
                  and c["type"] == "library"}
        lock = locks.read(lock_name)
        assert set(listed) == set(lock), env
        for name, e in lock.items():
            c = listed[name]
            assert c["version"] == e["version"]
            assert c["purl"] == f"pkg:pypi/{name}@{e['version']}"
            assert sorted(h["content"] for h in c["hashes"] if h["alg"] == "SHA-256") == sorted(e["hashes"])
    assert {"patroni", "python-etcd"} <= {c["name"] for c in bom["components"]}


def test_sbom_command_writes_the_file(tmp_path):
    out = tmp_path / "x.cdx.json"
    subprocess.run(["bash", str(ROOT / "ci/sbom"), str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text())["components"]
