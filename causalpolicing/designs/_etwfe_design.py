"""The saturated regressors of the extended TWFE model and its marginal effects per cell.

:func:`build_design` adds to a private frame copy the cohort x period treatment
indicators (``att_g{g}_t{t}``), their interactions with the covariates demeaned
within cohort (``att_g{g}_t{t}:x_dm``), the covariates' cohort and period slopes and,
without absorbed fixed effects, the cohort and period dummies -- the regressors of
R ``etwfe::etwfe()``. :func:`cell_statistics` turns a fit into the sufficient
statistics of every average marginal effect ``emfx()`` reports: per (cohort, period)
cell, the number of rows, the sum of the row effects (prediction with the treatment
on minus off, on the response scale) and its gradient with respect to the
coefficients; for Poisson also the sums of both predictions and their gradients
(for rate ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import SpecError

__all__ = ["CellStats", "Design", "build_design", "cell_statistics"]


@dataclass(frozen=True)
class Design:
    """The regressors added to the frame and what each cell column means."""

    exog: tuple[str, ...]          # every regressor, in model order
    cells: pd.DataFrame            # one row per treatment cell: column, cohort, period, post
    treat_cols: tuple[str, ...]    # the columns switched off for the counterfactual
    rows: np.ndarray               # per frame row: index into cells (-1: no cell)


@dataclass(frozen=True)
class CellStats:
    """Sums over the estimation rows of each cell (rows of ``cells``)."""

    cells: pd.DataFrame            # cohort, period, event, post, n
    effect: np.ndarray             # (cells,) sum of mu1 - mu0
    grad: np.ndarray               # (cells, k) its gradient w.r.t. the kept coefficients
    mu1: np.ndarray | None = None  # Poisson: sum of predictions with the treatment on
    mu0: np.ndarray | None = None  # ... and off (the counterfactual)
    grad1: np.ndarray | None = None
    grad0: np.ndarray | None = None


def build_design(frame: pd.DataFrame, *, period: np.ndarray, cohort: np.ndarray,
                 never: np.ndarray, control: str, covariates: tuple[str, ...],
                 cov_absorbed: bool, dummies: bool) -> Design:
    """Add the saturated regressors to ``frame`` (in place: it is the design's own copy)."""
    first = int(period.min())
    treated_cohorts = sorted(set(cohort[~never].tolist()))
    periods = sorted(set(period.tolist()))
    new: dict[str, np.ndarray] = {}
    cell_rows = np.full(len(frame), -1, dtype=np.int64)
    cells = []
    for g in treated_cohorts:
        in_g = cohort == g
        for t in periods:
            if (t < g if control == "not_yet_treated" else t == g - 1):
                continue
            hit = in_g & (period == t)
            if not hit.any():
                continue
            name = f"att_g{g}_t{t}"
            cell_rows[hit] = len(cells)
            cells.append({"column": name, "cohort": g, "period": t, "post": t >= g})
            new[name] = hit.astype(float)
    treat_cols = [c["column"] for c in cells]
    slopes: list[str] = []
    if covariates:
        dm = {}
        for x in covariates:
            v = frame[x].to_numpy(dtype=float)
            means = pd.Series(v).groupby(cohort).transform("mean").to_numpy()
            dm[x] = v - means
        for c in cells:
            hit = new[c["column"]]
            for x in covariates:
                name = f"{c['column']}:{x}_dm"
                new[name] = hit * dm[x]
                treat_cols.append(name)
        for x in covariates:
            v = frame[x].to_numpy(dtype=float)
            if not cov_absorbed:
                slopes.append(x)
                for g in treated_cohorts:
                    name = f"{x}:cohort_{g}"
                    new[name] = v * (cohort == g)
                    slopes.append(name)
            for t in periods[1:]:
                name = f"{x}:period_{t}"
                new[name] = v * (period == t)
                slopes.append(name)
    fixed: list[str] = []
    if dummies:
        for g in treated_cohorts:
            new[f"cohort_{g}"] = (cohort == g).astype(float)
            fixed.append(f"cohort_{g}")
        for t in periods:
            if t != first:
                new[f"period_{t}"] = (period == t).astype(float)
                fixed.append(f"period_{t}")
    clash = sorted(set(new) & set(frame.columns))
    if clash:
        raise SpecError(f"the data already has column(s) {clash[:5]}; rename them (etwfe builds "
                        "its own cohort x period regressors with these names).")
    if new:  # one block insert: a column at a time fragments the frame (PerformanceWarning)
        frame[list(new)] = pd.DataFrame(new, index=frame.index)
    return Design(exog=(*treat_cols, *slopes, *fixed), cells=pd.DataFrame(cells),
                  treat_cols=tuple(treat_cols), rows=cell_rows)


def cell_statistics(frame: pd.DataFrame, design: Design, used: np.ndarray, *,
                    params: pd.Series, poisson: bool, offset: np.ndarray | None) -> CellStats:
    """Sum the row effects and their gradients over the estimation rows of every cell."""
    names = list(params.index)
    beta = params.to_numpy(dtype=float)
    keep = used & (design.rows >= 0)
    idx = np.flatnonzero(keep)
    cell_of = design.rows[idx]
    n_cells = len(design.cells)
    X1 = np.column_stack([np.ones(len(idx)) if c == "Intercept"
                          else frame[c].to_numpy(dtype=float)[idx] for c in names])
    switch = np.array([c in set(design.treat_cols) for c in names])
    X0 = X1.copy()
    X0[:, switch] = 0.0
    onehot = np.zeros((n_cells, len(idx)))
    onehot[cell_of, np.arange(len(idx))] = 1.0
    n = onehot.sum(axis=1)
    cells = design.cells.copy()
    cells["event"] = cells["period"] - cells["cohort"]
    cells["n"] = n.astype(np.int64)
    if not poisson:
        diff = X1 - X0
        return CellStats(cells=cells, effect=onehot @ (diff @ beta), grad=onehot @ diff)
    off = np.zeros(len(idx)) if offset is None else offset[idx]
    mu1 = np.exp(X1 @ beta + off)
    mu0 = np.exp(X0 @ beta + off)
    g1 = onehot @ (X1 * mu1[:, None])
    g0 = onehot @ (X0 * mu0[:, None])
    return CellStats(cells=cells, effect=onehot @ (mu1 - mu0), grad=g1 - g0,
                     mu1=onehot @ mu1, mu0=onehot @ mu0, grad1=g1, grad0=g0)
