"""The attendance calendar as server-side SVG (DESIGN.md §12: charts as server-rendered SVG).

Built with ElementTree, so every text is escaped by the serializer. The
strict CSP forbids style attributes and <style> elements, so colours are SVG
presentation attributes (allowed: they are not CSS) and the classes
(``tl-cal-<status>``) are hooks for mimamori.css (focus, print). Every
status also has its own letter, and closed days a hatch pattern, so the
calendar reads without colour and in black-and-white print.

Accessibility: ``role="img"`` with <title> and <desc> summarising the month;
each day carries its own <title> (a tooltip). The page puts the same
information in a table next to it for screen readers and keyboard users.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

from webapp.i18n import _
from webapp.timeline.month_grid import CellStatus, MonthGrid

SVG_NS = "http://www.w3.org/2000/svg"

CELL_W = 46
CELL_H = 40
HEAD_H = 24
LEGEND_ROW_H = 26
LEGEND_COLUMNS = 2
LEGEND_COL_W = CELL_W * 7 // LEGEND_COLUMNS
PAD = 1
SUNDAY_FIRST = "日月火水木金土"

INK = "#1a1a1a"
MUTED = "#595959"  # 7:1 on white: readable day numbers
FILL = {
    CellStatus.PRESENT: "#dff0e2",
    CellStatus.ABSENT: "#ffd6d0",
    CellStatus.NO_CONTACT: "#f39b8f",
    CellStatus.LATE: "#fff0bf",
    CellStatus.LEFT_EARLY: "#fddcbd",
    CellStatus.MISSING: "#ffffff",
    CellStatus.CLOSED: "#e2e5e9",
    CellStatus.OUTSIDE: "#f4f4f4",
    CellStatus.FUTURE: "#ffffff",
}
LEGEND = (
    CellStatus.PRESENT, CellStatus.LATE, CellStatus.LEFT_EARLY, CellStatus.ABSENT,
    CellStatus.NO_CONTACT, CellStatus.MISSING, CellStatus.CLOSED, CellStatus.OUTSIDE,
)


def _el(parent, tag, text=None, **attrs):
    element = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _swatch(parent, x, y, status: CellStatus, hatch: str, w=CELL_W - 2, h=CELL_H - 2):
    """The cell's box: colour, border (dashed for 未入力) and hatching for closed days."""
    attrs = {"x": x, "y": y, "width": w, "height": h, "fill": FILL[status], "stroke": "#8a8f96", "stroke_width": 1}
    if status is CellStatus.MISSING:
        attrs.update(stroke=INK, stroke_dasharray="4 3", stroke_width=1.5)
    _el(parent, "rect", **attrs)
    if status is CellStatus.CLOSED:
        _el(parent, "rect", x=x, y=y, width=w, height=h, fill=f"url(#{hatch})")


def month_svg(grid: MonthGrid, *, id_prefix: str = "cal", translate=None) -> Markup:
    """The month as an inline <svg> element, safe to put in a template as is.

    ``translate`` turns TranslationStrings into the page's language
    (``request.localizer.translate``); without it, Japanese.
    """
    translate = translate or (lambda message: message.interpolate())
    weeks = grid.weeks()
    width = CELL_W * 7 + 2 * PAD
    legend_rows = -(-len(LEGEND) // LEGEND_COLUMNS)
    grid_h = HEAD_H + CELL_H * len(weeks)
    height = grid_h + 8 + LEGEND_ROW_H * legend_rows + 2 * PAD
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "role": "img", "aria-labelledby": f"{title_id} {desc_id}",
        "viewBox": f"0 0 {width} {height}", "width": str(width), "height": str(height),
        "class": "tl-cal", "font-family": "sans-serif",
    })
    month = f"{grid.first.year}年{grid.first.month}月"
    _el(svg, "title", translate(_("${month}の出欠カレンダー", mapping={"month": month})), id=title_id)
    counts = [*grid.summary(), (CellStatus.CLOSED, grid.counts()[CellStatus.CLOSED])]
    summary = " / ".join(translate(_("${label}${count}日", mapping={"label": translate(status.label), "count": count}))
                         for status, count in counts)
    _el(svg, "desc", translate(_("${summary}。日ごとの内容はカレンダーの下の表にもあります。",
                                 mapping={"summary": summary})), id=desc_id)

    defs = _el(svg, "defs")
    hatch = f"{id_prefix}-hatch"
    pattern = _el(defs, "pattern", id=hatch, width=6, height=6, patternUnits="userSpaceOnUse",
                  patternTransform="rotate(45)")
    _el(pattern, "line", x1=0, y1=0, x2=0, y2=6, stroke="#9aa0a6", stroke_width=1.5)

    for column, name in enumerate(SUNDAY_FIRST):
        _el(svg, "text", name, x=PAD + column * CELL_W + CELL_W // 2, y=PAD + 16, text_anchor="middle",
            font_size=13, fill=INK, class_="tl-cal-weekday")

    for row, week in enumerate(weeks):
        for column, cell in enumerate(week):
            if cell is None:
                continue
            x = PAD + column * CELL_W + 1
            y = PAD + HEAD_H + row * CELL_H + 1
            group = _el(svg, "g", class_=f"tl-cal-day tl-cal-{cell.status.value}",
                        data_day=cell.day.isoformat(), data_status=cell.status.value)
            _el(group, "title", cell.description(translate))
            _swatch(group, x, y, cell.status, hatch)
            _el(group, "text", str(cell.day.day), x=x + 3, y=y + 12, font_size=11, fill=MUTED)
            if cell.status.letter:
                _el(group, "text", cell.status.letter, x=x + (CELL_W - 2) // 2, y=y + 31, text_anchor="middle",
                    font_size=15, font_weight="bold", fill=INK, class_="tl-cal-letter")

    legend = _el(svg, "g", class_="tl-cal-legend")
    for index, status in enumerate(LEGEND):
        x = PAD + (index % LEGEND_COLUMNS) * LEGEND_COL_W
        y = PAD + grid_h + 8 + (index // LEGEND_COLUMNS) * LEGEND_ROW_H
        item = _el(legend, "g", data_status=status.value)
        _swatch(item, x, y, status, hatch, w=30, h=20)
        _el(item, "text", status.letter, x=x + 15, y=y + 15, text_anchor="middle", font_size=12,
            font_weight="bold", fill=INK)
        _el(item, "text", translate(status.label), x=x + 36, y=y + 15, font_size=12, fill=INK)

    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))
