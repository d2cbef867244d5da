"""Validation of a child's register entry, shared by the form and the CSV import (F-CHILD).

Only facility, name, kana, grade, class, responsible centre and the
monitoring period exist (S-MINDATA); there is deliberately no field for
anything else.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from webapp.children.models import Grade
from webapp.forms import Validator, clean_date, clean_text
from webapp.i18n import _

NAME_MAX = 50
CLASS_MAX = 30

# Katakana that have a hiragana twin sit exactly 0x60 above it (ァ..ヶ -> ぁ..ゖ).
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# Hiragana, ゝゞ, the long-vowel mark, the middle dot for foreign names, ヷ-ヺ (no
# hiragana twin) and single spaces between parts.
_KANA = re.compile(r"[\u3041-\u3096\u309d\u309e\u30fc\u30fb\u30f7-\u30fa]+(?: [\u3041-\u3096\u309d\u309e\u30fc\u30fb\u30f7-\u30fa]+)*")


def to_hiragana(text: str) -> str:
    """Half-width and full-width katakana as hiragana, so sorting and search see one form."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate(_KATAKANA_TO_HIRAGANA)


def clean_kana(raw, *, max_length: int = NAME_MAX):
    """Hiragana or katakana only, stored as hiragana."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        return None, _("文字で入力してください。")
    text = " ".join(to_hiragana(raw).split())
    if not text:
        return None, _("入力してください。")
    if len(text) > max_length:
        return None, _("${max}文字以内で入力してください（現在${length}文字）。",
                       mapping={"max": max_length, "length": len(text)})
    if not _KANA.fullmatch(text):
        return None, _("ふりがなは、ひらがなまたはカタカナで入力してください。")
    return text, None


def clean_grade(raw):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, _("選択してください。")
    grade = Grade.from_label_or_code(text) or Grade.from_label_or_code(raw.strip())
    if grade is None:
        return None, _("学年は「小3」「es3」「5歳児（年長）」のように入力してください。")
    return grade, None


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def clean_loose_date(raw, *, required: bool = True):
    """Dates as people and Excel write them: 2026-04-01, 2026/4/1, 2026年4月1日."""
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    match = _DATE.fullmatch(text)
    if match:
        try:
            value = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            return None, _("存在しない日付です。")
        return clean_date(value.isoformat(), required=required)  # the application's date range
    return clean_date(raw, required=required)


def validate_child(data, *, start_default=None) -> Validator:
    """Names, kana, grade, class and the monitoring period. Facility and centre are
    resolved by the caller (ids in the form, codes in the CSV import)."""
    v = Validator(data)
    v.field("family_name", clean_text, max_length=NAME_MAX, required=True)
    v.field("given_name", clean_text, max_length=NAME_MAX, required=True)
    v.field("family_name_kana", clean_kana)
    v.field("given_name_kana", clean_kana)
    v.field("grade", clean_grade)
    v.field("class_name", clean_text, max_length=CLASS_MAX)
    start = v.field("monitoring_start", clean_loose_date, required=start_default is None)
    if start is None and "monitoring_start" not in v.errors:
        start = v.values["monitoring_start"] = start_default
    end = v.field("monitoring_end", clean_loose_date, required=False)
    if start and end and end < start:
        v.error("monitoring_end", _("終了日は開始日以降の日付にしてください。"))
    return v
