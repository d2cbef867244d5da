"""In which order a rolling patch visits the hosts, and what it does around each.

Rules (runbooks/patching.md):
- load balancers one at a time, the one NOT holding the VIP first: while it is
  patched nothing moves; the VIP holder goes last, so the VIP leaves it at most
  once (and comes back when keepalived's preemption returns it);
- app nodes one at a time, each drained on every load balancer first;
- the database replica(s) first, then a switchover to a patched replica, then
  the old primary, which is then a replica;
- every other host (monitoring, backup, etcd-only) last, one at a time.
A host in several groups is visited once, in its earliest slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LB, APP, DB, OTHER = "lb", "app", "db", "other"


@dataclass(frozen=True)
class Step:
    host: str
    kind: str  # LB, APP, DB or OTHER: which checks wrap the upgrade
    # DB only: switch the Patroni leader over to this host before patching (the
    # old primary), named here so the plan shows it before anything starts.
    switchover_to: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


class PlanError(ValueError):
    pass


def plan(groups: dict[str, list[str]], vip_holder: str | None, primary: str | None,
         only: list[str] | None = None) -> list[Step]:
    """The ordered steps. ``groups`` maps inventory group -> host names
    (lb, app, db and every host of the environment under ``all``)."""
    lbs, apps, dbs = groups.get("lb", []), groups.get("app", []), groups.get("db", [])
    if vip_holder is not None and vip_holder not in lbs:
        raise PlanError(f"VIP holder {vip_holder} is not a load balancer")
    if dbs and primary not in dbs:
        raise PlanError("no database primary known: check `patronictl list` before patching")
    steps: list[Step] = []
    seen: set[str] = set()

    def add(step: Step) -> None:
        if step.host not in seen:
            seen.add(step.host)
            steps.append(step)

    for h in sorted(lbs, key=lambda h: (h == vip_holder, lbs.index(h))):
        add(Step(h, LB, notes=("holds the VIP: it moves to the patched peer",)
                 if h == vip_holder else ()))
    for h in apps:
        add(Step(h, APP))
    replicas = [h for h in dbs if h != primary]
    for h in replicas:
        add(Step(h, DB))
    if primary:
        if not replicas:
            raise PlanError("a single database node cannot be patched without downtime")
        add(Step(primary, DB, switchover_to=replicas[0]))
    for h in groups.get("all", []):
        add(Step(h, OTHER))
    if only:
        unknown = set(only) - {s.host for s in steps}
        if unknown:
            raise PlanError(f"unknown hosts: {', '.join(sorted(unknown))}")
        steps = [s for s in steps if s.host in only]
    return steps
