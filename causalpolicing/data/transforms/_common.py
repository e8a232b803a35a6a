"""Helpers shared by the transforms: argument checks, messages and new columns."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._hints import did_you_mean
from ...exceptions import ColumnNotFoundError, NonNumericError, TimeParseError, TransformError
from .._messages import quote_list
from .._records import Roles, TransformRecord
from ..timeparse import _RANK, FREQUENCIES, parse_time

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel


def _frame(panel: Panel) -> pd.DataFrame:
    # The panel's own frame, read-only here: every transform builds a new frame.
    return panel._frame


def _check_panel(panel: Any, what: str) -> None:
    # Duck-typed: a Panel is what carries Roles (this package does not import the
    # Panel class, which itself calls the transforms).
    if not isinstance(getattr(panel, "roles", None), Roles):
        raise TransformError(
            f"{what}() needs a causalpolicing Panel as its first argument; got "
            f"{type(panel).__name__}. Build one with causalpolicing.load_panel(...)."
        )


def _check_column(panel: Panel, column: Any, param: str) -> str:
    if not isinstance(column, str):
        raise TransformError(f"{param} must be a column name (str); got {column!r}.")
    if column not in panel.columns:
        raise ColumnNotFoundError(
            f"{param}={column!r} is not a column of the panel"
            f"{did_you_mean(column, panel.columns, n=3)}. "
            f"Columns: {quote_list(panel.columns, 30)}."
        )
    if column in (panel.unit, panel.time):
        key = "unit" if column == panel.unit else "time"
        raise TransformError(
            f"{param}={column!r} is the panel's {key} key; transforms apply to value columns."
        )
    return column


def _numeric(panel: Panel, column: Any, param: str, what: str) -> np.ndarray:
    """A numeric column as a float array (NaN for missing), or a clear error."""
    _check_column(panel, column, param)
    s = _frame(panel)[column]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(s):
        example = s.dropna().iloc[0] if s.notna().any() else None
        raise NonNumericError(
            f"{what} needs a numeric {param}, but column {column!r} holds {s.dtype} values "
            f"(e.g. {example!r}). Declare it in a numeric role when loading (e.g. "
            f"covariates=[{column!r}]) so that load_panel parses and checks it."
        )
    x = s.to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(x)
    if inf.any():
        raise TransformError(
            f"{what}: column {column!r} is infinite in {_where(panel, inf, x)}. Fix those "
            "values (or set them missing) before transforming."
        )
    return x


def _where(panel: Panel, mask: np.ndarray, values: np.ndarray | None = None,
           *, limit: int = 8) -> str:
    """``ZH 2001 (source row 3, value 0.0), ...`` for the rows in ``mask``."""
    idx = np.flatnonzero(mask)
    f = _frame(panel)
    units = f[panel.unit].to_numpy()[idx[:limit]]
    times = f[panel.time].iloc[idx[:limit]].astype(str).to_numpy()
    rows = panel._source_rows[idx[:limit]]
    parts = []
    for j, i in enumerate(idx[:limit]):
        extra = "" if values is None else f", value {_scalar(values[i])!r}"
        parts.append(f"{units[j]} {times[j]} (source row {rows[j]}{extra})")
    text = ", ".join(parts)
    if len(idx) > limit:
        text += f" and {len(idx) - limit} more"
    word = "row" if len(idx) == 1 else "rows"
    return f"{len(idx)} {word}: {text}"


def _scalar(value: Any) -> Any:
    """A numpy scalar as the plain Python value (so messages read ``-5.0``)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_names(panel: Panel, names: Iterable[str], hint: str = "pass name= to choose another") -> None:
    names = list(names)
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise TransformError(f"New column names must be non-empty strings; got {n!r}.")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise TransformError(f"The transform would create column(s) {quote_list(dup)} twice.")
    clash = [n for n in names if n in panel.columns]
    if clash:
        raise TransformError(
            f"Column(s) {quote_list(clash)} already exist in the panel; a transform never "
            f"overwrites a column: {hint} (e.g. {clash[0] + '_2'!r})."
        )


def _number_label(x: float) -> str:
    """A number for use in column names: ``1000 -> '1000'``, ``0.5 -> '0p5'``."""
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x)).replace("-", "m").replace(".", "p")


def _positive_number(value: Any, param: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TransformError(f"{what}: {param} must be a positive number; got {value!r}.")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise TransformError(f"{what}: {param} must be a positive finite number; got {value!r}.")
    return v


def _positive_int(value: Any, param: str, what: str, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise TransformError(
            f"{what}: {param} must be a positive whole number (1, 2, ...); got {value!r}.{hint}"
        )
    return int(value)


def _add_columns(panel: Panel, columns: Mapping[str, Any], name: str,
                 params: Mapping[str, Any]) -> Panel:
    frame = _frame(panel).copy(deep=False)
    for col, values in columns.items():
        frame[col] = values
    return panel._derive(frame, TransformRecord(name, dict(params), tuple(columns)))


def _parse_period(value: Any, panel: Panel, param: str, what: str) -> tuple[int, int]:
    """First and last ordinal (in the panel's frequency) of a period label like 2010 or '2010-01'."""
    try:
        per, freq = parse_time(pd.Series([value]), column=param)
    except (TimeParseError, TypeError, ValueError) as exc:
        raise TransformError(
            f"{what}: {param}={value!r} is not a period; give e.g. 2010, '2010Q1' or '2010-01' "
            f"(the panel has {FREQUENCIES[panel.freq]})."
        ) from exc
    if _RANK[freq] < _RANK[panel.freq]:
        raise TransformError(
            f"{what}: {param}={value!r} is finer ({FREQUENCIES[freq]}) than the panel's "
            f"{FREQUENCIES[panel.freq]}; give a period of the panel's frequency or coarser."
        )
    pi = pd.PeriodIndex(per)
    start = int(pi.asfreq(panel.freq, how="start").asi8[0])
    end = int(pi.asfreq(panel.freq, how="end").asi8[0])
    return start, end
