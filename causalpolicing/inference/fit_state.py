"""What post-estimation needs from a fit: one frozen, typed state per estimator family.

A results object of :func:`causalpolicing.feols` (and ``between``,
``first_difference``) carries a :class:`LinearFitState`, one of
:func:`causalpolicing.fepois` a :class:`PoissonFitState`, one of
:func:`causalpolicing.fenegbin` or :func:`causalpolicing.febinomial` a
:class:`GLMFitState`, as the documented attribute ``fit_state``. New covariances
(``with_cov``), the bootstraps
(``bootstrap_parts()``) and the refuters read it; nothing else does, and nothing
changes it: it is built once, with the fit, before the results.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
>>> st = res.fit_state
>>> type(st).__name__, st.n_input, len(st.positions) == res.nobs
('LinearFitState', 858, True)
>>> sorted(st.codes)
['canton', 'year']
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..core.fe_structure import factorize
from ..data.panel import Panel
from ..exceptions import SpecError
from .covariance import VcovInput, VcovRequest

__all__ = ["GLMFitState", "LinearFitState", "PoissonFitState", "SupportsBootstrap",
           "WildBootstrapParts", "frame_of_data", "is_panel", "one_way_cluster"]


def is_panel(data: Any) -> bool:
    """Whether ``data`` is a :class:`~causalpolicing.Panel`."""
    return isinstance(data, Panel)


def frame_of_data(data: Any) -> pd.DataFrame:
    """A Panel's frame, or ``data`` itself."""
    return data.to_frame() if isinstance(data, Panel) else data


@dataclass(frozen=True, kw_only=True)
class LinearFitState:
    """The state of a linear fit (frozen; read by ``with_cov``, the wild bootstrap and
    the refuters).

    Attributes
    ----------
    vcov_input
        Regressors, residuals, bread, fixed-effect codes and jackknife refits (the
        covariance registry's input).
    codes
        Integer codes of the cluster, time and fixed-effect columns the fit stored,
        by column name, on the estimation rows.
    positions
        Positions of the estimation rows in the data given to ``fit``.
    n_input
        Rows of the data given to ``fit``.
    fit_warnings
        The fit's own warnings (not those of its covariance), kept when the
        covariance is changed.
    """

    vcov_input: VcovInput
    codes: Mapping[str, np.ndarray]
    positions: np.ndarray
    n_input: int
    fit_warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))
        object.__setattr__(self, "fit_warnings", tuple(self.fit_warnings))

    def with_fit_warnings(self, messages: tuple[str, ...] | list[str]) -> Any:
        """A copy with ``fit_warnings`` set (the fit builds its state before it knows them)."""
        return dataclasses.replace(self, fit_warnings=tuple(messages))

    def codes_for(self, request: VcovRequest, data: Any = None) -> dict[str, np.ndarray]:
        """Codes of the cluster/time columns ``request`` names: stored ones, or read from
        ``data`` (the frame or Panel the model was fit on) for the others."""
        needed = list(request.clusters) + ([request.time] if request.time else [])
        out: dict[str, np.ndarray] = {}
        for c in needed:
            if c in self.codes:
                out[c] = self.codes[c]
                continue
            if data is None:
                raise SpecError(
                    f"The fit did not store column {c!r}; pass the data it was fit on: "
                    f"res.with_cov(..., data=df). Stored: {sorted(self.codes)}."
                )
            frame = frame_of_data(data)
            if len(frame) != self.n_input or c not in frame.columns:
                raise SpecError(
                    f"data must be the frame the model was fit on ({self.n_input} rows) and "
                    f"contain {c!r}."
                )
            values = frame[c].iloc[self.positions]
            if values.isna().any():
                raise SpecError(
                    f"Column {c!r} is missing for {int(values.isna().sum())} estimation rows; "
                    "refit with it in vcov= so those rows are dropped consistently."
                )
            out[c] = factorize(values)[0]
        return out


@dataclass(frozen=True, kw_only=True)
class PoissonFitState(LinearFitState):
    """The state of a Poisson fit: :class:`LinearFitState` (with the IRLS-weighted
    regressors and working residuals in ``vcov_input``) plus the re-estimations the
    bootstraps need and the raw regressors.

    Attributes
    ----------
    refit
        ``refit(mask=None, mult=None)``: the estimate on a subset of rows and/or with
        each row's weight multiplied (``None`` when the fit fails).
    restricted
        ``restricted(j, value)``: scores and inverse Hessian at the estimate
        constrained to ``beta_j = value``.
    regressors
        The raw regressors of the estimation rows (kept columns).
    param_names
        The parameter names (columns of ``regressors``).
    notes
        Notes on the data (e.g. a non-integer outcome), part of ``fit_warnings``.
    """

    refit: Callable[..., np.ndarray | None]
    restricted: Callable[[int, float], tuple[np.ndarray, np.ndarray]]
    regressors: np.ndarray
    param_names: pd.Index
    notes: tuple[str, ...] = ()

    @functools.cached_property
    def regressor_stats(self) -> tuple[pd.Series, pd.Series]:
        """Standard deviation (ddof=1) and mean of each regressor, computed on first use."""
        x, n = self.regressors, self.regressors.shape[0]
        sd = pd.Series(x.std(axis=0, ddof=1) if n > 1 else np.full(x.shape[1], np.nan),
                       index=self.param_names, name="sd")
        return sd, pd.Series(x.mean(axis=0), index=self.param_names, name="mean")


@dataclass(frozen=True, kw_only=True)
class WildBootstrapParts:
    """What :func:`~causalpolicing.inference.wild_bootstrap` needs from a linear fit
    (``FEOLSResults.bootstrap_parts``).

    Attributes
    ----------
    params
        The estimates.
    vcov_input
        Within-transformed regressors and residuals (times the square root of the
        weights), bread and fixed-effect codes.
    cluster
        The column drawn by (``"row"``: single rows).
    cluster_codes
        Its integer codes (0..G-1) on the estimation rows.
    ssc
        The fit's small-sample convention.
    weights
        The fit's weights column (``None``: unweighted).
    sqrt_weights
        Square roots of the weights on the estimation rows, when the fit is weighted and
        the data it was fit on were given (``None`` otherwise).
    """

    params: pd.Series
    vcov_input: VcovInput
    cluster: str
    cluster_codes: np.ndarray
    ssc: str
    weights: str | None = None
    sqrt_weights: np.ndarray | None = None


def one_way_cluster(vcov_spec: Any) -> str | None:
    """The cluster column of a fit's ``spec["vcov"]`` when it is one-way CRV1/CRV3.

    >>> one_way_cluster({"CRV1": "unit"}), one_way_cluster({"CRV1": "unit+year"})
    ('unit', None)
    """
    if isinstance(vcov_spec, Mapping) and len(vcov_spec) == 1:
        ((name, val),) = vcov_spec.items()
        if name in ("CRV1", "CRV3") and isinstance(val, str):
            clusters = val.split("+")
            if len(clusters) == 1:
                return clusters[0]
    return None


@runtime_checkable
class SupportsBootstrap(Protocol):
    """Results that a bootstrap can run on: ``FEOLSResults`` (wild cluster bootstrap) and
    ``FEPoissonResults`` (score and pairs bootstraps)."""

    def bootstrap_parts(self, cluster: str | None = None, *, data: Any = None) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class GLMFitState:
    """The state of a maximum-likelihood GLM fit (``fenegbin``, ``febinomial``).

    Attributes
    ----------
    family, link
        ``"negative binomial (NB2)"``/``"log"`` or ``"binomial"``/``"logit"``.
    converged
        Whether the optimiser reached its tolerance.
    collinear
        Regressors dropped as collinear or absorbed, with the reason.
    fe_names, fe_levels
        The fixed effects and their levels (after dropping uninformative ones).
    regressor_sd
        Standard deviation of each raw regressor in the estimation sample.
    alpha, alpha_se
        NB2 dispersion and its standard error (NaN for binomial).
    """

    family: str
    link: str
    converged: bool
    collinear: Mapping[str, str]
    fe_names: tuple[str, ...]
    fe_levels: tuple[int, ...]
    regressor_sd: Mapping[str, float]
    alpha: float = float("nan")
    alpha_se: float = float("nan")

    def __post_init__(self) -> None:
        object.__setattr__(self, "collinear", MappingProxyType(dict(self.collinear)))
        object.__setattr__(self, "regressor_sd", MappingProxyType(dict(self.regressor_sd)))
