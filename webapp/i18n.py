"""Japanese first, English second.

Message ids in templates and code are the Japanese text itself, so the
Japanese UI needs no catalog and a template reads as what the user sees.
``locale/en/LC_MESSAGES/mimamori.po`` translates them to English; it is read
at start-up (no compiled .mo files to forget to rebuild).
"""

from __future__ import annotations

import io
from importlib import resources

from babel.messages import mofile, pofile
from babel.messages.catalog import Catalog
from pyramid.i18n import Localizer, TranslationStringFactory, Translations
from pyramid.interfaces import ILocalizer

DOMAIN = "mimamori"
LOCALES = ("ja", "en")
LOCALE_COOKIE = "mimamori_locale"

_ = TranslationStringFactory(DOMAIN)


def load_catalog(locale_name: str):
    path = resources.files("webapp") / "locale" / locale_name / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        return pofile.read_po(handle, locale=locale_name, domain=DOMAIN)


def _translations_for(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fileobj=buffer, domain=DOMAIN)


class MemoizedLocalizer(Localizer):
    """A Localizer that remembers what it translated without a mapping.

    Every page translates the layout's labels (menu, header, footer: some
    fifteen) and its own; translationstring's translator costs far more than a
    dict lookup, and the answer for a message id never changes while the
    process runs (the catalogs are read at start-up). Messages with a mapping
    (「未読 ${n}件」) are interpolated each time. The memo is bounded, so a
    message id made of request data cannot grow it without limit.
    """

    MAX_ENTRIES = 20_000

    def __init__(self, locale_name, translations):
        super().__init__(locale_name, translations)
        self._memo: dict[tuple, str] = {}

    def translate(self, tstring, domain=None, mapping=None):
        if mapping or getattr(tstring, "mapping", None):
            return super().translate(tstring, domain=domain, mapping=mapping)
        key = (str(tstring), domain, getattr(tstring, "domain", None), getattr(tstring, "default", None),
               getattr(tstring, "context", None))
        translated = self._memo.get(key)
        if translated is None:
            translated = super().translate(tstring, domain=domain, mapping=mapping)
            if len(self._memo) < self.MAX_ENTRIES:
                self._memo[key] = translated
        return translated


def negotiate_locale(request) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    return request.registry.settings["mimamori.default_locale"]


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    # Pyramid looks up an ILocalizer utility by locale name before building one
    # from .mo directories; registering ours makes .po files enough.
    japanese = _translations_for(Catalog(locale="ja", domain=DOMAIN))
    config.registry.registerUtility(MemoizedLocalizer("ja", japanese), ILocalizer, name="ja")
    config.registry.registerUtility(MemoizedLocalizer("en", _translations_for(load_catalog("en"))), ILocalizer, name="en")
