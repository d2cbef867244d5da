"""Environments never share keys or CAs (S-SEP): checked on the control machine,
without hosts."""

import importlib
import os
import shutil
import subprocess
import sys

import pytest

from labkit import REPO

sys.path.insert(0, str(REPO / "provisioning"))


@pytest.fixture
def secrets_module(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMAMORI_SECRETS_DIR", str(tmp_path))
    import lib.secrets
    return importlib.reload(lib.secrets)


@pytest.mark.req("S-SEP")
def test_each_environment_gets_its_own_ca_and_secrets(secrets_module, tmp_path):
    secrets_module.ensure("lab")
    secrets_module.ensure("staging")
    assert secrets_module.ca_fingerprint("lab") != secrets_module.ca_fingerprint("staging")
    for name in ("db-app-password", "session-secret", "vrrp-auth"):
        assert (tmp_path / "lab" / name).read_text() != (tmp_path / "staging" / name).read_text()
        assert oct((tmp_path / "lab" / name).stat().st_mode & 0o777) == "0o600"


@pytest.mark.req("S-SEP")
def test_a_deploy_refuses_two_environments_with_one_ca(secrets_module, tmp_path):
    secrets_module.ensure("lab")
    shutil.copytree(tmp_path / "lab" / "internal-ca", tmp_path / "production" / "internal-ca")
    with pytest.raises(SystemExit, match="S-SEP"):
        secrets_module.ensure("production")


@pytest.mark.req("S-SEP")
def test_existing_secrets_are_never_replaced(secrets_module, tmp_path):
    # Secrets brought from a vault must survive every deploy untouched.
    (tmp_path / "lab").mkdir(mode=0o700)
    (tmp_path / "lab" / "session-secret").write_text("from-the-vault\n")
    secrets_module.ensure("lab")
    assert (tmp_path / "lab" / "session-secret").read_text() == "from-the-vault\n"


@pytest.mark.req("S-SEP")
def test_inventories_share_no_host_address():
    addresses = {}
    for env in ("lab", "staging", "production.example"):
        text = (REPO / "provisioning" / "inventories" / f"{env}.py").read_text()
        found = set(subprocess.run(["grep", "-oE", r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+"],
                                   input=text, capture_output=True, text=True).stdout.split())
        assert found, env
        for other, seen in addresses.items():
            assert not (found & seen), (env, other)
        addresses[env] = found
