"""The covariance registry: every type by name, one parser, the family table, the
computation (linear scores, or statsmodels for the GLMs) and the labels.

>>> from causalpolicing.inference.covariance.registry import VCOV_FAMILIES, parse_vcov
>>> VCOV_FAMILIES["glm"]
('iid', 'HC0', 'HC1', 'CRV1', 'HAC')
>>> parse_vcov({"HAC": {"lags": 2}})
VcovRequest(name='HAC', clusters=(), time=None, lag=2)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..._hints import did_you_mean
from ...exceptions import SpecError
from ._base import (
    DEFAULT_SSC,
    FAMILIES,
    Covariance,
    Sandwich,
    VcovInput,
    VcovRequest,
    VcovResult,
    check_ssc,
    nested,
    register,
    valid_text,
)
from .clustered import CRV1, CRV3
from .robust import HC0, HC1, HC3, IID
from .serial import DK, HAC

__all__ = [
    "COVARIANCE_TYPES",
    "VCOV_FAMILIES",
    "check_vcov",
    "compute_vcov",
    "cov_label",
    "finish_statsmodels_cov",
    "parse_vcov",
    "statsmodels_cov_args",
]

#: Every covariance type by name (classes; see :class:`Covariance`), in this order.
COVARIANCE_TYPES: dict[str, type[Covariance]] = {
    c.name: register(c) for c in (IID, HC0, HC1, HC3, CRV1, CRV3, DK, HAC)
}

#: Which covariance types each model family supports, derived from the classes'
#: ``families``. Every estimator belongs to one family (the estimator registry says
#: which), so a ``vcov`` is checked the same way in Python, in a spec, in a study file
#: and on the command line.
VCOV_FAMILIES: dict[str, tuple[str, ...]] = {
    fam: tuple(name for name, c in COVARIANCE_TYPES.items() if fam in c.families)
    for fam in FAMILIES
}

_ALIASES = {
    **{c.name.lower(): c.name for c in COVARIANCE_TYPES.values()},
    **{a.lower(): c.name for c in COVARIANCE_TYPES.values() for a in c.aliases},
}


def parse_vcov(vcov: str | Mapping[str, Any] | VcovRequest) -> VcovRequest:
    """Turn a user's ``vcov=`` argument into a :class:`VcovRequest` (every type's spelling).

    Raises
    ------
    SpecError
        For unknown names, missing cluster variables or wrong options.

    Examples
    --------
    >>> parse_vcov("hetero")
    VcovRequest(name='HC1', clusters=(), time=None, lag=None)
    >>> parse_vcov("nw")
    VcovRequest(name='HAC', clusters=(), time=None, lag=None)
    """
    if isinstance(vcov, VcovRequest):
        return vcov
    if isinstance(vcov, str):
        name = _ALIASES.get(vcov.strip().lower())
        if name is None:
            spellings = [s for c in COVARIANCE_TYPES.values() for s in (c.name, *c.aliases)]
            hint = did_you_mean(vcov.strip(), spellings, style="sentence")
            raise SpecError(f"Unknown covariance type vcov={vcov!r}. {valid_text()}{hint}")
        return COVARIANCE_TYPES[name].from_name(vcov)
    if isinstance(vcov, Mapping):
        if len(vcov) != 1:
            raise SpecError(
                f"vcov as a dict must have exactly one entry, got {dict(vcov)!r}. {valid_text()}"
            )
        ((key, value),) = vcov.items()
        name = _ALIASES.get(str(key).strip().lower())
        if name is None:
            raise SpecError(f"Unknown clustered covariance {key!r} in vcov={dict(vcov)!r}. "
                            f"{valid_text()}")
        return COVARIANCE_TYPES[name].from_value(value, vcov)
    raise SpecError(f"vcov must be a string or a dict; got {type(vcov).__name__}. {valid_text()}")


def check_vcov(vcov: Any, *, family: str, estimator: str = "this estimator") -> VcovRequest:
    """Parse ``vcov`` and check that the model family supports it.

    Returns the parsed request. Raises :class:`SpecError` naming the estimator, the
    covariance type and the types it does support.

    >>> check_vcov({"CRV1": "unit"}, family="glm", estimator="fenegbin").label()
    'CRV1 by unit'
    >>> check_vcov({"DK": "year"}, family="glm", estimator="fenegbin")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.SpecError: vcov={'DK': 'year'} (DK) is not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC.
    """
    if family not in VCOV_FAMILIES:
        raise SpecError(f"unknown model family {family!r}; known: {', '.join(VCOV_FAMILIES)}.")
    req = parse_vcov(vcov)
    if family not in COVARIANCE_TYPES[req.name].families:
        shown = (vcov.as_spec() if isinstance(vcov, VcovRequest)
                 else dict(vcov) if isinstance(vcov, Mapping) else vcov)
        raise SpecError(f"vcov={shown!r} ({req.name}) is not available for {estimator}; it "
                        f"takes {', '.join(VCOV_FAMILIES[family])}.")
    return req


def cov_label(request: VcovRequest, ssc: str = DEFAULT_SSC) -> str:
    """The ``cov_type`` label: the request's label, plus the small-sample convention in
    parentheses when it is not the default (two fits that differ only in ``ssc`` give
    different standard errors and must not carry the same label).

    >>> cov_label(parse_vcov({"CRV1": "nr"}))
    'CRV1 by nr'
    >>> cov_label(parse_vcov({"CRV1": "nr"}), "stata_xtreg")
    'CRV1 by nr (stata_xtreg)'
    """
    base = request.label()
    return base if ssc == DEFAULT_SSC else f"{base} ({ssc})"


# ------------------------------------------------------------- linear sandwich
def _k_ssc(ssc: str, inp: VcovInput, kind: str, nested: list[bool]) -> int:
    k = inp.k
    levels = inp.fe_levels
    n_fe = len(levels)
    l_sigma = sum(levels) - (n_fe - 1) if n_fe else 0
    if ssc == "fixest":
        if kind == "cluster" and any(nested):
            return k + l_sigma - sum(lv for lv, n in zip(levels, nested, strict=True) if n) + sum(
                nested
            )
        return k + l_sigma
    if ssc == "stata_xtreg":
        if kind == "cluster" and any(nested):
            return k + inp.fe_dof_exact - sum(
                lv - 1 for lv, n in zip(levels, nested, strict=True) if n
            )
        return k + inp.fe_dof_exact
    if ssc == "stata_areg":
        return k + inp.fe_dof_exact
    if ssc == "linearmodels":
        if kind == "cluster" and n_fe == 1 and nested[0]:
            return k + 1
        return k + l_sigma
    return k  # none


def compute_vcov(
    request: VcovRequest,
    inp: VcovInput,
    *,
    ssc: str = "fixest",
    cluster_codes: Mapping[str, np.ndarray] | None = None,
    time_codes: np.ndarray | None = None,
    warn: bool = True,
) -> VcovResult:
    """Compute the covariance of a linear (or Poisson) model's parameters from its scores.

    Parameters
    ----------
    request
        Which covariance (see :func:`parse_vcov`); its class computes it
        (:meth:`Covariance.sandwich`).
    inp
        The fitted model's regressors, residuals and bread.
    ssc
        Small-sample convention (:mod:`causalpolicing.inference.vcov`).
    cluster_codes
        Integer codes (0..G-1) of each cluster variable named in ``request``.
    time_codes
        Integer period codes in time order (DK).
    warn
        Issue :class:`FewClustersWarning` when there are fewer than 40 clusters.
    """
    check_ssc(ssc)
    cls = COVARIANCE_TYPES[request.name]
    n, k = inp.nobs, inp.k
    kind = cls.kind
    # scores in Fortran order: each column contiguous (bincount per column)
    scores = np.empty(inp.regressors.shape, order="F")
    for j in range(inp.regressors.shape[1]):
        np.multiply(inp.regressors[:, j], inp.resid, out=scores[:, j])

    is_nested = [False] * len(inp.fe_codes)
    codes: list[np.ndarray] = []
    if kind == "cluster":
        if cluster_codes is None:
            raise SpecError(f"{request.label()} needs the cluster variables' codes.")
        codes = [np.asarray(cluster_codes[c]) for c in request.clusters]
        is_nested = [any(nested(fe, cl) for cl in codes) for fe in inp.fe_codes]
    k_adj = _k_ssc(ssc, inp, kind, is_nested)
    if n - k_adj <= 0:
        raise SpecError(
            f"No residual degrees of freedom for the covariance: {n} observations and "
            f"{k_adj} parameters (slopes plus fixed effects) under ssc={ssc!r}."
        )
    adj = (n - 1) / (n - k_adj) if ssc in ("fixest", "stata_xtreg", "stata_areg") else (
        n / (n - k_adj) if ssc == "linearmodels" else 1.0)
    part = cls.sandwich(Sandwich(
        request=request, inp=inp, ssc=ssc, scores=scores, codes=tuple(codes),
        nested=tuple(is_nested), k_adj=k_adj, adj=adj, df=n - k_adj, time_codes=time_codes,
        warn=warn))
    df = part.df
    if ssc == "linearmodels":
        # linearmodels (debiased=True): t with the residual df counting every effect
        levels = inp.fe_levels
        df = n - k - (sum(levels) - (len(levels) - 1) if levels else 0)
    cov = (part.cov + part.cov.T) / 2
    return VcovResult(cov, df, part.n_clusters, cov_label(part.request, ssc),
                      float(part.ssc_factor), int(k_adj), part.notes)


# -------------------------------------------------- statsmodels (GLM) adapters
def statsmodels_cov_args(request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
    """statsmodels' ``cov_type``, ``cov_kwds`` and ``use_t`` for a request (GLM family).

    >>> statsmodels_cov_args(parse_vcov("hetero"), {}, 100)
    ('HC0', {}, False)
    """
    return COVARIANCE_TYPES[request.name].statsmodels_args(request, cluster_codes, n_obs)


def finish_statsmodels_cov(request: VcovRequest, sm_res: Any, *, k_slopes: int, n: int,
                           n_params: int, cluster_codes: Mapping[str, np.ndarray]
                           ) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None, str,
                                      list[str]]:
    """Slope covariance, inference df, clusters, label and notes from a statsmodels fit
    made with :func:`statsmodels_cov_args` (the class applies its small-sample factor)."""
    cov = np.asarray(sm_res.cov_params())[:k_slopes, :k_slopes]
    cov, df, ncl, label, notes = COVARIANCE_TYPES[request.name].from_statsmodels(
        request, cov, sm_res, n=n, n_params=n_params, cluster_codes=cluster_codes)
    return (cov + cov.T) / 2, df, ncl, label, notes
