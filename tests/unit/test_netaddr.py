"""Client address from X-Forwarded-For, trusted only from our own proxies (S-ADMINIP)."""

import pytest

from webapp.netaddr import client_address, in_networks, parse_networks

pytestmark = pytest.mark.req("S-ADMINIP")
LBS = parse_networks("10.77.0.11 10.77.0.12")


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        # Direct clients: the header is the client's own invention and ignored.
        ("203.0.113.5", "10.0.0.1", "203.0.113.5"),
        ("203.0.113.5", None, "203.0.113.5"),
        # Through a load balancer: the right-most untrusted hop is the client.
        ("10.77.0.11", "198.51.100.7", "198.51.100.7"),
        # A client forging an allowed address in front: the LB appended the real one.
        ("10.77.0.11", "192.0.2.99, 198.51.100.7", "198.51.100.7"),
        # Two of our proxies in a row are both skipped.
        ("10.77.0.11", "198.51.100.7, 10.77.0.12", "198.51.100.7"),
        # Garbage after the client's own part: stop at the last hop we trust.
        ("10.77.0.11", "198.51.100.7, not-an-ip", "10.77.0.11"),
        # Only proxies: the left-most proxy is the best we know.
        ("10.77.0.11", "10.77.0.12", "10.77.0.12"),
        ("10.77.0.11", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, LBS) == expected


def test_in_networks():
    ward = parse_networks("203.0.113.0/24, 2001:db8:1::/48")
    assert in_networks("203.0.113.200", ward)
    assert in_networks("2001:db8:1::5", ward)
    assert not in_networks("203.0.114.1", ward)
    assert not in_networks("garbage", ward)
    assert not in_networks(None, ward)
