"""Internal TLS certificates rotate by re-running the deploy: the database's
certificate is re-issued from the internal CA, PostgreSQL reloads it, and the
app keeps verifying it with no failed request (S-TLS internal, O-CHANGE)."""

import os
import subprocess

import pytest

import labkit
from labkit import REPO, on


def db_cert_serial() -> str:
    # The certificate PostgreSQL presents on the wire, seen from an app node.
    out = on("app1", "echo | openssl s_client -starttls postgres -connect db1:5432 "
                     "-CAfile /etc/mimamori/internal-ca.crt -verify_return_error 2>/dev/null "
                     "| openssl x509 -noout -serial")
    assert out.startswith("serial="), out
    return out.strip()


@pytest.mark.req("S-TLS", "O-CHANGE")
def test_forced_rotation_reissues_the_database_certificate_without_failed_requests(acme_ca):
    before = db_cert_serial()
    with labkit.RequestLoop(acme_ca) as loop:
        result = subprocess.run(["bash", str(REPO / "ci" / "deploy"), "lab"], capture_output=True,
                                text=True, timeout=900,
                                env={**os.environ, "MIMAMORI_ROTATE_INTERNAL_CERTS": "1"})
    assert result.returncode == 0, result.stdout[-3000:]
    after = db_cert_serial()
    assert after != before
    record = labkit.last_change_record()
    assert any("Install the server certificate" in c["operation"] for c in record["changes"])
    assert loop.result.ok > 10
    print(loop.result.summary(), *loop.result.client_timeouts, sep="\n  ")
    assert loop.result.failed == 0, loop.result.errors
