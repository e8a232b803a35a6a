r"""Cluster-robust covariance types: ``CRV1`` (one- or two-way) and ``CRV3`` (jackknife).

:math:`G` clusters (the smaller dimension for two-way clustering), :math:`S_g`
the scores summed within cluster :math:`g`, :math:`B` the bread. The
small-sample factor is :math:`\frac{G}{G-1}\frac{N-1}{N-K}` under the fixest and
Stata conventions, :math:`N/(N-K)` under ``"linearmodels"``, 1 under ``"none"``
(:mod:`causalpolicing.inference.vcov`); inference uses the t distribution with
:math:`G-1` degrees of freedom.

>>> from causalpolicing.inference.covariance.clustered import CRV1
>>> CRV1.from_value("unit+year", {"CRV1": "unit+year"})
VcovRequest(name='CRV1', clusters=('unit', 'year'), time=None, lag=None)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...core.fe_structure import factorize
from ...exceptions import FewClustersWarning, SpecError
from ._base import (
    FEW_CLUSTERS,
    Covariance,
    Sandwich,
    SandwichPart,
    VcovRequest,
    cluster_sums,
)

__all__ = ["CRV1", "CRV3"]

_CRV_FACTORS = {"fixest": "G/(G-1) (N-1)/(N-K)", "stata_xtreg": "G/(G-1) (N-1)/(N-K)",
                "stata_areg": "G/(G-1) (N-1)/(N-K)", "linearmodels": "N/(N-K)", "none": "1"}


class _Clustered(Covariance):
    """Shared parsing, labels and cluster bookkeeping of CRV1 and CRV3."""

    kind = "cluster"
    options = ("clusters",)
    needs_value = True
    max_ways = 2

    @classmethod
    def from_value(cls, value: Any, given: Mapping[str, Any]) -> VcovRequest:
        name = cls.name
        if isinstance(value, str):
            cols = tuple(c.strip() for c in value.split("+"))
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            cols = tuple(value)
        else:
            raise SpecError(
                f"The cluster variable(s) of {name} must be a column name, 'a+b' or a list "
                f"of names; got {value!r}."
            )
        if not cols or any(not c for c in cols) or len(set(cols)) != len(cols):
            raise SpecError(f"Invalid cluster variables {value!r} for {name}.")
        if len(cols) > 2:
            raise SpecError(f"At most two-way clustering is supported; got {cols}.")
        if len(cols) > cls.max_ways:
            raise SpecError(f"{name} supports one-way clustering only; use CRV1 for two-way.")
        return VcovRequest(name, cols)

    @classmethod
    def label(cls, request: VcovRequest) -> str:
        return f"{cls.name} by {' + '.join(request.clusters)}"

    @classmethod
    def as_spec(cls, request: VcovRequest) -> str | dict[str, Any]:
        return {cls.name: "+".join(request.clusters)}

    @classmethod
    def _meat(cls, s: Sandwich, ssc_factor: float) -> tuple[np.ndarray, list[str]]:
        raise NotImplementedError

    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        codes, ssc = s.codes, s.ssc
        gs = tuple(int(c.max()) + 1 for c in codes)
        g_min = min(gs)
        if g_min < 2:
            raise SpecError(
                f"Clustering by {' + '.join(s.request.clusters)} needs at least two clusters; "
                f"found {g_min}."
            )
        g_adj = 1.0 if ssc in ("linearmodels", "none") else g_min / (g_min - 1)
        ssc_factor = s.adj * g_adj
        cov, notes = cls._meat(s, ssc_factor)
        if s.warn and g_min < FEW_CLUSTERS:
            clusters = s.request.clusters
            msg = (
                f"Only {g_min} clusters ({' + '.join(clusters)}): cluster-robust "
                f"standard errors are too small with fewer than {FEW_CLUSTERS} clusters. "
                "Prefer CRV3 or the wild cluster bootstrap: in Python "
                f"res.with_cov({{'CRV3': '{clusters[0]}'}}) or "
                "cp.inference.wild_bootstrap(res, 'x', reps=9999); on the command line "
                "`causalpolicing analyze ... --vcov CRV3` or `--bootstrap 9999`; in a spec "
                f"`vcov = {{CRV3 = \"{clusters[0]}\"}}` or `bootstrap = 9999`."
            )
            if cls.name == "CRV1":
                # (stacklevel: this method, compute_vcov, its caller)
                warnings.warn(msg, FewClustersWarning, stacklevel=4)
            notes.append(msg)
        return SandwichPart(cov, ssc_factor, g_min - 1, s.request, gs, tuple(notes))


class CRV1(_Clustered):
    r"""Cluster-robust (Liang-Zeger): :math:`c\, B (\sum_g S_g S_g') B`. Two-way
    (Cameron, Gelbach and Miller 2011): :math:`V_1 + V_2 - V_{12}`, the last
    clustered by the intersection; when that is not positive semi-definite its
    negative eigenvalues are set to zero and the results' ``warnings`` say so. For
    the GLMs, statsmodels' ``cov_type="cluster"`` (its factor
    :math:`\frac{G}{G-1}\frac{N-1}{N-K}`)."""

    name = "CRV1"
    families = ("linear", "poisson", "glm")
    conventions = {**_CRV_FACTORS, "glm": "G/(G-1) (N-1)/(N-K) (statsmodels)"}
    examples = ("{'CRV1': 'unit'}", "{'CRV1': 'unit+year'}")
    description = "cluster-robust, one- or two-way"

    @classmethod
    def _meat(cls, s: Sandwich, ssc_factor: float) -> tuple[np.ndarray, list[str]]:
        codes, k, bread = s.codes, s.k, s.inp.bread
        notes: list[str] = []
        terms: list[tuple[float, np.ndarray]] = [(1.0, c) for c in codes]
        if len(codes) == 2:
            inter, _ = factorize([codes[0], codes[1]])
            terms.append((-1.0, inter))
        meat = np.zeros((k, k))
        for sign, c in terms:
            sums = cluster_sums(s.scores, c)
            meat += sign * (sums.T @ sums)
        cov = ssc_factor * bread @ meat @ bread
        if len(codes) == 2:
            cov = (cov + cov.T) / 2
            vals, vecs = np.linalg.eigh(cov)
            if vals.min() < 0:
                notes.append(
                    "The two-way clustered covariance was not positive semi-definite; "
                    f"{int((vals < 0).sum())} negative eigenvalue(s) set to zero "
                    "(Cameron, Gelbach and Miller 2011)."
                )
                cov = (vecs * np.clip(vals, 0, None)) @ vecs.T
        return cov, notes

    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        codes = [cluster_codes[c] for c in request.clusters]
        groups = codes[0] if len(codes) == 1 else np.column_stack(codes)
        return "cluster", {"groups": groups}, True

    @classmethod
    def from_statsmodels(cls, request: VcovRequest, cov: np.ndarray, sm_res: Any, *, n: int,
                         n_params: int, cluster_codes: Mapping[str, np.ndarray]
                         ) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None, str,
                                    list[str]]:
        notes: list[str] = []
        gs = tuple(int(cluster_codes[c].max()) + 1 for c in request.clusters)
        ncl = gs[0] if len(gs) == 1 else gs
        if min(gs) < FEW_CLUSTERS:
            msg = (f"Only {min(gs)} clusters ({' + '.join(request.clusters)}): cluster-robust "
                   f"standard errors are too small with fewer than {FEW_CLUSTERS} clusters. "
                   "Read the p-values with care (t with G-1 degrees of freedom is used).")
            warnings.warn(msg, FewClustersWarning, stacklevel=5)
            notes.append(msg)
        return cov, min(gs) - 1, ncl, request.label(), notes


class CRV3(_Clustered):
    r"""Leave-one-cluster-out jackknife (one-way), as pyfixest:
    :math:`c \sum_g (\hat\beta_{-g}-\hat\beta)(\hat\beta_{-g}-\hat\beta)'`, each
    :math:`\hat\beta_{-g}` a refit without cluster :math:`g` (on the demeaned data
    when every fixed effect is nested in the clusters)."""

    name = "CRV3"
    families = ("linear", "poisson")
    conventions = dict(_CRV_FACTORS)
    examples = ("{'CRV3': 'unit'}",)
    description = "leave-one-cluster-out jackknife"
    max_ways = 1

    @classmethod
    def _meat(cls, s: Sandwich, ssc_factor: float) -> tuple[np.ndarray, list[str]]:
        inp = s.inp
        c = s.codes[0]
        g = int(c.max()) + 1
        fast = all(s.nested) and inp.nested_fast_jackknife is not None
        fn = inp.nested_fast_jackknife if fast else inp.jackknife
        if fn is None:
            raise SpecError("CRV3 needs a model that can be re-estimated without a cluster.")
        dev = np.zeros((g, s.k))
        for j in range(g):
            dev[j] = fn(c != j) - inp.params
        return ssc_factor * (dev.T @ dev), []
