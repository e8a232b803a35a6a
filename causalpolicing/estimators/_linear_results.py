"""Results of the linear fixed-effects estimators (:func:`causalpolicing.feols`,
``between``, ``first_difference``): :class:`FEOLSResults`, new covariances without a
refit (:meth:`FEOLSResults.with_cov`) and the parts of the wild cluster bootstrap
(:meth:`FEOLSResults.bootstrap_parts`), all read from the fit's frozen
:class:`~causalpolicing.inference.fit_state.LinearFitState`.

>>> import causalpolicing as cp, numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"g": np.repeat(np.arange(50), 4), "x": rng.normal(size=200)})
>>> df["y"] = df["x"] + rng.normal(size=200)
>>> res = cp.feols("y ~ x | g", df, vcov="iid")
>>> type(res).__name__, type(res.fit_state).__name__
('FEOLSResults', 'LinearFitState')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from ..inference.fit_state import (
    LinearFitState,
    WildBootstrapParts,
    frame_of_data,
    one_way_cluster,
)
from ..inference.vcov import VcovRequest, VcovResult, check_ssc, check_vcov, compute_vcov
from ..results import BaseResults
from ._common import _ncl, _reissue

__all__ = ["FEOLSResults", "relabel"]


# ---------------------------------------------------------------------- results
class FEOLSResults(BaseResults):
    """Results of :class:`FEOLS` (the results contract plus fixed-effects and IV details).

    Beyond :class:`~causalpolicing.results.BaseResults`: ``fixed_effects``,
    ``first_stage`` (IV), ``collinear`` (dropped regressors), ``r2``,
    ``within_r2``, :meth:`with_cov`, :meth:`bootstrap_parts` and ``fit_state`` (what
    post-estimation needs, a frozen :class:`~causalpolicing.inference.fit_state.LinearFitState`).
    """

    __slots__ = ("_fe_table", "_first_stage", "_collinear", "_fit_state")

    def __init__(self, *, fe_table: pd.DataFrame, first_stage: pd.DataFrame | None,
                 collinear: Mapping[str, str], fit_state: LinearFitState,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(fit_state, LinearFitState):
            raise SpecError(f"fit_state must be a LinearFitState; got {type(fit_state).__name__}.")
        object.__setattr__(self, "_fe_table", fe_table.copy())
        object.__setattr__(self, "_first_stage", None if first_stage is None
                           else first_stage.copy())
        object.__setattr__(self, "_collinear", dict(collinear))
        object.__setattr__(self, "_fit_state", fit_state)

    @property
    def fit_state(self) -> LinearFitState:
        """What post-estimation needs (design, residuals, bread, stored codes, rows used):
        a frozen :class:`~causalpolicing.inference.fit_state.LinearFitState`."""
        return self._fit_state

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """Fixed effects: ``name`` and ``levels`` (after dropping rows), a copy."""
        return self._fe_table.copy()

    @property
    def first_stage(self) -> pd.DataFrame | None:
        """IV first-stage diagnostics, one row per endogenous regressor (``None`` for OLS).

        Columns: ``endog``, ``partial_f`` (Wald statistic of the excluded instruments
        divided by their number, with the model's covariance), ``df_num``,
        ``df_denom`` (``None``: chi-squared based), ``p_value``, ``effective_f``
        (Olea-Pflueger, one endogenous regressor only, robust covariance when the
        model's is iid), ``cragg_donald_f`` (Cragg-Donald minimum-eigenvalue F of
        all endogenous regressors jointly, iid-based, the same on every row),
        ``coefficients`` (dict of excluded-instrument coefficients). Not computed:
        Kleibergen-Paap rk statistics, Sanderson-Windmeijer conditional F.
        """
        return None if self._first_stage is None else self._first_stage.copy()

    @property
    def collinear(self) -> dict[str, str]:
        """Regressors dropped as collinear or absorbed, with the reason."""
        return dict(self._collinear)

    @property
    def r2(self) -> float:
        """R-squared (fixed effects included in the fit)."""
        return float(self._fit_stats["r2"])

    @property
    def within_r2(self) -> float:
        """R-squared of the within (demeaned) regression."""
        return float(self._fit_stats["within_r2"])

    @property
    def ssc(self) -> str:
        """Small-sample convention used for the covariance."""
        return str(self._spec["ssc"])

    def with_cov(self, vcov: str | Mapping[str, Any], *, ssc: str | None = None,
                 data: pd.DataFrame | None = None) -> FEOLSResults:
        """The same estimates with another covariance (a new results object, no refit).

        Parameters
        ----------
        vcov
            As in :func:`feols`.
        ssc
            Small-sample convention (default: the one of this fit).
        data
            The data frame the model was fit on; needed only when clustering by a
            column the fit did not use (cluster variables and fixed effects are stored).

        Examples
        --------
        >>> import causalpolicing as cp, numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> df = pd.DataFrame({"g": np.repeat(np.arange(50), 4), "x": rng.normal(size=200)})
        >>> df["y"] = df["x"] + rng.normal(size=200)
        >>> res = cp.feols("y ~ x | g", df, vcov="iid")
        >>> res.with_cov({"CRV1": "g"}).cov_type
        'CRV1 by g'
        """
        req = check_vcov(vcov, family="linear", estimator=self.estimator)
        ssc_ = check_ssc(ssc if ssc is not None else self.ssc)
        st = self._fit_state
        codes = st.codes_for(req, data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vr = compute_vcov(req, st.vcov_input, ssc=ssc_, cluster_codes=codes,
                              time_codes=codes.get(req.time) if req.time else None)
        msgs = _reissue(caught)
        spec = self.spec
        spec.update({"vcov": req.as_spec(), "ssc": ssc_, "vcov_source": "with_cov"})
        return _make_results(self, vr, spec, extra_warnings=msgs)

    def bootstrap_parts(self, cluster: str | None = None, *, data: pd.DataFrame | Any = None
                        ) -> WildBootstrapParts:
        """What :func:`~causalpolicing.inference.wild_bootstrap` needs from this fit.

        Parameters
        ----------
        cluster
            The column to draw by; default the fit's one-way cluster variable, or single
            rows. It must be stored with the fit (a cluster or fixed-effect variable) or
            be in ``data``.
        data
            The frame (or Panel) the model was fit on: needed for a cluster column the fit
            did not store, and for the weights of a weighted fit.

        Examples
        --------
        >>> import causalpolicing as cp, numpy as np, pandas as pd
        >>> rng = np.random.default_rng(1)
        >>> df = pd.DataFrame({"g": np.repeat(np.arange(50), 4), "x": rng.normal(size=200)})
        >>> df["y"] = df["x"] + rng.normal(size=200)
        >>> parts = cp.feols("y ~ x | g", df, vcov={"CRV1": "g"}).bootstrap_parts()
        >>> parts.cluster, int(parts.cluster_codes.max()) + 1
        ('g', 50)
        """
        st = self._fit_state
        if cluster is None:
            cluster = one_way_cluster(self._spec["vcov"])
        if cluster is None:
            label, codes = "row", np.arange(st.vcov_input.nobs, dtype=np.int64)
        else:
            if not isinstance(cluster, str):
                raise SpecError(f"cluster must be a column name; got {cluster!r}.")
            label = cluster
            codes = np.asarray(st.codes_for(VcovRequest("CRV1", (cluster,)), data)[cluster],
                               dtype=np.int64)
        wcol = self._spec.get("weights")
        sqrt_w = None
        if wcol is not None and data is not None:
            frame = frame_of_data(data)
            if wcol in frame.columns and len(frame) == st.n_input:
                sqrt_w = np.sqrt(frame[wcol].to_numpy(dtype=float)[st.positions])
        return WildBootstrapParts(params=self.params, vcov_input=st.vcov_input, cluster=label,
                                  cluster_codes=codes, ssc=self.ssc, weights=wcol,
                                  sqrt_weights=sqrt_w)


def _make_results(prev: FEOLSResults, vr: VcovResult, spec: dict[str, Any],
                  extra_warnings: list[str]) -> FEOLSResults:
    names = list(prev._params.index)
    st = prev._fit_state
    fit_stats = dict(prev._fit_stats)
    return FEOLSResults(
        params=prev._params,
        cov=pd.DataFrame(vr.cov, index=names, columns=names),
        nobs=prev.nobs,
        df_inference=vr.df,
        cov_type=vr.label,
        estimator=prev.estimator,
        spec=spec,
        n_clusters=_ncl(vr),
        fit_stats=fit_stats,
        dropped=prev._dropped,
        warnings=st.fit_warnings + tuple(vr.notes) + tuple(
            m for m in extra_warnings if m not in vr.notes),
        fe_table=prev._fe_table,
        first_stage=prev._first_stage,
        collinear=prev._collinear,
        fit_state=st,
    )


def relabel(res: FEOLSResults, estimator: str, spec_update: Mapping[str, Any],
            dropped: pd.DataFrame | None = None) -> FEOLSResults:
    """A copy of ``res`` with another estimator name, extra spec entries and optionally
    another drop log (for wrappers such as the between and first-difference estimators)."""
    spec = res.spec
    spec.update(spec_update)
    return FEOLSResults(
        params=res._params, cov=res._cov, nobs=res.nobs, df_inference=res.df_inference,
        cov_type=res.cov_type, estimator=estimator, spec=spec, n_clusters=res.n_clusters,
        fit_stats=dict(res._fit_stats), dropped=res._dropped if dropped is None else dropped,
        warnings=res.warnings,
        fe_table=res._fe_table, first_stage=res._first_stage, collinear=res._collinear,
        fit_state=res._fit_state,
    )
