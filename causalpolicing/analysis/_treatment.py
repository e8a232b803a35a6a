"""Checks of the treatment before and after fitting: fail early, and name the column.

A constant treatment, or one the fixed effects absorb, has no estimable effect; without
these checks the analysis would fit the models (dropping the treatment as collinear)
and fail much later, while drawing a figure of a coefficient that does not exist.

>>> import pandas as pd
>>> _variation(pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "x": [0, 0, 1, 1]}),
...            "x", "u", "t")
'it does not vary over time within any u (each u has one value)'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..exceptions import SpecError

__all__ = ["check_treatments", "check_treatment_estimated"]


def _variation(frame: pd.DataFrame, column: str, unit: str, time: str) -> str:
    """What variation ``column`` lacks ('' when it varies within units and within periods)."""
    values = frame[[unit, time, column]].dropna()
    if values[column].nunique() <= 1:
        return "it is constant"
    if (values.groupby(unit, observed=True)[column].nunique() <= 1).all():
        return f"it does not vary over time within any {unit} (each {unit} has one value)"
    if (values.groupby(time, observed=True)[column].nunique() <= 1).all():
        return f"it is the same in every {unit} in each {time}"
    return ""


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
            "over time": (f"use a treatment that changes over time, or a model without "
                          f"{panel.unit} fixed effects (estimator = \"between\")"),
            "same in every": (f"use a treatment that differs between {panel.unit}s, or a "
                              f"model without {panel.time} fixed effects"),
        }
        hint = next((v for k, v in fix.items() if k in why),
                    "remove the regressors or fixed effects it is collinear with")
        raise SpecError(
            f"{where}: the treatment {t!r} was dropped as {collinear[t]}"
            + (f": {why}" if why else "")
            + f", so its effect is not identified in this model. To estimate it, {hint}.")
