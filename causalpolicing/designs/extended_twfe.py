r"""Wooldridge's extended two-way fixed-effects estimator (ETWFE), linear and Poisson.

Each unit belongs to a **cohort** :math:`g` (its first treated period) or is never
treated. The model saturates treatment timing: one coefficient per treated cohort
:math:`g` and period :math:`t`,

.. math::

    g(E[y_{it}]) = \sum_{(g,t) \in \mathcal{C}} D_{it}^{gt}\,
                   \bigl(\tau_{gt} + \dot x_i'\delta_{gt}\bigr)
                   + x_i'\gamma + \sum_g 1[G_i = g]\, x_i'\gamma_g
                   + \sum_t 1[T = t]\, x_i'\gamma_t + \alpha_{G_i} + \lambda_t,

with :math:`D^{gt}_{it} = 1[G_i = g, t' = t]`, covariates :math:`\dot x_i` demeaned
within cohort, cohort effects :math:`\alpha_g` (or unit effects, ``fe="unit"``) and
period effects :math:`\lambda_t` (Wooldridge 2021, *Two-way fixed effects, the two-way
Mundlak regression, and difference-in-differences estimators*; 2023, *Econometrics
Journal* 26(3), for the Poisson version). :math:`g` is the identity
(``estimator="feols"``) or the log with the exposure as offset (``"fepois"``: deaths
with a population at risk). The cells :math:`\mathcal C` are the treated
cohort-periods :math:`t \ge g` when every untreated observation serves as control
(``control="not_yet_treated"``), or every period but :math:`g - 1` when only
never-treated units do (``"never_treated"``: the pre-period cells are placebo
effects relative to :math:`g - 1`).

The effects are **average marginal effects** on the response scale, as R
``etwfe::emfx()`` (``marginaleffects::slopes(..., variables = ".Dtreat")``) computes
them: for every treated observation the prediction with its cell indicators on minus
the prediction with them off, averaged over the observations of a cell, a cohort
(``"group"``), a period (``"calendar"``), an event time (``"event"``) or all treated
observations (``"simple"``). For Poisson the difference of predictions is in counts
(deaths added per treated observation; negative: averted). Standard errors follow
by the delta method from the fit's covariance (default CRV1 by unit; normal
reference distribution, as ``marginaleffects``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import check_level, did_you_mean
from ..estimators.linear import feols
from ..estimators.poisson import fepois
from ..exceptions import SpecError
from ..formula import Factor, Formula, Term
from ..results import BaseResults
from ._etwfe_design import CellStats, build_design, cell_statistics
from ._timing import (
    column,
    event_term,
    frame_and_roles,
    outcome_role,
    staggered_timing,
    timing_roles,
)
from .event_studies import EVENT_TIME_COLUMNS

__all__ = ["AGGREGATIONS", "ETWFEResults", "etwfe"]

#: The aggregations of the cell effects (R ``emfx(type=...)``).
AGGREGATIONS = ("simple", "event", "group", "calendar")
CONTROLS = ("not_yet_treated", "never_treated")
FE_OPTIONS = ("cohort", "unit", "none")
ESTIMATORS = ("feols", "fepois")


class ETWFEResults(BaseResults):
    """Results of :func:`etwfe`: the aggregated marginal effects as the results contract.

    ``params``/``cov`` hold the effects of the chosen aggregation: ``"ATT"``
    (``simple``); ``event_lagK``/``event_leadK`` then ``"ATT"`` (``event``);
    ``cohort_G`` then ``"ATT"`` (``group``); ``period_T`` then ``"ATT"``
    (``calendar``). ``model`` is the saturated fit; :meth:`aggregate` gives another
    aggregation without refitting.
    """

    __slots__ = ("_model", "_stats", "_meta")

    def __init__(self, *, model: BaseResults, stats: CellStats, meta: Mapping[str, Any],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_stats", stats)
        object.__setattr__(self, "_meta", dict(meta))

    @property
    def model(self) -> BaseResults:
        """The saturated cohort x period fit (:func:`~causalpolicing.feols` or ``fepois``)."""
        return self._model

    @property
    def aggregation(self) -> str:
        """The aggregation held in ``params``: one of :data:`AGGREGATIONS`."""
        return str(self._meta["aggregate"])

    def aggregate(self, kind: Literal["simple", "event", "group", "calendar"]
                  ) -> ETWFEResults:
        """The same fit with the effects aggregated another way (no refitting)."""
        kind = _check_kind(kind)
        params, cov = _aggregate(self._stats, self._model.cov, kind, self._meta["labels"])
        meta = {**self._meta, "aggregate": kind}
        spec = {**self.spec, "aggregate": kind}
        return ETWFEResults(params=params, cov=cov, nobs=self.nobs, df_inference=None,
                            cov_type=self.cov_type, estimator=self.estimator, spec=spec,
                            n_clusters=self.n_clusters, fit_stats=dict(self._fit_stats),
                            dropped=self.dropped, warnings=self.warnings, model=self._model,
                            stats=self._stats, meta=meta)

    @property
    def att_gt(self) -> pd.DataFrame:
        """One row per cohort x period cell: ``cohort, period, event_time, post, n,
        estimate, std_error, conf_low, conf_high`` (at the fit's level)."""
        st, level = self._stats, float(self._meta["level"])
        n = st.cells["n"].to_numpy(dtype=float)
        est = st.effect / n
        grad = st.grad / n[:, None]
        se = np.sqrt(np.einsum("ij,jk,ik->i", grad, self._model.cov.to_numpy(), grad))
        q = self._ppf(0.5 + level / 2)
        lab = self._meta["labels"]
        return pd.DataFrame({
            "cohort": [lab(g) for g in st.cells["cohort"]],
            "period": [lab(t) for t in st.cells["period"]],
            "event_time": st.cells["event"].astype(int).to_numpy(),
            "post": st.cells["post"].astype(bool).to_numpy(), "n": st.cells["n"].to_numpy(),
            "estimate": est, "std_error": se, "conf_low": est - q * se,
            "conf_high": est + q * se})

    @property
    def event_time(self) -> pd.DataFrame | None:
        """The event-time contract (``aggregate="event"`` only, else ``None``).

        Columns of :data:`~causalpolicing.designs.event_studies.EVENT_TIME_COLUMNS`;
        with never-treated controls event time -1 is the reference (0, no error).
        """
        if self.aggregation != "event":
            return None
        ci = self.conf_int(float(self._meta["level"]))
        se = self.std_errors
        events = sorted(set(self._stats.cells["event"].astype(int).tolist()))
        ref = -1 if self._meta["control"] == "never_treated" else None
        if ref is not None:
            events = sorted({*events, ref})
        rows = []
        for e in events:
            term = event_term(e)
            known = term in self._params.index
            rows.append({"event_time": e, "term": term,
                         "estimate": float(self._params[term]) if known else 0.0,
                         "std_error": float(se[term]) if known else np.nan,
                         "conf_low": float(ci.loc[term, "conf_low"]) if known else np.nan,
                         "conf_high": float(ci.loc[term, "conf_high"]) if known else np.nan,
                         "reference": e == ref, "binned": False})
        return pd.DataFrame(rows, columns=list(EVENT_TIME_COLUMNS))

    @property
    def rate_ratio(self) -> pd.DataFrame:
        """Poisson: the rate ratio of each term of ``params``.

        ``estimate`` is the ratio of the model's expected counts among the term's
        treated observations with and without the treatment,
        :math:`\\sum_i \\hat\\mu_i^{1} / \\sum_i \\hat\\mu_i^{0}` (observed-scale
        deaths over counterfactual deaths; 0.9 means 10% fewer). ``std_error`` is
        the delta-method error of the ratio; the interval is
        :math:`\\exp(\\log \\hat r \\pm z\\, \\mathrm{se}(\\log \\hat r))`.
        """
        st = self._need_poisson("rate_ratio")
        V = self._model.cov.to_numpy()
        rows = []
        q = self._ppf(0.5 + float(self._meta["level"]) / 2)
        for term, mask in _groups(st, self.aggregation, self._meta["labels"]).items():
            m1, m0 = st.mu1[mask].sum(), st.mu0[mask].sum()
            g = st.grad1[mask].sum(axis=0) / m1 - st.grad0[mask].sum(axis=0) / m0
            se_log = float(np.sqrt(g @ V @ g))
            rr = m1 / m0
            rows.append({"term": term, "estimate": rr, "std_error": rr * se_log,
                         "log_std_error": se_log, "conf_low": rr * np.exp(-q * se_log),
                         "conf_high": rr * np.exp(q * se_log), "expected_treated": m1,
                         "expected_untreated": m0})
        return pd.DataFrame(rows)

    @property
    def counts_added(self) -> pd.DataFrame:
        """Poisson: the total count added by the treatment for each term of ``params``.

        The sum over the term's treated observations of predicted minus
        counterfactual counts (deaths added; negative: deaths averted), i.e. the
        term's average effect times its number of treated observations ``n``.
        """
        st = self._need_poisson("counts_added")
        V = self._model.cov.to_numpy()
        q = self._ppf(0.5 + float(self._meta["level"]) / 2)
        rows = []
        for term, mask in _groups(st, self.aggregation, self._meta["labels"]).items():
            est = float(st.effect[mask].sum())
            g = st.grad[mask].sum(axis=0)
            se = float(np.sqrt(g @ V @ g))
            rows.append({"term": term, "n": int(st.cells["n"].to_numpy()[mask].sum()),
                         "estimate": est, "std_error": se, "conf_low": est - q * se,
                         "conf_high": est + q * se})
        return pd.DataFrame(rows)

    def _need_poisson(self, what: str) -> CellStats:
        if self._stats.mu1 is None:
            raise SpecError(f"{what} needs a Poisson fit (etwfe(..., estimator='fepois')); "
                            "the linear model's effects are differences in the outcome.")
        return self._stats


def etwfe(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    control: Literal["not_yet_treated", "never_treated"] = "not_yet_treated",
    covariates: Sequence[str] = (),
    estimator: Literal["feols", "fepois"] = "feols",
    exposure: str | None = None,
    fe: Literal["cohort", "unit", "none"] | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    aggregate: Literal["simple", "event", "group", "calendar"] = "simple",
    level: float = 0.95,
) -> ETWFEResults:
    """Fit Wooldridge's extended TWFE model and its average marginal effects.

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods
        (then ``unit`` and ``time`` are required).
    outcome
        The outcome column (counts such as deaths with ``estimator="fepois"``); default: the Panel's primary outcome.
    cohort, never_treated
        Each unit's first treated period, and the value(s) marking never-treated
        units (default: the Panel's timing roles; never guessed).
    unit, time
        Unit and time columns (default: the Panel's roles).
    control
        ``"not_yet_treated"`` (every untreated observation is a control; R
        ``cgroup = "notyet"``, the default there too) or ``"never_treated"``
        (``cgroup = "never"``; adds placebo cells for the pre-periods).
    covariates
        Controls, demeaned within cohort and interacted with every cell; they also
        get cohort- and period-specific slopes (R ``etwfe(y ~ x, ...)``).
    estimator
        ``"feols"`` (linear) or ``"fepois"`` (Poisson, with ``exposure`` as the log offset).
    exposure
        For ``"fepois"``: the population at risk (default: the Panel's exposure role).
    fe
        ``"cohort"`` (cohort and period fixed effects; R's default for the linear
        model), ``"unit"`` (unit and period effects; R ``ivar = unit``) or
        ``"none"`` (cohort and period dummies as regressors; R ``fe = "none"``,
        the default and the only choice for Poisson, so that the delta method
        covers every coefficient of the predictions).
    vcov
        Covariance of the fit (default: CRV1 clustered by unit).
    aggregate
        The effects put in ``params``: ``"simple"``, ``"event"``, ``"group"`` or
        ``"calendar"`` (R ``emfx(type=...)``); :meth:`ETWFEResults.aggregate` gives the others.
    level
        Confidence level of ``att_gt``, ``event_time`` and the Poisson tables.

    Returns
    -------
    ETWFEResults

    Raises
    ------
    SpecError
        A missing column, an unknown option, a cohort treated from the first
        period, no never-treated units, ``exposure`` with the linear model, a
        fixed-effects option the estimator cannot give standard errors for.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(90), 8),
    ...                    "year": np.tile(np.arange(2000, 2008), 90)})
    >>> df["first"] = np.repeat(rng.choice([0, 2003, 2005], 90), 8)
    >>> df["y"] = 0.5 * ((df["first"] > 0) & (df["year"] >= df["first"])) + rng.normal(
    ...     scale=0.1, size=len(df))
    >>> res = cp.etwfe(df, outcome="y", cohort="first", never_treated=0, unit="unit",
    ...                time="year")
    >>> round(float(res.params["ATT"]), 1), list(res.aggregate("group").params.index)
    (0.5, ['cohort_2003', 'cohort_2005', 'ATT'])
    """
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}"
                        f"{did_you_mean(str(estimator), ESTIMATORS)}.")
    if control not in CONTROLS:
        raise SpecError(f"control must be one of {CONTROLS}; got {control!r}"
                        f"{did_you_mean(str(control), CONTROLS)}.")
    aggregate = _check_kind(aggregate)
    level = check_level(level)
    poisson = estimator == "fepois"
    fe = ("none" if poisson else "cohort") if fe is None else fe
    if fe not in FE_OPTIONS:
        hint = (" (R's fe='vs' and 'feo' give the same effects as fe='cohort' in the linear "
                "model)" if fe in ("vs", "feo") else did_you_mean(str(fe), FE_OPTIONS))
        raise SpecError(f"fe must be one of {FE_OPTIONS}; got {fe!r}{hint}.")
    if poisson and fe != "none":
        raise SpecError(f"fe={fe!r} with estimator='fepois': the predictions would need the "
                        "fixed effects, whose uncertainty the delta method cannot see (R etwfe "
                        "reports no standard errors then). Use fe='none' (the default: cohort "
                        "and period dummies as regressors).")
    frame, unit, time, panel = frame_and_roles(data, unit, time, who="etwfe")
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who="etwfe")
    if panel is not None and exposure is None and poisson:
        exposure = panel.exposure
    if exposure is not None and not poisson:
        raise SpecError(f"exposure={exposure!r} needs estimator='fepois' (the linear model "
                        "has no offset; model a rate as the outcome instead).")
    outcome = column(frame, outcome_role(panel, outcome, who="etwfe"), "outcome")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covariates:
        column(frame, c, "covariates")
    timing = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                              never_treated=never_treated)
    if not timing.never.any():
        raise SpecError(f"no unit is never treated (never_treated={never_treated!r} matches "
                        f"no value of {cohort!r}); etwfe compares against never-treated "
                        "units. Mark them with never_treated=..., or drop the periods from "
                        "the last cohort's start and code that cohort as never treated.")
    first = int(timing.period.min())
    early = sorted(set(timing.cohort[timing.treated & (timing.cohort <= first)].tolist()))
    if early:
        raise SpecError(f"cohort(s) {early} of {cohort!r} are treated from the first period "
                        f"({first}): they have no untreated period to compare. Drop these "
                        "units or start the panel earlier.")
    absorbed = fe == "unit" and all(
        frame.groupby(unit, sort=False)[c].nunique(dropna=False).max() <= 1 for c in covariates)
    design = build_design(frame, period=timing.period, cohort=timing.cohort,
                          never=timing.never, control=control, covariates=covariates,
                          cov_absorbed=absorbed, dummies=fe == "none")
    fes = {"cohort": ((cohort,), (time,)), "unit": ((unit,), (time,)), "none": ()}[fe]
    formula = Formula(depvar=Term((Factor(outcome),)),
                      exog=tuple(Term((Factor(c),)) for c in design.exog),
                      fixed_effects=fes)
    vcov = {"CRV1": unit} if vcov is None else vcov
    if poisson:
        inner = fepois(formula, frame, vcov=vcov,
                       exposure=exposure if exposure is not None else False)
    else:
        inner = feols(formula, frame, vcov=vcov)
    missing = [c for c in design.treat_cols if c not in inner.params.index]
    if missing:
        raise SpecError(f"the cells {missing[:5]} were dropped from the fit (collinear or "
                        "without estimation rows); their effects are not identified. Check "
                        "the cohorts and the covariates.")
    used = np.ones(len(frame), dtype=bool)
    if len(inner.dropped):
        used &= ~frame.index.isin(inner.dropped["row"])
    offset = None
    if poisson and exposure is not None:
        offset = np.log(frame[exposure].to_numpy(dtype=float))
    stats = cell_statistics(frame, design, used, params=inner.params, poisson=poisson,
                            offset=offset)
    labels = _labeller(frame[time], timing.period)
    params, cov = _aggregate(stats, inner.cov, aggregate, labels)
    spec = dict(inner.spec)
    spec.update({"design": "etwfe", "outcome": outcome, "cohort": cohort,
                 "never_treated": never_treated, "unit": unit, "time": time,
                 "control": control, "covariates": list(covariates), "estimator": estimator,
                 "exposure": exposure, "fe": fe, "aggregate": aggregate, "level": level})
    glance = inner.glance().iloc[0].to_dict()
    fit_stats = {k: v for k, v in glance.items()
                 if k not in ("estimator", "nobs", "n_clusters", "cov_type")}
    return ETWFEResults(
        params=params, cov=cov, nobs=inner.nobs, df_inference=None, cov_type=inner.cov_type,
        estimator=f"ETWFE[{inner.estimator}]", spec=spec, n_clusters=inner.n_clusters,
        fit_stats=fit_stats, dropped=inner.dropped, warnings=tuple(inner.warnings),
        model=inner, stats=stats,
        meta={"aggregate": aggregate, "level": level, "control": control, "labels": labels})


def _check_kind(kind: Any) -> str:
    if kind not in AGGREGATIONS:
        raise SpecError(f"aggregate must be one of {AGGREGATIONS}; got {kind!r}"
                        f"{did_you_mean(str(kind), AGGREGATIONS)}.")
    return str(kind)


def _labeller(values: pd.Series, period: np.ndarray) -> Any:
    """Integer period -> the time column's own label (a year stays 2004)."""
    table = dict(zip(period.tolist(), values.tolist(), strict=True))

    def label(p: Any) -> Any:
        v = table.get(int(p), int(p))
        return int(v) if isinstance(v, int | np.integer | float) and float(v) == int(v) else v

    return label


def _groups(st: CellStats, kind: str, label: Any) -> dict[str, np.ndarray]:
    """Term -> mask of the cells it averages over (in ``params`` order)."""
    cells = st.cells
    post = cells["post"].to_numpy(dtype=bool)
    out: dict[str, np.ndarray] = {}
    if kind == "event":
        ev = cells["event"].to_numpy()
        for e in sorted(set(ev.tolist())):
            out[event_term(int(e))] = ev == e
    elif kind in ("group", "calendar"):
        key = cells["cohort" if kind == "group" else "period"].to_numpy()
        prefix = "cohort" if kind == "group" else "period"
        for k in sorted(set(key[post].tolist())):
            out[f"{prefix}_{label(k)}"] = post & (key == k)
    out["ATT"] = post
    return out


def _aggregate(st: CellStats, model_cov: pd.DataFrame, kind: str, label: Any
               ) -> tuple[pd.Series, pd.DataFrame]:
    """The weighted averages of the cell effects and their delta-method covariance."""
    groups = _groups(st, kind, label)
    n = st.cells["n"].to_numpy(dtype=float)
    W = np.array([m * n / n[m].sum() for m in groups.values()])  # weights of cell means
    means = st.effect / n
    est = W @ means
    G = W @ (st.grad / n[:, None])
    cov = G @ model_cov.to_numpy() @ G.T
    names = list(groups)
    return (pd.Series(est, index=names, dtype=float),
            pd.DataFrame(cov, index=names, columns=names))
