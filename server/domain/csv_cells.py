"""CSV that spreadsheets open as data: a text cell that Excel, LibreOffice or Sheets would read as a formula is
prefixed with an apostrophe (the OWASP rule for CSV injection). Numbers are left alone, so falls stay negative
numbers; only text is changed, and only when it starts with a formula character.

>>> safe_cell('=HYPERLINK("http://evil.example")'), safe_cell(-3.5), safe_cell("Allington")
('\\'=HYPERLINK("http://evil.example")', -3.5, 'Allington')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# RFC 4180 line ends: with CRLF as the terminator, a field holding a CR or LF is quoted, so a name cannot start a row.
LINE_END = "\r\n"


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8, quoted where needed) with every text cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode()
