"""The attendance calendar: the month's cells and their SVG drawing (F-DASH, F-UI)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from webapp.attendance.status import Attendance
from webapp.closed_days import Calendar, Closure, FixedHolidays, InMemoryFacilityDays, JapaneseHolidays
from webapp.timeline.items import Window
from webapp.timeline.month_grid import CellStatus, DayEntry, build_month
from webapp.closed_days.facility_days import why_closed
from webapp.timeline.day_table import day_table_rows
from webapp.timeline.svg import SvgWriter, month_svg

pytestmark = pytest.mark.req("F-DASH")

D = dt.date
NS = {"svg": "http://www.w3.org/2000/svg"}
SCHOOL = 1
NOVEMBER = Window.month(D(2026, 11, 1))
# November 2026: 11/3 文化の日 (Tue), 11/23 勤労感謝の日 (Mon); Sundays 1, 8, 15, 22, 29.
HOLIDAYS = FixedHolidays([D(2026, 11, 3), D(2026, 11, 23)])


def november(entries=None, today=D(2026, 11, 26), closures=(), holidays=HOLIDAYS, **kw):
    facilities = InMemoryFacilityDays({SCHOOL: "elementary"}, closures={SCHOOL: closures})
    calendar = Calendar(holidays, facilities)
    kw.setdefault("monitoring_start", D(2026, 4, 1))
    kw.setdefault("monitoring_end", None)
    return build_month(
        NOVEMBER, today=today, entries=entries or {},
        is_open=lambda day: calendar.is_open(SCHOOL, day),
        closed_reason=lambda day: why_closed(calendar, SCHOOL, day).interpolate(), **kw,
    )


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


def cells(root) -> dict[str, ET.Element]:
    return {g.get("data-day"): g for g in root.iterfind(".//svg:g[@data-day]", NS)}


def test_a_month_has_one_cell_per_day_with_weekends_and_holidays_closed():
    grid = november()
    by_day = {cell.day: cell for cell in grid.cells}
    assert len(grid.cells) == 30
    assert by_day[D(2026, 11, 3)].status is CellStatus.CLOSED and by_day[D(2026, 11, 3)].note == "祝日"  # the fake source has no names
    assert by_day[D(2026, 11, 23)].status is CellStatus.CLOSED
    assert by_day[D(2026, 11, 7)].status is CellStatus.CLOSED and by_day[D(2026, 11, 7)].note == "土曜日（定休日）"
    assert by_day[D(2026, 11, 2)].status is CellStatus.MISSING  # open, past, nothing entered
    assert by_day[D(2026, 11, 26)].status is CellStatus.MISSING  # today counts: the facility should enter it
    assert by_day[D(2026, 11, 27)].status is CellStatus.FUTURE
    # 30 days - 9 weekend days - 2 holidays = 19 open days, of which 11/27 and 11/30 are still to come.
    assert grid.counts()[CellStatus.CLOSED] == 11 and grid.open_days() == 17


def test_entries_decide_the_cell_and_an_absence_without_contact_is_its_own_status():
    grid = november({
        D(2026, 11, 2): DayEntry(Attendance.PRESENT),
        D(2026, 11, 4): DayEntry(Attendance.ABSENT, reason="病気・けが"),
        D(2026, 11, 5): DayEntry(Attendance.ABSENT, no_contact=True),
        D(2026, 11, 6): DayEntry(Attendance.LATE),
        D(2026, 11, 9): DayEntry(Attendance.LEFT_EARLY),
        D(2026, 11, 7): DayEntry(Attendance.PRESENT),  # a Saturday event: the entry wins over the closed day
    })
    status = {cell.day.day: cell.status for cell in grid.cells}
    assert [status[d] for d in (2, 4, 5, 6, 9, 7)] == [
        CellStatus.PRESENT, CellStatus.ABSENT, CellStatus.NO_CONTACT, CellStatus.LATE, CellStatus.LEFT_EARLY,
        CellStatus.PRESENT,
    ]
    assert dict(grid.summary())[CellStatus.PRESENT] == 2
    assert next(c for c in grid.cells if c.day == D(2026, 11, 4)).description() == "11/4（水） 欠席 病気・けが"


def test_days_outside_the_monitoring_period_or_recorded_elsewhere_are_outside():
    grid = november(monitoring_start=D(2026, 11, 10), monitoring_end=D(2026, 11, 20),
                    elsewhere={D(2026, 11, 12)})
    status = {cell.day.day: cell.status for cell in grid.cells}
    assert status[9] is CellStatus.OUTSIDE and status[21] is CellStatus.OUTSIDE
    assert status[12] is CellStatus.OUTSIDE
    assert status[10] is CellStatus.MISSING


def test_the_facilitys_own_closure_is_named():
    grid = november(closures=[Closure(D(2026, 11, 16), D(2026, 11, 17), "学芸会の振替休業日")])
    by_day = {cell.day: cell for cell in grid.cells}
    assert by_day[D(2026, 11, 17)].status is CellStatus.CLOSED
    assert by_day[D(2026, 11, 17)].note == "休業期間（学芸会の振替休業日）"


def test_the_real_holiday_source_names_the_holidays():
    grid = november(holidays=JapaneseHolidays())
    by_day = {cell.day: cell for cell in grid.cells}
    assert by_day[D(2026, 11, 3)].note == "祝日（文化の日）"
    assert by_day[D(2026, 11, 23)].note == "祝日（勤労感謝の日）"


def test_the_svg_draws_every_day_with_its_status_and_a_letter():
    grid = november({D(2026, 11, 4): DayEntry(Attendance.ABSENT), D(2026, 11, 5): DayEntry(Attendance.PRESENT)})
    root = parse(month_svg(grid))
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img"
    days = cells(root)
    assert len(days) == 30
    assert days["2026-11-03"].get("data-status") == "closed"
    assert days["2026-11-23"].get("data-status") == "closed"
    assert days["2026-11-04"].get("data-status") == "absent"
    assert days["2026-11-05"].get("data-status") == "present"
    letters = {day: [t.text for t in g.iterfind("svg:text", NS)] for day, g in days.items()}
    assert letters["2026-11-04"] == ["4", "欠"] and letters["2026-11-03"] == ["3", "休"]
    assert days["2026-11-03"].find("svg:title", NS).text == "11/3（火） 休業日 祝日"
    # Closed days are hatched too, so they differ from 出席 in black-and-white print.
    assert any(r.get("fill", "").startswith("url(#") for r in days["2026-11-03"].iterfind("svg:rect", NS))
    assert not any(r.get("fill", "").startswith("url(#") for r in days["2026-11-05"].iterfind("svg:rect", NS))


def test_the_svg_puts_days_in_sunday_first_columns():
    root = parse(month_svg(november()))
    days = cells(root)
    x = {day: float(g.find("svg:rect", NS).get("x")) for day, g in days.items()}
    y = {day: float(g.find("svg:rect", NS).get("y")) for day, g in days.items()}
    # 2026-11-01 is a Sunday: first column; 11/7 Saturday the last column of the same row.
    assert x["2026-11-01"] < x["2026-11-02"] < x["2026-11-07"] and y["2026-11-01"] == y["2026-11-07"]
    assert x["2026-11-08"] == x["2026-11-01"] and y["2026-11-08"] > y["2026-11-01"]


def test_the_svg_is_labelled_and_summarised_for_screen_readers():
    root = parse(month_svg(november({D(2026, 11, 4): DayEntry(Attendance.ABSENT)}), id_prefix="cal"))
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert root.get("aria-labelledby") == "cal-title cal-desc"
    assert title.get("id") == "cal-title" and title.text == "2026年11月の出欠カレンダー"
    assert desc.get("id") == "cal-desc" and "欠席1日" in desc.text and "休業日11日" in desc.text
    legend = [g.get("data-status") for g in root.iterfind(".//svg:g[@class='tl-cal-legend']/svg:g", NS)]
    assert legend == ["present", "late", "left_early", "absent", "no_contact", "missing", "closed", "outside"]


def test_the_svg_has_no_style_attributes_or_elements_for_the_strict_csp():
    text = str(month_svg(november()))
    root = parse(text)
    assert root.find(".//svg:style", NS) is None
    assert all("style" not in element.attrib for element in root.iter())
    assert "<script" not in text


def test_the_svg_escapes_notes_typed_by_people():
    grid = november({D(2026, 11, 4): DayEntry(Attendance.ABSENT, reason="<script>alert(1)</script> & 𠮷")})
    text = str(month_svg(grid))
    assert "<script>" not in text
    assert cells(parse(text))["2026-11-04"].find("svg:title", NS).text.endswith("<script>alert(1)</script> & 𠮷")


def test_the_svg_writer_writes_what_elementtree_wrote():
    """The SVG is written as text (issue 19 item 4: ElementTree was most of the timeline's own CPU);
    its escaping and empty elements are ElementTree's, so the page is byte for byte the same."""
    hostile = 'a&b <c> "d" \'e\' \r\n\t 𠮷'
    tree = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "aria-labelledby": hostile})
    group = ET.SubElement(tree, "g", {"class": hostile, "data-day": "2026-11-04"})
    ET.SubElement(group, "title").text = hostile
    ET.SubElement(group, "rect", {"x": "1", "stroke-width": "1.5"})
    ET.SubElement(group, "text", {"y": "12"}).text = ""
    out = SvgWriter()
    out.open("svg", **{"xmlns": "http://www.w3.org/2000/svg", "aria-labelledby": hostile})
    out.open("g", class_=hostile, data_day="2026-11-04")
    out.leaf("title", hostile)
    out.leaf("rect", x=1, stroke_width=1.5)
    out.leaf("text", "", y=12)
    out.close("g")
    out.close("svg")
    assert out.text() == ET.tostring(tree, encoding="unicode", short_empty_elements=True)


def test_the_day_table_has_a_row_per_day_translated_once_and_notes_escaped():
    grid = november({D(2026, 11, 4): DayEntry(Attendance.ABSENT, reason="<b>熱</b> & 咳")})
    asked = []

    def translate(message):
        asked.append(str(message))
        return {"欠席": "Absent"}.get(str(message), message.interpolate())

    html = str(day_table_rows(grid, translate))
    rows = html.split("\n      </tr>")
    assert len(rows) == 31 and html.count("<tr ") == 30
    assert ('<tr class="tl-day-absent">\n        <th scope="row"><time datetime="2026-11-04">11/4（水）</time></th>\n'
            "        <td>欠</td>\n        <td>Absent</td>\n        <td>&lt;b&gt;熱&lt;/b&gt; &amp; 咳</td>") in html
    assert "<td>祝日（文化の日）</td>" not in html and "<td>祝日</td>" in html
    assert len(asked) == len(set(asked)) == len(CellStatus)  # each status's label translated once a page


@pytest.mark.parametrize("first", [D(2026, 2, 1), D(2027, 2, 1), D(2026, 8, 1), D(2025, 11, 1)])
def test_every_month_shape_has_whole_weeks(first):
    grid = build_month(Window.month(first), today=D(2026, 11, 26), entries={}, is_open=lambda d: True,
                       closed_reason=lambda d: "", monitoring_start=D(2020, 1, 1), monitoring_end=None)
    weeks = grid.weeks()
    assert all(len(week) == 7 for week in weeks)
    assert [cell.day for week in weeks for cell in week if cell] == Window.month(first).days()
    assert len(cells(parse(month_svg(grid)))) == len(Window.month(first).days())
