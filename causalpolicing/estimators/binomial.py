r"""Binomial GLM (logit link) for deaths out of a population at risk, with optional fixed effects.

As in Nordt & Stohler (2010, *Drug Alcohol Rev* 29:540): drug deaths
:math:`d_{it}` out of :math:`n_{it}` people at risk (estimated heroin users, or
residents),

.. math::

    d_{it} \sim \mathrm{Binomial}(n_{it}, p_{it}), \qquad
    \operatorname{logit} p_{it} = x_{it}'\beta + a_i + g_t,

where :math:`x` may hold enforcement, substitution coverage and fixed-period
harmonic terms (``panel.harmonic(period=14)`` gives ``sin14_1``, ``cos14_1``).
Coefficients are log odds ratios; :func:`odds_ratios` exponentiates them per a
stated change. Fixed effects (optional) become dummy columns; a single time
series needs none (``"deaths ~ x + sin14_1 + cos14_1"`` fits an intercept).

The engine is statsmodels' ``GLM(family=Binomial())`` with the two-column
``(deaths, trials - deaths)`` outcome, fitted by IRLS; the numbers are
statsmodels'. Covariances (``vcov=``): ``"iid"`` (model-based, Fisher
information), ``"hetero"`` (= ``"HC1"``: the sandwich times N/(N-K), K counting
the dummies, as for :func:`causalpolicing.feols`), ``"HC0"`` (the sandwich, by name),
``{"CRV1": "unit"}`` (statsmodels ``cluster``, factor G/(G-1) (N-1)/(N-K) with
K counting the dummies; t with G-1 degrees of freedom), and for a single series
``"HAC"`` / ``{"HAC": lags}`` (Newey-West with Bartlett weights; default lags
:math:`\lfloor 4 (T/100)^{2/9} \rfloor`; the rows must be in time order, which a
Panel guarantees). Defaults: a Panel with several units, CRV1 by unit; a
single-unit Panel, ``"hetero"`` (HC1); a DataFrame as :func:`causalpolicing.feols`.
``dispersion="pearson"`` scales the model-based covariance by the Pearson
chi-squared over its degrees of freedom (quasi-binomial), for extra-binomial
variation.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import causalpolicing as cp
>>> rng = np.random.default_rng(7)
>>> t = np.arange(1975, 2008)
>>> df = pd.DataFrame({"year": t, "users": 20_000, "enforcement": rng.normal(3, 1, t.size)})
>>> df["sin14_1"], df["cos14_1"] = np.sin(2 * np.pi * (t - 1975) / 14), np.cos(2 * np.pi * (t - 1975) / 14)
>>> p = 1 / (1 + np.exp(-(-5 + 0.2 * df["enforcement"] + 0.3 * df["sin14_1"])))
>>> df["deaths"] = rng.binomial(df["users"], p)
>>> res = cp.febinomial("deaths ~ enforcement + sin14_1 + cos14_1", df, trials="users",
...                     vcov={"HAC": 2})
>>> res.estimator, res.cov_type, round(float(res.params["enforcement"]), 1)
('Binomial', 'HAC (Newey-West, 2 lags)', 0.2)
>>> cp.odds_ratios(res, per=1.0).loc[0, "term"]
'enforcement'
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._hints import check_level
from ..exceptions import ConvergenceWarning, SpecError
from ..formula import Formula, parse_formula
from ..inference.fit_state import GLMFitState
from ._common import FrozenSettings, _is_panel, check_choice, check_maxiter
from ._glm import (
    GLMFEResults,
    default_glm_vcov,
    finish_cov,
    fit_recording_warnings,
    parse_glm_vcov,
    prepare_glm,
    sm_cov_args,
)

__all__ = ["FEBinomial", "febinomial", "odds_ratios"]


class FEBinomial(FrozenSettings):
    """Binomial logit GLM with optional fixed effects as dummies (module docstring).

    Parameters
    ----------
    formula
        ``"deaths ~ enforcement + substitution | canton + year"`` or, for one
        series, ``"deaths ~ enforcement + sin14_1 + cos14_1"``.
    trials
        Column with the number at risk (users or residents); must be at least
        the outcome in every row.
    vcov
        See the module docstring.
    dispersion
        ``"fixed"`` (binomial variance) or ``"pearson"`` (quasi-binomial scale
        for the model-based covariance).
    maxiter
        Maximum IRLS iterations.
    singletons
        ``"keep"`` (default) or ``"drop"`` fixed-effect singletons (rows alone in a
        level of a fixed effect; their dummy fits them exactly, so they do not
        move the slopes but count in N and the clusters). ``"keep"`` as R fixest
        and Stata; ``glance()["n_singletons"]`` counts them.
    """

    _LAST_SETTING = "_maxiter"

    def __init__(self, formula: str | Formula, *, trials: str,
                 vcov: str | Mapping[str, Any] | None = None,
                 dispersion: Literal["fixed", "pearson"] = "fixed", maxiter: int = 100,
                 singletons: str = "keep") -> None:
        self._formula = parse_formula(formula)
        if not isinstance(trials, str):
            raise SpecError(f"trials must be the name of the column with the number at risk "
                            f"(e.g. trials='users'); got {trials!r}.")
        self._trials = trials
        self._vcov = None if vcov is None else parse_glm_vcov(vcov, "febinomial")
        self._dispersion = check_choice("dispersion", dispersion, ("fixed", "pearson"))
        self._singletons = check_choice("singletons", singletons, ("keep", "drop"))
        self._maxiter = check_maxiter(maxiter)

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return f"FEBinomial({str(self._formula)!r}, trials={self._trials!r}, vcov={v!r})"

    def fit(self, data: pd.DataFrame | Any) -> GLMFEResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        return fit_recording_warnings(self._fit, data)

    def _fit(self, data: Any) -> dict[str, Any]:
        import statsmodels.api as sm

        f = self._formula
        req, source = default_glm_vcov(self._vcov, f, data, single_series="HC1")
        if req.name == "HAC" and _is_panel(data) and data.n_units > 1:
            raise SpecError(
                f"vcov='HAC' (Newey-West) is for a single time series; this panel has "
                f"{data.n_units} units. Use {{'CRV1': {data.unit!r}}} for a panel, or select "
                "one unit first.")
        g = prepare_glm(f, data, req=req, family="binomial", extra={"trials": self._trials},
                        singletons=self._singletons)
        y = g.y
        n_at_risk = g.extra["trials"]
        if np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-8):
            raise SpecError(f"The outcome {f.depvar.name!r} must hold non-negative counts of "
                            "events (deaths); found negative or non-integer values.")
        bad = (n_at_risk <= 0) | (n_at_risk < y)
        if bad.any():
            raise SpecError(
                f"trials column {self._trials!r} must be positive and at least the outcome "
                f"{f.depvar.name!r}; {int(bad.sum())} row(s) are not (e.g. outcome "
                f"{y[bad][0]:g} out of {n_at_risk[bad][0]:g}).")
        x = g.design
        k = len(g.exog_names)
        endog = np.column_stack([y, n_at_risk - y])
        cov_type, cov_kwds, use_t = sm_cov_args(req, g, len(y))
        model = sm.GLM(endog, x, family=sm.families.Binomial())
        # (statsmodels' own warnings are swallowed here, as before; the results get only the
        # warnings issued at the user's call)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            res = model.fit(maxiter=self._maxiter, cov_type=cov_type, cov_kwds=cov_kwds,
                            use_t=use_t, scale="X2" if self._dispersion == "pearson" else None)
        converged = bool(getattr(res, "converged", True))
        if not converged:
            warnings.warn(f"The binomial GLM did not converge in {self._maxiter} IRLS iterations; "
                          "the estimates are unreliable (check for separation: units or "
                          "periods with no deaths).", ConvergenceWarning, stacklevel=3)
        # (the covariance's notes are also issued as warnings: the results get them from there)
        cov, df, ncl, label, _ = finish_cov(req, res, g, k, x.shape[1])
        names = list(g.exog_names)
        fit_stats = {
            "loglik": float(res.llf),
            "aic": float(res.aic),
            "deviance": float(res.deviance),
            "pearson_chi2": float(res.pearson_chi2),
            "df_resid": int(res.df_resid),
            "dispersion": float(res.pearson_chi2 / res.df_resid) if res.df_resid > 0 else np.nan,
            "converged": converged,
            "fixed_effects": " + ".join(g.fe_names),
            "n_dummies": len(g.dummy_names),
            "n_dropped": len(g.dropped),
            "n_singletons": g.n_singletons,
        }
        spec = {
            "formula": str(f),
            "trials": self._trials,
            "vcov": req.as_spec(),
            "vcov_source": source,
            "dispersion": self._dispersion,
            "family": "binomial",
            "link": "logit",
            "engine": "statsmodels GLM(Binomial), IRLS",
            "fixed_effects": list(g.fe_names),
            "depvar": f.depvar.name,
            "singletons": self._singletons,
        }
        # the results' fields but the warnings (fit_recording_warnings adds them)
        return dict(
            params=pd.Series(np.asarray(res.params)[:k], index=names),
            cov=pd.DataFrame(cov, index=names, columns=names),
            nobs=len(y), df_inference=df, cov_type=label,
            estimator="FEBinomial" if g.fe_names else "Binomial",
            spec=spec, n_clusters=ncl, fit_stats=fit_stats, dropped=g.dropped,
            fit_state=GLMFitState(family="binomial", link="logit", converged=converged,
                                  collinear=g.collinear, fe_names=g.fe_names,
                                  fe_levels=g.fe_levels, regressor_sd=g.regressor_sd),
        )


def febinomial(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    trials: str,
    vcov: str | Mapping[str, Any] | None = None,
    dispersion: Literal["fixed", "pearson"] = "fixed",
    maxiter: int = 100,
    singletons: str = "keep",
) -> GLMFEResults:
    """Fit a binomial logit GLM of events out of ``trials``: ``FEBinomial(...).fit(data)``.

    See :class:`FEBinomial` and the module docstring.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = cp.febinomial("deaths ~ offences_per_1000 | canton + year", panel,
    ...                         trials="population")
    >>> res.estimator, res.cov_type, res.link
    ('FEBinomial', 'CRV1 by canton', 'logit')
    """
    return FEBinomial(formula, trials=trials, vcov=vcov, dispersion=dispersion,
                      maxiter=maxiter, singletons=singletons).fit(data)


def odds_ratios(
    res: Any,
    per: float | Mapping[str, float] = 1.0,
    *,
    terms: list[str] | tuple[str, ...] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Odds ratios ``exp(per * beta)`` with confidence intervals, for a logit model.

    Parameters
    ----------
    res
        Results of :func:`febinomial` (any results whose ``link`` is ``"logit"``).
    per
        The change of the regressor the ratio refers to: one number for all
        terms, or ``{term: change}`` (e.g. ``{"enforcement": 1.0,
        "substitution": 0.1}``).
    terms
        Terms to report (default: all, or the keys of ``per`` when it is a dict).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per term: ``term, per, odds_ratio, conf_low, conf_high, p_value,
        percent_change`` (``100 (OR - 1)``). The interval is the exponentiated
        interval of ``per * beta`` (t with the results' degrees of freedom, or normal).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=400), "n": 50})
    >>> df["d"] = rng.binomial(50, 1 / (1 + np.exp(-(-2 + 0.5 * df["x"]))))
    >>> res = cp.febinomial("d ~ x", df, trials="n")
    >>> tab = cp.odds_ratios(res, per={"x": 2.0})
    >>> list(tab.columns)
    ['term', 'per', 'odds_ratio', 'conf_low', 'conf_high', 'p_value', 'percent_change']
    >>> bool(np.isclose(tab.loc[0, "odds_ratio"], np.exp(2 * res.params["x"])))
    True
    """
    link = getattr(res, "link", None)
    if link != "logit":
        raise SpecError(
            f"odds_ratios needs a logit model (e.g. cp.febinomial); got results of "
            f"{getattr(res, 'estimator', type(res).__name__)!r} with link {link!r}. For log-link "
            "count models use cp.rate_ratios.")
    params = res.params
    if isinstance(per, Mapping):
        per_map = {str(k): float(v) for k, v in per.items()}
        chosen = list(terms) if terms is not None else list(per_map)
    else:
        if isinstance(per, bool) or not isinstance(per, (int, float)) or not np.isfinite(per):
            raise SpecError(f"per must be a finite number or a dict {{term: change}}; got {per!r}.")
        chosen = list(terms) if terms is not None else [t for t in params.index
                                                        if t != "Intercept"]
        per_map = {t: float(per) for t in chosen}
    unknown = [t for t in chosen if t not in params.index or t not in per_map]
    if unknown:
        raise SpecError(f"Unknown term(s) {unknown} (or no 'per' given for them); the model's "
                        f"terms are {list(params.index)}.")
    level = check_level(level)
    df = res.df_inference
    dist = stats.norm if df is None else stats.t(df)
    q = float(dist.ppf(0.5 + level / 2))
    se = res.std_errors
    rows = []
    for t in chosen:
        c = per_map[t]
        est = c * float(params[t])
        s = abs(c) * float(se[t])
        stat = est / s if s > 0 else np.nan
        rows.append({
            "term": t, "per": c, "odds_ratio": float(np.exp(est)),
            "conf_low": float(np.exp(est - q * s)), "conf_high": float(np.exp(est + q * s)),
            "p_value": float(2 * dist.sf(abs(stat))), "percent_change": 100 * (np.exp(est) - 1),
        })
    return pd.DataFrame(rows, columns=["term", "per", "odds_ratio", "conf_low", "conf_high",
                                       "p_value", "percent_change"])
