"""Validation of the monthly report form and the centre's return comment.

Two levels: a draft may be incomplete but never impossible (a negative count,
more days than the month has, more attended+absent days than expected days);
a submission must be complete and consistent. Both return ``(values, errors)``
where ``values`` are ready for :class:`MonthlyReportVersion` columns.
"""

from __future__ import annotations

from webapp.forms import FormErrors, Validator, clean_choice, clean_int, clean_text
from webapp.i18n import _
from webapp.reports.models import ABSENCE_REASONS, FamilyContact
from webapp.reports.periods import parse_period

CONDITION_MAX = 2000
ABSENCE_NOTE_MAX = 200
COMMENT_MAX = 2000

# Counts that may be left blank even on submission: blank means none.
_ZERO_IF_BLANK = ("late_count", "early_leave_count", *ABSENCE_REASONS)
# Counts the facility must state before submitting.
_REQUIRED_ON_SUBMIT = ("days_expected", "days_attended", "days_absent")

COUNT_FIELDS = (*_REQUIRED_ON_SUBMIT, *_ZERO_IF_BLANK)
TEXT_FIELDS = ("absence_note", "condition", "family_contact", "nothing_special")


def form_values_from_version(version) -> dict:
    """A saved version as the strings the form shows."""
    if version is None:
        return {name: "0" for name in _ZERO_IF_BLANK}
    values = {name: str(getattr(version, name)) for name in COUNT_FIELDS}
    values["absence_note"] = version.absence_note or ""
    values["condition"] = version.condition or ""
    values["family_contact"] = version.family_contact.value if version.family_contact else ""
    values["nothing_special"] = "1" if version.nothing_special else ""
    return values


def raw_form_values(post) -> dict:
    """What the user typed, to redisplay; only our fields, only strings."""
    values = {}
    for name in (*COUNT_FIELDS, *TEXT_FIELDS):
        value = post.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


def validate_report(post, *, days_in_month: int, submit: bool) -> tuple[dict, FormErrors]:
    v = Validator(post)
    for name in COUNT_FIELDS:
        required = submit and name in _REQUIRED_ON_SUBMIT
        v.field(name, clean_int, minimum=0, maximum=days_in_month, required=required)
    v.field("absence_note", clean_text, max_length=ABSENCE_NOTE_MAX)
    v.field("condition", clean_text, max_length=CONDITION_MAX, multiline=True)
    v.field("family_contact", clean_choice, choices=[c.value for c in FamilyContact], required=False)
    nothing_special = post.get("nothing_special") == "1"
    v.values["nothing_special"] = nothing_special

    given = v.values
    expected, attended, absent = given["days_expected"], given["days_attended"], given["days_absent"]

    # Cross-field rules, each checked only when its inputs are present and valid.
    if expected is not None and attended is not None and absent is not None:
        total = attended + absent
        if total > expected or (submit and total != expected):
            v.error("days_absent", _(
                "出席日数と欠席日数の合計（${total}日）が出席すべき日数（${expected}日）と一致しません。",
                mapping={"total": total, "expected": expected}))
    if attended is not None:
        for name, label in (("late_count", "遅刻"), ("early_leave_count", "早退")):
            if given[name] is not None and given[name] > attended:
                v.error(name, _("${what}の回数は出席日数（${attended}日）以下にしてください。",
                                mapping={"what": label, "attended": attended}))
    # Blank reason counts mean none, for drafts and submissions alike.
    if absent is not None and not any(name in v.errors for name in ABSENCE_REASONS):
        reason_total = sum(given[name] or 0 for name in ABSENCE_REASONS)
        if reason_total > absent or (submit and reason_total != absent):
            v.error("absence_reasons", _(
                "欠席理由ごとの日数の合計（${total}日）が欠席日数（${absent}日）と一致しません。",
                mapping={"total": reason_total, "absent": absent}))
    if submit and absent and given["family_contact"] is None and "family_contact" not in v.errors:
        v.error("family_contact", _("欠席がある月は、家庭からの連絡の有無を選んでください。"))
    if given["condition"] and nothing_special:
        v.error("condition", _("様子を書くか「特記事項なし」を選ぶか、どちらか一方にしてください。"))
    elif submit and not given["condition"] and not nothing_special and "condition" not in v.errors:
        v.error("condition", _("様子を書くか、「特記事項なし」にチェックしてください。"))

    values = dict(given)
    # Columns are NOT NULL: an incomplete draft stores blanks as 0.
    for name in COUNT_FIELDS:
        if values[name] is None:
            values[name] = 0
    values["family_contact"] = FamilyContact(values["family_contact"]) if values["family_contact"] else None
    return values, v.errors


def validate_return_comment(post) -> tuple[str | None, FormErrors]:
    v = Validator(post)
    comment = v.field("comment", clean_text, max_length=COMMENT_MAX, required=True, multiline=True)
    raw = v.data.get("comment")
    if "comment" in v.errors and (not isinstance(raw, str) or not raw.strip()):
        v.errors["comment"] = _("差し戻す理由を入力してください。")
    return comment, v.errors


def validate_export_range(params, *, default_from, default_to, max_months: int = 24):
    """``from``/``to`` as YYYY-MM. Returns ((first, last), errors).

    The range is capped because the file is built in memory: two years of the
    whole ward is about 120,000 rows.
    """
    errors = FormErrors()
    raw_from = params.get("from", "") or ""
    raw_to = params.get("to", "") or ""
    first = parse_period(raw_from) if raw_from else default_from
    last = parse_period(raw_to) if raw_to else default_to
    if first is None:
        errors["from"] = _("年月は 2026-04 の形式で入力してください。")
    if last is None:
        errors["to"] = _("年月は 2026-04 の形式で入力してください。")
    if first and last:
        if first > last:
            errors["to"] = _("終了月は開始月以降にしてください。")
        elif (last.year - first.year) * 12 + last.month - first.month >= max_months:
            errors["to"] = _("一度に出力できるのは${n}か月分までです。", mapping={"n": max_months})
    return (first, last), errors
