"""Results of :func:`causalpolicing.fepois`: :class:`FEPoissonResults`, new covariances
without a refit (:meth:`FEPoissonResults.with_cov`) and the parts of the score and pairs
bootstraps (:meth:`FEPoissonResults.bootstrap_parts`), all read from the fit's frozen
:class:`~causalpolicing.inference.fit_state.PoissonFitState`.

>>> import causalpolicing as cp
>>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year",
...                 cp.datasets.load("simulated_cantons"), vcov="iid")
>>> type(res).__name__, type(res.fit_state).__name__
('FEPoissonResults', 'PoissonFitState')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from ..inference.count_bootstrap import BootstrapParts
from ..inference.fit_state import PoissonFitState, one_way_cluster
from ..inference.vcov import VcovInput, VcovRequest, check_ssc, check_vcov
from ..results import BaseResults
from ._common import _ncl, _reissue
from ._poisson_irls import _vcov

__all__ = ["FEPoissonResults"]


# --------------------------------------------------------------------- results
class FEPoissonResults(BaseResults):
    """Results of :class:`FEPoisson`: the results contract plus count-model details.

    Beyond :class:`~causalpolicing.results.BaseResults`: ``fixed_effects``,
    ``collinear``, ``regressor_sd`` and ``regressor_mean`` (of the raw
    regressors in the estimation sample, for effects per standard deviation),
    ``deviance``, ``pseudo_r2``, ``loglik``, ``converged``, :meth:`with_cov`,
    :meth:`bootstrap_parts` and ``fit_state`` (what post-estimation needs, a frozen
    :class:`~causalpolicing.inference.fit_state.PoissonFitState`).
    """

    __slots__ = ("_fe_table", "_collinear", "_fit_state")

    def __init__(self, *, fe_table: pd.DataFrame, collinear: Mapping[str, str],
                 fit_state: PoissonFitState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(fit_state, PoissonFitState):
            raise SpecError(f"fit_state must be a PoissonFitState; got "
                            f"{type(fit_state).__name__}.")
        object.__setattr__(self, "_fe_table", fe_table.copy())
        object.__setattr__(self, "_collinear", dict(collinear))
        object.__setattr__(self, "_fit_state", fit_state)

    @classmethod
    def _build(cls, *, fe_table: pd.DataFrame, collinear: Mapping[str, str],
               fit_state: PoissonFitState, **kwargs: Any) -> FEPoissonResults:
        """Internal: ``__init__`` without the defensive copies (see ``BaseResults._adopt``).

        ``fe_table`` must be a cached template or another result's table (neither is
        ever handed out uncopied); ``params``, ``cov`` and ``dropped`` new or another
        result's.
        """
        obj = object.__new__(cls)
        obj._adopt(**kwargs)
        object.__setattr__(obj, "_fe_table", fe_table)
        object.__setattr__(obj, "_collinear", dict(collinear))
        object.__setattr__(obj, "_fit_state", fit_state)
        return obj

    @property
    def fit_state(self) -> PoissonFitState:
        """What post-estimation needs (IRLS-weighted design, working residuals, bread,
        stored codes, rows used, refits): a frozen
        :class:`~causalpolicing.inference.fit_state.PoissonFitState`."""
        return self._fit_state

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """Fixed effects: ``name`` and ``levels`` (after dropping rows), a copy."""
        return self._fe_table.copy()

    @property
    def collinear(self) -> dict[str, str]:
        """Regressors dropped as collinear or absorbed, with the reason."""
        return dict(self._collinear)

    @property
    def regressor_sd(self) -> pd.Series:
        """Standard deviation (ddof=1, unweighted) of each regressor in the estimation sample."""
        # (computed on first use and shared by with_cov copies: the fit keeps the
        # regressors for its refits anyway)
        return self._fit_state.regressor_stats[0].copy()

    @property
    def regressor_mean(self) -> pd.Series:
        """Mean of each regressor in the estimation sample."""
        return self._fit_state.regressor_stats[1].copy()

    @property
    def deviance(self) -> float:
        """Deviance of the fitted model."""
        return float(self._fit_stats["deviance"])

    @property
    def pseudo_r2(self) -> float:
        """McFadden pseudo-R² against the constant-only model (with the offset)."""
        return float(self._fit_stats["pseudo_r2"])

    @property
    def loglik(self) -> float:
        """Poisson log-likelihood (pseudo log-likelihood for non-integer outcomes)."""
        return float(self._fit_stats["loglik"])

    @property
    def converged(self) -> bool:
        """Whether IRLS reached its tolerance."""
        return bool(self._fit_stats["converged"])

    @property
    def ssc(self) -> str:
        """Small-sample convention used for the covariance."""
        return str(self._spec["ssc"])

    def bootstrap_parts(self, cluster: str | None = None, *, data: pd.DataFrame | None = None
                        ) -> BootstrapParts:
        """What :func:`~causalpolicing.inference.count_bootstrap.poisson_bootstrap` needs.

        ``cluster`` defaults to the fit's one-way cluster variable, or single rows.
        """
        st = self._fit_state
        vin: VcovInput = st.vcov_input
        if cluster is None:
            cluster = one_way_cluster(self._spec["vcov"])
        if cluster is None:
            codes, label = np.arange(vin.nobs), "row"
        else:
            if not isinstance(cluster, str):
                raise SpecError(f"cluster must be a column name; got {cluster!r}.")
            codes = st.codes_for(VcovRequest("CRV1", (cluster,)), data)[cluster]
            label = cluster
        refit = st.refit
        return BootstrapParts(
            params=self.params, scores=vin.regressors * vin.resid[:, None], bread=vin.bread,
            cluster_codes=codes, cluster=label, refit=lambda mult: refit(mult=mult),
            restricted=st.restricted)

    def with_cov(self, vcov: str | Mapping[str, Any], *, ssc: str | None = None,
                 data: pd.DataFrame | None = None) -> FEPoissonResults:
        """The same estimates with another covariance (a new results object, no refit).

        Parameters
        ----------
        vcov
            As in :func:`fepois`.
        ssc
            Small-sample convention (default: the one of this fit).
        data
            The frame the model was fit on; needed only to cluster by a column the
            fit did not store (cluster variables and fixed effects are stored).

        Examples
        --------
        >>> import causalpolicing as cp
        >>> panel = cp.datasets.load("simulated_cantons")
        >>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel, vcov="iid")
        >>> res.with_cov("hetero").cov_type
        'HC1'
        """
        req = check_vcov(vcov, family="poisson", estimator="fepois")
        ssc_ = check_ssc(ssc if ssc is not None else self.ssc)
        st = self._fit_state
        codes = st.codes_for(req, data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vr = _vcov(req, st.vcov_input, ssc_, codes)
        msgs = _reissue(caught)
        spec = self.spec
        spec.update({"vcov": req.as_spec(), "ssc": ssc_, "vcov_source": "with_cov"})
        names = list(self._params.index)
        return FEPoissonResults._build(
            # (a copy of params: the new results must not share an Index object with this one)
            params=self._params.copy(), cov=pd.DataFrame(vr.cov, index=names, columns=names),
            nobs=self.nobs, df_inference=vr.df, cov_type=vr.label, estimator=self.estimator,
            spec=spec, n_clusters=_ncl(vr), fit_stats=dict(self._fit_stats),
            dropped=self._dropped,
            warnings=st.fit_warnings + tuple(vr.notes)
            + tuple(m for m in msgs if m not in vr.notes),
            fe_table=self._fe_table, collinear=self._collinear, fit_state=st,
        )
