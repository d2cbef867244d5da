"""Addresses of other hosts, read from the inventory so no role hard-codes them."""

from pyinfra import inventory


def addresses(group: str) -> list[str]:
    return [h.data.ssh_hostname for h in inventory.get_group(group, [])]


def names(group: str) -> list[str]:
    return [h.name for h in inventory.get_group(group, [])]
