"""Which ports a host opens, to whom: built from ``firewall_ports`` (group_data/all.py).

Every role contributes its own entries under its inventory group name; a host
opens the union of the entries of the groups it is in, plus ``all``. The base
role renders the result into nftables, and tests/compliance reads the same
declaration to prove that nothing else listens or answers (O-FW).

Entry: ``(protocol, port, sources, why)``. protocol is tcp, udp or vrrp (port
None); port is an int or "first-last". sources name who may connect:
``any``; ``ops`` (the environment's ``ops_cidrs``: operators' machines);
``every_host`` (every host of the inventory); an inventory group name (its
hosts' addresses); or a literal address/CIDR. A group that does not exist in
an inventory contributes no addresses, so the port stays closed there.
"""

from __future__ import annotations

import importlib
import pkgutil

from pyinfra import host, inventory

import roles


def _addresses(group: str) -> list[str]:
    return [h.data.ssh_hostname for h in inventory.get_group(group, [])]


def resolve(source: str) -> list[str] | None:
    """Addresses for one source name; None means any address."""
    if source == "any":
        return None
    if source == "ops":
        return list(host.data.ops_cidrs)
    if source == "every_host":
        return [h.data.ssh_hostname for h in inventory.get_group(host.data.env, [])]
    if source[0].isdigit():
        return [source]
    return _addresses(source)


def declared() -> dict[str, list]:
    """group_data's firewall_ports merged with every role's FIREWALL_PORTS."""
    merged: dict[str, list] = {g: list(e) for g, e in host.data.firewall_ports.items()}
    for mod in pkgutil.iter_modules(roles.__path__):
        try:
            fw = importlib.import_module(f"roles.{mod.name}.firewall")
        except ModuleNotFoundError:
            continue
        for group, entries in getattr(fw, "FIREWALL_PORTS", {}).items():
            merged.setdefault(group, []).extend(entries)
    return merged


def rules() -> list[dict]:
    out = []
    for group, entries in declared().items():
        if group != "all" and group not in host.groups:
            continue
        for proto, port, sources, why in entries:
            addrs: list[str] | None = []
            for s in sources:
                r = resolve(s)
                if r is None:
                    addrs = None
                    break
                addrs.extend(r)
            if addrs is not None:
                addrs = sorted(set(addrs))
                if not addrs:
                    continue  # nobody may connect: leave the port closed
            out.append({"proto": proto, "port": port, "sources": addrs,
                        "why": f"{group}: {why}"})
    return out
