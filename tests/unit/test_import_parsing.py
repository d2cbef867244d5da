"""Reading CSV files: encodings, BOM, malformed files, limits (F-IMPORT)."""

from __future__ import annotations

import pytest

from webapp.imports.parsing import MAX_LINES, Column, ImportFileError, decode, read_rows

pytestmark = pytest.mark.req("F-IMPORT")


def text_of(message) -> str:
    """A TranslationString with its ${placeholders} filled in, as the Japanese page shows it."""
    return message.interpolate() if hasattr(message, "interpolate") else str(message)

COLUMNS = [Column("code", "コード", True), Column("name", "名称", True), Column("note", "備考")]


def test_utf8_with_and_without_bom_and_shift_jis_decode_to_the_same_text():
    text = "コード,名称\r\nF1,髙﨑保育園\r\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text  # the BOM is not part of the header
    assert decode(text.encode("cp932")) == text


def test_emoji_and_rare_kanji_survive_utf8():
    text = "コード,名称\nF1,𠮷野家😀\n"
    rows, problems, _present = read_rows(decode(text.encode()), COLUMNS)
    assert problems == [] and rows[0].cells["name"] == "𠮷野家😀"


@pytest.mark.parametrize("data, fragment", [
    (b"", "空"),
    (b"   \r\n", "空"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "CSVファイルではない"),
    (b"\xff\xfe" + "コード".encode("utf-16-le"), "UTF-16"),
    (b"\xef\xbb\xbf\xff\xfe\x81", "UTF-8 として読めない"),
    (b"\x81\x7f\x80\xa0\xfd\xfe", "文字コードを判別できません"),
])
def test_unreadable_files_get_a_clear_japanese_message(data, fragment):
    with pytest.raises(ImportFileError) as caught:
        decode(data)
    assert fragment in text_of(caught.value.message)


def test_header_problems_are_file_errors():
    for text, fragment in (("名称\nx\n", "必要な列がありません：コード"),
                           ("コード,名称,住所\nF1,x,y\n", "知らない列名"),
                           ("コード,名称,コード\n", "2回あります"),
                           ("コード,名称\n", "データの行がありません")):
        with pytest.raises(ImportFileError) as caught:
            read_rows(text, COLUMNS)
        assert fragment in text_of(caught.value.message), text


def test_headers_match_by_japanese_name_or_key_in_any_order_and_width():
    rows, problems, present = read_rows("ＮＡＭＥ, code \nx,F1\n", COLUMNS)
    assert problems == [] and rows[0].cells == {"name": "x", "code": "F1"} and present == {"name", "code"}


def test_wrong_column_count_is_reported_with_the_line_number():
    text = 'コード,名称\nF1,a\n"F2","複数\n行の名前"\nF3,a,extra\n\nF4,b\n'
    rows, problems, _present = read_rows(text, COLUMNS)
    assert [r.line for r in rows] == [2, 3, 7]  # a quoted newline: the record starts on line 3
    assert [(p.line, "見出し 2 列、この行 3 列" in text_of(p.message)) for p in problems] == [(5, True)]


def test_an_unclosed_quote_is_reported_not_raised():
    rows, problems, _present = read_rows('コード,名称\nF1,a\nF2,"never closed\n', COLUMNS)
    assert len(rows) == 1 and problems[0].line == 3


def test_too_many_lines_is_refused():
    text = "コード,名称\n" + "F,x\n" * (MAX_LINES + 1)
    with pytest.raises(ImportFileError) as caught:
        read_rows(text, COLUMNS)
    assert "行数が多すぎます" in text_of(caught.value.message)
    rows, _problems, _present = read_rows("コード,名称\n" + "F,x\n" * MAX_LINES, COLUMNS)
    assert len(rows) == MAX_LINES


def test_refused_columns_explain_themselves():
    with pytest.raises(ImportFileError) as caught:
        read_rows("コード,名称,パスワード\nF,x,secret\n", COLUMNS, {"パスワード": "no passwords"})
    assert caught.value.message == "no passwords"
