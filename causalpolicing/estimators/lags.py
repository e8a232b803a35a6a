r"""Distributed lags and leads of a treatment, with the cumulative effect and a leads test.

The model (unit :math:`i`, period :math:`t`, :math:`L` lags, :math:`F` leads)

.. math::

    g(E[y_{it}]) = \sum_{k=-F}^{L} \beta_k\, x_{i,t-k} + w_{it}'\gamma + a_i + g_t,

with :math:`g` the identity (``estimator="feols"``) or the log with an exposure
offset (``estimator="fepois"``). :math:`\beta_0` is the same-period effect,
:math:`\beta_k` (:math:`k > 0`) the effect :math:`k` periods later, and the
**cumulative effect** :math:`\sum_{k=0}^{L} \beta_k` is the effect of a
permanent unit rise of :math:`x` after :math:`L` periods; its standard error is
:math:`\sqrt{w' V w}` (:func:`causalpolicing.estimators.lincom`). The lead
coefficients :math:`\beta_{-1}, \dots, \beta_{-F}` should be zero if the
treatment is strictly exogenous: a treatment that responds to past outcomes
(police responding to deaths) or anticipation makes future treatment
"predict" today's outcome; :attr:`DistributedLagResults.leads_test` is the
joint Wald test of :math:`\beta_{-1} = \dots = \beta_{-F} = 0`.

Lags and leads are built with the Panel transforms (:meth:`Panel.lag`,
:meth:`Panel.lead`), which count periods, not rows: across a gap in a unit's
series they are missing. Rows lost this way are listed in the results' drop
log with the reason ``"lag/lead not available (start of series or gap)"``.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     res = cp.distributed_lag(panel, treatment="offences_per_1000", lags=2, leads=2,
...                              estimator="fepois")
>>> res.event_time()["rel_time"].tolist()
[-2, -1, 0, 1, 2]
>>> res.nobs, int((res.dropped["reason"] == LAG_REASON).sum() > 0)
(754, 1)
>>> sorted(res.leads_test.terms)
['offences_per_1000_lead1', 'offences_per_1000_lead2']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data.panel import Panel
from ..exceptions import SpecError
from ..formula import Factor, Formula, Term
from ..inference.wald import WaldTest, wald_test
from ..results import BaseResults
from .effects import lincom
from .linear import feols
from .poisson import fepois

__all__ = ["DistributedLagResults", "WaldTest", "distributed_lag", "wald_test", "LAG_REASON"]

#: Drop-log reason for rows whose lag or lead period is not in the panel.
LAG_REASON = "lag/lead not available (start of series or gap)"
ESTIMATORS = ("feols", "fepois")


class DistributedLagResults(BaseResults):
    """Results of :func:`distributed_lag`: the contract plus lag-specific summaries.

    ``model`` is the underlying fit (:class:`~causalpolicing.estimators.FEOLSResults`
    or :class:`~causalpolicing.estimators.FEPoissonResults`); ``event_time()``
    the per-lag coefficients; ``cumulative()`` the summed effect;
    ``leads_test`` the joint test that the leads are zero (``None`` without leads).
    """

    __slots__ = ("_model", "_dl")

    def __init__(self, *, model: BaseResults, dl: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_dl", dict(dl))

    @property
    def model(self) -> BaseResults:
        """The underlying estimator's results."""
        return self._model

    @property
    def treatment(self) -> str:
        return str(self._dl["treatment"])

    @property
    def lag_terms(self) -> tuple[str, ...]:
        """Contemporaneous and lag terms, in order 0, 1, ..., L."""
        return tuple(self._dl["lag_terms"])

    @property
    def lead_terms(self) -> tuple[str, ...]:
        """Lead terms, in order 1, ..., F."""
        return tuple(self._dl["lead_terms"])

    def event_time(self, level: float = 0.95) -> pd.DataFrame:
        """Per-lag coefficients: ``rel_time, term, estimate, std_error, conf_low, conf_high, p_value``.

        ``rel_time`` is ``-k`` for lead ``k``, ``0`` for the same period, ``k``
        for lag ``k`` (the effect of treatment ``k`` periods earlier).
        """
        rel = [-k for k in range(len(self.lead_terms), 0, -1)] + list(range(len(self.lag_terms)))
        terms = list(reversed(self.lead_terms)) + list(self.lag_terms)
        tidy = self.tidy(level).set_index("term")
        rows = []
        for r, t in zip(rel, terms, strict=True):
            if t in tidy.index:
                row = tidy.loc[t]
                rows.append({"rel_time": r, "term": t, "estimate": row["estimate"],
                             "std_error": row["std_error"], "conf_low": row["conf_low"],
                             "conf_high": row["conf_high"], "p_value": row["p_value"]})
            else:  # dropped as collinear
                rows.append({"rel_time": r, "term": t, "estimate": np.nan, "std_error": np.nan,
                             "conf_low": np.nan, "conf_high": np.nan, "p_value": np.nan})
        return pd.DataFrame(rows, columns=["rel_time", "term", "estimate", "std_error",
                                           "conf_low", "conf_high", "p_value"])

    def cumulative(self, level: float = 0.95) -> pd.DataFrame:
        """The cumulative effect (contemporaneous plus lags) with its standard error.

        One row as :func:`causalpolicing.estimators.lincom`: ``expression, estimate,
        std_error, statistic, p_value, conf_low, conf_high``.
        """
        return lincom(self, {t: 1.0 for t in self.lag_terms}, level=level)

    @property
    def cumulative_effect(self) -> float:
        """Point estimate of the cumulative effect."""
        return float(self._params[list(self.lag_terms)].sum())

    @property
    def leads_test(self) -> WaldTest | None:
        """Joint Wald test that every lead coefficient is zero (``None`` without leads)."""
        if not self.lead_terms:
            return None
        return wald_test(self, self.lead_terms)


def role_column(panel: Any, value: str | None, role: str, param: str | None = None) -> str:
    """``value`` if it is a column of ``panel``, else the panel's first ``role`` column.

    ``role`` is ``"outcome"`` or ``"treatment"``; ``param`` names the argument
    in messages (default ``role``).
    """
    param = role if param is None else param
    if value is None:
        cols = panel.outcomes if role == "outcome" else panel.treatments
        if not cols:
            raise SpecError(f"The panel declares no {role}; pass {param}='column'.")
        return cols[0]
    if not isinstance(value, str) or value not in panel.columns:
        raise SpecError(f"{param}={value!r} is not a column of the panel; columns: "
                        f"{list(panel.columns)}.")
    return value


def _fe_columns(panel: Any, fe: Sequence[str]) -> list[str]:
    if isinstance(fe, str):
        fe = (fe,)
    out = []
    for f in fe:
        col = {"unit": panel.unit, "time": panel.time}.get(f, f)
        if col not in panel.columns:
            raise SpecError(f"fe entry {f!r} is neither 'unit', 'time' nor a panel column; "
                            f"columns: {list(panel.columns)}.")
        out.append(col)
    return out


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise SpecError(f"{name} must be a non-negative integer; got {value!r}.")
    return int(value)


def add_shifts(panel: Any, column: str, lags: Sequence[int], leads: Sequence[int]
               ) -> tuple[Any, list[str], list[str]]:
    """Panel with gap-aware lag and lead columns of ``column`` (``{column}_lag{k}``, ...)."""
    lag_names = [f"{column}_lag{k}" for k in lags]
    lead_names = [f"{column}_lead{k}" for k in leads]
    clash = [c for c in lag_names + lead_names if c in panel.columns]
    if clash:
        raise SpecError(f"The panel already has column(s) {clash}; rename or remove them "
                        "(distributed_lag builds its own lags and leads).")
    out = panel
    for k, nm in zip(lags, lag_names, strict=True):
        out = out.lag(column, k=k, name=nm)
    for k, nm in zip(leads, lead_names, strict=True):
        out = out.lead(column, k=k, name=nm)
    return out, lag_names, lead_names


def relabel_shift_drops(dropped: pd.DataFrame, panel: Any,
                        shifts: Mapping[str, int]) -> pd.DataFrame:
    """Mark drop-log rows lost because a lag/lead period is absent with :data:`LAG_REASON`.

    ``shifts`` maps a lag/lead column to its shift (``k`` for lag ``k``, ``-k``
    for lead ``k``). Rows where the period exists but the value is missing keep
    the reason ``missing value``.
    """
    if not len(dropped):
        return dropped
    frame = panel.to_frame()
    units = frame[panel.unit].to_numpy()
    tidx = panel.time_index()
    present = pd.MultiIndex.from_arrays([units, tidx])
    out = dropped.copy()
    pos = frame.index.get_indexer(out["row"])
    for col, s in shifts.items():
        hit = (out["column"] == col).to_numpy() & (pos >= 0)
        if not hit.any():
            continue
        p = pos[hit]
        absent = ~pd.MultiIndex.from_arrays([units[p], tidx[p] - s]).isin(present)
        reasons = np.array(out.loc[hit, "reason"].to_numpy(dtype=object), dtype=object)
        reasons[absent] = LAG_REASON
        out.loc[hit, "reason"] = reasons
    return out


def distributed_lag(
    data: Any,
    outcome: str | None = None,
    treatment: str | None = None,
    *,
    lags: int = 2,
    leads: int = 2,
    estimator: Literal["feols", "fepois"] = "feols",
    fe: Sequence[str] = ("unit", "time"),
    covariates: Sequence[str] = (),
    vcov: str | Mapping[str, Any] | None = None,
    exposure: str | None = None,
) -> DistributedLagResults:
    """Fit a distributed-lag (and lead) model of ``outcome`` on ``treatment``.

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel` (lags and leads need its periods).
    outcome, treatment
        Column names; default the panel's first outcome and treatment.
    lags, leads
        Numbers of lags (beyond the same period) and leads of the treatment.
    estimator
        ``"feols"`` (linear, :func:`causalpolicing.feols`) or ``"fepois"``
        (Poisson with the panel's exposure, :func:`causalpolicing.fepois`).
    fe
        Fixed effects: ``"unit"``, ``"time"`` (the panel's roles) or column names.
    covariates
        Further regressors (column names).
    vcov
        Covariance, passed to the estimator (default: CRV1 by the panel's unit).
    exposure
        For ``"fepois"``: the exposure column (default the panel's).

    Returns
    -------
    DistributedLagResults
        Coefficients of leads, the same-period treatment, lags and covariates;
        ``event_time()``, ``cumulative()``, ``leads_test``, ``model``.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = cp.distributed_lag(panel, "deaths", "offences_per_1000", lags=1, leads=0)
    >>> list(res.params.index)
    ['offences_per_1000', 'offences_per_1000_lag1']
    >>> res.leads_test is None, list(res.cumulative().columns)[:3]
    (True, ['expression', 'estimate', 'std_error'])
    """
    if not isinstance(data, Panel):
        raise SpecError(
            f"distributed_lag needs a Panel (lags and leads count periods, across gaps); got "
            f"{type(data).__name__}. Make one with cp.load_panel(df, unit=..., time=...).")
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}.")
    lags = _count(lags, "lags")
    leads = _count(leads, "leads")
    y = role_column(data, outcome, "outcome")
    x = role_column(data, treatment, "treatment")
    if isinstance(covariates, str):
        covariates = (covariates,)
    for c in covariates:
        if c not in data.columns:
            raise SpecError(f"covariate {c!r} is not a column of the panel.")
    fe_cols = _fe_columns(data, fe)
    panel, lag_names, lead_names = add_shifts(data, x, range(1, lags + 1), range(1, leads + 1))
    lead_order = list(reversed(lead_names))
    exog_cols = [*lead_order, x, *lag_names, *covariates]
    formula = Formula(
        depvar=Term((Factor(y),)),
        exog=tuple(Term((Factor(c),)) for c in exog_cols),
        fixed_effects=tuple((c,) for c in fe_cols),
    )
    if estimator == "feols":
        inner = feols(formula, panel, vcov=vcov)
    else:
        inner = fepois(formula, panel, vcov=vcov, exposure=exposure)
    shifts = {**{n: k for k, n in enumerate(lag_names, start=1)},
              **{n: -k for k, n in enumerate(lead_names, start=1)}}
    dropped = relabel_shift_drops(inner.dropped, panel, shifts)
    spec = inner.spec
    spec.update({"outcome": y, "treatment": x, "lags": lags, "leads": leads,
                 "estimator": estimator, "fe": fe_cols, "covariates": list(covariates)})
    glance = inner.glance().iloc[0].to_dict()
    fit_stats = {k: v for k, v in glance.items()
                 if k not in ("estimator", "nobs", "n_clusters", "cov_type")}
    lag_terms = [x, *lag_names]
    return DistributedLagResults(
        params=inner.params, cov=inner.cov, nobs=inner.nobs, df_inference=inner.df_inference,
        cov_type=inner.cov_type, estimator=f"DistributedLag[{inner.estimator}]", spec=spec,
        n_clusters=inner.n_clusters, fit_stats=fit_stats, dropped=dropped,
        warnings=inner.warnings, model=inner,
        dl={"treatment": x, "lag_terms": lag_terms, "lead_terms": lead_names},
    )
