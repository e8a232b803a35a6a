"""Diagnostics of identifying assumptions (feedback / reverse causality, ...).

>>> import causalpolicing as cp
>>> sorted(n for n in dir(cp.diagnostics) if not n.startswith("_"))[:4]
['FeedbackReport', 'GrangerTestResult', 'LeadsTestResult', 'ReverseRegressionResult']
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
    "FeedbackReport",
    "GrangerTestResult",
    "LeadsTestResult",
    "ReverseRegressionResult",
    "feedback",
    "feedback_report",
    "granger_test",
    "leads_test",
    "reverse_regression",
]

__getattr__, __dir__ = _lazy_exports(__name__, __all__)
