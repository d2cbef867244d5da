"""The periodic jobs (issue 7 item 5) on the deployed lab: a systemd timer on
every app node, one PostgreSQL advisory lock so exactly one node works at a
time, and the run recorded in job_runs for monitoring."""

import subprocess
import time

import pytest

import dbdrill
from labkit import LAB, on

APP_NODES = ("app1", "app2")
# Start one run and print only that run's output (a timer run may have come before).
RUN = ("systemctl start mimamori-jobs.service;"
       " journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID"
       " --value mimamori-jobs.service)")
JOBS_LOCK = 0x6A6F6273  # webapp/jobs/runner.py


@pytest.mark.req("F-ALERT", "F-REMIND")
@pytest.mark.parametrize("node", APP_NODES)
def test_every_app_node_runs_the_jobs_timer(node):
    assert on(node, "systemctl is-enabled mimamori-jobs.timer").strip() == "enabled"
    assert on(node, "systemctl is-active mimamori-jobs.timer").strip() == "active"
    assert "jobs run" in on(node, "systemctl cat mimamori-jobs.service")


@pytest.mark.req("F-ALERT", "F-REMIND")
def test_a_run_is_recorded_and_a_held_lock_makes_the_other_node_do_nothing():
    lead = dbdrill.healthy_cluster()
    on("app1", RUN)
    runs = dbdrill.psql(lead, "SELECT name, last_outcome FROM job_runs ORDER BY name")
    assert "mail.deliver|" in runs, runs

    # Another node's run in progress, as seen from app2: a session holding the lock.
    holder = subprocess.Popen(
        ["bash", str(LAB), "ssh", lead,
         f"sudo -u postgres psql -X -d mimamori -c 'SELECT pg_advisory_lock({JOBS_LOCK})'"
         " -c 'SELECT pg_sleep(30)'"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        before = dbdrill.psql(lead, "SELECT sum(run_count) FROM job_runs")
        out = on("app2", RUN)
        assert "another runner holds the lock" in out, out
        assert dbdrill.psql(lead, "SELECT sum(run_count) FROM job_runs") == before
    finally:
        holder.terminate()
        holder.wait()
