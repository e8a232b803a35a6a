"""The Dumitrescu-Hurlin panel Granger non-causality test.

Per-unit regressions of the outcome on its own lags and the treatment's lags,
the average of the unit Wald statistics and its standardised versions
(:math:`Z` and, for finite T, :math:`\tilde Z`) with standard-normal p-values,
as R ``plm::pgrangertest`` and Stata ``xtgcause`` (Dumitrescu & Hurlin 2012,
*Economic Modelling* 29:1450-1460). Part of the feedback diagnostics of
:mod:`causalpolicing.diagnostics.feedback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..estimators.lags import add_shifts
from ..exceptions import SpecError
from ._common import (
    DETECTED,
    NOT_DETECTED,
    _check_alpha,
    _check_panel,
    _column,
    _fmt_p,
    _positive,
)

__all__ = ["GrangerTestResult", "granger_min_periods", "granger_test"]


# ============================================================ Granger (DH)
@dataclass(frozen=True)
class GrangerTestResult:
    """Dumitrescu-Hurlin panel Granger non-causality test of ``x -> y``.

    H0: ``x`` does not Granger-cause ``y`` in any unit; H1: it does in at
    least some units.

    Attributes
    ----------
    name
        ``"Granger (Dumitrescu-Hurlin)"``.
    x, y
        Cause and effect columns.
    lags
        Lag order ``K``.
    n_units
        Units ``N``.
    w_bar
        Average of the unit Wald statistics.
    z_bar, z_bar_p_value
        :math:`\\sqrt{N/(2K)}(\\bar W - K)` and its two-sided normal p-value.
    z_tilde, z_tilde_p_value
        The finite-T standardisation (DH 2012, eq. 33 with per-unit
        :math:`T_i`; as plm) and its p-value.
    statistic, p_value
        ``z_tilde`` and its p-value (the recommended statistic).
    balanced
        Whether every unit has the same number of periods.
    individual
        One row per unit: ``unit, wald, p_value`` (chi-squared(K)), ``n_obs``
        (regression observations), ``periods`` (:math:`T_i`).
    verdict, interpretation
        As in :class:`LeadsTestResult`.
    """

    name: str
    x: str
    y: str
    lags: int
    n_units: int
    w_bar: float
    z_bar: float
    z_bar_p_value: float
    z_tilde: float
    z_tilde_p_value: float
    statistic: float
    p_value: float
    balanced: bool
    alpha: float
    verdict: str
    interpretation: str
    individual: pd.DataFrame = field(repr=False)
    cross_section_demean: bool = False


def _unit_wald(yv: np.ndarray, ylags: np.ndarray, xlags: np.ndarray) -> float:
    """Wald statistic (chi-squared form, iid OLS covariance) of the x-lag block."""
    n = len(yv)
    k = xlags.shape[1]
    design = np.column_stack([np.ones(n), ylags, xlags])
    q, r = np.linalg.qr(design)
    if np.min(np.abs(np.diag(r))) <= 1e-10 * np.max(np.abs(np.diag(r))):
        return np.nan
    beta = np.linalg.solve(r, q.T @ yv)
    resid = yv - design @ beta
    s2 = float(resid @ resid) / (n - design.shape[1])
    rinv = np.linalg.inv(r)
    cov = s2 * (rinv @ rinv.T)
    b = beta[-k:]
    v = cov[-k:, -k:]
    return float(b @ np.linalg.solve(v, b))


def granger_min_periods(lags: int) -> int:
    """The fewest periods per unit the Dumitrescu-Hurlin Z-tilde accepts: ``6 + 3 * lags``.

    >>> granger_min_periods(1), granger_min_periods(2)
    (9, 12)
    """
    return 6 + 3 * _positive(lags, "lags")


def _too_short(unit: Any, periods: int, k: int) -> str:
    """Why unit ``unit`` (``periods`` usable periods) is too short for ``k`` lags, and the fix."""
    name = repr(unit) if isinstance(unit, str) else str(unit)
    text = (f"The Dumitrescu-Hurlin Granger test with {k} lag(s) needs more than {5 + 3 * k} "
            f"periods per unit (T_i > 5 + 3K); unit {name} has {periods} usable period(s)")
    fits = (periods - 6) // 3
    if fits >= 1:
        return f"{text}. Use {fits} lag(s) or fewer, or drop short units."
    return (f"{text}: the panel is too short for this test even with 1 lag (it needs "
            f"{granger_min_periods(1)} periods per unit). Drop short units or use a longer "
            "panel.")


def granger_test(
    panel: Any,
    x: str | None = None,
    y: str | None = None,
    lags: int = 1,
    *,
    cross_section_demean: bool = False,
    alpha: float = 0.05,
) -> GrangerTestResult:
    """Dumitrescu-Hurlin (2012) test that ``x`` does not Granger-cause ``y`` in any unit.

    For each unit :math:`i`, OLS of :math:`y_{it}` on a constant, :math:`y_{i,t-1},
    \\dots, y_{i,t-K}` and :math:`x_{i,t-1}, \\dots, x_{i,t-K}`; :math:`W_i` is the
    Wald statistic of the :math:`x` lags (iid covariance, :math:`s^2 =
    RSS/(T_i - 3K - 1)`; R ``lmtest::grangertest(..., test = "Chisq")``).
    With :math:`T_i` periods per unit (regressions use the :math:`T_i - K`
    periods with all lags; gap-aware lags lose more, and :math:`T_i` is then the
    regression observations plus :math:`K`):

    .. math::

        \\bar W = \\frac1N \\sum_i W_i, \\quad
        \\bar Z = \\sqrt{\\tfrac{N}{2K}}\\,(\\bar W - K), \\quad
        \\tilde Z = \\frac{\\sqrt N\\,\\bigl(\\bar W - \\frac1N\\sum_i K\\frac{T_i-3K-1}{T_i-3K-3}\\bigr)}
        {\\sqrt{\\frac1N\\sum_i 2K\\frac{(T_i-3K-1)^2 (T_i-2K-3)}{(T_i-3K-3)^2 (T_i-3K-5)}}},

    which for a balanced panel is :math:`\\sqrt{\\tfrac{N}{2K}\\tfrac{T-3K-5}{T-2K-3}}
    \\bigl(\\tfrac{T-3K-3}{T-3K-1}\\bar W - K\\bigr)` (Lopez & Weber 2017; DH's
    :math:`T` is our :math:`T - K`). P-values are two-sided standard normal, as
    plm.

    Parameters
    ----------
    panel
        The panel.
    x, y
        Cause and effect; default the panel's treatment and outcome. For the
        feedback question (do deaths drive enforcement?) pass
        ``x=outcome, y=treatment``.
    lags
        Lag order ``K`` (the same for every unit).
    cross_section_demean
        Subtract each period's cross-unit mean from ``x`` and ``y`` first. DH
        assume independent units; common shocks (a national wave of deaths and
        a national enforcement campaign) make every unit look Granger-causal.
        Demeaning removes the common component (off by default, as plm).
    alpha
        Test level for the verdict (on ``z_tilde``).

    Raises
    ------
    SpecError
        If a unit has too few periods (:math:`T_i \\le 5 + 3K`) or no variation.

    Examples
    --------
    Grunfeld's investment data (10 firms, 1935-1954; plm's example
    ``pgrangertest(inv ~ value, data = Grunfeld)`` prints ``Ztilde = 3.2896``):

    >>> import warnings
    >>> import statsmodels.api as sm
    >>> import causalpolicing as cp
    >>> g = sm.datasets.grunfeld.load_pandas().data
    >>> g = g[g["firm"] != "American Steel"].assign(year=lambda d: d["year"].astype(int))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     panel = cp.load_panel(g, unit="firm", time="year", outcome="invest",
    ...                           treatment="value")
    >>> t = granger_test(panel, x="value", y="invest", lags=1)
    >>> round(t.z_tilde, 4), round(t.z_tilde_p_value, 6)
    (3.2896, 0.001003)
    """
    _check_panel(panel, "granger_test")
    _check_alpha(alpha)
    k = _positive(lags, "lags")
    xc = _column(panel, x, "treatment", "x")
    yc = _column(panel, y, "outcome", "y")
    if xc == yc:
        raise SpecError(f"x and y must be different columns; both are {xc!r}.")
    work, ylag, _ = add_shifts(panel, yc, range(1, k + 1), ())
    work, xlag, _ = add_shifts(work, xc, range(1, k + 1), ())
    frame = work.to_frame()
    cols = [yc, *ylag, *xlag]
    if cross_section_demean:
        # subtract the cross-unit mean of the source column in the period each value is from
        tidx = work.time_index()
        for col, src, shift in ([(yc, yc, 0)] + [(c, yc, j + 1) for j, c in enumerate(ylag)]
                                + [(c, xc, j + 1) for j, c in enumerate(xlag)]):
            means = frame[src].groupby(tidx).mean()
            frame[col] = frame[col].to_numpy(dtype=float) - means.reindex(
                tidx - shift).to_numpy(dtype=float)
    ok = frame[cols].notna().all(axis=1).to_numpy()
    rows = []
    for unit, idx in frame.groupby(work.unit, sort=True, observed=True).indices.items():
        sel = idx[ok[idx]]
        n_i = len(sel)
        t_i = n_i + k
        if t_i <= 5 + 3 * k:
            raise SpecError(_too_short(unit, t_i, k))
        sub = frame.iloc[sel]
        w = _unit_wald(sub[yc].to_numpy(dtype=float), sub[ylag].to_numpy(dtype=float),
                       sub[xlag].to_numpy(dtype=float))
        if not np.isfinite(w):
            raise SpecError(
                f"Unit {unit!r}: the regression of {yc!r} on its lags and lags of {xc!r} is "
                "singular (no variation in a series); drop the unit or check the data.")
        rows.append({"unit": unit, "wald": w, "p_value": float(stats.chi2(k).sf(w)),
                     "n_obs": n_i, "periods": t_i})
    ind = pd.DataFrame(rows, columns=["unit", "wald", "p_value", "n_obs", "periods"])
    n = len(ind)
    w_bar = float(ind["wald"].mean())
    z_bar = float(np.sqrt(n / (2 * k)) * (w_bar - k))
    ti = ind["periods"].to_numpy(dtype=float)
    mean_w = k * (ti - 3 * k - 1) / (ti - 3 * k - 3)
    var_w = 2 * k * (ti - 3 * k - 1) ** 2 * (ti - 2 * k - 3) / (
        (ti - 3 * k - 3) ** 2 * (ti - 3 * k - 5))
    z_tilde = float(np.sqrt(n) * (w_bar - mean_w.mean()) / np.sqrt(var_w.mean()))
    p_bar = float(2 * stats.norm.sf(abs(z_bar)))
    p_tilde = float(2 * stats.norm.sf(abs(z_tilde)))
    if p_tilde < alpha:
        verdict = DETECTED
        text = (f"Past {xc} helps predict {yc} beyond {yc}'s own past in at least some units "
                f"(Z-tilde = {z_tilde:.2f}, {_fmt_p(p_tilde)}): {yc} responds to {xc}.")
    else:
        verdict = NOT_DETECTED
        text = (f"Past {xc} does not help predict {yc} beyond its own past (Z-tilde = "
                f"{z_tilde:.2f}, {_fmt_p(p_tilde)}): no evidence that {yc} responds to {xc}.")
    return GrangerTestResult(
        "Granger (Dumitrescu-Hurlin)", xc, yc, k, n, w_bar, z_bar, p_bar, z_tilde, p_tilde,
        z_tilde, p_tilde, bool(len(set(ti)) == 1), alpha, verdict, text, ind,
        cross_section_demean)
