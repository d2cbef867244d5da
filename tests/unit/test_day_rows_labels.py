"""The day page's row renderer takes any translation: its radios are %-format
templates, so a label with "%" must not break (or be read as) a placeholder."""

from types import SimpleNamespace

from webapp.attendance.day_rows import DayRows


def test_a_translated_status_label_with_a_percent_sign_is_rendered_as_written():
    request = SimpleNamespace(
        localizer=SimpleNamespace(translate=lambda text: "100% here" if text == "出席" else str(text)),
        route_path=lambda name, child_id: f"/attendance/children/{child_id}",
    )
    rows = DayRows(request, statuses=[("present", "出席"), ("absent", "欠席")], reasons=[],
                   open_for_entry=True, errors={}, conflict_ids=set())
    radios = rows.radios["present"] % {"name": "status-7"}
    assert 'name="status-7" value="present" checked>100% here</label>' in radios
    assert 'name="status-7" value="absent">欠席</label>' in radios
