r"""The wild cluster bootstrap for linear fixed-effects models (restricted and unrestricted).

:func:`wild_bootstrap` tests :math:`H_0: \beta_j = r` for one coefficient of a
model fitted with :func:`causalpolicing.feols` and inverts the test into a
confidence interval. With few clusters (fewer than about 40, and especially
with few treated clusters) cluster-robust t tests over-reject; the restricted
wild cluster bootstrap (WCR, ``impose_null=True``, the default) is the
recommended remedy (Cameron, Gelbach and Miller 2008; Roodman, MacKinnon,
Nielsen and Webb 2019; MacKinnon, Nielsen and Webb 2023).

Algorithm
---------
Write :math:`X` for the within-transformed regressors, :math:`H = (X'X)^{-1}`,
:math:`h = H e_j` and :math:`z = X h`. The bootstrap DGP is
:math:`y^* = X\tilde\beta + \tilde u \odot v_{g(i)}`, with :math:`\tilde\beta`
the estimate under the null (WCR) or :math:`\hat\beta` (WCU) and one weight
:math:`v_g` per cluster. Then, exactly,

.. math::

    \hat\beta^*_j - \tilde\beta_j = \sum_g a_g v_g, \qquad a_g = z_g'\tilde u_g,

and the cluster scores entering the CRV1 variance of :math:`\hat\beta^*_j` are
:math:`q_g = a_g v_g - \sum_{g'} C_{gg'} v_{g'}` with the rank-:math:`k` matrix
:math:`C = A\,H S'` (:math:`A_g = X_g'z_g`, :math:`S_g = X_g'\tilde u_g`).
Every draw therefore costs a few small matrix products (the "fast" algorithm of
Roodman et al. 2019); draws are processed in chunks of a few million numbers,
with no Python loop over draws. The bootstrap t statistic
:math:`t^* = (\hat\beta^*_j - \tilde\beta_j) / \sqrt{c \sum_g q_g^2}` uses the
same small-sample factor :math:`c` as the original CRV1 t statistic (it cancels
in the p-value).

Under WCR, :math:`\tilde u` is affine in :math:`r`, so the numerator of
:math:`t^*(r)` is affine and its squared denominator quadratic in :math:`r`.
Five numbers per draw are kept, after which the bootstrap p-value for any
:math:`r` costs :math:`O(B)`: the confidence interval is found by a grid
search and bisection on this p-value function (as boottest does), without new
draws. A side is reported unbounded (an infinite end, with a note) when the
p-value is still at least ``1 - level`` about :math:`2\times 10^6` standard errors
from the estimate: further out, the extrapolated statistics lose the precision to
tell a tie (the identity draw) from the observed statistic.

Fixed effects
-------------
The bootstrap runs on the within-transformed data. This is exact when every
fixed effect is nested in the bootstrap clusters (unit effects, clusters by
unit). A fixed effect that is not nested (year effects with clusters by unit)
would be re-estimated in each bootstrap sample by a regression with dummies;
the part of :math:`\tilde u \odot v` that such dummies absorb enters the
bootstrap residuals. This term is added exactly, as a further low-rank
correction (rank = levels of the non-nested effects), so the results equal a
wild bootstrap of the regression with explicit dummies, as ``wildboottest``
and ``pyfixest`` run it. For weighted fits the correction needs the weights:
pass ``data=``; without it the within-data bootstrap is used and the result's
``notes`` say so. The correction costs a dense pseudo-inverse of order "levels
of the non-nested effects"; above ``MAX_CROSSED_LEVELS`` (4,000) it is skipped,
again with a note. Without it the bootstrap runs on the demeaned data only,
which can change individual bootstrap t statistics noticeably (by up to about
0.5 at 20 clusters with year effects in our tests; p-values moved by less
than 0.01); the original t statistic is unaffected.

Weights
-------
``"rademacher"`` (:math:`\pm 1`), ``"webb"`` (:math:`\pm\sqrt{1/2}, \pm 1,
\pm\sqrt{3/2}`, each with probability 1/6; preferred with fewer than about 12
clusters) and ``"mammen"`` (two-point, skewness 1). Rademacher weights take
only :math:`2^G` values: when :math:`2^G \le` ``reps`` every sign vector is
enumerated once (as boottest does) and ``enumerated`` is ``True``.

p-values: ``"symmetric"`` (default) :math:`P(|t^*| \ge |t|)`; ``"equal-tailed"``
:math:`\min(1, 2\min\{P(t^* \le t), P(t^* \ge t)\})`. Draws tied with :math:`t`
(within :math:`10^{-9}\max(|t|, \operatorname{median}|t^*|)`) count as at least as
extreme, in the p-value and in the inverted confidence interval, so the result
does not depend on the last bit of floating point. Under full enumeration the
identity sign vector reproduces the observed statistic (WCR), and so does its
mirror, so the smallest attainable symmetric p-value is :math:`2/2^G` (0.25 with
3 clusters), never 0. (Under WCU the identity draw gives :math:`t^* = 0`: no tie,
no such floor.) wildboottest, pyfixest, fwildclusterboot and WildBootTests.jl
(boottest's Julia engine) count only strictly larger draws: their p-values are ours minus at most (ties)/B (the
convention and its reasons: :mod:`causalpolicing.inference._pvalue`).

Examples
--------
>>> import numpy as np, pandas as pd, warnings
>>> import causalpolicing as cp
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(12), 10), "year": np.tile(np.arange(10), 12)})
>>> df["x"] = rng.normal(size=len(df))
>>> df["y"] = 0.5 * df["x"] + rng.normal(size=len(df))
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     res = cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})
>>> boot = cp.inference.wild_bootstrap(res, "x", reps=999, weights="webb", seed=1)
>>> boot.p_value < 0.05, boot.n_clusters, boot.enumerated
(True, 12, False)
>>> bool(np.isclose(boot.t_stat, res.tstats["x"]))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._hints import check_level
from ..exceptions import SpecError
from ._compat import renamed_keyword
from ._wild_engine import (  # noqa: F401  (_wild_core, _single_thread_blas: older paths)
    P_TYPES,
    WEIGHT_TYPES,
    PType,
    WeightName,
    _run,
    _single_thread_blas,
    _wild_core,
)
from .covariance._base import nested as _nested
from .fit_state import SupportsBootstrap, WildBootstrapParts
from .vcov import VcovRequest, compute_vcov

__all__ = ["BootstrapResult", "WildBootstrapParts", "wild_bootstrap", "WEIGHT_TYPES", "P_TYPES"]

# ------------------------------------------------------------------ result
@dataclass(frozen=True)
class BootstrapResult:
    """A wild cluster bootstrap test of one coefficient (frozen).

    Attributes
    ----------
    param
        The coefficient tested.
    estimate
        Its estimate.
    std_error
        Its original CRV1 standard error (clusters ``cluster``, the fit's ``ssc``).
    null
        The null value tested, :math:`H_0: \\beta = \\beta_0` (``null``; formerly ``r``,
        still readable as ``r`` for one release).
    t_stat
        The original CRV1 t statistic :math:`(\\hat\\beta - \\beta_0) / \\mathrm{se}`.
    p_value
        The bootstrap p-value (``p_type``).
    conf_int
        ``(low, high)`` by test inversion: the values :math:`r` whose bootstrap
        p-value is at least ``1 - level`` (``(nan, nan)`` if not asked for;
        an infinite end when the set is unbounded).
    level
        Coverage of ``conf_int``.
    reps
        Draws actually used (:math:`2^G` under full enumeration).
    weights
        Weight distribution.
    impose_null
        ``True`` for WCR (restricted), ``False`` for WCU.
    n_clusters
        Number of bootstrap clusters.
    enumerated
        ``True`` when all :math:`2^G` Rademacher sign vectors were used.
    seed
        The seed given (``None``: not reproducible).
    cluster
        Name of the cluster variable (``None`` when called on arrays).
    p_type
        ``"symmetric"`` or ``"equal-tailed"``.
    notes
        Caveats (e.g. an unbounded confidence set).
    t_boot
        The bootstrap t statistics for ``null`` (read-only array, not in ``repr``).
    """

    param: str
    estimate: float
    std_error: float
    null: float
    t_stat: float
    p_value: float
    conf_int: tuple[float, float]
    level: float
    reps: int
    weights: str
    impose_null: bool
    n_clusters: int
    enumerated: bool
    seed: int | None
    cluster: str | None = None
    p_type: str = "symmetric"
    notes: tuple[str, ...] = ()
    t_boot: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False, compare=False)

    @property
    def r(self) -> float:
        """Deprecated: the null value, now ``null``."""
        warnings.warn("BootstrapResult.r is deprecated and will be removed in the next "
                      "release; use .null instead.", FutureWarning, stacklevel=2)
        return self.null

    # The names both bootstrap results share (and the tidy columns): statistic,
    # conf_low, conf_high next to the wild bootstrap's own t_stat and conf_int.
    @property
    def statistic(self) -> float:
        """The original (CRV1) t statistic: ``t_stat`` under the name both bootstraps use."""
        return self.t_stat

    @property
    def conf_low(self) -> float:
        """Lower end of the bootstrap interval (``conf_int[0]``)."""
        return self.conf_int[0]

    @property
    def conf_high(self) -> float:
        """Upper end of the bootstrap interval (``conf_int[1]``)."""
        return self.conf_int[1]

    def tidy(self) -> pd.DataFrame:
        """One row in the results-contract columns.

        ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``:
        ``std_error`` and ``statistic`` are the original CRV1 ones, ``p_value``
        and the interval come from the bootstrap.
        """
        return pd.DataFrame([{
            "term": self.param, "estimate": self.estimate, "std_error": self.std_error,
            "statistic": self.t_stat, "p_value": self.p_value,
            "conf_low": self.conf_int[0], "conf_high": self.conf_int[1],
        }])

    def __repr__(self) -> str:
        kind = "WCR" if self.impose_null else "WCU"
        draws = (f"{self.reps} draws (full enumeration)" if self.enumerated
                 else f"{self.reps} draws")
        ci = ("no CI" if np.isnan(self.conf_int).all()
              else f"{self.level:.0%} CI [{self.conf_int[0]:.4g}, {self.conf_int[1]:.4g}]")
        return (f"<BootstrapResult {kind} {self.weights}, {self.n_clusters} clusters, {draws}: "
                f"{self.param} = {self.estimate:.4g}, t = {self.t_stat:.3f}, "
                f"p ({self.p_type}, H0: {self.param} = {self.null:g}) = {self.p_value:.4f}, {ci}>")


# ------------------------------------------------------------------ public
def _check_options(param: Any, reps: Any, weights: Any, level: Any, null: Any, p_type: Any,
                   names: list[str]) -> None:
    if not isinstance(param, str) or param not in names:
        raise SpecError(f"param must be one of the model's coefficients {names}; got {param!r}.")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise SpecError(f"reps must be a positive integer (e.g. 9999); got {reps!r}.")
    if weights not in WEIGHT_TYPES:
        raise SpecError(f"weights must be one of {list(WEIGHT_TYPES)}; got {weights!r}. "
                        "Use 'webb' with fewer than about 12 clusters.")
    level = check_level(level)
    if isinstance(null, bool) or not isinstance(null, (float, int, np.floating, np.integer)) or \
            not np.isfinite(null):
        raise SpecError(f"null (the value under the null hypothesis) must be a finite number; "
                        f"got {null!r}.")
    if p_type not in P_TYPES:
        raise SpecError(f"p_type must be one of {list(P_TYPES)}; got {p_type!r}.")


def _cluster_name(results: Any, cluster: str | None) -> str:
    if cluster is not None:
        if not isinstance(cluster, str):
            raise SpecError(f"cluster must be one column name; got {cluster!r}. The wild "
                            "bootstrap clusters by one variable (multi-way is not supported).")
        return cluster
    vc = results.spec.get("vcov")
    if isinstance(vc, Mapping) and len(vc) == 1:
        ((name, value),) = vc.items()
        if name in ("CRV1", "CRV3") and isinstance(value, str):
            cols = [c.strip() for c in value.split("+")]
            if len(cols) == 1:
                return cols[0]
            raise SpecError(
                f"The model is clustered two-way ({value!r}); the wild bootstrap clusters by one "
                f"variable. Pass cluster= one of {cols} (Roodman et al. 2019 suggest the one "
                "with fewer clusters).")
    raise SpecError(
        f"The model is not clustered (vcov={vc!r}); pass cluster='column' to say which "
        "variable the wild cluster bootstrap draws by.")


def wild_bootstrap(
    results: Any,
    param: str,
    *,
    reps: int = 9999,
    weights: WeightName = "rademacher",
    impose_null: bool = True,
    level: float = 0.95,
    cluster: str | None = None,
    seed: int | None = None,
    null: float = 0.0,
    conf_int: bool = True,
    p_type: PType = "symmetric",
    progress: bool = False,
    data: pd.DataFrame | None = None,
    r: float | None = None,
    ci: bool | None = None,
) -> BootstrapResult:
    """Wild cluster bootstrap test and confidence interval for one coefficient.

    Parameters
    ----------
    results
        A linear fit from :func:`causalpolicing.feols` (OLS or WLS, any fixed
        effects; not IV): what it needs comes from ``results.bootstrap_parts()``.
    param
        The coefficient to test.
    reps
        Number of bootstrap draws :math:`B`. With Rademacher weights and
        :math:`2^G \\le B`, all :math:`2^G` sign vectors are used instead.
    weights
        ``"rademacher"``, ``"webb"`` (six-point, better with fewer than ~12
        clusters) or ``"mammen"``.
    impose_null
        ``True`` (default, recommended): restricted bootstrap (WCR), the null
        :math:`\\beta = \\beta_0` is imposed on the bootstrap DGP. ``False``: unrestricted
        (WCU).
    level
        Coverage of the confidence interval.
    cluster
        The variable to draw by. Default: the fit's one-way cluster variable.
        It must be stored with the fit (a cluster or fixed-effect variable) or
        be in ``data``.
    seed
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same result.
    null
        The value under the null hypothesis, :math:`H_0: \\beta = \\beta_0` (as
        :func:`~causalpolicing.inference.poisson_bootstrap`).
    conf_int
        Compute the confidence interval by test inversion.
    p_type
        ``"symmetric"`` (default) or ``"equal-tailed"``.
    progress
        Show a progress bar over chunks of draws.
    data
        The frame the model was fit on: needed only for a cluster variable the
        fit did not store, or for the exact treatment of non-nested fixed
        effects in weighted fits (module notes).
    r, ci
        Deprecated former names of ``null`` and ``conf_int`` (a :class:`FutureWarning`;
        removed in the next release).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    SpecError
        For an IV fit (use ``results.with_cov({"CRV3": cluster})`` instead), an
        unknown coefficient or option, or a cluster variable not available.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # 26 clusters: FewClustersWarning
    ...     res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> boot = cp.inference.wild_bootstrap(res, "offences_per_1000", reps=999, weights="webb",
    ...                                    seed=42)
    >>> boot.n_clusters, boot.reps, boot.cluster
    (26, 999, 'canton')
    >>> boot.conf_int[0] < boot.estimate < boot.conf_int[1]
    True
    >>> list(boot.tidy().columns)
    ['term', 'estimate', 'std_error', 'statistic', 'p_value', 'conf_low', 'conf_high']

    Notes
    -----
    The statistic is the CRV1 t statistic with the fit's small-sample
    convention; see the module docstring for the algorithm and for fixed
    effects not nested in the clusters. Cameron, Gelbach and Miller (2008);
    Roodman, MacKinnon, Nielsen and Webb (2019), "Fast and wild", Stata
    Journal 19(1); MacKinnon, Nielsen and Webb (2023), "Cluster-robust
    inference: a guide to empirical practice", J. Econometrics 232(2).
    """
    null = renamed_keyword("wild_bootstrap", "r", r, "null", null, 0.0)
    conf_int = renamed_keyword("wild_bootstrap", "ci", ci, "conf_int", conf_int, True)
    if not isinstance(results, SupportsBootstrap):
        raise SpecError(
            "wild_bootstrap needs a linear fit from cp.feols (FEOLSResults); got "
            f"{type(results).__name__}.")
    names = list(results.params.index)
    _check_options(param, reps, weights, level, null, p_type, names)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise SpecError(f"seed must be an integer or None; got {seed!r}.")
    for name, flag in (("impose_null", impose_null), ("conf_int", conf_int),
                       ("progress", progress)):
        if not isinstance(flag, bool):
            raise SpecError(f"{name} must be True or False; got {flag!r}.")
    cname = _cluster_name(results, cluster)
    parts = results.bootstrap_parts(cname, data=data)
    if not isinstance(parts, WildBootstrapParts):
        raise SpecError(
            "wild_bootstrap needs a linear fit from cp.feols (FEOLSResults); got "
            f"{type(results).__name__}. For cp.fepois use cp.inference.poisson_bootstrap.")
    vin = parts.vcov_input
    if vin.is_iv:
        raise SpecError(
            "The wild cluster bootstrap is implemented for OLS/WLS fits only, not for IV "
            "(2SLS; that needs the wild restricted efficient bootstrap). For few clusters use "
            "the jackknife: results.with_cov({'CRV3': 'cluster_column'}).")
    cl = parts.cluster_codes
    vr = compute_vcov(VcovRequest("CRV1", (cname,)), vin, ssc=parts.ssc,
                      cluster_codes={cname: cl}, warn=False)
    notes: list[str] = []
    sqrt_w = None
    fe_codes = tuple(vin.fe_codes)
    fe_correction = True
    if parts.weights is not None:
        non_nested = [fe for fe in fe_codes if not _nested(fe, cl)]
        if non_nested:
            if parts.sqrt_weights is not None:
                sqrt_w = parts.sqrt_weights
            else:
                fe_correction = False
                notes.append(
                    "Weighted fit with fixed effects not nested in the clusters: the bootstrap "
                    "ran on the within-transformed data (pass data= for the exact treatment).")
    out = _run(vin.regressors, vin.resid, np.asarray(vin.params), vin.bread, cl,
               int(cl.max()) + 1, names.index(param), r=float(null), reps=int(reps),
               weights=weights, impose_null=impose_null, p_type=p_type, level=float(level),
               ci=conf_int, seed=seed, fe_codes=fe_codes, sqrt_w=sqrt_w,
               ssc_factor=vr.ssc_factor, progress=progress, fe_correction=fe_correction)
    if out["enumerated"]:
        notes.insert(0, f"Full enumeration: all 2^{out['n_clusters']} = {out['reps']} "
                        "Rademacher sign vectors were used (reps was at least as large).")
        if out["n_clusters"] < 12:
            notes.insert(1, f"Only {out['reps']} distinct Rademacher draws: p-values are "
                            f"multiples of 1/{out['reps']}, at least 2/{out['reps']} (the two draws "
                            "that reproduce the sample tie the observed statistic and count); "
                            "with fewer than 12 clusters prefer weights='webb' (Webb 2013).")
    return BootstrapResult(
        param=param, estimate=out["estimate"], std_error=out["std_error"], null=float(null),
        t_stat=out["t_stat"], p_value=out["p_value"], conf_int=out["conf_int"],
        level=float(level), reps=out["reps"], weights=weights, impose_null=impose_null,
        n_clusters=out["n_clusters"], enumerated=out["enumerated"],
        seed=None if seed is None else int(seed),
        cluster=cname, p_type=p_type, notes=tuple(notes + out["notes"]), t_boot=out["t_boot"],
    )
