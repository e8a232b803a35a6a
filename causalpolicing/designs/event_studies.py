r"""The event study: leads and lags of a treatment that starts at a known period.

Each unit :math:`i` is either treated from its **cohort** period :math:`G_i` on
(the first treated period) or never treated. With event time
:math:`e_{it} = t - G_i` (in periods of the panel's frequency), a window of
:math:`F` leads and :math:`L` lags and a reference period :math:`r`, the model is

.. math::

    g(E[y_{it}]) = \sum_{k=-F,\,k \ne r}^{L} \beta_k\, 1[e_{it} = k]
                   + w_{it}'\gamma + a_i + g_t,

with :math:`g` the identity (``estimator="feols"``, :func:`causalpolicing.feols`)
or the log with an exposure offset (``estimator="fepois"``,
:func:`causalpolicing.fepois`: deaths with a population at risk). Never-treated
units have every indicator zero. With ``bin_endpoints=True`` the endpoint
indicators are :math:`1[e_{it} \le -F]` and :math:`1[e_{it} \ge L]`; with
``False`` the treated observations outside the window are dropped and listed in
the drop log with :data:`OUTSIDE_REASON`. :math:`\beta_k` is the effect
:math:`k` periods after the start relative to period :math:`r` (default
:math:`-1`, the last untreated period); the leads :math:`\beta_{-F}, \dots`
should be zero without anticipation or diverging pre-trends:
:attr:`EventStudyResults.pretrend_test` is their joint Wald test
(:func:`causalpolicing.inference.wald.wald_test`).

This is the two-way fixed-effects event study (``fixest::feols(y ~ i(rel_time,
ref = -1) | unit + time)``, ``pyfixest.event_study(..., estimator="twfe")``). With
effects that differ between cohorts its coefficients mix cohorts with weights
that can be negative, and each lead or lag can be contaminated by the effects
at other event times (Sun and Abraham 2021). It recovers the dynamic effects when
they are the same for every cohort; when they differ, use a
heterogeneity-robust estimator (interaction-weighted, imputation or
Callaway-Sant'Anna, e.g. R ``fixest::sunab``, ``didimputation``, ``did``) and read this
one as a benchmark.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import check_level
from ..estimators.linear import feols
from ..estimators.poisson import fepois
from ..exceptions import DataWarning, SpecError
from ..formula import Factor, Formula, Term
from ..inference.wald import WaldTest, wald_test
from ..results import BaseResults
from ._timing import (
    check_int,
    column,
    event_term,
    frame_and_roles,
    outcome_role,
    staggered_timing,
    timing_roles,
)

__all__ = ["EVENT_TIME_COLUMNS", "OUTSIDE_REASON", "EventStudyResults", "event_study"]

#: Drop-log reason for treated observations outside the window (``bin_endpoints=False``).
OUTSIDE_REASON = "event time outside the window (bin_endpoints=False)"
#: The columns of :attr:`EventStudyResults.event_time`.
EVENT_TIME_COLUMNS = ("event_time", "term", "estimate", "std_error", "conf_low", "conf_high",
                      "reference", "binned")
ESTIMATORS = ("feols", "fepois")


class EventStudyResults(BaseResults):
    """Results of :func:`event_study`: the contract plus ``event_time`` and ``pretrend_test``.

    ``params``/``cov``/``tidy()`` hold the event-time coefficients (terms
    ``event_leadK`` for event time ``-K``, ``event_lagK`` for ``K``) and the
    covariates; ``model`` is the underlying fit
    (:class:`~causalpolicing.estimators.FEOLSResults` or
    :class:`~causalpolicing.estimators.FEPoissonResults`).
    """

    __slots__ = ("_model", "_es")

    def __init__(self, *, model: BaseResults, es: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_es", dict(es))

    @property
    def model(self) -> BaseResults:
        """The underlying estimator's results."""
        return self._model

    @property
    def reference(self) -> int:
        """The omitted event time (its coefficient is 0 by construction)."""
        return int(self._es["ref"])

    @property
    def window(self) -> tuple[int, int]:
        """``(-leads, lags)``: the first and last event time estimated."""
        return (-int(self._es["leads"]), int(self._es["lags"]))

    @property
    def lead_terms(self) -> tuple[str, ...]:
        """The estimated lead terms (event times < 0 but the reference), earliest first."""
        return tuple(t for t, e in self._es["terms"].items() if e < 0 and t in self._params)

    @property
    def lag_terms(self) -> tuple[str, ...]:
        """The estimated terms of event times >= 0, in order."""
        return tuple(t for t, e in self._es["terms"].items() if e >= 0 and t in self._params)

    @property
    def event_time(self) -> pd.DataFrame:
        """One row per event time of the window, at the fit's ``level``.

        Columns ``event_time, term, estimate, std_error, conf_low, conf_high,
        reference, binned``. The reference period has estimate 0, no standard
        error and ``reference=True``; ``binned`` marks the endpoints that collect
        the event times beyond the window (``bin_endpoints=True``). A term dropped
        as collinear has missing values.
        """
        return self.event_time_at(float(self._es["level"]))

    def event_time_at(self, level: float) -> pd.DataFrame:
        """:attr:`event_time` with intervals at another ``level``."""
        ci = self.conf_int(level)
        se = self.std_errors
        lo, hi = self.window
        binned = bool(self._es["bin_endpoints"])
        rows = []
        for e in range(lo, hi + 1):
            term = event_term(e)
            ref = e == self.reference
            est = 0.0 if ref else float(self._params.get(term, np.nan))
            known = term in se.index and not ref
            rows.append({
                "event_time": e, "term": term, "estimate": est,
                "std_error": float(se[term]) if known else np.nan,
                "conf_low": float(ci.loc[term].iloc[0]) if known else np.nan,
                "conf_high": float(ci.loc[term].iloc[1]) if known else np.nan,
                "reference": ref, "binned": binned and e in (lo, hi) and not ref})
        return pd.DataFrame(rows, columns=list(EVENT_TIME_COLUMNS))

    @property
    def pretrend_test(self) -> WaldTest | None:
        """Joint Wald test that every lead is zero (``None`` without an estimated lead)."""
        leads = self.lead_terms
        return wald_test(self, leads) if leads else None


def event_study(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    leads: int = 4,
    lags: int = 4,
    ref: int = -1,
    bin_endpoints: bool = True,
    covariates: Sequence[str] = (),
    fe: Sequence[str] | None = None,
    estimator: Literal["feols", "fepois"] = "feols",
    exposure: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    level: float = 0.95,
) -> EventStudyResults:
    """Fit a two-way fixed-effects event study (see the module notes for the model).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods
        (then ``unit`` and ``time`` are required).
    outcome
        The outcome column (counts such as deaths with ``estimator="fepois"``); default: the Panel's primary outcome.
    cohort
        Column with each unit's first treated period, in the units of the time
        column (a year for a yearly panel); constant within unit. Default: the
        Panel's timing role (``load_panel(..., cohort=..., never_treated=...)``).
    never_treated
        The value(s) of ``cohort`` that mark never-treated units, e.g. ``0``,
        ``float("nan")`` or ``[0, float("inf")]``. Given or declared by the
        Panel: never guessed.
    unit, time
        Unit and time columns (default: the Panel's roles).
    leads, lags
        The window: event times ``-leads`` to ``lags``.
    ref
        The reference (omitted) event time; inside the window.
    bin_endpoints
        ``True``: event times beyond the window go into the endpoint indicators.
        ``False``: treated observations outside the window are dropped (listed in
        the drop log with :data:`OUTSIDE_REASON`, and a :class:`DataWarning`).
    covariates
        Further regressors (column names).
    fe
        Fixed effects: ``"unit"``, ``"time"`` or column names (default: unit and time).
    estimator
        ``"feols"`` (linear) or ``"fepois"`` (Poisson; with ``exposure`` as the log offset).
    exposure
        For ``"fepois"``: the population at risk (default: the Panel's exposure role).
    vcov
        Covariance (default: CRV1 clustered by unit).
    level
        Confidence level of :attr:`EventStudyResults.event_time`.

    Returns
    -------
    EventStudyResults
        The contract (``params``, ``tidy()``, ...) plus ``event_time``,
        ``pretrend_test`` and ``model``.

    Raises
    ------
    SpecError
        A missing column, a cohort that varies within a unit or is missing without
        being marked never treated, non-integer event times, ``ref`` outside the
        window, no never-treated and no not-yet-treated comparison.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(60), 12), "year": np.tile(
    ...     np.arange(2000, 2012), 60)})
    >>> df["first"] = np.repeat(rng.choice([0, 2004, 2006], 60), 12)
    >>> df["y"] = np.where((df["first"] > 0) & (df["year"] >= df["first"]), 1.0, 0.0
    ...                    ) + rng.normal(size=len(df))
    >>> res = cp.event_study(df, outcome="y", cohort="first", never_treated=0,
    ...                      unit="unit", time="year", leads=3, lags=3)
    >>> res.event_time[["event_time", "term", "reference"]].head(3)
       event_time         term  reference
    0          -3  event_lead3      False
    1          -2  event_lead2      False
    2          -1  event_lead1       True
    >>> res.pretrend_test.df_num, round(float(res.params["event_lag1"]), 2)
    (2, 1.0)
    """
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}.")
    leads, lags = check_int(leads, "leads"), check_int(lags, "lags")
    ref = check_int(ref, "ref", minimum=None)
    level = check_level(level)
    if not -leads <= ref <= lags:
        raise SpecError(f"ref={ref} is outside the window [-{leads}, {lags}] (leads={leads}, "
                        f"lags={lags}); choose a reference inside it (usually -1) or widen "
                        "the window.")
    if leads + lags == 0:
        raise SpecError("the window holds only the reference period; give leads or lags >= 1.")
    frame, unit, time, panel = frame_and_roles(data, unit, time, who="event_study")
    if panel is not None and exposure is None and estimator == "fepois":
        exposure = panel.exposure
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who="event_study")
    outcome = column(frame, outcome_role(panel, outcome, who="event_study"), "outcome")
    cohort = column(frame, cohort, "cohort")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covariates:
        column(frame, c, "covariates")
    if exposure is not None and estimator == "feols":
        raise SpecError(f"exposure={exposure!r} needs estimator='fepois' (the linear event "
                        "study has no offset; model a rate as the outcome instead).")
    fe_cols = [{"unit": unit, "time": time}.get(f, f) for f in
               ((fe,) if isinstance(fe, str) else (fe or ("unit", "time")))]
    for f in fe_cols:
        column(frame, f, "fe")

    timing = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                              never_treated=never_treated)
    treated, event = timing.treated, timing.event.copy()
    if bin_endpoints:
        event = np.clip(event, -leads, lags)
        outside = np.zeros(len(frame), dtype=bool)
    else:
        outside = treated & ((event < -leads) | (event > lags))

    times = [e for e in range(-leads, lags + 1) if e != ref]
    terms = {event_term(e): e for e in times}
    clash = sorted(set(terms) & set(frame.columns))
    if clash:
        raise SpecError(f"the data already has column(s) {clash}; rename them (event_study "
                        "builds its own event-time indicators).")
    for name, e in terms.items():
        frame[name] = (treated & (event == e)).astype(float)
    first = next(iter(terms))
    frame.loc[outside, first] = np.nan  # dropped by the estimator, relabelled below

    formula = Formula(
        depvar=Term((Factor(outcome),)),
        exog=tuple(Term((Factor(c),)) for c in [*terms, *covariates]),
        fixed_effects=tuple((c,) for c in fe_cols),
    )
    vcov = {"CRV1": unit} if vcov is None else vcov
    if estimator == "feols":
        inner = feols(formula, frame, vcov=vcov)
    else:
        inner = fepois(formula, frame, vcov=vcov,
                       exposure=exposure if exposure is not None else False)

    dropped = inner.dropped
    notes = list(inner.warnings)
    n_out = int(outside.sum())
    if n_out:
        dropped = _relabel(dropped, frame.index[outside], first)
        msg = (f"event_study dropped {n_out} observation(s) of treated units with event time "
               f"outside [-{leads}, {lags}] (bin_endpoints=False); they are in the drop log. "
               "Pass bin_endpoints=True to keep them in the endpoints.")
        warnings.warn(msg, DataWarning, stacklevel=2)
        notes.append(msg)
    spec = inner.spec
    spec.update({"design": "event_study", "outcome": outcome, "cohort": cohort,
                 "never_treated": never_treated, "unit": unit, "time": time, "leads": leads,
                 "lags": lags, "ref": ref, "bin_endpoints": bool(bin_endpoints),
                 "estimator": estimator, "fe": fe_cols, "covariates": list(covariates),
                 "exposure": exposure})
    glance = inner.glance().iloc[0].to_dict()
    fit_stats = {k: v for k, v in glance.items()
                 if k not in ("estimator", "nobs", "n_clusters", "cov_type")}
    return EventStudyResults(
        params=inner.params, cov=inner.cov, nobs=inner.nobs, df_inference=inner.df_inference,
        cov_type=inner.cov_type, estimator=f"EventStudy[{inner.estimator}]", spec=spec,
        n_clusters=inner.n_clusters, fit_stats=fit_stats, dropped=dropped,
        warnings=tuple(notes), model=inner,
        es={"terms": terms, "ref": ref, "leads": leads, "lags": lags, "level": level,
            "bin_endpoints": bool(bin_endpoints)},
    )


def _relabel(dropped: pd.DataFrame, rows: pd.Index, column: str) -> pd.DataFrame:
    """Give the rows dropped for being outside the window their own reason."""
    if not len(dropped) or "reason" not in dropped.columns:
        return dropped
    out = dropped.copy()
    hit = out["row"].isin(rows).to_numpy()
    if "column" in out.columns:
        hit = hit & (out["column"] == column).to_numpy()
    out.loc[hit, "reason"] = OUTSIDE_REASON
    return out
