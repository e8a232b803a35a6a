"""The reader registry: what a reader returns, how readers register and how one is chosen.

Split out of :mod:`causalpolicing.data.readers` (which defines the built-in
readers and re-exports these names): :class:`ReadResult`, :class:`Reader`,
:func:`register_reader`, :func:`available_readers`, :func:`get_reader`,
:func:`read_table` and the check that a plug-in reader accounts for every row.
"""

from __future__ import annotations

import gzip
import importlib
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import EmptySourceError, ReaderError, UnsupportedFormatError
from ._messages import format_hint, quote_list

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
        if ext.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                head = fh.read(65536)
        else:
            with open(path, "rb") as fh:
                head = fh.read(65536)
    except (OSError, EOFError, zlib.error):  # unreadable head: fall back to the extension
        head = b""
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
        f"{', '.join(known)}. To choose a reader yourself ({quote_list(sorted(_READERS))}), "
        f"{format_hint('csv')}; or load the file with pandas and pass the DataFrame."
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
    return _checked(reader.func(path, **options), reader.name)


def _checked(result: Any, name: str) -> ReadResult:
    """A plug-in reader's result must account for every source row."""
    if not isinstance(result, ReadResult):
        raise ReaderError(
            f"Reader {name!r} returned {type(result).__name__}, not a ReadResult; fix the "
            "reader function."
        )
    n_frame, n_rows, n_drops = len(result.frame), len(result.source_rows), len(result.drops)
    if n_rows != n_frame or result.n_source_rows != n_frame + n_drops:
        raise ReaderError(
            f"Reader {name!r} lost track of rows: {n_frame} rows in the frame, "
            f"{n_rows} source row numbers, {n_drops} dropped, n_source_rows="
            f"{result.n_source_rows}. A reader must give one source row number per frame row "
            "and n_source_rows == rows kept + rows dropped; fix the reader function."
        )
    names = pd.Index([str(c) for c in result.frame.columns])
    if names.duplicated().any():
        raise ReaderError(
            f"Reader {name!r} produced duplicate column names: "
            f"{quote_list(names[names.duplicated()].unique())}. Rename them in the source so "
            "that every column has its own name."
        )
    if list(result.drops.columns) != DROP_LOG_COLUMNS:
        raise ReaderError(
            f"Reader {name!r} returned a drop log with columns "
            f"{quote_list(result.drops.columns)}; expected {quote_list(DROP_LOG_COLUMNS)}."
        )
    return result
