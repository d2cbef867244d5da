"""Serving the help pages: /help/<topic> renders templates/help/<topic>.html when it exists."""

from __future__ import annotations

import functools
import pathlib
import re

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from webapp.authz import Permission

HELP_DIR = pathlib.Path(__file__).resolve().parents[1] / "templates" / "help"
# Only plain names: the topic becomes part of a template path, so no dots or slashes.
TOPIC = re.compile(r"^[a-z_]+$")
# The page title is the message id in ``{% block title %}{{ _("...") }}{% endblock %}``.
TITLE = re.compile(r"{%\s*block title\s*%}\s*{{\s*_\(\s*[\"'](.+?)[\"']\s*\)\s*}}")


@functools.cache
def help_topics() -> tuple[tuple[str, str], ...]:
    """(topic, title) of every help page except the index, sorted by topic.

    Read once per process: the templates ship with the code (eleven file reads
    per request were most of the help index's own cost)."""
    topics = []
    for path in sorted(HELP_DIR.glob("*.html")):
        if path.stem == "index" or not TOPIC.match(path.stem):
            continue
        found = TITLE.search(path.read_text(encoding="utf-8"))
        topics.append((path.stem, found.group(1).strip() if found else path.stem))
    return tuple(topics)


@view_config(route_name="help", permission=Permission.ACCOUNT_SELF, request_method="GET")
def help_page(request):
    topic = request.matchdict["topic"]
    if not TOPIC.match(topic) or not (HELP_DIR / f"{topic}.html").is_file():
        raise HTTPNotFound()
    values = {"topics": help_topics()} if topic == "index" else {}
    return render_to_response(f"help/{topic}.html", values, request=request)
