"""The study-only estimator ``correlation``: Pearson correlation of two expressions.

Registered into the estimator registry by :mod:`causalpolicing.studies._checks`
(flagged study-only), so study files name it like any estimator.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.studies.expressions import parse_expression
>>> res = correlation(cp.datasets.load("simulated_cantons"), x=parse_expression("deaths"),
...                   y=parse_expression("population"))
>>> res.nobs, res.params.index.tolist()
(858, ['r'])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from .expressions import Expression, evaluate

__all__ = ["CorrelationResults", "correlation"]


def correlation(data: Any, x: Expression, y: Expression) -> CorrelationResults:
    """The Pearson correlation of ``x`` and ``y`` evaluated on ``data`` (complete rows)."""
    return CorrelationResults(evaluate(x, data), evaluate(y, data))


class CorrelationResults:
    """Pearson correlation of two expressions, with a Fisher-z confidence interval."""

    estimator = "Pearson correlation"
    cov_type = "Fisher z (normal)"

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        ok = np.isfinite(x) & np.isfinite(y)
        self._n = int(ok.sum())
        if self._n < 4:
            raise SpecError(f"A correlation needs at least 4 complete rows; got {self._n}.")
        self._r = float(np.corrcoef(x[ok], y[ok])[0, 1])

    @property
    def nobs(self) -> int:
        return self._n

    @property
    def params(self) -> pd.Series:
        return pd.Series({"r": self._r})

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series({"r": np.sqrt((1 - self._r ** 2) / (self._n - 2))})

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        from scipy import stats

        z = np.arctanh(self._r)
        q = stats.norm.ppf(0.5 + level / 2) / np.sqrt(self._n - 3)
        return pd.DataFrame({"conf_low": [np.tanh(z - q)], "conf_high": [np.tanh(z + q)]},
                            index=["r"])

    def glance(self) -> pd.DataFrame:
        from scipy import stats

        t = self._r * np.sqrt((self._n - 2) / (1 - self._r ** 2))
        p = float(2 * stats.t.sf(abs(t), self._n - 2))
        return pd.DataFrame([{"estimator": self.estimator, "nobs": self._n, "p_value": p}])


