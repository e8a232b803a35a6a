r"""The imputation estimator of Borusyak, Jaravel and Spiess (2024) for staggered adoption.

Each unit is treated from its **cohort** period :math:`G_i` on, or never. The
*untreated* observations (never-treated units; treated units before
:math:`G_i`) identify a model of the untreated outcome,

.. math::

    y_{it}(0) = a_i + g_t + x_{it}'\delta + \varepsilon_{it}

(step 1: fit it on the untreated observations only). Step 2 imputes
:math:`\hat y_{it}(0)` for every treated observation and takes
:math:`\hat\tau_{it} = y_{it} - \hat y_{it}(0)`; step 3 averages them: over the
observations at each horizon (event time :math:`e = t - G_i \ge 0`, terms
``event_lag0``, ``event_lag1``, ...) and over all treated observations in the
horizons (term ``ATT``), weighted by ``weights`` if given. Without anticipation
and with parallel trends these are the average effects on the treated, whatever
the heterogeneity of effects across cohorts and time (where two-way fixed
effects regressions can even get the sign wrong).

Standard errors are BJS's conservative ones (their Theorem 3): the estimator is
linear, :math:`\hat\tau_w = \sum v_{it} y_{it}`, with :math:`v = w` on treated
observations and :math:`v_0 = -Z_0 (Z_0'Z_0)^{-1} Z_1' w_1` on untreated ones
(:math:`Z`: the step-1 regressors); the variance is
:math:`\sum_c (\sum_{it \in c} v_{it} \tilde\varepsilon_{it})^2` over clusters
:math:`c`, with step-1 residuals on untreated observations and, on treated ones,
:math:`\hat\tau_{it}` minus the :math:`v^2`-weighted mean of :math:`\hat\tau` in
the observation's cohort x event time (R ``didimputation``'s default; no
leave-out correction, no small-sample factor, normal intervals).

The **pre-trend test** (BJS Test 1) regresses the untreated outcome on
indicators of the last ``pretrends`` periods before treatment and the step-1
fixed effects and covariates, on the untreated observations only (cluster-robust
CRV1), and tests the leads jointly (:attr:`ImputationResults.pretrend_test`); the
leads are the terms ``event_lead1`` ... of ``params`` and ``event_time``. Their
covariance with the effects is not estimated (set to zero): test leads and effects
separately.

With ``estimator="fepois"`` and an ``exposure`` (deaths with a population) step 1
is a Poisson regression with the log population as offset, and the effects are
rate ratios (observed over imputed deaths; the parameters are their logarithms)
and deaths added (:attr:`ImputationResults.deaths`); see
:mod:`causalpolicing.designs._imputation_poisson` for the delta-method standard
errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import check_level
from ..data.panel import Panel
from ..estimators.linear import feols
from ..estimators.poisson import fepois
from ..exceptions import SpecError
from ..formula import Factor, Formula, Term
from ..inference.wald import WaldTest, wald_test
from ..results import BaseResults
from ._imputation_core import (
    StaggeredData,
    cluster_cov,
    cohort_event_groups,
    design_matrix,
    linear_first_stage,
    prepare,
    smoothed_residuals,
    untreated_solve,
)
from ._imputation_poisson import poisson_effects
from ._timing import check_int, event_term
from .event_studies import EVENT_TIME_COLUMNS

__all__ = ["ImputationResults", "did_imputation"]

ESTIMATORS = ("feols", "fepois")


class ImputationResults(BaseResults):
    """Results of :func:`did_imputation`: the contract plus ``event_time``, ``pretrend_test``.

    ``params`` holds ``ATT`` (the average over all treated observations in the
    horizons), one ``event_lagH`` per horizon and, with ``pretrends``, the leads
    ``event_leadK`` of the pre-trend regression. For ``estimator="fepois"`` the
    effects are log rate ratios (``exp`` gives the rate ratio) and
    :attr:`deaths` gives the deaths added.
    """

    __slots__ = ("_imp",)

    def __init__(self, *, imp: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_imp", dict(imp))

    @property
    def horizons(self) -> tuple[int, ...]:
        """The event times averaged (``event_lagH`` terms)."""
        return tuple(self._imp["horizons"])

    @property
    def lead_terms(self) -> tuple[str, ...]:
        """The pre-trend lead terms (``event_leadK``), earliest first."""
        return tuple(self._imp["leads"])

    @property
    def pretrend_fit(self) -> BaseResults | None:
        """The pre-trend regression on the untreated observations (``None`` without one)."""
        return self._imp["pre_fit"]

    @property
    def pretrend_test(self) -> WaldTest | None:
        """BJS's pre-trend test: joint Wald test of the leads in the pre-trend regression."""
        pre = self._imp["pre_fit"]
        leads = [t for t in self.lead_terms if pre is not None and t in pre.params.index]
        return wald_test(pre, leads) if leads else None

    @property
    def observation_effects(self) -> pd.DataFrame:
        """One row per treated observation: its ``row`` label, ``event_time``, ``observed``
        outcome, ``imputed`` untreated outcome and ``effect`` (observed - imputed)."""
        return self._imp["obs"].copy()

    @property
    def deaths(self) -> pd.DataFrame | None:
        """Poisson only: per term the ``observed`` and ``imputed`` deaths, ``added``
        (observed - imputed; negative: averted), its ``std_error`` and interval,
        ``added_per_obs`` and the ``rate_ratio`` with its interval (at the fit's level)."""
        d = self._imp.get("deaths")
        return None if d is None else d.copy()

    @property
    def event_time(self) -> pd.DataFrame:
        """One row per lead and horizon (columns of :data:`EVENT_TIME_COLUMNS`); no
        reference period (every estimate is against the imputed untreated outcome)."""
        return self.event_time_at(float(self._imp["level"]))

    def event_time_at(self, level: float) -> pd.DataFrame:
        """:attr:`event_time` with intervals at another ``level``."""
        ci = self.conf_int(level)
        se = self.std_errors
        times = [-int(t.removeprefix("event_lead")) for t in self.lead_terms] + list(
            self.horizons)
        rows = []
        for e in sorted(times):
            term = event_term(e)
            rows.append({"event_time": e, "term": term, "estimate": float(self._params[term]),
                         "std_error": float(se[term]), "conf_low": float(ci.loc[term].iloc[0]),
                         "conf_high": float(ci.loc[term].iloc[1]), "reference": False,
                         "binned": False})
        return pd.DataFrame(rows, columns=list(EVENT_TIME_COLUMNS))


def did_imputation(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    horizons: Sequence[int] | None = None,
    pretrends: int = 0,
    covariates: Sequence[str] = (),
    fe: Sequence[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    estimator: Literal["feols", "fepois"] = "feols",
    exposure: str | None = None,
    level: float = 0.95,
) -> ImputationResults:
    """Estimate staggered-adoption effects by imputation (see the module notes).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods
        (then ``unit`` and ``time`` are required).
    outcome
        The outcome column (deaths with ``estimator="fepois"``); default: the Panel's primary outcome.
    cohort, never_treated
        Column with each unit's first treated period, and the value(s) of it that
        mark never-treated units (default: the Panel's timing roles).
    unit, time
        Unit and time columns (default: the Panel's roles).
    horizons
        Event times (>= 0) to estimate; default: every one observed. ``ATT``
        averages the treated observations at these horizons.
    pretrends
        Number of pre-treatment periods tested (leads ``-1 .. -pretrends``).
    covariates
        Time-varying covariates of the untreated-outcome model.
    fe
        Fixed effects: ``"unit"``, ``"time"`` or column names (default: both).
    weights
        Observation weights (WLS in step 1, weighted averages in step 3).
    cluster
        Cluster column of the standard errors (default: the unit).
    estimator
        ``"feols"`` (linear) or ``"fepois"`` (Poisson with ``exposure`` as offset).
    exposure
        For ``"fepois"``: the population at risk (default: the Panel's exposure).
    level
        Confidence level of :attr:`ImputationResults.event_time`.

    Returns
    -------
    ImputationResults

    Raises
    ------
    SpecError
        Missing columns, bad timing (see :func:`causalpolicing.event_study`),
        treated observations whose fixed-effect levels never occur untreated
        (they cannot be imputed: the message names them), unknown horizons, too
        many pre-trend periods.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(60), 8),
    ...                    "year": np.tile(np.arange(2000, 2008), 60)})
    >>> df["first"] = np.repeat(rng.choice([0, 2003, 2005], 60), 8)
    >>> on = (df["first"] > 0) & (df["year"] >= df["first"])
    >>> df["y"] = np.where(on, 1.0 + 0.5 * (df["year"] - df["first"]), 0.0
    ...                    ) + rng.normal(size=len(df))
    >>> res = cp.did_imputation(df, outcome="y", cohort="first", never_treated=0,
    ...                         unit="unit", time="year", horizons=[0, 1, 2], pretrends=2)
    >>> res.event_time["term"].tolist()
    ['event_lead2', 'event_lead1', 'event_lag0', 'event_lag1', 'event_lag2']
    >>> abs(float(res.params["event_lag2"]) - 2.0) < 3 * float(res.std_errors["event_lag2"])
    True
    >>> res.pretrend_test.df_num
    2
    """
    who = "did_imputation"
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}.")
    level = check_level(level)
    pretrends = check_int(pretrends, "pretrends")
    if exposure is None and estimator == "fepois" and isinstance(data, Panel):
        exposure = data.exposure
    if exposure is not None and estimator == "feols":
        raise SpecError(f"exposure={exposure!r} needs estimator='fepois' (the linear model has "
                        "no offset; model a rate as the outcome instead).")
    sd = prepare(data, who=who, outcome=outcome, cohort=cohort, never_treated=never_treated,
                 unit=unit, time=time, covariates=covariates, fe=fe, weights=weights,
                 cluster=cluster, exposure=exposure)
    hz = _horizons(sd, horizons, who)
    treat, event = sd.treat, sd.timing.event
    terms = ["ATT", *(event_term(h) for h in hz)]
    w1 = np.zeros((len(sd.frame), len(terms)))
    w1[:, 0] = np.where(treat & np.isin(event, hz), sd.w, 0.0)
    for k, h in enumerate(hz, start=1):
        w1[:, k] = np.where(treat & (event == h), sd.w, 0.0)
    notes = list(sd.notes)
    deaths = None
    if estimator == "feols":
        w1 = w1 / w1.sum(axis=0)
        adj, _ = linear_first_stage(sd)
        est = w1[treat].T @ adj[treat]
        z = design_matrix(sd)
        g = untreated_solve(z, ~treat, sd.w[~treat], z[treat].T @ w1[treat], who)
        v = w1.copy()
        v[~treat] = -sd.w[~treat, None] * (z[~treat] @ g)
        eps = smoothed_residuals(v, adj, treat, cohort_event_groups(sd))
        cov = cluster_cov(v, eps, sd.cluster_codes)
        observed, imputed = sd.y[treat], sd.y[treat] - adj[treat]
    else:
        pe = poisson_effects(sd, w1, who)
        est, cov = pe["log_rr"], pe["cov_log"]
        notes += list(pe["notes"])
        observed, imputed = sd.y[treat], pe["mu"][treat]
        deaths = _deaths_table(terms, pe, w1, treat, level)
    params = pd.Series(est, index=terms, dtype=float)
    covdf = pd.DataFrame(cov, index=terms, columns=terms)
    pre_fit, leads = None, []
    if pretrends:
        pre_fit, leads = _pretrend_fit(sd, pretrends, estimator, who)
        lp = pre_fit.params.reindex(leads)
        lc = pre_fit.cov.reindex(index=leads, columns=leads)
        params = pd.concat([lp, params])
        covdf = pd.concat([pd.concat([lc, pd.DataFrame(0.0, leads, terms)], axis=1),
                           pd.concat([pd.DataFrame(0.0, terms, leads), covdf], axis=1)])
        covdf = covdf.loc[params.index, params.index]
    obs = pd.DataFrame({"row": sd.frame.index[treat], "event_time": event[treat],
                        "observed": observed, "imputed": imputed,
                        "effect": observed - imputed})
    spec = {"design": "did_imputation", "outcome": sd.outcome, "cohort": sd.cohort,
            "never_treated": sd.never_treated, "unit": sd.unit, "time": sd.time,
            "horizons": list(hz), "pretrends": pretrends, "covariates": list(sd.covariates),
            "fe": list(sd.fe_cols), "weights": weights, "cluster": sd.cluster,
            "estimator": estimator, "exposure": sd.exposure, "level": level,
            "se": "BJS conservative (Theorem 3), cohort x event-time averages, no leave-out"}
    n_cl = int(sd.cluster_codes.max()) + 1
    return ImputationResults(
        params=params.astype(float), cov=covdf.astype(float), nobs=len(sd.frame),
        df_inference=None, cov_type=f"BJS conservative, clustered by {sd.cluster}",
        estimator=f"Imputation[{estimator}]", spec=spec, n_clusters=n_cl,
        fit_stats={"n_treated": int(treat.sum()), "n_untreated": int((~treat).sum())},
        dropped=sd.dropped, warnings=tuple(notes),
        imp={"horizons": hz, "leads": leads, "pre_fit": pre_fit, "level": level, "obs": obs,
             "deaths": deaths})


def _horizons(sd: StaggeredData, horizons: Sequence[int] | None, who: str) -> list[int]:
    seen = sorted(set(sd.timing.event[sd.treat].tolist()))
    if horizons is None:
        return seen
    if isinstance(horizons, int | np.integer):
        horizons = [int(horizons)]
    hz = sorted({check_int(h, "horizons") for h in horizons})
    missing = [h for h in hz if h not in seen]
    if missing or not hz:
        raise SpecError(f"{who}: horizons {missing or hz} have no treated observation; the "
                        f"data have event times {seen}.")
    return hz


def _pretrend_fit(sd: StaggeredData, k: int, estimator: str, who: str
                  ) -> tuple[BaseResults, list[str]]:
    """BJS Test 1: untreated outcome on lead indicators + the step-1 model, untreated rows."""
    untreated = ~sd.treat
    frame = sd.frame.loc[untreated].copy()
    ev = sd.timing.event[untreated]
    tr = sd.timing.treated[untreated]
    available = sorted({-e for e in ev[tr].tolist()})
    if k > len(available) or any(j not in available for j in range(1, k + 1)):
        raise SpecError(f"{who}: pretrends={k} but treated units are observed at most "
                        f"{max(available, default=0)} period(s) before treatment; give "
                        "pretrends <= that.")
    leads = [event_term(-j) for j in range(k, 0, -1)]
    clash = sorted(set(leads) & set(frame.columns))
    if clash:
        raise SpecError(f"the data already has column(s) {clash}; rename them ({who} builds "
                        "its own lead indicators).")
    for j in range(1, k + 1):
        frame[event_term(-j)] = (tr & (ev == -j)).astype(float)
    formula = Formula(depvar=Term((Factor(sd.outcome),)),
                      exog=tuple(Term((Factor(c),)) for c in [*leads, *sd.covariates]),
                      fixed_effects=tuple((c,) for c in sd.fe_cols))
    vcov = {"CRV1": sd.cluster}
    if estimator == "feols":
        fit = feols(formula, frame, vcov=vcov, weights=sd.weights_col)
    else:
        fit = fepois(formula, frame, vcov=vcov, weights=sd.weights_col,
                     exposure=sd.exposure if sd.exposure else False)
    return fit, [t for t in leads if t in fit.params.index]


def _deaths_table(terms: list[str], pe: Mapping[str, Any], w1: np.ndarray, treat: np.ndarray,
                  level: float) -> pd.DataFrame:
    from scipy import stats

    q = float(stats.norm.ppf(0.5 + level / 2))
    added = pe["observed"] - pe["imputed"]
    se_add = np.sqrt(np.diag(pe["cov_added"]))
    se_log = np.sqrt(np.diag(pe["cov_log"]))
    n = (w1[treat] > 0).sum(axis=0)
    return pd.DataFrame({
        "term": terms, "observed": pe["observed"], "imputed": pe["imputed"], "added": added,
        "std_error": se_add, "conf_low": added - q * se_add, "conf_high": added + q * se_add,
        "n_obs": n, "added_per_obs": added / n, "rate_ratio": np.exp(pe["log_rr"]),
        "rr_conf_low": np.exp(pe["log_rr"] - q * se_log),
        "rr_conf_high": np.exp(pe["log_rr"] + q * se_log)})
