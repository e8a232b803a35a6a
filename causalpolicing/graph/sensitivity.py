r"""Sensitivity to unobserved confounding: Cinelli-Hazlett for linear fixed-effects
models and the E-value for rate ratios.

Cinelli & Hazlett (2020)
------------------------
For a linear model ``y ~ d + X`` (here with fixed effects partialled out), an
omitted confounder ``Z`` changes the coefficient of ``d`` by

.. math::

    |\text{bias}| = \mathrm{se}(\hat\beta)\,\sqrt{\mathrm{df}}\,
    \sqrt{\frac{R^2_{Y\sim Z|D,X}\; R^2_{D\sim Z|X}}{1 - R^2_{D\sim Z|X}}},

where the partial :math:`R^2` are *within* (after the fixed effects and the
covariates), ``se`` is the classical (homoskedastic) standard error and ``df``
the residual degrees of freedom of the fit. With fixed effects, ``df`` is the
residual degrees of freedom **net of the absorbed effects**:
``n - k - (absorbed fixed-effect parameters)`` (``results.glance()["df_resid"]``),
not ``n - k``: the formula is exact in the within regression, whose residual
variance is estimated on those degrees of freedom. The clustered standard
errors of the fit do not enter (sensemakr's statistics are defined on the
classical ``t``); they matter only for the reported inference of the fit itself.

Reported (all from the classical ``t`` of the treatment and ``df``):

* partial :math:`R^2_{Y\sim D|X} = t^2 / (t^2 + \mathrm{df})`: the share of the
  outcome's residual variance the treatment explains (a confounder explaining
  all the rest of the outcome would need this much of the treatment's variance
  to explain the estimate away);
* robustness value :math:`RV_q = \tfrac12(\sqrt{f_q^4 + 4 f_q^2} - f_q^2)`,
  :math:`f_q = q |t| / \sqrt{\mathrm{df}}`: a confounder explaining ``RV_q`` of
  the residual variance of *both* treatment and outcome reduces the estimate by
  ``100 q`` percent; weaker ones cannot;
* :math:`RV_{q,\alpha}`: the same for making the estimate insignificant at
  ``alpha`` (:math:`f_{q,\alpha} = f_q - |t^*_{\alpha/2,\mathrm{df}-1}| /
  \sqrt{\mathrm{df}-1}`; zero when already insignificant; the extreme-case
  formula :math:`(f_q^2 - f^{*2})/(1 + f_q^2)` when :math:`f_q > 1/f^*`, as sensemakr);
* bounds by benchmark covariates: a confounder ``kd`` times as strong as the
  covariate ``X_j`` in explaining the treatment and ``ky`` times as strong in
  explaining the outcome (Cinelli & Hazlett, section 6.1) implies
  :math:`R^2_{D\sim Z|X} = k_D\, r_D/(1-r_D)` and
  :math:`R^2_{Y\sim Z|D,X} \le \big((\sqrt{k_Y} + \sqrt{\eta})/\sqrt{1-\eta}\big)^2\,
  r_Y/(1-r_Y)`, :math:`\eta = k_D r_D^2 / ((1 - k_D r_D)(1 - r_D))`, with
  :math:`r_D = R^2_{D\sim X_j|X_{-j}}`, :math:`r_Y = R^2_{Y\sim X_j|D,X_{-j}}`;
  the adjusted estimate, standard error
  (:math:`\mathrm{se}\sqrt{(1-R^2_{Y\sim Z|D,X})/(1-R^2_{D\sim Z|X})}\sqrt{\mathrm{df}/(\mathrm{df}-1)}`),
  ``t`` and confidence interval (``t`` with ``df - 1`` degrees of freedom) follow.

E-value (VanderWeele & Ding 2017)
---------------------------------
For a rate ratio ``RR > 1``, :math:`E = RR + \sqrt{RR (RR - 1)}` (for
``RR < 1`` use ``1/RR``): the minimum strength of association, on the risk
ratio scale, that a confounder would need with both treatment and outcome
(beyond the measured covariates) to explain the rate ratio away. The E-value of
the confidence interval uses the limit closest to 1 (1 if the interval
contains 1). A per-unit rate ratio depends on the unit of the treatment:
:func:`evalue_rate_ratio` takes ``delta``, the change of treatment to evaluate.

References
----------
Cinelli C, Hazlett C (2020). Making sense of sensitivity: extending omitted
variable bias. *JRSS B* 82:39-67. VanderWeele TJ, Ding P (2017). Sensitivity
analysis in observational research: introducing the E-value. *Ann Intern Med*
167:268-274.

Examples
--------
>>> from causalpolicing.graph.sensitivity import robustness_value, partial_r2, evalue
>>> round(partial_r2(4.18445, 783), 5)                  # Darfur: directlyharmed
0.02187
>>> round(robustness_value(4.18445, 783), 4), round(robustness_value(4.18445, 783, alpha=0.05), 4)
(0.1388, 0.0763)
>>> e = evalue(3.9, 1.8, 8.7)
>>> round(e.evalue, 2), round(e.evalue_ci, 2)
(7.26, 3.0)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..estimators.linear import FEOLSResults, feols
from ..exceptions import SpecError
from .refuters._model import PanelModel

__all__ = [
    "EValue",
    "OVBSensitivity",
    "adjusted_estimate",
    "adjusted_se",
    "bias_bound",
    "benchmark_bounds",
    "evalue",
    "evalue_rate_ratio",
    "ovb_sensitivity",
    "partial_r2",
    "robustness_value",
]

BOUND_COLUMNS = ["bound", "covariate", "kd", "ky", "r2dz_x", "r2yz_dx", "adjusted_estimate",
                 "adjusted_se", "adjusted_t", "adjusted_lower", "adjusted_upper"]


# ------------------------------------------------------------------- closed forms
def _check_dof(dof: Any) -> float:
    if isinstance(dof, bool) or not isinstance(dof, (int, float, np.integer)) or dof <= 1:
        raise SpecError(f"dof must be a number of residual degrees of freedom > 1; got {dof!r}.")
    return float(dof)


def _check_r2(name: str, v: Any) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 0) or np.any(a >= 1):
        raise SpecError(f"{name} must be partial R-squared values in [0, 1); got {v!r}.")
    return a


def partial_r2(t_value: float, dof: float) -> float:
    """Partial R² of a regressor with the outcome from its classical t and residual df:
    ``t² / (t² + dof)``.

    >>> partial_r2(2.0, 96)
    0.04
    """
    dof = _check_dof(dof)
    return float(t_value**2 / (t_value**2 + dof))


def robustness_value(t_value: float, dof: float, q: float = 1.0,
                     alpha: float | None = None) -> float:
    """Robustness value ``RV_q`` (``alpha=None``) or ``RV_{q,alpha}`` (Cinelli & Hazlett 2020).

    Parameters
    ----------
    t_value
        Classical t statistic of the treatment.
    dof
        Residual degrees of freedom (net of absorbed fixed effects).
    q
        Share of the estimate to explain away (1: all of it).
    alpha
        Significance level: the strength that makes the adjusted estimate
        insignificant at ``alpha`` (``t`` with ``dof - 1`` degrees of freedom).

    >>> round(robustness_value(2.0, 96), 4)
    0.1844
    """
    from scipy import stats

    dof = _check_dof(dof)
    if isinstance(q, bool) or not isinstance(q, (int, float)) or q <= 0:
        raise SpecError(f"q must be a positive number (1 = the whole estimate); got {q!r}.")
    fq = q * abs(t_value) / np.sqrt(dof)
    if alpha is None:
        return float(0.5 * (np.sqrt(fq**4 + 4 * fq**2) - fq**2))
    if not 0 < alpha < 1:
        raise SpecError(f"alpha must be strictly between 0 and 1; got {alpha!r}.")
    f_crit = abs(float(stats.t.ppf(alpha / 2, dof - 1))) / np.sqrt(dof - 1)
    fqa = fq - f_crit
    if fqa <= 0:
        return 0.0
    if fq > 1 / f_crit:
        return float((fq**2 - f_crit**2) / (1 + fq**2))
    return float(0.5 * (np.sqrt(fqa**4 + 4 * fqa**2) - fqa**2))


def bias_bound(std_error: float, dof: float, r2dz_x: Any, r2yz_dx: Any) -> np.ndarray:
    """Absolute bias from a confounder with partial R² ``r2dz_x`` (with the treatment)
    and ``r2yz_dx`` (with the outcome): ``se √dof √(r2yz_dx r2dz_x / (1 - r2dz_x))``."""
    dof = _check_dof(dof)
    d, y = _check_r2("r2dz_x", r2dz_x), _check_r2("r2yz_dx", r2yz_dx)
    return std_error * np.sqrt(dof) * np.sqrt(y * d / (1 - d))


def adjusted_estimate(estimate: float, std_error: float, dof: float, r2dz_x: Any,
                      r2yz_dx: Any, reduce: bool = True) -> np.ndarray:
    """The estimate moved toward zero (``reduce=True``) or away by the bias bound."""
    b = bias_bound(std_error, dof, r2dz_x, r2yz_dx)
    s = np.sign(estimate) if estimate != 0 else 1.0
    return s * (abs(estimate) - b) if reduce else s * (abs(estimate) + b)


def adjusted_se(std_error: float, dof: float, r2dz_x: Any, r2yz_dx: Any) -> np.ndarray:
    """Standard error after adjusting for the confounder:
    ``se √((1 - r2yz_dx)/(1 - r2dz_x)) √(dof/(dof - 1))``."""
    dof = _check_dof(dof)
    d, y = _check_r2("r2dz_x", r2dz_x), _check_r2("r2yz_dx", r2yz_dx)
    return std_error * np.sqrt((1 - y) / (1 - d)) * np.sqrt(dof / (dof - 1))


def benchmark_bounds(r2dxj_x: float, r2yxj_dx: float, kd: Any = 1.0, ky: Any = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Partial R² of a confounder ``kd``/``ky`` times as strong as a benchmark covariate.

    Parameters
    ----------
    r2dxj_x
        Partial R² of the covariate with the treatment (given the other covariates).
    r2yxj_dx
        Partial R² of the covariate with the outcome (given treatment and covariates).
    kd, ky
        Multiples (arrays allowed; ``ky`` defaults to ``kd``).

    Returns
    -------
    r2dz_x, r2yz_dx
        The implied partial R² of the confounder (``r2yz_dx`` capped at 1).
    """
    kd_a = np.atleast_1d(np.asarray(kd, dtype=float))
    ky_a = kd_a if ky is None else np.atleast_1d(np.asarray(ky, dtype=float))
    if np.any(kd_a <= 0) or np.any(ky_a <= 0):
        raise SpecError(f"kd and ky must be positive multiples; got kd={kd!r}, ky={ky!r}.")
    rd = float(_check_r2("r2dxj_x", r2dxj_x))
    ry = float(_check_r2("r2yxj_dx", r2yxj_dx))
    r2dz = kd_a * rd / (1 - rd)
    if np.any(r2dz >= 1):
        raise SpecError(f"kd={kd!r} is impossible for this benchmark (implied partial R² with "
                        "the treatment >= 1); use a smaller kd.")
    eta = kd_a * rd**2 / ((1 - kd_a * rd) * (1 - rd))
    if np.any(eta >= 1):
        raise SpecError(f"kd={kd!r} is impossible for this benchmark; use a smaller kd.")
    r2yz = ((np.sqrt(ky_a) + np.sqrt(eta)) / np.sqrt(1 - eta)) ** 2 * (ry / (1 - ry))
    return r2dz, np.minimum(r2yz, 1.0)


# ----------------------------------------------------------------- from a fit
def _classical(res: Any, term: str) -> tuple[float, float, float, float]:
    """(estimate, classical se, classical t, residual df net of fixed effects) of a fit."""
    dof = float(res.glance()["df_resid"].iloc[0])
    none = res.with_cov("iid", ssc="none")  # RSS/N (X~'X~)^{-1}
    var = float(none.cov.loc[term, term]) * res.nobs / dof
    est = float(res.params[term])
    se = float(np.sqrt(var))
    return est, se, est / se, dof


@dataclass(frozen=True, eq=False)
class OVBSensitivity:
    """Cinelli-Hazlett sensitivity of one linear estimate (see the module notes).

    Attributes
    ----------
    term, estimate
        The treatment and its estimate.
    std_error, t_value, dof
        Classical standard error, t and residual degrees of freedom (net of the
        absorbed fixed effects) on which the statistics rest.
    partial_r2
        Partial R² of the treatment with the outcome.
    rv_q, rv_qa
        Robustness values ``RV_q`` and ``RV_{q,alpha}``.
    q, alpha
        Their settings.
    reading
        What the numbers mean, and what they do not.
    """

    term: str
    estimate: float
    std_error: float
    t_value: float
    dof: float
    partial_r2: float
    rv_q: float
    rv_qa: float
    q: float
    alpha: float
    reading: str
    bounds_: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUND_COLUMNS),
                                  repr=False)
    benchmarks_: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bounds_", self.bounds_.copy())
        object.__setattr__(self, "benchmarks_", self.benchmarks_.copy())

    @property
    def bounds(self) -> pd.DataFrame:
        """Bounds by benchmark covariates, one row per covariate and multiple (a copy):
        ``bound, covariate, kd, ky, r2dz_x, r2yz_dx, adjusted_estimate, adjusted_se,
        adjusted_t, adjusted_lower, adjusted_upper``."""
        return self.bounds_.copy()

    @property
    def benchmarks(self) -> pd.DataFrame:
        """Each benchmark covariate's own partial R² with the treatment (``r2dxj_x``)
        and with the outcome (``r2yxj_dx``), a copy."""
        return self.benchmarks_.copy()

    def adjusted(self, r2dz_x: Any, r2yz_dx: Any, reduce: bool = True) -> pd.DataFrame:
        """Adjusted estimate, se, t and interval for given confounder strengths."""
        d = np.atleast_1d(np.asarray(r2dz_x, dtype=float))
        y = np.atleast_1d(np.asarray(r2yz_dx, dtype=float))
        return _adjusted_frame(self.estimate, self.std_error, self.dof, d, y, self.alpha,
                               reduce)

    def summary(self) -> pd.DataFrame:
        """One row: term, estimate, se, t, dof, partial_r2, rv_q, rv_qa, q, alpha."""
        return pd.DataFrame([{
            "term": self.term, "estimate": self.estimate, "std_error": self.std_error,
            "t_value": self.t_value, "dof": self.dof, "partial_r2": self.partial_r2,
            "rv_q": self.rv_q, "rv_qa": self.rv_qa, "q": self.q, "alpha": self.alpha}])


def _adjusted_frame(est: float, se: float, dof: float, d: np.ndarray, y: np.ndarray,
                    alpha: float, reduce: bool) -> pd.DataFrame:
    from scipy import stats

    d, y = np.broadcast_arrays(d, y)
    new = adjusted_estimate(est, se, dof, d, y, reduce)
    nse = adjusted_se(se, dof, d, y)
    crit = float(stats.t.ppf(1 - alpha / 2, dof - 1))
    return pd.DataFrame({"r2dz_x": d, "r2yz_dx": y, "adjusted_estimate": new,
                         "adjusted_se": nse, "adjusted_t": new / nse,
                         "adjusted_lower": new - crit * nse, "adjusted_upper": new + crit * nse})


def ovb_sensitivity(results: Any, data: Any = None, *, treatment: str | None = None,
                    benchmarks: Sequence[str] = (), kd: Any = (1, 2, 3), ky: Any = None,
                    q: float = 1.0, alpha: float = 0.05, reduce: bool = True) -> OVBSensitivity:
    """Cinelli-Hazlett sensitivity analysis of a linear fixed-effects estimate.

    Parameters
    ----------
    results
        A fit of :func:`causalpolicing.feols` (OLS/WLS, not IV).
    data
        The data it was fit on; needed only for ``benchmarks`` (the treatment is
        regressed on the covariates in the same rows).
    treatment
        The regressor (default: the first).
    benchmarks
        Observed covariates (terms of the formula) to benchmark the confounder
        against.
    kd, ky
        Multiples of each benchmark's strength with the treatment and the
        outcome (``ky`` defaults to ``kd``).
    q
        Share of the estimate to explain away for ``RV_q``.
    alpha
        Level of ``RV_{q,alpha}`` and of the adjusted intervals.
    reduce
        Bounds move the estimate toward zero (the usual question).

    Returns
    -------
    OVBSensitivity

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.sensitivity import ovb_sensitivity
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 + unemployment | canton + year", panel)
    >>> s = ovb_sensitivity(res, panel, benchmarks=["unemployment"], kd=[1, 5])
    >>> s.dof, round(s.rv_q, 3), list(s.bounds["bound"])
    (798.0, 0.071, ['1x unemployment', '5x unemployment'])
    """
    if not isinstance(results, FEOLSResults) or results.estimator not in ("FEOLS", "OLS"):
        raise SpecError(
            "ovb_sensitivity needs a linear fit of cp.feols (OLS/WLS); got "
            f"{getattr(results, 'estimator', type(results).__name__)!r}. For rate ratios of "
            "a Poisson fit use evalue_rate_ratio().")
    if not 0 < alpha < 1:
        raise SpecError(f"alpha must be strictly between 0 and 1; got {alpha!r}.")
    params = results.params
    term = treatment if treatment is not None else next(
        (t for t in params.index if t != "Intercept"), None)
    if term not in params.index:
        raise SpecError(f"treatment={treatment!r} is not an estimated term; choose one of "
                        f"{list(params.index)}.")
    est, se, t, dof = _classical(results, term)
    r2 = partial_r2(t, dof)
    rv = robustness_value(t, dof, q)
    rva = robustness_value(t, dof, q, alpha)
    if isinstance(benchmarks, str):
        benchmarks = [benchmarks]
    rows, bench_rows = [], []
    if benchmarks:
        bench = _benchmark_r2(results, data, term, list(benchmarks))
        for cov, (rd, ry) in bench.items():
            bench_rows.append({"covariate": cov, "r2dxj_x": rd, "r2yxj_dx": ry})
            kd_a = np.atleast_1d(np.asarray(kd, dtype=float))
            ky_a = kd_a if ky is None else np.atleast_1d(np.asarray(ky, dtype=float))
            kd_a, ky_a = np.broadcast_arrays(kd_a, ky_a)
            r2dz, r2yz = benchmark_bounds(rd, ry, kd_a, ky_a)
            adj = _adjusted_frame(est, se, dof, r2dz, np.minimum(r2yz, 1 - 1e-12), alpha,
                                  reduce)
            for i in range(len(kd_a)):
                lab = (f"{kd_a[i]:g}x {cov}" if kd_a[i] == ky_a[i]
                       else f"{kd_a[i]:g}x/{ky_a[i]:g}x {cov}")
                rows.append({"bound": lab, "covariate": cov, "kd": float(kd_a[i]),
                             "ky": float(ky_a[i]), **adj.iloc[i].to_dict()})
    bounds = pd.DataFrame(rows, columns=BOUND_COLUMNS)
    qtxt = "reduce it to zero" if q == 1 else f"reduce it by {100 * q:g}%"
    reading = (
        f"An unobserved confounder would have to explain {100 * rv:.1f}% of the residual "
        f"variance (after the fixed effects and covariates) of both {term} and the outcome to "
        f"{qtxt}, and {100 * rva:.1f}% of both to make it insignificant at {alpha:g}; "
        f"{term} itself explains {100 * r2:.2f}% of the outcome's residual variance.")
    if bench_rows:
        b = bench_rows[0]
        reading += (
            f" For comparison, {b['covariate']} explains {100 * b['r2dxj_x']:.2f}% of "
            f"{term}'s and {100 * b['r2yxj_dx']:.2f}% of the outcome's residual variance.")
    reading += (" This measures how strong confounding would have to be, not whether it "
                "exists; the statistics use the classical t and the residual degrees of "
                "freedom net of the fixed effects, not the clustered standard errors.")
    return OVBSensitivity(
        term=term, estimate=est, std_error=se, t_value=t, dof=dof, partial_r2=r2, rv_q=rv,
        rv_qa=rva, q=float(q), alpha=float(alpha), reading=reading, bounds_=bounds,
        benchmarks_=pd.DataFrame(bench_rows, columns=["covariate", "r2dxj_x", "r2yxj_dx"]))


def _benchmark_r2(results: Any, data: Any, term: str, covs: list[str]
                  ) -> dict[str, tuple[float, float]]:
    """Partial R² of each benchmark covariate with the treatment and with the outcome."""
    if data is None:
        raise SpecError("benchmarks need the data the model was fit on: "
                        "ovb_sensitivity(res, data, benchmarks=[...]).")
    model = PanelModel(results, data, treatment=term)
    terms = [t for t in model.formula.exog if t.name in model.kept_terms]
    names = [t.name for t in terms]
    bad = [c for c in covs if c not in names or c == term]
    if bad:
        raise SpecError(f"benchmarks {bad} are not covariates of the fit; choose from "
                        f"{[n for n in names if n != term]}.")
    others = [t for t in terms if t.name != term]
    tf = model.term_obj
    # the treatment regressed on the other covariates in the estimation rows
    sub = model.frame.iloc[model.positions]
    f_d = dataclasses.replace(model.formula, depvar=tf, exog=tuple(others))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res_d = feols(f_d, sub, vcov="iid", weights=model.spec["weights"],
                      singletons="keep", tol=model.spec["tol"])
    out = {}
    for c in covs:
        _, _, t_y, dof_y = _classical(results, c)
        _, _, t_d, dof_d = _classical(res_d, c)
        out[c] = (partial_r2(t_d, dof_d), partial_r2(t_y, dof_y))
    return out


# ------------------------------------------------------------------------ E-value
@dataclass(frozen=True)
class EValue:
    """E-value of a rate ratio and of its confidence interval.

    Attributes
    ----------
    rate_ratio, conf_low, conf_high
        The rate ratio and its interval (``nan`` when not given).
    evalue
        E-value of the point estimate.
    evalue_ci
        E-value of the interval limit closest to 1 (1 if the interval contains
        1; ``nan`` without an interval).
    reading
        What it means and what it does not.
    """

    rate_ratio: float
    conf_low: float
    conf_high: float
    evalue: float
    evalue_ci: float
    reading: str


def _e(rr: float) -> float:
    r = rr if rr >= 1 else 1 / rr
    return float(r + np.sqrt(r * (r - 1)))


def evalue(rate_ratio: float, conf_low: float | None = None, conf_high: float | None = None
           ) -> EValue:
    """E-value of a rate (or risk) ratio and of its confidence interval.

    Parameters
    ----------
    rate_ratio
        The ratio (> 0).
    conf_low, conf_high
        Its confidence limits (optional; both or none).

    Examples
    --------
    >>> e = evalue(0.8, 0.71, 0.91)
    >>> round(e.evalue, 3), round(e.evalue_ci, 3)
    (1.809, 1.429)
    """
    vals = [rate_ratio] + [v for v in (conf_low, conf_high) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not (
            np.isfinite(v) and v > 0) for v in vals):
        raise SpecError(f"rate ratios must be positive finite numbers; got {vals!r}.")
    if (conf_low is None) != (conf_high is None):
        raise SpecError("give both conf_low and conf_high, or neither.")
    rr = float(rate_ratio)
    e = _e(rr)
    if conf_low is None:
        lo = hi = float("nan")
        e_ci = float("nan")
    else:
        lo, hi = float(conf_low), float(conf_high)
        if not lo <= rr <= hi:
            raise SpecError(f"the interval [{lo}, {hi}] must contain the ratio {rr}.")
        e_ci = 1.0 if lo <= 1 <= hi else _e(lo if rr > 1 else hi)
    direction = "raise" if rr >= 1 else "lower"
    reading = (
        f"To explain away the rate ratio {rr:.3g}, an unmeasured confounder would need to be "
        f"associated with both the treatment and the outcome by a risk ratio of at least "
        f"{e:.2f} each, beyond the measured covariates; weaker confounding could not.")
    if np.isfinite(e_ci):
        reading += (
            " The interval already includes 1, so no confounding is needed to make it "
            "compatible with no effect." if e_ci == 1.0 else
            f" To move the confidence interval to include 1 a risk ratio of {e_ci:.2f} "
            "suffices.")
    reading += (f" This does not say such a confounder exists, nor that one would {direction} "
                "the ratio in the direction assumed.")
    return EValue(rate_ratio=rr, conf_low=lo, conf_high=hi, evalue=e, evalue_ci=e_ci,
                  reading=reading)


def evalue_rate_ratio(results: Any, term: str | None = None, *, delta: float = 1.0,
                      level: float = 0.95) -> EValue:
    """E-value of a Poisson (or other log-link) fit's rate ratio for a change ``delta``.

    The rate ratio is ``exp(delta * beta)`` with the interval
    ``exp(delta * conf_int(level))`` from the fit's own covariance.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.sensitivity import evalue_rate_ratio
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    >>> e = evalue_rate_ratio(res, "offences_per_1000", delta=5)
    >>> e.rate_ratio > 1, e.evalue > e.evalue_ci >= 1
    (True, True)
    """
    if results.spec.get("link") != "log":
        raise SpecError(
            "evalue_rate_ratio needs a log-link fit (cp.fepois, cp.fenegbin) whose "
            "coefficients are log rate ratios; for a linear fit use ovb_sensitivity().")
    params = results.params
    term = term if term is not None else str(params.index[0])
    if term not in params.index:
        raise SpecError(f"term={term!r} is not estimated; choose one of {list(params.index)}.")
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta == 0:
        raise SpecError(f"delta must be a non-zero change of the treatment; got {delta!r}.")
    ci = results.conf_int(level).loc[term]
    b = float(params[term]) * delta
    lims = sorted([float(ci["conf_low"]) * delta, float(ci["conf_high"]) * delta])
    return evalue(float(np.exp(b)), float(np.exp(lims[0])), float(np.exp(lims[1])))
