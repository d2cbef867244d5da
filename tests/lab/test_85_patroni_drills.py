"""Destructive database drills (O-REDUNDANT, O-247): a planned switchover, the
leader's Patroni stopped, the leader host's power cut and the leader's network
cut for 60 s, each with a writer committing numbered rows through the app's
multi-host connection. No acknowledged commit may be lost, writes must work
again within 30 s, and a partition must never leave two primaries. Each drill
ends with the old leader back as a streaming replica, so the cluster is whole
for the next one (and for the tests after this file)."""

import pytest

import dbdrill

req = pytest.mark.req
MAX_WITHOUT_WRITES_S = 30


@pytest.fixture(scope="module", autouse=True)
def drill_table():
    dbdrill.prepare_table()


def check(d: dbdrill.Drill, max_gap: float = MAX_WITHOUT_WRITES_S):
    print(d.line())
    assert len(d.writes.acked) > 30, d.writes.errors[-10:]
    assert d.lost == set(), f"acknowledged commits missing on {d.new_leader}: {sorted(d.lost)[:20]}"
    assert d.unavailable_s < max_gap, d.writes.errors[-10:]
    assert d.rejoined_as_replica


@req("O-REDUNDANT", "O-247")
def test_planned_switchover_loses_no_acknowledged_write():
    d = dbdrill.switchover()
    assert d.new_leader != d.old_leader
    check(d)


@req("O-REDUNDANT", "O-247")
def test_stopping_the_leaders_patroni_fails_over_without_loss():
    d = dbdrill.patroni_stop()
    assert d.new_leader != d.old_leader
    check(d)


@req("O-REDUNDANT", "O-247")
def test_killing_the_leader_host_fails_over_within_30_s_without_loss():
    d = dbdrill.host_kill()
    assert d.new_leader != d.old_leader
    check(d)


@req("O-REDUNDANT", "O-247")
def test_cutting_the_leaders_link_never_makes_two_primaries():
    d = dbdrill.partition(60)
    print("old primary seen until", max(d.old_primary_at, default=None),
          "s; new primary from", min(d.new_primary_at, default=None), "s after the cut")
    assert d.new_leader != d.old_leader
    # The isolated leader stopped being a primary before the other node became one.
    assert d.new_primary_at, "no node took over during the cut"
    assert max(d.old_primary_at, default=-1) < min(d.new_primary_at)
    check(d)
