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
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from ..exceptions import (
    AssumptionWarning,
    ConvergenceWarning,
    SpecError,
)
from ..formula import Formula, parse_formula
from ..inference.fit_state import GLMFitState
from ._common import FrozenSettings, _is_panel, check_choice, check_maxiter
from ._glm import (  # noqa: F401  (GLMVcov and prepare_glm re-exported for older import paths)
    GLMFEResults,
    GLMVcov,
    default_glm_vcov,
    finish_cov,
    fit_recording_warnings,
    parse_glm_vcov,
    prepare_glm,
    sm_cov_args,
)

__all__ = ["FENegBin", "GLMFEResults", "fenegbin"]

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


class FENegBin(FrozenSettings):
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
        ``"iid"`` (inverse Hessian), ``"hetero"`` (= ``"HC1"``: the sandwich times
        N/(N-K), K counting every dummy and alpha, as for :func:`causalpolicing.feols`),
        ``"HC0"`` (the sandwich, by name only), ``{"CRV1": "unit"}`` (statsmodels ``cluster``:
        factor G/(G-1) (N-1)/(N-K), K counting every dummy and alpha; p-values
        from t with G-1 degrees of freedom), ``"HAC"`` / ``{"HAC": lags}``.
        Default as :func:`causalpolicing.feols`: CRV1 by the Panel's cluster or
        unit; for a DataFrame with fixed effects, the first fixed effect; else iid.
    maxiter
        Maximum Newton iterations.
    singletons
        ``"keep"`` (default) or ``"drop"`` fixed-effect singletons (rows alone in a
        level of a fixed effect; their dummy fits them exactly, so they do not
        move the slopes but count in N and the clusters). ``"keep"`` as R fixest
        and Stata; ``glance()["n_singletons"]`` counts them.
    """

    _LAST_SETTING = "_maxiter"

    def __init__(self, formula: str | Formula, *, exposure: str | bool | None = None,
                 vcov: str | Mapping[str, Any] | None = None, maxiter: int = 100,
                 singletons: str = "keep") -> None:
        self._formula = parse_formula(formula)
        if exposure is not None and exposure is not False and not isinstance(exposure, str):
            raise SpecError(f"exposure must be a column name (or False); got {exposure!r}.")
        self._exposure = exposure
        self._vcov = None if vcov is None else parse_glm_vcov(vcov, "fenegbin")
        self._singletons = check_choice("singletons", singletons, ("keep", "drop"))
        self._maxiter = check_maxiter(maxiter)

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return f"FENegBin({str(self._formula)!r}, exposure={self._exposure!r}, vcov={v!r})"

    def fit(self, data: pd.DataFrame | Any) -> GLMFEResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        return fit_recording_warnings(self._fit, data)

    def _fit(self, data: Any) -> dict[str, Any]:

        f = self._formula
        exposure = self._exposure
        if exposure is None and _is_panel(data):
            exposure = data.exposure
        exposure = None if exposure is False else exposure
        req, source = default_glm_vcov(self._vcov, f, data)
        g = prepare_glm(f, data, req=req, family="count", extra={"exposure": exposure},
                        singletons=self._singletons)
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
        # (statsmodels' own warnings are swallowed here, as before; the results get only the
        # warnings issued at the user's call)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            res, converged, how = _fit_nb2(model, np.append(beta0, alpha0), self._maxiter,
                                           fit_kw)
            if how == "boundary":
                import statsmodels.api as sm

                res = sm.GLM(y, x, family=sm.families.Poisson(),
                             offset=offset if exposure is not None else None).fit(
                    cov_type=cov_type, cov_kwds=cov_kwds, use_t=use_t)
                converged = bool(res.converged)
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
        # (the covariance's notes are also issued as warnings: the results get them from there)
        cov, df, ncl, label, _ = finish_cov(req, res, g, k, n_params)
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
            "n_dropped": len(g.dropped),
            "n_singletons": g.n_singletons,
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
            "singletons": self._singletons,
        }
        # the results' fields but the warnings (fit_recording_warnings adds them)
        return dict(
            params=pd.Series(np.asarray(res.params)[:k], index=names),
            cov=pd.DataFrame(cov, index=names, columns=names),
            nobs=len(y), df_inference=df, cov_type=label,
            estimator="FENegBin" if g.fe_names else "NegBin",
            spec=spec, n_clusters=ncl, fit_stats=fit_stats, dropped=g.dropped,
            fit_state=GLMFitState(family="negative binomial (NB2)", link="log", alpha=alpha,
                                  alpha_se=alpha_se, converged=converged,
                                  collinear=g.collinear, fe_names=g.fe_names,
                                  fe_levels=g.fe_levels, regressor_sd=g.regressor_sd),
        )


def fenegbin(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    exposure: str | bool | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    maxiter: int = 100,
    singletons: str = "keep",
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
    return FENegBin(formula, exposure=exposure, vcov=vcov, maxiter=maxiter,
                    singletons=singletons).fit(data)
