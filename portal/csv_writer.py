"""The one CSV writer of the portal (search export and statistics tables).

Every cell that a spreadsheet program would read as a formula (it starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, so
text typed by members or the public never runs as a formula when an analyst opens
the file (the OWASP advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet cell a formula."""

BOM = "\ufeff"
"""Starts every CSV download: spreadsheet programs then read UTF-8 diacritics right."""


def safe_cell(value: object) -> object:
    """``value`` ready for a CSV cell: text that starts like a formula gets a ``'``.

    Numbers and None pass unchanged (a negative number is a number, not a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class CsvWriter:
    """Turns rows into CSV text one line at a time (for streamed downloads)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def line(self, cells: Iterable[object]) -> str:
        """One CSV line (with its line end) of ``cells``, every cell guarded by
        :func:`safe_cell`."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([safe_cell(cell) for cell in cells])
        return self._buffer.getvalue()


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """All ``rows`` as CSV text (no BOM), every cell guarded by :func:`safe_cell`."""
    writer = CsvWriter()
    return "".join(writer.line(row) for row in rows)
