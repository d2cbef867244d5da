"""The caseworker home's section mechanism (F-DASH): areas add sections; empty ones are left out."""

from __future__ import annotations

import types

import pytest
from pyramid.config import Configurator

from webapp.dashboard import add_dashboard_section, dashboard_sections


def request_with(*specs):
    config = Configurator()
    for key, items, order in specs:
        add_dashboard_section(config, key, lambda _request, items=items: items, f"{key}.html", order)
    return types.SimpleNamespace(registry=config.registry)


@pytest.mark.req("F-DASH")
def test_sections_come_in_order_and_empty_ones_are_left_out():
    request = request_with(("messages", ["m"], 30), ("urgent", ["u1", "u2"], 10), ("alerts", [], 20))
    sections = dashboard_sections(request)
    assert [(s.key, s.template, s.items) for s in sections] == [
        ("urgent", "urgent.html", ["u1", "u2"]), ("messages", "messages.html", ["m"])]


def test_a_section_key_is_registered_once():
    with pytest.raises(ValueError):
        request_with(("urgent", [], 10), ("urgent", [], 20))


def test_the_application_registers_urgent_before_messages():
    from webapp.config import configure
    from webapp.settings import build_settings

    config = configure(build_settings({"sqlalchemy.url": "sqlite://", "mimamori.session_secret": "s" * 40}, environ={}))
    specs = sorted(config.registry["dashboard.sections"].values(), key=lambda s: s.order)
    keys = [s.key for s in specs]
    assert keys.index("urgent") < keys.index("messages")
