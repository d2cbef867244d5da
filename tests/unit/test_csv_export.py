"""webapp.csv_export: the one CSV writer behind every export, and its formula neutralisation."""

from __future__ import annotations

import csv
import io

import pytest

from webapp.csv_export import csv_bytes, neutralise

# OWASP's CSV-injection prefixes, the full-width forms, and each after leading blanks or controls.
FORMULAS = [
    "=1+1", "+81", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "\tx", "\rx",
    " =1+1", "   @SUM(A1)", "\n=1+1", "\r\n+1", "\x00=1", "\x1f-1", "\u3000=1+1", "\u200b=1+1", "\ufeff=1",
    "＝1+1", "＋81", "－2", "＠SUM(A1)", " ＝1",
    "=cmd|' /C calc'!A0", "-", "-5",
]


@pytest.mark.req("S-WEB", "F-EXPORT")
@pytest.mark.parametrize("text", FORMULAS)
def test_every_formula_prefix_is_quoted(text):
    assert neutralise(text) == "'" + text


@pytest.mark.req("S-WEB", "F-EXPORT")
@pytest.mark.parametrize("text", ["元気", "1+1", "a=b", "メール: a@example.jp", "  普通の文", "", "2026-11-26", "'引用"])
def test_ordinary_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.req("F-EXPORT")
def test_numbers_the_app_writes_stay_numbers():
    """Day counts, ids, status codes and durations are ints from the app, not user text:
    a negative one stays a number; the same characters typed by a user are quoted."""
    assert neutralise(-3) == "-3"
    assert neutralise(0) == "0"
    assert neutralise(1.5) == "1.5"
    assert neutralise("-3") == "'-3"
    assert neutralise(None) == ""


@pytest.mark.req("S-WEB", "F-EXPORT")
def test_file_is_excel_ready_and_every_cell_neutralised():
    data = csv_bytes(["名前", "=見出し"], [[" =1+1", -4], ["\n=1+1", "一行目\r二行目"]])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.count("\r\n") == 3
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["名前", "'=見出し"], ["' =1+1", "-4"], ["'\n=1+1", "一行目\n二行目"]]
