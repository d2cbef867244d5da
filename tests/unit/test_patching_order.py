"""The order of a rolling patch (provisioning/lib/patching/order.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "provisioning"))
from lib.patching.order import APP, DB, LB, OTHER, PlanError, plan  # noqa: E402

pytestmark = pytest.mark.req("O-PATCH", "O-247")

LAB = {"lb": ["lb1", "lb2"], "app": ["app1", "app2"], "db": ["db1", "db2"],
       "all": ["lb1", "lb2", "app1", "app2", "db1", "db2", "mon1", "backup1"]}


def test_vip_holder_last_among_lbs_then_apps_then_replica_then_primary_then_others():
    steps = plan(LAB, vip_holder="lb1", primary="db1")
    assert [(s.host, s.kind) for s in steps] == [
        ("lb2", LB), ("lb1", LB), ("app1", APP), ("app2", APP),
        ("db2", DB), ("db1", DB), ("mon1", OTHER), ("backup1", OTHER)]
    assert steps[5].switchover_to == "db2"
    assert steps[4].switchover_to is None


def test_order_follows_where_the_vip_and_the_leader_are_now():
    steps = plan(LAB, vip_holder="lb2", primary="db2")
    hosts = [s.host for s in steps]
    assert hosts[:2] == ["lb1", "lb2"]
    assert hosts[4:6] == ["db1", "db2"] and steps[5].switchover_to == "db1"


def test_every_host_once():
    groups = dict(LAB, etcd=["db1", "db2", "mon1"])
    hosts = [s.host for s in plan(groups, "lb1", "db1")]
    assert sorted(hosts) == sorted(set(LAB["all"])) and len(hosts) == len(set(hosts))


def test_limit_keeps_the_order():
    assert [s.host for s in plan(LAB, "lb1", "db1", only=["db1", "app2"])] == ["app2", "db1"]
    with pytest.raises(PlanError, match="unknown hosts: app9"):
        plan(LAB, "lb1", "db1", only=["app9"])


def test_refuses_without_a_known_primary_or_with_a_single_database():
    with pytest.raises(PlanError, match="primary"):
        plan(LAB, "lb1", None)
    with pytest.raises(PlanError, match="single database"):
        plan({"db": ["db1"]}, None, "db1")
    with pytest.raises(PlanError, match="not a load balancer"):
        plan(LAB, "app1", "db1")
