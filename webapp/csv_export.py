"""Every CSV the application writes: Excel-ready bytes with formula cells neutralised.

One writer for all exports (monthly reports, the three logs, the import
samples), so a fix here reaches each of them.

Excel-ready: UTF-8 with a byte-order mark (without it Excel assumes Shift_JIS
and shows mojibake), CRLF between rows, LF for a line break inside a cell (a
stray CR would end the row in some tools and shift every following column).

CSV injection (OWASP "CSV Injection"): a cell that starts with ``=``, ``+``,
``-``, ``@``, tab or carriage return is read as a formula, so it gets a leading
single quote and stays text. Spreadsheets skip leading blanks and control
characters before deciding that a cell is a formula (Excel runs ``" =1+1"``;
LibreOffice after a line feed), so the trigger is looked for after any of
them too. The full-width ``＝＋－＠`` are treated the same way: user text is
stored NFC, not NFKC, so they reach the file unchanged, and Excel with a
Japanese IME turns ``＝`` into ``=`` as soon as the cell is edited (F2,
Enter), which makes the cell a live formula in the hands of the ward's own
staff. A quote in front of a rare full-width sign is the cheaper mistake.

Numbers the application itself writes as ``int`` (day counts, ids, status
codes, durations) are not user text and are written as they are: ``-3`` in a
numeric column stays a number. A negative number that arrives as text (typed
by someone) is quoted like any other text starting with ``-``.
"""

from __future__ import annotations

import csv
import io
import itertools
import unicodedata
from collections.abc import Iterable, Iterator

FORMULA_TRIGGERS = frozenset("=+-@\t\r＝＋－＠")


def _skippable(char: str) -> bool:
    """Blanks and invisible characters a spreadsheet passes over before a formula sign."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def _first_significant(text: str) -> str:
    for char in text:
        if not _skippable(char):
            return char
    return ""


def neutralise(value) -> str:
    """A cell as text that spreadsheet software will not evaluate."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # written by the application, not by a user
    text = str(value)
    if text[:1].isalnum():
        return text  # most cells: a letter or digit first is neither blank nor a formula sign
    if text[:1] in FORMULA_TRIGGERS or _first_significant(text) in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _one_line_ending(text: str) -> str:
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def cell_text(value) -> str:
    """A cell as it goes into the file: neutralised, one kind of line break."""
    if value.__class__ is str and value[:1].isalnum() and "\r" not in value:
        return value  # most cells, without two calls each (a large export has thousands)
    return _one_line_ending(neutralise(value))


def csv_chunks(header: list[str], rows: Iterable[Iterable], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The file as byte chunks (for a streamed response): BOM and header, then ``rows_per_chunk``
    CRLF-terminated rows at a time, every cell neutralised."""
    return prepared_csv_chunks(header, ([cell_text(cell) for cell in row] for row in rows), rows_per_chunk)


def prepared_csv_chunks(header: list[str], rows: Iterable[Iterable], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """:func:`csv_chunks` for rows whose cells are already safe: every cell a user could have
    typed has been through :func:`cell_text`, the rest are the application's own labels,
    dates and ``int`` counts. For exports that prepare whole rows at once (a large export
    would otherwise neutralise thousands of cells it wrote itself)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write("\ufeff")
    writer.writerow([cell_text(cell) for cell in header])
    rows = iter(rows)
    while True:
        batch = list(itertools.islice(rows, rows_per_chunk))
        writer.writerows(batch)
        if len(batch) < rows_per_chunk:
            break
        yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk


def csv_bytes(header: list[str], rows: Iterable[Iterable]) -> bytes:
    """The whole file: BOM, header, one CRLF-terminated line per row, every cell neutralised."""
    return b"".join(csv_chunks(header, rows))
