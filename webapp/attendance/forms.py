"""Validating the day's form: one row per child, field names suffixed with the child's id.

Fields per row: ``status-<id>`` (present/absent/late/left_early or empty),
``reason-<id>``, ``no_contact-<id>``, ``note-<id>`` and ``version-<id>`` (the
entry version the form showed). Only the children listed on the server side
are read; anything else in the POST is ignored.
"""

from __future__ import annotations

import dataclasses
import unicodedata

from webapp.attendance.models import NOTE_MAX, AbsenceReason
from webapp.attendance.services import RowInput
from webapp.attendance.status import Attendance
from webapp.children.models import Grade
from webapp.forms import FormErrors, clean_choice, clean_text
from webapp.i18n import _

FIELDS = ("status", "reason", "no_contact", "note", "version")


def field(name: str, child_id: int) -> str:
    return f"{name}-{child_id}"


def raw_rows(post, child_ids) -> dict[int, dict]:
    """What the user typed, per child, to show again on an error."""
    rows = {}
    for child_id in child_ids:
        rows[child_id] = {
            "status": post.get(field("status", child_id), ""),
            "reason": post.get(field("reason", child_id), ""),
            "no_contact": post.get(field("no_contact", child_id), "") == "1",
            "note": post.get(field("note", child_id), ""),
            "version": post.get(field("version", child_id), "0"),
        }
    return rows


def rows_from_entries(entries: dict, child_ids) -> dict[int, dict]:
    rows = {}
    for child_id in child_ids:
        entry = entries.get(child_id)
        rows[child_id] = {
            "status": entry.status if entry else "",
            "reason": (entry.absence_reason or "") if entry else "",
            "no_contact": bool(entry.no_contact) if entry else False,
            "note": (entry.note or "") if entry else "",
            "version": str(entry.version) if entry else "0",
        }
    return rows


def _clean_version(raw) -> int | None:
    text = unicodedata.normalize("NFKC", raw).strip() if isinstance(raw, str) else ""
    if not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def validate_day(post, child_ids) -> tuple[list[RowInput], FormErrors]:
    """Rows to save and errors keyed by field name (``note-12``...)."""
    rows, errors = [], FormErrors()
    for child_id in child_ids:
        status_raw, status_error = clean_choice(post.get(field("status", child_id)), [a.value for a in Attendance],
                                                required=False)
        if status_error:
            errors[field("status", child_id)] = status_error
        status = Attendance(status_raw) if status_raw else None
        reason = None
        no_contact = False
        if status == Attendance.ABSENT:
            reason_raw, reason_error = clean_choice(post.get(field("reason", child_id)),
                                                    [r.value for r in AbsenceReason], required=False)
            if reason_error:
                errors[field("reason", child_id)] = reason_error
            elif not reason_raw:
                errors[field("reason", child_id)] = _("欠席の理由を選んでください（わからなければ「理由不明」）。")
            else:
                reason = AbsenceReason(reason_raw)
            no_contact = post.get(field("no_contact", child_id)) == "1"
        # A reason or 連絡なし left over from switching the row back to 出席 is
        # dropped rather than refused: it no longer describes anything.
        note, note_error = clean_text(post.get(field("note", child_id)), max_length=NOTE_MAX)
        if note_error:
            errors[field("note", child_id)] = note_error
        if note and status is None:
            errors[field("status", child_id)] = _("メモを保存するには出欠も選んでください。")
        version = _clean_version(post.get(field("version", child_id), "0"))
        if version is None:
            errors.setdefault("_form", _("画面を開き直してから入力してください。"))
            version = -1
        rows.append(RowInput(child_id, version, status, reason, no_contact, note))
    return rows, errors


@dataclasses.dataclass(frozen=True)
class DayFilter:
    """Which of the day's children the page shows: one grade, one class of it, or すべて.

    Read from the query string (``?grade=es3&class=2組``) on GET and on POST alike:
    the form posts back to the filtered URL, so a save reads and writes only the
    rows it showed. Values that match none of the day's children are ignored
    (すべて), never an error.
    """

    grade: str
    class_name: str
    grades: list[tuple[str, str]]  # (value, label) of the grades the day's children are in
    classes: list[str]  # class names in the chosen grade (all grades when none is chosen)
    children: list  # the children shown, in register order
    total: int

    @property
    def query(self) -> dict[str, str]:
        """The filter as query parameters, to carry over to the form, the redirect and the day links."""
        query = {}
        if self.grade:
            query["grade"] = self.grade
        if self.class_name:
            query["class"] = self.class_name
        return query


def day_filter(params, children) -> DayFilter:
    """Filter ``children`` (already in register order) by the ``grade`` and ``class`` parameters."""
    grades = list(dict.fromkeys(Grade(c.grade) for c in children))
    grade = params.get("grade", "")
    if not isinstance(grade, str) or grade not in {g.value for g in grades}:
        grade = ""
    pool = [c for c in children if not grade or c.grade == grade]
    classes = list(dict.fromkeys(c.class_name for c in pool if c.class_name))
    class_name = params.get("class", "")
    if not isinstance(class_name, str) or class_name not in classes:
        class_name = ""
    shown = [c for c in pool if not class_name or c.class_name == class_name]
    return DayFilter(grade, class_name, [(g.value, g.label) for g in grades], classes, shown, len(children))
