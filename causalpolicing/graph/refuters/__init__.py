"""Panel-aware refutation of a fixed-effects estimate.

:func:`refute` runs a suite on a fit of :func:`causalpolicing.feols` or
:func:`causalpolicing.fepois` and the data it was fit on; each refuter is also a
function of its own. Every refuter returns a frozen :class:`RefutationResult`
with the draws, a p-value, a pass/fail verdict at a stated ``alpha`` and a
one-sentence reading of what the result means and what it does not.

=========================  =====================================================
refuter                    what it does
=========================  =====================================================
``placebo_permutation``    treatment permuted across units within each period
``placebo_time_shift``     each unit's series rotated (or block-shuffled) in time
``placebo_lead``           the treatment ``k`` periods ahead in place of the current
``placebo_lead_both``      the lead next to the current treatment
``placebo_outcome``        the model refit on an outcome the treatment cannot affect
``leave_one_unit_out``     the estimate without each unit in turn
``random_common_cause``    an independent random covariate added
``random_unit_subsets``    refits on random subsets of units
=========================  =====================================================

The placebo draws of a linear model share one within transformation (1,000
draws on the 26 x 33 panel in 0.02-0.15 s on 2 shared cores); see
:mod:`causalpolicing.graph.refuters._model`. :func:`dowhy_refuters` runs DoWhy's
own refuters on the same estimate for comparison.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.graph.refuters import refute
>>> panel = cp.datasets.load("simulated_cantons")
>>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
>>> suite = refute(res, panel, reps=100, seed=1, progress=False)
>>> list(suite.summary()["refuter"])  # doctest: +NORMALIZE_WHITESPACE
['placebo_permutation', 'placebo_time_shift', 'placebo_lead', 'placebo_lead_both',
 'leave_one_unit_out', 'random_common_cause', 'random_unit_subsets']
"""

from __future__ import annotations

from ._result import RefutationResult, RefutationSuite
from ._suite import DEFAULT_METHODS, REFUTERS, refute
from .dowhy_compare import dowhy_refuters
from .placebo import placebo_lead, placebo_outcome, placebo_permutation, placebo_time_shift
from .stability import leave_one_unit_out, random_common_cause, random_unit_subsets

__all__ = [
    "DEFAULT_METHODS",
    "REFUTERS",
    "RefutationResult",
    "RefutationSuite",
    "dowhy_refuters",
    "leave_one_unit_out",
    "placebo_lead",
    "placebo_outcome",
    "placebo_permutation",
    "placebo_time_shift",
    "random_common_cause",
    "random_unit_subsets",
    "refute",
]
