"""Jinja2 set-up: templates under webapp/templates, filters for dates and periods."""

from __future__ import annotations

import datetime as dt

from jinja2 import pass_context
from markupsafe import Markup, escape

from webapp import wareki
from webapp.clock import JST
from webapp.lru import BoundedCache

WEEKDAYS_JA = "月火水木金土日"


def jst(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC timestamp as Japan time."""
    if value is None:
        return ""
    return value.astimezone(JST).strftime(fmt)


def utc_iso(value: dt.datetime | None) -> str:
    """A stored timestamp as it is stored: ISO 8601 in UTC (for a ``<time datetime>`` or a title)."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat()


def period_label(period: dt.date) -> str:
    return f"{period.year}年{period.month}月"


@pass_context
def period_with_era(context, period: dt.date) -> Markup:
    """「2026年12月（令和8年12月）」 on Japanese pages (the era in a span), 「2026年12月」 on English ones."""
    era = wareki.era_month_filter(context, period)
    label = escape(period_label(period))
    return label + Markup('<span class="era">（%s）</span>') % era if era else label


def period_param(period: dt.date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


# The layout's ~25 links (menu, header) on every page. A route's URL depends only
# on the application URL (scheme, host, script name) and its arguments, never on
# the user, so they are kept per process under exactly those; bounded, since the
# Host header is the client's to choose.
_LAYOUT_URLS = BoundedCache(max_entries=1000)


def layout_url(request, name: str, **arguments) -> str:
    """``request.route_url(name, **arguments)`` for the layout's fixed links (no query, no anchor)."""
    key = (request.application_url, name, *sorted(arguments.items()))
    return _LAYOUT_URLS.get(key, lambda: request.route_url(name, **arguments))


def includeme(config):
    config.add_request_method(layout_url, "layout_url")
    config.add_jinja2_renderer(".html")
    config.add_jinja2_search_path("webapp:templates", name=".html")

    def add_filters():
        env = config.get_jinja2_environment(".html")
        env.filters["jst"] = jst
        env.filters["utc_iso"] = utc_iso
        env.filters["period_label"] = period_label
        env.filters["period_param"] = period_param
        env.filters["period_with_era"] = period_with_era
        env.filters["era_month"] = wareki.era_month_filter
        env.filters["era_year"] = wareki.era_year_filter
        env.trim_blocks = True
        env.lstrip_blocks = True

    # The environment exists only once the renderer is registered (after commit
    # of the renderer action), hence the deferred action.
    config.action(None, add_filters, order=999)
