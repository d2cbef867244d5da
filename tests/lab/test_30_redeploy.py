"""A second deploy changes nothing, and every deploy leaves a change record on
the control machine and on the hosts, with /etc committed (O-CHANGE)."""

import json
import subprocess

import pytest

import labkit
from labkit import REPO, on

req = pytest.mark.req


@pytest.fixture(scope="module")
def redeploy():
    result = subprocess.run(["bash", str(REPO / "ci" / "deploy"), "lab"], capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return labkit.last_change_record(), result.stdout


def test_second_deploy_reports_no_changes(redeploy):
    record, stdout = redeploy
    assert record["errors"] == 0
    assert record["changed"] == 0, record["changes"]
    assert record["unchanged"] > 50
    assert "deploy lab: 0 changed, 0 failed" in stdout


@req("O-CHANGE")
def test_change_record_names_who_when_what_and_revision(redeploy):
    record, _ = redeploy
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert record["revision"] == head
    assert record["who"] and record["when"] and record["environment"] == "lab"
    assert isinstance(record["changes"], list)


@req("O-CHANGE")
@pytest.mark.parametrize("host", ["lb1", "app2", "db1", "mon1"])
def test_every_host_keeps_the_record_and_etckeeper_history(redeploy, host):
    record, _ = redeploy
    lines = on(host, "cat /var/log/mimamori/changes.jsonl").splitlines()
    assert json.loads(lines[-1])["id"] == record["id"]
    # The first deploy changed /etc, so etckeeper committed it under a deploy id.
    log = on(host, "git -C /etc log --format=%s")
    assert "mimamori deploy " in log
