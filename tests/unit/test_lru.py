"""The per-process bounded cache behind the badges' statements and the layout's links (issue 19 item 4)."""

from __future__ import annotations

import pytest

from webapp.lru import BoundedCache

pytestmark = pytest.mark.req("F-UI")


def test_a_value_is_built_once_per_key():
    cache, built = BoundedCache(max_entries=10), []

    def build(value):
        built.append(value)
        return value

    assert cache.get(("a", 1), lambda: build("A1")) == "A1"
    assert cache.get(("a", 1), lambda: build("other")) == "A1"
    assert cache.get(("a", 2), lambda: build("A2")) == "A2"
    assert built == ["A1", "A2"]


def test_it_never_holds_more_than_its_bound_and_drops_the_least_recently_used():
    cache = BoundedCache(max_entries=2)
    cache.get("first", lambda: 1)
    cache.get("second", lambda: 2)
    cache.get("first", lambda: 0)  # used again: "second" is now the oldest
    cache.get("third", lambda: 3)
    assert len(cache) == 2
    assert cache.get("first", lambda: "rebuilt") == 1
    assert cache.get("second", lambda: "rebuilt") == "rebuilt"
