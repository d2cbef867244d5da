"""Validation of centre and facility input, shared by the admin forms and the CSV import.

Each ``validate_*`` takes a mapping of raw strings (a form's POST or a CSV
row) and returns a :class:`webapp.forms.Validator` whose ``values`` hold the
cleaned values and whose ``errors`` hold Japanese messages per field.
"""

from __future__ import annotations

import re
import unicodedata

from webapp.forms import Validator, clean_text
from webapp.i18n import _
from webapp.organisations.models import FACILITY_TYPE_LABELS, CentreKind, FacilityType

# Codes are typed by people and pasted from Excel: ASCII letters, digits, '-' and
# '_' only, so that a leading zero or a stray formula can never change them.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,20}")

ACTIVE_WORDS = {"1": True, "true": True, "yes": True, "有効": True, "○": True,
                "0": False, "false": False, "no": False, "無効": False, "×": False}


def clean_code(raw, *, required: bool = True):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, (_("入力してください。") if required else None)
    if not CODE_PATTERN.fullmatch(text):
        return None, _("コードは半角英数字・ハイフン・下線の20文字以内で入力してください。")
    return text, None


def clean_active(raw, *, default: bool = True):
    """有効/無効 from a checkbox value or a CSV cell (1/0, true/false, 有効/無効)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().lower() if isinstance(raw, str) else ""
    if not text:
        return default, None
    if text in ACTIVE_WORDS:
        return ACTIVE_WORDS[text], None
    return None, _("「有効」または「無効」（1 または 0）で入力してください。")


def _enum_from_code_or_label(raw, enum_cls, labels):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, _("選択してください。")
    for member in enum_cls:
        if text in (member.value, labels[member]):
            return member, None
    return None, _("選択肢から選んでください（${choices}）。",
                   mapping={"choices": "・".join(labels[m] for m in enum_cls)})


CENTRE_KIND_LABELS = {kind: kind.label for kind in CentreKind}


def clean_centre_kind(raw):
    return _enum_from_code_or_label(raw, CentreKind, CENTRE_KIND_LABELS)


def clean_facility_type(raw):
    return _enum_from_code_or_label(raw, FacilityType, FACILITY_TYPE_LABELS)


def validate_centre(data, *, active_default: bool = True) -> Validator:
    v = Validator(data)
    v.field("code", clean_code)
    v.field("name", clean_text, max_length=100, required=True)
    v.field("kind", clean_centre_kind)
    v.field("active", clean_active, default=active_default)
    return v


def validate_facility(data, *, active_default: bool = True) -> Validator:
    """Validates everything but the centre, which callers resolve (id in forms, code in CSV)."""
    v = Validator(data)
    v.field("code", clean_code)
    v.field("name", clean_text, max_length=100, required=True)
    v.field("facility_type", clean_facility_type)
    v.field("active", clean_active, default=active_default)
    return v
