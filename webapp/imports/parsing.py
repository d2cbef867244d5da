"""Reading an uploaded CSV file: size limits, encoding detection, header and rows.

Everything that can be wrong with a file as a whole raises :class:`ImportFileError`
with a Japanese message; problems of single lines are collected as
:class:`Problem` with the line number the user sees in Excel or a text editor.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata

from webapp.i18n import _

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Control characters that never appear in a text CSV (tab, CR and LF do).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFileError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Japanese heading used in samples and messages
    required: bool = False  # the column must be present in the header
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {_header_key(name) for name in (self.key, self.header, *self.aliases)}


@dataclasses.dataclass
class Problem:
    line: int | None
    column: str | None
    message: object  # a TranslationString


@dataclasses.dataclass
class Row:
    line: int
    cells: dict[str, str]


def _header_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or Shift_JIS/CP932, Excel's default in Japan.

    UTF-8 is tried first: a CP932 file is almost never valid UTF-8, while many
    UTF-8 files are also decodable (wrongly) as CP932.
    """
    if not data.strip():
        raise ImportFileError(_("ファイルが空です。"))
    if data.startswith(_UTF16_BOMS):
        raise ImportFileError(_("UTF-16 のファイルは読めません。Excel では「CSV UTF-8（コンマ区切り）」で保存してください。"))
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("CSVファイルではないようです（文字以外のデータが含まれています）。CSV形式で保存したファイルを選んでください。"))
    if data.startswith(_UTF8_BOM):
        try:
            text = data[len(_UTF8_BOM):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(_("UTF-8 として読めない文字があります（${position}バイト目付近）。ファイルの文字コードを確認してください。",
                                    mapping={"position": exc.start + len(_UTF8_BOM) + 1})) from None
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp932")
            except UnicodeDecodeError:
                raise ImportFileError(_("文字コードを判別できません。UTF-8 または Shift_JIS（Excel の「CSV（コンマ区切り）」）で保存してください。")) from None
    if _BINARY.search(text):
        raise ImportFileError(_("CSVファイルではないようです（文字以外のデータが含まれています）。CSV形式で保存したファイルを選んでください。"))
    return text


def read_rows(text: str, columns: list[Column], refused: dict[str, object] | None = None):
    """Parses ``text`` into rows keyed by column key.

    Returns (rows, problems, present) where ``present`` is the set of column keys
    in the header. Header problems raise :class:`ImportFileError`.
    """
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > MAX_LINES + 1:  # the data lines plus the header
        raise ImportFileError(_("行数が多すぎます（上限 ${max} 行）。ファイルを分けて取り込んでください。",
                                mapping={"max": f"{MAX_LINES:,}"}))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_("ファイルが空です。")) from None
    except csv.Error:
        raise ImportFileError(_("1行目（見出し行）を読めません。CSV形式か確認してください。")) from None

    by_name = {}
    for column in columns:
        for name in column.names():
            by_name[name] = column
    refused = {_header_key(name): message for name, message in (refused or {}).items()}
    keys: list[str | None] = []
    for position, heading in enumerate(header, start=1):
        name = _header_key(heading)
        if name in refused:
            raise ImportFileError(refused[name])
        if not name:
            keys.append(None)  # an empty heading: Excel's trailing comma; its cells must be empty
            continue
        column = by_name.get(name)
        if column is None:
            raise ImportFileError(_("1行目（見出し行）の${position}列目「${heading}」は知らない列名です。使える列名はこのページの説明を見てください。",
                                    mapping={"position": position, "heading": heading[:30]}))
        if column.key in keys:
            raise ImportFileError(_("1行目（見出し行）に「${heading}」が2回あります。", mapping={"heading": column.header}))
        keys.append(column.key)
    present = {key for key in keys if key}
    missing = [column.header for column in columns if column.required and column.key not in present]
    if missing:
        raise ImportFileError(_("1行目（見出し行）に必要な列がありません：${columns}。1行目には列名を書いてください。",
                                mapping={"columns": "、".join(missing)}))

    rows: list[Row] = []
    problems: list[Problem] = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            problems.append(Problem(line, None, _("引用符（\"）の閉じ忘れなどで、この行を読めません。")))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are common at the end of files written by hand
        if len(cells) != len(keys):
            problems.append(Problem(start, None, _("列の数が見出し行と違います（見出し ${expected} 列、この行 ${actual} 列）。",
                                                   mapping={"expected": len(keys), "actual": len(cells)})))
            continue
        row = {}
        for key, cell in zip(keys, cells):
            if key is None:
                if cell.strip():
                    problems.append(Problem(start, None, _("見出しのない列に値があります。")))
                continue
            row[key] = cell
        rows.append(Row(start, row))
    if not rows and not problems:
        raise ImportFileError(_("見出し行のほかにデータの行がありません。"))
    return rows, problems, present
