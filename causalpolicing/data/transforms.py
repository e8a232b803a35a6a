"""Panel transforms: each takes a :class:`~causalpolicing.data.panel.Panel` and returns a new one.

Every function here leaves its input untouched and returns a new Panel whose
``history`` ends with a :class:`~causalpolicing.data.panel.TransformRecord`
(the transform's name, its parameters as resolved, and the columns it
created). The same transforms are available as Panel methods with the same
names and arguments (``panel.rate("deaths")`` is ``rate(panel, "deaths")``).

==========================  ====================================================  ========================
transform                   what it computes                                      default column name
==========================  ====================================================  ========================
:func:`rate`                ``column / exposure * per``                           ``deaths_per_100k``
:func:`per_capita`          ``column / population * per``                         ``offences_per_capita``
:func:`log`                 ``log(x)``, ``log(1 + x)`` or ``log(x + c)``          ``log_deaths``
:func:`lag`                 ``x`` one (or ``k``) periods earlier, within unit     ``offences_lag1``
:func:`lead`                ``x`` ``k`` periods later, within unit                ``offences_lead1``
:func:`lags`                several lags at once                                  ``offences_lag1``, ...
:func:`diff`                ``x_t - x_{t-k}``                                     ``offences_diff1``
:func:`neighbour_mean`      mean of ``x`` over the unit's neighbours              ``offences_nb_mean``
:func:`neighbour_sum`       sum of ``x`` over the unit's neighbours               ``offences_nb_sum``
:func:`aggregate`           months -> years (etc.) with a stated rule per column  (same columns)
:func:`deflate`             ``price * index_at_base / index``                     ``price_real``
:func:`pure_price`          ``price / purity``                                    ``price_pure``
:func:`harmonic`            ``sin``/``cos`` of ``2 pi k t / period``              ``sin14_1``, ``cos14_1``
==========================  ====================================================  ========================

Rules shared by all transforms
------------------------------
* A new column may not replace an existing one: pass ``name=`` to choose
  another name.
* Lags, leads, differences and neighbour values work on periods, not rows: a
  lag across a missing period is missing, never the previous row.
* Missing inputs give missing outputs; the rows stay in the panel and the
  estimators drop and report them.
* Nothing is silently repaired: ``log`` of zero raises unless you choose a
  policy, a zero exposure or purity raises and names the rows.

Examples
--------
>>> import warnings
>>> import pandas as pd
>>> import causalpolicing as cp
>>> from causalpolicing.exceptions import FewUnitsWarning
>>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 3, "year": [2000, 2001, 2002] * 2,
...                    "deaths": [10, 12, 9, 5, 7, 6], "offences": [3.0, 3.5, 3.2, 2.0, 2.4, 2.2],
...                    "population": [1e6, 1e6, 1e6, 5e5, 5e5, 5e5]})
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FewUnitsWarning)
...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
...                           treatment="offences", exposure="population")
>>> new = panel.rate("deaths").lag("offences")
>>> new.to_frame()[["canton", "year", "deaths_per_100k", "offences_lag1"]]
  canton  year  deaths_per_100k  offences_lag1
0     BE  2000              1.0            NaN
1     BE  2001              1.4            2.0
2     BE  2002              1.2            2.4
3     ZH  2000              1.0            NaN
4     ZH  2001              1.2            3.0
5     ZH  2002              0.9            3.5
>>> [str(r) for r in new.history]
["rate(column='deaths', per=100000, exposure='population', name='deaths_per_100k') -> deaths_per_100k", "lag(column='offences', k=1, name='offences_lag1') -> offences_lag1"]
>>> "deaths_per_100k" in panel.columns    # the input panel is unchanged
False
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import ColumnNotFoundError, NonNumericError, TimeParseError, TransformError
from ._messages import close_matches, quote_list
from .panel import Panel, TransformRecord
from .readers import DROP_LOG_COLUMNS
from .timeparse import FREQUENCIES, normalise_freq, parse_time

__all__ = [
    "rate",
    "per_capita",
    "log",
    "lag",
    "lead",
    "lags",
    "diff",
    "neighbour_mean",
    "neighbour_sum",
    "aggregate",
    "AGGREGATION_RULES",
    "deflate",
    "pure_price",
    "harmonic",
]

ZeroPolicy = Literal["error", "log1p", "missing"]
MissingPolicy = Literal["propagate", "available"]
IncompletePolicy = Literal["error", "drop", "keep"]

#: Aggregation rules accepted by :func:`aggregate` (plus ``("weighted_mean", weight_column)``).
AGGREGATION_RULES: tuple[str, ...] = ("sum", "mean", "first", "last", "min", "max")
_RANK = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4}
# Row lookups by (unit, period) use a dense unit x period table when it has at most
# max(_DENSE_ROWS_FACTOR * rows, _DENSE_MIN_CELLS) cells, a sorted key otherwise.
_DENSE_ROWS_FACTOR = 4
_DENSE_MIN_CELLS = 1 << 20


# ============================================================================ helpers
def _frame(panel: Panel) -> pd.DataFrame:
    # The panel's own frame, read-only here: every transform builds a new frame.
    return panel._frame


def _check_panel(panel: Any, what: str) -> None:
    if not isinstance(panel, Panel):
        raise TransformError(
            f"{what}() needs a causalpolicing Panel as its first argument; got "
            f"{type(panel).__name__}. Build one with causalpolicing.load_panel(...)."
        )


def _check_column(panel: Panel, column: Any, param: str) -> str:
    if not isinstance(column, str):
        raise TransformError(f"{param} must be a column name (str); got {column!r}.")
    if column not in panel.columns:
        hint = close_matches(column, panel.columns)
        raise ColumnNotFoundError(
            f"{param}={column!r} is not a column of the panel"
            + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else ".")
            + f" Columns: {quote_list(panel.columns, 30)}."
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


def _keys(panel: Panel) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Unit codes (sorted units), the units, and period ordinals of each row."""
    f = _frame(panel)
    codes, uniques = pd.factorize(f[panel.unit], sort=True)
    return codes.astype(np.int64), pd.Index(uniques), f[panel.time].array.asi8.astype(np.int64)


def _locate(codes: np.ndarray, ords: np.ndarray, want_codes: np.ndarray,
            want_ords: np.ndarray) -> np.ndarray:
    """Row position of each wanted (unit code, period ordinal) pair; -1 where absent.

    Vectorised: a dense unit x period table of row positions when it is small
    (a few times the number of rows), otherwise one integer key per row, a sort
    and a binary search.
    """
    lo = int(ords.min())
    span = int(ords.max()) - lo + 1
    n_units = int(codes.max()) + 1
    rel = want_ords - lo
    ok = (want_codes >= 0) & (rel >= 0) & (rel < span)
    out = np.full(len(want_codes), -1, dtype=np.int64)
    if n_units * span <= max(_DENSE_ROWS_FACTOR * len(codes), _DENSE_MIN_CELLS):
        dtype = np.int32 if len(codes) < np.iinfo(np.int32).max else np.int64
        table = np.full((n_units, span), -1, dtype=dtype)
        table[codes, ords - lo] = np.arange(len(codes), dtype=dtype)
        out[ok] = table[want_codes[ok], rel[ok]]
        return out
    key = codes * span + (ords - lo)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    want = want_codes[ok] * span + rel[ok]
    pos = np.minimum(np.searchsorted(sorted_key, want), len(sorted_key) - 1)
    hit = sorted_key[pos] == want
    out[np.flatnonzero(ok)[hit]] = order[pos[hit]]
    return out


def _shift(panel: Panel, x: np.ndarray, k: int) -> np.ndarray:
    """``x`` at period ``t - k`` of the same unit (``k < 0``: a lead); NaN if absent."""
    codes, _, ords = _keys(panel)
    pos = _locate(codes, ords, codes, ords - k)
    return np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan)


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


# ============================================================================ ratios
def _ratio(panel: Panel, column: str, per: Any, denominator: str | None, *, transform: str,
           denominator_param: str, name: str | None) -> Panel:
    what = f"{transform}()"
    _check_panel(panel, transform)
    per_value = _positive_number(per, "per", what)
    if denominator is None:
        denominator = panel.exposure
        if denominator is None:
            raise TransformError(
                f"{what} divides by the panel's exposure, but the panel has none. Pass "
                f"{denominator_param}='population' (a column name), or declare exposure= in "
                "load_panel (or panel.with_roles(exposure=...))."
            )
    x = _numeric(panel, column, "column", what)
    d = _numeric(panel, denominator, denominator_param, what)
    neg = d < 0
    if neg.any():
        raise TransformError(
            f"{what}: {denominator_param} {denominator!r} is negative in {_where(panel, neg, d)}; "
            "a population cannot be negative. Fix the values."
        )
    zero = d == 0
    if zero.any():
        raise TransformError(
            f"{what}: {denominator_param} {denominator!r} is 0 in {_where(panel, zero, d)}, so "
            f"{column!r} per head is undefined there. Set those values missing or choose "
            "another denominator."
        )
    new = name if name is not None else f"{column}_per_{_per_label(per_value)}"
    _check_names(panel, [new])
    params = {"column": column, "per": per, denominator_param: denominator, "name": new}
    return _add_columns(panel, {new: x / d * per_value}, transform, params)


def _per_label(per: float) -> str:
    if per == 1:
        return "capita"
    if per.is_integer() and per >= 1e6 and per % 1e6 == 0:
        return f"{int(per // 1e6)}m"
    if per.is_integer() and per >= 1e4 and per % 1e3 == 0:
        return f"{int(per // 1e3)}k"
    return _number_label(per)


def rate(panel: Panel, column: str, per: float = 100_000, exposure: str | None = None,
         name: str | None = None) -> Panel:
    """Events per ``per`` people at risk: ``column / exposure * per``.

    Parameters
    ----------
    panel
        The panel.
    column
        The count (e.g. ``"deaths"``).
    per
        Scale: 100,000 gives deaths per 100,000 residents.
    exposure
        The population column; by default the panel's exposure role.
    name
        Name of the new column. Default ``{column}_per_{per}``, where ``per``
        is written ``capita`` for 1, ``{n}k`` for whole thousands from 10,000
        (``100k``), ``{n}m`` for whole millions (``1m``) and the number itself
        otherwise (``1000``, ``0p5`` for 0.5).

    Returns
    -------
    Panel
        A new panel with the rate column. To analyse the rate as an outcome,
        declare it: ``new.with_roles(outcome={"deaths_per_100k": "rate"})``
        (for counts a Poisson model with the exposure is usually better).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the panel has no exposure and none is given, or the exposure is zero
        or negative in some rows (they are named). Missing values give missing
        rates.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [10, 12, 5, 7], "offences": [3.1, 3.5, 2.0, 2.4],
    ...                    "population": [1e6, 1.2e6, 5e5, 5e5]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences", exposure="population")
    >>> rate(panel, "deaths").column("deaths_per_100k").tolist()
    [1.0, 1.4, 1.0, 1.0]
    >>> rated = rate(panel, "deaths", per=1000, name="mortality")
    >>> rated.with_roles(outcome={"mortality": "rate"}).outcome_kinds["mortality"]
    'rate'
    """
    return _ratio(panel, column, per, exposure, transform="rate", denominator_param="exposure",
                  name=name)


def per_capita(panel: Panel, column: str, per: float = 1, population: str | None = None,
               name: str | None = None) -> Panel:
    """A treatment or covariate per head: ``column / population * per``.

    The same arithmetic as :func:`rate`, meant for enforcement measures and
    controls (e.g. drug-law offences per 1,000 residents).

    Parameters
    ----------
    panel
        The panel.
    column
        The numerator (e.g. ``"offences"``).
    per
        Scale: 1 (default) per head, 1000 per 1,000 residents.
    population
        The population column; by default the panel's exposure role.
    name
        Name of the new column; default ``{column}_per_{per}`` as in :func:`rate`
        (``offences_per_capita``, ``offences_per_1000``).

    Returns
    -------
    Panel
        A new panel with the new column (give it a role with
        :meth:`~causalpolicing.data.panel.Panel.with_roles`).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        As :func:`rate`.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [10, 12, 5, 7], "offences": [300, 350, 200, 240],
    ...                    "residents": [1e5, 1e5, 5e4, 6e4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences", covariates=["residents"])
    >>> new = per_capita(panel, "offences", per=1000, population="residents")
    >>> new.column("offences_per_1000").tolist()
    [4.0, 4.0, 3.0, 3.5]
    >>> new.with_roles(treatment="offences_per_1000").treatment
    'offences_per_1000'
    """
    return _ratio(panel, column, per, population, transform="per_capita",
                  denominator_param="population", name=name)


# ============================================================================== logs
def log(panel: Panel, column: str, zero: ZeroPolicy = "error", offset: float | None = None,
        name: str | None = None) -> Panel:
    """Natural logarithm with an explicit policy for zeros.

    Parameters
    ----------
    panel
        The panel.
    column
        A non-negative column (negative values always raise).
    zero
        What to do with zeros:

        * ``"error"`` (default): raise, naming the rows with zeros;
        * ``"log1p"``: compute ``log(1 + x)`` for every row (new column
          ``log1p_{column}``);
        * ``"missing"``: ``log(x)``, with zeros becoming missing values in the
          new column. The rows stay in the panel; estimators using the column
          drop them and report them in their results.
    offset
        Compute ``log(x + offset)`` for every row instead (``offset > 0``; new
        column ``log_{column}_plus_{offset}``, e.g. ``log_deaths_plus_0p5``).
        Cannot be combined with a ``zero`` policy other than ``"error"``.
    name
        Name of the new column. Default ``log_{column}`` (``log1p_{column}``,
        ``log_{column}_plus_{offset}`` as above).

    Returns
    -------
    Panel
        A new panel with the new column. Missing values stay missing.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        On negative values, on zeros under ``zero="error"``, or on an unknown
        policy. Nothing is ever added to the values silently.

    Notes
    -----
    Logs of small counts are fragile (``log(0)`` is undefined and adding a
    constant changes the estimates); for counts prefer a Poisson model with an
    exposure over a log-rate regression.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [1, 0, 3, 7], "offences": [3.1, 3.5, 2.0, 2.4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> log(panel, "offences").column("log_offences").round(4).tolist()
    [0.6931, 0.8755, 1.1314, 1.2528]
    >>> log(panel, "deaths", zero="missing").column("log_deaths").round(4).tolist()
    [1.0986, 1.9459, 0.0, nan]
    >>> log(panel, "deaths", zero="log1p").column("log1p_deaths").round(4).tolist()
    [1.3863, 2.0794, 0.6931, 0.0]
    >>> log(panel, "deaths")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.TransformError: log(): column 'deaths' is 0 in 1 row: ZH 2001 (source row 2)...
    """
    _check_panel(panel, "log")
    policies = ("error", "log1p", "missing")
    if zero not in policies:
        raise TransformError(
            f"log(): unknown zero policy zero={zero!r}; use one of {quote_list(policies)}, or "
            "offset=c for log(x + c)."
        )
    x = _numeric(panel, column, "column", "log()")
    if offset is not None:
        if zero != "error":
            raise TransformError(
                f"log(): give either zero={zero!r} or offset={offset!r}, not both: offset=c "
                "already decides what happens to zeros (log(0 + c))."
            )
        c = _positive_number(offset, "offset", "log()")
    neg = x < 0
    if neg.any():
        raise TransformError(
            f"log(): column {column!r} is negative in {_where(panel, neg, x)}; the log of a "
            "negative number is undefined. Fix the values, or transform another column."
        )
    is_zero = x == 0
    if offset is not None:
        default = f"log_{column}_plus_{_number_label(c)}"
        values = np.log(x + c)
    elif zero == "log1p":
        default = f"log1p_{column}"
        values = np.log1p(x)
    else:
        if is_zero.any() and zero == "error":
            raise TransformError(
                f"log(): column {column!r} is 0 in {_where(panel, is_zero)}, and log(0) is "
                "undefined. Choose explicitly: zero='missing' (those rows get a missing value "
                "and are dropped by estimators), zero='log1p' (log(1 + x) for every row), "
                "offset=c (log(x + c)), or better, model the count with a Poisson model."
            )
        default = f"log_{column}"
        with np.errstate(divide="ignore"):
            values = np.where(is_zero, np.nan, np.log(np.where(is_zero, 1.0, x)))
    new = name if name is not None else default
    _check_names(panel, [new])
    params: dict[str, Any] = {"column": column, "zero": zero}
    if offset is not None:
        params["offset"] = offset
    params["name"] = new
    return _add_columns(panel, {new: values}, "log", params)


# ========================================================================= lags/leads
def lag(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The value ``k`` periods earlier in the same unit (missing across gaps).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        How many periods back (1, 2, ...). Periods are the panel's (years,
        months, ...), counted on the calendar, not by rows.
    name
        Name of the new column; default ``{column}_lag{k}`` (``offences_lag1``).

    Returns
    -------
    Panel
        A new panel with the lagged column. It is missing where period
        ``t - k`` is not in the panel for that unit (the first ``k`` periods,
        or after a gap), and where the earlier value is missing.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning, GapWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 2, "year": [2000, 2001, 2003, 2000, 2001],
    ...                    "deaths": [10, 12, 9, 5, 7], "offences": [3.0, 3.5, 3.2, 2.0, 2.4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     warnings.simplefilter("ignore", GapWarning)    # ZH has no 2002
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> lag(panel, "offences").to_frame()[["canton", "year", "offences", "offences_lag1"]]
      canton  year  offences  offences_lag1
    0     BE  2000       2.0            NaN
    1     BE  2001       2.4            2.0
    2     ZH  2000       3.0            NaN
    3     ZH  2001       3.5            3.0
    4     ZH  2003       3.2            NaN
    >>> lag(panel, "offences", k=2).column("offences_lag2").tolist()
    [nan, nan, nan, nan, 3.5]
    """
    _check_panel(panel, "lag")
    k = _positive_int(k, "k", "lag()", " For values from later periods use lead().")
    x = _numeric(panel, column, "column", "lag()")
    new = name if name is not None else f"{column}_lag{k}"
    _check_names(panel, [new])
    return _add_columns(panel, {new: _shift(panel, x, k)}, "lag",
                        {"column": column, "k": k, "name": new})


def lead(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The value ``k`` periods later in the same unit (missing across gaps).

    The mirror image of :func:`lag`: ``lead(lag(x, k), k) == x`` wherever both
    periods exist. Leads of a treatment are the standard check for
    anticipation and reverse causation (police responding to deaths).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        How many periods ahead (1, 2, ...).
    name
        Name of the new column; default ``{column}_lead{k}`` (``offences_lead2``).

    Returns
    -------
    Panel
        A new panel with the lead column; missing where period ``t + k`` is
        not in the panel for that unit.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 3, "year": [2000, 2001, 2002] * 2,
    ...                    "deaths": [10, 12, 9, 5, 7, 6], "offences": [3.0, 3.5, 3.2, 2.0, 2.4, 2.2]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> lead(panel, "offences").column("offences_lead1").tolist()
    [2.4, 2.2, nan, 3.5, 3.2, nan]
    """
    _check_panel(panel, "lead")
    k = _positive_int(k, "k", "lead()", " For values from earlier periods use lag().")
    x = _numeric(panel, column, "column", "lead()")
    new = name if name is not None else f"{column}_lead{k}"
    _check_names(panel, [new])
    return _add_columns(panel, {new: _shift(panel, x, -k)}, "lead",
                        {"column": column, "k": k, "name": new})


def lags(panel: Panel, column: str, ks: Iterable[int] = (1,)) -> Panel:
    """Several lags at once: columns ``{column}_lag{k}`` for each ``k`` in ``ks``.

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    ks
        Positive lag orders, e.g. ``range(1, 4)`` for lags 1, 2 and 3.

    Returns
    -------
    Panel
        A new panel with one column per lag (one history record, ``lags``).

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3, "year": [2000, 2001, 2002],
    ...                    "deaths": [10, 12, 9], "offences": [3.0, 3.5, 3.2]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> new = lags(panel, "offences", range(1, 3))
    >>> new.to_frame()[["offences_lag1", "offences_lag2"]].to_dict("list")
    {'offences_lag1': [nan, 3.0, 3.5], 'offences_lag2': [nan, nan, 3.0]}
    """
    _check_panel(panel, "lags")
    if isinstance(ks, int | np.integer):
        ks = [ks]
    try:
        orders = [_positive_int(k, "ks", "lags()") for k in ks]
    except TypeError:
        raise TransformError(f"lags(): ks must be lag orders such as range(1, 4); got {ks!r}.") from None
    if not orders:
        raise TransformError("lags(): ks is empty; give lag orders such as range(1, 4).")
    if len(set(orders)) != len(orders):
        raise TransformError(f"lags(): ks repeats a lag order: {orders}.")
    x = _numeric(panel, column, "column", "lags()")
    names = [f"{column}_lag{k}" for k in orders]
    _check_names(panel, names, hint="use lag(column, k, name=...) for the clashing lag")
    return _add_columns(panel, {n: _shift(panel, x, k) for n, k in zip(names, orders, strict=True)},
                        "lags", {"column": column, "ks": tuple(orders)})


def diff(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The change over ``k`` periods within unit: ``x_t - x_{t-k}``.

    Missing when period ``t - k`` is not in the panel for that unit (a
    difference never spans a gap silently).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        The difference's span in periods (1 = first difference).
    name
        Name of the new column; default ``{column}_diff{k}`` (``offences_diff1``).

    Returns
    -------
    Panel
        A new panel with the difference column.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning, GapWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 4, "year": [2000, 2001, 2002, 2004],
    ...                    "deaths": [10, 12, 9, 8], "offences": [3.0, 3.5, 3.25, 4.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     warnings.simplefilter("ignore", GapWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> diff(panel, "offences").column("offences_diff1").tolist()
    [nan, 0.5, -0.25, nan]
    >>> diff(panel, "offences", k=2).column("offences_diff2").tolist()
    [nan, nan, 0.25, 0.75]
    """
    _check_panel(panel, "diff")
    k = _positive_int(k, "k", "diff()")
    x = _numeric(panel, column, "column", "diff()")
    new = name if name is not None else f"{column}_diff{k}"
    _check_names(panel, [new])
    return _add_columns(panel, {new: x - _shift(panel, x, k)}, "diff",
                        {"column": column, "k": k, "name": new})


# ========================================================================= neighbours
def _neighbour(panel: Panel, column: str, name: str | None, missing: str, how: str) -> Panel:
    transform = f"neighbour_{how}"
    what = f"{transform}()"
    _check_panel(panel, transform)
    if missing not in ("propagate", "available"):
        raise TransformError(
            f"{what}: unknown missing policy missing={missing!r}; use 'propagate' (missing "
            "when any neighbour is missing; default) or 'available' (over the neighbours "
            "with a value)."
        )
    nb = panel.neighbours
    if nb is None:
        raise TransformError(
            f"{what} needs the units' neighbours, but the panel has no adjacency. Pass "
            "neighbours= to load_panel: a mapping unit -> list of neighbouring units, or an "
            "edge-list file with two columns (unit, neighbour)."
        )
    x = _numeric(panel, column, "column", what)
    new = name if name is not None else f"{column}_nb_{how}"
    count_name = f"{new}_n"
    _check_names(panel, [new, count_name] if missing == "available" else [new])

    codes, units, ords = _keys(panel)
    # the adjacency as an edge list of unit codes (-1: a neighbour with no rows in the panel)
    src = [u for u, vs in nb.items() for _ in vs]
    dst = [v for vs in nb.values() for v in vs]
    src_codes = units.get_indexer(pd.Index(src)) if src else np.empty(0, np.int64)
    dst_codes = units.get_indexer(pd.Index(dst)) if dst else np.empty(0, np.int64)
    in_panel = src_codes >= 0
    by_src = np.argsort(src_codes[in_panel], kind="stable")
    src_codes = src_codes[in_panel][by_src].astype(np.int64)
    dst_codes = dst_codes[in_panel][by_src].astype(np.int64)
    degree = np.bincount(src_codes, minlength=len(units)).astype(np.int64)[codes]
    sums, counts = _neighbour_totals(codes, ords, x, src_codes, dst_codes, len(units))
    ok = (counts == degree) & (degree > 0) if missing == "propagate" else counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        result = sums if how == "sum" else sums / counts
    columns: dict[str, Any] = {new: np.where(ok, result, np.nan)}
    if missing == "available":
        columns[count_name] = counts
    params = {"column": column, "missing": missing, "name": new}
    return _add_columns(panel, columns, transform, params)


def _neighbour_totals(codes: np.ndarray, ords: np.ndarray, x: np.ndarray, src: np.ndarray,
                      dst: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: sum of the neighbours' non-missing values and how many there are.

    ``src``/``dst`` are the adjacency's edges as unit codes, sorted by ``src``
    (``dst == -1``: a neighbour without rows in the panel). Dense path: the
    values pivoted to a unit x period table, summed over each unit's neighbours
    in blocks of edges (memory bounded by the table, not by rows x neighbours).
    Sparse path: one row lookup per row and neighbour.
    """
    n = len(codes)
    lo = int(ords.min())
    span = int(ords.max()) - lo + 1
    rel = ords - lo
    if n_units * span <= max(_DENSE_ROWS_FACTOR * n, _DENSE_MIN_CELLS):
        values = np.full((n_units + 1, span), np.nan)   # the extra last row: absent units
        values[codes, rel] = x
        have = ~np.isnan(values)
        values[~have] = 0.0
        dst = np.where(dst >= 0, dst, n_units)
        total = np.zeros((n_units, span))
        count = np.zeros((n_units, span), dtype=np.int64)
        block = max(1, _DENSE_MIN_CELLS // span)
        for b in range(0, len(src), block):
            s, d = src[b:b + block], dst[b:b + block]
            first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
            total[s[first]] += np.add.reduceat(values[d], first, axis=0)
            count[s[first]] += np.add.reduceat(have[d].astype(np.int64), first, axis=0)
        return total[codes, rel], count[codes, rel]
    degree_u = np.bincount(src, minlength=n_units).astype(np.int64)
    offset_u = np.cumsum(degree_u) - degree_u
    degree = degree_u[codes]
    owner = np.repeat(np.arange(n), degree)
    within = np.arange(int(degree.sum())) - np.repeat(np.cumsum(degree) - degree, degree)
    want_codes = dst[np.repeat(offset_u[codes], degree) + within]
    pos = _locate(codes, ords, want_codes, np.repeat(ords, degree))
    vals = np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan)
    present = ~np.isnan(vals)
    sums = np.bincount(owner, weights=np.where(present, vals, 0.0), minlength=n)
    counts = np.bincount(owner, weights=present.astype(float), minlength=n).astype(np.int64)
    return sums, counts


def neighbour_mean(panel: Panel, column: str, name: str | None = None,
                   missing: MissingPolicy = "propagate") -> Panel:
    """Spatial lag: the mean of ``column`` over each unit's neighbours in the same period.

    Parameters
    ----------
    panel
        A panel loaded with ``neighbours=`` (see :func:`causalpolicing.load_panel`).
    column
        A numeric column.
    name
        Name of the new column; default ``{column}_nb_mean``.
    missing
        When a neighbour has no value in a period (its value is missing, or it
        has no row for that period):

        * ``"propagate"`` (default): the result is missing;
        * ``"available"``: the mean over the neighbours that have a value
          (missing if none has). A second column ``{name}_n`` then holds the
          number of neighbours used in each row.

    Returns
    -------
    Panel
        A new panel with the neighbour mean. Units without neighbours get
        missing values.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the panel has no adjacency.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["A", "B", "C"] * 2, "year": [2000] * 3 + [2001] * 3,
    ...                    "deaths": [1, 2, 3, 4, 5, 6], "t": [0.0, 1, 0, 1, 0, 1],
    ...                    "x": [1.0, 2.0, 4.0, 1.0, None, 4.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="t",
    ...                           neighbours={"A": ["B", "C"], "B": ["A"], "C": ["A"]})
    >>> panel.to_frame()[["canton", "year", "x"]].to_dict("list")["x"]
    [1.0, 1.0, 2.0, nan, 4.0, 4.0]
    >>> neighbour_mean(panel, "x").column("x_nb_mean").tolist()
    [3.0, nan, 1.0, 1.0, 1.0, 1.0]
    >>> new = neighbour_mean(panel, "x", missing="available")
    >>> new.column("x_nb_mean").tolist(), new.column("x_nb_mean_n").tolist()
    ([3.0, 4.0, 1.0, 1.0, 1.0, 1.0], [2, 1, 1, 1, 1, 1])
    """
    return _neighbour(panel, column, name, missing, "mean")


def neighbour_sum(panel: Panel, column: str, name: str | None = None,
                  missing: MissingPolicy = "propagate") -> Panel:
    """Spatial lag: the sum of ``column`` over each unit's neighbours in the same period.

    Parameters
    ----------
    panel
        A panel loaded with ``neighbours=``.
    column
        A numeric column (e.g. seizures or arrests in neighbouring areas).
    name
        Name of the new column; default ``{column}_nb_sum``.
    missing
        ``"propagate"`` (default: missing when any neighbour is missing) or
        ``"available"`` (sum over the neighbours with a value, missing if none
        has; the count used goes to ``{name}_n``). See :func:`neighbour_mean`.

    Returns
    -------
    Panel
        A new panel with the neighbour sum; missing for units without neighbours.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import DataWarning
    >>> df = pd.DataFrame({"area": ["A", "B", "C"], "year": [2000] * 3,
    ...                    "deaths": [1, 2, 3], "seizures": [1.0, 2.0, 4.0]})
    >>> with warnings.catch_warnings():   # few units, one year, C without neighbours
    ...     warnings.simplefilter("ignore", DataWarning)
    ...     panel = cp.load_panel(df, unit="area", time="year", outcome="deaths",
    ...                           treatment="seizures", neighbours={"A": ["B", "C"], "B": ["A"]})
    >>> neighbour_sum(panel, "seizures").column("seizures_nb_sum").tolist()
    [6.0, 1.0, nan]
    """
    return _neighbour(panel, column, name, missing, "sum")


# ========================================================================= aggregate
def _resolve_rules(panel: Panel, rules: Mapping[str, Any] | None) -> dict[str, str | tuple[str, str]]:
    if rules is None:
        rules = {}
    if not isinstance(rules, Mapping):
        raise TransformError(
            f"aggregate(): rules must be a mapping column -> rule; got {type(rules).__name__}."
        )
    options = f"{quote_list(AGGREGATION_RULES)} or ('weighted_mean', weight_column)"
    resolved: dict[str, str | tuple[str, str]] = {}
    for col, rule in rules.items():
        _check_column(panel, col, "rules key")
        if isinstance(rule, str) and rule in AGGREGATION_RULES:
            resolved[col] = rule
        elif (isinstance(rule, tuple | list) and len(rule) == 2 and rule[0] == "weighted_mean"):
            _check_column(panel, rule[1], f"weight of {col!r}")
            resolved[col] = ("weighted_mean", rule[1])
        else:
            raise TransformError(
                f"aggregate(): unknown rule {rule!r} for column {col!r}; use one of {options}."
            )
    defaults: dict[str, str] = {}
    for c, kind in panel.outcome_kinds.items():
        if kind == "count":
            defaults[c] = "sum"
        elif kind == "rate":
            defaults[c] = "mean"
    if panel.exposure is not None:
        defaults[panel.exposure] = "mean"
    for c, rule in defaults.items():
        resolved.setdefault(c, rule)
    keys = (panel.unit, panel.time)
    lacking = [c for c in panel.columns if c not in keys and c not in resolved]
    if lacking:
        example = ", ".join(f"{c!r}: 'mean'" for c in lacking[:3])
        raise TransformError(
            f"aggregate(): column(s) {quote_list(lacking)} have no aggregation rule. Every column "
            f"needs one: pass rules={{{example}}} with a rule from {options}. Defaults: count "
            "outcomes are summed, rate outcomes and the exposure are averaged."
        )
    return {c: resolved[c] for c in panel.columns if c in resolved}


def aggregate(panel: Panel, to: str = "Y", rules: Mapping[str, Any] | None = None,
              incomplete: IncompletePolicy = "error", count_name: str | None = None) -> Panel:
    """Aggregate to coarser periods (days -> weeks or months, months -> quarters or years, ...).

    Parameters
    ----------
    panel
        The panel (daily, monthly or quarterly; weeks do not nest in months or
        years, so weekly panels cannot be aggregated).
    to
        Target frequency: ``"W"`` (from days), ``"M"``, ``"Q"`` or ``"Y"``.
    rules
        A mapping column -> rule for every column except the unit and time:

        * ``"sum"`` (counts), ``"mean"`` (rates, averages), ``"min"``, ``"max"``;
        * ``("weighted_mean", weight_column)`` (e.g. a population-weighted rate);
        * ``"first"`` / ``"last"``: the value of the group's first / last row
          (also for text columns).

        Defaults (used when a column is not in ``rules``): count outcomes are
        summed; rate outcomes and the exposure are averaged. Any other column
        without a rule raises an error listing them. A missing value anywhere in
        a group makes the numeric rules' result missing (never treated as 0);
        ``first``/``last`` take the row's value as it is.
    incomplete
        What to do with a coarse period that lacks some sub-periods (e.g. a
        year with 11 of 12 months, including a unit's first or last year):

        * ``"error"`` (default): raise, naming unit, period and how many
          sub-periods are present;
        * ``"drop"``: leave those coarse periods out. Their fine rows are
          recorded in the new panel's ``drop_log`` (one entry per fine row,
          with its source row, reason ``"incomplete period ..."`` and stage
          ``"aggregate"``);
        * ``"keep"``: aggregate them anyway (sums over fewer months are then
          smaller: pass ``count_name`` to record how many sub-periods each row has).
    count_name
        If given, a new column of that name holds the number of sub-periods in
        each aggregated row.

    Returns
    -------
    Panel
        A new panel with one row per unit and coarse period, the new ``freq``,
        the same roles and neighbours (the time column keeps its name, e.g.
        ``month``, but holds the coarser periods). Role kinds are checked again: a rule
        that turns a count into non-integers or a binary treatment into
        fractions raises an error suggesting another rule or a kind change
        with :meth:`~causalpolicing.data.panel.Panel.with_roles`.

    Notes
    -----
    Row accounting: each aggregated row's ``source_rows`` entry is the source
    row of the first (earliest) fine row in its group. The drop log keeps every
    entry of the input panel and adds the fine rows of dropped incomplete
    periods, so for an aggregated panel the loading identity becomes
    ``n_source_rows == (fine rows aggregated) + len(drop_log)``; the number of
    fine rows aggregated is the sum of ``count_name`` when it is requested.

    A rate is best recomputed from aggregated counts and exposure (sum the
    counts, average the population, then :func:`rate`) rather than averaged.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 4, "quarter": ["2000Q1", "2000Q2", "2000Q3", "2000Q4"],
    ...                    "deaths": [1, 2, 3, 4], "offences": [1.0, 2.0, 3.0, 6.0],
    ...                    "population": [100.0, 100.0, 200.0, 200.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="quarter", outcome="deaths",
    ...                           treatment="offences", exposure="population")
    >>> yearly = aggregate(panel, "Y", rules={"offences": ("weighted_mean", "population")})
    >>> yearly.freq, yearly.to_frame().to_dict("records")
    ('Y', [{'canton': 'ZH', 'quarter': Period('2000', 'Y-DEC'), 'deaths': 10.0, 'offences': 3.5, 'population': 150.0}])
    """
    _check_panel(panel, "aggregate")
    target = normalise_freq(to)
    own = panel.freq
    if own == "W":
        raise TransformError(
            "aggregate(): weekly periods do not nest in months, quarters or years, so a weekly "
            "panel cannot be aggregated exactly. Aggregate the daily data instead."
        )
    if _RANK[target] <= _RANK[own]:
        raise TransformError(
            f"aggregate(): the panel holds {FREQUENCIES[own]}; to={to!r} ({FREQUENCIES[target]}) "
            "is not coarser. Periods can only be aggregated upwards (days -> weeks/months, "
            "months -> quarters/years, quarters -> years)."
        )
    if incomplete not in ("error", "drop", "keep"):
        raise TransformError(
            f"aggregate(): unknown incomplete={incomplete!r}; use 'error' (default), 'drop' or "
            "'keep'."
        )
    resolved = _resolve_rules(panel, rules)
    if count_name is not None:
        _check_names(panel, [count_name], hint="pass another count_name")

    f = _frame(panel)
    codes, _, ords = _keys(panel)
    source_rows = panel._source_rows
    order = np.lexsort((ords, codes))
    if not np.array_equal(order, np.arange(len(order))):  # Panels are sorted; be safe anyway
        f = f.iloc[order].reset_index(drop=True)
        codes, ords, source_rows = codes[order], ords[order], source_rows[order]
    coarse = f[panel.time].dt.asfreq(target).array.asi8.astype(np.int64)
    n = len(f)
    first = np.ones(n, dtype=bool)
    first[1:] = (codes[1:] != codes[:-1]) | (coarse[1:] != coarse[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    ends = starts + counts - 1
    coarse_index = pd.PeriodIndex.from_ordinals(coarse[starts], freq=target)
    expected = (coarse_index.asfreq(own, how="end").asi8
                - coarse_index.asfreq(own, how="start").asi8 + 1)
    complete = counts == expected
    unit_values = f[panel.unit].to_numpy()

    keep = np.ones(len(starts), dtype=bool)
    new_drops = None
    if not complete.all():
        bad = np.flatnonzero(~complete)
        shown = "; ".join(
            f"{unit_values[starts[g]]} {coarse_index[g]}: {counts[g]} of {expected[g]} "
            f"{FREQUENCIES[own]}" for g in bad[:8]
        )
        more = f" and {len(bad) - 8} more" if len(bad) > 8 else ""
        if incomplete == "error":
            raise TransformError(
                f"aggregate(): {len(bad)} unit-period(s) lack some {FREQUENCIES[own]}: "
                f"{shown}{more}. Choose incomplete='drop' (leave them out; recorded in the "
                "drop log) or incomplete='keep' (aggregate what is there; add count_name= to "
                "see how much)."
            )
        if incomplete == "drop":
            keep = complete
            if not keep.any():
                raise TransformError(
                    f"aggregate(): every unit-period is incomplete ({shown}{more}); nothing "
                    "would be left. Use incomplete='keep' or aggregate to a finer frequency."
                )
            group_of_row = np.repeat(np.arange(len(starts)), counts)
            dropped = ~keep[group_of_row]
            g = group_of_row[dropped]
            reason = np.empty(len(starts), dtype=object)
            reason[bad] = [
                f"incomplete period {coarse_index[i]} ({counts[i]} of {expected[i]} "
                f"{FREQUENCIES[own]}) when aggregating to {FREQUENCIES[target]}"
                for i in bad
            ]
            new_drops = pd.DataFrame({
                "source_row": source_rows[dropped].astype(np.int64),
                "unit": unit_values[dropped],
                "time": f[panel.time].astype(str).to_numpy()[dropped],
                "column": panel.time,
                "reason": reason[g],
                "stage": "aggregate",
            })[DROP_LOG_COLUMNS]

    out: dict[str, Any] = {
        panel.unit: f[panel.unit].iloc[starts].to_numpy(),
        panel.time: pd.PeriodIndex.from_ordinals(coarse[starts], freq=target),
    }
    for col, rule in resolved.items():
        out[col] = _apply_rule(panel, f, col, rule, starts, ends, counts, unit_values, coarse_index)
    result = pd.DataFrame(out)
    if count_name is not None:
        result[count_name] = counts
    result = result.loc[keep].reset_index(drop=True)
    _check_kinds_after(panel, result, resolved)

    drop_log = panel._drop_log
    if new_drops is not None:
        drop_log = (pd.concat([drop_log, new_drops], ignore_index=True) if len(drop_log)
                    else new_drops)
        drop_log = drop_log.sort_values("source_row", kind="stable").reset_index(drop=True)
    params = {"to": target, "from": own, "rules": dict(resolved), "incomplete": incomplete}
    if count_name is not None:
        params["count_name"] = count_name
    record = TransformRecord("aggregate", params, (count_name,) if count_name else ())
    return panel._derive(result, record, source_rows=source_rows[starts][keep], freq=target,
                         drop_log=drop_log)


def _apply_rule(panel: Panel, f: pd.DataFrame, col: str, rule: str | tuple[str, str],
                starts: np.ndarray, ends: np.ndarray, counts: np.ndarray,
                unit_values: np.ndarray, coarse_index: pd.PeriodIndex) -> Any:
    if rule == "first":
        return f[col].iloc[starts].to_numpy()
    if rule == "last":
        return f[col].iloc[ends].to_numpy()
    label = rule if isinstance(rule, str) else "weighted_mean"
    what = f"aggregate() rule {label!r}"
    # numeric rules: checked on the (possibly reordered) frame
    s = f[col]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise NonNumericError(
            f"{what} needs a numeric column, but {col!r} holds {s.dtype} values. Use 'first' or "
            "'last' for labels, or declare the column numeric when loading."
        )
    x = s.to_numpy(dtype=float, na_value=np.nan)
    if rule == "sum":
        return np.add.reduceat(x, starts)
    if rule == "mean":
        return np.add.reduceat(x, starts) / counts
    if rule == "min":
        return np.minimum.reduceat(x, starts)
    if rule == "max":
        return np.maximum.reduceat(x, starts)
    weight = rule[1]
    ws = f[weight]
    if not pd.api.types.is_numeric_dtype(ws):
        raise NonNumericError(
            f"{what}: the weight column {weight!r} for {col!r} holds {ws.dtype} values; it must "
            "be numeric."
        )
    w = ws.to_numpy(dtype=float, na_value=np.nan)
    neg = w < 0
    if neg.any():
        raise TransformError(
            f"{what}: the weight {weight!r} for {col!r} is negative in "
            f"{int(neg.sum())} row(s); weights must be non-negative."
        )
    num = np.add.reduceat(x * w, starts)
    den = np.add.reduceat(w, starts)
    zero = den == 0
    if zero.any():
        g = np.flatnonzero(zero)
        shown = ", ".join(f"{unit_values[starts[i]]} {coarse_index[i]}" for i in g[:8])
        raise TransformError(
            f"{what}: the weights {weight!r} of {col!r} sum to 0 in {len(g)} unit-period(s) "
            f"({shown}), so the weighted mean is undefined there. Use 'mean' or fix the weights."
        )
    return num / den


def _check_kinds_after(panel: Panel, frame: pd.DataFrame,
                       rules: Mapping[str, str | tuple[str, str]]) -> None:
    checks = [(c, "outcome", k) for c, k in panel.outcome_kinds.items()]
    checks += [(c, "treatment", k) for c, k in panel.treatment_kinds.items()]
    for col, role, kind in checks:
        v = frame[col].to_numpy(dtype=float, na_value=np.nan)
        v = v[~np.isnan(v)]
        if kind == "count":
            bad = (v < 0) | (np.floor(v) != v)
            fix = "use 'sum' for counts"
            new_kind = "'rate' or 'continuous'"
        elif kind == "binary":
            bad = ~np.isin(v, (0.0, 1.0))
            fix = "use 'max' (any event in the period), 'min', 'first' or 'last'"
            new_kind = "'continuous'"
        elif kind == "rate":
            bad = v < 0
            fix = "use 'mean' or a weighted mean"
            new_kind = "'continuous'"
        else:
            continue
        if bad.any():
            raise TransformError(
                f"aggregate(): rule {rules[col]!r} turns {role} {col!r} (a {kind}) into values "
                f"that are not a {kind} (e.g. {_scalar(v[bad][0])!r}). Either {fix}, or change its kind "
                f"first: panel.with_roles({role}={{{col!r}: {new_kind.split(' or ')[0]}}})."
            )


# ============================================================================ prices
def deflate(panel: Panel, price: str, index: str, base: Any = None,
            name: str | None = None) -> Panel:
    """Real prices: ``price * index_at_base / index``.

    Parameters
    ----------
    panel
        The panel.
    price
        Nominal price column.
    index
        Price index column (e.g. a consumer price index), positive.
    base
        The base period whose money the real prices are expressed in.
        ``None`` (default): the index's own base, i.e. ``index_at_base = 100``
        (an index that is 100 in its base year). A period label (``2010``,
        ``"2010Q1"``, ``"2010-01"``): each unit's index value in that period;
        a coarser period than the panel's (a year for a monthly panel) uses the
        unit's mean index over it, and every sub-period must be present.
    name
        Name of the new column; default ``{price}_real``.

    Returns
    -------
    Panel
        A new panel with the real price. Missing prices or index values give
        missing real prices.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the index is zero or negative in some rows (named), or a unit lacks
        the base period.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"city": ["Z"] * 3, "year": [2000, 2001, 2002],
    ...                    "deaths": [1, 2, 3], "price": [100.0, 110.0, 120.0],
    ...                    "cpi": [100.0, 110.0, 125.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="city", time="year", outcome="deaths",
    ...                           treatment="price", covariates=["cpi"])
    >>> deflate(panel, "price", "cpi").column("price_real").tolist()
    [100.0, 100.0, 96.0]
    >>> deflate(panel, "price", "cpi", base=2002).column("price_real").tolist()
    [125.0, 125.0, 120.0]
    """
    _check_panel(panel, "deflate")
    p = _numeric(panel, price, "price", "deflate()")
    ix = _numeric(panel, index, "index", "deflate()")
    bad = ix <= 0
    if bad.any():
        raise TransformError(
            f"deflate(): the price index {index!r} is zero or negative in "
            f"{_where(panel, bad, ix)}; a price index must be positive. Fix those values."
        )
    if base is None:
        ref = np.full(len(ix), 100.0)
    else:
        start, end = _parse_period(base, panel, "base", "deflate()")
        codes, units, ords = _keys(panel)
        inside = (ords >= start) & (ords <= end) & ~np.isnan(ix)
        n_in = np.bincount(codes[inside], minlength=len(units))
        need = end - start + 1
        lacking = np.flatnonzero(n_in != need)
        if len(lacking):
            raise TransformError(
                f"deflate(): base={base!r} needs the index {index!r} in all {need} "
                f"{FREQUENCIES[panel.freq]} of the base period for every unit, but "
                f"{quote_list([str(units[i]) for i in lacking])} "
                f"{'has' if len(lacking) == 1 else 'have'} fewer (missing rows or missing index "
                "values). Choose another base period, or base=None for the index's own base."
            )
        ref_u = np.bincount(codes[inside], weights=ix[inside], minlength=len(units)) / need
        ref = ref_u[codes]
    new = name if name is not None else f"{price}_real"
    _check_names(panel, [new])
    return _add_columns(panel, {new: p * ref / ix}, "deflate",
                        {"price": price, "index": index, "base": base, "name": new})


def pure_price(panel: Panel, price: str, purity: str,
               scale: Literal["fraction", "percent"] = "fraction", name: str | None = None) -> Panel:
    """Price per pure gram: ``price / purity``.

    Parameters
    ----------
    panel
        The panel.
    price
        Price per bulk gram (street price).
    purity
        Purity column: a fraction in (0, 1] with ``scale="fraction"`` (default)
        or a percentage in (0, 100] with ``scale="percent"``.
    scale
        ``"fraction"`` or ``"percent"``.
    name
        Name of the new column; default ``{price}_pure``.

    Returns
    -------
    Panel
        A new panel with the purity-adjusted price (missing where price or
        purity is missing).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the purity is 0 (price per pure gram undefined) or outside the
        scale's range; the rows are named.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"city": ["Z"] * 2, "year": [2000, 2001], "deaths": [1, 2],
    ...                    "price": [100.0, 90.0], "purity": [25.0, 60.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="city", time="year", outcome="deaths",
    ...                           treatment="price", covariates=["purity"])
    >>> pure_price(panel, "price", "purity", scale="percent").column("price_pure").tolist()
    [400.0, 150.0]
    """
    _check_panel(panel, "pure_price")
    scales = {"fraction": 1.0, "percent": 100.0}
    if scale not in scales:
        raise TransformError(
            f"pure_price(): unknown scale={scale!r}; use 'fraction' (0-1) or 'percent' (0-100)."
        )
    top = scales[scale]
    p = _numeric(panel, price, "price", "pure_price()")
    q = _numeric(panel, purity, "purity", "pure_price()")
    outside = (q < 0) | (q > top)
    if outside.any():
        hint = ""
        if scale == "fraction" and np.nanmax(q) <= 100 and np.nanmin(q) >= 0:
            hint = " The values look like percentages: pass scale='percent'."
        raise TransformError(
            f"pure_price(): purity {purity!r} must lie in [0, {top:g}] with scale={scale!r}, but "
            f"is outside in {_where(panel, outside, q)}.{hint}"
        )
    zero = q == 0
    if zero.any():
        raise TransformError(
            f"pure_price(): purity {purity!r} is 0 in {_where(panel, zero)}, so the price per "
            "pure gram is undefined. Set those purities missing (if not measured) or fix them."
        )
    new = name if name is not None else f"{price}_pure"
    _check_names(panel, [new])
    return _add_columns(panel, {new: p / (q / top)}, "pure_price",
                        {"price": price, "purity": purity, "scale": scale, "name": new})


# ========================================================================== harmonic
def harmonic(panel: Panel, period: float, order: int = 1, name: str | None = None,
             origin: Any = None) -> Panel:
    """Fixed-period harmonic terms: ``sin(2 pi k t / period)`` and ``cos(...)``, ``k = 1..order``.

    ``t`` counts the panel's periods (years, months, ...) from ``origin``. For
    monthly data, ``period=12`` gives seasonal terms; for annual data a long
    cycle (e.g. the 14-year oscillation in Swiss drug deaths, Nordt & Stohler
    2010) is ``period=14``.

    Parameters
    ----------
    panel
        The panel.
    period
        Length of the cycle in the panel's periods (a positive number).
    order
        Number of harmonics; each adds one sine and one cosine. Must be below
        ``period / 2`` (higher harmonics alias onto lower ones at whole ``t``).
    name
        Column prefix. Default: columns ``sin{period}_{k}`` and
        ``cos{period}_{k}`` (``sin14_1``, ``cos14_1``; a fractional period
        such as 2.5 is written ``2p5``). With ``name="cycle"``: ``cycle_sin1``,
        ``cycle_cos1``, ...
    origin
        The period with ``t = 0`` (e.g. ``1975`` or ``"2000-01"``); default the
        panel's first period. Only the phase depends on it: the sine-cosine pair
        spans the same terms whatever the origin.

    Returns
    -------
    Panel
        A new panel with ``2 * order`` columns, in the order sin1, cos1, sin2, ...

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"country": ["CH"] * 4, "year": [1975, 1976, 1977, 1978],
    ...                    "deaths": [1, 2, 3, 4], "offences": [1.0, 2.0, 3.0, 5.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="country", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> new = harmonic(panel, period=4)
    >>> new.to_frame()[["sin4_1", "cos4_1"]].round(12).to_dict("list")
    {'sin4_1': [0.0, 1.0, 0.0, -1.0], 'cos4_1': [1.0, 0.0, -1.0, -0.0]}
    """
    _check_panel(panel, "harmonic")
    p = _positive_number(period, "period", "harmonic()")
    order = _positive_int(order, "order", "harmonic()")
    if 2 * order >= p:
        raise TransformError(
            f"harmonic(): order={order} needs period > {2 * order}; with period={period!r} the "
            f"highest harmonics alias onto lower ones (at whole periods sin(2 pi k t / {period!r}) "
            f"repeats). Use order < {p / 2:g}, or period dummies for a full seasonal pattern."
        )
    _, _, ords = _keys(panel)
    zero = int(ords.min()) if origin is None else _parse_period(origin, panel, "origin",
                                                                 "harmonic()")[0]
    t = (ords - zero).astype(float)
    columns: dict[str, np.ndarray] = {}
    label = _number_label(p)
    for k in range(1, order + 1):
        angle = 2 * np.pi * k * t / p
        s_name = f"{name}_sin{k}" if name is not None else f"sin{label}_{k}"
        c_name = f"{name}_cos{k}" if name is not None else f"cos{label}_{k}"
        columns[s_name] = np.sin(angle)
        columns[c_name] = np.cos(angle)
    _check_names(panel, columns, hint="pass name= to choose another prefix")
    params = {"period": period, "order": order, "origin": origin, "name": name}
    return _add_columns(panel, columns, "harmonic", params)
