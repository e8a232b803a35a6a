"""The source of a panel: reading it, naming it in messages and fingerprinting it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import EmptySourceError, PanelError
from ._messages import quote_list
from .readers import ReadResult, read_table


def _name(source: Any) -> str:
    if isinstance(source, pd.DataFrame):
        return "<DataFrame>"
    return repr(Path(source).name)


def _read(source: Any, format: str | None, options: Mapping[str, Any] | None) -> ReadResult:
    if isinstance(source, pd.DataFrame):
        if format is not None or options:
            raise PanelError(
                "format= and read_options= apply to files, not DataFrames: drop them when "
                "passing a DataFrame (parse numbers in pandas first), or pass the file's path."
            )
        if source.columns.duplicated().any():
            dup = source.columns[source.columns.duplicated()].unique()
            raise PanelError(
                f"The DataFrame has duplicate column names: {quote_list(dup)}. Rename them so "
                "that every column has its own name."
            )
        frame = source.reset_index(drop=True).copy()
        if len(frame) == 0:
            raise EmptySourceError(
                f"The DataFrame has columns ({quote_list(frame.columns)}) but no rows."
            )
        frame.columns = [str(c) for c in frame.columns]
        if frame.columns.duplicated().any():
            dup = frame.columns[frame.columns.duplicated()].unique()
            raise PanelError(
                f"The DataFrame's column names clash once written as text: {quote_list(dup)} "
                "(e.g. 1 and '1'). Rename them so that every column has its own name."
            )
        return ReadResult(frame, np.arange(1, len(frame) + 1), len(frame), "dataframe")
    if isinstance(source, str | Path):
        return read_table(source, format=format, **dict(options or {}))
    raise PanelError(
        f"source must be a file path or a pandas DataFrame; got {type(source).__name__}."
    )


def _sha256(source: Any) -> str:
    h = hashlib.sha256()
    if isinstance(source, pd.DataFrame):
        h.update(pd.util.hash_pandas_object(source, index=False).to_numpy().tobytes())
        h.update("\x1f".join(map(str, source.columns)).encode())
    else:
        with open(source, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
