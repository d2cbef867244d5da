"""The attendance calendar as server-side SVG (DESIGN.md §12: charts as server-rendered SVG).

Written as text by ``SvgWriter``, which escapes every text and attribute as
ElementTree's serializer did (the page is byte for byte what ``ET.tostring``
made; ElementTree's tree and serializer were ~40 % of the timeline's own
CPU, issue 19 item 4). The
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


def _attribute_name(keyword: str) -> str:
    """``stroke_width`` -> ``stroke-width``, ``class_`` -> ``class``."""
    name = _NAMES.get(keyword)
    if name is None:
        name = _NAMES[keyword] = keyword.rstrip("_").replace("_", "-")
    return name


_NAMES: dict[str, str] = {}


def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(value: str) -> str:
    value = _escape_text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    if "\t" in value:
        value = value.replace("\t", "&#09;")
    return value


class SvgWriter:
    """The SVG as a list of strings, in ElementTree's serialization (``short_empty_elements``)."""

    def __init__(self):
        self.parts: list[str] = []

    def _start(self, tag: str, attrs: dict) -> str:
        # Numbers need no escaping: most of the calendar's attributes are coordinates.
        return f"<{tag}" + "".join(
            f' {_attribute_name(k)}="{_escape_attribute(v) if isinstance(v, str) else v}"' for k, v in attrs.items())

    def open(self, tag: str, **attrs) -> None:
        self.parts.append(self._start(tag, attrs) + ">")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def leaf(self, tag: str, text: str | None = None, **attrs) -> None:
        start = self._start(tag, attrs)
        self.parts.append(f"{start}>{_escape_text(text)}</{tag}>" if text else start + " />")

    def text(self) -> str:
        return "".join(self.parts)


def _swatch(out: SvgWriter, x, y, status: CellStatus, hatch: str, w=CELL_W - 2, h=CELL_H - 2):
    """The cell's box: colour, border (dashed for 未入力) and hatching for closed days."""
    attrs = {"x": x, "y": y, "width": w, "height": h, "fill": FILL[status], "stroke": "#8a8f96", "stroke_width": 1}
    if status is CellStatus.MISSING:
        attrs.update(stroke=INK, stroke_dasharray="4 3", stroke_width=1.5)
    out.leaf("rect", **attrs)
    if status is CellStatus.CLOSED:
        out.leaf("rect", x=x, y=y, width=w, height=h, fill=f"url(#{hatch})")


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
    out = SvgWriter()
    out.open("svg", **{
        "xmlns": SVG_NS, "role": "img", "aria-labelledby": f"{title_id} {desc_id}",
        "viewBox": f"0 0 {width} {height}", "width": str(width), "height": str(height),
        "class": "tl-cal", "font-family": "sans-serif",
    })
    month = f"{grid.first.year}年{grid.first.month}月"
    out.leaf("title", translate(_("${month}の出欠カレンダー", mapping={"month": month})), id=title_id)
    counts = [*grid.summary(), (CellStatus.CLOSED, grid.counts()[CellStatus.CLOSED])]
    summary = " / ".join(translate(_("${label}${count}日", mapping={"label": translate(status.label), "count": count}))
                         for status, count in counts)
    out.leaf("desc", translate(_("${summary}。日ごとの内容はカレンダーの下の表にもあります。",
                                 mapping={"summary": summary})), id=desc_id)

    hatch = f"{id_prefix}-hatch"
    out.open("defs")
    out.open("pattern", id=hatch, width=6, height=6, patternUnits="userSpaceOnUse", patternTransform="rotate(45)")
    out.leaf("line", x1=0, y1=0, x2=0, y2=6, stroke="#9aa0a6", stroke_width=1.5)
    out.close("pattern")
    out.close("defs")

    for column, name in enumerate(SUNDAY_FIRST):
        out.leaf("text", name, x=PAD + column * CELL_W + CELL_W // 2, y=PAD + 16, text_anchor="middle",
                 font_size=13, fill=INK, class_="tl-cal-weekday")

    for row, week in enumerate(weeks):
        for column, cell in enumerate(week):
            if cell is None:
                continue
            x = PAD + column * CELL_W + 1
            y = PAD + HEAD_H + row * CELL_H + 1
            out.open("g", class_=f"tl-cal-day tl-cal-{cell.status.value}",
                     data_day=cell.day.isoformat(), data_status=cell.status.value)
            out.leaf("title", cell.description(translate))
            _swatch(out, x, y, cell.status, hatch)
            out.leaf("text", str(cell.day.day), x=x + 3, y=y + 12, font_size=11, fill=MUTED)
            if cell.status.letter:
                out.leaf("text", cell.status.letter, x=x + (CELL_W - 2) // 2, y=y + 31, text_anchor="middle",
                         font_size=15, font_weight="bold", fill=INK, class_="tl-cal-letter")
            out.close("g")

    out.open("g", class_="tl-cal-legend")
    for index, status in enumerate(LEGEND):
        x = PAD + (index % LEGEND_COLUMNS) * LEGEND_COL_W
        y = PAD + grid_h + 8 + (index // LEGEND_COLUMNS) * LEGEND_ROW_H
        out.open("g", data_status=status.value)
        _swatch(out, x, y, status, hatch, w=30, h=20)
        out.leaf("text", status.letter, x=x + 15, y=y + 15, text_anchor="middle", font_size=12,
                 font_weight="bold", fill=INK)
        out.leaf("text", translate(status.label), x=x + 36, y=y + 15, font_size=12, fill=INK)
        out.close("g")
    out.close("g")
    out.close("svg")
    return Markup(out.text())
