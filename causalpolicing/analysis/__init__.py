"""Run a whole analysis from one spec: the runner shared by the Python API and the CLI.

:func:`analyze` runs an :class:`~causalpolicing.spec.AnalysisSpec` (see
:mod:`causalpolicing.spec`) and returns an :class:`Analysis`; the command
``causalpolicing analyze`` calls the same function.
"""

from .._lazy import lazy_exports as _lazy_exports
from .run import Analysis, analyze, fit_model, load_spec_data, tidy_frame

__all__ = ["Analysis", "analyze", "fit_model", "load_spec_data", "tidy_frame"]

__getattr__, __dir__ = _lazy_exports(__name__, __all__)
