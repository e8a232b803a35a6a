"""Validation shared by the plot functions (the results contract, terms, arrays, frames)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._hints import did_you_mean
from ...exceptions import ColumnNotFoundError, SpecError

__all__ = ["check_results", "normalize_models", "unknown_term", "check_terms",
           "ratio_kind", "finite_array", "finite_scalar", "frame_columns", "plot_times", "plot_time_scalar",
           "INTERCEPTS", "natural_order", "tick_step"]

#: Term names of an intercept, left out of coefficient plots unless asked for.
INTERCEPTS = ("Intercept", "(Intercept)", "const", "_cons")


def check_results(obj: Any, where: str = "results") -> Any:
    """``obj`` if it offers the parts of the results contract the plots read."""
    if not (hasattr(obj, "params") and callable(getattr(obj, "conf_int", None))):
        raise SpecError(
            f"{where} must be a results object (with params and conf_int(level), as returned by "
            f"cp.feols, cp.fepois, cp.distributed_lag, ...); got {type(obj).__name__}.")
    return obj


def normalize_models(results: Any) -> tuple[list[str], list[Any]]:
    """One results object, a sequence or a mapping name -> results -> (names, results)."""
    if isinstance(results, Mapping):
        if not results:
            raise SpecError("results is an empty mapping; pass at least one results object.")
        names = [str(k) for k in results]
        models = [check_results(v, f"results[{k!r}]") for k, v in results.items()]
        return names, models
    if isinstance(results, Sequence) and not isinstance(results, str):
        if not results:
            raise SpecError("results is an empty sequence; pass at least one results object.")
        models = [check_results(v, f"results[{i}]") for i, v in enumerate(results)]
        return [f"({i + 1})" for i in range(len(models))], models
    return [""], [check_results(results)]


def unknown_term(name: Any, available: Sequence[str], param: str = "terms") -> SpecError:
    """The error for a term that is not among ``available`` (with close matches)."""
    hint = did_you_mean(str(name), available, style="sentence", n=3)
    return SpecError(f"{param}: term {name!r} is not in the results.{hint} Available terms: "
                     f"{list(available)}.")


def check_terms(terms: Any, available: Sequence[str], param: str = "terms") -> list[str]:
    """``terms`` (a name or a sequence of names) checked against ``available``."""
    if isinstance(terms, str):
        terms = [terms]
    if not isinstance(terms, Sequence) or isinstance(terms, bytes):
        raise SpecError(f"{param} must be a term name or a list of term names; got "
                        f"{type(terms).__name__}.")
    terms = list(terms)
    if not terms:
        raise SpecError(f"{param} is empty; pass at least one of {list(available)}.")
    seen = set()
    for t in terms:
        if t not in available:
            raise unknown_term(t, available, param)
        if t in seen:
            raise SpecError(f"{param}: term {t!r} is listed twice.")
        seen.add(t)
    return terms


def ratio_kind(results: Any) -> str | None:
    """``"Rate ratio"`` (log link), ``"Odds ratio"`` (logit) or ``None`` (linear).

    Read from ``spec["link"]`` when the estimator records it, else from the
    estimator's name (Poisson, negative binomial -> rate ratio; binomial -> odds ratio).
    """
    link = results.spec.get("link") if isinstance(results.spec, Mapping) else None
    if link == "log":
        return "Rate ratio"
    if link == "logit":
        return "Odds ratio"
    name = str(results.estimator).lower().replace(" ", "").replace("-", "")
    if "pois" in name or "negbin" in name or "negativebinomial" in name:
        return "Rate ratio"
    if "binomial" in name or "logit" in name:
        return "Odds ratio"
    return None


def finite_array(values: Any, name: str, *, min_size: int = 1) -> np.ndarray:
    """``values`` as a 1-d float array with at least ``min_size`` entries, all finite."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be numbers; got {type(values).__name__} that cannot be "
                        "converted to floats.") from None
    if arr.ndim != 1:
        raise SpecError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    if arr.size < min_size:
        raise SpecError(f"{name} needs at least {min_size} value(s); got {arr.size}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise SpecError(f"{name} has {bad.sum()} non-finite value(s) (NaN or inf) at position(s) "
                        f"{idx[:5].tolist()}{' ...' if len(idx) > 5 else ''}; drop or fix them.")
    return arr


def finite_scalar(value: Any, name: str) -> float:
    """``value`` as a finite float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecError(f"{name} must be a number; got {value!r}.")
    out = float(value)
    if not math.isfinite(out):
        raise SpecError(f"{name} must be finite; got {value!r}.")
    return out


def frame_columns(frame: Any, columns: Mapping[str, Any], *, where: str = "frame") -> None:
    """Check that ``frame`` is a non-empty DataFrame holding every named column.

    ``columns`` maps the parameter name to the column it names (``None`` is skipped).
    """
    if not isinstance(frame, pd.DataFrame):
        raise SpecError(f"{where} must be a pandas DataFrame; got {type(frame).__name__}.")
    if frame.empty:
        raise SpecError(f"{where} has no rows; nothing to plot.")
    for param, col in columns.items():
        if col is None:
            continue
        if not isinstance(col, str) and not np.isscalar(col):
            raise SpecError(f"{param} must be a column name; got {col!r}.")
        if col not in frame.columns:
            hint = did_you_mean(str(col), frame.columns, style="sentence", n=3)
            raise ColumnNotFoundError(f"{param}={col!r} is not a column of {where}.{hint} "
                                      f"Columns: {list(frame.columns)}.")


def plot_times(values: pd.Series) -> pd.Series:
    """Time values matplotlib can place: annual periods -> years, other periods -> timestamps."""
    if isinstance(values.dtype, pd.PeriodDtype):
        if values.dtype.freq.freqstr.startswith(("Y", "A")):
            return values.dt.year.astype("int64")
        return values.dt.to_timestamp()
    return values


def plot_time_scalar(value: Any, like: pd.Series) -> Any:
    """A single time value (e.g. a treatment start) converted as :func:`plot_times` would."""
    if isinstance(like.dtype, pd.PeriodDtype):
        try:
            per = value if isinstance(value, pd.Period) else pd.Period(str(value),
                                                                       freq=like.dtype.freq)
        except (ValueError, TypeError):
            raise SpecError(f"time value {value!r} cannot be read as a period of frequency "
                            f"{like.dtype.freq.freqstr}; pass e.g. pd.Period('1990', 'Y').") from None
        return plot_times(pd.Series([per], dtype=like.dtype)).iloc[0]
    if pd.api.types.is_datetime64_any_dtype(like.dtype):
        return pd.Timestamp(value)
    return value


def _natural_key(value: Any) -> tuple[Any, ...]:
    """Text split into runs of digits (compared as numbers) and other characters (as text)."""
    parts = re.split(r"(\d+)", str(value))
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))


def natural_order(values: Any) -> list[Any]:
    """The distinct values in natural order: numerically when all are numbers (or text that
    reads as one), else text with digit runs compared as numbers (``"unit 2"`` before
    ``"unit 10"``). Missing values are left out.

    Examples
    --------
    >>> natural_order(["10043", "10441", "1094", "209"])
    ['209', '1094', '10043', '10441']
    >>> natural_order(["ZH", "AG", "unit 10", "unit 2"])
    ['AG', 'unit 2', 'unit 10', 'ZH']
    >>> natural_order([3.5, -1, 2])
    [-1, 2, 3.5]
    """
    distinct = list(pd.unique(pd.Series(list(values), dtype=object).dropna()))
    as_number = pd.to_numeric(pd.Series(distinct, dtype=object), errors="coerce")
    if distinct and as_number.notna().all():
        order = np.argsort(as_number.to_numpy(dtype=float), kind="stable")
        return [distinct[i] for i in order]
    return sorted(distinct, key=lambda v: (_natural_key(v), str(v)))


def tick_step(n: int, label_chars: int, axis_inches: float, *, vertical: bool = False) -> int:
    """Show every ``step``-th of ``n`` tick labels so that they do not overlap.

    A horizontal label takes about 0.085 inch per character plus a gap (at the
    house style's small font); a vertical axis needs about 0.17 inch per label.

    >>> tick_step(8, 4, 5.0), tick_step(33, 4, 5.0), tick_step(545, 5, 6.0, vertical=True)
    (1, 4, 16)
    """
    need = 0.17 if vertical else 0.085 * max(1, label_chars) + 0.12
    fit = max(1, int(max(axis_inches, 0.5) // need))
    return max(1, math.ceil(n / fit))
