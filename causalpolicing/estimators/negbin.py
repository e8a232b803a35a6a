r"""Negative binomial (NB2) regression with unit and time effects as dummies.

For over-dispersed counts (deaths whose variance exceeds their mean) the model

.. math::

    y_{it} \sim \mathrm{NB2}(\mu_{it}, \alpha), \qquad
    \log \mu_{it} = \log E_{it} + x_{it}'\beta + a_i + g_t, \qquad
    \operatorname{Var}(y_{it}) = \mu_{it} + \alpha \mu_{it}^2,

with exposure :math:`E_{it}` (population at risk, an offset), is fitted by
maximum likelihood over :math:`(\beta, a, g, \alpha)` jointly with statsmodels'
:class:`statsmodels.discrete.discrete_model.NegativeBinomial`
(``loglike_method="nb2"``, Newton's method with the analytic Hessian, started
from a Poisson fit). statsmodels is the engine: the estimates, the covariance
and the likelihood are statsmodels' numbers.

Why the discrete ``NegativeBinomial`` and not ``GLM(family=NegativeBinomial)``:
the GLM treats :math:`\alpha` as known, so its standard errors ignore the
estimation of :math:`\alpha` and :math:`\alpha` would have to be profiled by
hand; the discrete model estimates :math:`\alpha` with the slopes (the same MLE
as R's ``MASS::glm.nb`` and Stata's ``nbreg``) and reports its standard error.

Fixed effects become dummy columns (the first fixed effect with all its
levels, every further one without its first level; no intercept). This is the
*unconditional* NB with dummies: unlike Poisson, NB2 with unit dummies has an
incidental-parameter bias when periods are few. For the slopes it is small
(Allison & Waterman 2002); the dispersion is biased down: in a Monte Carlo
(``tests/test_negbin.py``, slow) with 40 units x 15 periods and a true alpha of
0.5 the mean estimate was 0.447, while 95% intervals for the log rate ratio
kept their coverage. Levels of a fixed effect whose outcome is zero throughout are
dropped (their dummy would go to minus infinity) and listed in the drop log.

**Cost.** Dummies make the design dense with ``n x (k + levels)`` entries and
each Newton step costs :math:`O(n\,(\text{levels})^2)` time and
:math:`O(n \cdot \text{levels})` memory. (statsmodels' own NB2 Hessian loops in
Python over pairs of columns and its per-observation scores are numerical;
both are replaced here by the same formulas in matrix form, which took the
500 x 20 fit from 404 s to 13 s.) Measured on this machine (2 shared cores,
``y ~ x | unit + year`` with exposure and CRV1 by unit, imports excluded):
26 units x 33 years (58 dummies) 0.6 s; 500 x 20 (519 dummies) 13 s;
3,000 x 30 (3,029 dummies; one dense copy of the design is 2.2 GB) 16 minutes
with 11 GB peak memory. It stops being practical around a thousand units
(minutes and several GB); beyond that use
:func:`causalpolicing.fepois` (Poisson with absorbed effects: consistent under
over-dispersion, with cluster-robust standard errors). The timing script is
quoted in ``tests/test_negbin.py``.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     res = cp.fenegbin("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
...                       panel, exposure="population")
>>> res.estimator, res.nobs, res.n_clusters, res.cov_type
('FENegBin', 858, 26, 'CRV1 by canton')
>>> bool(0.0 <= res.alpha < 1.0)
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from ..exceptions import (
    AssumptionWarning,
    CollinearityWarning,
    ConvergenceWarning,
    EstimationError,
    FewClustersWarning,
    SpecError,
)
from ..formula import Formula, parse_formula
from ..inference.vcov import FEW_CLUSTERS, parse_vcov
from ..results import BaseResults
from ._demean import demean, factorize
from ._design import DROP_LOG_COLUMNS, build_design
from .feols import COLLIN_TOL, _select_columns

__all__ = ["FENegBin", "GLMFEResults", "fenegbin"]

VCOV_HELP = (
    "Valid: 'iid' (model-based), 'hetero' (= 'HC0', sandwich), 'HC1' (sandwich times "
    "N/(N-K)), {'CRV1': 'unit'} or {'CRV1': 'unit+year'} (cluster-robust), 'HAC' or "
    "{'HAC': lags} (Newey-West, one time series)."
)


# ============================================================ covariance request
@dataclass(frozen=True)
class GLMVcov:
    """A covariance request for the ML estimators (statsmodels is the engine)."""

    name: str  # iid, HC0, HC1, CRV1, HAC
    clusters: tuple[str, ...] = ()
    lags: int | None = None

    def label(self) -> str:
        if self.name == "CRV1":
            return f"CRV1 by {' + '.join(self.clusters)}"
        if self.name == "HAC":
            return f"HAC (Newey-West, {self.lags if self.lags is not None else 'auto'} lags)"
        return self.name

    def as_spec(self) -> str | dict[str, Any]:
        if self.name == "CRV1":
            return {"CRV1": "+".join(self.clusters)}
        if self.name == "HAC":
            return {"HAC": self.lags}
        return self.name


def parse_glm_vcov(vcov: Any) -> GLMVcov:
    """Parse ``vcov=`` for :func:`fenegbin` / :func:`~causalpolicing.febinomial`.

    Uses the shared registry (:func:`causalpolicing.inference.vcov.parse_vcov`) for
    the names it knows, and adds ``"HAC"`` (Newey-West, for a single time series).

    Examples
    --------
    >>> parse_glm_vcov({"CRV1": "canton"}).label()
    'CRV1 by canton'
    >>> parse_glm_vcov({"HAC": 2}).label()
    'HAC (Newey-West, 2 lags)'
    """
    if isinstance(vcov, GLMVcov):
        return vcov
    if isinstance(vcov, str) and vcov.strip().lower() in ("hac", "nw", "newey-west"):
        return GLMVcov("HAC")
    if isinstance(vcov, str) and vcov.strip().upper() == "HC0":
        return GLMVcov("HC0")
    if isinstance(vcov, Mapping) and len(vcov) == 1:
        ((key, value),) = vcov.items()
        if str(key).strip().lower() in ("hac", "nw", "newey-west"):
            lags = value.get("lags") if isinstance(value, Mapping) else value
            if isinstance(value, Mapping) and set(value) - {"lags"}:
                raise SpecError(f"HAC takes one option, 'lags'; got {sorted(value)}. {VCOV_HELP}")
            if lags is not None and (isinstance(lags, bool) or not isinstance(
                    lags, (int, np.integer)) or lags < 0):
                raise SpecError(f"HAC lags must be a non-negative integer; got {lags!r}.")
            return GLMVcov("HAC", lags=None if lags is None else int(lags))
    try:
        req = parse_vcov(vcov)
    except SpecError as err:
        raise SpecError(f"{err} For this estimator: {VCOV_HELP}") from None
    if req.name == "iid":
        return GLMVcov("iid")
    if req.name == "HC1":
        # parse_vcov maps 'hetero' and 'HC1' to HC1; keep the user's word
        word = vcov.strip().lower() if isinstance(vcov, str) else ""
        return GLMVcov("HC0" if word in ("hetero", "robust") else "HC1")
    if req.name == "CRV1":
        return GLMVcov("CRV1", req.clusters)
    raise SpecError(f"vcov={vcov!r} ({req.name}) is not available for this estimator. {VCOV_HELP}")


def default_glm_vcov(vcov: GLMVcov | None, formula: Formula, data: Any,
                     single_series: str = "iid") -> tuple[GLMVcov, str]:
    """The covariance to use and why (same defaults as :func:`causalpolicing.feols`)."""
    if vcov is not None:
        return vcov, "user"
    if _is_panel(data):
        if data.n_units == 1:
            return GLMVcov(single_series), (
                f"default for a single-unit Panel: {single_series}")
        col = data.clusters[0] if data.clusters else data.unit
        return GLMVcov("CRV1", (col,)), (
            f"default for a Panel: CRV1 clustered by "
            f"{'declared cluster' if data.clusters else 'unit'} {col!r}")
    if formula.fixed_effects and len(formula.fixed_effects[0]) == 1:
        col = formula.fixed_effects[0][0]
        return GLMVcov("CRV1", (col,)), (
            f"default with fixed effects (as fixest): CRV1 clustered by the first fixed "
            f"effect {col!r}")
    return GLMVcov("iid"), "default without fixed effects: iid (model-based)"


def _is_panel(data: Any) -> bool:
    from ..data.panel import Panel

    return isinstance(data, Panel)


# ================================================================ data handling
@dataclass(frozen=True)
class GLMData:
    """Model matrices of the rows kept, for the ML estimators."""

    y: np.ndarray
    exog: np.ndarray  # slopes (kept columns) [+ Intercept]
    exog_names: tuple[str, ...]
    dummies: np.ndarray
    dummy_names: tuple[str, ...]
    fe_names: tuple[str, ...]
    fe_levels: tuple[int, ...]
    extra: dict[str, np.ndarray]  # exposure / trials values of the kept rows
    cluster_codes: dict[str, np.ndarray]
    time_order: np.ndarray | None
    dropped: pd.DataFrame
    collinear: dict[str, str]
    n_input: int
    regressor_sd: dict[str, float]

    @property
    def design(self) -> np.ndarray:
        return np.column_stack([self.exog, self.dummies])

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.exog_names, *self.dummy_names)


def _frame_of(data: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
    if _is_panel(data):
        frame = data.to_frame(source_row=True)
        return frame, frame.pop("source_row").to_numpy()
    if isinstance(data, pd.DataFrame):
        return data, None
    raise SpecError(f"data must be a pandas DataFrame or a Panel; got {type(data).__name__}.")


def _log_rows(frame: pd.DataFrame, source_rows: np.ndarray | None, mask: np.ndarray,
              column: str, reason: str) -> pd.DataFrame:
    pos = np.flatnonzero(mask)
    return pd.DataFrame({
        "row": frame.index[pos],
        "source_row": (source_rows[pos] if source_rows is not None
                       else np.full(len(pos), pd.NA, dtype=object)),
        "column": np.full(len(pos), column, dtype=object),
        "reason": np.full(len(pos), reason, dtype=object),
    })


def _numeric_column(frame: pd.DataFrame, col: str, param: str) -> np.ndarray:
    if not isinstance(col, str):
        raise SpecError(f"{param} must be a column name; got {type(col).__name__}.")
    if col not in frame.columns:
        from ..data._messages import close_matches

        hint = close_matches(col, frame.columns)
        raise SpecError(
            f"{param}={col!r} is not a column of the data"
            + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else ".")
            + f" Columns: {', '.join(map(str, list(frame.columns)[:20]))}."
        )
    s = frame[col]
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise SpecError(f"{param} column {col!r} must be numeric; it has dtype {s.dtype}.")
    return s.to_numpy(dtype=float, na_value=np.nan)


def prepare_glm(
    formula: Formula,
    data: Any,
    *,
    req: GLMVcov,
    family: str,
    extra: Mapping[str, str | None],
    time: str | None = None,
    collin_tol: float = COLLIN_TOL,
) -> GLMData:
    """Rows, model matrices, dummies and the drop log for an ML estimator.

    ``extra`` maps roles (``exposure``, ``trials``) to column names; rows with a
    missing value there are dropped and logged. ``family`` (``"count"`` or
    ``"binomial"``) decides which fixed-effect levels carry no information
    (all-zero outcome; for binomial also all-successes).
    """
    if formula.is_iv:
        raise SpecError("Instrumental variables are not supported by this estimator; use "
                        "cp.feols('y ~ w | fe | x ~ z', ...) for 2SLS.")
    frame, source_rows = _frame_of(data)
    n_input = len(frame)
    logs: list[pd.DataFrame] = []
    values: dict[str, np.ndarray] = {}
    bad = np.zeros(n_input, dtype=bool)
    for role, col in extra.items():
        if col is None:
            continue
        v = _numeric_column(frame, col, role)
        miss = np.isnan(v)
        if miss.any():
            logs.append(_log_rows(frame, source_rows, miss & ~bad, col, f"missing {role}"))
        bad |= miss
        values[role] = v
    clusters = list(req.clusters) + ([time] if time else [])
    keep0 = np.flatnonzero(~bad)
    sub = frame.iloc[keep0]
    d = build_design(formula, sub, extra=clusters, singletons="drop",
                     source_rows=None if source_rows is None else source_rows[keep0])
    logs.append(d.dropped)
    y = d.y
    exog = d.exog
    kept = keep0[d.positions]  # positions in the input frame
    vals = {k: v[kept] for k, v in values.items()}
    fe_codes = [c.copy() for c in d.fe_codes]
    ccodes = {c: d.extra_codes[c] for c in clusters}

    # fixed-effect levels without information (separation): drop iteratively
    rows = np.arange(len(y))
    if fe_codes:
        trials = vals.get("trials")
        while True:
            uninformative = np.zeros(len(rows), dtype=bool)
            for codes in fe_codes:
                nlev = int(codes.max()) + 1
                s = np.bincount(codes, weights=y[rows], minlength=nlev)
                uninformative |= (s == 0)[codes]
                if family == "binomial" and trials is not None:
                    f = np.bincount(codes, weights=trials[rows] - y[rows], minlength=nlev)
                    uninformative |= (f == 0)[codes]
            if not uninformative.any():
                break
            what = ("outcome zero in every row of its fixed-effect level"
                    if family != "binomial" else
                    "outcome zero (or equal to trials) in every row of its fixed-effect level")
            logs.append(_log_rows(sub, None if source_rows is None else source_rows[keep0],
                                  np.isin(np.arange(len(sub)), d.positions[rows[uninformative]]),
                                  " + ".join(d.fe_names), what + " (separation)"))
            rows = rows[~uninformative]
            if len(rows) == 0:
                raise EstimationError(
                    "Every fixed-effect level has an all-zero outcome; nothing can be estimated.")
            fe_codes = [factorize(c[~uninformative])[0] for c in fe_codes]
        y = y[rows]
        exog = exog[rows]
        vals = {k: v[rows] for k, v in vals.items()}
        ccodes = {c: factorize(v[rows])[0] for c, v in ccodes.items()}

    names = d.exog_names
    has_fe = bool(fe_codes)
    add_const = formula.intercept and not has_fe
    # collinearity / absorption: linear algebra on the regressors after projecting out
    # the fixed effects (or the constant)
    if exog.shape[1]:
        if has_fe:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                within, _ = demean(exog, fe_codes, None)
        elif add_const:
            within = exog - exog.mean(axis=0)
        else:
            within = exog
        raw_ss = ((exog - exog.mean(axis=0)) ** 2).sum(axis=0)
        keep_x, why = _select_columns(within, raw_ss, names, has_fe or add_const,
                                      tol=collin_tol)
    else:
        keep_x, why = [], {}
    if why:
        warnings.warn(
            "Regressor(s) dropped: " + "; ".join(f"{k} ({v})" for k, v in why.items())
            + ". Their coefficients are not identified; they are listed in results.collinear.",
            CollinearityWarning, stacklevel=4)
    exog = exog[:, keep_x]
    names = tuple(names[j] for j in keep_x)
    sd = {nm: float(np.std(exog[:, j], ddof=1)) if len(y) > 1 else np.nan
          for j, nm in enumerate(names)}
    if add_const:
        exog = np.column_stack([np.ones(len(y)), exog])
        names = ("Intercept", *names)
    if exog.shape[1] == 0:
        raise EstimationError("No regressor is left to estimate"
                              + (f" (dropped: {why})" if why else "") + ".")
    # dummies: every level of the first fixed effect, the others without their first level
    cols: list[np.ndarray] = []
    dnames: list[str] = []
    levels: list[int] = []
    for j, (codes, fe) in enumerate(zip(fe_codes, d.fe_names, strict=True)):
        nlev = int(codes.max()) + 1
        levels.append(nlev)
        start = 0 if j == 0 else 1
        block = np.zeros((len(y), nlev - start))
        sel = codes >= start
        block[np.flatnonzero(sel), codes[sel] - start] = 1.0
        cols.append(block)
        dnames.extend(f"{fe}[{lv}]" for lv in range(start, nlev))
    dummies = np.column_stack(cols) if cols else np.empty((len(y), 0))

    dropped = pd.concat([x for x in logs if len(x)], ignore_index=True) if any(
        len(x) for x in logs) else pd.DataFrame({c: pd.Series(dtype=object)
                                                 for c in DROP_LOG_COLUMNS})
    if len(dropped) and frame.index.is_unique:
        order = np.argsort(frame.index.get_indexer(dropped["row"]), kind="stable")
        dropped = dropped.iloc[order].reset_index(drop=True)
    time_order = ccodes.get(time) if time else None
    return GLMData(
        y=np.ascontiguousarray(y, dtype=float), exog=np.ascontiguousarray(exog, dtype=float),
        exog_names=names, dummies=dummies, dummy_names=tuple(dnames), fe_names=d.fe_names,
        fe_levels=tuple(levels), extra=vals,
        cluster_codes={c: v for c, v in ccodes.items() if c in req.clusters},
        time_order=time_order, dropped=dropped, collinear=why, n_input=n_input,
        regressor_sd=sd,
    )


# ================================================================= covariances
def sm_cov_args(req: GLMVcov, g: GLMData, n_obs: int) -> tuple[str, dict[str, Any], bool]:
    """statsmodels ``cov_type``, ``cov_kwds`` and ``use_t`` for a request."""
    if req.name == "iid":
        return "nonrobust", {}, False
    if req.name in ("HC0", "HC1"):
        return "HC0", {}, False
    if req.name == "CRV1":
        codes = [g.cluster_codes[c] for c in req.clusters]
        groups = codes[0] if len(codes) == 1 else np.column_stack(codes)
        return "cluster", {"groups": groups}, True
    # HAC
    lags = req.lags if req.lags is not None else int(np.floor(4 * (n_obs / 100) ** (2 / 9)))
    return "HAC", {"maxlags": lags}, False


def finish_cov(req: GLMVcov, sm_res: Any, g: GLMData, k_slopes: int,
               n_params: int) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None,
                                       str, list[str]]:
    """Slope covariance, inference df, clusters, label and notes from a statsmodels fit."""
    cov = np.asarray(sm_res.cov_params())[:k_slopes, :k_slopes]
    n = len(g.y)
    notes: list[str] = []
    df: int | None = None
    ncl: int | tuple[int, ...] | None = None
    label = req.label()
    if req.name == "HC1":
        cov = cov * n / (n - n_params)
    elif req.name == "CRV1":
        gs = tuple(int(g.cluster_codes[c].max()) + 1 for c in req.clusters)
        ncl = gs[0] if len(gs) == 1 else gs
        df = min(gs) - 1
        if min(gs) < FEW_CLUSTERS:
            msg = (f"Only {min(gs)} clusters ({' + '.join(req.clusters)}): cluster-robust "
                   f"standard errors are too small with fewer than {FEW_CLUSTERS} clusters. "
                   "Read the p-values with care (t with G-1 degrees of freedom is used).")
            warnings.warn(msg, FewClustersWarning, stacklevel=4)
            notes.append(msg)
    elif req.name == "HAC":
        label = f"HAC (Newey-West, {sm_res.cov_kwds['maxlags']} lags)"
    return (cov + cov.T) / 2, df, ncl, label, notes


# ===================================================================== results
class GLMFEResults(BaseResults):
    """Results of :func:`fenegbin` and :func:`~causalpolicing.febinomial`.

    The contract of :class:`~causalpolicing.results.BaseResults` for the slopes
    (dummies are not reported, as absorbed fixed effects), plus ``family``,
    ``link``, ``alpha`` (NB2 dispersion), ``collinear``, ``converged`` and the
    fixed-effect ``fe_table``. Exponentiated effects: ``cp.rate_ratios(res)``
    (counts) or ``cp.odds_ratios(res)`` (binomial).
    """

    __slots__ = ("_extra",)

    def __init__(self, *, extra: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_extra", dict(extra))

    @property
    def family(self) -> str:
        """``"negative binomial (NB2)"`` or ``"binomial"``."""
        return str(self._extra["family"])

    @property
    def link(self) -> str:
        """``"log"`` (coefficients are log rate ratios) or ``"logit"`` (log odds ratios)."""
        return str(self._extra["link"])

    @property
    def alpha(self) -> float:
        """NB2 dispersion: Var(y) = mu + alpha mu^2 (NaN for binomial)."""
        return float(self._extra.get("alpha", np.nan))

    @property
    def alpha_se(self) -> float:
        """Standard error of ``alpha`` (model-based for iid, else the chosen sandwich)."""
        return float(self._extra.get("alpha_se", np.nan))

    @property
    def converged(self) -> bool:
        """Whether the optimiser reached its tolerance."""
        return bool(self._extra["converged"])

    @property
    def collinear(self) -> dict[str, str]:
        """Regressors dropped as collinear or absorbed, with the reason."""
        return dict(self._extra["collinear"])

    @property
    def fe_table(self) -> pd.DataFrame:
        """Fixed effects and their number of levels (after dropping uninformative ones)."""
        return pd.DataFrame({"name": list(self._extra["fe_names"]),
                             "levels": list(self._extra["fe_levels"])})

    @property
    def regressor_sd(self) -> pd.Series:
        """Standard deviation of each raw regressor in the estimation sample (for per='sd')."""
        sd = self._extra.get("regressor_sd", {})
        return pd.Series({t: sd.get(t, np.nan) for t in self._params.index}, dtype=float)

    @property
    def loglik(self) -> float:
        """Maximised log-likelihood."""
        return float(self._fit_stats["loglik"])


# ================================================================== estimator
def _poisson_start(y: np.ndarray, x: np.ndarray, offset: np.ndarray, maxiter: int = 50
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Poisson IRLS (start values for NB2): coefficients and fitted means."""
    mu = y + 0.5
    eta = np.log(mu)
    beta = np.zeros(x.shape[1])
    dev_old = np.inf
    for _ in range(maxiter):
        z = eta - offset + (y - mu) / mu
        xw = x * mu[:, None]
        try:
            beta = linalg.solve(x.T @ xw, xw.T @ z, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            beta = np.linalg.lstsq(x.T @ xw, xw.T @ z, rcond=None)[0]
        eta = np.clip(x @ beta + offset, -700, 700)
        mu = np.exp(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * float(np.sum(np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)))
        if abs(dev - dev_old) <= 1e-10 * (abs(dev) + 0.1):
            break
        dev_old = dev
    return beta, mu


def _nb2_model(y: np.ndarray, x: np.ndarray, offset: np.ndarray | None) -> Any:
    """statsmodels' NB2 model with a vectorised Hessian and an analytic ``score_obs``.

    statsmodels 0.15 builds the NB2 Hessian with a Python double loop over pairs of
    columns and takes per-observation scores (needed by every sandwich covariance)
    by complex-step differentiation; both cost ``k^2/2`` or ``k`` passes over the
    data, which dominates with hundreds of dummies. The overrides compute the same
    quantities with matrix products (same formulas; ``tests/test_negbin.py``
    checks the fit against the stock class).
    """
    from scipy import special
    from statsmodels.discrete.discrete_model import NegativeBinomial

    class _NB2(NegativeBinomial):  # type: ignore[misc]
        def _alpha_parts(self, params: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            alpha = float(np.exp(params[-1]) if self._transparams else params[-1])
            mu = self.predict(params[:-1])
            return alpha, mu, np.asarray(self.endog, dtype=float)

        def _hessian_nb2(self, params: np.ndarray) -> np.ndarray:
            alpha, mu, y = self._alpha_parts(params)
            a1 = 1 / alpha
            exog = self.exog
            dim = exog.shape[1]
            hess = np.empty((dim + 1, dim + 1))
            const = a1 * mu * (a1 + y) / (mu + a1) ** 2
            hess[:dim, :dim] = -(exog * const[:, None]).T @ exog
            dldpda = -((mu * (y - mu) * a1**2 / (mu + a1) ** 2) @ exog)
            hess[-1, :-1] = dldpda
            hess[:-1, -1] = dldpda
            da1 = -(alpha**-2)
            da2 = 2 * alpha**-3
            prob = a1 / (a1 + mu)
            dgpart = special.digamma(a1 + y) - special.digamma(a1)
            dalpha = da1 * (dgpart + np.log(prob) - (y - mu) / (a1 + mu))
            hess[-1, -1] = float(np.sum(
                da2 * dalpha / da1 + da1**2 * (
                    special.polygamma(1, a1 + y) - special.polygamma(1, a1) + 1 / a1
                    - 1 / (a1 + mu) + (y - mu) / (mu + a1) ** 2)))
            return hess

        def score_obs(self, params: np.ndarray) -> np.ndarray:
            if self._transparams:
                return super().score_obs(params)
            alpha, mu, y = self._alpha_parts(params)
            a1 = 1 / alpha
            sb = self.exog * ((y - mu) / (1 + alpha * mu))[:, None]
            dgpart = special.digamma(a1 + y) - special.digamma(a1)
            sa = -(alpha**-2) * (dgpart + np.log(a1 / (a1 + mu)) - (y - mu) / (a1 + mu))
            return np.column_stack([sb, sa])

    return _NB2(y, x, loglike_method="nb2", check_rank=False, offset=offset)


#: Below this the NB2 dispersion is treated as being at its boundary (Poisson).
ALPHA_BOUNDARY = 1e-6


def _fit_nb2(model: Any, start: np.ndarray, maxiter: int, fit_kw: dict[str, Any]
             ) -> tuple[Any, bool, str]:
    """Newton from the Poisson start; if that fails, BFGS on log(alpha) then Newton.

    Returns the statsmodels results, whether it converged, and how it was
    obtained: ``"newton"``, ``"bfgs+newton"`` or ``"boundary"`` (alpha -> 0).
    """
    def ok(r: Any) -> bool:
        p = np.asarray(r.params)
        return bool(r.mle_retvals.get("converged", False)) and bool(np.all(np.isfinite(p))) \
            and p[-1] > 0 and bool(np.all(np.isfinite(np.asarray(r.bse))))

    res = model.fit(start_params=start, method="newton", maxiter=maxiter, **fit_kw)
    if ok(res):
        return res, True, "newton"
    rb = model.fit(start_params=start.copy(), method="bfgs", maxiter=max(maxiter, 2000), disp=0)
    a = float(np.asarray(rb.params)[-1])
    if not np.isfinite(a) or a < ALPHA_BOUNDARY:
        return rb, bool(rb.mle_retvals.get("converged", False)), "boundary"
    res = model.fit(start_params=np.asarray(rb.params), method="newton", maxiter=maxiter, **fit_kw)
    return res, ok(res), "bfgs+newton"


class FENegBin:
    """NB2 regression with fixed effects as dummies (see the module docstring).

    Parameters
    ----------
    formula
        ``"deaths ~ x + w | unit + year"`` (fixest syntax, see
        :mod:`causalpolicing.formula`); without ``|`` an intercept is fitted.
    exposure
        Column of the population at risk; ``log(exposure)`` enters as an offset
        (coefficient 1). Default: the Panel's exposure role, none for a DataFrame.
        Pass ``exposure=False`` to use none with a Panel.
    vcov
        ``"iid"`` (inverse Hessian), ``"hetero"`` (= ``"HC0"``), ``"HC1"``
        (HC0 times N/(N-K)), ``{"CRV1": "unit"}`` (statsmodels ``cluster``:
        factor G/(G-1) (N-1)/(N-K), K counting every dummy and alpha; p-values
        from t with G-1 degrees of freedom), ``"HAC"`` / ``{"HAC": lags}``.
        Default as :func:`causalpolicing.feols`: CRV1 by the Panel's cluster or
        unit; for a DataFrame with fixed effects, the first fixed effect; else iid.
    maxiter
        Maximum Newton iterations.
    """

    def __init__(self, formula: str | Formula, *, exposure: str | bool | None = None,
                 vcov: str | Mapping[str, Any] | None = None, maxiter: int = 100) -> None:
        self._formula = parse_formula(formula)
        if exposure is not None and exposure is not False and not isinstance(exposure, str):
            raise SpecError(f"exposure must be a column name (or False); got {exposure!r}.")
        self._exposure = exposure
        self._vcov = None if vcov is None else parse_glm_vcov(vcov)
        if isinstance(maxiter, bool) or not isinstance(maxiter, int) or maxiter < 1:
            raise SpecError(f"maxiter must be a positive integer; got {maxiter!r}.")
        self._maxiter = maxiter

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_maxiter"):
            raise AttributeError("FENegBin settings are fixed; create a new estimator instead.")
        object.__setattr__(self, name, value)

    @property
    def formula(self) -> Formula:
        return self._formula

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return f"FENegBin({str(self._formula)!r}, exposure={self._exposure!r}, vcov={v!r})"

    def fit(self, data: pd.DataFrame | Any) -> GLMFEResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = self._fit(data)
        msgs = []
        for w in caught:
            msgs.append(str(w.message))
            warnings.warn(w.message, w.category, stacklevel=3)
        object.__setattr__(out, "_warnings", tuple(dict.fromkeys(msgs)))
        return out

    def _fit(self, data: Any) -> GLMFEResults:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning

        f = self._formula
        exposure = self._exposure
        if exposure is None and _is_panel(data):
            exposure = data.exposure
        exposure = None if exposure is False else exposure
        req, source = default_glm_vcov(self._vcov, f, data)
        g = prepare_glm(f, data, req=req, family="count", extra={"exposure": exposure})
        y = g.y
        if np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-8):
            raise SpecError(f"The outcome {f.depvar.name!r} must hold non-negative counts; "
                            "found negative or non-integer values.")
        offset = np.zeros(len(y))
        if exposure is not None:
            e = g.extra["exposure"]
            if np.any(e <= 0):
                raise SpecError(f"exposure column {exposure!r} must be positive; "
                                f"{int((e <= 0).sum())} row(s) are zero or negative.")
            offset = np.log(e)
        x = g.design
        k = len(g.exog_names)
        beta0, mu0 = _poisson_start(y, x, offset)
        alpha0 = float(np.clip(np.sum((y - mu0) ** 2 - y) / np.sum(mu0**2), 0.05, 10.0))
        # the rank was checked above (collinear regressors dropped): skip statsmodels'
        # SVD-based rank check, which costs as much as several Newton steps
        model = _nb2_model(y, x, offset if exposure is not None else None)
        cov_type, cov_kwds, use_t = sm_cov_args(req, g, len(y))
        fit_kw = {"disp": 0, "cov_type": cov_type, "cov_kwds": cov_kwds, "use_t": use_t}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res, converged, how = _fit_nb2(model, np.append(beta0, alpha0), self._maxiter,
                                           fit_kw)
            if how == "boundary":
                import statsmodels.api as sm

                res = sm.GLM(y, x, family=sm.families.Poisson(),
                             offset=offset if exposure is not None else None).fit(
                    cov_type=cov_type, cov_kwds=cov_kwds, use_t=use_t)
                converged = bool(res.converged)
        sm_notes = [str(w.message) for w in caught
                    if not issubclass(w.category, (SMConvergenceWarning, RuntimeWarning))
                    and "Inverting hessian" not in str(w.message)]
        if how == "boundary":
            warnings.warn(
                "No over-dispersion: the NB2 dispersion alpha is at its boundary 0, where the "
                "negative binomial is the Poisson model; the estimates and standard errors "
                "reported are those of the Poisson MLE (alpha = 0, no standard error). "
                "cp.fepois is the natural estimator for these data.",
                AssumptionWarning, stacklevel=3)
        elif not converged or not np.all(np.isfinite(res.params)):
            warnings.warn(
                f"The NB2 likelihood did not converge in {self._maxiter} Newton iterations "
                f"(alpha = {float(res.params[-1]):.4g}); the estimates are unreliable. Raise "
                "maxiter, rescale the regressors, or check for FE levels with very few events.",
                ConvergenceWarning, stacklevel=3)
        n_params = x.shape[1] + 1
        cov, df, ncl, label, notes = finish_cov(req, res, g, k, n_params)
        if how == "boundary":
            alpha, alpha_se = 0.0, np.nan
        else:
            alpha = float(res.params[-1])
            alpha_se = float(np.sqrt(np.asarray(res.cov_params())[-1, -1]))
            if req.name == "HC1":
                alpha_se *= float(np.sqrt(len(y) / (len(y) - n_params)))
        names = list(g.exog_names)
        fit_stats = {
            "loglik": float(res.llf),
            "aic": float(res.aic),
            "bic": float(res.bic),
            "alpha": alpha,
            "alpha_se": alpha_se,
            "converged": converged,
            "optimizer": how,
            "fixed_effects": " + ".join(g.fe_names),
            "n_dummies": len(g.dummy_names),
        }
        spec = {
            "formula": str(f),
            "exposure": exposure,
            "vcov": req.as_spec(),
            "vcov_source": source,
            "family": "negative binomial (NB2)",
            "link": "log",
            "engine": "statsmodels NegativeBinomial(loglike_method='nb2'), Newton",
            "fixed_effects": list(g.fe_names),
            "depvar": f.depvar.name,
            "maxiter": self._maxiter,
        }
        return GLMFEResults(
            params=pd.Series(np.asarray(res.params)[:k], index=names),
            cov=pd.DataFrame(cov, index=names, columns=names),
            nobs=len(y), df_inference=df, cov_type=label,
            estimator="FENegBin" if g.fe_names else "NegBin",
            spec=spec, n_clusters=ncl, fit_stats=fit_stats, dropped=g.dropped,
            warnings=tuple(notes + sm_notes),
            extra={"family": "negative binomial (NB2)", "link": "log", "alpha": alpha,
                   "alpha_se": alpha_se, "converged": converged, "collinear": g.collinear,
                   "fe_names": g.fe_names, "fe_levels": g.fe_levels,
                   "regressor_sd": g.regressor_sd},
        )


def fenegbin(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    exposure: str | bool | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    maxiter: int = 100,
) -> GLMFEResults:
    """Fit an NB2 model with fixed effects as dummies: ``FENegBin(...).fit(data)``.

    See :class:`FENegBin` for the parameters and the module docstring for the
    model, the engine and the panel sizes where it stops being practical.

    Returns
    -------
    GLMFEResults
        Slopes (log rate ratios), their covariance, ``alpha`` and its standard
        error; rate ratios via ``cp.rate_ratios(res)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> mu = np.exp(0.5 + 0.3 * df["x"])
    >>> df["y"] = rng.poisson(rng.gamma(shape=2.0, scale=mu / 2.0))   # alpha = 0.5
    >>> res = cp.fenegbin("y ~ x", df)
    >>> round(float(res.params["x"]), 1), round(res.alpha, 1), res.cov_type
    (0.3, 0.5, 'iid')
    """
    return FENegBin(formula, exposure=exposure, vcov=vcov, maxiter=maxiter).fit(data)
