r"""Gardner's two-stage difference-in-differences (did2s) for staggered adoption.

Stage 1 fits the untreated-outcome model :math:`y_{it} = a_i + g_t + x_{it}'\delta +
\varepsilon_{it}` on the untreated observations (never-treated units; treated
units before their cohort period) and residualises the outcome of *every*
observation, :math:`\tilde y_{it} = y_{it} - \hat a_i - \hat g_t - x_{it}'\hat\delta`.
Stage 2 regresses :math:`\tilde y` on the treatment indicators, without an
intercept: the treatment dummy (``event_time=False``, term ``ATT``) or one
indicator per event time (``event_time=True``, terms ``event_lag0``, ...;
negative horizons give the leads ``event_leadK``, the mean first-stage residual
at that event time, a pre-trend check). The point estimates equal the
imputation estimator's (:func:`causalpolicing.did_imputation`) with equal weights.

Standard errors are Gardner's GMM ones, as R ``did2s`` computes them: with
:math:`X_1` the stage-1 regressors (fixed-effect dummies and covariates),
:math:`X_{10}` the same with the treated rows zeroed, :math:`X_2` the stage-2
regressors and residuals :math:`u_1` (stage 1, untreated rows) and :math:`u_2`
(stage 2), the influence of observation :math:`i` is
:math:`(X_2'X_2)^{-1} [X_{2i} u_{2i} - \Gamma' X_{10,i} u_{1i}]` with
:math:`\Gamma = (X_{10}'X_{10})^{-1} X_1'X_2`, summed within clusters; no
small-sample factor; normal intervals. With ``weights`` every row is scaled by
the square root of its weight (WLS in both stages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._hints import check_level
from ..exceptions import SpecError
from ..results import BaseResults
from ._imputation_core import design_matrix, linear_first_stage, prepare, untreated_solve
from ._timing import check_int, event_term
from .event_studies import EVENT_TIME_COLUMNS

__all__ = ["TwoStageResults", "did2s"]


class TwoStageResults(BaseResults):
    """Results of :func:`did2s`: the contract plus ``event_time`` (event-time fits)."""

    __slots__ = ("_ts",)

    def __init__(self, *, ts: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_ts", dict(ts))

    @property
    def horizons(self) -> tuple[int, ...]:
        """The event times estimated (empty for the static ``ATT``)."""
        return tuple(self._ts["horizons"])

    @property
    def event_time(self) -> pd.DataFrame | None:
        """One row per event time (:data:`EVENT_TIME_COLUMNS`); ``None`` for the static fit."""
        return self.event_time_at(float(self._ts["level"]))

    def event_time_at(self, level: float) -> pd.DataFrame | None:
        """:attr:`event_time` with intervals at another ``level``."""
        if not self.horizons:
            return None
        ci, se = self.conf_int(level), self.std_errors
        rows = [{"event_time": e, "term": event_term(e),
                 "estimate": float(self._params[event_term(e)]),
                 "std_error": float(se[event_term(e)]),
                 "conf_low": float(ci.loc[event_term(e)].iloc[0]),
                 "conf_high": float(ci.loc[event_term(e)].iloc[1]),
                 "reference": False, "binned": False} for e in self.horizons]
        return pd.DataFrame(rows, columns=list(EVENT_TIME_COLUMNS))


def did2s(
    data: Any,
    *,
    outcome: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
    unit: str | None = None,
    time: str | None = None,
    event_time: bool = True,
    horizons: Sequence[int] | None = None,
    covariates: Sequence[str] = (),
    fe: Sequence[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    level: float = 0.95,
) -> TwoStageResults:
    """Gardner's two-stage DiD (see the module notes).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel`, or a DataFrame with integer periods.
    outcome
        The outcome column; default: the Panel's primary outcome.
    cohort, never_treated
        Each unit's first treated period, and the value(s) marking never-treated
        units (default: the Panel's timing roles).
    unit, time
        Unit and time columns (default: the Panel's roles).
    event_time
        ``True``: one effect per event time; ``False``: one static ``ATT``.
    horizons
        Event times of the event-time fit (default: every observed event time
        >= 0); negative ones add leads (mean stage-1 residuals before treatment).
    covariates
        Time-varying covariates of the stage-1 model.
    fe
        Fixed effects of stage 1 (default: unit and time).
    weights
        Observation weights (WLS in both stages).
    cluster
        Cluster column (default: the unit).
    level
        Confidence level of :attr:`TwoStageResults.event_time`.

    Returns
    -------
    TwoStageResults

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalpolicing as cp
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(50), 6),
    ...                    "year": np.tile(np.arange(2010, 2016), 50)})
    >>> df["first"] = np.repeat(rng.choice([0, 2012, 2014], 50), 6)
    >>> on = (df["first"] > 0) & (df["year"] >= df["first"])
    >>> df["y"] = 2.0 * on + rng.normal(size=len(df))
    >>> res = cp.did2s(df, outcome="y", cohort="first", never_treated=0, unit="unit",
    ...                time="year", event_time=False)
    >>> res.params.index.tolist(), round(float(res.params["ATT"]), 1)
    (['ATT'], 2.0)
    """
    who = "did2s"
    level = check_level(level)
    if not isinstance(event_time, bool):
        raise SpecError(f"event_time must be True or False; got {event_time!r}.")
    sd = prepare(data, who=who, outcome=outcome, cohort=cohort, never_treated=never_treated,
                 unit=unit, time=time, covariates=covariates, fe=fe, weights=weights,
                 cluster=cluster)
    treat, ev, tr = sd.treat, sd.timing.event, sd.timing.treated
    if event_time:
        seen = sorted(set(ev[tr].tolist()))
        if horizons is None:
            hz = [e for e in seen if e >= 0]
        else:
            hz = sorted({check_int(h, "horizons", minimum=None) for h in (
                [horizons] if isinstance(horizons, int | np.integer) else horizons)})
            missing = [h for h in hz if h not in seen]
            if missing or not hz:
                raise SpecError(f"did2s: horizons {missing or hz} have no observation of a "
                                f"treated unit; the data have event times {seen}.")
        terms = [event_term(h) for h in hz]
        x2 = np.column_stack([(tr & (ev == h)).astype(float) for h in hz])
    else:
        if horizons is not None:
            raise SpecError("horizons= needs event_time=True (the static fit has one ATT).")
        hz, terms = [], ["ATT"]
        x2 = treat.astype(float)[:, None]
    w = sd.w
    adj, _ = linear_first_stage(sd)
    xtx = x2.T @ (w[:, None] * x2)
    a = np.linalg.inv(xtx)
    beta = a @ (x2.T @ (w * adj))
    u2 = adj - x2 @ beta
    u1 = np.where(treat, 0.0, adj)
    z = design_matrix(sd)
    gamma = untreated_solve(z, ~treat, w[~treat], z.T @ (w[:, None] * x2), who)
    psi = x2 * (w * u2)[:, None]
    psi[~treat] -= (z[~treat] @ gamma) * (w[~treat] * u1[~treat])[:, None]
    ncl = int(sd.cluster_codes.max()) + 1
    s = np.column_stack([np.bincount(sd.cluster_codes, weights=psi[:, k], minlength=ncl)
                         for k in range(psi.shape[1])])
    cov = a @ (s.T @ s) @ a
    spec = {"design": "did2s", "outcome": sd.outcome, "cohort": sd.cohort,
            "never_treated": sd.never_treated, "unit": sd.unit, "time": sd.time,
            "event_time": event_time, "horizons": list(hz), "covariates": list(sd.covariates),
            "fe": list(sd.fe_cols), "weights": weights, "cluster": sd.cluster, "level": level}
    return TwoStageResults(
        params=pd.Series(beta, index=terms, dtype=float),
        cov=pd.DataFrame(cov, index=terms, columns=terms), nobs=len(sd.frame),
        df_inference=None, cov_type=f"Gardner GMM, clustered by {sd.cluster}",
        estimator="TwoStageDiD", spec=spec, n_clusters=ncl,
        fit_stats={"n_treated": int(treat.sum()), "n_untreated": int((~treat).sum())},
        dropped=sd.dropped, warnings=sd.notes, ts={"horizons": hz, "level": level})
