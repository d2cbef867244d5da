"""The lab's two base images (ci/lab/lab, issue 22), without the lab: the bare
image carries none of the roles' packages, and every package the prepared
image preinstalls is one a role installs itself, so a bare Debian 12 host in
staging or production gets it from the deploy and the prepared image hides
nothing the roles forgot."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LAB = (REPO / "ci/lab/lab").read_text()
DB_VERSION = re.search(r'^VERSION = "(\d+)"', (REPO / "provisioning/roles/db/__init__.py").read_text(),
                       re.M).group(1)
# What a Debian installer or cloud image leaves on a new machine besides the
# boot essentials: the bare image has these, and so will the ward's hosts.
INSTALLER_LEAVES = {"openssh-server", "python3", "sudo", "ca-certificates"}
# In the prepared image for operators at a shell, needed by no role or check.
OPERATOR_CONVENIENCE = {"less"}


def _prepared_packages() -> set[str]:
    lines = (REPO / "ci/lab/image-packages.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def _bare_packages() -> set[str]:
    return set(re.search(r"^BARE_INCLUDE=(\S+)$", LAB, re.M).group(1).split(","))


def _roles_source() -> str:
    text = "\n".join(p.read_text() for p in (REPO / "provisioning").rglob("*.py"))
    return text.replace("{VERSION}", DB_VERSION)


def test_bare_image_has_what_an_installer_leaves_and_boots():
    bare = _bare_packages()
    assert INSTALLER_LEAVES <= bare
    # Booted by nspawn and reached over the bridge (systemd-networkd).
    assert {"systemd", "systemd-sysv", "dbus"} <= bare


def test_bare_image_has_none_of_the_role_packages():
    assert _bare_packages() & _prepared_packages() <= INSTALLER_LEAVES


def test_every_preinstalled_package_is_installed_by_a_role():
    source = _roles_source()
    forgotten = sorted(p for p in _prepared_packages() - INSTALLER_LEAVES - OPERATOR_CONVENIENCE
                       if not re.search(rf"""["']{re.escape(p)}["']""", source))
    assert forgotten == [], f"preinstalled in the lab image but installed by no role: {forgotten}"


def test_bare_image_is_cached_apart_from_the_prepared_one():
    # Its own key prefix, and `up` only removes older images of its own kind.
    assert "sed 's/^/bare-/'" in LAB
    assert '$(image_kind "$old") == "$LAB_IMAGE"' in LAB
