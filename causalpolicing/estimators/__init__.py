"""Estimators: one per module, each returning a results object of the common contract.

No module is named like a function it defines (``feols`` lives in ``linear.py``,
``fepois`` in ``poisson.py``), so ``causalpolicing.estimators.feols`` is always the
function. Every estimator is imported on first use, so that importing the package (and
its :mod:`~causalpolicing.estimators.registry`, read by ``causalpolicing --help``)
loads no numerical library.

>>> import causalpolicing as cp
>>> cp.estimators.FEOLS("y ~ x | unit").formula.fe_names
('unit',)
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it (imported on first use)
_EXPORTS: dict[str, str] = {
    "between": ".between_means",
    "first_difference": ".first_differences",
    "FEOLS": ".linear",
    "FEOLSResults": ".linear",
    "feols": ".linear",
    "FEPoisson": ".poisson",
    "FEPoissonResults": ".poisson",
    "fepois": ".poisson",
    "distributed_lag": ".lags",
    "DistributedLagResults": ".lags",
    "fenegbin": ".negbin",
    "FENegBin": ".negbin",
    "FEBinomial": ".binomial",
    "febinomial": ".binomial",
    "odds_ratios": ".binomial",
    "effect_at": ".effects",
    "lincom": ".effects",
    "rate_ratios": ".effects",
}

__all__ = [
    "DistributedLagResults",
    "FEBinomial",
    "FENegBin",
    "FEOLS",
    "FEOLSResults",
    "FEPoisson",
    "FEPoissonResults",
    "between",
    "distributed_lag",
    "effect_at",
    "febinomial",
    "fenegbin",
    "feols",
    "fepois",
    "first_difference",
    "lincom",
    "odds_ratios",
    "rate_ratios",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalpolicing.estimators' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
