"""The covariance registry, one class per covariance type (see
:mod:`causalpolicing.inference.vcov`, the documented public path, for the table of
types and small-sample conventions).

Modules: ``_base`` (request, inputs, result, the :class:`Covariance` base class),
``robust`` (iid, HC0, HC1, HC3), ``clustered`` (CRV1, CRV3), ``serial`` (DK, HAC) and
``registry`` (the table by name, the one parser, the family table, the computation).

>>> from causalpolicing.inference.covariance import COVARIANCE_TYPES
>>> list(COVARIANCE_TYPES)
['iid', 'HC0', 'HC1', 'HC3', 'CRV1', 'CRV3', 'DK', 'HAC']
"""

from __future__ import annotations

from ._base import (
    DEFAULT_SSC,
    FAMILIES,
    FEW_CLUSTERS,
    SSC_CONVENTIONS,
    Covariance,
    Sandwich,
    SandwichPart,
    VcovInput,
    VcovRequest,
    VcovResult,
    check_ssc,
    register,
)
from .clustered import CRV1, CRV3
from .registry import (
    COVARIANCE_TYPES,
    VCOV_FAMILIES,
    check_vcov,
    compute_vcov,
    cov_label,
    finish_statsmodels_cov,
    parse_vcov,
    statsmodels_cov_args,
)
from .robust import HC0, HC1, HC3, IID
from .serial import DK, HAC

__all__ = [
    "COVARIANCE_TYPES",
    "CRV1",
    "CRV3",
    "DEFAULT_SSC",
    "DK",
    "FAMILIES",
    "FEW_CLUSTERS",
    "HAC",
    "HC0",
    "HC1",
    "HC3",
    "IID",
    "SSC_CONVENTIONS",
    "VCOV_FAMILIES",
    "Covariance",
    "Sandwich",
    "SandwichPart",
    "VcovInput",
    "VcovRequest",
    "VcovResult",
    "check_ssc",
    "check_vcov",
    "compute_vcov",
    "cov_label",
    "finish_statsmodels_cov",
    "parse_vcov",
    "register",
    "statsmodels_cov_args",
]
