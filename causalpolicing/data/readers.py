"""Readers: turn a file into a table, recording every row they leave out.

Readers live in a registry keyed by name. Each declares the file extensions it
handles, the options it accepts (unknown options are an error, never ignored)
and optionally a *sniffer* that recognises its files from their first bytes, so
that domain formats (CDC WONDER exports, EMCDDA bulletins, PC-Axis files) can
claim a ``.txt`` or ``.csv`` file before the generic reader does.

Every reader returns a :class:`ReadResult`: the data rows as a DataFrame, the
1-based source row number of each, a drop log for rows the reader itself leaves
out (e.g. ``"Total"`` rows of an export) and provenance information. Readers
never convert text to numbers: that happens, with full error reporting, when a
panel is built.

Examples
--------
>>> from causalpolicing.data.readers import available_readers
>>> sorted(available_readers())[:3]
['csv', 'excel', 'parquet']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import EmptySourceError, ReaderError, UnsupportedFormatError
from ._messages import quote_list

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

DROP_LOG_COLUMNS = ["source_row", "unit", "time", "column", "reason", "stage"]


def empty_drop_log() -> pd.DataFrame:
    """An empty drop log with the standard columns."""
    return pd.DataFrame({
        "source_row": pd.Series(dtype="int64"),
        "unit": pd.Series(dtype="object"),
        "time": pd.Series(dtype="object"),
        "column": pd.Series(dtype="object"),
        "reason": pd.Series(dtype="object"),
        "stage": pd.Series(dtype="object"),
    })


@dataclass(frozen=True, eq=False)
class ReadResult:
    """What a reader returns.

    Attributes
    ----------
    frame
        The data rows, columns as in the source, index ``0..n-1``.
    source_rows
        1-based source row number of each row of ``frame`` (the first data row
        below the header is row 1).
    n_source_rows
        Number of data rows in the source, including those the reader dropped.
    drops
        Rows the reader left out, with the reason (see ``DROP_LOG_COLUMNS``).
    reader
        Name of the reader used.
    info
        Provenance: detected delimiter and encoding, sheet, notes or footers of
        domain exports, and so on.
    """

    frame: pd.DataFrame
    source_rows: np.ndarray
    n_source_rows: int
    reader: str
    drops: pd.DataFrame = field(default_factory=empty_drop_log)
    info: Mapping[str, Any] = field(default_factory=dict)


ReaderFunc = Callable[..., ReadResult]


@dataclass(frozen=True)
class Reader:
    """A registered reader."""

    name: str
    extensions: tuple[str, ...]
    func: ReaderFunc
    options: frozenset[str]
    description: str
    sniff: Callable[[bytes], bool] | None = None


_READERS: dict[str, Reader] = {}


def register_reader(
    name: str,
    *,
    extensions: tuple[str, ...] = (),
    options: tuple[str, ...] = (),
    description: str = "",
    sniff: Callable[[bytes], bool] | None = None,
) -> Callable[[ReaderFunc], ReaderFunc]:
    """Register a reader function under ``name``.

    The function is called as ``func(path, **options)`` and must return a
    :class:`ReadResult`. ``sniff`` receives the first 64 KiB of the file and
    returns True when the file is in this reader's format; sniffing readers are
    preferred over plain extension matches.

    Examples
    --------
    >>> @register_reader("pipe_demo", extensions=(".pipe",), description="demo")
    ... def _read_pipe(path):
    ...     frame = pd.read_csv(path, sep="|", dtype=str)
    ...     return ReadResult(frame, np.arange(1, len(frame) + 1), len(frame), "pipe_demo")
    >>> "pipe_demo" in available_readers()
    True
    >>> _ = _READERS.pop("pipe_demo")
    """

    def decorator(func: ReaderFunc) -> ReaderFunc:
        _READERS[name] = Reader(
            name=name,
            extensions=tuple(e.lower() for e in extensions),
            func=func,
            options=frozenset(options),
            description=description,
            sniff=sniff,
        )
        return func

    return decorator


def available_readers() -> dict[str, Reader]:
    """The registered readers by name."""
    _load_domain_readers()
    return dict(_READERS)


def get_reader(name: str) -> Reader:
    """The reader registered under ``name`` (error lists the valid names)."""
    _load_domain_readers()
    if name not in _READERS:
        raise UnsupportedFormatError(
            f"Unknown format {name!r}. Registered readers: {quote_list(sorted(_READERS))}."
        )
    return _READERS[name]


def _load_domain_readers() -> None:
    """Import optional modules that register more readers (domain formats)."""
    import importlib

    for module in ("causalpolicing.data.formats",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # the module does not exist (yet)
            if exc.name != module:
                raise


def _choose_reader(path: Path) -> Reader:
    _load_domain_readers()
    suffixes = [s.lower() for s in path.suffixes]
    ext = "".join(suffixes[-2:]) if len(suffixes) >= 2 and suffixes[-1] == ".gz" else (
        suffixes[-1] if suffixes else ""
    )
    head = b""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        pass
    sniffers = [r for r in _READERS.values() if r.sniff is not None]
    for reader in sniffers:
        if (not reader.extensions or ext in reader.extensions) and reader.sniff(head):
            return reader
    for reader in _READERS.values():
        if reader.sniff is None and ext in reader.extensions:
            return reader
    known = sorted({e for r in _READERS.values() for e in r.extensions})
    raise UnsupportedFormatError(
        f"No reader for {path.name!r} (extension {ext or '(none)'!r}). Supported extensions: "
        f"{', '.join(known)}. Pass format= one of {quote_list(sorted(_READERS))} to choose "
        "a reader yourself, or load the file with pandas and pass the DataFrame."
    )


def read_table(path: str | Path, *, format: str | None = None, **options: Any) -> ReadResult:
    """Read a file with the reader for its format.

    Parameters
    ----------
    path
        The file to read.
    format
        A registered reader name (see :func:`available_readers`); by default the
        reader is chosen from the file's first bytes and extension.
    **options
        Options of that reader; unknown options raise
        :class:`~causalpolicing.exceptions.ReaderError`.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "x.csv")
    >>> _ = open(p, "w").write("unit;year;y\\nA;2000;1\\n")
    >>> res = read_table(p)
    >>> res.reader, res.info["delimiter"], list(res.frame.columns)
    ('csv', ';', ['unit', 'year', 'y'])
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    if path.is_dir():
        raise ReaderError(f"{str(path)!r} is a folder; give the path of a data file.")
    reader = get_reader(format) if format is not None else _choose_reader(path)
    unknown = set(options) - reader.options
    if unknown:
        raise ReaderError(
            f"Reader {reader.name!r} does not accept option(s) {quote_list(sorted(unknown))}. "
            f"It accepts: {quote_list(sorted(reader.options)) or 'no options'}."
        )
    if path.stat().st_size == 0:
        raise EmptySourceError(f"{path.name!r} is empty (0 bytes).")
    return reader.func(path, **options)


# ----------------------------------------------------------------------------- CSV
def detect_encoding(raw: bytes) -> str:
    """Detect UTF-8 (with or without BOM), UTF-16 (with BOM) or fall back to Latin-1.

    Examples
    --------
    >>> detect_encoding("Zürich".encode("utf-8")), detect_encoding("Zürich".encode("latin-1"))
    ('utf-8', 'cp1252')
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


@register_reader(
    "csv",
    extensions=(".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".tsv.gz"),
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
    """
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if not raw.strip():
        raise EmptySourceError(f"{path.name!r} holds no data (only blank space).")
    enc = encoding or detect_encoding(raw[:262144])
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        raise ReaderError(
            f"{path.name!r} is not valid {enc} (byte {exc.start}). Pass encoding='latin-1' "
            "or the file's real encoding."
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    body = text if not skiprows else "\n".join(text.splitlines()[skiprows:])
    if not body.strip():
        raise EmptySourceError(f"{path.name!r} holds no data after skipping {skiprows} rows.")
    sep = delimiter or _detect_delimiter(body[:65536])
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            comment=comment,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise EmptySourceError(f"{path.name!r} holds no data rows.") from exc
    except pd.errors.ParserError as exc:
        raise ReaderError(
            f"{path.name!r} could not be parsed with delimiter {sep!r}: {exc}. Check for rows "
            "with extra separators or unbalanced quotes, or pass delimiter= explicitly."
        ) from exc
    # drop fully empty trailing columns produced by a trailing separator ("a;b;")
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
        frame,
        reader="csv",
        info={
            "delimiter": sep,
            "encoding": enc,
            "decimal": decimal,
            "thousands": thousands,
            "dropped_empty_columns": unnamed_empty,
        },
    )


def _without_blank_rows(frame: pd.DataFrame, reader: str, info: dict[str, Any]) -> ReadResult:
    """Leave out rows whose every cell is empty, recording each in the drop log."""
    frame = frame.reset_index(drop=True)
    source_rows = np.arange(1, len(frame) + 1)
    blank = frame.isna().all(axis=1).to_numpy()
    drops = empty_drop_log()
    if blank.any():
        drops = pd.DataFrame({
            "source_row": source_rows[blank],
            "unit": None,
            "time": None,
            "column": "(all)",
            "reason": "blank row: every cell is empty",
            "stage": "reader",
        })
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
    """Read a Parquet file."""
    try:
        frame = pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ReaderError(f"{path.name!r} is not a readable Parquet file: {exc}") from exc
    return _finish(frame, path, "parquet", {})


@register_reader(
    "excel",
    extensions=(".xlsx", ".xlsm", ".xls"),
    options=("sheet", "skiprows", "header"),
    description="Excel workbooks (openpyxl); choose the sheet and skip title rows.",
)
def read_excel(path: Path, *, sheet: str | int = 0, skiprows: int = 0, header: int = 0) -> ReadResult:
    """Read one sheet of an Excel workbook (title rows can be skipped with ``skiprows``)."""
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:
        raise ReaderError(f"{path.name!r} is not a readable Excel workbook: {exc}") from exc
    with book:
        names = book.sheet_names
        if isinstance(sheet, str) and sheet not in names:
            raise ReaderError(f"{path.name!r} has no sheet {sheet!r}; sheets: {quote_list(names)}.")
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise ReaderError(
                f"{path.name!r} has {len(names)} sheet(s); sheet={sheet} is out of range."
            )
        frame = book.parse(sheet, skiprows=skiprows, header=header, dtype=object)
    frame = frame.dropna(axis=1, how="all") if len(frame) else frame
    sheet_name = sheet if isinstance(sheet, str) else names[sheet]
    return _finish(frame, path, "excel", {"sheet": sheet_name, "skiprows": skiprows})


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
