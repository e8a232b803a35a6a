r"""Local-projections difference-in-differences (Dube, Girardi, Jordà and Taylor 2023).

For each horizon :math:`h` LP-DiD regresses the long difference of the outcome
from the last pre-treatment period on the treatment *start*, with time effects,
in a sample of units entering treatment and clean controls:

.. math::

    y_{i,t+h} - y_{i,t-1} = \beta_h\, \Delta D_{it} + w_{it}'\gamma_h + \delta^h_t
                            + e^h_{it},

where :math:`\Delta D_{it} = 1` in a unit's first treated period. With
``control="clean"`` (the paper's default) the sample at horizon :math:`h \ge 0`
is the entering observations plus the observations still untreated at
:math:`t+h` (not yet treated, or never treated); ``control="never_treated"``
keeps only never-treated controls. Leads (:math:`h = -k`, :math:`k \ge 2`) use
:math:`y_{i,t-k} - y_{i,t-1}` in the horizon-0 sample; :math:`h=-1` is the
reference (zero by construction). The pooled ``ATT`` takes the mean of
:math:`y_{i,t}, \dots, y_{i,t+H}` (:math:`H` = ``post_window``) minus
:math:`y_{i,t-1}` in the horizon-:math:`H` sample.

OLS with time effects weights the time-:math:`t` entry cohorts by
:math:`N^{CCS}_t\, n_t (1 - n_t)` (:math:`n_t`: share entering in that clean
sample): the **variance-weighted** ATT (``reweight=False``). ``reweight=True``
weights every observation of period :math:`t` by :math:`1/(1 - n_t)`, which
gives each entering unit the same weight: the **equally-weighted** ATT (Stata
``lpdid``'s ``rw``; the leads use the horizon-0 weights, and periods without
entering units or without clean controls drop out, as there).

Counts: LP-DiD is linear in long differences; there is no Poisson version with
an exposure offset (a long difference of logs is not a rate model and drops
zero counts). Model deaths as a rate per population (``deaths / pop * 1e5``)
as the outcome, or use :func:`~causalpolicing.designs.interaction_weighted.sun_abraham`
with ``estimator="fepois"``.

Each horizon is its own regression (:attr:`LPDiDResults.models`), with its own
covariance (default CRV1 by unit, as Stata ``lpdid``). ``cov`` also holds the
covariances *between* horizons, which Stata and pyfixest do not report: the
per-cluster (one-way cluster of ``vcov``, else per-unit) sums of each regression's
influence functions, scaled so that every
diagonal entry is that regression's own variance. They make the joint pre-trend
test (:attr:`LPDiDResults.pretrend_test`) possible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import check_level, did_you_mean
from ..estimators.linear import feols
from ..exceptions import SpecError
from ..formula import Factor, Formula, Term
from ..inference.fit_state import one_way_cluster
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

__all__ = ["HORIZON_COLUMNS", "LPDiDResults", "lp_did"]

CONTROLS = ("clean", "never_treated")
#: The columns of :attr:`LPDiDResults.horizons`.
HORIZON_COLUMNS = ("event_time", "term", "nobs", "n_entering", "n_clusters")
_DY, _D, _W = "lpdid_long_difference", "lpdid_entering", "lpdid_weight"


class LPDiDResults(BaseResults):
    """Results of :func:`lp_did`: event-time effects, the pooled ``ATT`` and the per-horizon fits.

    ``nobs``, ``n_clusters`` and ``cov_type`` are those of the pooled ``ATT``
    regression; ``df_inference`` is the smallest of the horizons'.
    """

    __slots__ = ("_models", "_lp")

    def __init__(self, *, models: Mapping[str, BaseResults], lp: Mapping[str, Any],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_models", dict(models))
        object.__setattr__(self, "_lp", dict(lp))

    @property
    def models(self) -> dict[str, BaseResults]:
        """The regression of each horizon (``event_lagH``, ``event_leadK``) and of ``ATT``."""
        return dict(self._models)

    @property
    def reference(self) -> tuple[int, ...]:
        """The reference event time (-1)."""
        return (-1,)

    @property
    def window(self) -> tuple[int, int]:
        """``(-pre_window, post_window)``."""
        return tuple(self._lp["window"])  # type: ignore[return-value]

    @property
    def lead_terms(self) -> tuple[str, ...]:
        """Estimated lead terms, earliest first."""
        lo, _ = self.window
        return tuple(event_term(e) for e in range(lo, -1) if event_term(e) in self._params)

    @property
    def horizons(self) -> pd.DataFrame:
        """Per regression: ``event_time`` (``None`` for ATT), ``term``, ``nobs``,
        ``n_entering`` (entering observations used) and ``n_clusters``."""
        return self._lp["horizons"].copy()

    @property
    def event_time(self) -> pd.DataFrame:
        """The event-time contract at the fit's ``level``."""
        return self.event_time_at(float(self._lp["level"]))

    def event_time_at(self, level: float) -> pd.DataFrame:
        """:attr:`event_time` with intervals at another ``level``."""
        lo, hi = self.window
        return event_time_table(self, events=range(lo, hi + 1), refs={-1},
                                level=check_level(level))

    @property
    def pretrend_test(self) -> WaldTest | None:
        """Joint Wald test that every lead is zero, with the cross-horizon covariance."""
        leads = self.lead_terms
        return wald_test(self, leads) if leads else None


def lp_did(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    pre_window: int | None = None,
    post_window: int | None = None,
    ref: int = -1,
    control: Literal["clean", "never_treated"] = "clean",
    reweight: bool = False,
    covariates: Sequence[str] = (),
    vcov: str | Mapping[str, Any] | None = None,
    level: float = 0.95,
) -> LPDiDResults:
    """Fit the LP-DiD event study and pooled ATT (see the module notes for the model).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods
        (then ``unit`` and ``time`` are required). Absorbing treatment: each
        unit's first treated period in ``cohort``.
    outcome
        The outcome column (a rate for counts: see the module notes); default: the Panel's primary outcome.
    cohort, never_treated
        Column with each unit's first treated period, and the value(s) marking
        never-treated units (default: the Panel's timing roles).
    unit, time
        Unit and time columns (default: the Panel's roles).
    pre_window, post_window
        Leads ``-pre_window .. -2`` (``-1`` is the reference) and lags
        ``0 .. post_window``; the pooled ``ATT`` averages horizons 0 to
        ``post_window``. Default: every event time observed.
    ref
        The base period of the long differences: ``-1`` (the only one supported).
    control
        ``"clean"`` (not yet treated at ``t+h`` and never treated) or
        ``"never_treated"``.
    reweight
        ``False``: variance-weighted ATT (plain OLS); ``True``: equally-weighted ATT.
    covariates
        Further regressors (values at ``t``); not with ``reweight=True``.
    vcov
        Covariance of each regression (default: CRV1 clustered by unit).
    level
        Confidence level of :attr:`LPDiDResults.event_time`.

    Returns
    -------
    LPDiDResults
        ``params``: ``event_leadK``, ``event_lagH`` and ``ATT``; plus
        ``event_time``, ``horizons``, ``models`` and ``pretrend_test``.

    Raises
    ------
    SpecError
        A missing column, repeated unit-period rows, a window beyond the data,
        ``ref`` other than -1, covariates with ``reweight=True``, no control.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(80), 10),
    ...                    "year": np.tile(np.arange(2000, 2010), 80)})
    >>> df["first"] = np.repeat(rng.choice([0, 2004, 2006], 80), 10)
    >>> ev = df["year"] - df["first"]
    >>> df["y"] = np.where((df["first"] > 0) & (ev >= 0), 1.0 + ev, 0.0) + rng.normal(
    ...     scale=0.1, size=len(df))
    >>> res = cp.lp_did(df, outcome="y", cohort="first", never_treated=0, unit="unit",
    ...                 time="year", pre_window=3, post_window=2)
    >>> res.event_time[["event_time", "term", "reference"]].head(3)
       event_time         term  reference
    0          -3  event_lead3        False
    1          -2  event_lead2        False
    2          -1  event_lead1         True
    >>> round(float(res.params["event_lag2"]), 1), round(float(res.params["ATT"]), 1)
    (3.0, 2.0)
    """
    who = "lp_did"
    if control not in CONTROLS:
        raise SpecError(f"control must be one of {CONTROLS}; got {control!r}"
                        f"{did_you_mean(str(control), CONTROLS)}.")
    if check_int(ref, "ref", minimum=None) != -1:
        raise SpecError(f"ref={ref!r}: LP-DiD takes long differences from the last untreated "
                        "period, so the reference is -1 (pre-mean differencing is not "
                        "implemented).")
    if not isinstance(reweight, bool | np.bool_):
        raise SpecError(f"reweight must be True or False; got {reweight!r}.")
    pre = None if pre_window is None else check_int(pre_window, "pre_window")
    post = None if post_window is None else check_int(post_window, "post_window")
    level = check_level(level)
    frame, unit, time, panel = frame_and_roles(data, unit, time, who=who)
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who=who)
    outcome = column(frame, outcome_role(panel, outcome, who=who), "outcome")
    covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covariates:
        column(frame, c, "covariates")
    if reweight and covariates:
        raise SpecError("reweight=True with covariates needs the regression-adjustment "
                        "estimator (Stata lpdid's teffects path), which is not implemented; "
                        "drop the covariates or use reweight=False.")
    clash = sorted({_DY, _D, _W} & set(frame.columns))
    if clash:
        raise SpecError(f"the data already has column(s) {clash}; rename them (lp_did builds "
                        "its own).")

    tm = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                          never_treated=never_treated)
    ucode, _ = pd.factorize(frame[unit], sort=True)
    p0 = int(tm.period.min())
    col = (tm.period - p0).astype(np.int64)
    n_t = int(col.max()) + 1
    if len(pd.MultiIndex.from_arrays([ucode, col]).drop_duplicates()) != len(frame):
        raise SpecError(f"the data has repeated ({unit!r}, {time!r}) rows; LP-DiD needs one "
                        "row per unit and period.")
    y = frame[outcome].to_numpy(dtype=np.float64)
    wide = np.full((ucode.max() + 1, n_t + 1), np.nan)  # last column: outside the panel
    wide[ucode, col] = y
    present = np.zeros(wide.shape, dtype=bool)
    present[ucode, col] = True

    def at(shift: int) -> tuple[np.ndarray, np.ndarray]:
        c = col + shift
        c = np.where((c >= 0) & (c < n_t), c, n_t)
        return wide[ucode, c], present[ucode, c]

    entering = tm.treated & (tm.period == tm.cohort)
    lag_y, has_prev = at(-1)
    seen = tm.event[tm.treated]
    pre = -int(seen.min()) if pre is None else pre
    post = int(seen.max()) if post is None else post
    if pre > n_t - 1 or post > n_t - 1:
        raise SpecError(f"pre_window={pre}/post_window={post} reach beyond the {n_t} periods "
                        "of the data; shorten them.")
    if not (tm.never.any() or control == "clean"):
        raise SpecError("control='never_treated' but no unit is never treated; use "
                        "control='clean' (not-yet-treated controls).")

    def sample(h: int) -> np.ndarray:
        """Entering observations and clean controls at horizon h >= 0 (D.treat defined)."""
        if control == "never_treated":
            ok = tm.never
        else:
            ok = tm.never | (tm.cohort > tm.period + h)
        return has_prev & (entering | (ok & at(h)[1]))

    def weights(s: np.ndarray) -> np.ndarray:
        share = pd.Series(entering[s].astype(float)).groupby(tm.period[s]).transform(
            "mean").to_numpy()
        w = np.full(len(frame), np.nan)
        w[s] = np.where((share > 0) & (share < 1), 1.0 / (1.0 - share), np.nan)
        return w

    vcov = {"CRV1": unit} if vcov is None else vcov
    formula = Formula(depvar=Term((Factor(_DY),)),
                      exog=tuple(Term((Factor(c),)) for c in [_D, *covariates]),
                      fixed_effects=((time,),))
    base = frame.copy()  # every column: a cluster variable of vcov may be any of them
    base[_D] = entering.astype(float)

    def fit(dy: np.ndarray, s: np.ndarray, w: np.ndarray | None) -> tuple[BaseResults, np.ndarray]:
        keep = s & np.isfinite(dy) & (np.isfinite(w) if w is not None else True)
        sub = base[keep].copy()
        sub[_DY] = dy[keep]
        if w is not None:
            sub[_W] = w[keep]
        if not entering[keep].any():
            raise SpecError("no entering observation with the long difference observed at a "
                            "horizon; shorten pre_window/post_window.")
        return feols(formula, sub, vcov=vcov, weights=_W if w is not None else None), keep

    fits: dict[str, tuple[BaseResults, np.ndarray]] = {}
    s0 = sample(0)
    w0 = weights(s0) if reweight else None
    for k in range(pre, 1, -1):
        fits[event_term(-k)] = fit(at(-k)[0] - lag_y, s0, w0)
    for h in range(post + 1):
        s = sample(h)
        fits[event_term(h)] = fit(at(h)[0] - lag_y, s, weights(s) if reweight else None)
    mean_y = np.mean(np.column_stack([at(h)[0] for h in range(post + 1)]), axis=1)
    s = sample(post)
    fits["ATT"] = fit(mean_y - lag_y, s, weights(s) if reweight else None)

    cluster = one_way_cluster(vcov)
    groups = ucode if cluster is None or cluster not in frame.columns else pd.factorize(
        frame[cluster])[0]
    params, cov = _joint(fits, groups)
    att = fits["ATT"][0]
    dfs = [m.df_inference for m, _ in fits.values()]
    horizons = pd.DataFrame(
        [{"event_time": pd.NA if t == "ATT" else _event_of(t), "term": t, "nobs": m.nobs,
          "n_entering": int(entering[k].sum()), "n_clusters": m.n_clusters}
         for t, (m, k) in fits.items()], columns=list(HORIZON_COLUMNS)).astype(
        {"event_time": "Int64"})
    spec = {"design": "lp_did", "outcome": outcome, "cohort": cohort,
            "never_treated": never_treated, "unit": unit, "time": time, "pre_window": pre,
            "post_window": post, "ref": -1, "control": control, "reweight": bool(reweight),
            "covariates": list(covariates), "vcov": att.spec.get("vcov")}
    notes = tuple(dict.fromkeys(w for m, _ in fits.values() for w in m.warnings))
    return LPDiDResults(
        params=params, cov=cov, nobs=att.nobs,
        df_inference=None if any(d is None for d in dfs) else min(dfs),
        cov_type=att.cov_type, estimator="LPDiD[OLS]", spec=spec, n_clusters=att.n_clusters,
        fit_stats={"reweight": bool(reweight), "control": control}, dropped=None,
        warnings=notes, models={t: m for t, (m, _) in fits.items()},
        lp={"window": (-pre, post), "level": level, "horizons": horizons},
    )


def _event_of(term: str) -> int:
    return -int(term[len("event_lead"):]) if term.startswith("event_lead") else int(
        term[len("event_lag"):])


def _joint(fits: Mapping[str, tuple[BaseResults, np.ndarray]], ucode: np.ndarray
           ) -> tuple[pd.Series, pd.DataFrame]:
    """The treatment coefficients of every regression and their joint covariance.

    The off-diagonal entries are per-cluster sums (``ucode``: the one-way cluster of
    ``vcov``, else the unit) of the regressions' influence functions, each scaled by
    ``sqrt(own variance / unscaled variance)`` so that the diagonal is every
    regression's own (small-sample corrected) variance.
    """
    names = list(fits)
    n_units = int(ucode.max()) + 1
    psi = np.zeros((n_units, len(names)))
    b = np.empty(len(names))
    var = np.empty(len(names))
    for j, (m, keep) in enumerate(fits.values()):
        st = m.fit_state
        vi = st.vcov_input
        k = list(m.params.index).index(_D)
        infl = (vi.regressors * vi.resid[:, None]) @ vi.bread[:, k]
        units = ucode[np.flatnonzero(keep)[st.positions]]
        psi[:, j] = np.bincount(units, weights=infl, minlength=n_units)
        b[j] = float(m.params[_D])
        var[j] = float(m.cov.loc[_D, _D])
    raw = psi.T @ psi
    d = np.sqrt(np.divide(var, np.diag(raw), out=np.zeros_like(var), where=np.diag(raw) > 0))
    cov = raw * np.outer(d, d)
    np.fill_diagonal(cov, var)
    return pd.Series(b, index=names), pd.DataFrame(cov, index=names, columns=names)
