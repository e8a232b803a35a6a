"""Which outcome a linear model of the run uses (the primary outcome, or its rate)."""

from __future__ import annotations

from typing import Any

__all__ = ["linear_outcome"]


def linear_outcome(panel: Any) -> tuple[str, str]:
    """The outcome a linear model of the run uses, and a phrase saying which it is.

    The primary outcome, or its rate (``<outcome>_per_...``) when the spec added one
    and the outcome is a count (as :func:`~causalpolicing.analysis.run.fit_model` does
    for the designs).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> linear_outcome(cp.datasets.load("simulated_overdose_laws"))
    ('deaths', 'the primary outcome deaths, in levels')
    """
    outcome = panel.outcome
    rates = [c for c in panel.columns if c.startswith(f"{outcome}_per_")]
    if rates and panel.outcome_kinds.get(outcome) == "count":
        return rates[0], f"the rate {rates[0]} (the primary outcome {outcome} per population)"
    return outcome, f"the primary outcome {outcome}, in levels"
