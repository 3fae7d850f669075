"""The report's tables as an Excel workbook (``report.xlsx``): one sheet per table, headers in the report's language.

*Scenario.* A planner copies the units' table and the interventions' costs into the campaign plan, in Excel.
`report_workbook` reads the tables of the rendered page itself (so the workbook always holds exactly what
``report.html`` shows, in the same words), names each sheet after its heading, and writes numbers as numbers:
'1.234,5' and '17,3%' in a Vietnamese report become 1234.5 and 0.173 (shown as 17,3% by Excel's own locale),
while ranges, dates and words stay text.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from motcua.atomic import write_bytes

_NUMBER = {"vi": re.compile(r"^-?\d{1,3}(?:\.\d{3})*(?:,\d+)?%?$"),
           "en": re.compile(r"^-?\d{1,3}(?:,\d{3})*(?:\.\d+)?%?$")}
"""A number as `motcua.report.numbers` writes it, in each language."""
MAX_SHEETS = 60


@dataclass
class Table:
    """One table of the page: the heading above it, its header row and its rows of cell texts."""

    title: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class _Tables(HTMLParser):
    """Collects every ``<table>`` with the nearest ``<h2>``/``<h3>`` above it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self.heading = ""
        self._text: list[str] | None = None
        self._in_heading = False
        self._row: list[str] | None = None
        self._head_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            self._in_heading, self._text = True, []
        elif tag == "table":
            self.tables.append(Table(self.heading))
        elif tag == "tr" and self.tables:
            self._row, self._head_row = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._text = []
            self._head_row = self._head_row or tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3") and self._in_heading and self._text is not None:
            self.heading, self._in_heading, self._text = " ".join("".join(self._text).split()), False, None
        elif tag in ("td", "th") and self._row is not None and self._text is not None:
            self._row.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if self._head_row and not table.header:
                table.header = self._row
            else:
                table.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def page_tables(html: str) -> list[Table]:
    """Every table of a rendered report page, with the heading it sits under."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def cell_value(text: str, lang: str) -> str | float:
    """A number written in the report's format as a number ('17,3%' → 0.173 in Vietnamese), else the text."""
    if not _NUMBER.get(lang, _NUMBER["en"]).match(text):
        return text
    plain = text.rstrip("%")
    plain = plain.replace(".", "").replace(",", ".") if lang == "vi" else plain.replace(",", "")
    value = float(plain)
    return value / 100 if text.endswith("%") else value


def report_workbook(html: str, path: Path, lang: str) -> Path:
    """Write the tables of `html` to `path` as XLSX (openpyxl), one sheet each, atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in page_tables(html)[:MAX_SHEETS]:
        sheet = book.create_sheet(_sheet_name(table.title, used))
        if table.header:
            sheet.append(table.header)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([cell_value(c, lang) for c in row])
            for cell, text in zip(sheet[sheet.max_row], row, strict=False):
                if text.endswith("%") and isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        for column in sheet.columns:
            width = max((len(str(c.value or "")) for c in column), default=8)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return write_bytes(path, buffer.getvalue())


def _sheet_name(title: str, used: set[str]) -> str:
    """An Excel sheet name (≤ 31 characters, none of []:*?/\\), unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title or "Bảng").strip()[:28] or "Bảng"
    name, n = base, 2
    while name.lower() in used:
        name, n = f"{base[:26]} {n}", n + 1
    used.add(name.lower())
    return name
