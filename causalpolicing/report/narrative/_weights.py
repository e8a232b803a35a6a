"""The ``negative_weights`` caveat's text: a static TWFE coefficient with negative weights.

Examples
--------
>>> negative_weights_message(None) is None
True
"""

from __future__ import annotations

from typing import Any

from ...diagnostics.negative_weights import TWFEWeights
from ...exceptions import SpecError

__all__ = ["NEGATIVE_WEIGHT_SUM_HIGH", "negative_weights_message"]

#: Negative weights summing to this or less raise a ``high`` negative_weights caveat.
NEGATIVE_WEIGHT_SUM_HIGH = -0.1


def negative_weights_message(weights: Any) -> tuple[str, str] | None:
    """``(severity, message)`` for a :class:`~causalpolicing.diagnostics.TWFEWeights` with
    negative weights; ``None`` for ``None`` or weights that are all non-negative."""
    if weights is None:
        return None
    if not isinstance(weights, TWFEWeights):
        raise SpecError("twfe_weights must be the result of cp.diagnostics.twfe_weights(...); "
                        f"got {type(weights).__name__}.")
    if weights.n_negative == 0:
        return None
    severity = "high" if weights.sum_negative <= NEGATIVE_WEIGHT_SUM_HIGH else "medium"
    flip = "negative" if weights.beta > 0 else "positive"
    return severity, (
        f"The two-way fixed-effects (TWFE) coefficient of {weights.treatment} "
        f"({weights.beta:.4g}) puts negative weights on {weights.n_negative} of the "
        f"{weights.n_weights} treated (unit, period) cells, summing to "
        f"{weights.sum_negative:.3f}: with effects that differ across units or over time it "
        f"is not an average of the effects and could be {flip} even if every effect had the "
        "opposite sign. An average effect of zero is compatible with it if the cells' "
        f"effects vary with a standard deviation of only {weights.sigma_zero:.4g} "
        "(de Chaisemartin and D'Haultfœuille 2020). Rely on a heterogeneity-robust design "
        "(cp.sun_abraham, cp.did_imputation, cp.did2s, cp.etwfe) rather than the static "
        "TWFE estimate.")
