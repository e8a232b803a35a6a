"""Inference: the covariance registry, the wild cluster bootstrap and Wald tests.

Names are imported from their modules on first use (importing the covariance
registry does not import the bootstrap).

>>> import causalpolicing as cp
>>> sorted(cp.inference.COVARIANCE_TYPES)
['CRV1', 'CRV3', 'DK', 'HC1', 'HC3', 'iid']
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "COVARIANCE_TYPES": ".vcov",
    "SSC_CONVENTIONS": ".vcov",
    "compute_vcov": ".vcov",
    "parse_vcov": ".vcov",
    "wild_bootstrap": ".bootstrap",
    "poisson_bootstrap": ".count_bootstrap",
    "WaldTest": ".wald",
    "wald_test": ".wald",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalpolicing.inference' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
