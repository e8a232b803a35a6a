"""Quasi-experimental designs: one module each, every one returning the results contract.

A design builds its regressors from the data (event-time indicators, cohorts,
donors, ...) and fits them with the estimators of :mod:`causalpolicing.estimators`;
it is registered in the same estimator registry, so analysis specs, study files
and the command line know it. Each design is imported on first use; no module is
named like the function it defines (`event_study` lives in `event_studies.py`).

>>> import causalpolicing as cp
>>> cp.designs.EventStudyResults.__name__
'EventStudyResults'
"""

from .._lazy import lazy_exports as _lazy_exports

__all__ = ["EventStudyResults", "event_study",
           "ETWFEResults", "etwfe",
           "ImputationResults", "did_imputation", "TwoStageResults", "did2s",
           "SunAbrahamResults", "sun_abraham", "LPDiDResults", "lp_did",
           "CallawaySantAnnaResults", "callaway_santanna"]

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "event_study": ".event_studies",
    "EventStudyResults": ".event_studies",
    "etwfe": ".extended_twfe",
    "ETWFEResults": ".extended_twfe",
    "did_imputation": ".imputation",
    "ImputationResults": ".imputation",
    "did2s": ".two_stage",
    "TwoStageResults": ".two_stage",
    "sun_abraham": ".interaction_weighted",
    "SunAbrahamResults": ".interaction_weighted",
    "lp_did": ".local_projections",
    "LPDiDResults": ".local_projections",
    "callaway_santanna": ".callaway_santanna_did",
    "CallawaySantAnnaResults": ".callaway_santanna_did",
}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY)
