"""The compliance suite: testinfra over SSH against every host of one inventory.

    ci/compliance lab        (prepares everything, runs this, writes the report)

A test taking the ``node`` fixture runs once per host of the inventory (or of
the groups its ``@pytest.mark.groups`` names); a test without it runs on the
control machine (negative checks from outside). Every outcome is written with
the test's requirement IDs and where it ran to ``--results`` for the report
(tests/compliance/report.py): nothing runs anywhere the report does not name.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import testinfra

import inventory as inv_mod


def pytest_addoption(parser):
    parser.addoption("--inventory", default=os.environ.get("MIMAMORI_INVENTORY", "lab"),
                     help="environment name: provisioning/inventories/<name>.py")
    parser.addoption("--results", default=None, help="write per-test outcomes (JSON) here")


def pytest_configure(config):
    config._mimamori_inventory = inv_mod.load(config.getoption("--inventory"))
    config._mimamori_results = []


@pytest.fixture(scope="session")
def inv(pytestconfig) -> inv_mod.Inventory:
    return pytestconfig._mimamori_inventory


def pytest_generate_tests(metafunc):
    if "node" not in metafunc.fixturenames:
        return
    inv = metafunc.config._mimamori_inventory
    marker = metafunc.definition.get_closest_marker("groups")
    names = [n.name for n in inv.nodes.values()
             if marker is None or set(marker.args) & set(n.groups)]
    metafunc.parametrize("node", names, indirect=True, ids=names)


class Target:
    """One host: its inventory entry and a testinfra connection."""

    def __init__(self, node: inv_mod.Node, inv: inv_mod.Inventory):
        self.name, self.address, self.groups = node.name, node.address, node.groups
        self.node = node
        extra = "-o ConnectTimeout=10 -o BatchMode=yes"
        if node.data.get("ssh_strict_host_key_checking") == "no":
            extra += " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        user = node.data.get("ssh_user", "root")
        self.host = testinfra.get_host(
            f"ssh://{user}@{node.address}", ssh_identity_file=node.data.get("ssh_key"),
            ssh_extra_args=extra, sudo=bool(node.data.get("_sudo")),
            # One SSH connection per host for all its commands: a new handshake
            # costs ~2.5 s on the emulated VM. A short persistence, so no master
            # outlives the run for long (it would hold the lab lock's descriptor).
            controlpath=f"/tmp/mimamori-cm-{node.name}", controlpersist=10,
        )

    def run(self, cmd: str) -> str:
        """stdout of a command that must succeed."""
        return self.host.check_output(cmd)


_targets: dict[str, Target] = {}


@pytest.fixture
def node(request, inv) -> Target:
    name = request.param
    if name not in _targets:
        _targets[name] = Target(inv.nodes[name], inv)
    return _targets[name]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" or rep.outcome != "passed":
        reqs = [a for m in item.iter_markers("req") for a in m.args]
        where = item.callspec.params.get("node") if hasattr(item, "callspec") else None
        item.config._mimamori_results.append({
            "nodeid": item.nodeid,
            "test": item.originalname if hasattr(item, "originalname") else item.name,
            "file": item.location[0],
            "doc": (item.function.__doc__ or "").strip().splitlines()[0] if item.function.__doc__ else "",
            "requirements": reqs,
            "where": where or "control machine",
            "phase": rep.when,
            "outcome": rep.outcome,
            "duration_s": round(rep.duration, 2),
            "message": str(rep.longrepr.reprcrash.message)[:500]
            if rep.failed and hasattr(rep.longrepr, "reprcrash") and rep.longrepr.reprcrash else
            (str(rep.longrepr)[-500:] if rep.failed else ""),
            "finished_at": time.time(),
        })


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--results")
    if path:
        with open(path, "w") as f:
            json.dump(session.config._mimamori_results, f, indent=1)
