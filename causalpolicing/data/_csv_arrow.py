"""The fast path of the CSV reader: pyarrow's columnar CSV parser, every cell as text.

:func:`arrow_csv_frame` reads a UTF-8 delimited file with ``pyarrow.csv`` (in
parallel, without decoding the file into one Python string) and returns a
frame of text columns, or ``None`` when the file needs the pandas path of
:func:`causalpolicing.data.readers.read_csv`. Every column is read as a string:
nothing is inferred, so codes such as FIPS ``"01001"`` keep their leading zeros
and no cell becomes a number or a missing value silently; numbers are parsed,
with full error reporting, by ``load_panel``.

The pandas path is used instead (``None`` is returned) for the cases where
pyarrow's parser would behave differently, so that row numbers, the drop log
and messages stay exactly as documented:

* a ``comment`` character (pyarrow has no comment lines);
* encodings other than UTF-8 (Latin-1, cp1252, UTF-16), detected or given;
* lines of spaces inside the data of a file with several columns;
* anything pyarrow refuses: rows with more or fewer fields than the header
  (the pandas path explains them), invalid UTF-8 further down the file, a
  header longer than 1 MiB, and so on.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["arrow_csv_file", "arrow_csv_frame", "raw_header"]

_UTF8 = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig", "u8"}
_HEAD_BYTES = (1 << 20) + 4
_NON_SPACE = re.compile(rb"\S")


def raw_header(head: str, sep: str) -> list[str] | None:
    """The header's cells exactly as parsed (not stripped), or None if incomplete."""
    try:
        reader = csv.reader(io.StringIO(head), delimiter=sep)
        names = next(reader)
        next(reader)  # the header row ended inside the sample
    except (StopIteration, csv.Error):
        return None
    return names


def _body_bounds(raw: bytes, start: int, skiprows: int) -> tuple[int, int] | None:
    """Byte range of the body: after ``skiprows`` lines, without blank lines at the end."""
    for _ in range(skiprows):
        nl = raw.find(b"\n", start)
        if nl == -1:
            return None
        start = nl + 1
    end = len(raw)
    while True:  # blank lines at the very end of the file are not rows
        nl = raw.rfind(b"\n", start, end)
        if nl == -1 or _NON_SPACE.search(raw, nl + 1, end):
            break
        end = nl
    while end > start and raw[end - 1:end] == b"\r":
        end -= 1
    if not _NON_SPACE.search(raw, start, end):
        return None
    return start, end


def _encoding(head: bytes, encoding: str | None, detect_encoding: Any) -> str | None:
    """The file's encoding when pyarrow can read it (UTF-8, with or without BOM), else None."""
    if encoding is not None:
        return encoding if encoding.lower() in _UTF8 else None
    enc = detect_encoding(head[:262144])
    return enc if enc in ("utf-8", "utf-8-sig") else None


def _header(head_text: str, delimiter: str | None, detect_delimiter: Any
            ) -> tuple[str, list[str]] | None:
    sep = delimiter or detect_delimiter(head_text[:65536])
    header = raw_header(head_text + "\n", sep)
    return (sep, header) if header else None


def _parse(source: Any, sep: str, header: list[str], trailing_blank: int = 0
           ) -> tuple[pd.DataFrame, bool] | None:
    """Parse with pyarrow, every column as text; None when pyarrow refuses or disagrees.

    ``trailing_blank`` lines at the end of the file are blank (not rows): pyarrow
    reads them as rows, so that many rows are cut off (after checking they are blank).
    """
    if len(set(header)) != len(header):
        return None  # duplicate names: the pandas path names them (older pyarrow cannot convert)
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=True, ignore_empty_lines=False,  # blank lines are rows
            ),
            convert_options=pacsv.ConvertOptions(
                # large_string is what pandas 3's str dtype holds: no cast in to_pandas
                # (a 5M-row file: 0.7-1.0 s less); older pandas makes objects either way
                column_types={name: pa.large_string() for name in header},
                null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, UnicodeError, ValueError, OSError):
        return None  # e.g. a row with an extra field: the pandas path names it
    if table.column_names != header or not all(
        pa.types.is_large_string(t) for t in table.schema.types
    ):
        return None  # pyarrow saw another header than the csv module: do not guess
    if trailing_blank:
        n = table.num_rows - trailing_blank
        tail = table.slice(max(n, 0))
        first = pc.utf8_trim_whitespace(tail.column(0))
        if n < 0 or not all(c.null_count == len(c) for c in tail.columns[1:]) or pc.any(
            pc.fill_null(pc.greater(pc.utf8_length(first), 0), False)
        ).as_py():
            return None
        table = table.slice(0, n)
    table = table.rename_columns(
        [name if name else f"Unnamed: {i}" for i, name in enumerate(header)]
    )
    # a blank row has no value in any column but (perhaps spaces in) the first
    blank_possible = table.num_columns == 1 or table.column(1).null_count > 0
    with_nulls = [name for name, col in zip(table.column_names, table.columns, strict=True)
                  if col.null_count]
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    for name in with_nulls:  # pyarrow < 15 gives None in object columns; the pandas path NaN
        if frame[name].dtype == object:
            frame[name] = frame[name].where(frame[name].notna(), np.nan)
    return frame, blank_possible


def _trailing_blank_lines(tail: bytes, whole: bool) -> int | None:
    """Lines of blank space at the end of the file (``tail`` is its last bytes).

    None when they fill all of ``tail`` and it is not the whole file (cannot tell).
    """
    end = len(tail)
    while True:
        nl = tail.rfind(b"\n", 0, end)
        if _NON_SPACE.search(tail, nl + 1, end):  # the last line that is not blank
            break
        if nl == -1:
            return None  # blank up to the start of ``tail``: cannot tell
        end = nl
    if end == len(tail):
        return 0
    lines = tail[end + 1:].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return len(lines)


def arrow_csv_file(
    path: Path, head: bytes, tail: bytes, size: int, *, delimiter: str | None,
    encoding: str | None, detect_delimiter: Any, detect_encoding: Any,
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Read an uncompressed file with pyarrow straight from disk (no copy in Python).

    ``head`` and ``tail`` are the file's first and last bytes. Same result as
    :func:`arrow_csv_frame` on the whole content, or None to use another path.
    """
    enc = _encoding(head, encoding, detect_encoding)
    if enc is None:
        return None
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if head[start:start + 1] in (b"\n", b"\r") or head.find(b"\n", start) == -1:
        return None
    found = _header(head[start:].decode("utf-8", errors="ignore"), delimiter, detect_delimiter)
    if found is None:
        return None
    trailing = _trailing_blank_lines(tail, whole=len(tail) >= size)
    if trailing is None:
        return None
    parsed = _parse(str(path), *found, trailing_blank=trailing)
    if parsed is None:
        return None
    return parsed[0], {"delimiter": found[0], "encoding": enc, "engine": "pyarrow",
                       "_blank_possible": parsed[1]}


def arrow_csv_frame(
    raw: bytes, path: Path, *, delimiter: str | None, encoding: str | None, skiprows: int,
    comment: str | None, detect_delimiter: Any, detect_encoding: Any,
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """Read ``raw`` (a whole delimited file) with pyarrow, or None to use the pandas path.

    Returns the frame (columns named as in the header, empty header cells named
    ``"Unnamed: <position>"`` as pandas does, every cell text or missing when
    empty) and the detected ``delimiter`` and ``encoding``.
    """
    if comment is not None:
        return None
    enc = _encoding(raw, encoding, detect_encoding)
    if enc is None:
        return None
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    bounds = _body_bounds(raw, start, skiprows)
    if bounds is None:
        return None
    start, end = bounds
    if raw[start:start + 1] in (b"\n", b"\r") or raw.find(b"\n", start, end) == -1:
        return None  # an empty header line, or no data line: the pandas path explains
    head = raw[start:min(end, start + _HEAD_BYTES)].decode("utf-8", errors="ignore")
    found = _header(head, delimiter, detect_delimiter)
    if found is None:
        return None
    import pyarrow as pa

    parsed = _parse(pa.BufferReader(pa.py_buffer(memoryview(raw)[start:end])), *found)
    if parsed is None:
        return None
    return parsed[0], {"delimiter": found[0], "encoding": enc, "engine": "pyarrow",
                       "_blank_possible": parsed[1]}
