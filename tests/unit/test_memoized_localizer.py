"""Translations remembered per process (issue 19 item 4): the same text as translating each time."""

from __future__ import annotations

import pathlib

from pyramid.i18n import Localizer

from webapp.help import views as help_views
from webapp.i18n import MemoizedLocalizer, _, _translations_for, load_catalog


def english():
    translations = _translations_for(load_catalog("en"))
    return MemoizedLocalizer("en", translations), Localizer("en", translations)


def test_a_remembered_translation_is_the_one_translating_gives():
    memoized, plain = english()
    for message in ("お知らせ", _("連絡帳"), "ヘルプ", "no such message id"):
        first, again = memoized.translate(message, domain="mimamori"), memoized.translate(message, domain="mimamori")
        assert first == again == plain.translate(message, domain="mimamori")
    assert memoized.translate("お知らせ", domain="mimamori") == "Notices"


def test_a_message_with_a_mapping_is_interpolated_every_time():
    memoized, _plain = english()
    assert memoized.translate("未読${count}件", domain="mimamori", mapping={"count": 2}) == "2 unread"
    assert memoized.translate("未読${count}件", domain="mimamori", mapping={"count": 5}) == "5 unread"
    assert memoized.translate(_("未読 ${n}件", mapping={"n": 3}), domain="mimamori") == "3 unread"
    assert memoized.translate(_("未読 ${n}件", mapping={"n": 4}), domain="mimamori") == "4 unread"


def test_the_memo_is_bounded_and_translations_past_it_still_right(monkeypatch):
    memoized, plain = english()
    monkeypatch.setattr(MemoizedLocalizer, "MAX_ENTRIES", 2)
    messages = ["お知らせ", "連絡帳", "ヘルプ", "今日やること"] + [f"user text {n}" for n in range(5)]
    for message in messages:
        assert memoized.translate(message, domain="mimamori") == plain.translate(message, domain="mimamori")
    assert len(memoized._memo) == 2


def test_help_topics_are_read_once_per_process(monkeypatch):
    help_views.help_topics.cache_clear()
    reads = []
    original = pathlib.Path.read_text
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self, *a, **k: reads.append(self) or original(self, *a, **k))
    first = help_views.help_topics()
    read_first = len(reads)
    assert read_first > 5 and ("today", "今日やること（施設のホーム）") in first
    assert help_views.help_topics() == first
    assert len(reads) == read_first
