"""Debian's Chromium through Playwright, the way the browser tests and the builder both start it."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("MIMAMORI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def new_context(browser, base_url: str, **options):
    options.setdefault("locale", "ja-JP")
    options.setdefault("viewport", VIEWPORT)
    options.setdefault("accept_downloads", True)
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(15_000)
    return context
