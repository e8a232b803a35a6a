r"""Covariance estimators: a small registry keyed by name, with explicit small-sample conventions.

Covariance types (``vcov=``)
----------------------------
============  ====================================  ========================================
name          how to ask                            what it is
============  ====================================  ========================================
``iid``       ``"iid"``                             homoskedastic, :math:`s^2 (X'X)^{-1}`
``HC0``       ``"HC0"`` (GLMs)                      the White sandwich without a factor
``HC1``       ``"HC1"`` or ``"hetero"``             heteroskedasticity-robust (White), N/(N-K)
``HC3``       ``"HC3"``                             leverage-corrected HC (OLS without fixed effects)
``CRV1``      ``{"CRV1": "unit"}``,                 cluster-robust (Liang-Zeger); two-way by
              ``{"CRV1": "unit+year"}``,            Cameron-Gelbach-Miller
              ``{"CRV1": ["unit", "year"]}``        :math:`V_1 + V_2 - V_{12}`
``CRV3``      ``{"CRV3": "unit"}``                  leave-one-cluster-out jackknife (one-way):
                                                    :math:`\sum_g (\hat\beta_{-g}-\hat\beta)
                                                    (\hat\beta_{-g}-\hat\beta)'`, as pyfixest
``DK``        ``{"DK": "year"}`` or                 Driscoll-Kraay: scores summed per period,
              ``{"DK": {"time": "year",             Newey-West (Bartlett) weights
              "lag": 2}}``                          :math:`1 - j/(L+1)`, default lag
                                                    :math:`\lfloor 4 (T/100)^{2/9} \rfloor`
``HAC``       ``"HAC"`` (``"nw"``,                  Newey-West for one time series (GLMs),
              ``"newey-west"``), ``{"HAC": 2}``,    statsmodels' ``cov_type="HAC"``
              ``{"HAC": {"lags": 2}}``
============  ====================================  ========================================

Each type is one class of the registry (:mod:`causalpolicing.inference.covariance`:
``IID``, ``HC0``, ``HC1``, ``HC3``, ``CRV1``, ``CRV3``, ``DK``, ``HAC``) that declares
its spellings, the model families it supports (:data:`VCOV_FAMILIES`, derived from
the classes: ``linear`` for ``feols``/``between``/``first_difference``, ``poisson``
for ``fepois``, ``glm`` for ``fenegbin``/``febinomial``), its small-sample factors
and how it is computed: from a linear model's scores, or, for the GLMs, through
statsmodels (the class translates the request and applies its factor). One parser,
:func:`parse_vcov`, knows every name; :func:`check_vcov` adds the family check.

Two-way clustering can give a covariance that is not positive semi-definite;
then negative eigenvalues are set to zero (the eigenvalue fix of Cameron,
Gelbach and Miller 2011) and the results' ``warnings`` say so.

Small-sample conventions (``ssc=``)
-----------------------------------
:math:`N` observations, :math:`k` estimated slopes (the intercept counts when
there are no fixed effects), :math:`G` clusters (the smallest dimension for
two-way clustering), :math:`T` periods (DK). Fixed-effect counts:
:math:`L_\Sigma = \sum_f L_f - (F - 1)` (levels of the :math:`F` fixed
effects, one redundant level per further fixed effect, as fixest),
:math:`D` = the exact absorbed degrees of freedom (connected components for two
fixed effects), "nested" = fixed effects whose every level lies within one
cluster.

================  ===================================================================
``ssc``           factor applied to the sandwich / to :math:`RSS (X'X)^{-1}`
================  ===================================================================
``"fixest"``      R fixest defaults ``ssc(adj=TRUE, fixef.K="nested",
(default)         cluster.adj=TRUE, cluster.df="min")``, = pyfixest defaults.
                  :math:`K = k + L_\Sigma`; for clustering, nested fixed effects are
                  removed and one parameter per nested fixed effect added back.
                  iid: :math:`1/(N-K)`; HC: :math:`N/(N-K)`; CRV:
                  :math:`\frac{G}{G-1}\frac{N-1}{N-K}`; DK:
                  :math:`\frac{T}{T-1}\frac{N-1}{N-K}` (no nesting).
``"stata_xtreg"`` Stata ``xtreg, fe vce(cluster c)``: :math:`K = k + D`, minus
                  :math:`L_f - 1` for each fixed effect nested in the clusters (the
                  absorbed unit effects are not counted, the constant is).
                  iid :math:`1/(N-K)`, HC :math:`N/(N-K)`, CRV
                  :math:`\frac{G}{G-1}\frac{N-1}{N-K}`, DK as fixest with this K.
``"stata_areg"``  Stata ``reg`` with dummies / ``areg, vce(cluster c)``: every dummy
                  counts, :math:`K = k + D` always; factors as ``stata_xtreg``.
``"linearmodels"`` linearmodels ``PanelOLS`` (with a constant) defaults
                  (``debiased=True, auto_df=True, count_effects=True``):
                  :math:`K = k + L_\Sigma`, but :math:`K = k + 1` when the only fixed
                  effect is nested in the clusters; factor :math:`N/(N-K)` for HC, CRV
                  and DK, no :math:`G/(G-1)`; iid :math:`1/(N-K)`. P-values and
                  intervals use the t distribution with :math:`N - k - L_\Sigma`
                  degrees of freedom for every covariance, as linearmodels does.
``"none"``        no correction: iid :math:`1/N`, all others 1.
================  ===================================================================

Reference distribution (as fixest): Student t with :math:`G - 1` degrees of
freedom for clustered covariances (smallest dimension), :math:`T - 1` for DK and
:math:`N - K` otherwise; under ``"linearmodels"`` always the residual degrees of
freedom, as linearmodels does.

Labels: the results' ``cov_type`` names the covariance (``"CRV1 by nr"``) and, when
``ssc`` is not the default ``"fixest"``, the convention too (``"CRV1 by nr
(stata_xtreg)"``), so tables never show two different standard errors under one
label (:func:`cov_label`).

Examples
--------
>>> from causalpolicing.inference.vcov import VCOV_FAMILIES, parse_vcov
>>> parse_vcov({"CRV1": "unit+year"})
VcovRequest(name='CRV1', clusters=('unit', 'year'), time=None, lag=None)
>>> parse_vcov("hetero").name
'HC1'
>>> VCOV_FAMILIES["poisson"]
('iid', 'HC1', 'CRV1', 'CRV3', 'DK')
"""

from __future__ import annotations

from .covariance import (
    COVARIANCE_TYPES,
    DEFAULT_SSC,
    FEW_CLUSTERS,
    SSC_CONVENTIONS,
    VCOV_FAMILIES,
    Covariance,
    VcovInput,
    VcovRequest,
    VcovResult,
    check_ssc,
    check_vcov,
    compute_vcov,
    cov_label,
    parse_vcov,
)
from .covariance._base import nested as _nested  # (older private import path)

#: Former name of :class:`~causalpolicing.inference.covariance.Covariance` (the registry's
#: entries are its subclasses).
CovarianceType = Covariance

__all__ = [
    "COVARIANCE_TYPES",
    "SSC_CONVENTIONS",
    "Covariance",
    "CovarianceType",
    "VcovInput",
    "VcovRequest",
    "VcovResult",
    "check_ssc",
    "compute_vcov",
    "cov_label",
    "parse_vcov",
    "DEFAULT_SSC",
    "FEW_CLUSTERS",
    "VCOV_FAMILIES",
    "check_vcov",
    "_nested",
]
