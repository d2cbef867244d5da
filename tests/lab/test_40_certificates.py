"""Certificate renewal: certbot renews from the ACME CA with the saved settings,
the deploy hook installs the new certificate into HAProxy and reloads it, and
no request fails meanwhile (S-TLS)."""

import socket
import ssl

import pytest

import labkit
from labkit import SITE, VIP, on


def served_serial(acme_ca: str) -> int:
    ctx = ssl.create_default_context(cafile=acme_ca)
    with socket.create_connection((VIP, 443), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=SITE) as tls:
            der = tls.getpeercert(binary_form=True)
    # Parse the serial with openssl rather than trusting a library's view of it.
    import subprocess
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True).stdout.decode()
    return int(out.strip().split("=")[1], 16)


@pytest.mark.req("S-TLS")
def test_forced_renewal_replaces_the_served_certificate_without_failed_requests(acme_ca):
    lb = labkit.vip_holder()
    before = served_serial(acme_ca)
    assert "certbot.timer" in on(lb, "systemctl list-timers --all --no-legend certbot.timer")
    with labkit.RequestLoop(acme_ca) as loop:
        on(lb, "certbot renew --force-renewal --no-random-sleep-on-renew --cert-name "
               f"{SITE} --non-interactive")
        labkit.wait_for(lambda: served_serial(acme_ca) != before, timeout=20)
    assert served_serial(acme_ca) != before
    assert loop.result.ok > 5
    print(loop.result.summary(), *loop.result.client_timeouts, sep="\n  ")
    assert loop.result.failed == 0, loop.result.errors
