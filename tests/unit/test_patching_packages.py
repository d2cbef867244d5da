"""Package versions, what a run changed, and the staging-first manifest gate
(provisioning/lib/patching/packages.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib.patching import packages  # noqa: E402
from lib.patching.rolling import DPKG  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH", "O-CHANGE")


def test_reads_this_machines_real_dpkg_database():
    out = subprocess.run(["bash", "-c", DPKG], capture_output=True, text=True, check=True).stdout
    installed = packages.parse_dpkg(out)
    assert "dpkg" in installed and installed["dpkg"][0].isdigit()
    # Removed-but-configured packages (status "rc") are not installed.
    assert all(line.split("\t")[2].startswith("ii")
               for line in out.splitlines() if line.split("\t")[0] in installed)


def test_changes_lists_upgrades_additions_and_removals():
    before = {"openssl": "3.0.15-1~deb12u1", "libssl3": "3.0.15-1~deb12u1", "old": "1"}
    after = {"openssl": "3.0.17-1~deb12u2", "libssl3": "3.0.17-1~deb12u2", "linux-image-6.1.0-26": "6.1.106-3"}
    assert packages.changes(before, after) == [
        {"package": "libssl3", "before": "3.0.15-1~deb12u1", "after": "3.0.17-1~deb12u2"},
        {"package": "linux-image-6.1.0-26", "before": None, "after": "6.1.106-3"},
        {"package": "old", "before": "1", "after": None},
        {"package": "openssl", "before": "3.0.15-1~deb12u1", "after": "3.0.17-1~deb12u2"},
    ]
    assert packages.changes(before, before) == []


def test_upgradable_from_apt_simulation():
    sim = ("NOTE: This is only a simulation!\n"
           "Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])\n"
           "Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])\n"
           "Conf libssl3 (3.0.17-1~deb12u2 Debian-Security:12/stable-security [amd64])\n")
    assert packages.parse_upgradable(sim) == {"libssl3": "3.0.17-1~deb12u2",
                                              "openssl": "3.0.17-1~deb12u2"}


def test_merge_refuses_two_versions_of_one_package():
    same = {"a": [{"package": "x", "before": "1", "after": "2"}],
            "b": [{"package": "x", "before": "1", "after": "2"},
                  {"package": "gone", "before": "1", "after": None}]}
    assert packages.merge(same) == {"x": "2"}
    with pytest.raises(packages.ManifestError, match="x is 2 on one host and 3 on b"):
        packages.merge({"a": same["a"], "b": [{"package": "x", "before": "1", "after": "3"}]})


RECORD = {"id": "abc123", "environment": "lab", "when": "2026-11-26T10:00:00+00:00",
          "who": "ops", "revision": "f" * 40}


def test_production_needs_a_staging_manifest_whose_compliance_passed(tmp_path):
    path = tmp_path / "abc123.json"
    packages.write_manifest(path, RECORD, {"openssl": "3.0.17-1~deb12u2"})
    with pytest.raises(packages.ManifestError, match="compliance suite has not run"):
        packages.check_for_production(json.loads(path.read_text()))
    packages.approve(path, False, "/var/log/mimamori-compliance/lab/x/results.json", "now")
    with pytest.raises(packages.ManifestError, match="compliance suite failed"):
        packages.check_for_production(json.loads(path.read_text()))
    packages.approve(path, True, "/var/log/mimamori-compliance/lab/y/results.json", "now")
    assert packages.check_for_production(json.loads(path.read_text())) == {
        "openssl": "3.0.17-1~deb12u2"}


def test_a_production_manifest_or_an_empty_one_is_refused(tmp_path):
    path = tmp_path / "m.json"
    packages.write_manifest(path, dict(RECORD, environment="production"), {"x": "1"})
    packages.approve(path, True, "r", "now")
    with pytest.raises(packages.ManifestError, match="not from staging or the lab"):
        packages.check_for_production(json.loads(path.read_text()))
    packages.write_manifest(path, RECORD, {})
    packages.approve(path, True, "r", "now")
    with pytest.raises(packages.ManifestError, match="changed no package"):
        packages.check_for_production(json.loads(path.read_text()))


def test_install_args_pin_only_what_the_host_has_at_another_version():
    wanted = {"openssl": "3.0.17-1~deb12u2", "haproxy": "2.6.12-1+deb12u2", "patroni": "9"}
    installed = {"openssl": "3.0.15-1~deb12u1", "haproxy": "2.6.12-1+deb12u2"}
    assert packages.install_args(wanted, installed) == ["openssl=3.0.17-1~deb12u2"]


def test_upgradable_from_this_machines_real_apt_simulation():
    out = subprocess.run(["bash", "-c", packages.PREVIEW], capture_output=True, text=True,
                         check=True).stdout
    found = packages.parse_upgradable(out)
    assert len(found) == out.count("\nInst ") + out.startswith("Inst ")
    installed = packages.parse_dpkg(subprocess.run(["bash", "-c", DPKG], capture_output=True,
                                                   text=True, check=True).stdout)
    # Every upgrade names a version other than the installed one.
    assert all(installed.get(name) != version for name, version in found.items())
