"""CSV cells a spreadsheet shows as text: the one rule for every CSV file rempart writes.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (CSV injection), some after a leading TAB or CR. Such a cell is written with an
apostrophe in front, which spreadsheets take to mean "text". A cell that starts with an
apostrophe gets one more, so reading reverses writing exactly::

    text_cell("=HYPERLINK(...)") == "'=HYPERLINK(...)"     cell_text("'=HYPERLINK(...)") == "=HYPERLINK(...)"
    text_cell("'quoted") == "''quoted"                     cell_text("''quoted") == "'quoted"
    text_cell("case-17") == "case-17"                      cell_text("case-17") == "case-17"
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = FORMULA_STARTS + ("'",)


def text_cell(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs as a formula."""
    return "'" + text if text.startswith(_ESCAPED) else text


def cell_text(cell: str) -> str:
    """The text a cell written by ``text_cell`` holds (other cells are returned as they are)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_ESCAPED) else cell
