r"""HonestDiD: confidence sets for an event study's effect under bounded violations of parallel trends.

Rambachan & Roth (2023, *Review of Economic Studies* 90(5):2555-2591) replace "parallel
trends hold" by "the post-treatment violation :math:`\delta_{post}` is not much worse than
what the pre-trends show", indexed by a number :math:`M`, and give confidence sets for
:math:`\theta = l'\tau_{post}` (default: the first post-period effect) that are valid
whenever the restriction holds:

* **relative magnitudes** :math:`\Delta^{RM}(\bar M)`: each post-period first difference of
  :math:`\delta` is at most :math:`\bar M` times the largest pre-period first difference
  (:math:`\bar M = 1`: no worse than the worst pre-period change). Inference by the
  conditional / least-favourable hybrid test of Andrews, Roth & Pakes (``"C-LF"``, R's
  default), inverted over a grid of :math:`\theta` (:mod:`._honest_arp`);
* **smoothness** :math:`\Delta^{SD}(M)`: the slope of :math:`\delta` changes by at most
  :math:`M` between consecutive periods (:math:`M = 0`: the pre-trend continues exactly
  linearly). Inference by the optimal fixed-length confidence interval (``"FLCI"``, R's
  default; :mod:`._honest_flci`).

The **breakdown value** is the largest :math:`M` (or :math:`\bar M`) at which the robust
confidence set still excludes zero: how large the violation may be before the conclusion
"the effect is not zero" is lost.

Examples
--------
>>> import numpy as np
>>> from causalpolicing.diagnostics import honest_did
>>> beta = np.array([0.01, -0.005, 0.002, 0.05, 0.06])        # 3 pre, 2 post periods
>>> sigma = np.diag([0.004, 0.004, 0.004, 0.005, 0.006]) ** 2
>>> res = honest_did(betahat=beta, sigma=sigma, num_pre=3, num_post=2,
...                  method="smoothness", grid=[0.0, 0.01])
>>> res.robust.round(4)
      M   lower   upper
0  0.00  0.0416  0.0616
1  0.01  0.0315  0.0725
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._hints import did_you_mean
from ..exceptions import AssumptionWarning, SpecError
from ._honest_arp import rm_confidence_set
from ._honest_flci import flci, sd_default_grid

__all__ = ["HonestDiDResults", "METHODS", "honest_did"]

#: The restrictions: name -> (the parameter's name, R's Delta, R's default CI method).
METHODS: dict[str, tuple[str, str, str]] = {
    "relative_magnitude": ("Mbar", "DeltaRM", "C-LF"),
    "smoothness": ("M", "DeltaSD", "FLCI"),
}


@dataclass(frozen=True)
class HonestDiDResults:
    """Robust confidence sets over M, the original CI and the breakdown value.

    Attributes
    ----------
    method
        ``"relative_magnitude"`` (:math:`\\Delta^{RM}(\\bar M)`, C-LF) or ``"smoothness"``
        (:math:`\\Delta^{SD}(M)`, FLCI).
    estimate, std_error
        :math:`l'\\hat\\tau_{post}` and its standard error.
    conf_low, conf_high
        The original (parallel-trends) confidence interval, :math:`\\hat\\theta \\pm
        z_{1-\\alpha/2}\\,se` (R ``constructOriginalCS``).
    breakdown
        The largest M whose robust set excludes zero (``nan`` when the set at the smallest
        M already includes zero; ``inf`` when none of the M tried reached zero), to within
        :attr:`breakdown_tol`.
    l_vec, num_pre, num_post, alpha
        The target :math:`\\theta = l'\\tau_{post}`, the numbers of pre- and post-period
        coefficients, the level.
    """

    method: str
    estimate: float
    std_error: float
    conf_low: float
    conf_high: float
    breakdown: float
    breakdown_tol: float
    l_vec: tuple[float, ...]
    num_pre: int
    num_post: int
    alpha: float
    target: str
    _robust: pd.DataFrame = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def parameter(self) -> str:
        """The name of the sensitivity parameter: ``"Mbar"`` or ``"M"``."""
        return METHODS[self.method][0]

    @property
    def robust(self) -> pd.DataFrame:
        """One row per M: ``M`` (or ``Mbar``), ``lower``, ``upper`` (a copy)."""
        return self._robust.copy()

    def tidy(self) -> pd.DataFrame:
        """R's table: the original CI then one row per M (``lb, ub, method, Delta, M``).

        Columns ``conf_low, conf_high, method, delta, <M or Mbar>, excludes_zero``; the first
        row is the original CI (``method="Original"``, ``delta`` and M missing).
        """
        name, delta, ci_method = METHODS[self.method]
        rob = self._robust
        rows = pd.DataFrame({
            "conf_low": rob["lower"], "conf_high": rob["upper"], "method": ci_method,
            "delta": delta, name: rob[name]})
        orig = pd.DataFrame({"conf_low": [self.conf_low], "conf_high": [self.conf_high],
                             "method": ["Original"], "delta": [None], name: [np.nan]})
        out = pd.concat([orig, rows], ignore_index=True)
        out["excludes_zero"] = (out["conf_low"] > 0) | (out["conf_high"] < 0)
        return out

    def narrative(self) -> str:
        """One plain-language sentence on what the sensitivity analysis shows."""
        level = f"{100 * (1 - self.alpha):g}%"
        what = f"{self.target} ({self.estimate:.4g}; {level} CI {self.conf_low:.4g} to " \
               f"{self.conf_high:.4g} under parallel trends)"
        name = self.parameter
        orig_sig = self.conf_low > 0 or self.conf_high < 0
        if np.isnan(self.breakdown):
            first = float(self._robust[name].iloc[0])
            base = "parallel trends" if orig_sig else "the original interval"
            return (f"Even at {name} = {first:g} the robust {level} confidence set for the "
                    f"{what} "
                    f"includes zero, so the evidence for an effect does not survive "
                    f"{'the mildest violation of ' + base if orig_sig else 'this analysis'}.")
        if np.isinf(self.breakdown):
            top = float(self._robust[name].max())
            return (f"The robust {level} confidence set for the {what} excludes zero at every "
                    f"{name} tried (up to {top:g}); extend the grid to find where it breaks "
                    "down.")
        k = f"{self.breakdown:.3g}"
        if self.method == "relative_magnitude":
            return (f"The {what} stays significantly different from zero unless "
                    f"post-treatment violations of parallel trends exceed {k} times the "
                    f"largest pre-treatment one (breakdown Mbar = {k}, Rambachan-Roth "
                    "relative magnitudes).")
        return (f"The {what} stays significantly different from zero unless the "
                f"slope of the differential trend changes by more than {k} per period "
                f"(outcome units) after treatment (breakdown M = {k}; M = 0 allows only a "
                "linear extrapolation of the pre-trend).")

    def summary(self) -> str:
        """A text block: the settings, the table of :meth:`tidy` and :meth:`narrative`."""
        name, delta, ci_method = METHODS[self.method]
        head = (f"HonestDiD sensitivity ({delta}, {ci_method}); theta = {self.target}, "
                f"{self.num_pre} pre / {self.num_post} post periods, alpha = {self.alpha:g}")
        return "\n".join([head, self.tidy().to_string(index=False),
                          f"breakdown {name} = {self.breakdown:.4g} (tolerance "
                          f"{self.breakdown_tol:.2g})", self.narrative()])


# -- inputs ------------------------------------------------------------------------------------
def _from_results(results: Any) -> tuple[np.ndarray, np.ndarray, int, int, list[int]]:
    et = getattr(results, "event_time", None)
    cov = getattr(results, "cov", None)
    if not isinstance(et, pd.DataFrame) or not isinstance(cov, pd.DataFrame):
        raise SpecError(
            "results must follow the event-time contract (an 'event_time' DataFrame and a "
            "'cov' DataFrame over its terms), e.g. cp.event_study(...); got "
            f"{type(results).__name__}. Or pass betahat=, sigma=, num_pre=, num_post=.")
    missing = [c for c in ("event_time", "term", "estimate", "reference") if c not in et.columns]
    if missing:
        raise SpecError(f"results.event_time lacks the columns {missing}.")
    refs = et.loc[et["reference"].astype(bool), "event_time"].astype(int).tolist()
    if len(refs) != 1:
        raise SpecError(f"results.event_time must have exactly one reference row (the "
                        f"normalised period); it has {len(refs)}.")
    ref = refs[0]
    est = et[~et["reference"].astype(bool)].sort_values("event_time")
    terms = est["term"].astype(str).tolist()
    absent = [t for t in terms if t not in cov.index]
    if absent:
        raise SpecError(f"The event-time terms {absent} are not in results.cov (dropped as "
                        "collinear?); HonestDiD needs every coefficient of the window. "
                        "Narrow the window (leads=/lags=) to the estimated periods.")
    times = est["event_time"].astype(int).tolist()
    allt = sorted(times + [ref])
    if any(b - a != 1 for a, b in itertools.pairwise(allt)):
        raise SpecError(f"HonestDiD needs consecutive event times around the reference "
                        f"period {ref}; got {allt}. Restrictions bound changes between "
                        "adjacent periods, so a gap changes their meaning.")
    if "binned" in est.columns and est["binned"].astype(bool).any():
        warnings.warn(
            "The endpoint coefficients pool the event times beyond the window "
            "(bin_endpoints=True); HonestDiD treats them as single periods. Refit with "
            "bin_endpoints=False, or a window that covers every event time, to be exact.",
            AssumptionWarning, stacklevel=3)
    beta = est["estimate"].to_numpy(float)
    sig = cov.loc[terms, terms].to_numpy(float)
    num_pre = sum(t < ref for t in times)
    return beta, sig, num_pre, len(times) - num_pre, times


def _check_inputs(betahat: Any, sigma: Any, num_pre: Any, num_post: Any
                  ) -> tuple[np.ndarray, np.ndarray, int, int]:
    if betahat is None or sigma is None or num_pre is None or num_post is None:
        raise SpecError("Pass results= (an event study) or all of betahat=, sigma=, num_pre=, "
                        "num_post= (the event-time coefficients, pre-periods first, without "
                        "the reference period).")
    beta = np.asarray(betahat, float).ravel()
    sig = np.asarray(sigma, float)
    for name, v in (("num_pre", num_pre), ("num_post", num_post)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise SpecError(f"{name} must be an integer; got {v!r}.")
    num_pre, num_post = int(num_pre), int(num_post)
    if num_pre < 1:
        raise SpecError(f"HonestDiD needs at least one pre-period coefficient (num_pre={num_pre}"
                        "): the restrictions are bounds relative to the pre-trends. Estimate "
                        "leads (e.g. cp.event_study(..., leads=3)).")
    if num_post < 1:
        raise SpecError(f"num_post must be >= 1 (the post-period effects); got {num_post}.")
    if len(beta) != num_pre + num_post:
        raise SpecError(f"betahat has {len(beta)} values but num_pre + num_post = "
                        f"{num_pre + num_post}; pass the event-time coefficients only "
                        "(pre-periods first, no reference period, no covariates).")
    if sig.shape != (len(beta), len(beta)):
        raise SpecError(f"sigma must be {len(beta)} x {len(beta)} (the covariance of betahat); "
                        f"got shape {sig.shape}.")
    if not (np.isfinite(beta).all() and np.isfinite(sig).all()):
        raise SpecError("betahat and sigma must be finite (no NaN/inf).")
    scale = max(float(np.abs(sig).max()), np.finfo(float).tiny)
    if not np.allclose(sig, sig.T, rtol=1e-8, atol=1e-12 * scale):
        raise SpecError("sigma must be symmetric (a covariance matrix); symmetrise it, e.g. "
                        "(sigma + sigma.T) / 2, if the asymmetry is rounding.")
    sig = (sig + sig.T) / 2
    eig = np.linalg.eigvalsh(sig)
    if eig.min() < -1e-10 * max(eig.max(), 0.0) or eig.max() <= 0:
        raise SpecError(f"sigma is not positive semi-definite (smallest eigenvalue "
                        f"{eig.min():.3g}); it cannot be a covariance matrix. Check that it "
                        "matches betahat's order and comes from the same fit.")
    return beta, sig, num_pre, num_post


def _l_vec(l_vec: Any, num_post: int) -> tuple[np.ndarray, str]:
    if l_vec is None or (isinstance(l_vec, str) and l_vec == "first"):
        v = np.zeros(num_post)
        v[0] = 1.0
        return v, "first post-period effect"
    if isinstance(l_vec, str):
        if l_vec == "average":
            return np.full(num_post, 1.0 / num_post), f"average of the {num_post} post-period " \
                                                      "effects"
        raise SpecError(f"l_vec={l_vec!r} is not known; use None or 'first' (the first "
                        "post-period), 'average', or a vector of num_post weights"
                        f"{did_you_mean(l_vec, ['first', 'average'])}.")
    v = np.asarray(l_vec, float).ravel()
    if len(v) != num_post or not np.isfinite(v).all() or not v.any():
        raise SpecError(f"l_vec must hold {num_post} finite weights (one per post-period), not "
                        f"all zero; got {l_vec!r}.")
    return v, f"combination l'tau of the post-period effects (l = {np.round(v, 4).tolist()})"


# -- the robust sets ---------------------------------------------------------------------------
def _robust_ci(method: str, m: float, beta: np.ndarray, sig: np.ndarray, num_pre: int,
               num_post: int, l_vec: np.ndarray, alpha: float, opts: dict[str, Any]
               ) -> tuple[float, float]:
    if method == "smoothness":
        r = flci(beta, sig, num_pre, l_vec, m, alpha)
        return r.lower, r.upper
    lo, hi, _, _ = rm_confidence_set(
        beta, sig, num_pre, num_post, l_vec, m, alpha, grid_points=opts["grid_points"],
        grid_lb=opts["grid_lb"], grid_ub=opts["grid_ub"], sims=opts["sims"],
        seed=opts["seed"], coarse_step=opts["coarse_step"])
    return lo, hi


def _excludes_zero(lo: float, hi: float) -> bool:
    return bool(lo > 0 or hi < 0)


def _breakdown(ms: np.ndarray, cis: list[tuple[float, float]], tol: float, evaluate: Any
               ) -> float:
    """Largest M whose set excludes 0, by bisection between the grid's last excluding and
    first including M (doubling past the grid when every M excludes 0)."""
    excl = [_excludes_zero(lo, hi) and np.isfinite(lo) for lo, hi in cis]
    if not excl[0]:
        return np.nan
    if all(excl):
        lo_m = float(ms[-1])
        hi_m = 2 * lo_m if lo_m > 0 else 1.0
        for _ in range(8):
            if not _excludes_zero(*evaluate(hi_m)):
                break
            lo_m, hi_m = hi_m, 2 * hi_m
        else:
            return np.inf
    else:
        j = excl.index(False)
        lo_m, hi_m = float(ms[j - 1]), float(ms[j])
    while hi_m - lo_m > tol:
        mid = (lo_m + hi_m) / 2
        if _excludes_zero(*evaluate(mid)):
            lo_m = mid
        else:
            hi_m = mid
    return lo_m


@contextlib.contextmanager
def _progress_bar(total: int, description: str, show: bool) -> Iterator[Callable[[], None]]:
    """A transient rich progress bar when ``show``; yields ``advance()``."""
    if not show:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def honest_did(
    results: Any = None,
    *,
    betahat: Sequence[float] | np.ndarray | None = None,
    sigma: Any = None,
    num_pre: int | None = None,
    num_post: int | None = None,
    method: Literal["relative_magnitude", "smoothness"] = "relative_magnitude",
    grid: Sequence[float] | np.ndarray | None = None,
    l_vec: Sequence[float] | np.ndarray | Literal["first", "average"] | None = None,
    alpha: float = 0.05,
    breakdown_tol: float | None = None,
    grid_points: int = 1000,
    sims: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
) -> HonestDiDResults:
    r"""Rambachan-Roth sensitivity of an event-study effect to violations of parallel trends.

    Parameters
    ----------
    results
        Results with the event-time contract (``event_time`` and ``cov`` over its terms), e.g.
        :func:`causalpolicing.event_study`. The coefficients before the reference period are
        the pre-periods, those after it the post-periods; event times must be consecutive.
    betahat, sigma, num_pre, num_post
        Instead of ``results``: the event-time coefficients (pre-periods first, the reference
        period left out), their covariance, and how many are pre / post (R's ``betahat``,
        ``sigma``, ``numPrePeriods``, ``numPostPeriods``).
    method
        ``"relative_magnitude"`` (:math:`\Delta^{RM}(\bar M)`, the ARP conditional /
        least-favourable hybrid "C-LF") or ``"smoothness"`` (:math:`\Delta^{SD}(M)`, the
        optimal fixed-length CI "FLCI"), R ``HonestDiD``'s defaults for each.
    grid
        The values of :math:`\bar M` or :math:`M` (non-negative, increasing). Default as R:
        10 values from 0 to 2 for :math:`\bar M`; for :math:`M`, 10 values from 0 to the 95%
        upper bound of the largest pre-period second difference
        (``DeltaSD_upperBound_Mpre``).
    l_vec
        :math:`\theta = l'\tau_{post}`: ``None`` / ``"first"`` (the first post-period, R's
        default), ``"average"`` (the mean of the post-periods) or ``num_post`` weights.
    alpha
        1 - the confidence level.
    breakdown_tol
        Precision of the breakdown value (default: 1/200 of the grid's range).
    grid_points, sims, seed
        Relative magnitudes only: the number of :math:`\theta` values tested over
        :math:`\pm 20` standard errors of :math:`l'\hat\tau_{post}` (R's ``gridPoints``,
        grid and default), the draws for the least-favourable critical value (R: 1000) and
        their seed.
    progress
        Show a progress bar over the grid of ``M`` (``None``: for relative magnitudes
        when writing to a terminal). Relative magnitudes cost one linear program per
        draw and per tested value once the dual vertices are too many to enumerate
        (many pre- and post-periods): with 5 leads and 8 lags, about 30 s per value of
        ``Mbar`` on 2 cores (as in R, whose ``createSensitivityResults_relativeMagnitudes``
        solves the same programs). Fewer ``sims``, fewer ``grid_points``, a shorter
        window or ``method="smoothness"`` (seconds) are faster.

    Returns
    -------
    HonestDiDResults
        ``robust`` (M, lower, upper), the original CI, ``breakdown``, ``tidy()``,
        ``summary()``, ``narrative()``; plot with
        :func:`causalpolicing.report.plots.honest_did_plot`.

    Raises
    ------
    SpecError
        Without pre-periods, with mismatched lengths, a non-symmetric or non-PSD ``sigma``,
        both or neither of ``results`` and ``betahat``, an unknown ``method`` or ``l_vec``,
        a negative or decreasing grid, or non-consecutive event times.

    Notes
    -----
    Checked against R ``HonestDiD`` (the README's Medicaid example; smoothness bounds agree
    to about :math:`10^{-5}`, relative-magnitude bounds to a step of the :math:`\theta` grid,
    see ``tests/test_honest_did.py``). What it shows: how large a violation of parallel
    trends, measured against the pre-trends, overturns the conclusion. What it does not
    show: that the violations are small; that is the reader's judgement of :math:`M`.
    Relative-magnitude sets are grid-based: their endpoints are grid values of
    :math:`\theta` (spacing 40 standard errors / ``grid_points``).

    Examples
    --------
    >>> import numpy as np
    >>> from causalpolicing.diagnostics import honest_did
    >>> beta = np.array([0.01, -0.005, 0.002, 0.05, 0.06])
    >>> sigma = np.diag([0.004, 0.004, 0.004, 0.005, 0.006]) ** 2
    >>> res = honest_did(betahat=beta, sigma=sigma, num_pre=3, num_post=2,
    ...                  grid=[0.0, 1.0], grid_points=200)
    >>> res.robust.round(3)
       Mbar  lower  upper
    0   0.0  0.041  0.059
    1   1.0  0.023  0.077
    >>> round(res.breakdown, 1)
    2.0
    """
    if method not in METHODS:
        raise SpecError(f"method={method!r} is not known; use one of {list(METHODS)}"
                        f"{did_you_mean(str(method), METHODS)}.")
    if results is not None and betahat is not None:
        raise SpecError("Pass either results= or betahat=/sigma=/num_pre=/num_post=, not both.")
    if results is not None:
        if sigma is not None or num_pre is not None or num_post is not None:
            raise SpecError("With results=, sigma/num_pre/num_post come from the results; "
                            "leave them out.")
        betahat, sigma, num_pre, num_post, _ = _from_results(results)
    beta, sig, num_pre, num_post = _check_inputs(betahat, sigma, num_pre, num_post)
    if not 0 < float(alpha) < 1:
        raise SpecError(f"alpha must be in (0, 1); got {alpha!r}.")
    alpha = float(alpha)
    lv, target = _l_vec(l_vec, num_post)
    name = METHODS[method][0]
    if grid is None:
        if method == "relative_magnitude":
            ms = np.linspace(0.0, 2.0, 10)
        else:
            ms = sd_default_grid(beta, sig, num_pre)
    else:
        ms = np.atleast_1d(np.asarray(grid, float))
        if ms.size == 0 or not np.isfinite(ms).all() or (ms < 0).any() or (np.diff(ms) <= 0).any():
            raise SpecError(f"grid must hold non-negative, increasing values of {name}; got "
                            f"{grid!r}.")
    if isinstance(grid_points, bool) or int(grid_points) != grid_points or grid_points < 3:
        raise SpecError(f"grid_points must be an integer >= 3; got {grid_points!r}.")
    post = slice(num_pre, num_pre + num_post)
    est = float(lv @ beta[post])
    se = float(np.sqrt(lv @ sig[post, post] @ lv))
    z = float(stats.norm.ppf(1 - alpha / 2))
    opts = {"grid_points": int(grid_points), "grid_lb": -20 * se, "grid_ub": 20 * se,
            "sims": int(sims), "seed": int(seed), "coarse_step": 10}

    def evaluate(m: float) -> tuple[float, float]:
        return _robust_ci(method, m, beta, sig, num_pre, num_post, lv, alpha, opts)

    show = (method == "relative_magnitude" and sys.stderr.isatty()) if progress is None \
        else bool(progress)
    cis = []
    with _progress_bar(len(ms), f"HonestDiD ({name} grid)", show) as advance:
        for m in ms:
            cis.append(evaluate(float(m)))
            advance()
    span = float(ms[-1] - ms[0]) if ms.size > 1 else float(ms[0]) or 1.0
    tol = span / 200 if breakdown_tol is None else float(breakdown_tol)
    if not tol > 0:
        raise SpecError(f"breakdown_tol must be positive; got {breakdown_tol!r}.")
    brk = _breakdown(ms, cis, tol, evaluate)
    robust = pd.DataFrame({name: ms, "lower": [c[0] for c in cis],
                           "upper": [c[1] for c in cis]})
    return HonestDiDResults(
        method=method, estimate=est, std_error=se, conf_low=est - z * se,
        conf_high=est + z * se, breakdown=brk, breakdown_tol=tol,
        l_vec=tuple(float(x) for x in lv), num_pre=num_pre, num_post=num_post, alpha=alpha,
        target=target, _robust=robust,
        options={k: v for k, v in opts.items() if k != "coarse_step"} if
        method == "relative_magnitude" else {})
