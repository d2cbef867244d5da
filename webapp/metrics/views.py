"""``GET /metrics``: the exposition, built per scrape from the database."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response

from webapp.metrics import allowed, collectors


def metrics_view(request):
    if not allowed(request):
        raise HTTPNotFound()
    body = collectors.exposition(request.db, request.clock.now(), request.registry.settings)
    response = Response(body=body)
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    response.charset = "utf-8"
    response.cache_control = "no-store"
    return response
