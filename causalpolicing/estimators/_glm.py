"""GLM scaffolding shared by :func:`~causalpolicing.estimators.negbin.fenegbin` and
:func:`~causalpolicing.estimators.binomial.febinomial` (statsmodels engines).

The covariance request (the registry's
:class:`~causalpolicing.inference.vcov.VcovRequest` checked for the ``glm`` family:
iid, HC0, HC1, CRV1, HAC) and its defaults, the data preparation with fixed effects as
dummies (:func:`prepare_glm`),
the translation to statsmodels' ``cov_type`` and back (:func:`sm_cov_args`,
:func:`finish_cov`) and the results class :class:`GLMFEResults`.

>>> parse_glm_vcov({"CRV1": "unit"})
VcovRequest(name='CRV1', clusters=('unit',), time=None, lag=None)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.demean import demean
from ..core.fe_structure import factorize
from ..data._messages import close_matches
from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    EstimationError,
    SpecError,
)
from ..formula import Formula
from ..inference.covariance import finish_statsmodels_cov, statsmodels_cov_args
from ..inference.fit_state import GLMFitState
from ..inference.vcov import VcovRequest, check_vcov
from ..results import BaseResults
from ._common import (
    COLLIN_TOL,
    _is_panel,
    _reissue,
    _select_columns,
    frame_of,
    no_regressor_message,
)
from ._design import DROP_LOG_COLUMNS, build_design

__all__ = [
    "GLMData",
    "GLMFEResults",
    "GLMVcov",
    "default_glm_vcov",
    "fit_recording_warnings",
    "finish_cov",
    "parse_glm_vcov",
    "prepare_glm",
    "sm_cov_args",
]

# ============================================================ covariance request
#: Former name of the covariance request of the ML estimators: the registry's one
#: request type (:class:`~causalpolicing.inference.vcov.VcovRequest`).
GLMVcov = VcovRequest


def parse_glm_vcov(vcov: Any, estimator: str = "this estimator") -> VcovRequest:
    """Parse ``vcov=`` for :func:`fenegbin` / :func:`~causalpolicing.febinomial`: the
    registry's parser and its ``glm`` family check
    (:func:`~causalpolicing.inference.vcov.check_vcov`).

    ``"hetero"`` is ``"HC1"`` (as for :func:`causalpolicing.feols`); ``"HC0"`` is the
    sandwich without the N/(N-K) factor; ``"HAC"`` is Newey-West for a single time series.

    Examples
    --------
    >>> parse_glm_vcov({"CRV1": "canton"}).label()
    'CRV1 by canton'
    >>> parse_glm_vcov({"HAC": 2}).label()
    'HAC (Newey-West, 2 lags)'
    >>> parse_glm_vcov("hetero").label(), parse_glm_vcov("HC0").label()
    ('HC1', 'HC0')
    """
    return check_vcov(vcov, family="glm", estimator=estimator)


def default_glm_vcov(vcov: VcovRequest | None, formula: Formula, data: Any,
                     single_series: str = "iid") -> tuple[VcovRequest, str]:
    """The covariance to use and why (same defaults as :func:`causalpolicing.feols`)."""
    if vcov is not None:
        return vcov, "user"
    if _is_panel(data):
        if data.n_units == 1:
            return VcovRequest(single_series), (
                f"default for a single-unit Panel: {single_series}")
        col = data.clusters[0] if data.clusters else data.unit
        return VcovRequest("CRV1", (col,)), (
            f"default for a Panel: CRV1 clustered by "
            f"{'declared cluster' if data.clusters else 'unit'} {col!r}")
    if formula.fixed_effects and len(formula.fixed_effects[0]) == 1:
        col = formula.fixed_effects[0][0]
        return VcovRequest("CRV1", (col,)), (
            f"default with fixed effects (as fixest): CRV1 clustered by the first fixed "
            f"effect {col!r}")
    return VcovRequest("iid"), "default without fixed effects: iid (model-based)"


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
    n_singletons: int = 0  # fixed-effect singleton rows (dropped or kept, see the spec)

    @property
    def design(self) -> np.ndarray:
        return np.column_stack([self.exog, self.dummies])

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.exog_names, *self.dummy_names)


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
    req: VcovRequest,
    family: str,
    extra: Mapping[str, str | None],
    time: str | None = None,
    collin_tol: float = COLLIN_TOL,
    singletons: str = "keep",
) -> GLMData:
    """Rows, model matrices, dummies and the drop log for an ML estimator.

    ``extra`` maps roles (``exposure``, ``trials``) to column names; rows with a
    missing value there are dropped and logged. ``family`` (``"count"`` or
    ``"binomial"``) decides which fixed-effect levels carry no information
    (all-zero outcome; for binomial also all-successes). ``singletons``: ``"keep"``
    (default, as fixest and Stata) or ``"drop"`` fixed-effect singletons.
    """
    if formula.is_iv:
        raise SpecError("Instrumental variables are not supported by this estimator; use "
                        "cp.feols('y ~ w | fe | x ~ z', ...) for 2SLS.")
    frame, source_rows = frame_of(data)
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
    d = build_design(formula, sub, extra=clusters, singletons=singletons,
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
        raw_ss[np.ptp(exog, axis=0) == 0] = 0.0  # constant: exactly, whatever rounding
        keep_x, why = _select_columns(within, raw_ss, names, has_fe or add_const,
                                      tol=collin_tol)
    else:
        keep_x, why = [], {}
    if why:
        warnings.warn(
            "Regressor(s) dropped: " + "; ".join(f"{k} ({v})" for k, v in why.items())
            + ". Their coefficients are not identified; they are listed in results.collinear.",
            CollinearityWarning, stacklevel=4)
    raw_x = {nm: exog[:, j] for j, nm in enumerate(names)}
    exog = exog[:, keep_x]
    names = tuple(names[j] for j in keep_x)
    sd = {nm: float(np.std(exog[:, j], ddof=1)) if len(y) > 1 else np.nan
          for j, nm in enumerate(names)}
    if add_const:
        exog = np.column_stack([np.ones(len(y)), exog])
        names = ("Intercept", *names)
    if exog.shape[1] == 0:
        if why:
            raise EstimationError(no_regressor_message(why, raw_x, fe_codes, d.fe_names))
        raise EstimationError("No regressor is left to estimate; add one to the formula.")
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
        regressor_sd=sd, n_singletons=d.n_singletons,
    )


# ================================================================= covariances
def sm_cov_args(req: VcovRequest, g: GLMData, n_obs: int) -> tuple[str, dict[str, Any], bool]:
    """statsmodels ``cov_type``, ``cov_kwds`` and ``use_t`` for a request (the registry's
    adapter, :func:`~causalpolicing.inference.covariance.statsmodels_cov_args`)."""
    return statsmodels_cov_args(req, g.cluster_codes, n_obs)


def finish_cov(req: VcovRequest, sm_res: Any, g: GLMData, k_slopes: int,
               n_params: int) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None,
                                       str, list[str]]:
    """Slope covariance, inference df, clusters, label and notes from a statsmodels fit
    (the registry's adapter,
    :func:`~causalpolicing.inference.covariance.finish_statsmodels_cov`)."""
    return finish_statsmodels_cov(req, sm_res, k_slopes=k_slopes, n=len(g.y), n_params=n_params,
                                  cluster_codes=g.cluster_codes)


# ===================================================================== results
class GLMFEResults(BaseResults):
    """Results of :func:`fenegbin` and :func:`~causalpolicing.febinomial`.

    The contract of :class:`~causalpolicing.results.BaseResults` for the slopes
    (dummies are not reported, as absorbed fixed effects), plus ``family``,
    ``link``, ``alpha`` (NB2 dispersion), ``collinear``, ``converged``, the
    fixed-effect ``fe_table`` and ``fit_state`` (a frozen
    :class:`~causalpolicing.inference.fit_state.GLMFitState`). Exponentiated effects:
    ``cp.rate_ratios(res)`` (counts) or ``cp.odds_ratios(res)`` (binomial).
    """

    __slots__ = ("_fit_state",)

    def __init__(self, *, fit_state: GLMFitState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(fit_state, GLMFitState):
            raise SpecError(f"fit_state must be a GLMFitState; got {type(fit_state).__name__}.")
        object.__setattr__(self, "_fit_state", fit_state)

    @property
    def fit_state(self) -> GLMFitState:
        """The fit's family, convergence, fixed effects and dispersion (frozen)."""
        return self._fit_state

    @property
    def family(self) -> str:
        """``"negative binomial (NB2)"`` or ``"binomial"``."""
        return self._fit_state.family

    @property
    def link(self) -> str:
        """``"log"`` (coefficients are log rate ratios) or ``"logit"`` (log odds ratios)."""
        return self._fit_state.link

    @property
    def alpha(self) -> float:
        """NB2 dispersion: Var(y) = mu + alpha mu^2 (NaN for binomial)."""
        return float(self._fit_state.alpha)

    @property
    def alpha_se(self) -> float:
        """Standard error of ``alpha`` (model-based for iid, else the chosen sandwich)."""
        return float(self._fit_state.alpha_se)

    @property
    def converged(self) -> bool:
        """Whether the optimiser reached its tolerance."""
        return bool(self._fit_state.converged)

    @property
    def collinear(self) -> dict[str, str]:
        """Regressors dropped as collinear or absorbed, with the reason."""
        return dict(self._fit_state.collinear)

    @property
    def fe_table(self) -> pd.DataFrame:
        """Fixed effects and their number of levels (after dropping uninformative ones)."""
        return pd.DataFrame({"name": list(self._fit_state.fe_names),
                             "levels": list(self._fit_state.fe_levels)})

    @property
    def regressor_sd(self) -> pd.Series:
        """Standard deviation of each raw regressor in the estimation sample (for per='sd')."""
        sd = self._fit_state.regressor_sd
        return pd.Series({t: sd.get(t, np.nan) for t in self._params.index}, dtype=float)

    @property
    def loglik(self) -> float:
        """Maximised log-likelihood."""
        return float(self._fit_stats["loglik"])


def fit_recording_warnings(fit: Callable[[Any], dict[str, Any]], data: Any) -> GLMFEResults:
    """``GLMFEResults(**fit(data))`` with the warnings of ``fit`` issued again at the user's
    call and passed to the results (once each, in order): the results are built once,
    after the fit, with its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fields = fit(data)
    # stacklevel 5: _reissue, this function, the estimator's fit, its caller, the user
    msgs = _reissue(caught, stacklevel=5)
    return GLMFEResults(**fields, warnings=tuple(dict.fromkeys(msgs)))
