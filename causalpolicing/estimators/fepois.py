r"""Poisson pseudo-maximum likelihood (PPML) with fixed effects and an exposure.

The model

.. math::

    E[y_{it} \mid x_{it}] = \exp\big(x_{it}'\beta + \alpha_{g_1(it)} + \gamma_{g_2(it)}
    + \dots + \log E_{it} + o_{it}\big)

(exposure :math:`E`, e.g. the population at risk, and an optional offset
:math:`o`) is estimated by iteratively reweighted least squares (IRLS) in which
every iteration demeans the working dependent variable and the regressors with
weights :math:`\mu` (the weighted within transformation of
:mod:`causalpolicing.estimators._demean`), as in fixest, pyfixest and ppmlhdfe
(Correia, Guimarães & Zylkin 2020, *Stata Journal* 20:95). Each iteration's
within transformation starts from the previous one (the projection of
:math:`x - D\alpha` equals that of :math:`x`), so later iterations need few
sweeps. Convergence is declared when the relative change of the deviance,
:math:`|D_r - D_{r-1}| / (0.1 + |D_r|)` (fixest's rule), falls below ``tol``;
otherwise a :class:`~causalpolicing.exceptions.ConvergenceWarning` names the
iterations. A step that raises the deviance is halved (up to 20 times). The
within transformation's own tolerance follows the outer progress (``1e-4``
times the last relative deviance change, between ``1e-10`` and ``1e-6``), and
the iteration that declares convergence must have used ``1e-10`` (else one
more, polishing, iteration runs). The starting values
are fixest's, :math:`\mu_0 = (y + \bar r E)/2` with :math:`\bar r` the
overall rate (:math:`(y + \bar y)/2` without exposure or offset).

Data problems, each recorded in ``results.dropped`` and announced by a warning:

* rows whose fixed-effect level has an all-zero outcome (the level's effect
  is :math:`-\infty`; they carry no information on :math:`\beta`; fixest drops
  them too), repeated with singleton removal until nothing changes;
* separation by the regressors (Santos Silva & Tenreyro 2010; Correia,
  Guimarães & Zylkin 2021, "Verifying the existence of maximum likelihood
  estimates for generalized linear models"), found by the iterative
  rectifier (ReLU) check: zero-outcome rows that a combination of regressors
  and fixed effects can push to :math:`\mu = 0`. ``separation="drop"`` drops
  them (their :math:`\beta` components are then not identified and the
  regressors that only separated are dropped as collinear);
  ``separation="error"`` raises.

Negative outcomes raise; non-integer outcomes are allowed (PPML is consistent
for any non-negative outcome whose conditional mean is exponential) and noted.

Covariances come from the registry in :mod:`causalpolicing.inference.vcov`
with the IRLS weights: regressors :math:`\sqrt{w\mu}\,\tilde x` and residuals
:math:`\sqrt{w\mu}\,\tilde r` (working residuals), bread
:math:`(\tilde X' W \tilde X)^{-1}`, so the scores are
:math:`\tilde x_i w_i (y_i - \mu_i)`. ``"iid"`` is the inverse Fisher
information times the convention's factor with the dispersion fixed at one
(fixest/pyfixest: :math:`(N-1)/(N-K)`; ``ssc="none"``: 1, the GLM's). CRV3
refits the model without each cluster.

Examples
--------
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> res = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
...                 panel)
>>> res.spec["exposure"], res.cov_type, res.nobs
('population', 'CRV1 by canton', 858)
>>> rr = cp.estimators.rate_ratios(res)
>>> round(float(rr.loc[0, "rate_ratio"]), 3)
1.055
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.special import gammaln

from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    DataWarning,
    EstimationError,
    NegativeValueError,
    SpecError,
    ZeroExposureError,
)
from ..formula import Formula, parse_formula
from ..inference.count_bootstrap import BootstrapParts
from ..inference.vcov import VcovInput, VcovRequest, check_ssc, compute_vcov, parse_vcov
from ..results import BaseResults
from ._demean import FixedEffects, demean, drop_singletons, factorize, fe_dof
from ._design import DROP_LOG_COLUMNS, build_design
from .feols import COLLIN_TOL, _codes_for, _inv_psd, _is_panel, _ncl, _reissue, _select_columns

__all__ = ["FEPoisson", "FEPoissonResults", "fepois", "SEPARATION_TOL"]

#: Tolerance of the ReLU separation check (as ppmlhdfe and pyfixest).
SEPARATION_TOL = 1e-4
_MAX_HALVING = 20
#: The last IRLS iteration's within transformation must meet at least this tolerance.
_POLISHED_TOL = 1e-10


# ------------------------------------------------------------------- IRLS core
@dataclass(frozen=True)
class _IRLS:
    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    xd: np.ndarray  # demeaned regressors at the last weights (unweighted)
    resid: np.ndarray  # working residuals of the last WLS (unweighted)
    w: np.ndarray  # last IRLS weights (user weights x mu)
    deviance: float
    iterations: int
    converged: bool
    keep: list[int]
    why: dict[str, str]


def _deviance(y: np.ndarray, mu: np.ndarray, uw: np.ndarray | None) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
    return float(2 * (term.sum() if uw is None else uw @ term))


def _ylogy_minus_y(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y


def _deviance_eta(c_sum: float, y: np.ndarray, eta: np.ndarray, mu: np.ndarray,
                  uw: np.ndarray | None) -> float:
    """Deviance from the linear predictor: 2 sum w (y log y - y - y eta + mu), no logarithm."""
    if uw is None:
        return 2 * (c_sum - float(y @ eta) + float(mu.sum()))
    return 2 * (c_sum - float(uw @ (y * eta)) + float(uw @ mu))


def _irls(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...], offset: np.ndarray,
    uw: np.ndarray | None, names: tuple[str, ...], *, tol: float, maxiter: int,
    collin_tol: float = COLLIN_TOL, eta0: np.ndarray | None = None, check_collin: bool = True,
) -> _IRLS:
    """Poisson IRLS with weighted within transformations (see the module notes)."""
    has_fe = bool(fe_codes)
    fe_prep = FixedEffects(fe_codes)  # structure built once, reused by every iteration
    if eta0 is None:
        # start between y and the constant-rate fit (fixest's start, scaled by the exposure)
        ex = np.exp(offset - offset.max()) if np.any(offset) else None
        if ex is None:
            mean = float(y.mean() if uw is None else (uw @ y) / uw.sum())
            mu = (y + mean) / 2
        else:
            rate = float((y.sum() / ex.sum()) if uw is None else (uw @ y) / (uw @ ex))
            mu = (y + rate * ex) / 2
            mu = np.where(mu > 0, mu, rate * ex)
        eta = np.log(mu)
    else:
        eta = eta0
        mu = np.exp(eta)
    c = _ylogy_minus_y(y)
    c_sum = float(c.sum() if uw is None else uw @ c)
    del c
    last = _deviance(y, mu, uw)
    keep = list(range(x.shape[1]))
    why: dict[str, str] = {}
    z_prev = zd = xd = None
    both = np.empty((0, 0))
    beta = np.zeros(x.shape[1])
    converged = False
    polishing = False
    crit = 1.0
    it = 0
    for it in range(1, maxiter + 1):
        # inner tolerance: loose while far from the optimum, tight at the end
        inner = _POLISHED_TOL if polishing else max(_POLISHED_TOL, min(1e-6, 1e-4 * crit))
        z = eta - offset + (y - mu) / mu
        w = mu if uw is None else uw * mu
        if xd is None:
            both, _ = demean(np.column_stack([z, x]), fe_prep, w, tol=inner)
            zd, xd = both[:, 0], both[:, 1:]
            if check_collin:
                raw_ss = w @ ((x - (w @ x) / w.sum()) ** 2)
                sw = np.sqrt(w)
                keep, why = _select_columns(xd * sw[:, None], raw_ss, names, has_fe,
                                            tol=collin_tol)
                if not keep:
                    raise EstimationError(
                        "No regressor is left to estimate"
                        + (f" (dropped: {why})" if why else "")
                        + "; the fixed effects absorb everything."
                    )
                if len(keep) < x.shape[1]:
                    x = x[:, keep]
                    both = both[:, [0, *[1 + j for j in keep]]]
                    zd, xd = both[:, 0], both[:, 1:]
                    beta = beta[: len(keep)]
        else:
            # warm start in place: the previous demeaned columns plus the change of z
            both[:, 0] += z - z_prev
            both, _ = demean(both, fe_prep, w, tol=inner, out=both)  # in place
            zd, xd = both[:, 0], both[:, 1:]
        z_prev = z
        if xd.shape[1]:
            xw = xd * w[:, None]
            beta_new = linalg.solve(xd.T @ xw, xw.T @ zd, assume_a="pos")
            resid = zd - xd @ beta_new
        else:  # fixed effects only (a restricted fit)
            beta_new = beta
            resid = zd
        eta_new = z - resid + offset
        mu_new = np.exp(eta_new)
        dev = _deviance_eta(c_sum, y, eta_new, mu_new, uw)
        halving = 0
        while (not np.isfinite(dev) or dev > last * (1 + 1e-10) + 1e-12) and it > 1 \
                and halving < _MAX_HALVING:
            # step-halving: the linear predictor is linear in (beta, fixed effects)
            eta_new = (eta + eta_new) / 2
            beta_new = (beta + beta_new) / 2
            mu_new = np.exp(eta_new)
            dev = _deviance_eta(c_sum, y, eta_new, mu_new, uw)
            halving += 1
        crit = abs(dev - last) / (0.1 + abs(dev))
        eta, mu, beta, last = eta_new, mu_new, beta_new, dev
        if crit < tol:
            if inner <= _POLISHED_TOL or not has_fe:
                converged = True
                break
            polishing = True  # one more iteration with the tight inner tolerance
    return _IRLS(beta=beta, eta=eta, mu=mu, xd=xd, resid=resid, w=w, deviance=last,
                 iterations=it, converged=converged, keep=keep, why=why)


# --------------------------------------------------------------- data problems
def _all_zero_rows(y: np.ndarray, codes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rows (mask) of kept rows whose level has no positive outcome among kept rows."""
    n_lv = int(codes.max()) + 1
    pos = np.bincount(codes[keep], weights=(y[keep] > 0).astype(float), minlength=n_lv)
    return keep & (pos[codes] == 0)


def _relu_separation(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...], tol: float = SEPARATION_TOL,
    maxiter: int = 100,
) -> tuple[np.ndarray, bool]:
    """Iterative rectifier of Correia, Guimarães & Zylkin (2021): separated rows (mask).

    Regress ``u = 1{y = 0}`` on the regressors and fixed effects with a huge
    weight on the interior rows (``y > 0``) so that their fitted values are
    zero; set fitted values within ``tol`` of zero (and every interior one) to
    zero; if none is negative, the boundary rows with positive fitted values are
    separated; else replace ``u`` by ``max(fitted, 0)`` and repeat.
    """
    boundary = y == 0
    n = len(y)
    if not boundary.any():
        return np.zeros(n, dtype=bool), True
    interior = ~boundary
    big = interior.sum() / tol**2
    omega = np.where(interior, big, 1.0)
    fe_prep = FixedEffects(fe_codes)  # built once for all the demeaning below
    xd, _ = demean(x, fe_prep, omega, tol=1e-9) if x.shape[1] else (x, None)
    sw = np.sqrt(omega)
    xs = xd * sw[:, None]
    u = boundary.astype(float)
    for _ in range(maxiter):
        ud, _ = demean(u, fe_prep, omega, tol=1e-9)
        if xs.shape[1]:
            b = np.linalg.lstsq(xs, ud * sw, rcond=None)[0]
            resid = ud - xd @ b
        else:
            resid = ud
        uhat = u - resid
        uhat[interior | ((uhat > -0.1 * tol) & (uhat < tol))] = 0.0
        if np.all(uhat >= 0):
            return boundary & (uhat > 0), True
        u = np.where(boundary, np.maximum(uhat, 0.0), 0.0)
    return np.zeros(n, dtype=bool), False


# --------------------------------------------------------------------- results
class FEPoissonResults(BaseResults):
    """Results of :class:`FEPoisson`: the results contract plus count-model details.

    Beyond :class:`~causalpolicing.results.BaseResults`: ``fixed_effects``,
    ``collinear``, ``regressor_sd`` and ``regressor_mean`` (of the raw
    regressors in the estimation sample, for effects per standard deviation),
    ``deviance``, ``pseudo_r2``, ``loglik``, ``converged`` and :meth:`with_cov`.
    """

    __slots__ = ("_fe_table", "_collinear", "_store")

    def __init__(self, *, fe_table: pd.DataFrame, collinear: Mapping[str, str],
                 store: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_fe_table", fe_table.copy())
        object.__setattr__(self, "_collinear", dict(collinear))
        object.__setattr__(self, "_store", store)

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """Fixed effects: ``name`` and ``levels`` (after dropping rows), a copy."""
        return self._fe_table.copy()

    @property
    def collinear(self) -> dict[str, str]:
        """Regressors dropped as collinear or absorbed, with the reason."""
        return dict(self._collinear)

    @property
    def regressor_sd(self) -> pd.Series:
        """Standard deviation (ddof=1, unweighted) of each regressor in the estimation sample."""
        return self._store["sd"].copy()

    @property
    def regressor_mean(self) -> pd.Series:
        """Mean of each regressor in the estimation sample."""
        return self._store["mean"].copy()

    @property
    def deviance(self) -> float:
        """Deviance of the fitted model."""
        return float(self._fit_stats["deviance"])

    @property
    def pseudo_r2(self) -> float:
        """McFadden pseudo-R² against the constant-only model (with the offset)."""
        return float(self._fit_stats["pseudo_r2"])

    @property
    def loglik(self) -> float:
        """Poisson log-likelihood (pseudo log-likelihood for non-integer outcomes)."""
        return float(self._fit_stats["loglik"])

    @property
    def converged(self) -> bool:
        """Whether IRLS reached its tolerance."""
        return bool(self._fit_stats["converged"])

    @property
    def ssc(self) -> str:
        """Small-sample convention used for the covariance."""
        return str(self._spec["ssc"])

    def bootstrap_parts(self, cluster: str | None = None, *, data: pd.DataFrame | None = None
                        ) -> BootstrapParts:
        """What :func:`~causalpolicing.inference.count_bootstrap.poisson_bootstrap` needs.

        ``cluster`` defaults to the fit's one-way cluster variable, or single rows.
        """
        st = self._store
        vin: VcovInput = st["vcov_input"]
        if cluster is None:
            vspec = self._spec["vcov"]
            clusters = []
            if isinstance(vspec, Mapping):
                ((name, val),) = vspec.items()
                if name in ("CRV1", "CRV3") and isinstance(val, str):
                    clusters = val.split("+")
            if len(clusters) == 1:
                cluster = clusters[0]
        if cluster is None:
            codes, label = np.arange(vin.nobs), "row"
        else:
            if not isinstance(cluster, str):
                raise SpecError(f"cluster must be a column name; got {cluster!r}.")
            codes = _codes_for(VcovRequest("CRV1", (cluster,)), st, data)[cluster]
            label = cluster
        refit = st["refit"]
        return BootstrapParts(
            params=self.params, scores=vin.regressors * vin.resid[:, None], bread=vin.bread,
            cluster_codes=codes, cluster=label, refit=lambda mult: refit(mult=mult),
            restricted=st["restricted"])

    def with_cov(self, vcov: str | Mapping[str, Any], *, ssc: str | None = None,
                 data: pd.DataFrame | None = None) -> FEPoissonResults:
        """The same estimates with another covariance (a new results object, no refit).

        Parameters
        ----------
        vcov
            As in :func:`fepois`.
        ssc
            Small-sample convention (default: the one of this fit).
        data
            The frame the model was fit on; needed only to cluster by a column the
            fit did not store (cluster variables and fixed effects are stored).

        Examples
        --------
        >>> import causalpolicing as cp
        >>> panel = cp.datasets.load("simulated_cantons")
        >>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel, vcov="iid")
        >>> res.with_cov("hetero").cov_type
        'HC1'
        """
        req = _check_poisson_vcov(parse_vcov(vcov))
        ssc_ = check_ssc(ssc if ssc is not None else self.ssc)
        st = self._store
        codes = _codes_for(req, st, data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vr = _vcov(req, st["vcov_input"], ssc_, codes)
        msgs = _reissue(caught)
        spec = self.spec
        spec.update({"vcov": req.as_spec(), "ssc": ssc_, "vcov_source": "with_cov"})
        names = list(self._params.index)
        return FEPoissonResults(
            params=self._params, cov=pd.DataFrame(vr.cov, index=names, columns=names),
            nobs=self.nobs, df_inference=vr.df, cov_type=vr.label, estimator=self.estimator,
            spec=spec, n_clusters=_ncl(vr), fit_stats=dict(self._fit_stats),
            dropped=self._dropped,
            warnings=tuple(st["fit_warnings"]) + tuple(vr.notes)
            + tuple(m for m in msgs if m not in vr.notes),
            fe_table=self._fe_table, collinear=self._collinear, store=st,
        )


def _check_poisson_vcov(req: VcovRequest) -> VcovRequest:
    if req.name == "HC3":
        raise SpecError("HC3 is not available for the Poisson model (its leverage correction is "
                        "defined for least squares). Use 'hetero' (HC1), a CRV1 or CRV3.")
    return req


def _vcov(req: VcovRequest, vin: VcovInput, ssc: str, codes: Mapping[str, np.ndarray]) -> Any:
    """The registry's covariance; iid with the Poisson dispersion fixed at one."""
    if req.kind == "iid":
        # compute_vcov's iid is RSS * factor * bread with factor 1/(N-K) (1/N for "none");
        # a pseudo-residual with RSS = N-1 (fixest-like conventions) or N gives the Poisson
        # Fisher information times (N-1)/(N-K), N/(N-K) (linearmodels) or 1 (none).
        n = vin.nobs
        rss = n - 1.0 if ssc in ("fixest", "stata_xtreg", "stata_areg") else float(n)
        vin = VcovInput(regressors=vin.regressors, resid=np.full(n, np.sqrt(rss / n)),
                        bread=vin.bread, params=vin.params, fe_codes=vin.fe_codes,
                        fe_names=vin.fe_names, fe_dof_exact=vin.fe_dof_exact)
    return compute_vcov(req, vin, ssc=ssc, cluster_codes=codes,
                        time_codes=codes.get(req.time) if req.time else None)


# ------------------------------------------------------------------- estimator
class FEPoisson:
    """Poisson PML with any number of fixed effects, an exposure and an offset.

    Settings go in the constructor; :meth:`fit` takes the data and returns a
    frozen :class:`FEPoissonResults`; it never modifies the estimator or the data.

    Parameters
    ----------
    formula
        ``"deaths ~ x + w | unit + year"`` (see :mod:`causalpolicing.formula`); the
        outcome must be a plain column (no function). Without fixed effects an
        intercept is estimated.
    exposure
        Column of the population at risk; ``log(exposure)`` enters with
        coefficient one. Default ``None``: a :class:`~causalpolicing.Panel`'s
        exposure role (if any), none for a DataFrame. ``False``: no exposure even
        for a Panel that declares one. Rows with zero exposure and zero count are
        dropped (logged); zero exposure with a positive count raises.
    offset
        Column added to the linear predictor with coefficient one (e.g. an
        already logged exposure). May be combined with ``exposure``.
    vcov
        Covariance (see :mod:`causalpolicing.inference.vcov`): ``"iid"``,
        ``"hetero"``, ``{"CRV1": "unit"}``, ``{"CRV1": "unit+year"}``,
        ``{"CRV3": "unit"}``, ``{"DK": "year"}``. Default ``None``: a Panel's
        declared cluster or unit (CRV1); for a DataFrame CRV1 by the first fixed
        effect (as fixest), or ``"iid"`` without fixed effects.
        ``spec["vcov_source"]`` records which.
    ssc
        Small-sample convention (``"fixest"`` default, as pyfixest's ``fepois``).
    weights
        Column of non-negative weights (each row's log-likelihood contribution is
        multiplied by its weight, as fixest/pyfixest ``weights``).
    tol
        Convergence tolerance on the relative change of the deviance.
    maxiter
        Maximum IRLS iterations.
    separation
        ``"drop"`` (default) separated rows with a warning, or ``"error"``.
    singletons
        ``"drop"`` (default) or ``"keep"`` fixed-effect singletons.
    collin_tol
        Relative tolerance of the collinearity checks.
    """

    def __init__(
        self,
        formula: str | Formula,
        *,
        exposure: str | None | Literal[False] = None,
        offset: str | None = None,
        vcov: str | Mapping[str, Any] | None = None,
        ssc: str = "fixest",
        weights: str | None = None,
        tol: float = 1e-8,
        maxiter: int = 100,
        separation: Literal["drop", "error"] = "drop",
        singletons: Literal["drop", "keep"] = "drop",
        collin_tol: float = COLLIN_TOL,
    ) -> None:
        f = parse_formula(formula)
        if f.is_iv:
            raise SpecError("fepois does not support instrumental variables (the '| x ~ z' "
                            "part); use a control-function approach or cp.feols for 2SLS.")
        if f.depvar.factors[0].func is not None or len(f.depvar.factors) > 1:
            raise SpecError(f"The outcome of a Poisson model must be a plain column (a count "
                            f"or a non-negative amount); got {f.depvar.name!r}.")
        self._formula = f
        for name, val in (("exposure", exposure), ("offset", offset), ("weights", weights)):
            if val is not None and val is not False and not isinstance(val, str):
                raise SpecError(f"{name} must be a column name; got {val!r}.")
        if offset is False or weights is False:
            raise SpecError("Only exposure accepts False (to ignore a Panel's exposure role).")
        self._exposure = exposure
        self._offset = offset
        self._vcov = None if vcov is None else _check_poisson_vcov(parse_vcov(vcov))
        self._ssc = check_ssc(ssc)
        self._weights = weights
        if not (isinstance(tol, float) and 0 < tol < 1):
            raise SpecError(f"tol must be a float in (0, 1), e.g. 1e-8; got {tol!r}.")
        if not (isinstance(maxiter, int) and maxiter >= 1):
            raise SpecError(f"maxiter must be a positive integer; got {maxiter!r}.")
        if separation not in ("drop", "error"):
            raise SpecError(f"separation must be 'drop' or 'error'; got {separation!r}.")
        if singletons not in ("drop", "keep"):
            raise SpecError(f"singletons must be 'drop' or 'keep'; got {singletons!r}.")
        if not (isinstance(collin_tol, float) and 0 < collin_tol < 1):
            raise SpecError(f"collin_tol must be a float in (0, 1); got {collin_tol!r}.")
        self._tol = tol
        self._maxiter = maxiter
        self._separation = separation
        self._singletons = singletons
        self._collin_tol = collin_tol

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "_collin_tol"):
            raise AttributeError("FEPoisson settings are fixed; create a new estimator instead.")
        object.__setattr__(self, name, value)

    @property
    def formula(self) -> Formula:
        return self._formula

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return (f"FEPoisson({str(self._formula)!r}, exposure={self._exposure!r}, "
                f"offset={self._offset!r}, vcov={v!r}, ssc={self._ssc!r}, "
                f"weights={self._weights!r}, separation={self._separation!r})")

    def fit(self, data: pd.DataFrame | Any) -> FEPoissonResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        return self._fit_and_warn(data, stacklevel=4)

    def _fit_and_warn(self, data: Any, stacklevel: int) -> FEPoissonResults:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = self._fit(data)
        msgs = _reissue(caught, stacklevel)
        notes = list(out._store["notes"])
        object.__setattr__(out, "_warnings", tuple(msgs) + tuple(notes))
        out._store["fit_warnings"] = [m for m in msgs if m not in out._store["vcov_notes"]] \
            + notes
        return out

    # ------------------------------------------------------------------ pieces
    def _default_vcov(self, data: Any) -> tuple[VcovRequest, str]:
        if self._vcov is not None:
            return self._vcov, "user"
        if _is_panel(data):
            col = data.clusters[0] if data.clusters else data.unit
            which = "declared cluster" if data.clusters else "unit"
            return VcovRequest("CRV1", (col,)), (
                f"default for a Panel: CRV1 clustered by {which} {col!r}")
        f = self._formula
        if f.fixed_effects and len(f.fixed_effects[0]) == 1:
            col = f.fixed_effects[0][0]
            return VcovRequest("CRV1", (col,)), (
                f"default with fixed effects (as fixest): CRV1 clustered by the first fixed "
                f"effect {col!r}")
        return VcovRequest("iid"), "default without fixed effects: iid"

    def _exposure_for(self, data: Any) -> tuple[str | None, str]:
        if self._exposure is False:
            return None, "none (exposure=False)"
        if self._exposure is not None:
            return self._exposure, "user"
        if _is_panel(data) and data.exposure is not None:
            return data.exposure, f"the Panel's exposure role {data.exposure!r}"
        return None, "none"

    def _offsets(self, frame: pd.DataFrame, expo: str | None
                 ) -> tuple[np.ndarray, list[tuple[np.ndarray, str, str]]]:
        """Offset vector (log exposure + offset) and rows to drop (mask, column, reason)."""
        n = len(frame)
        off = np.zeros(n)
        bad: list[tuple[np.ndarray, str, str]] = []
        ycol = self._formula.depvar.factors[0].column
        if expo is not None and ycol in frame.columns:  # (a missing column is reported later)
            y = pd.to_numeric(frame[ycol], errors="coerce").to_numpy(dtype=float,
                                                                     na_value=np.nan)
        else:
            y = np.zeros(n)
        for col, kind in ((expo, "exposure"), (self._offset, "offset")):
            if col is None:
                continue
            if col not in frame.columns:
                raise SpecError(f"The data have no column {col!r} (the {kind}). Available "
                                f"columns: {', '.join(map(str, list(frame.columns)[:20]))}.")
            s = frame[col]
            if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                raise SpecError(f"The {kind} column {col!r} must be numeric; got dtype {s.dtype}.")
            v = s.to_numpy(dtype=float, na_value=np.nan)
            bad.append((np.isnan(v), col, f"missing {kind}"))
            bad.append((np.isinf(v), col, f"infinite {kind}"))
            if kind == "exposure":
                neg = v < 0
                if neg.any():
                    rows = list(frame.index[np.flatnonzero(neg)[:5]])
                    raise NegativeValueError(
                        f"The exposure column {col!r} has {int(neg.sum())} negative value(s) "
                        f"(rows {rows}); exposures are populations at risk and must be >= 0.")
                zero = v == 0
                zpos = zero & (y > 0)
                if zpos.any():
                    rows = list(frame.index[np.flatnonzero(zpos)[:5]])
                    raise ZeroExposureError(
                        f"{int(zpos.sum())} row(s) have zero exposure ({col!r}) but a positive "
                        f"outcome (rows {rows}); nobody at risk cannot produce events. Fix the "
                        "exposure or drop those rows.")
                bad.append((zero, col, "zero exposure (no one at risk, zero outcome)"))
                with np.errstate(divide="ignore", invalid="ignore"):
                    off = off + np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), 0.0)
            else:
                off = off + np.where(np.isfinite(v), v, 0.0)
        return off, bad

    def _fit(self, data: Any) -> FEPoissonResults:
        f = self._formula
        req, vcov_source = self._default_vcov(data)
        expo, expo_source = self._exposure_for(data)
        if _is_panel(data):
            frame = data.to_frame(source_row=True)
            source_rows = frame.pop("source_row").to_numpy()
        elif isinstance(data, pd.DataFrame):
            frame, source_rows = data, None
        else:
            raise SpecError(f"data must be a pandas DataFrame or a Panel; got "
                            f"{type(data).__name__}.")
        n_input = len(frame)
        offset_all, bad = self._offsets(frame, expo)
        pre = np.zeros(n_input, dtype=bool)
        for m, _, _ in bad:
            pre |= m
        pre_pos = np.flatnonzero(~pre)
        sub = frame if not pre.any() else frame.iloc[pre_pos]
        # cluster/time columns that are fixed effects reuse the fixed-effect codes
        fe_cols = {"^".join(fe) for fe in f.fixed_effects}
        extra = [c for c in (*req.clusters, *([req.time] if req.time else []))
                 if c not in fe_cols]
        d = build_design(f, sub, weights=self._weights, extra=extra, singletons=self._singletons,
                         source_rows=None if source_rows is None else source_rows[pre_pos])
        positions = pre_pos[d.positions]
        y = d.y
        if np.any(y < 0):
            rows = list(frame.index[positions[np.flatnonzero(y < 0)[:5]]])
            raise NegativeValueError(
                f"The outcome {f.depvar.name!r} has {int((y < 0).sum())} negative value(s) (rows "
                f"{rows}); a Poisson model needs non-negative outcomes (counts or amounts).")
        if not np.any(y > 0):
            raise EstimationError(f"The outcome {f.depvar.name!r} is zero in every row used; "
                                  "a Poisson model cannot be estimated.")
        notes: list[str] = []
        if np.any(y != np.round(y)):
            notes.append(
                f"The outcome {f.depvar.name!r} has non-integer values: this is Poisson "
                "pseudo-maximum likelihood (PPML), consistent when the conditional mean is "
                "exponential; use robust or clustered standard errors, not 'iid'.")

        # the drop log so far: pre-filter (exposure/offset) + build_design
        log_parts: list[pd.DataFrame] = []
        for m, col, reason in bad:
            if m.any():
                p = np.flatnonzero(m)
                log_parts.append(pd.DataFrame({
                    "row": frame.index[p], "_pos": p, "column": col, "reason": reason}))
        drop_frames = [_log_frame(frame, source_rows, part) for part in log_parts]
        if len(d.dropped):
            drop_frames.append(d.dropped)

        has_fe = bool(d.fe_codes)
        x = d.exog
        names = d.exog_names
        if f.intercept and not has_fe:
            x = np.column_stack([np.ones(len(y)), x])
            names = ("Intercept", *names)
        if x.shape[1] == 0:
            raise SpecError(f"The formula {str(f)!r} has no regressor; add one.")
        offset = offset_all if len(positions) == n_input else offset_all[positions]
        uw = d.weights
        fe_codes = d.fe_codes

        # all-zero fixed-effect levels, singletons and separation, until nothing changes
        keep = np.ones(len(y), dtype=bool)
        reasons: list[tuple[np.ndarray, str, str]] = []
        n_sep = 0
        relu_done = False
        while True:
            changed = True
            while changed and has_fe:
                changed = False
                for name, codes in zip(d.fe_names, fe_codes, strict=True):
                    zero = _all_zero_rows(y, codes, keep)
                    if zero.any():
                        reasons.append((zero, name, f"all-zero outcome in its {name} level"))
                        keep &= ~zero
                        changed = True
                if self._singletons == "drop":
                    pk = np.flatnonzero(keep)
                    k2 = drop_singletons([c[keep] for c in fe_codes])
                    if not k2.all():
                        single = np.zeros(len(y), dtype=bool)
                        single[pk[~k2]] = True
                        reasons.append((single, " + ".join(d.fe_names), "fixed-effect singleton"))
                        keep &= ~single
                        changed = True
            if not keep.any():
                raise EstimationError("No rows are left after dropping fixed-effect levels whose "
                                      "outcome is all zero; the model cannot be estimated.")
            if relu_done:
                break
            relu_done = True
            if keep.all():
                kp, codes_k, y_k, x_k = np.arange(len(y)), fe_codes, y, x
            else:
                kp = np.flatnonzero(keep)
                codes_k = tuple(factorize(c[kp])[0] for c in fe_codes)
                y_k, x_k = y[kp], x[kp]
            sep, ok = _relu_separation(y_k, x_k, codes_k)
            if not ok:
                warnings.warn("The separation check (iterative rectifier) did not converge in "
                              "100 iterations; separated observations may remain (watch for "
                              "non-convergence or huge coefficients).", ConvergenceWarning,
                              stacklevel=4)
            if sep.any():
                n_sep = int(sep.sum())
                rows = list(frame.index[positions[kp[sep]][:10]])
                if self._separation == "error":
                    raise EstimationError(
                        f"{n_sep} observation(s) are separated (rows {rows}"
                        f"{' ...' if n_sep > 10 else ''}): some combination of regressors "
                        "and fixed effects predicts their zero outcome perfectly, so the "
                        "maximum likelihood estimate does not exist (Santos Silva & Tenreyro "
                        "2010; Correia, Guimarães & Zylkin 2021). Pass separation='drop' to "
                        "drop them, or remove the regressor that separates.")
                mask = np.zeros(len(y), dtype=bool)
                mask[kp[sep]] = True
                reasons.append((mask, "regressors", "separated (zero outcome predicted "
                                                    "perfectly; ReLU check)"))
                keep &= ~mask
                warnings.warn(
                    f"{n_sep} separated observation(s) dropped (rows {rows}"
                    f"{' ...' if n_sep > 10 else ''}): their zero outcome is predicted perfectly "
                    "by the regressors and fixed effects, so the MLE would not exist with them. "
                    "Coefficients of regressors that only served to separate are not identified "
                    "(dropped as collinear). See results.dropped; separation='error' raises.",
                    DataWarning, stacklevel=4)
            else:
                break
        n_all_zero = sum(int(m.sum()) for m, _, r in reasons if r.startswith("all-zero"))
        n_single2 = sum(int(m.sum()) for m, _, r in reasons if r == "fixed-effect singleton")
        if n_all_zero:
            warnings.warn(
                f"{n_all_zero} row(s) dropped because their fixed-effect level has an all-zero "
                "outcome (the level's effect would be -infinity; such rows carry no information "
                "on the slopes, and fixest drops them too). They are listed in results.dropped.",
                DataWarning, stacklevel=4)
        if n_single2:
            warnings.warn(
                f"{n_single2} further fixed-effect singleton row(s) dropped after removing "
                "all-zero levels or separated rows; listed in results.dropped.", DataWarning,
                stacklevel=4)
        if reasons:
            parts = []
            for m, col, reason in reasons:
                p = positions[np.flatnonzero(m)]
                parts.append(pd.DataFrame({"row": frame.index[p], "_pos": p, "column": col,
                                           "reason": reason}))
            drop_frames.extend(_log_frame(frame, source_rows, part) for part in parts)
        dropped = _concat_log(drop_frames) if (drop_frames or len(d.dropped)) else d.dropped

        kp = np.flatnonzero(keep)
        if len(kp) < len(y):
            y, x, offset = y[kp], x[kp], offset[kp]
            uw = None if uw is None else uw[kp]
            fe_codes = tuple(factorize(c[kp])[0] for c in fe_codes)
            extra_codes = {c: factorize(v[kp])[0] for c, v in d.extra_codes.items()}
            positions = positions[kp]
        else:
            extra_codes = dict(d.extra_codes)
        return self._estimate(y, x, names, fe_codes, d.fe_names, offset, uw, extra_codes,
                              positions, dropped, req, vcov_source, expo, expo_source, n_input,
                              notes, n_all_zero=n_all_zero, n_sep=n_sep,
                              n_singletons=d.n_singletons + n_single2)

    def _estimate(self, y: np.ndarray, x: np.ndarray, names: tuple[str, ...],
                  fe_codes: tuple[np.ndarray, ...], fe_names: tuple[str, ...],
                  offset: np.ndarray, uw: np.ndarray | None, extra_codes: dict[str, np.ndarray],
                  positions: np.ndarray, dropped: pd.DataFrame, req: VcovRequest,
                  vcov_source: str, expo: str | None, expo_source: str, n_input: int,
                  notes: list[str], *, n_all_zero: int, n_sep: int, n_singletons: int,
                  ) -> FEPoissonResults:
        f = self._formula
        n = len(y)
        fit = _irls(y, x, fe_codes, offset, uw, names, tol=self._tol, maxiter=self._maxiter,
                    collin_tol=self._collin_tol)
        if fit.why:
            warnings.warn(
                "Regressor(s) dropped: " + "; ".join(f"{k} ({v})" for k, v in fit.why.items())
                + ". Their coefficients are not identified; they are listed in "
                "results.collinear.", CollinearityWarning, stacklevel=4)
        if not fit.converged:
            warnings.warn(
                f"IRLS did not converge in {fit.iterations} iterations (maxiter="
                f"{self._maxiter}, tol={self._tol:g} on the relative change of the deviance). "
                "Estimates may be inaccurate: raise maxiter, check for separation or huge "
                "regressors.", ConvergenceWarning, stacklevel=4)
        keep = fit.keep
        x = x[:, keep]
        param_names = [names[j] for j in keep]
        sw = np.sqrt(fit.w)
        regs = fit.xd * sw[:, None]
        eta_hat = fit.eta  # the closures below keep this, not the whole IRLS state
        bread = _inv_psd(regs.T @ regs)
        beta = fit.beta
        dof_fe, levels = fe_dof(list(fe_codes))
        tol, maxiter = self._tol, self._maxiter

        def refit(mask: np.ndarray | None = None, mult: np.ndarray | None = None
                  ) -> np.ndarray | None:
            """Re-estimate on a subset (mask) and/or with multiplied weights; None on failure."""
            sel = np.ones(n, dtype=bool) if mask is None else mask.copy()
            wts = uw if mult is None else (mult if uw is None else uw * mult)
            if wts is not None:
                sel &= wts > 0
            codes = [c[sel] for c in fe_codes]
            ys = y[sel]
            k2 = np.ones(len(ys), dtype=bool)
            changed = bool(codes)
            while changed:
                changed = False
                for c in codes:
                    z = _all_zero_rows(ys, c, k2)
                    if z.any():
                        k2 &= ~z
                        changed = True
            if not k2.any():
                return None
            idx = np.flatnonzero(sel)[k2]
            codes2 = tuple(factorize(c[idx])[0] for c in fe_codes)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = _irls(y[idx], x[idx], codes2, offset[idx],
                              None if wts is None else wts[idx], tuple(param_names), tol=tol,
                              maxiter=maxiter, eta0=eta_hat[idx], check_collin=False)
            except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError):
                return None
            return r.beta if r.converged and np.all(np.isfinite(r.beta)) else None

        def jackknife(mask: np.ndarray) -> np.ndarray:
            b = refit(mask=mask)
            if b is None:
                raise EstimationError("CRV3: the model could not be re-estimated without one "
                                      "of the clusters; use CRV1.")
            return b

        def restricted(j: int, value: float) -> tuple[np.ndarray, np.ndarray]:
            """Scores and inverse Hessian at the estimate constrained to beta_j = value."""
            xr = np.delete(x, j, axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = _irls(y, xr, tuple(fe_codes), offset + value * x[:, j], uw,
                          tuple(np.delete(np.array(param_names, dtype=object), j)), tol=tol,
                          maxiter=maxiter, eta0=eta_hat, check_collin=False)
                wr = r.mu if uw is None else uw * r.mu
                xdr, _ = demean(x, fe_codes, wr)
            resp = y - r.mu if uw is None else uw * (y - r.mu)
            return xdr * resp[:, None], _inv_psd(xdr.T @ (xdr * wr[:, None]))

        vin = VcovInput(regressors=regs, resid=fit.resid * sw, bread=bread, params=beta,
                        fe_codes=tuple(fe_codes), fe_names=fe_names, fe_dof_exact=dof_fe,
                        jackknife=jackknife, nested_fast_jackknife=None)
        codes: dict[str, np.ndarray] = dict(extra_codes)
        for name, c in zip(fe_names, fe_codes, strict=True):
            codes.setdefault(name, c)
        vr = _vcov(req, vin, self._ssc, codes)

        # fit statistics
        wts = np.ones(n) if uw is None else uw
        lgy = gammaln(y + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = float(wts @ (np.where(y > 0, y * np.log(fit.mu), 0.0) - fit.mu - lgy))
            eo = np.exp(offset)
            a = np.log((wts @ y) / (wts @ eo))
            mu0 = np.exp(a + offset)
            ll0 = float(wts @ (np.where(y > 0, y * np.log(mu0), 0.0) - mu0 - lgy))
        sd = pd.Series(x.std(axis=0, ddof=1) if n > 1 else np.full(len(keep), np.nan),
                       index=param_names)
        fit_stats = {
            "deviance": fit.deviance,
            "null_deviance": _deviance(y, mu0, uw),
            "loglik": loglik,
            "loglik_null": ll0,
            "pseudo_r2": 1 - loglik / ll0 if ll0 != 0 else np.nan,
            "iterations": fit.iterations,
            "converged": fit.converged,
            "n_dropped": n_input - n,
            "n_all_zero": n_all_zero,
            "n_separated": n_sep,
            "n_singletons": n_singletons,
            "fixed_effects": " + ".join(fe_names),
            "exposure": expo or "",
        }
        spec = {
            "formula": str(f), "vcov": req.as_spec(), "vcov_source": vcov_source,
            "ssc": self._ssc, "exposure": expo, "exposure_source": expo_source,
            "offset": self._offset, "weights": self._weights, "tol": self._tol,
            "maxiter": self._maxiter, "separation": self._separation,
            "singletons": self._singletons, "collin_tol": self._collin_tol,
            "fixed_effects": list(fe_names), "depvar": f.depvar.name, "link": "log",
            "family": "poisson",
        }
        store = {
            "vcov_input": vin, "codes": codes, "positions": positions, "n_input": n_input,
            "fit_warnings": [], "vcov_notes": list(vr.notes), "notes": notes,
            "sd": sd.rename("sd"), "mean": pd.Series(x.mean(axis=0), index=param_names,
                                                     name="mean"),
            "refit": refit, "restricted": restricted,
        }
        return FEPoissonResults(
            params=pd.Series(beta, index=param_names),
            cov=pd.DataFrame(vr.cov, index=param_names, columns=param_names),
            nobs=n, df_inference=vr.df, cov_type=vr.label,
            estimator="FEPoisson" if fe_codes else "Poisson", spec=spec,
            n_clusters=_ncl(vr), fit_stats=fit_stats, dropped=dropped, warnings=(),
            fe_table=pd.DataFrame({"name": list(fe_names), "levels": list(levels)}),
            collinear=fit.why, store=store,
        )


def _log_frame(frame: pd.DataFrame, source_rows: np.ndarray | None, part: pd.DataFrame
               ) -> pd.DataFrame:
    pos = part.pop("_pos").to_numpy()
    part.insert(1, "source_row", source_rows[pos] if source_rows is not None
                else np.full(len(pos), pd.NA, dtype=object))
    return part


def _concat_log(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [fr for fr in frames if len(fr)]
    if len(frames) == 1 and list(frames[0].columns) == DROP_LOG_COLUMNS:
        return frames[0]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DROP_LOG_COLUMNS})
    out = pd.concat([fr.astype(object) for fr in frames], ignore_index=True)
    return out[DROP_LOG_COLUMNS]


def fepois(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    exposure: str | None | Literal[False] = None,
    offset: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    ssc: str = "fixest",
    weights: str | None = None,
    tol: float = 1e-8,
    maxiter: int = 100,
    separation: Literal["drop", "error"] = "drop",
    singletons: Literal["drop", "keep"] = "drop",
    collin_tol: float = COLLIN_TOL,
) -> FEPoissonResults:
    """Fit a Poisson model with fixed effects and an exposure: ``FEPoisson(...).fit(data)``.

    See :class:`FEPoisson` for the parameters and the module notes for the
    algorithm, the data checks and the covariances.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(40), 10),
    ...                    "year": np.tile(np.arange(10), 40),
    ...                    "pop": rng.integers(1_000, 5_000, 400)})
    >>> df["x"] = rng.normal(size=400)
    >>> df["y"] = rng.poisson(df["pop"] / 1000 * np.exp(0.3 * df["x"]))
    >>> res = cp.fepois("y ~ x | unit + year", df, exposure="pop")
    >>> round(float(res.params["x"]), 1), res.cov_type, res.glance()["converged"].item()
    (0.3, 'CRV1 by unit', True)
    """
    est = FEPoisson(formula, exposure=exposure, offset=offset, vcov=vcov, ssc=ssc,
                    weights=weights, tol=tol, maxiter=maxiter, separation=separation,
                    singletons=singletons, collin_tol=collin_tol)
    return est._fit_and_warn(data, stacklevel=5)
