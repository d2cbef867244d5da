"""The calendar's day-by-day table (the screen reader's and the printout's copy of the SVG), rendered in Python.

Issue 19 item 4: in Jinja each of the month's ~30 rows was a dozen output
chunks, attribute lookups and a translation. Here each status's label is
translated and escaped once a page, and a row only fills in its day and
escapes its note. The HTML is the template's, byte for byte (the rows keep
its indentation; ``templates/timeline/_summary.html`` puts them in the table).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from webapp.timeline.month_grid import CellStatus, MonthGrid


def day_table_rows(grid: MonthGrid, translate) -> Markup:
    """One ``<tr>`` per day of the month; ``translate`` turns the statuses' labels into the page's language."""
    labels = {status: escape(translate(status.label)) for status in CellStatus}
    letters = {status: escape(status.letter) for status in CellStatus}
    return Markup("\n".join(
        f'      <tr class="tl-day-{cell.status.value}">\n'
        f'        <th scope="row"><time datetime="{cell.day.isoformat()}">'
        f"{cell.day.month}/{cell.day.day}（{cell.weekday_label}）</time></th>\n"
        f"        <td>{letters[cell.status]}</td>\n"
        f"        <td>{labels[cell.status]}</td>\n"
        f"        <td>{escape(cell.note)}</td>\n"
        f"      </tr>"
        for cell in grid.cells
    ))
