"""Model matrices from a parsed formula and a DataFrame, with a drop log.

Rows with a missing or non-finite value in any variable the model uses
(outcome, regressors, instruments, fixed effects, weights, cluster and time
variables), rows a whitelisted function cannot take (``log`` of zero), rows with
zero weight and (optionally) fixed-effect singletons are dropped, and every one
of them is recorded in the drop log: one row per dropped row and responsible
column, with the reason. Nothing is dropped silently and the input is never
modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._hints import did_you_mean
from ..core.fe_structure import drop_singletons, factorize, recode
from ..exceptions import (
    DataWarning,
    EstimationError,
    FormulaError,
    SingletonWarning,
    SpecError,
)
from ..formula import Factor, Formula, Term
from ._indicators import expand_indicators

__all__ = ["Design", "build_design", "describe_rows", "DROP_LOG_COLUMNS"]

DROP_LOG_COLUMNS = ["row", "source_row", "column", "reason"]

_FUNCS = {
    "log": (np.log, lambda v: v <= 0, "log of a non-positive value"),
    "log1p": (np.log1p, lambda v: v <= -1, "log1p of a value <= -1"),
    "exp": (np.exp, lambda v: np.zeros(len(v), dtype=bool), ""),
    "sqrt": (np.sqrt, lambda v: v < 0, "sqrt of a negative value"),
    "abs": (np.abs, lambda v: np.zeros(len(v), dtype=bool), ""),
}


@dataclass(frozen=True)
class Design:
    """Model matrices of the rows kept (all arrays are new, C-contiguous float64)."""

    y: np.ndarray
    exog: np.ndarray
    exog_names: tuple[str, ...]
    endog: np.ndarray
    endog_names: tuple[str, ...]
    instruments: np.ndarray
    instrument_names: tuple[str, ...]
    fe_codes: tuple[np.ndarray, ...]
    fe_names: tuple[str, ...]
    weights: np.ndarray | None
    extra_codes: dict[str, np.ndarray]
    data_index: pd.Index  # the index of the data (all rows)
    positions: np.ndarray
    dropped: pd.DataFrame
    n_singletons: int  # fixed-effect singleton rows: dropped ("drop") or kept and counted

    @property
    def row_labels(self) -> pd.Index:
        """Labels of the rows kept (built on request: most callers need only positions)."""
        return self.data_index[self.positions]


def describe_rows(positions: np.ndarray, index: pd.Index, source_rows: np.ndarray | None,
                  limit: int = 5) -> str:
    """Name rows in a message the way the user can find them.

    On a Panel (``source_rows`` given): the 1-based rows of the source file, as the
    loader's messages and the drop log's ``source_row`` do. On a DataFrame: the
    frame's index labels (what ``df.loc`` takes and the drop log's ``row`` holds).
    ``positions`` are 0-based positions in the frame and are never shown.

    >>> import numpy as np, pandas as pd
    >>> describe_rows(np.array([0, 2]), pd.RangeIndex(5), np.array([2, 3, 5, 6, 7]))
    'source rows 2, 5'
    >>> describe_rows(np.arange(7), pd.RangeIndex(7), None)
    'index labels 0, 1, 2, 3, 4 and 2 more'
    """
    positions = np.asarray(positions)
    shown = positions[:limit]
    if source_rows is not None:
        what, labels = ("source row" if len(positions) == 1 else "source rows"), [
            str(int(r)) for r in np.asarray(source_rows)[shown]]
    else:
        what, labels = ("index label" if len(positions) == 1 else "index labels"), [
            str(v) for v in index[shown]]
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return f"{what} {', '.join(labels)}{more}"


_EMPTY_LOG: list[pd.DataFrame] = []


def _empty_log() -> pd.DataFrame:
    """An empty drop log (a copy of a cached template: building one costs ~0.3 ms)."""
    if not _EMPTY_LOG:
        _EMPTY_LOG.append(pd.DataFrame({c: pd.Series(dtype=object) for c in DROP_LOG_COLUMNS}))
    return _EMPTY_LOG[0].copy()


def _is_bool_dtype(dt: object) -> bool:
    """``pd.api.types.is_bool_dtype`` (the same answer; numpy dtypes answered directly)."""
    return dt.kind == "b" if isinstance(dt, np.dtype) else pd.api.types.is_bool_dtype(dt)


def _is_numeric_dtype(dt: object) -> bool:
    """``pd.api.types.is_numeric_dtype`` (the same answer; numpy dtypes answered directly:
    bool, integer, float and complex, not datetime or timedelta)."""
    return (dt.kind in "biufc" if isinstance(dt, np.dtype)
            else pd.api.types.is_numeric_dtype(dt))


def _numeric(data: pd.DataFrame, col: str, role: str) -> np.ndarray:
    s = data[col]
    if _is_bool_dtype(s.dtype):
        return s.astype(float).to_numpy(dtype=float, na_value=np.nan)
    if not _is_numeric_dtype(s.dtype):
        raise FormulaError(
            f"Column {col!r} ({role}) is not numeric (dtype {s.dtype}). Put categorical "
            "variables in the fixed-effects part of the formula ('y ~ x | category') or "
            "create numeric dummies first."
        )
    return s.to_numpy(dtype=float, na_value=np.nan)


class _Log:
    """Collects (position, column, reason) of bad rows, vectorised."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[tuple[np.ndarray, str, str]] = []

    def add(self, mask: np.ndarray, column: str, reason: str) -> None:
        if mask.any():
            self.parts.append((np.flatnonzero(mask), column, reason))
            self.bad |= mask


def _eval_factor(f: Factor, data: pd.DataFrame, cache: dict[str, np.ndarray], log: _Log,
                 role: str) -> np.ndarray:
    if f.column not in cache:
        v = _numeric(data, f.column, role)
        log.add(np.isnan(v), f.column, "missing value")
        log.add(np.isinf(v), f.column, "infinite value")
        cache[f.column] = v
    v = cache[f.column]
    if f.func is None:
        return v
    fn, bad_fn, reason = _FUNCS[f.func]
    with np.errstate(all="ignore"):
        bad = bad_fn(v) & ~np.isnan(v)
        out = fn(v)
    log.add(bad, f.name, reason)
    log.add(np.isinf(out) & ~bad & np.isfinite(v), f.name, "overflow to infinity")
    return out


def _eval_terms(terms: Sequence[Term], data: pd.DataFrame, cache: dict[str, np.ndarray],
                log: _Log, role: str) -> np.ndarray:
    cols = []
    for t in terms:
        v = _eval_factor(t.factors[0], data, cache, log, role)
        for f in t.factors[1:]:
            v = v * _eval_factor(f, data, cache, log, role)
        cols.append(v)
    n = len(data)
    return np.column_stack(cols) if cols else np.empty((n, 0))


def _check_columns(data: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    for c in cols:
        if c not in data.columns:
            raise FormulaError(
                f"The data have no column {c!r} (used in the {what})."
                + did_you_mean(c, data.columns, style="sentence", n=3)
                + f" Available columns: {', '.join(map(str, list(data.columns)[:20]))}"
                + (" ..." if len(data.columns) > 20 else "")
            )


def _warn_weight_drops(col: str, missing: np.ndarray, zero: np.ndarray, index: pd.Index,
                       source_rows: np.ndarray | None) -> None:
    """A DataWarning naming the rows dropped for a missing or zero weight."""
    parts = []
    for mask, what in ((missing, "a missing"), (zero, "a zero")):
        if mask.any():
            pos = np.flatnonzero(mask)
            parts.append(f"{len(pos)} with {what} weight ({describe_rows(pos, index, source_rows)})")
    if parts:
        warnings.warn(
            f"Rows dropped for their weights column {col!r}: {'; '.join(parts)}. A row "
            "without a positive weight cannot enter a weighted fit; they are listed in "
            "results.dropped (reasons 'missing weight' and 'zero weight').",
            DataWarning, stacklevel=4)


def _dropped_summary(log: _Log) -> str:
    """'12 with a missing value in 'x'; 3 with a zero weight in 'wt'' (rows may repeat)."""
    counts: dict[tuple[str, str], int] = {}
    for pos, col, reason in log.parts:
        counts[(col, reason)] = counts.get((col, reason), 0) + len(pos)
    return "; ".join(f"{k} row{'s' if k > 1 else ''}: {reason} in {col!r}"
                     for (col, reason), k in counts.items())


def _no_rows_message(n: int, log: _Log) -> str:
    if n == 0:
        return "The data have no rows; nothing can be estimated."
    singles = any(reason == "fixed-effect singleton" for _, _, reason in log.parts)
    others = any(reason != "fixed-effect singleton" for _, _, reason in log.parts)
    return (f"All {n} rows were dropped ({_dropped_summary(log)}), so no row is left to "
            "estimate on."
            + (" Fill in the missing values or choose other columns." if others else "")
            + (" Pass singletons='keep' to keep fixed-effect singletons (a panel where every "
               "row is a singleton has too few units or periods)." if singles else ""))


def _check_fe_leave_something(formula: Formula, data: pd.DataFrame,
                              fe_codes: tuple[np.ndarray, ...], positions: np.ndarray,
                              source_rows: np.ndarray | None, n_input: int) -> None:
    """Raise when the fixed effects alone fit every row (one unit, one period, one row).

    Then every regressor is absorbed and no residual is left, whatever the formula; the
    message says which fixed effect has too few levels instead of listing absorbed
    regressors.
    """
    n = len(positions)
    levels = [int(c.max()) + 1 for c in fe_codes]
    names = formula.fe_names
    left = "" if n == n_input else f" (of {n_input}; the others were dropped)"
    if n == 1:
        raise EstimationError(
            f"Only one row is used ({describe_rows(positions, data.index, source_rows)})"
            f"{left}: the fixed effects ({' + '.join(names)}) fit it exactly and nothing is "
            "left to estimate. A fixed-effects model needs several units observed in "
            "several periods.")
    full = [j for j, lv in enumerate(levels) if lv == n]
    if not full:
        return
    j = full[0]
    one = [i for i, lv in enumerate(levels) if lv == 1 and len(formula.fixed_effects[i]) == 1]
    if one:
        col = formula.fixed_effects[one[0]][0]
        value = data[col].iloc[positions[0]]
        shown = repr(value) if isinstance(value, str) else str(value)
        raise EstimationError(
            f"The data have only one value of {col!r} ({shown}) in the {n} rows used"
            f"{left}: with {names[j]!r} fixed effects as well, every row is alone in its "
            f"{names[j]!r} level, so the fixed effects absorb everything. At least 2 values "
            f"of {col!r} are needed, or drop a fixed effect.")
    raise EstimationError(
        f"Every row used is alone in its {names[j]!r} level ({n} rows, {n} levels){left}: "
        f"the {names[j]!r} fixed effects absorb everything. Each {names[j]!r} value needs "
        "at least 2 rows (a panel, not a cross-section), or drop it from the fixed effects.")


def build_design(
    formula: Formula,
    data: pd.DataFrame,
    *,
    weights: str | None = None,
    extra: Sequence[str] = (),
    singletons: str = "keep",
    source_rows: np.ndarray | None = None,
    share_empty_log: bool = False,
) -> Design:
    """Build the model matrices of ``formula`` on ``data``.

    Parameters
    ----------
    formula
        A parsed formula.
    data
        The data (not modified).
    weights
        Name of an analytic-weights column (positive; zero-weight rows are dropped).
    extra
        Further columns whose missing values drop rows and whose integer codes are
        returned in ``extra_codes`` (cluster and time variables).
    singletons
        ``"keep"`` (default) or ``"drop"`` fixed-effect singletons (iteratively).
        ``Design.n_singletons`` counts the singleton rows either way (dropped, or
        kept and counted).
    source_rows
        Source row numbers to record in the drop log (e.g. from a Panel).
    share_empty_log
        When nothing is dropped, return the shared empty drop log instead of a copy (for
        callers that only read it or hand it to results objects that copy on access; it
        must never be modified).
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecError(f"data must be a pandas DataFrame or a Panel; got {type(data).__name__}.")
    if singletons not in ("drop", "keep"):
        raise SpecError(f"singletons must be 'drop' or 'keep'; got {singletons!r}.")
    n = len(data)
    _check_columns(data, formula.depvar.columns, "dependent variable")
    for terms, what in ((formula.exog, "regressors"), (formula.endog, "endogenous regressors"),
                        (formula.instruments, "instruments")):
        for t in terms:
            _check_columns(data, t.columns, what)
    for fe in formula.fixed_effects:
        _check_columns(data, fe, "fixed effects")
    if weights is not None:
        if not isinstance(weights, str):
            raise SpecError(f"weights must be a column name; got {type(weights).__name__}.")
        _check_columns(data, [weights], "weights")
    for c in extra:
        if c not in data.columns:
            raise SpecError(
                f"The data have no column {c!r} (cluster or time variable of vcov)."
                + did_you_mean(c, data.columns, style="sentence", n=3)
            )

    formula, data, indicator_missing = expand_indicators(formula, data)  # i() terms
    log = _Log(n)
    for mask, column in indicator_missing:
        log.add(mask, column, "missing value")
    cache: dict[str, np.ndarray] = {}
    y = _eval_terms([formula.depvar], data, cache, log, "dependent variable")[:, 0]
    exog = _eval_terms(formula.exog, data, cache, log, "regressor")
    endog = _eval_terms(formula.endog, data, cache, log, "endogenous regressor")
    instr = _eval_terms(formula.instruments, data, cache, log, "instrument")
    w = None
    if weights is not None:
        w = _numeric(data, weights, "weights")
        log.add(np.isnan(w), weights, "missing weight")
        finite = np.where(np.isnan(w), 1.0, w)
        if np.any(finite < 0) or np.any(np.isinf(finite)):
            bad = np.flatnonzero((finite < 0) | np.isinf(finite))
            raise SpecError(
                f"weights column {weights!r} has {len(bad)} negative or infinite value(s) "
                f"({describe_rows(bad, data.index, source_rows)}); analytic weights must be "
                "positive and finite. Fix those values, or drop those rows before fitting."
            )
        log.add(finite == 0, weights, "zero weight")
        _warn_weight_drops(weights, np.isnan(w), finite == 0, data.index, source_rows)
    fe_raw: list[np.ndarray] = []
    for fe in formula.fixed_effects:
        cols = [data[c] for c in fe]  # each column looked up once (small data: that is the cost)
        codes, _ = factorize(cols if len(fe) > 1 else cols[0])
        if len(fe) == 1:
            # factorize codes exactly the missing values (isna) as -1: no second pass
            log.add(codes < 0, fe[0], "missing fixed-effect value")
        else:
            for c, s in zip(fe, cols, strict=True):
                log.add(s.isna().to_numpy(), c, "missing fixed-effect value")
        fe_raw.append(codes)
    extra_raw: dict[str, pd.Series] = {}
    for c in dict.fromkeys(extra):
        s = data[c]
        log.add(s.isna().to_numpy(), c, "missing cluster/time value")
        extra_raw[c] = s

    keep = ~log.bad
    n_singletons = 0
    fe_names = formula.fe_names
    if fe_raw and keep.any():
        pos_kept = keep.nonzero()[0]  # (np.flatnonzero without its wrapper)
        k2 = drop_singletons(list(fe_raw) if keep.all() else [c[keep] for c in fe_raw])
        n_singletons = int((~k2).sum())
        if n_singletons and singletons == "drop":
            single = np.zeros(n, dtype=bool)
            single[pos_kept[~k2]] = True
            log.parts.append((np.flatnonzero(single), " + ".join(fe_names),
                              "fixed-effect singleton"))
            keep &= ~single
            warnings.warn(
                f"{n_singletons} fixed-effect singleton row(s) dropped (a level of "
                f"{' + '.join(fe_names)} with one observation fits that row exactly and "
                "carries no information on the slopes). They are listed in results.dropped "
                "(reason 'fixed-effect singleton'); pass singletons='keep' to keep them.",
                SingletonWarning,
                stacklevel=4,
            )
    positions = keep.nonzero()[0]
    if len(positions) == 0:
        raise SpecError(_no_rows_message(n, log))
    all_kept = len(positions) == n
    fe_codes = tuple(c if all_kept else recode(c[positions]) for c in fe_raw)
    if fe_codes:
        _check_fe_leave_something(formula, data, fe_codes, positions, source_rows, n)
    single_fe = {fe[0]: codes for fe, codes in zip(formula.fixed_effects, fe_codes, strict=True)
                 if len(fe) == 1}
    extra_codes = {
        c: single_fe[c] if c in single_fe else factorize(s.iloc[positions] if not all_kept else s)[0]
        for c, s in extra_raw.items()
    }

    # the drop log
    if log.parts:
        pos = np.concatenate([p for p, _, _ in log.parts])
        cols = np.concatenate([np.full(len(p), c, dtype=object) for p, c, _ in log.parts])
        reasons = np.concatenate([np.full(len(p), r, dtype=object) for p, _, r in log.parts])
        order = np.argsort(pos, kind="stable")
        pos, cols, reasons = pos[order], cols[order], reasons[order]
        dropped = pd.DataFrame({
            "row": data.index[pos],
            "source_row": (source_rows[pos] if source_rows is not None
                           else np.full(len(pos), pd.NA, dtype=object)),
            "column": cols,
            "reason": reasons,
        })
    else:
        dropped = _EMPTY_LOG[0] if share_empty_log and _EMPTY_LOG else _empty_log()

    def take(a: np.ndarray) -> np.ndarray:
        # read-only downstream: no copy when every row is kept
        return np.ascontiguousarray(a if all_kept else a[positions], dtype=float)

    return Design(
        y=take(y),
        exog=take(exog),
        exog_names=tuple(t.name for t in formula.exog),
        endog=take(endog),
        endog_names=tuple(t.name for t in formula.endog),
        instruments=take(instr),
        instrument_names=tuple(t.name for t in formula.instruments),
        fe_codes=fe_codes,
        fe_names=fe_names,
        weights=None if w is None else take(w),
        extra_codes=extra_codes,
        data_index=data.index,
        positions=positions,
        dropped=dropped,
        n_singletons=n_singletons,
    )
