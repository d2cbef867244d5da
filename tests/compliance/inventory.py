"""Read a pyinfra inventory and its group data without pyinfra, so the suite can
check any environment (the lab in CI, staging, production) from the files the
deploy itself uses: the same hosts, groups and declared firewall ports."""

from __future__ import annotations

import runpy
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROV = REPO / "provisioning"


@dataclass
class Node:
    name: str
    address: str
    groups: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)


@dataclass
class Inventory:
    env: str
    nodes: dict[str, Node]
    data: dict

    def group(self, name: str) -> list[Node]:
        return [n for n in self.nodes.values() if name in n.groups]

    def addresses(self, source: str) -> list[str] | None:
        """Same meaning as provisioning/lib/firewall.py's sources."""
        if source == "any":
            return None
        if source == "ops":
            return list(self.data["ops_cidrs"])
        if source == "every_host":
            return [n.address for n in self.nodes.values()]
        if source[0].isdigit():
            return [source]
        return [n.address for n in self.group(source)]

    def firewall_ports(self) -> dict[str, list]:
        merged = {g: list(e) for g, e in self.data["firewall_ports"].items()}
        for fw in sorted(PROV.glob("roles/*/firewall.py")):
            for group, entries in runpy.run_path(str(fw)).get("FIREWALL_PORTS", {}).items():
                merged.setdefault(group, []).extend(entries)
        return merged

    def open_ports(self, node: Node) -> list[tuple]:
        """(proto, port, sources, why) entries that apply to this host."""
        return [e for g, es in self.firewall_ports().items()
                if g == "all" or g in node.groups for e in es]


def _public(ns: dict) -> dict:
    return {k: v for k, v in ns.items() if not k.startswith("_") and not callable(v)
            and not isinstance(v, type(runpy))}


def load(env: str) -> Inventory:
    ns = runpy.run_path(str(PROV / "inventories" / f"{env}.py"))
    data = _public(runpy.run_path(str(PROV / "group_data" / "all.py")))
    data.update(_public(runpy.run_path(str(PROV / "group_data" / f"{env}.py"))))
    nodes: dict[str, Node] = {}
    for group, members in ns.items():
        if group.startswith("_") or not isinstance(members, list):
            continue
        for item in members:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], dict)):
                continue
            name, hdata = item
            node = nodes.setdefault(name, Node(name, hdata.get("ssh_hostname", name), [], dict(hdata)))
            if group not in node.groups:
                node.groups.append(group)
    return Inventory(env, nodes, data)
