"""Inference: the covariance registry, the wild cluster bootstrap and Wald tests.

Names are imported from their modules on first use (importing the covariance
registry does not import the bootstrap).

>>> import causalpolicing as cp
>>> list(cp.inference.COVARIANCE_TYPES)
['iid', 'HC0', 'HC1', 'HC3', 'CRV1', 'CRV3', 'DK', 'HAC']
"""

from .._lazy import lazy_exports as _lazy_exports

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "COVARIANCE_TYPES": ".vcov",
    "SSC_CONVENTIONS": ".vcov",
    "compute_vcov": ".vcov",
    "parse_vcov": ".vcov",
    "wild_bootstrap": ".bootstrap",
    "poisson_bootstrap": ".count_bootstrap",
    "sup_t_band": ".bands",
    "sup_t_critical_value": ".bands",
    "WaldTest": ".wald",
    "wald_test": ".wald",
    "multiplier_bootstrap": ".multiplier",
    "MultiplierBootstrap": ".multiplier",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY)
