"""Validation of the monthly report form: lenient drafts, strict submissions (F-MONTHLY)."""

import pytest

from webapp.reports.forms import validate_report, validate_return_comment
from webapp.reports.models import FamilyContact

GOOD = {
    "days_expected": "20", "days_attended": "18", "days_absent": "2",
    "late_count": "1", "early_leave_count": "0",
    "absent_illness": "1", "absent_family": "0", "absent_bereavement": "0",
    "absent_suspension": "0", "absent_unknown": "1", "absent_other": "0",
    "family_contact": "yes", "condition": "元気", "absence_note": "",
}


def errors_for(submit=True, days=31, **changes):
    data = {**GOOD, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    return validate_report(data, days_in_month=days, submit=submit)


def test_good_submission_is_accepted_and_typed():
    values, errors = errors_for()
    assert errors == {}
    assert values["days_attended"] == 18
    assert values["family_contact"] == FamilyContact.YES
    assert values["nothing_special"] is False


@pytest.mark.req("F-MONTHLY")
@pytest.mark.parametrize("changes, field, text", [
    ({"days_absent": "3", "absent_family": "1"}, "days_absent", "一致しません"),
    ({"days_attended": ""}, "days_attended", "入力してください"),
    ({"days_expected": "32"}, "days_expected", "0から31まで"),
    ({"days_expected": "-1"}, "days_expected", "0から31まで"),
    ({"days_expected": "二十"}, "days_expected", "半角の整数"),
    ({"early_leave_count": "19"}, "early_leave_count", "早退の回数は出席日数（18日）以下"),
    ({"late_count": "19"}, "late_count", "遅刻の回数は出席日数（18日）以下"),
    ({"absent_unknown": "0"}, "absence_reasons", "欠席理由ごとの日数の合計（1日）が欠席日数（2日）と一致しません"),
    ({"family_contact": ""}, "family_contact", "家庭からの連絡"),
    ({"family_contact": "maybe"}, "family_contact", "選択肢から"),
    ({"condition": "", "nothing_special": None}, "condition", "「特記事項なし」にチェック"),
    ({"nothing_special": "1"}, "condition", "どちらか一方"),
    ({"condition": "あ" * 2001}, "condition", "2000文字以内"),
    ({"absence_note": "い" * 201}, "absence_note", "200文字以内"),
])
def test_each_submission_rule_has_its_own_message(changes, field, text):
    _values, errors = errors_for(**changes)
    assert field in errors, errors
    assert text in errors[field].interpolate()


def test_full_width_digits_are_accepted():
    values, errors = errors_for(days_expected="２０", days_attended="１８")
    assert errors == {} and values["days_expected"] == 20


def test_february_has_28_days():
    _values, errors = errors_for(days=28, days_expected="29")
    assert "0から28まで" in errors["days_expected"].interpolate()


def test_no_absence_needs_no_family_contact():
    _values, errors = errors_for(days_attended="20", days_absent="0", absent_illness="0", absent_unknown="0",
                                 family_contact="")
    assert errors == {}


@pytest.mark.req("F-MONTHLY")
def test_draft_may_be_incomplete_but_not_impossible():
    values, errors = validate_report({"days_expected": "20"}, days_in_month=31, submit=False)
    assert errors == {}
    assert values["days_attended"] == 0  # stored as 0, the columns are NOT NULL

    for changes, field in (
        ({"days_expected": "-3"}, "days_expected"),
        ({"days_expected": "40"}, "days_expected"),
        ({"days_expected": "10", "days_attended": "8", "days_absent": "5"}, "days_absent"),
        ({"days_attended": "3", "early_leave_count": "4"}, "early_leave_count"),
        ({"days_absent": "1", "absent_illness": "2"}, "absence_reasons"),
        ({"condition": "x", "nothing_special": "1"}, "condition"),
    ):
        _values, errors = validate_report(changes, days_in_month=31, submit=False)
        assert field in errors, (changes, errors)


def test_return_comment_required_and_bounded():
    assert "comment" in validate_return_comment({"comment": " "})[1]
    assert "comment" in validate_return_comment({"comment": "a" * 2001})[1]
    comment, errors = validate_return_comment({"comment": " 確認してください 😀 "})
    assert errors == {} and comment == "確認してください 😀"
