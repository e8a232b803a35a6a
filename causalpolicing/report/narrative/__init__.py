"""Plain-language narrative: one sentence per effect, and caveats drawn from the diagnostics.

* :func:`describe_effect` / :func:`describe_results` -- "An increase of 1
  possession offence per 1,000 residents is associated with 7.4% more
  drug-related deaths (95% CI 2.1% to 13.0%)."
* :func:`describe_event_study` / :func:`describe_pretrends` -- the path of event-time
  effects, and what the pre-trend test shows and cannot show (Roth 2022).
* :func:`caveats` -- a list of :class:`Caveat` (few clusters, feedback, weak
  instruments, failed refutations or graph implications, dropped rows,
  convergence and collinearity warnings).

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> from causalpolicing.report.narrative import caveats
>>> panel = cp.datasets.load("simulated_cantons")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
>>> [c.kind for c in caveats(res)]
['few_clusters']
"""

from __future__ import annotations

from .checks import CAVEAT_KINDS, SEVERITIES, Caveat, caveats
from .event_time import describe_event_study, describe_pretrends
from .sentences import describe_effect, describe_results, effect_kind, is_log_outcome

__all__ = ["CAVEAT_KINDS", "SEVERITIES", "Caveat", "caveats", "describe_effect",
           "describe_event_study", "describe_pretrends", "describe_results", "effect_kind",
           "is_log_outcome"]
