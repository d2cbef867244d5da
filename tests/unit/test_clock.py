"""The clock setting (webapp.clock): system, fixed and starting clocks."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from webapp.clock import JST, FixedClock, StartingClock, SystemClock, parse_clock_setting
from webapp.settings import build_settings

SECRET = "s" * 40


def test_system_is_the_default_and_fixed_stays_put():
    assert type(parse_clock_setting("system")) is SystemClock
    clock = parse_clock_setting("fixed:2027-01-04T08:30:00+09:00")
    assert isinstance(clock, FixedClock)
    assert clock.now() == dt.datetime(2027, 1, 4, 8, 30, tzinfo=JST)
    assert clock.today() == dt.date(2027, 1, 4)


def test_a_starting_clock_begins_at_its_instant_and_then_advances():
    clock = parse_clock_setting("from:2027-01-04T08:30:00+09:00")
    assert isinstance(clock, StartingClock)
    first = clock.now()
    start = dt.datetime(2027, 1, 4, 8, 30, tzinfo=JST)
    assert dt.timedelta(0) <= first - start < dt.timedelta(seconds=5)
    time.sleep(0.01)
    assert clock.now() > first
    assert clock.today() == dt.date(2027, 1, 4)


@pytest.mark.parametrize("value", ["fixed:2027-01-04T08:30:00", "from:2027-01-04", "tomorrow", "fixed:soon"])
def test_naive_or_unknown_clocks_are_refused(value):
    with pytest.raises(ValueError):
        parse_clock_setting(value)


def test_the_clock_can_come_from_the_environment():
    settings = build_settings({"mimamori.session_secret": SECRET},
                              environ={"MIMAMORI_CLOCK": "from:2027-04-01T08:30:00+09:00"})
    assert settings["mimamori.clock"] == "from:2027-04-01T08:30:00+09:00"
    assert build_settings({"mimamori.session_secret": SECRET}, environ={})["mimamori.clock"] == "system"
