"""causalpolicing: what does drug-law enforcement do to health and safety?

Load a panel, estimate effects with honest uncertainty, stress-test them and
report them. The top level stays small; every module (pandas included) loads
only when first used, so ``import causalpolicing`` and ``causalpolicing --help``
are fast.

Examples
--------
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> panel.n_units, panel.freq
(26, 'Y')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import exceptions
from ._version import __version__

if TYPE_CHECKING:  # imported on first use (see __getattr__): pandas is not loaded by the import
    from .data import Panel, load_panel

__all__ = ["Panel", "__version__", "datasets", "exceptions", "load_panel"]

# Submodules and functions imported on first use, so `import causalpolicing` stays fast.
_LAZY_MODULES = {"data", "datasets", "simulate", "formula", "results", "estimators", "inference",
                 "report", "cli", "diagnostics", "analysis", "spec", "results_io", "graph",
                 "studies"}
_LAZY_FUNCTIONS: dict[str, str] = {
    "Panel": ".data",
    "load_panel": ".data",
    "feols": ".estimators",
    "FEOLS": ".estimators",
    "between": ".estimators",
    "first_difference": ".estimators",
    "fenegbin": ".estimators.negbin",
    "febinomial": ".estimators.binomial",
    "odds_ratios": ".estimators.binomial",
    "distributed_lag": ".estimators.lags",
    "fepois": ".estimators",
    "rate_ratios": ".estimators",
    "lincom": ".estimators",
    "table": ".report",
    "build_report": ".report",
    "analyze": ".analysis",
    "AnalysisSpec": ".spec",
    "load_results": ".results_io",
    "reproduce": ".studies",
    "CausalGraph": ".graph",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        module = importlib.import_module(_LAZY_FUNCTIONS[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'causalpolicing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_MODULES, *_LAZY_FUNCTIONS})
