"""Fixtures for the lab drills: they need a lab that `ci/lab/lab up` booted and
`ci/deploy lab` deployed (ci/lab-test does both)."""

import pytest

import labkit


@pytest.fixture(scope="session")
def acme_ca(tmp_path_factory):
    return labkit.acme_root(tmp_path_factory.mktemp("ca") / "pebble-root.pem")
