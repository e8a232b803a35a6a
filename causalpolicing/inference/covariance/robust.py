r"""Covariance types without clusters: ``iid``, ``HC0``, ``HC1`` (= ``"hetero"``), ``HC3``.

:math:`N` observations, :math:`K` the parameter count of the small-sample
convention (``ssc=``, see :mod:`causalpolicing.inference.vcov`), :math:`B`
the bread :math:`(X'X)^{-1}` (the inverse Hessian for Poisson), :math:`s_i`
the score of row :math:`i`.

>>> from causalpolicing.inference.covariance.robust import HC1
>>> HC1.name, HC1.aliases, HC1.families
('HC1', ('hetero', 'robust'), ('linear', 'poisson', 'glm'))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...exceptions import SpecError
from ._base import Covariance, Sandwich, SandwichPart, VcovRequest

__all__ = ["IID", "HC0", "HC1", "HC3"]

_HC_FACTORS = {"fixest": "N/(N-K)", "stata_xtreg": "N/(N-K)", "stata_areg": "N/(N-K)",
               "linearmodels": "N/(N-K)", "none": "1"}


def _hetero(s: Sandwich, scores: np.ndarray) -> SandwichPart:
    n, ssc = s.n, s.ssc
    meat = scores.T @ scores
    ssc_factor = 1.0 if ssc == "none" else n / (n - s.k_adj)
    cov = ssc_factor * s.inp.bread @ meat @ s.inp.bread
    return SandwichPart(cov, ssc_factor, s.df, s.request)


class IID(Covariance):
    r"""Homoskedastic errors: :math:`\hat\sigma^2 B` with :math:`\hat\sigma^2 =
    RSS/(N-K)` (``ssc="none"``: :math:`RSS/N`). For Poisson the dispersion is fixed
    at one (the inverse Fisher information times the convention's factor); for the
    GLMs the model-based (inverse information) covariance of statsmodels."""

    name = "iid"
    kind = "iid"
    aliases = ("homoskedastic", "unadjusted")
    families = ("linear", "poisson", "glm")
    conventions = {"fixest": "1/(N-K)", "stata_xtreg": "1/(N-K)", "stata_areg": "1/(N-K)",
                   "linearmodels": "1/(N-K)", "none": "1/N", "glm": "inverse information"}
    examples = ("'iid'",)
    description = "homoskedastic errors"

    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        inp, n = s.inp, s.n
        rss = float(inp.resid @ inp.resid)
        factor = 1.0 / n if s.ssc == "none" else 1.0 / (n - s.k_adj)
        cov = inp.bread * (rss * factor)
        return SandwichPart(cov, factor * n, s.df, s.request)

    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        return "nonrobust", {}, False


class HC0(Covariance):
    r"""The heteroskedasticity-robust sandwich without a small-sample factor,
    :math:`B (\sum_i s_i s_i') B`, by name only (statsmodels' ``cov_type="HC0"``).
    For the GLMs; for ``feols``/``fepois`` ask ``"hetero"`` with ``ssc="none"``."""

    name = "HC0"
    kind = "hetero"
    families = ("glm",)
    conventions = {"glm": "1"}
    examples = ("'HC0'",)
    description = "White sandwich, no small-sample factor (GLMs)"

    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        return "HC0", {}, False


class HC1(Covariance):
    r"""Heteroskedasticity-robust (White): :math:`c\, B (\sum_i s_i s_i') B` with
    :math:`c = N/(N-K)` (``ssc="none"``: 1). ``"hetero"`` and ``"robust"`` mean HC1
    for every estimator, as in fixest/pyfixest. For the GLMs :math:`K` counts every
    parameter (slopes and dummies) and statsmodels' HC0 is multiplied by
    :math:`N/(N-K)` (its own ``"HC1"`` adds no factor for these non-OLS models)."""

    name = "HC1"
    kind = "hetero"
    aliases = ("hetero", "robust")
    families = ("linear", "poisson", "glm")
    conventions = {**_HC_FACTORS, "glm": "N/(N-K)"}
    examples = ("'hetero' (= 'HC1')",)
    description = "White/HC1 robust"

    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        return _hetero(s, s.scores)

    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        # statsmodels' cov_type="HC1" equals HC0 for these (non-OLS) models; the
        # N/(N-K) factor is applied in from_statsmodels
        return "HC0", {}, False

    @classmethod
    def from_statsmodels(cls, request: VcovRequest, cov: np.ndarray, sm_res: Any, *, n: int,
                         n_params: int, cluster_codes: Mapping[str, np.ndarray]
                         ) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None, str,
                                    list[str]]:
        return cov * n / (n - n_params), None, None, request.label(), []


class HC3(Covariance):
    r"""Leverage-corrected HC: scores divided by :math:`1 - h_{ii}`
    (:math:`h_{ii} = x_i' B x_i`), then as HC1. Least squares without fixed effects
    and without instruments only (the leverage would have to include the fixed
    effects' own; pyfixest refuses it too)."""

    name = "HC3"
    kind = "hetero"
    families = ("linear",)
    conventions = dict(_HC_FACTORS)
    examples = ("'HC3'",)
    description = "leverage-corrected robust (OLS)"

    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        inp = s.inp
        if inp.is_iv:
            raise SpecError("HC3 is available for OLS only; use 'hetero' or a CRV for IV.")
        if inp.fe_codes:
            raise SpecError(
                "HC3 is not available with fixed effects (the leverage would have to "
                "include the fixed effects' own leverage; pyfixest refuses it too). Use "
                "'hetero', a clustered covariance, or the fixed effects as dummies."
            )
        lev = np.einsum("ij,jk,ik->i", inp.regressors, inp.bread, inp.regressors)
        if np.any(lev >= 1 - 1e-12):
            raise SpecError(
                "HC3 is undefined: some observations have leverage 1 (e.g. fixed-effect "
                "levels with few rows). Use 'hetero' or a clustered covariance."
            )
        return _hetero(s, s.scores / (1.0 - lev)[:, None])
