"""The child register stores only what the tender allows (S-MINDATA), and kana are checked (F-CHILD)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from webapp.children.forms import clean_grade, clean_kana, to_hiragana, validate_child
from webapp.children.models import Grade

ALLOWED_CHILD_COLUMNS = {
    "id", "created_at", "updated_at",
    "facility_id", "centre_id",
    "family_name", "given_name", "family_name_kana", "given_name_kana",
    "grade", "class_name", "monitoring_start", "monitoring_end",
}
# Column-name words that would mean a child's personal data beyond facility, name and
# grade anywhere in the schema. (Staff e-mail and client IP addresses are not about children.)
FORBIDDEN = ("birth", "birthday", "dob", "guardian", "gender", "sex", "nationality", "postal", "zipcode",
             "home", "residence", "diagnosis", "disability")


@pytest.mark.req("S-MINDATA", "F-CHILD")
def test_children_table_has_only_the_allowed_columns(engine):
    columns = {column["name"] for column in sa.inspect(engine).get_columns("children")}
    assert columns == ALLOWED_CHILD_COLUMNS


@pytest.mark.req("S-MINDATA")
def test_no_table_has_a_column_for_other_personal_data(engine):
    inspector = sa.inspect(engine)
    offenders = [
        (table, column["name"])
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if any(word in column["name"].lower().split("_") for word in FORBIDDEN)
    ]
    assert offenders == []


@pytest.mark.req("F-CHILD")
@pytest.mark.parametrize("raw, stored", [
    ("やまだ", "やまだ"), ("ヤマダ", "やまだ"), ("ﾔﾏﾀﾞ", "やまだ"), ("  ヴィクトリア ", "ゔぃくとりあ"),
    ("まりー・あん", "まりー・あん"), ("キム　ジヨン", "きむ じよん"),
])
def test_kana_is_accepted_in_either_script_and_stored_as_hiragana(raw, stored):
    assert clean_kana(raw) == (stored, None)


@pytest.mark.req("F-CHILD")
@pytest.mark.parametrize("raw", ["山田", "yamada", "やまだ1", "やまだ😀", "あ" * 51, "", None])
def test_kana_rejects_anything_else(raw):
    value, error = clean_kana(raw)
    assert value is None and error is not None


@pytest.mark.req("F-CHILD")
def test_grades_accept_codes_labels_and_common_spellings():
    assert clean_grade("es3")[0] == Grade.ES3
    assert clean_grade("小3")[0] == Grade.ES3
    assert clean_grade("小学３年")[0] == Grade.ES3
    assert clean_grade("年長")[0] == Grade.AGE5
    assert clean_grade("中1")[0] == Grade.JH1
    assert clean_grade("小7") == (None, clean_grade("小7")[1]) and clean_grade("小7")[1] is not None


@pytest.mark.req("F-CHILD")
def test_monitoring_end_before_start_is_an_error_and_names_keep_rare_kanji():
    form = validate_child({"family_name": "髙﨑", "given_name": "𠮷😀", "family_name_kana": "たかさき",
                           "given_name_kana": "よし", "grade": "es1", "monitoring_start": "2026-04-10",
                           "monitoring_end": "2026-04-09"})
    assert set(form.errors) == {"monitoring_end"}
    assert (form.values["family_name"], form.values["given_name"]) == ("髙﨑", "𠮷😀")
    assert to_hiragana("ガッコウ") == "がっこう"
