"""Diagnostics of identifying assumptions (feedback / reverse causality, the Goodman-Bacon
decomposition of a staggered two-way fixed-effects DiD, HonestDiD sensitivity to violations of
parallel trends, ...).

>>> import causalpolicing as cp
>>> sorted(n for n in dir(cp.diagnostics) if not n.startswith("_"))[:4]
['BaconDecomposition', 'FeedbackReport', 'GrangerTestResult', 'HonestDiDResults']
"""

from .._lazy import lazy_exports as _lazy_exports
from . import feedback
from .feedback import (
    FeedbackReport,
    GrangerTestResult,
    LeadsTestResult,
    ReverseRegressionResult,
    feedback_report,
    granger_test,
    leads_test,
    reverse_regression,
)

__all__ = [
    "BaconDecomposition",
    "FeedbackReport",
    "GrangerTestResult",
    "LeadsTestResult",
    "ReverseRegressionResult",
    "bacon_decomposition",
    "feedback",
    "feedback_report",
    "granger_test",
    "leads_test",
    "reverse_regression",
    "TWFEWeights",
    "twfe_weights",
    "HonestDiDResults",
    "honest_did",
]

# the Goodman-Bacon decomposition is imported on first use
_LAZY = {"BaconDecomposition": ".bacon", "bacon_decomposition": ".bacon",
         "TWFEWeights": ".negative_weights", "twfe_weights": ".negative_weights",
         "HonestDiDResults": ".honest", "honest_did": ".honest"}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY)
