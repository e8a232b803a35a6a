r"""The between estimator: OLS on unit means.

.. math::

    \bar y_i = \alpha + \bar x_i'\beta + \bar u_i

Every variable of the formula is averaged over each unit's rows that have no
missing value in any of them (listwise, as Stata ``xtreg, be`` and linearmodels
``BetweenOLS``); the regression on the unit means is then an ordinary
:func:`~causalpolicing.estimators.linear.feols` fit without fixed effects, so the
results follow the same contract. ``nobs`` is the number of units.

Examples
--------
>>> import causalpolicing as cp, numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(40), 5), "x": rng.normal(size=200)})
>>> df["y"] = 1.0 + 0.5 * df["x"] + rng.normal(size=200)
>>> res = cp.between("y ~ x", df, unit="unit")
>>> res.estimator, res.nobs
('Between', 40)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..data.panel import Panel
from ..exceptions import FormulaError, SpecError
from ..formula import Formula, parse_formula
from ._design import build_design
from .linear import FEOLS, FEOLSResults, relabel

__all__ = ["between"]


def between(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    unit: str | None = None,
    vcov: str | Mapping[str, Any] = "iid",
    ssc: str = "fixest",
) -> FEOLSResults:
    """Between estimator (regression on unit means).

    Parameters
    ----------
    formula
        ``"y ~ x + w"`` (no fixed effects, no IV).
    data
        DataFrame or Panel.
    unit
        Unit column (default: the Panel's unit).
    vcov, ssc
        Covariance of the regression on the means (default ``"iid"``).
    """
    f = parse_formula(formula)
    if f.fixed_effects or f.is_iv:
        raise FormulaError("The between estimator takes 'y ~ x + w' without fixed effects or IV.")
    if isinstance(data, Panel):
        unit = unit or data.unit
        frame = data.to_frame()
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise SpecError(f"data must be a DataFrame or a Panel; got {type(data).__name__}.")
    if unit is None or unit not in frame.columns:
        raise SpecError(f"unit must name a column of the data; got {unit!r}.")
    d = build_design(f, frame, extra=[unit])
    cols = {"__y__": d.y}
    names = list(d.exog_names)
    for j in range(len(names)):
        cols[f"__x{j}__"] = d.exog[:, j]
    means = pd.DataFrame(cols).groupby(d.extra_codes[unit], sort=True).mean()
    rhs = " + ".join(f"__x{j}__" for j in range(len(names))) or "1"
    inner = FEOLS(f"__y__ ~ {rhs}" + ("" if f.intercept else " + 0"), vcov=vcov, ssc=ssc)
    res = inner.fit(means)
    mapping = {f"__x{j}__": nm for j, nm in enumerate(names)}
    renamed = [mapping.get(t, t) for t in res.params.index]
    out = relabel(res, "Between", {"formula": str(f), "depvar": f.depvar.name, "unit": unit,
                                   "n_rows": int(len(d.y))})
    return _rename(out, renamed, d.dropped, mapping)


def _rename(res: FEOLSResults, names: list[str], dropped: pd.DataFrame,
            mapping: dict[str, str]) -> FEOLSResults:
    params = pd.Series(res.params.to_numpy(), index=names)
    cov = pd.DataFrame(res.cov.to_numpy(), index=names, columns=names)
    return FEOLSResults(
        params=params, cov=cov, nobs=res.nobs, df_inference=res.df_inference,
        cov_type=res.cov_type, estimator=res.estimator, spec=res.spec,
        n_clusters=res.n_clusters, fit_stats=dict(res._fit_stats), dropped=dropped,
        warnings=res.warnings, fe_table=res._fe_table, first_stage=None,
        collinear={mapping.get(k, k): v for k, v in res.collinear.items()},
        fit_state=res.fit_state,
    )

