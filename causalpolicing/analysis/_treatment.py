"""Checks of the treatment before and after fitting: fail early, and name the column.

A constant treatment, or one the fixed effects absorb, has no estimable effect; without
these checks the analysis would fit the models (dropping the treatment as collinear)
and fail much later, while drawing a figure of a coefficient that does not exist.

>>> import pandas as pd
>>> _variation(pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "x": [0, 0, 1, 1]}),
...            "x", "u", "t")
'it does not vary within u'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..estimators._common import absorbed_detail
from ..exceptions import SpecError

__all__ = ["check_treatments", "check_treatment_estimated"]


def _variation(frame: pd.DataFrame, column: str, unit: str, time: str) -> str:
    """What variation ``column`` lacks, in the estimators' words (:func:`absorbed_detail`);
    '' when it varies within units and within periods."""
    values = frame[[unit, time, column]].dropna()
    codes = [pd.factorize(values[c])[0] for c in (unit, time)]
    why = absorbed_detail(values[column].to_numpy(dtype=float), codes, (unit, time))
    # it varies within units and periods: collinear with other regressors, say nothing more
    return "" if why.startswith("the fixed effects") else why


def check_treatments(panel: Any) -> None:
    """Raise a SpecError when a treatment column of the panel is constant.

    Called before any model is fitted: nothing can be estimated about a treatment
    that takes one value.
    """
    frame = panel.to_frame()
    for t in panel.treatments:
        values = frame[t].dropna()
        if len(values) >= 2 and values.nunique() <= 1:  # (one row: the estimators say so)
            raise SpecError(
                f"The treatment column {t!r} is constant ({values.iloc[0]} in all "
                f"{len(values)} rows with a value): its effect cannot be estimated. Check "
                f"that {t!r} is the intended column (a constant column often means a wrong "
                "column or a failed unit conversion), or choose a treatment that varies "
                "across units and over time.")


def check_treatment_estimated(res: Any, panel: Any, where: str) -> None:
    """Raise a SpecError when a fitted model dropped a treatment as collinear or absorbed.

    ``where`` locates the model in the spec (e.g. ``"models[0] (Linear FE)"``).
    """
    collinear = getattr(res, "collinear", None)
    if not collinear:
        return
    for t in panel.treatments:
        if t not in collinear or t in res.params.index:
            continue
        why = _variation(panel.to_frame(), t, panel.unit, panel.time)
        fix = {
            f"does not vary within {panel.unit}": (
                f"use a treatment that changes over time, or a model without {panel.unit} "
                "fixed effects (estimator = \"between\")"),
            f"does not vary within {panel.time}": (
                f"use a treatment that differs between {panel.unit}s, or a model without "
                f"{panel.time} fixed effects"),
        }
        hint = next((v for k, v in fix.items() if k in why),
                    "remove the regressors or fixed effects it is collinear with")
        raise SpecError(
            f"{where}: the treatment {t!r} was dropped as {collinear[t]}"
            + (f": {why}" if why else "")
            + f", so its effect is not identified in this model. To estimate it, {hint}.")
