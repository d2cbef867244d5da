"""The rows of the daily attendance page, rendered in Python (issue #19 item 3).

A row is a child's name, four radios, the reason menu, 連絡なし, the note and the
record cell: in Jinja that was ~100 output chunks and ~45 escapes a row, most of the
page's CPU for 35 children. Here everything a row shares with the others — the
translated labels, the radios for each status chosen, the reason menu for each
reason chosen — is built (and escaped) once per page, and a row only fills in its
own ids and the text the user typed, escaped. The HTML is the same, byte for byte,
as the template wrote it (tests/functional/test_attendance_day_rows.py).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from webapp.attendance.forms import field
from webapp.children.models import Grade
from webapp.i18n import _

# What str.replace puts the child's id into: the history link is generated once per page.
_CHILD = "__child_id__"
_CONFLICT = ' class="conflict"'


def _error_parts(errors, name: str, translate) -> tuple[str, str]:
    """(the attributes pointing at the field's error, the error paragraph), or two empty strings."""
    message = errors.get(name) if errors else None
    if not message:
        return "", ""
    return (f' aria-invalid="true" aria-describedby="{name}-error"',
            f'<p class="field-error" id="{name}-error">{escape(translate(message))}</p>')


class DayRows:
    """Renders the day's rows; built once per page with what every row repeats."""

    def __init__(self, request, *, statuses, reasons, open_for_entry: bool, errors, conflict_ids):
        translate = request.localizer.translate
        self.translate = translate
        self.errors = errors
        self.conflict_ids = conflict_ids
        self.off = "" if open_for_entry else " disabled"
        self.labels = {key: str(escape(translate(text))) for key, text in (
            ("no_contact", _("連絡なし")), ("corrected", _("訂正あり")), ("entered", _("入力済")),
            ("missing", _("未入力")), ("history", _("履歴")), ("saved_now", _("現在の保存内容")))}
        self.grades: dict[str, str] = {}
        # "%" doubled: the radios below are %-format templates, and a translation may carry one.
        status_labels = [(value, str(escape(translate(label))).replace("%", "%%")) for value, label in statuses]
        # Radios with "%(name)s" for the row's field name, one string for each status chosen ("" none).
        self.radios = {
            chosen: "".join(f'<label><input type="radio" name="%(name)s" value="{value}"'
                            f'{" checked" if chosen == value else ""}{self.off}>{label}</label>'
                            for value, label in status_labels)
            for chosen in ["", *(value for value, _label in statuses)]
        }
        reason_labels = [(value, str(escape(translate(label)))) for value, label in reasons]
        pick = f'<option value="">{escape(translate(_("（欠席のとき選択）")))}</option>\n'
        self.reason_menus = {
            chosen: pick + "".join(f'<option value="{value}"{" selected" if chosen == value else ""}>{label}</option>'
                                   for value, label in reason_labels)
            for chosen in ["", *(value for value, _label in reasons)]
        }
        self.history_href = str(escape(request.route_path("attendance.child", child_id=_CHILD)))

    def grade_label(self, grade) -> str:
        label = self.grades.get(grade)
        if label is None:
            label = self.grades[grade] = str(escape(self.translate(Grade(grade).label)))
        return label

    def render(self, children, rows, entries) -> Markup:
        return Markup("\n".join(self.row(child, rows[child.id], entries.get(child.id)) for child in children))

    def row(self, child, row, entry) -> str:
        cid = child.id
        errors = self.errors
        s_name, r_name, n_name = field("status", cid), field("reason", cid), field("note", cid)
        s_described, s_error = _error_parts(errors, s_name, self.translate)
        r_described, r_error = _error_parts(errors, r_name, self.translate)
        n_described, n_error = _error_parts(errors, n_name, self.translate)
        name = escape(child.name)
        class_name = f" {escape(child.class_name)}" if child.class_name else ""
        conflict = cid in self.conflict_ids
        radios = self.radios.get(row["status"], self.radios[""]) % {"name": s_name}
        reason = row["reason"]
        menu = self.reason_menus.get(reason) if reason else self.reason_menus[""]
        if menu is None:  # a value typed by hand that is none of the reasons: nothing selected
            menu = self.reason_menus[""]
        checked = " checked" if row["no_contact"] else ""
        off = self.off
        return (
            f'<tr id="row-{cid}"{_CONFLICT if conflict else ""}>\n'
            f'<th scope="row"><span id="n{cid}">{name}</span> <span class="hint">{escape(child.kana)} / '
            f'{self.grade_label(child.grade)}{class_name}</span><input type="hidden" name="version-{cid}" '
            f'value="{escape(row["version"])}"></th>\n'
            f'<td><fieldset class="status-group{" has-error" if s_error else ""}" id="{s_name}" '
            f'aria-labelledby="n{cid} h-status"{s_described}>\n{radios}</fieldset>{s_error}</td>\n'
            f'<td><select id="{r_name}" name="{r_name}" aria-labelledby="n{cid} h-reason"{r_described}{off}>'
            f'{menu}</select> <label class="att-check"><input type="checkbox" name="no_contact-{cid}" value="1"'
            f'{checked}{off}>{self.labels["no_contact"]}<span class="visually-hidden">（{name}）</span></label>'
            f'{r_error}</td>\n'
            f'<td><input type="text" id="{n_name}" name="{n_name}" value="{escape(row["note"])}" '
            f'aria-labelledby="n{cid} h-note"{n_described}{off}>{n_error}</td>\n'
            f'<td>{self.record(entry, conflict)} <a href="{self.history_href.replace(_CHILD, str(cid))}">'
            f'{self.labels["history"]}<span class="visually-hidden">（{name}）</span></a></td>\n'
            f'</tr>'
        )

    def record(self, entry, conflict: bool) -> str:
        """入力済 / 訂正あり（第n版）/ 未入力, and what is saved now when the save conflicted."""
        if entry is None:
            return f'<span class="hint">{self.labels["missing"]}</span>'
        if entry.version > 1:
            version = escape(self.translate(_("第${n}版", mapping={"n": entry.version})))
            cell = f'<span class="att-corrected">{self.labels["corrected"]}（{version}）</span>'
        else:
            cell = f'<span class="att-entered">{self.labels["entered"]}</span>'
        if conflict:
            reason = f"（{escape(self.translate(entry.reason_label))}）" if entry.absence_reason else ""
            cell += (f'<span class="field-error">{self.labels["saved_now"]}：'
                     f'{escape(self.translate(entry.status_label))}{reason}</span>')
        return cell
