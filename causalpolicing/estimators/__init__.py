"""Estimators: one per module, each returning a results object of the common contract.

No module is named like a function it defines (``feols`` lives in ``linear.py``,
``fepois`` in ``poisson.py``), so ``causalpolicing.estimators.feols`` is always the
function. Every estimator is imported on first use, so that importing the package (and
its :mod:`~causalpolicing.estimators.registry`, read by ``causalpolicing --help``)
loads no numerical library. Every estimator, its class and its results type are also
at the top level (``cp.fenegbin``, ``cp.FENegBin``, ...).

>>> import causalpolicing as cp
>>> cp.estimators.FEOLS("y ~ x | unit").formula.fe_names
('unit',)
"""

from .._lazy import lazy_exports as _lazy_exports

__all__ = [
    "Change",
    "DistributedLagResults",
    "FEBinomial",
    "FENegBin",
    "FEOLS",
    "FEOLSResults",
    "FEPoisson",
    "FEPoissonResults",
    "GLMFEResults",
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
    "parse_change",
    "rate_ratios",
    "registry",
]

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
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
    "GLMFEResults": "._glm",
    "FEBinomial": ".binomial",
    "febinomial": ".binomial",
    "odds_ratios": ".binomial",
    "Change": ".effects",
    "parse_change": ".effects",
    "effect_at": ".effects",
    "lincom": ".effects",
    "rate_ratios": ".effects",
}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY, submodules=["registry"])
