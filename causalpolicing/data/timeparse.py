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
* strings ``"1990"``; ``"2017/01"``, ``"2017-01"``, ``"2017M01"`` (PC-Axis),
  ``"201701"``;
  ``"2017Q1"``, ``"2017-Q1"``, ``"Q1 2017"``; ISO dates ``"2017-01-31"``;
* ``datetime64`` values (frequency inferred: all 1 January -> years, all on the
  first of a month -> months, otherwise days) and pandas periods.

Anything else raises :class:`~causalpolicing.exceptions.TimeParseError` naming
the rows and values; pass ``time_format`` (a ``strptime`` format) for other date
layouts, and ``freq`` to choose the frequency yourself.
"""

from __future__ import annotations

import re
from typing import Literal, NoReturn

import numpy as np
import pandas as pd

from ..exceptions import TimeParseError
from ._messages import describe_rows, time_format_hint

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
    ("M", re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$")),
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


def _fail(
    column: str, rows: np.ndarray, bad: np.ndarray, values: pd.Series, why: str
) -> NoReturn:
    idx = np.flatnonzero(bad)
    raise TimeParseError(
        f"Column {column!r} (time): {why}: {describe_rows(rows[idx], list(values.iloc[idx]))}. "
        "Accepted: years (1990), months ('2017-01', '2017/01', '2017M01', 201701), quarters "
        "('2017Q1', 'Q1 2017'), ISO dates ('2017-01-31') or datetime values. Fix the values, "
        f"or for other layouts {time_format_hint(_guess_format(values.iloc[idx]))} (a "
        "strptime format)."
    )


def _guess_format(values: pd.Series) -> str:
    """A strptime format matching the first value when it is a common date layout."""
    text = str(values.iloc[0]).strip() if len(values) else ""
    for pattern, fmt in (
        (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y"), (r"\d{1,2}/\d{1,2}/\d{4}", "%d/%m/%Y"),
        (r"\d{1,2}-\d{1,2}-\d{4}", "%d-%m-%Y"), (r"\d{4}\.\d{1,2}\.\d{1,2}", "%Y.%m.%d"),
        (r"\d{1,2} [A-Za-z]{3} \d{4}", "%d %b %Y"), (r"[A-Za-z]{3} \d{4}", "%b %Y"),
    ):
        if re.fullmatch(pattern, text):
            return fmt
    return "%d.%m.%Y"


def _from_datetimes(dt: pd.Series, freq: str | None) -> tuple[pd.Series, str]:
    dt = pd.Series(dt).reset_index(drop=True)
    if getattr(dt.dt, "tz", None) is not None:
        dt = dt.dt.tz_localize(None)  # periods carry no time zone; keep the local calendar
    if freq is None:
        if ((dt.dt.month == 1) & (dt.dt.day == 1)).all():
            freq = "Y"
        elif (dt.dt.day == 1).all():
            freq = "M"
        else:
            freq = "D"
    return dt.dt.to_period(_period_freq(freq)).reset_index(drop=True), freq


def _take(per: pd.Series, codes: np.ndarray) -> pd.Series:
    """Expand per-unique periods back to one per row."""
    return pd.Series(per.array.take(codes)).reset_index(drop=True)


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
        pandas alias). By default it is inferred from the values. Values can be
        coarsened (dates to months, months to years) but never refined.
    time_format
        A ``strptime`` format for date strings in other layouts, e.g. ``"%d.%m.%Y"``.

    Returns
    -------
    periods, freq
        A ``period`` dtype Series aligned with ``values`` (index ``0..n-1``)
        and its frequency code.

    Raises
    ------
    causalpolicing.exceptions.TimeParseError
        When values are not periods, mix period types (years and quarters),
        or ``freq`` asks for a finer frequency than the values hold.

    Notes
    -----
    Text values are parsed once per distinct value, so a million rows over a
    few hundred periods cost little more than the distinct values.

    Examples
    --------
    >>> import pandas as pd
    >>> p, f = parse_time(pd.Series(["2017/01", "2017/02"]), column="month")
    >>> f, [str(x) for x in p]
    ('M', ['2017-01', '2017-02'])
    >>> parse_time(pd.Series([1990, 1991]), column="year")[1]
    'Y'
    >>> p, f = parse_time(pd.Series(["Q1 2017", "2017-Q2"]), column="quarter", freq="Y")
    >>> f, [str(x) for x in p]
    ('Y', ['2017', '2017'])
    """
    if rows is None:
        rows = np.arange(1, len(values) + 1)
    rows = np.asarray(rows)
    if freq is not None:
        freq = normalise_freq(freq)
    values = values.reset_index(drop=True)
    dtype = values.dtype

    if isinstance(dtype, pd.PeriodDtype):
        return _convert(values, normalise_freq(dtype.freq.freqstr), freq, column)

    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _from_datetimes(values, freq)

    if pd.api.types.is_bool_dtype(dtype):
        _fail(column, rows, np.ones(len(values), bool), values, "True/False values are not times")

    if time_format is None and pd.api.types.is_numeric_dtype(dtype):
        return _parse_numbers(values, column, rows, freq)

    # text, categories or mixed objects: parse each distinct value once
    codes, uniques = pd.factorize(values)
    first = np.full(len(uniques), -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]  # first row of each distinct value
    uvalues = pd.Series(np.asarray(uniques, dtype=object))
    ucol = rows[first]

    def fail_unique(bad_u: np.ndarray, why: str) -> NoReturn:
        _fail(column, rows, bad_u[codes], values, why)

    text = uvalues.map(_as_text)
    if time_format is not None:
        parsed = pd.to_datetime(text, format=time_format, errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            fail_unique(bad, f"values do not match time_format={time_format!r} (command line: "
                             f"--time-format; spec [data]: time_format)")
        per, found = _from_datetimes(parsed, freq)
        return _take(per, codes), found

    kinds = np.full(len(text), "", dtype=object)
    parts: dict[str, pd.DataFrame] = {}
    for kind, pattern in _PATTERNS:
        todo = kinds == ""
        if not todo.any():
            break
        extracted = text[todo].str.extract(pattern)
        hit_sub = extracted.notna().all(axis=1).to_numpy()
        if hit_sub.any():
            hit_idx = np.flatnonzero(todo)[hit_sub]
            kinds[hit_idx] = kind
            sub = extracted.loc[hit_sub].set_axis(hit_idx)
            prev = parts.get(kind)
            parts[kind] = sub if prev is None else pd.concat([prev, sub])
    unmatched = kinds == ""
    if unmatched.any():
        # last resort: ISO-8601 timestamps with a time part
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if parsed.notna().all():
            per, found = _from_datetimes(parsed, freq)
            return _take(per, codes), found
        fail_unique(unmatched, "not recognisable dates or periods")
    found_kinds = sorted(set(kinds), key=lambda k: _RANK[k])
    if len(found_kinds) > 1:
        firsts = {k: int(np.flatnonzero(kinds == k)[0]) for k in found_kinds}
        examples = ", ".join(
            f"{FREQUENCIES[k]} like {uvalues.iloc[i]!r} (row {ucol[i]})" for k, i in firsts.items()
        )
        raise TimeParseError(
            f"Column {column!r} (time) mixes period types: {examples}. A panel needs one "
            "frequency; make the values consistent (e.g. all '2017-01' months), or aggregate "
            "the finer rows first."
        )
    kind = found_kinds[0]
    p = parts[kind].sort_index()
    y = p["y"].astype(int).to_numpy()
    if kind == "Y":
        ordinals = y - 1970
    elif kind == "Q":
        ordinals = (y - 1970) * 4 + p["q"].astype(int).to_numpy() - 1
    elif kind == "M":
        m = p["m"].astype(int).to_numpy()
        bad = (m < 1) | (m > 12)
        if bad.any():
            fail_unique(bad, "month numbers must be 1-12")
        ordinals = (y - 1970) * 12 + m - 1
    else:
        m = p["m"].astype(int).to_numpy()
        d = p["d"].astype(int).to_numpy()
        dt = pd.to_datetime(
            pd.DataFrame({"year": y, "month": m, "day": d}), errors="coerce"
        )
        bad = dt.isna().to_numpy()
        if bad.any():
            fail_unique(bad, "not valid calendar dates")
        per, found = _from_datetimes(dt, freq)
        return _take(per, codes), found
    per = _from_ordinals(kind, np.asarray(ordinals, dtype=np.int64)[codes])
    return _convert(per, kind, freq, column)


def _as_text(value: object) -> str:
    """One distinct time value as text (integral floats lose their ``.0``)."""
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_numbers(
    values: pd.Series, column: str, rows: np.ndarray, freq: str | None
) -> tuple[pd.Series, str]:
    """Years (1000-2999) or YYYYMM months given as numbers."""
    arr = values.to_numpy(dtype=float)
    integral = np.isfinite(arr) & (np.floor(arr) == arr)
    if not integral.all():
        _fail(column, rows, ~integral, values, "non-integer numbers cannot be periods")
    ints = arr.astype(np.int64)
    is_year = (ints >= 1000) & (ints <= 2999)
    if is_year.all():
        return _convert(_from_ordinals("Y", ints - 1970), "Y", freq, column)
    months = ints % 100
    is_month = (ints >= 100001) & (ints <= 299912) & (months >= 1) & (months <= 12)
    if is_month.all():
        per = _from_ordinals("M", (ints // 100 - 1970) * 12 + months - 1)
        return _convert(per, "M", freq, column)
    if is_year.any() and is_month.any():
        _fail(column, rows, ~is_year, values,
              "numbers mix years (e.g. 2017) and YYYYMM months (e.g. 201701); these are not years")
    bad = ~is_month if is_month.any() else ~is_year
    _fail(column, rows, bad, values,
          "numbers must be years (1000-2999) or YYYYMM months (e.g. 201701); these are neither")
