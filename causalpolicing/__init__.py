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

from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import exceptions
from ._lazy import lazy_exports as _lazy_exports
from ._version import __version__

if _TYPE_CHECKING:  # imported on first use (see __getattr__): pandas is not loaded by the import
    from .data import Panel, load_panel

__all__ = [
    "__version__",
    # subpackages and modules (imported on first use, but `exceptions`)
    "analysis", "cli", "core", "data", "datasets", "designs", "diagnostics", "estimators",
    "exceptions", "formula", "graph", "inference", "report", "results", "results_io", "simulate", "spec",
    "studies",
    # data
    "Panel", "load_panel",
    # estimators: the same names as in causalpolicing.estimators
    "feols", "FEOLS", "FEOLSResults",
    "fepois", "FEPoisson", "FEPoissonResults",
    "fenegbin", "FENegBin", "febinomial", "FEBinomial", "GLMFEResults",
    "between", "first_difference", "distributed_lag", "DistributedLagResults",
    "rate_ratios", "odds_ratios", "effect_at", "lincom",
    # designs: the same names as in causalpolicing.designs
    "event_study", "EventStudyResults",
    "etwfe", "ETWFEResults",
    "did_imputation", "ImputationResults", "did2s", "TwoStageResults",
    "sun_abraham", "SunAbrahamResults", "lp_did", "LPDiDResults",
    "callaway_santanna", "CallawaySantAnnaResults",
    # the rest of the workflow
    "table", "build_report", "analyze", "AnalysisSpec", "load_results", "reproduce",
    "CausalGraph",
]

# public name -> the module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "Panel": ".data",
    "load_panel": ".data",
    **{name: ".estimators" for name in (
        "feols", "FEOLS", "FEOLSResults", "fepois", "FEPoisson", "FEPoissonResults",
        "fenegbin", "FENegBin", "febinomial", "FEBinomial", "GLMFEResults", "between",
        "first_difference", "distributed_lag", "DistributedLagResults", "rate_ratios",
        "odds_ratios", "effect_at", "lincom")},
    **{name: ".designs" for name in ("event_study", "EventStudyResults")},
    **{name: ".designs" for name in ("etwfe", "ETWFEResults")},
    **{name: ".designs" for name in ("did_imputation", "ImputationResults", "did2s",
                                     "TwoStageResults")},
    **{name: ".designs" for name in ("sun_abraham", "SunAbrahamResults", "lp_did",
                                     "LPDiDResults")},
    **{name: ".designs" for name in ("callaway_santanna", "CallawaySantAnnaResults")},
    "table": ".report",
    "build_report": ".report",
    "analyze": ".analysis",
    "AnalysisSpec": ".spec",
    "load_results": ".results_io",
    "reproduce": ".studies",
    "CausalGraph": ".graph",
}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY, submodules=[
    "analysis", "cli", "core", "data", "datasets", "designs", "diagnostics", "estimators",
    "formula", "graph", "inference", "report", "results", "results_io", "simulate", "spec", "studies"])
