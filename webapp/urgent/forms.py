"""Validation of the urgent report form and the centre's response and closing forms."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from webapp.clock import JST
from webapp.forms import FormErrors, Validator, clean_choice, clean_date, clean_text
from webapp.i18n import _
from webapp.urgent.models import DESCRIPTION_MAX, RESPONSE_MAX, UrgentCategory

# The value of the child select for "a matter of the whole facility".
NO_CHILD = "none"
# How far back an observation may be dated: older matters are not urgent reports.
MAX_AGE_DAYS = 366


def clean_time(raw, *, required: bool = True):
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, (_("時刻を入力してください。") if required else None)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None, _("時刻は 09:30 の形式で入力してください。")
    return dt.time(int(match.group(1)), int(match.group(2))), None


def validate_new_report(data, *, child_ids: set[int], now: dt.datetime):
    """(values, errors); values: child_id (int or None), category, description, observed_at (UTC)."""
    v = Validator(data)
    child = v.field("child", clean_choice, choices=[NO_CHILD, *map(str, child_ids)])
    v.field("category", clean_choice, choices=[c.value for c in UrgentCategory])
    v.field("description", clean_text, max_length=DESCRIPTION_MAX, required=True, multiline=True)
    day = v.field("observed_date", clean_date)
    time = v.field("observed_time", clean_time)
    observed_at = None
    if day is not None and time is not None:
        observed_at = dt.datetime.combine(day, time, tzinfo=JST).astimezone(dt.UTC)
        # A few minutes of slack for a clock set slightly fast on the facility's PC.
        if observed_at > now + dt.timedelta(minutes=10):
            v.error("observed_date", _("未来の日時は入力できません。"))
        elif observed_at < now - dt.timedelta(days=MAX_AGE_DAYS):
            v.error("observed_date", _("1年以上前の日時は入力できません。"))
    values = {
        "child_id": int(child) if child not in (None, NO_CHILD) else None,
        "category": v.values.get("category"),
        "description": v.values.get("description"),
        "observed_at": observed_at,
    }
    return values, v.errors


def default_form_values(now: dt.datetime) -> dict:
    local = now.astimezone(JST)
    return {"observed_date": local.date().isoformat(), "observed_time": local.strftime("%H:%M")}


def validate_response(data) -> tuple[dict, FormErrors]:
    v = Validator(data)
    v.field("response", clean_text, max_length=RESPONSE_MAX, required=True, multiline=True)
    return {"text": v.values["response"], "shared": data.get("shared") == "1"}, v.errors


def validate_closing(data) -> tuple[dict, FormErrors]:
    v = Validator(data)
    v.field("closing_note", clean_text, max_length=RESPONSE_MAX, required=True, multiline=True)
    return {"note": v.values["closing_note"]}, v.errors
