"""和暦 beside 西暦 (webapp.wareki): era boundaries from the library, 元年, and the locale rule."""

from __future__ import annotations

import datetime as dt

import pytest
from jinja2 import Environment

from webapp import wareki
from webapp.templating import period_with_era


@pytest.mark.req("F-MONTHLY", "F-UI")
@pytest.mark.parametrize("day, expected", [
    # 平成 ended on 2019-04-30; 令和 began on 2019-05-01, and its first year is written 元年.
    (dt.date(2019, 4, 30), "平成31年"),
    (dt.date(2019, 5, 1), "令和元年"),
    (dt.date(2019, 12, 31), "令和元年"),
    (dt.date(2020, 1, 1), "令和2年"),
    # 昭和 ended on 1989-01-07; 平成 began on 1989-01-08.
    (dt.date(1989, 1, 7), "昭和64年"),
    (dt.date(1989, 1, 8), "平成元年"),
    (dt.date(2026, 12, 1), "令和8年"),
])
def test_era_year_at_the_boundaries(day, expected):
    assert wareki.era_year(day) == expected


@pytest.mark.req("F-MONTHLY")
def test_a_report_month_is_named_by_its_first_day():
    assert wareki.era_month(dt.date(2026, 12, 1)) == "令和8年12月"
    assert wareki.era_month(dt.date(2019, 4, 1)) == "平成31年4月"
    assert wareki.era_month(dt.date(2019, 5, 1)) == "令和元年5月"


class _Request:
    def __init__(self, locale_name):
        self.locale_name = locale_name


def render(template, locale_name, **values):
    env = Environment(autoescape=True)
    env.filters.update(period_with_era=period_with_era, era_month=wareki.era_month_filter,
                       era_year=wareki.era_year_filter)
    return env.from_string(template).render(request=_Request(locale_name), **values)


@pytest.mark.req("F-UI")
def test_japanese_pages_show_the_era_english_pages_the_western_year_only():
    october = dt.date(2026, 10, 1)
    assert render("{{ p|period_with_era }}", "ja", p=october) == '2026年10月<span class="era">（令和8年10月）</span>'
    assert render("{{ p|period_with_era }}", "en", p=october) == "2026年10月"
    assert render("{{ p|era_month }}/{{ p|era_year }}", "ja", p=october) == "令和8年10月/令和8年"
    assert render("[{{ p|era_month }}{{ p|era_year }}]", "en", p=october) == "[]"
    assert render("[{{ p|era_month }}]", "ja", p=None) == "[]"
