"""The submission matrix's cells as HTML, written in Python (issue 19 item 3).

A page has facilities × months cells (300 on the default page), each a link
"submitted/due" with an optional status word. Written by the template, every
cell cost five expressions, each looked up and escaped by Jinja; here the
strings that are the same for the whole page (the link's start, the months'
URL parts, the two status words) are escaped once and each cell is one
f-string of integers. Nothing a user typed goes into a cell: the facility's
name and code stay in the template, escaped there.

The markup is the template's as it was, byte for byte (row and column headers
give assistive technology the facility and month; ``o`` overdue, ``c`` complete).
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape

from webapp.templating import period_param


class CellWriter:
    """Writes one matrix row's ``<td>`` cells; built once per page."""

    def __init__(self, link_start: str, periods: list[dt.date], overdue_label: str, complete_label: str):
        self._start = escape(link_start)  # the facility-month URL without "<facility id>/<period>"
        self._ends = [f'/{escape(period_param(period))}">' for period in periods]
        self._overdue = f"<br><b>{escape(overdue_label)}</b></a></td>"
        self._complete = f"<br><b>{escape(complete_label)}</b></a></td>"

    def __call__(self, row) -> Markup:
        link = f"{self._start}{int(row.facility.id):d}"
        parts = []
        for cell, end in zip(row.cells, self._ends):
            if cell is None:
                parts.append("<td>—</td>")
            elif cell.overdue:
                parts.append(f'<td class="o"><a href="{link}{end}{cell.submitted:d}/{cell.due:d}{self._overdue}')
            elif cell.submitted >= cell.due:
                parts.append(f'<td class="c"><a href="{link}{end}{cell.submitted:d}/{cell.due:d}{self._complete}')
            else:
                parts.append(f'<td><a href="{link}{end}{cell.submitted:d}/{cell.due:d}</a></td>')
        return Markup("".join(parts))
