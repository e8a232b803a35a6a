"""Normalise time values (years, quarters, months, days) to regular pandas periods.

The panel's time column is stored as a pandas ``Period`` column with one
frequency for the whole panel: ``"Y"`` (years), ``"Q"`` (quarters), ``"M"``
(months), ``"W"`` (weeks) or ``"D"`` (days). Lags, leads, gaps and aggregation
all work on these periods, so a lag across a missing year is missing rather than
the previous row.

Accepted inputs
---------------
* integers (or integral floats) between 1000 and 2999: years;
* six-digit integers ``YYYYMM``: months;
* strings ``"1990"``; ``"2017/01"``, ``"2017-01"``, ``"2017M01"`` (PC-Axis);
  ``"2017Q1"``, ``"2017-Q1"``, ``"Q1 2017"``; ISO dates ``"2017-01-31"``;
* ``datetime64`` values (frequency inferred: all 1 January -> years, all on the
  first of a month -> months, otherwise days) and pandas periods.

Anything else raises :class:`~causalpolicing.exceptions.TimeParseError` naming
the rows and values; pass ``time_format`` (a ``strptime`` format) for other date
layouts, and ``freq`` to choose the frequency yourself.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import TimeParseError
from ._messages import describe_rows

__all__ = ["FREQUENCIES", "parse_time", "normalise_freq"]

Freq = Literal["Y", "Q", "M", "W", "D"]
FREQUENCIES: dict[str, str] = {
    "Y": "years",
    "Q": "quarters",
    "M": "months",
    "W": "weeks",
    "D": "days",
}
_ALIASES = {
    "Y": "Y", "A": "Y", "YEAR": "Y", "YEARS": "Y", "ANNUAL": "Y", "YE": "Y", "YS": "Y",
    "Q": "Q", "QUARTER": "Q", "QUARTERS": "Q", "QE": "Q", "QS": "Q",
    "M": "M", "MONTH": "M", "MONTHS": "M", "MONTHLY": "M", "ME": "M", "MS": "M",
    "W": "W", "WEEK": "W", "WEEKS": "W", "WEEKLY": "W",
    "D": "D", "DAY": "D", "DAYS": "D", "DAILY": "D",
}

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("Y", re.compile(r"^(?P<y>\d{4})(?:\.0+)?$")),
    ("Q", re.compile(r"^(?P<y>\d{4})\s*[-/ ]?\s*[Qq](?P<q>[1-4])$")),
    ("Q", re.compile(r"^[Qq](?P<q>[1-4])\s*[-/ ]?\s*(?P<y>\d{4})$")),
    ("M", re.compile(r"^(?P<y>\d{4})\s*(?:[-/]|M|m)\s*(?P<m>\d{1,2})$")),
    ("D", re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]00:00(?::00)?)?$")),
]


def normalise_freq(freq: str) -> str:
    """Map a frequency name or pandas alias to one of ``Y, Q, M, W, D``.

    Examples
    --------
    >>> normalise_freq("annual"), normalise_freq("Y-DEC"), normalise_freq("MS")
    ('Y', 'Y', 'M')
    """
    key = str(freq).upper().split("-")[0]
    if key not in _ALIASES:
        raise TimeParseError(
            f"Unknown time frequency {freq!r}. Use one of "
            f"{', '.join(f'{k!r} ({v})' for k, v in FREQUENCIES.items())}."
        )
    return _ALIASES[key]


def _period_freq(freq: str) -> str:
    return {"Y": "Y", "Q": "Q", "M": "M", "W": "W", "D": "D"}[freq]


def _from_ordinals(freq: str, ordinals: np.ndarray) -> pd.Series:
    return pd.Series(pd.PeriodIndex.from_ordinals(np.asarray(ordinals, dtype=np.int64), freq=freq))


_RANK = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4}


def _convert(per: pd.Series, own: str, freq: str | None, column: str) -> tuple[pd.Series, str]:
    """Convert periods to a coarser frequency; refuse to invent finer ones."""
    if freq is None or freq == own:
        return per, own
    if _RANK[freq] < _RANK[own]:
        raise TimeParseError(
            f"Column {column!r} (time) holds {FREQUENCIES[own]}, but freq={freq!r} "
            f"({FREQUENCIES[freq]}) was asked for. Periods can be coarsened (months to "
            "years) but not refined; drop freq or supply finer time values."
        )
    return per.dt.asfreq(_period_freq(freq)), freq


def _fail(column: str, rows: np.ndarray, bad: np.ndarray, values: pd.Series, why: str) -> None:
    idx = np.flatnonzero(bad)
    raise TimeParseError(
        f"Column {column!r} (time): {why} at {describe_rows(rows[idx], list(values.iloc[idx]))}. "
        "Accepted: years (1990), months ('2017-01', '2017/01', '2017M01'), quarters "
        "('2017Q1'), ISO dates ('2017-01-31') or datetime values. Fix the values, or pass "
        "time_format='%d.%m.%Y' (a strptime format) for other layouts."
    )


def _from_datetimes(dt: pd.Series, freq: str | None) -> tuple[pd.Series, str]:
    if freq is None:
        if ((dt.dt.month == 1) & (dt.dt.day == 1)).all():
            freq = "Y"
        elif (dt.dt.day == 1).all():
            freq = "M"
        else:
            freq = "D"
    return dt.dt.to_period(_period_freq(freq)).reset_index(drop=True), freq


def parse_time(
    values: pd.Series,
    *,
    column: str,
    rows: np.ndarray | None = None,
    freq: str | None = None,
    time_format: str | None = None,
) -> tuple[pd.Series, str]:
    """Parse time values into a Period series with one frequency.

    Parameters
    ----------
    values
        Time values without missing entries (missing keys are checked before).
    column
        Column name, used in error messages.
    rows
        Source row numbers of ``values``, used in error messages.
    freq
        Force a frequency (``"Y"``, ``"Q"``, ``"M"``, ``"W"``, ``"D"`` or a
        pandas alias). By default it is inferred from the values.
    time_format
        A ``strptime`` format for date strings in other layouts, e.g. ``"%d.%m.%Y"``.

    Returns
    -------
    periods, freq
        A ``period`` dtype Series aligned with ``values`` and its frequency code.

    Examples
    --------
    >>> import pandas as pd
    >>> p, f = parse_time(pd.Series(["2017/01", "2017/02"]), column="month")
    >>> f, [str(x) for x in p]
    ('M', ['2017-01', '2017-02'])
    >>> parse_time(pd.Series([1990, 1991]), column="year")[1]
    'Y'
    """
    if rows is None:
        rows = np.arange(1, len(values) + 1)
    rows = np.asarray(rows)
    if freq is not None:
        freq = normalise_freq(freq)
    values = values.reset_index(drop=True)
    dtype = values.dtype

    if isinstance(dtype, pd.PeriodDtype):
        return _convert(values, normalise_freq(dtype.freqstr), freq, column)

    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _from_datetimes(values, freq)

    if time_format is not None:
        parsed = pd.to_datetime(values.astype(str).str.strip(), format=time_format, errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            _fail(column, rows, bad, values, f"values do not match time_format={time_format!r}")
        return _from_datetimes(parsed, freq)

    if pd.api.types.is_bool_dtype(dtype):
        _fail(column, rows, np.ones(len(values), bool), values, "boolean values are not times")

    if pd.api.types.is_numeric_dtype(dtype):
        arr = values.to_numpy(dtype=float)
        integral = np.isfinite(arr) & (np.floor(arr) == arr)
        if not integral.all():
            _fail(column, rows, ~integral, values, "non-integer numbers cannot be periods")
        ints = arr.astype(np.int64)
        if ((ints >= 1000) & (ints <= 2999)).all():
            return _convert(_from_ordinals("Y", ints - 1970), "Y",
                            freq, column)
        months = ints % 100
        if ((ints >= 100001) & (ints <= 299912) & (months >= 1) & (months <= 12)).all():
            per = _from_ordinals("M", (ints // 100 - 1970) * 12 + months - 1)
            return _convert(per, "M", freq, column)
        bad = ~((ints >= 1000) & (ints <= 2999))
        _fail(column, rows, bad, values,
              "numbers are read as years (1000-2999) or YYYYMM months; these are neither")

    # strings (object or string dtype)
    text = values.astype(str).str.strip()
    kinds = np.full(len(text), "", dtype=object)
    parts: dict[str, pd.DataFrame] = {}
    for kind, pattern in _PATTERNS:
        extracted = text.str.extract(pattern)
        hit = extracted.notna().all(axis=1).to_numpy() & (kinds == "")
        if hit.any():
            kinds[hit] = kind
            prev = parts.get(kind)
            sub = extracted.loc[hit]
            parts[kind] = sub if prev is None else pd.concat([prev, sub])
    unmatched = kinds == ""
    if unmatched.any():
        # last resort: ISO-8601 timestamps with a time part
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if parsed.notna().all():
            return _from_datetimes(parsed, freq)
        _fail(column, rows, unmatched, values, "values are not recognisable dates or periods")
    found = sorted(set(kinds))
    if len(found) > 1:
        first = {k: int(np.flatnonzero(kinds == k)[0]) for k in found}
        examples = ", ".join(
            f"{FREQUENCIES[k]} like {values.iloc[i]!r} (row {rows[i]})" for k, i in first.items()
        )
        raise TimeParseError(
            f"Column {column!r} (time) mixes period types: {examples}. A panel needs one "
            "frequency; make the values consistent (e.g. all '2017-01' months)."
        )
    kind = found[0]
    p = parts[kind].sort_index()
    y = p["y"].astype(int).to_numpy()
    if kind == "Y":
        per = _from_ordinals("Y", y - 1970)
    elif kind == "Q":
        per = _from_ordinals("Q", (y - 1970) * 4 + p["q"].astype(int).to_numpy() - 1)
    elif kind == "M":
        m = p["m"].astype(int).to_numpy()
        bad = (m < 1) | (m > 12)
        if bad.any():
            _fail(column, rows, bad, values, "month numbers must be 1-12")
        per = _from_ordinals("M", (y - 1970) * 12 + m - 1)
    else:
        m = p["m"].astype(int).to_numpy()
        d = p["d"].astype(int).to_numpy()
        dt = pd.to_datetime(
            pd.DataFrame({"year": y, "month": m, "day": d}), errors="coerce"
        )
        bad = dt.isna().to_numpy()
        if bad.any():
            _fail(column, rows, bad, values, "these are not valid calendar dates")
        return _from_datetimes(dt, freq)
    return _convert(per, kind, freq, column)
