"""Render the table as pandas DataFrames: tidy numbers (long) or the displayed grid (wide).

:func:`tidy_frame` gives one row per term x model with the numbers the table
shows (after keep/drop/rename and exponentiation), unrounded;
:func:`display_frame` gives the displayed strings, one row per displayed line.

Examples
--------
>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> from causalpolicing.report.tables.extract import extract
>>> r = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                 nobs=100, df_inference=None, cov_type="iid", estimator="OLS", spec={})
>>> tidy_frame(extract(r))[["model", "term", "estimate", "std_error"]]
  model term  estimate  std_error
0   (1)    x       2.0        0.5
"""

from __future__ import annotations

import pandas as pd

from .extract import TableModel
from .format import FormattedTable, stars_for

__all__ = ["tidy_frame", "display_frame", "TIDY_TABLE_COLUMNS"]

TIDY_TABLE_COLUMNS = ["model", "term", "original_term", "estimate", "std_error", "statistic",
                      "p_value", "conf_low", "conf_high", "stars", "exponentiated"]


def tidy_frame(model: TableModel) -> pd.DataFrame:
    """Long numbers: ``model, term, original_term, estimate, std_error, statistic, p_value,
    conf_low, conf_high, stars, exponentiated`` (terms a model lacks are left out)."""
    rows = []
    for j, name in enumerate(model.model_names):
        for label, key, row in zip(model.terms, model.term_keys, model.cells, strict=True):
            c = row[j]
            if c is None:
                continue
            rows.append({"model": name, "term": label, "original_term": key,
                         "estimate": c.estimate, "std_error": c.std_error,
                         "statistic": c.statistic, "p_value": c.p_value,
                         "conf_low": c.conf_low, "conf_high": c.conf_high,
                         "stars": stars_for(c.p_value, model.stars),
                         "exponentiated": model.exponentiated[j]})
    return pd.DataFrame(rows, columns=TIDY_TABLE_COLUMNS)


def display_frame(ft: FormattedTable) -> pd.DataFrame:
    """The displayed grid as strings: columns ``part, label`` and one per model.

    ``part`` is ``header``, ``estimate``, ``uncertainty`` or ``gof``.
    """
    rows: list[list[str]] = []
    for lab, vals in ft.header_rows:
        rows.append(["header", lab, *vals])
    for r in ft.body:
        rows.append(["estimate", r.label,
                     *(e + s for e, s in zip(r.estimates, r.stars, strict=True))])
        if any(r.uncertainty):
            rows.append(["uncertainty", "", *r.uncertainty])
    for lab, vals in ft.gof:
        rows.append(["gof", lab, *vals])
    return pd.DataFrame(rows, columns=["part", "label", *ft.columns])
