r"""Callaway and Sant'Anna (2021): group-time average treatment effects and their aggregations.

Units first treated in period :math:`g` form cohort :math:`g`. For every cohort
and period :math:`t` the design estimates

.. math::

    ATT(g,t) = E[Y_t(g) - Y_t(0) \mid G = g]

by a two-group, two-period comparison of cohort :math:`g` with a comparison
group between :math:`t` and a base period, under parallel trends (conditional on
the covariates) and no anticipation beyond ``anticipation`` periods:

* comparison group: the never-treated units (``control_group="never_treated"``)
  or those not yet treated by the later of the two periods (+ anticipation) and
  not in cohort :math:`g` (``"not_yet_treated"``);
* base period: for :math:`t \ge g - \delta` (:math:`\delta` = anticipation) the
  last period before :math:`g - \delta`; before that, the previous period
  (``base_period="varying"``) or the same last period (``"universal"``, whose
  base period is then a reference with :math:`ATT = 0`);
* the 2x2 estimator (``est_method``): outcome regression, normalised inverse
  probability weighting, or the doubly robust estimator of Sant'Anna and Zhao
  (2020) (:mod:`causalpolicing.designs._drdid`), with the covariates of the
  earlier of the two periods.

Each :math:`ATT(g,t)` comes with its influence function; aggregations (R ``did``'s
``aggte``) average them with cohort-size weights :math:`p_g` (sampling-weighted),
and their influence functions include the estimation of those weights:

* ``"simple"``: :math:`\sum_{g \le t} p_g ATT(g,t) / \sum p_g` (term ``ATT``);
* ``"dynamic"``: event time :math:`e = t - g`, :math:`\theta(e) = \sum_g p_g
  ATT(g, g+e) / \sum p_g` (terms ``event_leadK`` / ``event_lagK``), and ``ATT`` the
  mean of :math:`\theta(e)` over :math:`e \ge 0`;
* ``"group"``: :math:`\theta(g)` the mean of :math:`ATT(g,t)` over :math:`t \ge g`
  (terms ``cohort_<g>``), and ``ATT`` their :math:`p_g`-weighted mean;
* ``"calendar"``: :math:`\theta(t) = \sum_{g \le t} p_g ATT(g,t) / \sum p_g` (terms
  ``period_<t>``), and ``ATT`` their mean.

Standard errors are analytic: :math:`\sqrt{\sum_i \psi_i^2}/n` from the influence
functions :math:`\psi_i` of the units, or :math:`\sqrt{\sum_c (\sum_{i\in c}
\psi_i)^2}/n` with ``cluster`` (R ``did`` 2.5's analytic clustering; no
small-sample factor). ``bootstrap=B`` adds R's multiplier bootstrap
(:mod:`causalpolicing.inference.multiplier`): IQR-based bootstrap standard errors
and the sup-t critical value of a uniform band over the event times (cohorts,
periods) of the aggregation, as R's ``cband=TRUE``.

Unbalanced panels follow R ``did`` with ``allow_unbalanced_panel=TRUE``: if some
unit misses some period, every 2x2 comparison uses the repeated-cross-section
estimators (``DRDID::drdid_rc``, ``reg_did_rc``, ``std_ipw_did_rc``) on the rows
observed in its two periods, each row with its own covariates; the influence
functions are summed within units, so inference is by unit (or cluster). No unit
is dropped for being incomplete. Rows with a missing outcome, covariate, weight or
cluster are dropped (drop log, :class:`~causalpolicing.exceptions.DataWarning`);
the units keep their other rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from .._hints import check_level, did_you_mean
from ..core._blas import _one_blas_thread
from ..data.panel import Panel
from ..exceptions import DataWarning, SpecError
from ..inference.multiplier import MULTIPLIER_WEIGHTS, MultiplierBootstrap, multiplier_bootstrap
from ..inference.wald import WaldTest
from ..results import BaseResults
from ._cs_aggregate import AGGREGATIONS, Aggregation, aggregate
from ._cs_cells import CSCells, CSData, att_gt, prepare
from ._drdid import EST_METHODS
from ._timing import check_int, column, frame_and_roles, outcome_role, timing_roles
from .event_studies import EVENT_TIME_COLUMNS

__all__ = ["CONTROL_GROUPS", "CallawaySantAnnaResults", "callaway_santanna"]

CONTROL_GROUPS = ("never_treated", "not_yet_treated")
BASE_PERIODS = ("varying", "universal")
ATT_GT_COLUMNS = ("cohort", "time", "event_time", "att", "std_error", "conf_low", "conf_high",
                  "n_treated", "n_control")


@dataclass(frozen=True)
class _State:
    """What :meth:`CallawaySantAnnaResults.aggregate` needs to aggregate without refitting."""

    data: CSData
    cells: CSCells
    level: float
    bootstrap: int
    bootstrap_weights: str
    seed: int
    min_e: float
    max_e: float
    kind: str
    agg: Aggregation
    boot: MultiplierBootstrap | None
    crit: float | None


def _sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1, psi.shape[1]))
    np.add.at(out, cluster, psi)
    return out


def _analytic(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Covariance ``S'S / n^2`` from the influence functions (cluster sums ``S``)."""
    n = psi.shape[0]
    s = _sums(psi, cluster)
    return s.T @ s / n ** 2


def _se(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    se = np.sqrt(np.diag(_analytic(np.nan_to_num(psi), cluster)))
    se[~np.all(np.isfinite(psi), axis=0)] = np.nan
    se[se <= np.sqrt(np.finfo(float).eps) * 10] = np.nan
    return se


def _boot(st: _State, psi: np.ndarray) -> MultiplierBootstrap:
    return multiplier_bootstrap(psi, reps=st.bootstrap, cluster=st.data.cluster_u,
                                weights=st.bootstrap_weights, seed=st.seed, level=st.level)


class CallawaySantAnnaResults(BaseResults):
    """Results of :func:`callaway_santanna`.

    ``params``/``cov`` hold the chosen aggregation (``spec["aggregate"]``): ``ATT``
    (simple), ``event_leadK``/``event_lagK`` and ``ATT`` (dynamic), ``cohort_<g>``
    and ``ATT`` (group), ``period_<t>`` and ``ATT`` (calendar); the covariance is
    the analytic one from the influence functions. :attr:`att_gt` holds every
    group-time effect, :attr:`event_time` the event-study contract, and
    :meth:`aggregate` the other aggregations without refitting.
    """

    __slots__ = ("_cs",)

    def __init__(self, *, state: _State, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_cs", state)

    @classmethod
    def _build(cls, *, state: _State, **kwargs: Any) -> CallawaySantAnnaResults:
        """Internal: ``__init__`` without the defensive copies (see ``BaseResults._adopt``):
        ``params`` and ``cov`` new (float64, indexed by the terms), ``dropped`` new, a
        cached template or another result's (never handed out uncopied)."""
        obj = object.__new__(cls)
        obj._adopt(**kwargs)
        object.__setattr__(obj, "_cs", state)
        return obj

    @property
    def att_gt(self) -> pd.DataFrame:
        """Every ATT(g,t): ``cohort, time, event_time, att, std_error, conf_low, conf_high,
        n_treated, n_control`` (and, with ``bootstrap > 0``, ``bootstrap_se`` and
        ``band_low, band_high``: the uniform band over all cells, as R ``did``'s
        ``att_gt(cband=TRUE)``).

        A universal base period's own cell is 0 with no standard error; a cell that
        could not be estimated is missing (and left out of the aggregations).
        """
        with _one_blas_thread(True):
            return self._att_gt()

    def _att_gt(self) -> pd.DataFrame:
        st = self._cs
        c, d = st.cells, st.data
        se = _se(c.influence, d.cluster_u)
        q = float(special.ndtri(0.5 + st.level / 2))
        out = pd.DataFrame({
            "cohort": [d.label.get(int(g), int(g)) for g in c.group],
            "time": [d.label[int(t)] for t in c.time], "event_time": c.time - c.group,
            "att": c.att, "std_error": se, "conf_low": c.att - q * se,
            "conf_high": c.att + q * se, "n_treated": c.n_treated, "n_control": c.n_control})
        if st.bootstrap:
            # the cells' influence is a unit-major view of a cell-major matrix: the bootstrap
            # products on the C-ordered copy (the layout, hence the bits, they always had)
            b = _boot(st, np.ascontiguousarray(c.influence))
            out["bootstrap_se"] = b.std_errors
            out["band_low"], out["band_high"] = b.band(c.att)
        return out

    @property
    def event_time(self) -> pd.DataFrame:
        """The dynamic aggregation as the event-time contract (``EVENT_TIME_COLUMNS``).

        One row per event time (``min_e``..``max_e``); with a universal base period
        the reference event time has estimate 0, no standard error and
        ``reference=True``. With ``bootstrap > 0``: ``band_low``/``band_high``, the
        uniform band (sup-t critical value times the bootstrap standard errors,
        as R ``did``'s ``cband=TRUE``).
        """
        with _one_blas_thread(True):
            return self._event_time()

    def _event_time(self) -> pd.DataFrame:
        st = self._cs
        agg = st.agg if st.kind == "dynamic" else aggregate(
            st.cells, st.data, "dynamic", min_e=st.min_e, max_e=st.max_e)
        k = len(agg.keys)
        est, psi = agg.estimates[:k], agg.influence[:, :k]
        se = _se(psi, st.data.cluster_u)
        q = float(special.ndtri(0.5 + st.level / 2))
        out = pd.DataFrame({
            "event_time": np.array(agg.keys, dtype=np.int64), "term": agg.terms[:k],
            "estimate": np.where(agg.reference[:k], 0.0, est), "std_error": se,
            "conf_low": est - q * se, "conf_high": est + q * se,
            "reference": agg.reference[:k], "binned": np.zeros(k, dtype=bool)},
            columns=list(EVENT_TIME_COLUMNS))
        if st.bootstrap:
            b = _boot(st, psi)
            out["band_low"], out["band_high"] = b.band(est)
            out.loc[out["reference"], ["band_low", "band_high"]] = np.nan
        return out

    @property
    def bootstrap_std_errors(self) -> pd.Series | None:
        """IQR-based multiplier-bootstrap standard errors of ``params`` (``None`` without)."""
        b = self._cs.boot
        if b is None:
            return None
        keep = ~self._cs.agg.reference
        return pd.Series(b.std_errors[keep], index=self._params.index, name="bootstrap_se")

    @property
    def crit_value(self) -> float | None:
        """Sup-t critical value of the uniform band over the aggregation's event times,
        cohorts or periods (``ATT`` alone for ``"simple"``); ``None`` without bootstrap."""
        return self._cs.crit

    @property
    def pretrend_test(self) -> WaldTest | None:
        """R ``did``'s pre-test: joint Wald test that every pre-treatment ATT(g,t) is zero.

        Uses the analytic covariance of the cells with ``t < g`` (chi-squared);
        ``None`` without such cells or with a singular covariance.
        """
        c = self._cs.cells
        pre = np.flatnonzero((c.group > c.time) & ~c.reference & np.isfinite(c.att))
        if len(pre) == 0:
            return None
        with _one_blas_thread(True):
            v = _analytic(c.influence[:, pre], self._cs.data.cluster_u)
        if not np.all(np.isfinite(v)) or np.linalg.cond(v) > 1 / np.finfo(float).eps:
            return None
        from scipy import stats  # lazy: importing scipy.stats takes ~0.3 s

        b = c.att[pre]
        w = float(b @ np.linalg.solve(v, b))
        names = tuple(f"att_{g}_{t}" for g, t in zip(c.group[pre], c.time[pre], strict=True))
        return WaldTest(terms=names, wald=w, statistic=w, df_num=len(pre), df_denom=None,
                        p_value=float(stats.chi2.sf(w, len(pre))), distribution="chi2")

    def aggregate(self, kind: Literal["simple", "dynamic", "group", "calendar"], *,
                  min_e: int | None = None, max_e: int | None = None
                  ) -> CallawaySantAnnaResults:
        """The same fit aggregated another way (no refitting); see :func:`callaway_santanna`."""
        st = self._cs
        return _results(st.data, st.cells, kind=kind, spec=self.spec,
                        min_e=self._spec["min_e"] if min_e is None else min_e,
                        max_e=self._spec["max_e"] if max_e is None else max_e, level=st.level,
                        bootstrap=st.bootstrap, bootstrap_weights=st.bootstrap_weights,
                        seed=st.seed, warnings_=self.warnings, dropped=self._dropped)


def _results(data: CSData, cells: CSCells, *, kind: str, spec: dict[str, Any], min_e: Any,
             max_e: Any, level: float, bootstrap: int, bootstrap_weights: str, seed: int,
             warnings_: tuple[str, ...], dropped: pd.DataFrame) -> CallawaySantAnnaResults:
    if kind not in AGGREGATIONS:
        raise SpecError(f"aggregate must be one of {AGGREGATIONS}; got {kind!r}"
                        f"{did_you_mean(str(kind), AGGREGATIONS)}.")
    lo = -np.inf if min_e is None else check_int(min_e, "min_e", minimum=None)
    hi = np.inf if max_e is None else check_int(max_e, "max_e", minimum=None)
    if not np.isfinite(cells.att).any():
        raise SpecError("no ATT(g,t) could be estimated (see the warnings); nothing to "
                        "aggregate.")
    with _one_blas_thread(True):
        return _aggregated(data, cells, kind=kind, spec=spec, min_e=min_e, max_e=max_e,
                           lo=lo, hi=hi, level=level, bootstrap=bootstrap,
                           bootstrap_weights=bootstrap_weights, seed=seed,
                           warnings_=warnings_, dropped=dropped)


def _aggregated(data: CSData, cells: CSCells, *, kind: str, spec: dict[str, Any], min_e: Any,
                max_e: Any, lo: float, hi: float, level: float, bootstrap: int,
                bootstrap_weights: str, seed: int, warnings_: tuple[str, ...],
                dropped: pd.DataFrame) -> CallawaySantAnnaResults:
    try:
        agg = aggregate(cells, data, kind, min_e=lo, max_e=hi)
    except ValueError:
        raise SpecError(f"no event time within min_e={min_e}, max_e={max_e}; widen the "
                        "window.") from None
    keep = ~agg.reference
    terms = [t for t, k in zip(agg.terms, keep, strict=True) if k]
    cov = _analytic(np.nan_to_num(agg.influence[:, keep], copy=False), data.cluster_u)
    boot, crit = None, None
    if bootstrap:
        boot = multiplier_bootstrap(agg.influence, reps=bootstrap, cluster=data.cluster_u,
                                    weights=bootstrap_weights, seed=seed, level=level)
        # the band covers the event times / cohorts / periods, not their average (R did)
        crit = boot.crit_value_of(slice(0, max(len(agg.keys), 1)))
    n_cl = None if data.cluster_u is None else int(data.cluster_u.max()) + 1
    spec = dict(spec, aggregate=kind, min_e=None if min_e is None else lo,
                max_e=None if max_e is None else hi)
    cluster = spec.get("cluster")
    state = _State(data=data, cells=cells, level=level, bootstrap=bootstrap,
                   bootstrap_weights=bootstrap_weights, seed=seed, min_e=lo, max_e=hi,
                   kind=kind, agg=agg, boot=boot, crit=crit)
    index = pd.Index(terms)  # (one index for params and both axes of cov)
    return CallawaySantAnnaResults._build(
        params=pd.Series(np.asarray(agg.estimates[keep], dtype=float), index=index, copy=False),
        cov=pd.DataFrame(np.asarray(cov, dtype=float), index=index, columns=index, copy=False),
        nobs=data.nobs, df_inference=None,
        cov_type=f"influence function, clustered by {cluster}" if cluster else
        "influence function (by unit)",
        estimator=f"CallawaySantAnna[{spec['est_method']}]", spec=spec,
        n_clusters=n_cl if n_cl is not None else data.n,
        fit_stats={"n_units": data.n, "n_cohorts": len(data.cohorts),
                   "n_periods": len(data.periods), "balanced": data.balanced},
        dropped=dropped, warnings=warnings_, state=state)


def callaway_santanna(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated",
    anticipation: int = 0,
    base_period: Literal["varying", "universal"] = "varying",
    covariates: Sequence[str] = (),
    est_method: Literal["dr", "ipw", "reg"] = "dr",
    weights: str | None = None,
    cluster: str | None = None,
    aggregate: Literal["simple", "dynamic", "group", "calendar"] = "dynamic",
    min_e: int | None = None,
    max_e: int | None = None,
    bootstrap: int = 0,
    bootstrap_weights: Literal["mammen", "rademacher"] = "mammen",
    seed: int | None = None,
    level: float = 0.95,
) -> CallawaySantAnnaResults:
    """Callaway-Sant'Anna staggered DiD (see the module notes for the estimands).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame (then ``unit`` and
        ``time`` are required) with integer periods (years) or pandas Periods.
    outcome
        The outcome column; default: the Panel's primary outcome.
    cohort, never_treated
        Each unit's first treated period (constant within unit) and the value(s)
        marking never-treated units (e.g. ``0``); default: the Panel's timing roles.
    unit, time
        Unit and time columns (default: the Panel's roles).
    control_group
        ``"never_treated"`` or ``"not_yet_treated"`` comparison units.
    anticipation
        Periods before the cohort's start in which it may already react.
    base_period
        ``"varying"`` (pre-periods compare consecutive periods) or ``"universal"``.
    covariates
        Time-invariant covariates (column names); the values of the earlier period
        of each comparison are used (R ``did``).
    est_method
        ``"dr"`` (doubly robust), ``"ipw"`` or ``"reg"`` (outcome regression).
    weights
        Sampling weights (a column constant within unit).
    cluster
        A column constant within unit: cluster-robust inference by it (else by unit).
    aggregate
        The aggregation in ``params``: ``"dynamic"`` (default), ``"simple"``,
        ``"group"`` or ``"calendar"`` (others via :meth:`~CallawaySantAnnaResults.aggregate`).
    min_e, max_e
        Event-time window of the dynamic aggregation (``max_e`` also caps the
        periods of the simple and group aggregations, as R ``did``).
    bootstrap
        Number of multiplier-bootstrap draws (0: analytic only).
    bootstrap_weights
        ``"mammen"`` (R ``did``) or ``"rademacher"`` multipliers.
    seed
        Seed of the bootstrap (the same multipliers serve every aggregation).
    level
        Confidence level of the intervals and of the uniform band.

    Returns
    -------
    CallawaySantAnnaResults
        The contract (``params``, ``tidy()``, ...) plus ``att_gt``, ``event_time``,
        ``pretrend_test``, ``aggregate()`` and, with the bootstrap,
        ``bootstrap_std_errors`` and ``crit_value``.

    Raises
    ------
    SpecError
        A missing column or bad option; a cohort column that varies within unit;
        time-varying weights or clusters; duplicate unit-periods; no cohort left to
        estimate; a never-treated group too small to compare with (R ``did``'s
        refusal: fewer units than covariates + 5).

    Notes
    -----
    Units treated in the first period (+ anticipation) are dropped with a
    :class:`~causalpolicing.exceptions.DataWarning` and listed in the drop log
    (as R ``did``). Without never-treated units the last cohort is the comparison
    group and the periods from its start (- anticipation) on are dropped (logged).
    Checked against R ``did`` 2.5 (published mpdta output), moderndid 0.2.0 and
    csdid 0.4.3: point estimates to 1e-6, analytic SEs to 1e-4 relative
    (``tests/test_callaway_santanna.py``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(3)
    >>> n, years = 300, np.arange(2000, 2008)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(n), len(years)),
    ...                    "year": np.tile(years, n)})
    >>> df["first"] = np.repeat(rng.choice([0, 2003, 2005], n), len(years))
    >>> treated = (df["first"] > 0) & (df["year"] >= df["first"])
    >>> df["y"] = treated * (1.0 + (df["year"] - df["first"])) + rng.normal(size=len(df))
    >>> res = cp.callaway_santanna(df, outcome="y", cohort="first", never_treated=0,
    ...                            unit="unit", time="year")
    >>> res.event_time[["event_time", "term"]].iloc[3:6]
       event_time        term
    3          -1  event_lead1
    4           0   event_lag0
    5           1   event_lag1
    >>> round(float(res.params["event_lag1"]), 1), list(res.aggregate("simple").params.index)
    (2.0, ['ATT'])
    """
    if control_group not in CONTROL_GROUPS:
        raise SpecError(f"control_group must be one of {CONTROL_GROUPS}; got {control_group!r}"
                        f"{did_you_mean(str(control_group), CONTROL_GROUPS)}.")
    if base_period not in BASE_PERIODS:
        raise SpecError(f"base_period must be one of {BASE_PERIODS}; got {base_period!r}.")
    if est_method not in EST_METHODS:
        raise SpecError(f"est_method must be one of {EST_METHODS}; got {est_method!r}.")
    if aggregate not in AGGREGATIONS:
        raise SpecError(f"aggregate must be one of {AGGREGATIONS}; got {aggregate!r}"
                        f"{did_you_mean(str(aggregate), AGGREGATIONS)}.")
    if bootstrap_weights not in MULTIPLIER_WEIGHTS:
        raise SpecError(f"bootstrap_weights must be one of {MULTIPLIER_WEIGHTS}; got "
                        f"{bootstrap_weights!r}.")
    anticipation = check_int(anticipation, "anticipation")
    bootstrap = check_int(bootstrap, "bootstrap")
    if bootstrap == 1:
        raise SpecError("bootstrap=1 is not a bootstrap; give 0 (analytic only) or the number "
                        "of draws (e.g. 999).")
    level = check_level(level)
    # read only (prepare copies what it needs): no copy of the caller's frame
    frame, unit, time, panel = frame_and_roles(data, unit, time, who="callaway_santanna",
                                               copy=False)
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who="callaway_santanna")
    outcome = column(frame, outcome_role(panel, outcome, who="callaway_santanna"), "outcome")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covariates:
        column(frame, c, "covariates")
    if weights is not None:
        column(frame, weights, "weights")
    if cluster is not None:
        column(frame, cluster, "cluster")
        if cluster == unit:
            cluster = None  # by unit is the default
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2 ** 63))  # reused by aggregate()
    seed = check_int(seed, "seed")
    source_rows = data.source_rows if isinstance(data, Panel) else None
    prepared = prepare(frame, unit=unit, time=time, outcome=outcome, cohort=cohort,
                       never_treated=never_treated, covariates=covariates, weights=weights,
                       cluster=cluster, control_group=control_group,
                       anticipation=anticipation, source_rows=source_rows)
    cells = att_gt(prepared, control_group=control_group, anticipation=anticipation,
                   base_period=base_period, est_method=est_method)
    notes = [*prepared.notes, *cells.notes]
    balanced, prepared = prepared.balanced, prepared.for_aggregation()  # frees the outcomes
    if not balanced:
        notes.append("unbalanced panel: the 2x2 comparisons use the repeated-cross-section "
                     "estimators (R did's allow_unbalanced_panel=TRUE).")
    spec = {"design": "callaway_santanna", "outcome": outcome, "cohort": cohort,
            "never_treated": never_treated, "unit": unit, "time": time,
            "control_group": control_group, "anticipation": anticipation,
            "base_period": base_period, "covariates": list(covariates),
            "est_method": est_method, "weights": weights, "cluster": cluster,
            "bootstrap": bootstrap, "bootstrap_weights": bootstrap_weights, "seed": seed,
            "level": level}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return _results(prepared, cells, kind=aggregate, spec=spec, min_e=min_e, max_e=max_e,
                        level=level, bootstrap=bootstrap, bootstrap_weights=bootstrap_weights,
                        seed=seed, warnings_=tuple(notes), dropped=prepared.dropped)
