"""The ``mimamori`` command prints what the operator must read, not library noise."""

import subprocess
import sys

import setuptools


def test_a_command_does_not_print_pyramids_pkg_resources_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "audit", "keygen", "--key-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert list(tmp_path.glob("*.key")), result.stderr
    assert "pkg_resources" not in result.stderr


def test_the_locked_setuptools_still_ships_pkg_resources_that_pyramid_imports():
    # Pyramid 2.0 cannot start without it: a lock that moves to a setuptools without
    # pkg_resources must fail here, not on a production host.
    import pkg_resources  # noqa: F401

    assert int(setuptools.__version__.split(".")[0]) >= 1
