"""DoWhy's own refuters on the same linear estimate, for comparison.

DoWhy works on cross-sections: it knows no fixed effects, so the unit and time
effects enter its model as dummy common causes (least squares with dummies
gives exactly the within estimate). Its ``placebo_treatment_refuter`` then
shuffles the treatment across *all* rows (ignoring units and periods), its
``random_common_cause`` adds a random covariate, and its ``data_subset_refuter``
drops random *rows* (not units). Each simulation refits the dummy regression
through statsmodels, which is why it is slow (``benchmarks/bench_refute.py``).

DoWhy's p-value is the same for every refuter (the rank of the original
estimate among the simulated ones) but means opposite things: for the placebo,
small is good; for the random common cause and the subset refuter, small is bad
(py-why/dowhy issues #159, #312, #532).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...exceptions import SpecError
from ..identification import import_dowhy
from ._model import PanelModel

__all__ = ["dowhy_refuters", "dowhy_frame", "DOWHY_METHODS"]

#: The DoWhy refuters that apply to a linear estimate.
DOWHY_METHODS = ("placebo_treatment_refuter", "random_common_cause", "data_subset_refuter")


def dowhy_frame(model: PanelModel) -> tuple[pd.DataFrame, str, str, list[str]]:
    """The estimation rows as a DataFrame for DoWhy: outcome, treatment, other regressors
    and one dummy per fixed-effect level but the first. Returns (frame, treatment,
    outcome, common causes)."""
    if model.family != "linear":
        raise SpecError("dowhy_refuters compares linear estimates only (DoWhy's "
                        "backdoor.linear_regression); got a Poisson fit.")
    if model.weights is not None:
        raise SpecError("DoWhy's linear regression has no weights; dowhy_refuters needs an "
                        "unweighted fit.")
    cols: dict[str, np.ndarray] = {"outcome_": model.y, "treatment_": model.exog[:, model.t_col]}
    causes: list[str] = []
    for i, j in enumerate(model.w_cols):
        name = f"w{i}_"
        cols[name] = model.exog[:, j]
        causes.append(name)
    for f, codes in enumerate(model.fe_codes):
        n_levels = int(codes.max()) + 1
        for lev in range(1, n_levels):
            name = f"fe{f}_{lev}"
            cols[name] = (codes == lev).astype(float)
            causes.append(name)
    return pd.DataFrame(cols), "treatment_", "outcome_", causes


def dowhy_refuters(
    results: Any,
    data: Any,
    *,
    treatment: str | None = None,
    methods: Sequence[str] = DOWHY_METHODS,
    num_simulations: int = 100,
    subset_fraction: float = 0.8,
    seed: int | None = None,
) -> dict[str, Any]:
    """Run DoWhy's refuters on the same linear fixed-effects estimate.

    Builds a DoWhy ``CausalModel`` with the treatment, the outcome and, as
    common causes, the other regressors and the fixed effects as dummies;
    estimates the effect with ``backdoor.linear_regression`` (equal to the
    ``feols`` estimate) and runs each refuter in ``methods``.

    Parameters
    ----------
    results, data
        A linear, unweighted :func:`causalpolicing.feols` fit and its data.
    treatment
        The regressor (default: the first).
    methods
        DoWhy refuter names, from :data:`DOWHY_METHODS`.
    num_simulations
        DoWhy's ``num_simulations`` for every refuter.
    subset_fraction
        Share of rows kept by ``data_subset_refuter``.
    seed
        DoWhy's ``random_seed``.

    Returns
    -------
    dict
        ``"estimate"`` (DoWhy's ``CausalEstimate``) and one DoWhy
        ``CausalRefutation`` per method (``.new_effect``,
        ``.refutation_result["p_value"]``).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import dowhy_refuters
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> out = dowhy_refuters(res, panel, methods=["placebo_treatment_refuter"],
    ...                      num_simulations=2, seed=0)  # doctest: +SKIP
    >>> abs(out["estimate"].value - res.params["offences_per_1000"]) < 1e-8  # doctest: +SKIP
    True
    """
    bad = [m for m in methods if m not in DOWHY_METHODS]
    if bad:
        raise SpecError(f"Unknown DoWhy refuter(s) {bad}; choose from {list(DOWHY_METHODS)}.")
    if isinstance(num_simulations, bool) or not isinstance(num_simulations, int) or (
            num_simulations < 1):
        raise SpecError(f"num_simulations must be a positive integer; got {num_simulations!r}.")
    model = PanelModel(results, data, treatment=treatment)
    frame, t, y, causes = dowhy_frame(model)
    import_dowhy()  # DoWhy's import would replace sys.displayhook
    from dowhy import CausalModel

    out: dict[str, Any] = {}
    logging.getLogger("dowhy").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cm = CausalModel(data=frame, treatment=t, outcome=y, common_causes=causes)
        estimand = cm.identify_effect(proceed_when_unidentifiable=True,
                                       method_name="maximal-adjustment")
        est = cm.estimate_effect(estimand, method_name="backdoor.linear_regression",
                                 test_significance=False)
        out["estimate"] = est
        for m in methods:
            kw: dict[str, Any] = {"num_simulations": num_simulations, "random_seed": seed}
            if m == "placebo_treatment_refuter":
                kw["placebo_type"] = "permute"
            if m == "data_subset_refuter":
                kw["subset_fraction"] = subset_fraction
            out[m] = cm.refute_estimate(estimand, est, method_name=m, **kw)
    return out
