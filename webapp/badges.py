"""The menu's count badges in one statement: open alerts, reports waiting for review, open urgent reports.

Every page a caseworker opens shows these counts in the menu; one query each
was a good part of what every page cost before its own work (issue 19 item 4).
Each area registers the COUNT query of its badge in its ``includeme``:

    config.add_badge_count("alerts", query_for)

``query_for(request)`` returns a ``Select`` of one count, already restricted to
the user's scope, or None when the user has no such badge (no permission, not
logged in); areas build it once per process per scope with
``Scope.statement``, as it runs on every page. ``request.badge_counts`` runs them all as scalar subqueries of one
SELECT, the first time a page asks, and gives {name: count}; a badge not
asked for is 0. Areas need not import this module: the directive is looked up
on config, the counts on the request.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from webapp.lru import BoundedCache

REGISTRY_KEY = "badges.queries"

# The one SELECT of the badges' subqueries, per combination of the (cached)
# subquery statements themselves: the same statements, the same SELECT.
_COMBINED = BoundedCache(max_entries=200)


def add_badge_count(config, name: str, query_for: Callable) -> None:
    queries = config.registry.setdefault(REGISTRY_KEY, {})
    if name in queries:
        raise ValueError(f"badge count {name!r} registered twice")
    queries[name] = query_for


def badge_counts(request) -> dict[str, int]:
    queries = {}
    for name, query_for in request.registry.get(REGISTRY_KEY, {}).items():
        query = query_for(request)
        if query is not None:
            queries[name] = query
    if not queries:
        return {}
    key = tuple(queries.items())
    combined = _COMBINED.get(key, lambda: sa.select(*(q.scalar_subquery().label(name) for name, q in key)))
    row = request.db.execute(combined).one()
    return {name: count or 0 for name, count in zip(queries, row)}


def includeme(config):
    config.add_directive("add_badge_count", add_badge_count)
    config.add_request_method(badge_counts, "badge_counts", reify=True)
