r"""Sun and Abraham's interaction-weighted (IW) event study.

With staggered adoption and effects that differ between cohorts, the two-way
fixed-effects event study mixes cohorts and event times (Sun and Abraham 2021).
The IW estimator first fits the **saturated** model with one indicator per
treated cohort :math:`g` and event time :math:`e = t - g` (except the reference
event time(s) :math:`r`),

.. math::

    g(E[y_{it}]) = \sum_{g \notin C} \sum_{e \ne r} \delta_{g,e}\,
                   1[G_i = g,\ t - G_i = e] + w_{it}'\gamma + a_i + g_t,

where :math:`C` is the control cohort(s) (never treated, or the last-treated
cohort), and :math:`g(\cdot)` is the identity (``estimator="feols"``) or the
log with an exposure offset (``estimator="fepois"``: deaths with a population
at risk, effects as log rate ratios). The cohort-specific effects
:math:`\hat\delta_{g,e}` are then averaged within each event time with the
cohorts' sample shares, :math:`\hat\beta_e = \sum_g \hat w_{g,e}
\hat\delta_{g,e}` with :math:`\hat w_{g,e} = n_{g,e} / \sum_{g'} n_{g',e}`
(:math:`n_{g,e}`: observations of the cell in the estimation sample), and the
overall ``ATT`` averages every post-treatment cell (:math:`e \ge 0`) with
weights :math:`n_{g,e} / \sum_{e' \ge 0, g'} n_{g',e'}`.

Conventions, as R ``fixest::sunab`` (0.12) and ``aggregate.fixest``:

* the reference is ``ref=-1`` alone; every other event time observed in a
  treated cohort (the most distant lead included) gets its cells. fixest's
  ``ref.p`` takes several references; so does ``ref`` here (a sequence).
* Cohorts whose observed periods all precede treatment (first treated after the
  panel ends) are controls like the never treated; cohorts never observed
  untreated (treated at or before the first period) are dropped (the drop log
  says why), as fixest does.
* Standard errors of the aggregates are the delta method with the weights held
  fixed: :math:`\operatorname{Var}(\hat\beta_e) = w_e' V w_e`. Stata's
  ``eventstudyinteract`` (Sun's implementation) adds a term for the weights'
  estimation (the cohort shares are regression estimates there), so its standard
  errors are a little larger; point estimates agree.
* ``control="last_treated"`` uses the last-treated cohort as the control group
  (with the never treated, if any) and drops the periods from that cohort's
  start on, where no clean control is left (Sun and Abraham 2021, sec. 4.2).

A ``leads``/``lags`` window drops the treated observations outside it (drop
log) rather than binning them: a bin would mix event times, which is what the
method avoids.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import check_level, did_you_mean
from ..estimators.linear import feols
from ..estimators.poisson import fepois
from ..exceptions import DataWarning, SpecError
from ..formula import Factor, Formula, Term
from ..inference.wald import WaldTest, wald_test
from ..results import BaseResults
from ._event_table import event_time_table
from ._timing import (
    check_int,
    column,
    event_term,
    frame_and_roles,
    outcome_role,
    staggered_timing,
    timing_roles,
)

__all__ = ["ALWAYS_REASON", "LAST_TREATED_REASON", "OUTSIDE_REASON", "SunAbrahamResults",
           "sun_abraham"]

#: Drop-log reason for units of cohorts never observed untreated.
ALWAYS_REASON = "always treated: the unit's cohort is never observed untreated"
#: Drop-log reason for treated observations outside the leads/lags window.
OUTSIDE_REASON = "event time outside the window (leads/lags)"
#: Drop-log reason for the periods dropped with ``control="last_treated"``.
LAST_TREATED_REASON = "period at or after the start of the last-treated (control) cohort"
ESTIMATORS = ("feols", "fepois")
CONTROLS = ("never_treated", "last_treated")


class SunAbrahamResults(BaseResults):
    """Results of :func:`sun_abraham`.

    ``params``/``cov`` hold the aggregated event-time effects (``event_leadK``,
    ``event_lagK``), the overall ``ATT`` and the covariates, with the delta-method
    covariance; :attr:`cohort_effects` keeps the cohort-specific coefficients and
    their weights; :attr:`model` is the saturated fit.
    """

    __slots__ = ("_model", "_sa")

    def __init__(self, *, model: BaseResults, sa: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_sa", dict(sa))

    @property
    def model(self) -> BaseResults:
        """The saturated cohort x event-time fit (cp.feols or cp.fepois results)."""
        return self._model

    @property
    def reference(self) -> tuple[int, ...]:
        """The omitted event time(s)."""
        return tuple(self._sa["refs"])

    @property
    def window(self) -> tuple[int, int]:
        """The first and last event time of the saturated model."""
        return tuple(self._sa["window"])  # type: ignore[return-value]

    @property
    def lead_terms(self) -> tuple[str, ...]:
        """Estimated lead terms (event times < 0), earliest first."""
        lo, hi = self.window
        return tuple(event_term(e) for e in range(lo, 0) if event_term(e) in self._params)

    @property
    def lag_terms(self) -> tuple[str, ...]:
        """Estimated terms of event times >= 0, in order."""
        lo, hi = self.window
        return tuple(event_term(e) for e in range(0, hi + 1) if event_term(e) in self._params)

    @property
    def event_time(self) -> pd.DataFrame:
        """The event-time contract at the fit's ``level`` (see :data:`EVENT_TIME_COLUMNS`)."""
        return self.event_time_at(float(self._sa["level"]))

    def event_time_at(self, level: float) -> pd.DataFrame:
        """:attr:`event_time` with intervals at another ``level``."""
        lo, hi = self.window
        return event_time_table(self, events=range(lo, hi + 1), refs=set(self.reference),
                                level=check_level(level))

    @property
    def cohort_effects(self) -> pd.DataFrame:
        """The cohort x event-time coefficients of the saturated model and their weights.

        Columns ``cohort`` (the cohort column's value), ``event_time``, ``term``
        (the saturated model's term), ``estimate``, ``std_error``, ``conf_low``,
        ``conf_high`` (at the fit's level), ``n_obs`` (observations of the cell in
        the estimation sample), ``weight`` (its share within the event time) and
        ``att_weight`` (its share in the ``ATT``; 0 for leads). Cells dropped as
        collinear have missing estimates and zero weights.
        """
        cells = self._sa["cells"].copy()
        ci = self._model.conf_int(float(self._sa["level"]))
        se = self._model.std_errors
        params = self._model.params
        est = [t in params.index for t in cells["term"]]
        cells["estimate"] = [float(params[t]) if k else np.nan for t, k in zip(
            cells["term"], est, strict=True)]
        cells["std_error"] = [float(se[t]) if k else np.nan for t, k in zip(
            cells["term"], est, strict=True)]
        cells["conf_low"] = [float(ci.loc[t].iloc[0]) if k else np.nan for t, k in zip(
            cells["term"], est, strict=True)]
        cells["conf_high"] = [float(ci.loc[t].iloc[1]) if k else np.nan for t, k in zip(
            cells["term"], est, strict=True)]
        return cells[["cohort", "event_time", "term", "estimate", "std_error", "conf_low",
                      "conf_high", "n_obs", "weight", "att_weight"]]

    @property
    def pretrend_test(self) -> WaldTest | None:
        """Joint Wald test that every aggregated lead is zero (``None`` without a lead)."""
        leads = self.lead_terms
        return wald_test(self, leads) if leads else None

    def deaths_added(self, level: float | None = None) -> pd.DataFrame:
        """Poisson fits: the events (deaths) added by the treatment, per event time and in total.

        For each post-treatment cell with observed count :math:`Y_{g,e}` and log
        rate ratio :math:`\\hat\\delta_{g,e}`, the counterfactual count is
        :math:`Y_{g,e} e^{-\\hat\\delta_{g,e}}` (the Poisson score makes the fitted
        and observed totals of a cell equal), so the treatment added
        :math:`Y_{g,e}(1 - e^{-\\hat\\delta_{g,e}})` events (negative: averted).
        Standard errors by the delta method. Columns ``event_time`` (``None`` for
        the total row), ``term``, ``observed``, ``added``, ``std_error``,
        ``conf_low``, ``conf_high``.
        """
        if self._sa["estimator"] != "fepois":
            raise SpecError("deaths_added() needs estimator='fepois' (a count outcome with "
                            "rate ratios); this fit is linear: its effects are already in the "
                            "outcome's units.")
        level = check_level(float(self._sa["level"]) if level is None else level)
        cells = self._sa["cells"]
        params = self._model.params
        cov = self._model.cov
        post = cells[(cells["event_time"] >= 0) & cells["term"].isin(params.index)]
        q = self._ppf(0.5 + level / 2)
        rows = []
        groups = [(int(e), event_term(int(e)), g) for e, g in post.groupby("event_time")]
        groups.append((None, "ATT", post))
        for e, term, g in groups:
            terms = list(g["term"])
            b = params[terms].to_numpy()
            y = g["observed"].to_numpy(dtype=float)
            added = float(np.sum(y * (1 - np.exp(-b))))
            grad = y * np.exp(-b)
            se = float(np.sqrt(grad @ cov.loc[terms, terms].to_numpy() @ grad))
            rows.append({"event_time": e, "term": term, "observed": float(y.sum()),
                         "added": added, "std_error": se, "conf_low": added - q * se,
                         "conf_high": added + q * se})
        return pd.DataFrame(rows, columns=["event_time", "term", "observed", "added",
                                           "std_error", "conf_low", "conf_high"])


def sun_abraham(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    leads: int | None = None,
    lags: int | None = None,
    ref: int | Sequence[int] = -1,
    control: Literal["never_treated", "last_treated"] = "never_treated",
    covariates: Sequence[str] = (),
    fe: Sequence[str] | None = None,
    estimator: Literal["feols", "fepois"] = "feols",
    exposure: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    level: float = 0.95,
) -> SunAbrahamResults:
    """Fit Sun and Abraham's interaction-weighted event study (see the module notes).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods
        (then ``unit`` and ``time`` are required).
    outcome
        The outcome column (counts such as deaths with ``estimator="fepois"``); default: the Panel's primary outcome.
    cohort, never_treated
        Column with each unit's first treated period, and the value(s) of it that
        mark never-treated units (default: the Panel's timing roles; never guessed).
    unit, time
        Unit and time columns (default: the Panel's roles).
    leads, lags
        The window (event times ``-leads`` to ``lags``; default: every event time
        observed). Treated observations outside it are dropped (drop log,
        :data:`OUTSIDE_REASON`).
    ref
        The reference (omitted) event time, or several (fixest's ``ref.p``).
    control
        ``"never_treated"`` (with the cohorts first treated after the panel ends)
        or ``"last_treated"`` (the last-treated cohort, plus any never treated,
        observed before its start).
    covariates
        Further regressors (column names); reported in ``params`` as well.
    fe
        Fixed effects: ``"unit"``, ``"time"`` or column names (default: both).
    estimator
        ``"feols"`` (linear) or ``"fepois"`` (Poisson with ``exposure`` as the log
        offset; the aggregates are log rate ratios).
    exposure
        For ``"fepois"``: the population at risk (default: the Panel's exposure).
    vcov
        Covariance of the saturated fit (default: CRV1 clustered by unit).
    level
        Confidence level of :attr:`SunAbrahamResults.event_time`.

    Returns
    -------
    SunAbrahamResults
        The contract plus ``event_time``, ``cohort_effects``, ``pretrend_test``,
        ``model`` and, for Poisson fits, ``deaths_added()``.

    Raises
    ------
    SpecError
        A missing column, a cohort that varies within a unit, an unknown
        ``control``, no control units, a reference outside the window.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(60), 10),
    ...                    "year": np.tile(np.arange(2000, 2010), 60)})
    >>> df["first"] = np.repeat(rng.choice([0, 2004, 2006], 60), 10)
    >>> ev = df["year"] - df["first"]
    >>> df["y"] = np.where((df["first"] > 0) & (ev >= 0), 1.0 + ev, 0.0) + rng.normal(
    ...     scale=0.1, size=len(df))
    >>> res = cp.sun_abraham(df, outcome="y", cohort="first", never_treated=0,
    ...                      unit="unit", time="year")
    >>> res.window, round(float(res.params["event_lag2"]), 1)
    ((-6, 5), 3.0)
    >>> res.cohort_effects[["cohort", "event_time", "n_obs"]].head(2)
       cohort  event_time  n_obs
    0    2006          -6     21
    1    2006          -5     21
    """
    who = "sun_abraham"
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}"
                        f"{did_you_mean(str(estimator), ESTIMATORS)}.")
    if control not in CONTROLS:
        raise SpecError(f"control must be one of {CONTROLS}; got {control!r}"
                        f"{did_you_mean(str(control), CONTROLS)}.")
    refs = _refs(ref)
    leads = None if leads is None else check_int(leads, "leads")
    lags = None if lags is None else check_int(lags, "lags")
    level = check_level(level)
    frame, unit, time, panel = frame_and_roles(data, unit, time, who=who)
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who=who)
    if panel is not None and exposure is None and estimator == "fepois":
        exposure = panel.exposure
    outcome = column(frame, outcome_role(panel, outcome, who=who), "outcome")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covariates:
        column(frame, c, "covariates")
    if exposure is not None and estimator == "feols":
        raise SpecError(f"exposure={exposure!r} needs estimator='fepois' (the linear model "
                        "has no offset; model a rate as the outcome instead).")
    fe_cols = [{"unit": unit, "time": time}.get(f, f) for f in
               ((fe,) if isinstance(fe, str) else (fe or ("unit", "time")))]
    for f in fe_cols:
        column(frame, f, "fe")

    tm = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                          never_treated=never_treated)
    coh, ev, period = tm.cohort, tm.event, tm.period
    span = pd.DataFrame({"c": coh[tm.treated], "e": ev[tm.treated]}).groupby("c")["e"].agg(
        ["min", "max"])
    late = span.index[span["max"] < 0].to_numpy()
    always = span.index[span["min"] >= 0].to_numpy()
    is_control = tm.never | np.isin(coh, late)
    drop_always = np.isin(coh, always)
    study = tm.treated & ~is_control & ~drop_always
    drop_last = np.zeros(len(frame), dtype=bool)
    notes: list[str] = []
    if control == "last_treated":
        studied = np.unique(coh[study])
        if len(studied) < 2:
            raise SpecError("control='last_treated' needs at least two treated cohorts "
                            "observed before and after their start (one is the control); "
                            f"found {len(studied)}.")
        g_last = studied[-1]
        is_control |= coh == g_last
        study &= coh != g_last
        drop_last = period >= g_last
        notes.append(f"control='last_treated': cohort {_label(frame, cohort, coh, g_last)} is "
                     f"the control group; {int(drop_last.sum())} observation(s) from its start "
                     "on are dropped (drop log).")
    elif not is_control.any():
        raise SpecError(f"no never-treated units (cohort column {cohort!r}, never_treated="
                        f"{never_treated!r}) and no cohort first treated after the panel ends: "
                        "nothing to compare with. Pass control='last_treated' to use the "
                        "last-treated cohort as the control group.")
    if not study.any():
        raise SpecError("no treated cohort is observed both before and after its start; "
                        "there is no effect to estimate.")
    seen = ev[study & ~drop_last]
    lo = -leads if leads is not None else int(seen.min())
    hi = lags if lags is not None else int(seen.max())
    bad = [r for r in refs if not lo <= r <= hi]
    if bad:
        raise SpecError(f"ref={bad} outside the window [{lo}, {hi}]; choose references inside "
                        "it (usually -1) or widen leads/lags.")
    outside = study & ~drop_last & ((ev < lo) | (ev > hi))
    keep = ~(drop_always | drop_last | outside)

    in_cell = study & keep & ~np.isin(ev, list(refs))
    pairs = pd.DataFrame({"g": coh[in_cell], "e": ev[in_cell]}).drop_duplicates().sort_values(
        ["e", "g"]).reset_index(drop=True)
    if pairs.empty:
        raise SpecError("the window holds only reference periods; widen leads/lags.")
    names = [f"{event_term(int(e))}_cohort{int(g)}" for g, e in zip(pairs["g"], pairs["e"],
                                                                    strict=True)]
    clash = sorted(set(names) & set(frame.columns))
    if clash:
        raise SpecError(f"the data already has column(s) {clash[:5]}; rename them "
                        "(sun_abraham builds its own cohort x event-time indicators).")
    code = pd.MultiIndex.from_frame(pairs).get_indexer(
        pd.MultiIndex.from_arrays([coh, ev]))
    code[~in_cell] = -1
    dummies = np.zeros((len(frame), len(names)))
    hit = np.flatnonzero(code >= 0)
    dummies[hit, code[hit]] = 1.0
    frame = pd.concat([frame, pd.DataFrame(dummies, index=frame.index, columns=names)],
                      axis=1)
    frame.loc[~keep, names[0]] = np.nan  # dropped by the estimator, relabelled below

    formula = Formula(depvar=Term((Factor(outcome),)),
                      exog=tuple(Term((Factor(c),)) for c in [*names, *covariates]),
                      fixed_effects=tuple((c,) for c in fe_cols))
    vcov = {"CRV1": unit} if vcov is None else vcov
    if estimator == "feols":
        inner = feols(formula, frame, vcov=vcov)
    else:
        inner = fepois(formula, frame, vcov=vcov,
                       exposure=exposure if exposure is not None else False)

    dropped = inner.dropped
    for mask, reason, what in ((drop_always, ALWAYS_REASON, "of always-treated units"),
                               (outside, OUTSIDE_REASON, f"outside the window [{lo}, {hi}]"),
                               (drop_last & ~drop_always, LAST_TREATED_REASON, None)):
        if mask.any():
            dropped = _relabel(dropped, frame.index[mask], names[0], reason)
            if what is not None:
                msg = (f"sun_abraham dropped {int(mask.sum())} observation(s) {what}; they are "
                       "in the drop log.")
                warnings.warn(msg, DataWarning, stacklevel=2)
                notes.append(msg)
    if len(late):
        notes.append(f"{len(late)} cohort(s) first treated after the last period are controls "
                     "(never observed treated).")

    used = keep & ~frame.index.isin(dropped["row"] if "row" in dropped.columns else [])
    cells = pairs.rename(columns={"g": "period_cohort", "e": "event_time"})
    cells["cohort"] = [_label(frame, cohort, coh, g) for g in cells["period_cohort"]]
    cells["term"] = names
    cells["n_obs"] = dummies[used].sum(axis=0).astype(np.int64)
    cells["observed"] = [float(frame.loc[used & (code == k), outcome].sum())
                         for k in range(len(names))]
    estimated = cells["term"].isin(inner.params.index).to_numpy()
    n_eff = np.where(estimated, cells["n_obs"].to_numpy(dtype=float), 0.0)
    tot = pd.Series(n_eff).groupby(cells["event_time"]).transform("sum").to_numpy()
    cells["weight"] = np.divide(n_eff, tot, out=np.zeros_like(n_eff), where=tot > 0)
    post = (cells["event_time"] >= 0).to_numpy()
    att_tot = n_eff[post].sum()
    cells["att_weight"] = np.where(post, n_eff / att_tot if att_tot > 0 else 0.0, 0.0)
    skipped = cells.loc[~estimated, "term"].tolist()
    if skipped:
        notes.append(f"{len(skipped)} cohort x event-time cell(s) not estimated (collinear), "
                     f"left out of the aggregates: {skipped[:5]}.")

    params, cov = _aggregate(inner, cells, estimated, covariates, lo, hi, refs)
    spec = inner.spec
    spec.update({"design": "sun_abraham", "outcome": outcome, "cohort": cohort,
                 "never_treated": never_treated, "unit": unit, "time": time, "leads": leads,
                 "lags": lags, "ref": list(refs), "control": control, "estimator": estimator,
                 "fe": fe_cols, "covariates": list(covariates), "exposure": exposure,
                 "window": [lo, hi]})
    glance = inner.glance().iloc[0].to_dict()
    fit_stats = {k: v for k, v in glance.items()
                 if k not in ("estimator", "nobs", "n_clusters", "cov_type")}
    return SunAbrahamResults(
        params=params, cov=cov, nobs=inner.nobs, df_inference=inner.df_inference,
        cov_type=inner.cov_type, estimator=f"SunAbraham[{inner.estimator}]", spec=spec,
        n_clusters=inner.n_clusters, fit_stats=fit_stats, dropped=dropped,
        warnings=(*inner.warnings, *notes), model=inner,
        sa={"refs": refs, "window": (lo, hi), "level": level, "estimator": estimator,
            "cells": cells.drop(columns="period_cohort")},
    )


def _aggregate(inner: BaseResults, cells: pd.DataFrame, estimated: np.ndarray,
               covariates: Sequence[str], lo: int, hi: int, refs: tuple[int, ...]
               ) -> tuple[pd.Series, pd.DataFrame]:
    """The event-time effects, the ATT and the covariates as ``L @ beta``, ``L V L'``."""
    beta = inner.params
    cols = list(beta.index)
    pos = {t: i for i, t in enumerate(cols)}
    rows: dict[str, np.ndarray] = {}
    est = cells[estimated]
    for e in range(lo, hi + 1):
        g = est[est["event_time"] == e]
        if e in refs or g.empty:
            continue
        r = np.zeros(len(cols))
        r[[pos[t] for t in g["term"]]] = g["weight"].to_numpy()
        rows[event_term(e)] = r
    g = est[est["event_time"] >= 0]
    if not g.empty:
        r = np.zeros(len(cols))
        r[[pos[t] for t in g["term"]]] = g["att_weight"].to_numpy()
        rows["ATT"] = r
    for c in covariates:
        if c in pos:
            r = np.zeros(len(cols))
            r[pos[c]] = 1.0
            rows[c] = r
    L = np.vstack(list(rows.values()))
    names = list(rows)
    params = pd.Series(L @ beta.to_numpy(), index=names, dtype=float)
    V = inner.cov.to_numpy()
    cov = pd.DataFrame(L @ V @ L.T, index=names, columns=names)
    return params, cov


def _refs(ref: int | Sequence[int]) -> tuple[int, ...]:
    values = [ref] if isinstance(ref, int | np.integer) and not isinstance(ref, bool) else ref
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise SpecError(f"ref must be an integer event time (e.g. -1) or a list of them; "
                        f"got {ref!r}.")
    return tuple(sorted({check_int(r, "ref", minimum=None) for r in values}))


def _label(frame: pd.DataFrame, cohort: str, coh: np.ndarray, g: Any) -> Any:
    """The cohort column's value for the integer cohort period ``g``."""
    value = frame[cohort].to_numpy()[np.flatnonzero(coh == g)[0]]
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


def _relabel(dropped: pd.DataFrame, rows: pd.Index, column: str, reason: str) -> pd.DataFrame:
    """Give the rows dropped by the design their own reason in the drop log."""
    if not len(dropped) or "reason" not in dropped.columns:
        return dropped
    out = dropped.copy()
    hit = out["row"].isin(rows).to_numpy()
    if "column" in out.columns:
        hit = hit & (out["column"] == column).to_numpy()
    out.loc[hit, "reason"] = reason
    return out
