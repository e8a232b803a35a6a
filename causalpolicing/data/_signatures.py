"""What a file really is, from its first bytes: for errors that name the real problem.

A binary file named ``.csv`` (a PNG, a gzip archive without ``.gz``, random
bytes) or a text file named ``.xlsx`` should fail with one message that says so,
not with a parser's complaint about fields or engines.

Examples
--------
>>> binary_content(b"unit,year\\nA,2000\\n") is None
True
>>> binary_content(b"\\x1f\\x8b\\x08\\x00rest")
(0, 'a gzip-compressed file')
>>> binary_content(b"unit,year\\nA,20\\x0000\\n")
(14, 'a NUL byte')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..exceptions import ReaderError
from ._messages import format_hint, quote_list

__all__ = ["binary_content", "signature", "EXCEL_SIGNATURES", "refuse_binary", "refuse_non_excel"]

# (magic bytes, what the file is, the reader that reads it, if any)
_SIGNATURES: tuple[tuple[bytes, str, str | None], ...] = (
    (b"\x1f\x8b", "a gzip-compressed file", None),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)", "excel"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook (OLE)", "excel"),
    (b"PAR1", "a Parquet file", "parquet"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"%PDF", "a PDF document", None),
    (b"BZh", "a bzip2-compressed file", None),
    (b"\xfd7zXZ\x00", "an xz-compressed file", None),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", None),
    (b"SQLite format 3\x00", "an SQLite database", None),
)
# Stata .dta: 117+ start with "<stata_dta>", older ones with a version byte
_STATA = (b"<stata_dta>",)

#: First bytes of Excel workbooks: .xlsx/.xlsm are zip archives, .xls are OLE files.
EXCEL_SIGNATURES = {".xlsx": b"PK\x03\x04", ".xlsm": b"PK\x03\x04",
                    ".xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}

# control bytes that never occur in text (tab, newline, carriage return, form feed
# and escape are allowed)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"


def signature(head: bytes) -> tuple[str, str | None] | None:
    """The known binary format ``head`` starts with: (what it is, reader name) or None."""
    for magic, what, reader in _SIGNATURES:
        if head.startswith(magic):
            return what, reader
    if head.startswith(_STATA):
        return "a Stata .dta file", "stata"
    return None


def binary_content(head: bytes) -> tuple[int, str] | None:
    """Where ``head`` (the first bytes of a file) stops looking like text, or None.

    Returns the byte offset and what was found there: a known signature at
    offset 0, a NUL byte, or other control bytes (more than 1 in 1,000 bytes).
    UTF-16 text (with its byte-order mark) is text.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    found = signature(head)
    if found is not None:
        return 0, found[0]
    nul = head.find(b"\x00")
    if nul != -1:
        return nul, "a NUL byte"
    if not head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > max(1, len(head) // 1000):
        first = min(i for i in (head.find(bytes([c])) for c in _CONTROL) if i != -1)
        return first, f"control byte 0x{head[first]:02x}"
    return None


def refuse_binary(head: bytes, path: Path, encoding: str | None, readers: Sequence[str]) -> None:
    """A binary file (image, archive, another format) is not CSV text: say what it is."""
    if encoding is not None and encoding.lower().replace("_", "-").startswith("utf-16"):
        return
    found = binary_content(head)
    if found is None:
        return
    offset, what = found
    known = signature(head)
    if known is not None and known[0].startswith("a gzip"):
        fix = f"if it is gzip-compressed CSV, name it {path.name + '.gz'!r}"
    elif known is not None and known[1] is not None:
        fix = f"it looks like {known[0]}: {format_hint(known[1])}"
    else:
        fix = f"if it is a format with a reader ({quote_list(readers)}), {format_hint()}"
    raise ReaderError(
        f"{path.name!r} does not look like CSV text (binary content at byte {offset}: "
        f"{what}); is it compressed or another format? {fix[0].upper()}{fix[1:]}."
    )


def refuse_non_excel(path: Path) -> None:
    """A file named like a workbook must start like one (zip for .xlsx, OLE for .xls)."""
    expected = EXCEL_SIGNATURES.get(path.suffix.lower())
    if expected is None:
        return
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith(expected):
        return
    kind = "zip" if expected.startswith(b"PK") else "OLE"
    known = signature(head)
    if known is not None:
        what = f"it looks like {known[0]}" + (
            f": {format_hint(known[1])}" if known[1] not in (None, "excel") else "")
    elif binary_content(head) is None:
        what = f"it holds text; if that is delimited text, {format_hint('csv')}"
    else:
        what = "its content is in an unknown format"
    raise ReaderError(f"{path.name!r} is not an Excel workbook ({kind} signature missing); {what}.")
