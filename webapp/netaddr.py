"""The client's address, and whether it may act as an admin (S-ADMINIP).

X-Forwarded-For is believed only when the direct peer is one of our own
load balancers (``mimamori.trusted_proxies``). Each proxy appends the address
it saw, so the list is read from the right: trusted hops are skipped and the
first untrusted address is the client. Anything further left was written by
the client itself and is ignored.
"""

from __future__ import annotations

import ipaddress

from pyramid.tweens import INGRESS

from webapp.settings import as_list

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in as_list(value))


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def in_networks(address: str | None, networks: tuple[Network, ...]) -> bool:
    parsed = _address(address or "")
    return parsed is not None and any(parsed in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str | None:
    if not in_networks(peer, trusted) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            # Garbage in the header: stop at the last hop we can vouch for.
            return peer
        if not in_networks(hop, trusted):
            return str(_address(hop))
        peer = hop
    return peer


def _request_client_address(request) -> str | None:
    return client_address(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        request.registry["net.trusted_proxies"],
    )


def _request_from_admin_network(request) -> bool:
    return in_networks(request.client_address, request.registry["net.admin_networks"])


def forwarded_proto_tween_factory(handler, registry):
    """Behind our TLS-terminating load balancer, the request was HTTPS.

    Only a trusted peer's X-Forwarded-Proto counts; it matters for the CSRF
    origin check, Secure cookies and HSTS.
    """
    trusted = registry["net.trusted_proxies"]

    def tween(request):
        if in_networks(request.remote_addr, trusted):
            proto = request.headers.get("X-Forwarded-Proto", "").lower()
            if proto in ("http", "https"):
                request.scheme = proto
        return handler(request)

    return tween


def includeme(config):
    settings = config.get_settings()
    config.registry["net.trusted_proxies"] = parse_networks(settings["mimamori.trusted_proxies"])
    config.registry["net.admin_networks"] = parse_networks(settings["mimamori.admin_cidrs"])
    config.add_request_method(_request_client_address, "client_address", reify=True)
    config.add_request_method(_request_from_admin_network, "from_admin_network", reify=True)
    # Outermost: everything below must see the real scheme.
    config.add_tween("webapp.netaddr.forwarded_proto_tween_factory", under=INGRESS)
