"""provisioning/patch.py: inventories read as pyinfra reads them, SSH as the
inventory says, the staging-first refusal, the rolling app restart and the
change record of a patch run."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "provisioning"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
_spec = importlib.util.spec_from_file_location("patch_cli", ROOT / "provisioning" / "patch.py")
patch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(patch)

from lib.patching import packages  # noqa: E402
from lib.patching.order import APP, Step  # noqa: E402
from lib.patching.rolling import Rolling, Settings  # noqa: E402
from test_patching_rolling import Hosts  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH", "O-CHANGE")


def test_reads_the_real_inventories_and_group_data():
    lab = patch.Environment("lab")
    assert lab.groups["lb"] == ["lb1", "lb2"] and lab.groups["db"] == ["db1", "db2"]
    assert "vm1" in lab.groups["all"] and lab.data["vip"] == "10.77.0.10"
    assert lab.data["app_port"] == 6543
    staging = patch.Environment("staging")
    assert staging.groups["app"] == ["stg-app1", "stg-app2"]
    argv = patch.Ssh(staging).argv("stg-app1", "echo 'x'")
    assert argv[-2] == "deploy@192.0.2.21" and argv[-1].startswith("sudo -n bash -c ")
    argv = patch.Ssh(lab).argv("app1", "true")
    assert argv[-2] == "root@10.77.0.21" and "StrictHostKeyChecking=no" in argv
    assert "LogLevel=ERROR" in argv  # no known-hosts notice mixed into parsed output


@pytest.fixture
def manifests(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMAMORI_CHANGE_LOG_DIR", str(tmp_path))
    return tmp_path / "patch-manifests"


def test_production_refuses_without_a_passed_staging_manifest(manifests, capsys):
    assert patch.main(["production"]) == 2
    assert "needs --manifest" in capsys.readouterr().out
    assert patch.main(["lab", "--approve", "nope", "--passed", "1"]) == 2
    assert "no manifest" in capsys.readouterr().out
    assert patch.main(["production", "--manifest", "nope"]) == 2
    rec = {"id": "m1", "environment": "lab", "when": "t", "who": "w", "revision": "r"}
    packages.write_manifest(manifests / "m1.json", rec, {"openssl": "2"})
    assert patch.main(["production", "--manifest", "m1"]) == 2
    assert "compliance suite has not run" in capsys.readouterr().out
    assert patch.main(["lab", "--approve", "m1", "--results", "/x/results.json", "--passed", "0"]) == 0
    assert patch.main(["production", "--manifest", "m1"]) == 2
    assert "compliance suite failed" in capsys.readouterr().out
    assert json.loads((manifests / "m1.json").read_text())["compliance"]["results"] == "/x/results.json"


def test_rolling_app_restart_drains_each_node_and_stops_at_a_failure():
    hosts = Hosts()
    rolling = Rolling(hosts, Settings(lbs=["lb1", "lb2"], poll=0, drain_timeout=1,
                                      health_timeout=1), log=lambda m: None, sleep=lambda s: None)
    report = patch.rolling_restart(rolling, [Step("app1", APP), Step("app2", APP)])
    assert report.failed is None
    cmds = [(h, c) for h, c in hosts.log if "state" in c or "restart" in c]
    names = [f"{h}:{c.split('|')[0].strip()}" for h, c in cmds]
    assert names.index("app1:systemctl restart mimamori.service") > names.index(
        "lb2:echo 'set server app/app1 state drain'")
    assert names.index("app1:systemctl restart mimamori.service") < names.index(
        "lb1:echo 'set server app/app1 state ready'") < names.index(
        "lb1:echo 'set server app/app2 state drain'")

    failing = Hosts()
    failing.run = (lambda orig: lambda h, c: (1, "Job failed") if h == "app1" and "restart" in c
                   else orig(h, c))(failing.run)
    rolling.r = failing
    report = patch.rolling_restart(rolling, [Step("app1", APP), Step("app2", APP)])
    assert report.failed == "app1" and report.untouched == ["app2"]
    assert not [c for h, c in failing.log if "app2" in c]


def test_patch_record_names_hosts_packages_and_where_it_stopped():
    from lib.patching.rolling import HostReport, RunReport
    report = RunReport(done=[HostReport("lb2", changes=[{"package": "openssl", "before": "1",
                                                         "after": "2"}], restarted=["cron.service"]),
                             HostReport("lb1", notes=["n"])],
                       failed="lb1", error="lb1: apt-get upgrade failed", untouched=["app1"])
    rec = patch.patch_record("lab", report, 12.3, "patch", {"manifest": None})
    assert rec["kind"] == "patch" and rec["result"] == "failed (exit 1)"
    assert rec["packages"]["lb2"][0]["after"] == "2" and rec["untouched"] == ["app1"]
    assert rec["who"] and len(rec["revision"]) == 40 and rec["when"].endswith("+00:00")


def test_staging_run_then_compliance_then_production_with_the_same_versions(manifests, monkeypatch,
                                                                             capsys):
    """patch.main end to end on simulated lab hosts: the lab run records every
    host's package changes and writes a manifest; production refuses it until
    the compliance result is recorded, then installs exactly its versions."""
    hosts = Hosts()
    monkeypatch.setattr(patch.Ssh, "run", lambda self, h, c: hosts.run(h, c))
    monkeypatch.setattr(patch.Rolling, "wait", lambda self, host, what, timeout, pred: None
                        if pred() else pytest.fail(f"{host}: {what}"))
    assert patch.main(["lab"]) == 0
    out = capsys.readouterr().out
    rec = json.loads(out.strip().splitlines()[-1])
    assert rec["kind"] == "patch" and rec["failed"] is None
    assert set(rec["packages"]) == set(patch.Environment("lab").groups["all"])
    line = json.loads((manifests.parent / "lab.jsonl").read_text().splitlines()[-1])
    assert line["id"] == rec["id"] and line["packages"] == rec["packages"]
    # The same record appended on every host it touched.
    assert {h for h, c in hosts.log if "changes.jsonl" in c} == set(rec["packages"])
    manifest = json.loads((manifests / f"{rec['manifest']}.json").read_text())
    assert manifest["packages"] == {"openssl": "2"} and manifest["compliance"] is None

    lab = patch.Environment("lab")
    lab.env = "production"
    monkeypatch.setattr(patch, "Environment", lambda env: lab)
    assert patch.main(["production", "--manifest", rec["manifest"]]) == 2
    patch.main(["lab", "--approve", rec["manifest"], "--results", "r.json", "--passed", "1"])
    prod = Hosts()
    monkeypatch.setattr(patch.Ssh, "run", lambda self, h, c: prod.run(h, c))
    capsys.readouterr()
    assert patch.main(["production", "--manifest", rec["manifest"]]) == 0
    installs = [c for h, c in prod.log if "apt-get -y" in c]
    assert installs and all("install --only-upgrade openssl=2" in c for c in installs)
    assert not any(c.rstrip().endswith(" upgrade") for c in installs)
    prod_rec = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert prod_rec["environment"] == "production" and prod_rec["manifest"] == rec["manifest"]
    assert "manifest" in prod_rec and not (manifests / f"{prod_rec['id']}.json").exists()


def test_plan_shows_order_and_preview_and_changes_nothing(manifests, monkeypatch, capsys):
    hosts = Hosts()
    monkeypatch.setattr(patch.Ssh, "run", lambda self, h, c: hosts.run(h, c))
    assert patch.main(["lab", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "plan: db1 (db), switchover to db2 first" in out
    assert "preview: app1: 1 package(s): openssl 2" in out
    assert not [c for h, c in hosts.log if "apt-get -y" in c or "state drain" in c]
    assert not (manifests.parent / "lab.jsonl").exists()


def test_summary_line_of_a_patch_record(monkeypatch, capsys):
    import io

    from lib import record
    from lib.patching.rolling import HostReport, RunReport
    report = RunReport(done=[HostReport("lb2", changes=[{"package": "x", "before": "1", "after": "2"}]),
                             HostReport("lb1")], failed="lb1", untouched=["app1"])
    rec = patch.patch_record("lab", report, 7, "patch", {})
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(rec)))
    record.summary()
    assert capsys.readouterr().out.startswith(
        "patch lab: 1 package changes on 1 host(s), stopped at lb1, 7 s, record ")
