r"""The first-difference estimator.

.. math::

    \Delta y_{it} = \Delta x_{it}'\beta + \delta_t + \Delta u_{it}

Every variable of the formula is differenced within unit between consecutive
periods. Rows without a difference (each unit's first period, and a period
that follows a gap) are recorded in the drop log with the reason. A fixed-effects part in the formula, typically
``| year``, adds those effects to the *differenced* equation (period dummies,
as in Wooldridge's Example 13.9); without one an intercept is estimated. The
regression is an ordinary :func:`~causalpolicing.estimators.linear.feols` fit, so
the results follow the same contract; ``nobs`` counts differenced rows.

Examples
--------
>>> import causalpolicing as cp, numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(30), 4), "year": np.tile(np.arange(4), 30)})
>>> df["x"] = rng.normal(size=120)
>>> df["y"] = df["unit"] + 2 * df["x"] + rng.normal(size=120)
>>> res = cp.first_difference("y ~ x", df, unit="unit", time="year", vcov="iid")
>>> res.estimator, res.nobs
('First difference', 90)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data.panel import Panel
from ..exceptions import FormulaError, SpecError
from ..formula import Formula, parse_formula
from .linear import FEOLS, FEOLSResults, relabel

__all__ = ["first_difference"]


def _period_number(t: pd.Series) -> np.ndarray:
    if isinstance(t.dtype, pd.PeriodDtype):
        return t.array.asi8.astype(np.int64)
    if pd.api.types.is_integer_dtype(t.dtype):
        return t.to_numpy(dtype=np.int64)
    raise SpecError(
        f"The time column {t.name!r} must hold integer periods or pandas Periods to "
        f"difference consecutive periods; got dtype {t.dtype}."
    )


def first_difference(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    unit: str | None = None,
    time: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    ssc: str = "fixest",
) -> FEOLSResults:
    """First-difference estimator.

    Parameters
    ----------
    formula
        ``"y ~ x + w"`` or ``"y ~ x + w | year"`` (effects in the differenced equation).
    data
        DataFrame or Panel (with a Panel, ``unit`` and ``time`` default to its keys).
    unit, time
        Panel keys.
    vcov, ssc
        As in :func:`~causalpolicing.estimators.linear.feols`; default ``None``:
        CRV1 by unit for a Panel, ``"iid"`` for a DataFrame.
    """
    f = parse_formula(formula)
    if f.is_iv:
        raise FormulaError("first_difference does not take an IV part.")
    if isinstance(data, Panel):
        unit, time = unit or data.unit, time or data.time
        frame = data.to_frame()
        if vcov is None:
            vcov = {"CRV1": unit}
    elif isinstance(data, pd.DataFrame):
        frame = data
        if vcov is None:
            vcov = "iid"
    else:
        raise SpecError(f"data must be a DataFrame or a Panel; got {type(data).__name__}.")
    for role, col in (("unit", unit), ("time", time)):
        if col is None or col not in frame.columns:
            raise SpecError(f"{role} must name a column of the data; got {col!r}.")
    diff_cols = [c for c in f.columns if not any(c in fe for fe in f.fixed_effects)]
    for c in diff_cols:
        if c not in frame.columns:
            raise FormulaError(f"The data have no column {c!r}.")
    order = np.lexsort((_period_number(frame[time]), frame[unit].to_numpy()))
    sub = frame.iloc[order]
    u = sub[unit].to_numpy()
    t = _period_number(sub[time])
    consecutive = np.r_[False, (u[1:] == u[:-1]) & (t[1:] - t[:-1] == 1)]
    out = pd.DataFrame(index=sub.index)
    for c in diff_cols:
        v = pd.to_numeric(sub[c], errors="raise").to_numpy(dtype=float)
        dv = np.full(len(v), np.nan)
        dv[1:] = v[1:] - v[:-1]
        dv[~consecutive] = np.nan
        out[c] = dv
    for fe in f.fixed_effects:
        for c in fe:
            out[c] = sub[c]
    out = out.loc[consecutive]
    inner = FEOLS(f, vcov=vcov, ssc=ssc)
    if isinstance(vcov, dict):
        for v in vcov.values():
            names = [v] if isinstance(v, str) else list(v) if isinstance(v, list) else []
            for nm in names:
                for part in str(nm).split("+"):
                    part = part.strip()
                    if part in sub.columns and part not in out.columns:
                        out[part] = sub.loc[out.index, part]
    res = inner.fit(out)
    # rows without a difference: each unit's first period, or after a gap
    same_unit = np.r_[False, u[1:] == u[:-1]]
    no_diff = ~consecutive
    reasons = np.where(same_unit[no_diff], "gap before this period (no difference formed)",
                       "first period of its unit (no difference formed)")
    positions = order[no_diff]
    log = pd.DataFrame({
        "row": frame.index[positions],
        "source_row": np.full(len(positions), pd.NA, dtype=object),
        "column": time,
        "reason": reasons,
    })
    dropped = pd.concat([log, res.dropped], ignore_index=True) if len(res.dropped) else log
    return relabel(res, "First difference", {
        "unit": unit, "time": time, "n_rows_before_differencing": int(len(frame)),
        "differenced_out": unit,
        "n_first_periods_or_gaps": int(no_diff.sum()),
    }, dropped=dropped)
