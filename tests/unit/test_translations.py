"""English is the second locale (F-UI): every Japanese message has an English translation."""

from __future__ import annotations

import pathlib

from babel.messages.extract import extract_from_dir

from webapp.i18n import load_catalog

ROOT = pathlib.Path(__file__).resolve().parents[2] / "webapp"
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"trimmed": "true"}}


def extracted_messages() -> dict[str, str]:
    """msgid -> where it is used."""
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, OPTIONS, keywords={"_": None}
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid and "migrations" not in filename:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def test_the_extraction_finds_the_ui():
    messages = extracted_messages()
    assert "ログイン" in messages and len(messages) > 200


def test_every_message_has_an_english_translation():
    catalog = load_catalog("en")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = {msgid: where for msgid, where in extracted_messages().items() if msgid not in translated}
    assert missing == {}, f"{len(missing)} untranslated: " + "; ".join(f"{w}: {m}" for m, w in list(missing.items())[:40])


def test_the_catalog_defines_each_message_once():
    """A second definition of a msgid makes msgfmt refuse the catalog; Babel would silently keep one."""
    path = pathlib.Path(__file__).resolve().parents[2] / "webapp/locale/en/LC_MESSAGES/mimamori.po"
    msgids, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            msgids.append("".join(part.strip('"') for part in current))
            current = None
    repeated = sorted({m for m in msgids if msgids.count(m) > 1 and m})
    assert repeated == []
