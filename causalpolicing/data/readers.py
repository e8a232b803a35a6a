"""Readers: turn a file into a table, recording every row they leave out.

Readers live in a registry keyed by name. Each declares the file extensions it
handles, the options it accepts (unknown options are an error, never ignored)
and optionally a *sniffer* that recognises its files from their first bytes, so
that domain formats (CDC WONDER exports, EMCDDA bulletins, PC-Axis files) can
claim a ``.txt`` or ``.csv`` file before the generic reader does.

Every reader returns a :class:`ReadResult`: the data rows as a DataFrame, the
1-based source row number of each, a drop log for rows the reader itself leaves
out (e.g. blank rows, or ``"Total"`` rows of an export) and provenance
information. Readers never convert text to numbers: that happens, with full
error reporting, when a panel is built.

Row numbers: source row 1 is the first data row below the header; every row
the reader sees counts, so ``n_source_rows == len(frame) + len(drops)``.

Examples
--------
>>> from causalpolicing.data.readers import available_readers
>>> {"csv", "excel", "parquet", "stata"} <= set(available_readers())
True
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._hints import close_matches, did_you_mean
from ..exceptions import EmptySourceError, ReaderError
from ._csv_arrow import _NON_SPACE, arrow_csv_file, arrow_csv_frame
from ._csv_text import (
    _check_char_option,
    _decode,
    _detect_delimiter,
    _header_names,
    _strip_trailing_blank_lines,
    detect_encoding,
    pa_nested,
)
from ._messages import describe_rows, quote_list, read_options_hint
from ._reader_registry import (  # noqa: F401  (re-exported: the public path)
    _READERS,
    DROP_LOG_COLUMNS,
    Reader,
    ReaderFunc,
    ReadResult,
    _checked,
    _choose_reader,
    _load_domain_readers,
    available_readers,
    empty_drop_log,
    get_reader,
    read_table,
    register_reader,
)
from ._signatures import refuse_binary, refuse_non_excel

__all__ = [
    "DROP_LOG_COLUMNS",
    "ReadResult",
    "Reader",
    "register_reader",
    "available_readers",
    "get_reader",
    "read_table",
    "empty_drop_log",
    "detect_encoding",
]

_HEAD = (1 << 20) + 4  # bytes read to detect the encoding, delimiter and header
_TAIL = 1 << 16  # bytes read to find blank lines at the end of a file



# ----------------------------------------------------------------------------- CSV
@register_reader(
    "csv",
    extensions=(".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz"),
    options=("delimiter", "encoding", "skiprows", "comment", "decimal", "thousands"),
    description="Delimited text; delimiter (, ; tab |) and encoding (UTF-8, BOM, Latin-1) detected.",
)
def read_csv(
    path: Path,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    skiprows: int = 0,
    comment: str | None = None,
    decimal: str = ".",
    thousands: str | None = None,
) -> ReadResult:
    """Read delimited text, keeping every cell as text (numbers are parsed later).

    Cells are kept as strings so that codes such as FIPS ``"01001"`` keep their
    leading zeros and nothing is converted silently; empty cells become missing.
    ``decimal`` and ``thousands`` are recorded and applied when numeric columns are
    parsed.

    Row numbers: the first line below the header is source row 1. Blank lines
    (and lines whose cells are all empty, such as ``;;;``) count as source rows;
    they are left out and logged with stage ``"reader"``. Blank lines at the very
    end of the file and lines that are entirely a ``comment`` are not rows.

    A trailing separator on every line (``a;b;``, as in EMCDDA exports) does not
    create a phantom column.

    Engine: UTF-8 files (with or without BOM) are parsed by pyarrow's columnar CSV
    reader, every column as text (``info["engine"] == "pyarrow"``). pandas' parser
    is used instead (``"pandas"``) where pyarrow would read differently: with a
    ``comment`` character, other encodings (Latin-1, cp1252, UTF-16), lines of
    spaces inside the data, or any row pyarrow refuses (e.g. more fields than the header;
    the pandas path then explains it). Both paths give the same frame, row numbers
    and drop log.

    A binary file (an image, a gzip archive without ``.gz``, random bytes) is
    refused with a message saying what it looks like.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "x.csv")
    >>> _ = open(p, "w").write("unit;year;y;\\nA;2000;1;\\n;;;\\nA;2001;2;\\n")
    >>> res = read_csv(Path(p))
    >>> list(res.frame.columns), res.source_rows.tolist(), res.drops["source_row"].tolist()
    (['unit', 'year', 'y'], [1, 3], [2])
    """
    delimiter = _check_char_option(delimiter, "delimiter", path, allow_none=True)
    decimal = _check_char_option(decimal, "decimal", path, allow_none=False)
    thousands = _check_char_option(thousands, "thousands", path, allow_none=True)
    comment = _check_char_option(comment, "comment", path, allow_none=True)
    if isinstance(skiprows, bool) or not isinstance(skiprows, int | np.integer) or skiprows < 0:
        raise ReaderError(
            f"skiprows must be a whole number >= 0 (title lines above the header); got "
            f"{skiprows!r} for {path.name!r}."
        )
    if decimal is not None and decimal == thousands:
        raise ReaderError(
            f"decimal and thousands are both {decimal!r} for {path.name!r}; they must differ "
            "(e.g. decimal=',' with thousands='.')."
        )

    compressed = path.suffix.lower() == ".gz"
    if not compressed and not skiprows and comment is None:
        # the common case: pyarrow reads the file from disk; Python reads only its ends
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
            fh.seek(max(size - _TAIL, 0))
            tail = fh.read()
        if _NON_SPACE.search(head):
            refuse_binary(head[:65536], path, encoding, sorted(_READERS))
            fast = arrow_csv_file(
                path, head, tail, size, delimiter=delimiter, encoding=encoding,
                detect_delimiter=_detect_delimiter, detect_encoding=detect_encoding,
            )
            if fast is not None:
                frame, found = fast
                _check_header_duplicates([str(c) for c in frame.columns], path)
                return _csv_result(frame, path, {**found, "decimal": decimal,
                                                 "thousands": thousands})
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # e.g. a corrupt .gz file
        raise ReaderError(f"{path.name!r} cannot be read: {exc}") from exc
    if not _NON_SPACE.search(raw):
        raise EmptySourceError(f"{path.name!r} holds no data (only blank space).")
    refuse_binary(raw[:65536], path, encoding, sorted(_READERS))
    fast = arrow_csv_frame(
        raw, path, delimiter=delimiter, encoding=encoding, skiprows=skiprows, comment=comment,
        detect_delimiter=_detect_delimiter, detect_encoding=detect_encoding,
    )
    if fast is not None:
        del raw  # parsed: pyarrow holds its own copy of the cells
        frame, found = fast
        _check_header_duplicates([str(c) for c in frame.columns], path)
        return _csv_result(frame, path, {**found, "decimal": decimal, "thousands": thousands})
    text, enc = _decode(raw, encoding, path)
    del raw
    if text.startswith("\ufeff"):
        text = text[1:]
    if skiprows:
        parts = text.split("\n", skiprows)  # only real line ends, never split inside cells
        body = parts[skiprows] if len(parts) > skiprows else ""
    else:
        body = text
    # blank lines at the very end of the file are not rows
    body = _strip_trailing_blank_lines(body)
    if not body.strip():
        raise EmptySourceError(f"{path.name!r} holds no data after skipping {skiprows} rows.")
    sep = delimiter or _detect_delimiter(body[:65536])
    header = _header_names(body, sep)
    _check_header_duplicates(header, path)
    options = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""], comment=comment,
                   skip_blank_lines=False)
    try:
        frame = pd.read_csv(io.StringIO(body), **options)
        if not isinstance(frame.index, pd.RangeIndex):
            # data rows have one field more than the header (e.g. a trailing separator on
            # every data row but not on the header): pandas would turn the first column into
            # the index. Read again with a name for the extra field and check it is empty.
            names = [*header, "(extra)"]
            frame = pd.read_csv(io.StringIO(body), header=0, names=names, **options)
            extra = frame["(extra)"].notna().to_numpy()
            if extra.any():
                rows = np.flatnonzero(extra) + 1
                raise ReaderError(
                    f"{path.name!r}: the header has {len(header)} columns but "
                    f"{describe_rows(rows)} {'holds' if len(rows) == 1 else 'hold'} "
                    f"{len(header) + 1} values. Check for a "
                    "missing header name, an unquoted separator inside a value, or give the "
                    f"right delimiter: e.g. {read_options_hint({'delimiter': ';'})}."
                )
            frame = frame.drop(columns="(extra)")
    except pd.errors.EmptyDataError as exc:
        raise EmptySourceError(f"{path.name!r} holds no data rows.") from exc
    except pd.errors.ParserError as exc:
        raise ReaderError(
            f"{path.name!r} could not be parsed with delimiter {sep!r}: {exc}. Check for rows "
            "with extra separators or unbalanced quotes, or give the delimiter: e.g. "
            f"{read_options_hint({'delimiter': ';'})}."
        ) from exc
    del body, text
    info = {"delimiter": sep, "encoding": enc, "engine": "pandas", "decimal": decimal,
            "thousands": thousands}
    return _csv_result(frame, path, info)


def _check_header_duplicates(names: list[str], path: Path) -> None:
    stripped = [n.strip() for n in names]
    dup = sorted({h for h in stripped if h and stripped.count(h) > 1}) if len(
        set(stripped)) < len(stripped) else []
    if dup:
        raise ReaderError(
            f"{path.name!r} has duplicate column names in its header: {quote_list(dup)}. "
            "Rename them so that every column has its own name."
        )


def _csv_result(frame: pd.DataFrame, path: Path, info: dict[str, Any]) -> ReadResult:
    """The CSV reader's common end: empty unnamed columns, names, blank rows."""
    blank_possible = info.pop("_blank_possible", True)
    # drop fully empty unnamed columns produced by a trailing separator ("a;b;")
    unnamed_empty = [
        c for c in frame.columns if str(c).startswith("Unnamed:") and frame[c].isna().all()
    ]
    frame = frame.drop(columns=unnamed_empty)
    if len(frame) == 0:
        raise EmptySourceError(
            f"{path.name!r} has a header ({quote_list(frame.columns)}) but no data rows."
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return _without_blank_rows(
        frame, reader="csv", info={**info, "dropped_empty_columns": unnamed_empty},
        blank_possible=blank_possible,
    )


def _without_blank_rows(frame: pd.DataFrame, reader: str, info: dict[str, Any], *,
                        blank_possible: bool = True) -> ReadResult:
    """Leave out rows whose every cell is empty, recording each in the drop log.

    A cell holding only spaces counts as empty here (a line of spaces in a text
    file); such a row is blank only if all its other cells are missing.
    ``blank_possible=False`` says the caller knows there is none (a column other
    than the first has no missing cell).
    """
    frame = frame.reset_index(drop=True)
    source_rows = np.arange(1, len(frame) + 1)
    if frame.shape[1] == 0 or not blank_possible:
        return ReadResult(frame, source_rows, len(frame), reader, info=info)
    na = frame.isna()
    blank = na.all(axis=1).to_numpy().copy()
    rest_na = na.iloc[:, 1:].all(axis=1).to_numpy() & ~blank
    if rest_na.any():
        first = frame.iloc[np.flatnonzero(rest_na), 0]
        spaces = first.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
        blank[np.flatnonzero(rest_na)[spaces]] = True
    drops = empty_drop_log()
    if blank.any():
        drops = pd.DataFrame({
            "source_row": source_rows[blank].astype(np.int64),
            "unit": pd.Series([None] * int(blank.sum()), dtype=object),
            "time": pd.Series([None] * int(blank.sum()), dtype=object),
            "column": "(all)",
            "reason": "blank row: every cell is empty",
            "stage": "reader",
        })
        drops = drops.astype({"column": object, "reason": object, "stage": object})
        frame = frame.loc[~blank].reset_index(drop=True)
        source_rows = source_rows[~blank]
    return ReadResult(frame, source_rows, len(blank), reader, drops=drops, info=info)


# ------------------------------------------------------------------ binary formats
def _finish(frame: pd.DataFrame, path: Path, reader: str, info: dict[str, Any]) -> ReadResult:
    if len(frame) == 0:
        raise EmptySourceError(
            f"{path.name!r} has columns ({quote_list(frame.columns)}) but no data rows."
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return _without_blank_rows(frame, reader, info)


@register_reader(
    "parquet",
    extensions=(".parquet", ".pq"),
    options=("columns",),
    description="Apache Parquet (pyarrow).",
)
def read_parquet(path: Path, *, columns: list[str] | None = None) -> ReadResult:
    """Read a Parquet file.

    Nested columns (lists, structs, maps) are carried as Python objects and listed
    in ``info["nested_columns"]``; they cannot play a role (``load_panel`` says so),
    but an unused one does not stop the file from loading.
    """
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        frame = pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ReaderError(f"{path.name!r} is not a readable Parquet file: {exc}") from exc
    nested = [f.name for f in schema if pa_nested(f.type) and f.name in frame.columns]
    return _finish(frame, path, "parquet", {"nested_columns": nested})


@register_reader(
    "excel",
    extensions=(".xlsx", ".xlsm", ".xls"),
    options=("sheet", "skiprows", "header"),
    description="Excel workbooks (openpyxl); choose the sheet and skip title rows.",
)
def read_excel(path: Path, *, sheet: str | int = 0, skiprows: int = 0, header: int = 0) -> ReadResult:
    """Read one sheet of an Excel workbook (title rows can be skipped with ``skiprows``)."""
    refuse_non_excel(path)
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:
        raise ReaderError(f"{path.name!r} is not a readable Excel workbook: {exc}") from exc
    with book:
        names = book.sheet_names
        if isinstance(sheet, bool) or not isinstance(sheet, str | int):
            raise ReaderError(
                f"sheet must be a sheet name or a 0-based position; got {sheet!r}. Sheets of "
                f"{path.name!r}: {quote_list(names)}."
            )
        if isinstance(sheet, str) and sheet not in names:
            hint = close_matches(sheet, names, n=1)
            raise ReaderError(
                f"{path.name!r} has no sheet {sheet!r}{did_you_mean(sheet, names, n=3)}"
                + f"; sheets: {quote_list(names)}. To choose one, "
                + read_options_hint({"sheet": (hint or names)[0]}) + "."
            )
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise ReaderError(
                f"{path.name!r} has {len(names)} sheet(s) ({quote_list(names)}); sheet={sheet} "
                f"is out of range: use 0 to {len(names) - 1} or a sheet name."
            )
        frame = pd.read_excel(book, sheet_name=sheet, skiprows=skiprows, header=header,
                              dtype=object)
        if len(frame.columns) != len(set(map(str, frame.columns))) or any(
            "." in str(c) for c in frame.columns
        ):  # pandas renames repeated names to 'y.1': look at the header as written
            raw = pd.read_excel(book, sheet_name=sheet, skiprows=skiprows, header=None,
                                nrows=header + 1, dtype=object)
            names = [str(v).strip() for v in raw.iloc[header] if pd.notna(v)] if len(raw) else []
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ReaderError(
                    f"{path.name!r} (sheet {sheet!r}) has duplicate column names in its "
                    f"header: {quote_list(dup)}. Rename them so that every column has its own "
                    "name."
                )
    # cells keep their Excel type: numbers stay numbers, text (e.g. "01001") stays text
    frame = frame.infer_objects()
    unnamed_empty = [
        c for c in frame.columns if str(c).startswith("Unnamed:") and frame[c].isna().all()
    ]
    frame = frame.drop(columns=unnamed_empty)
    sheet_name = sheet if isinstance(sheet, str) else names[sheet]
    return _finish(frame, path, "excel", {"sheet": sheet_name, "skiprows": skiprows,
                                          "dropped_empty_columns": unnamed_empty})


@register_reader(
    "stata",
    extensions=(".dta",),
    options=("convert_categoricals",),
    description="Stata .dta files (value labels become categories).",
)
def read_stata(path: Path, *, convert_categoricals: bool = True) -> ReadResult:
    """Read a Stata ``.dta`` file."""
    try:
        frame = pd.read_stata(path, convert_categoricals=convert_categoricals)
    except Exception as exc:
        raise ReaderError(f"{path.name!r} is not a readable Stata file: {exc}") from exc
    return _finish(frame, path, "stata", {})
