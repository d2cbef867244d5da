"""The composition root: the only place the application is assembled.

``configure(settings)`` is an ordered list of includes. Nothing runs at import
time anywhere in ``webapp``; everything is wired here.
"""

from __future__ import annotations

from pyramid.config import Configurator

from webapp.settings import build_settings


def configure(settings: dict) -> Configurator:
    config = Configurator(settings=settings)

    # Outside dependencies first: the clock and the database (request.db, pyramid_tm).
    config.include(".clock")
    config.include(".db")
    config.include("pyramid_services")

    # Change records for every write, in the writing transaction (S-AUDIT).
    config.include(".audit")

    # The mail outbox (F-NOTIFY): areas queue email in their own transaction.
    config.include(".mail")

    # The closed-day calendar (holiday source, weekly rules) that daily attendance and alerts read.
    config.include(".closed_days")

    # Security: client address and proxy trust, identity, permissions, CSRF, headers.
    config.include(".netaddr")
    config.include(".malformed")
    config.include(".security")

    # Presentation: Jinja2 templates and the Japanese/English catalogs.
    config.include("pyramid_jinja2")
    config.include(".templating")
    config.include(".i18n")

    # URLs, then the views of each domain area, lowest area first.
    config.include(".routes")
    config.include(".views")
    # GET /metrics for the monitoring host only, and request counts per route (O-MON).
    config.include(".metrics")
    # The caseworker home's "対応が必要なもの": areas below add their sections to it.
    config.include(".dashboard")
    # The menu's count badges in one statement: areas below register their COUNT queries.
    config.include(".badges")
    config.include(".organisations")
    config.include(".accounts")
    config.include(".children")
    config.include(".reports")
    config.include(".imports")
    # Urgent reports (F-URGENT) and per-child message threads (F-MSG).
    config.include(".urgent")
    config.include(".messages")
    # Alerts from absence streaks (F-ALERT): the caseworker's list and the menu badge.
    config.include(".alerts")
    # Daily attendance (F-DAILY) with per-facility closures; help pages for every role.
    config.include(".attendance")
    config.include(".help")
    # The per-role manuals: help pages built from the walkthroughs (F-HELP)
    config.include(".manuals")
    # Notices and planned stops (F-NOTICE, O-247), siblings (F-SIB), the April roll-over (F-ROLLOVER).
    config.include(".notices")
    config.include(".children.siblings_views")
    config.include(".rollover")
    # A child's timeline and attendance calendar (F-DASH): reads every area above, so it comes last.
    config.include(".timeline")
    # The facility's home, today's to-do: reads attendance, reports, messages and notices.
    config.include(".today")

    config.commit()
    return config


def make_wsgi_app(settings: dict):
    return configure(settings).make_wsgi_app()


def paste_app(global_config, **ini_settings):
    """PasteDeploy entry point (``use = egg:mimamori``)."""
    return make_wsgi_app(build_settings(ini_settings))
