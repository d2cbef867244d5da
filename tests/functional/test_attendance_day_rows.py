"""The day page's rows, rendered in Python (webapp/attendance/day_rows.py, issue #19):
labels in the reader's language, typed text escaped, errors tied to their fields."""

from __future__ import annotations

import pytest

from tests.functional.test_attendance_day import URL
from webapp.children.models import Grade


@pytest.fixture
def school(make):
    facility = make.facility()
    children = [
        make.child(facility=facility, grade=Grade.ES2, class_name="1組", family_name="伊藤"),
        make.child(facility=facility, grade=Grade.AGE5, family_name="<b>加藤</b>"),
    ]
    return facility, make.account("facility", facility=facility), children


def hint(page, child) -> str:
    return page.html.select_one(f"#row-{child.id} th .hint").get_text()


@pytest.mark.req("F-DAILY", "F-UI")
def test_the_grade_and_the_row_labels_are_in_the_readers_language(app, login_as, school):
    facility, staff, (es2, age5) = school
    login_as(staff)
    page = app.get(URL.format(facility.id))
    assert hint(page, es2).endswith("/ 小2 1組")
    assert hint(page, age5).endswith("/ 5歳児（年長）")
    app.set_cookie("mimamori_locale", "en")
    page = app.get(URL.format(facility.id))
    assert hint(page, es2).endswith("/ Elementary 2 1組")
    assert hint(page, age5).endswith("/ Age 5 (senior class)")
    row = page.html.select_one(f"#row-{es2.id}")
    assert [label.get_text() for label in row.select("fieldset label")] == ["Present", "Absent", "Late", "Left early"]
    assert "No contact" in row.get_text() and "Not entered" in row.get_text()
    # The grade filter offers the same translated labels.
    options = [o.get_text() for o in page.html.select(".att-filter select[name=grade] option")]
    assert "Elementary 2" in options and "Age 5 (senior class)" in options


@pytest.mark.req("F-DAILY")
def test_names_and_typed_text_are_escaped_and_errors_point_at_their_field(app, login_as, school):
    facility, staff, (es2, tagged) = school
    login_as(staff)
    page = app.get(URL.format(facility.id))
    # A name with markup in it is text, in the row header and in the hidden link names.
    assert page.html.select_one(f"#n{tagged.id}").get_text().startswith("<b>加藤</b> ")
    assert page.html.select_one(f"#row-{tagged.id} b") is None
    form = page.forms["attendance-form"]
    form[f"note-{es2.id}"] = '"><script>alert(1)</script>'  # a note without a status: an error
    form[f"status-{tagged.id}"] = "absent"  # no reason: an error on the reason
    response = form.submit("action", value="save", status=400)
    assert "<script>alert(1)" not in response.text
    assert response.forms["attendance-form"][f"note-{es2.id}"].value == '"><script>alert(1)</script>'
    status = response.html.select_one(f"#status-{es2.id}")
    assert "has-error" in status["class"]
    assert status["aria-describedby"] == f"status-{es2.id}-error" and status["aria-invalid"] == "true"
    assert response.html.select_one(f"#status-{es2.id}-error").get_text().startswith("メモを保存するには")
    reason = response.html.select_one(f"#reason-{tagged.id}")
    assert reason["aria-describedby"] == f"reason-{tagged.id}-error"
    # The rows without an error carry none of it; the typed choice stays checked.
    assert response.html.select_one(f"#reason-{es2.id}").get("aria-invalid") is None
    assert response.forms["attendance-form"][f"status-{tagged.id}"].value == "absent"
