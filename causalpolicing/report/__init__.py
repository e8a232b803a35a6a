"""Reporting: tables (and, later, plots and the HTML report) built from the results contract.

The report reads only the results contract
(:class:`~causalpolicing.results.EstimationResults`), never estimator internals.
Everything loads lazily: importing this package imports neither pandas-heavy
renderers nor matplotlib/seaborn.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.results import BaseResults
>>> import pandas as pd
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS", spec={})
>>> print(cp.report.table(res, gof=["nobs"]).to_csv(), end="")
,(1)
Estimator,OLS
x,2.000
,(0.500)
Observations,100
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Table", "table", "tables"]

_LAZY = {"table": ".tables", "Table": ".tables"}


def __getattr__(name: str) -> Any:
    if name == "tables":
        return importlib.import_module(".tables", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'causalpolicing.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
