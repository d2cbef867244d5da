"""The admin's notice form: cleaning and the planned-stop rule's messages (F-NOTICE, O-247)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from webapp.clock import JST
from webapp.forms import Validator, clean_choice, clean_text
from webapp.i18n import _
from webapp.notices.maintenance import HolidayLookup, Problem, check_window
from webapp.notices.models import BODY_MAX, TITLE_MAX, NoticeKind
from webapp.organisations.models import FacilityType

_DATETIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::00)?")
# Nothing the ward would plan lies outside these years; keeps arithmetic far from datetime's limits.
_YEARS = range(2000, 2101)


def clean_datetime(raw, *, required: bool = True):
    """``2026-12-06T20:00`` (the datetime-local input) or ``2026/12/06 20:00``, in Japan time."""
    text = unicodedata.normalize("NFKC", raw or "").strip() if isinstance(raw, str) else ""
    if not text:
        return None, (_("日時を入力してください。") if required else None)
    match = _DATETIME.fullmatch(text.replace("/", "-"))
    if match is None:
        return None, _("日時は 2026-12-06 20:00 の形式で入力してください。")
    year, month, day, hour, minute = (int(g) for g in match.groups())
    if year not in _YEARS:
        return None, _("2000年から2100年までの日時を入力してください。")
    try:
        return dt.datetime(year, month, day, hour, minute, tzinfo=JST), None
    except ValueError:
        return None, _("存在しない日時です。")


def _jst(value: dt.datetime) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def validate_notice(data, *, now: dt.datetime, holidays: HolidayLookup, announced=None) -> Validator:
    """Cleans the form. ``values`` gets ``audience_types`` as a sorted list of type values.

    A planned stop is checked against O-247 with the publication moment being
    the later of now and the publish-from time. ``announced`` is the notice
    being edited, if any: when it already announced this very stop (same start
    and end, published, not withdrawn), its own publication counts, so fixing a
    typo a week before the stop is not refused as "less than 10 days ahead".
    """
    form = Validator(data)
    kind = form.field("kind", clean_choice, choices=[k.value for k in NoticeKind])
    form.field("title", clean_text, max_length=TITLE_MAX, required=True)
    form.field("body", clean_text, max_length=BODY_MAX, required=True, multiline=True)
    audience = form.field("audience", clean_choice, choices=["all", "types"])
    types = data.getall("audience_types") if hasattr(data, "getall") else data.get("audience_types", [])
    types = [types] if isinstance(types, str) else list(types)
    allowed_types = {t.value for t in FacilityType}
    if any(t not in allowed_types for t in types):
        form.error("audience_types", _("選択肢から選んでください。"))
        types = []
    form.values["audience_types"] = sorted(set(types))
    if audience == "types" and not types:
        form.error("audience_types", _("対象の施設種別を1つ以上選んでください。"))
    if kind == NoticeKind.MAINTENANCE and audience == "types":
        form.error("audience", _("計画停止のお知らせは全施設が対象です。"))

    publish_from = form.field("publish_from", clean_datetime, required=False)
    publish_until = form.field("publish_until", clean_datetime, required=False)
    if publish_from is None and "publish_from" not in form.errors:
        form.values["publish_from"] = publish_from = now
    if publish_until is not None and publish_until <= publish_from:
        form.error("publish_until", _("掲載終了は掲載開始より後にしてください。"))

    if kind == NoticeKind.MAINTENANCE:
        start = form.field("maintenance_start", clean_datetime)
        end = form.field("maintenance_end", clean_datetime)
        if start is not None and end is not None and "publish_from" not in form.errors:
            published_at = max(now, publish_from)
            if (announced is not None and announced.withdrawn_at is None and announced.publish_from <= now
                    and (announced.maintenance_start, announced.maintenance_end) == (start, end)):
                published_at = announced.publish_from
            _check_stop(form, start, end, published_at, holidays)
    else:
        form.values["maintenance_start"] = form.values["maintenance_end"] = None
    return form


def _check_stop(form: Validator, start, end, published_at, holidays) -> None:
    verdict = check_window(start, end, published_at=published_at, holidays=holidays)
    if Problem.END_NOT_AFTER_START in verdict.problems:
        form.error("maintenance_end", _("停止終了は停止開始より後にしてください。"))
        return
    if Problem.TOO_SOON in verdict.problems:
        form.error("maintenance_start", _(
            "計画停止は10日（240時間）前までに掲載する必要があります。この開始日時なら ${publish_by} までに掲載を始めてください。",
            mapping={"publish_by": _jst(verdict.publish_by)}))
    if Problem.OUTSIDE_ALLOWED_HOURS in verdict.problems:
        form.error("maintenance_end", _(
            "計画停止は日曜・祝日（終日）か、20時から翌朝6時までに限られます。${when} が時間外です。",
            mapping={"when": _jst(verdict.first_forbidden)}))
