"""Joint Wald tests of coefficients of a fitted model.

:func:`wald_test` tests that some coefficients are jointly zero with the
results' covariance: an F test when the results carry inference degrees of
freedom, else a chi-squared test. It works with any results object of the
common contract (``params``, ``cov``, ``df_inference``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg

from ..exceptions import SpecError

__all__ = ["WaldTest", "wald_test"]


@dataclass(frozen=True)
class WaldTest:
    """A joint Wald test that some coefficients are zero.

    Attributes
    ----------
    terms
        The coefficients tested.
    wald
        :math:`b' V^{-1} b`.
    statistic
        The reported statistic: ``wald / q`` (F form) when the results use a t
        reference distribution, else ``wald`` (chi-squared form).
    df_num, df_denom
        ``q`` and the denominator degrees of freedom (``None``: chi-squared).
    p_value
        From F(q, df_denom) or chi-squared(q).
    distribution
        ``"F"`` or ``"chi2"``.
    """

    terms: tuple[str, ...]
    wald: float
    statistic: float
    df_num: int
    df_denom: int | None
    p_value: float
    distribution: str

    def as_dict(self) -> dict[str, Any]:
        return {"terms": list(self.terms), "wald": self.wald, "statistic": self.statistic,
                "df_num": self.df_num, "df_denom": self.df_denom, "p_value": self.p_value,
                "distribution": self.distribution}


def wald_test(res: Any, terms: Sequence[str]) -> WaldTest:
    """Joint Wald test of ``terms = 0`` with the results' covariance.

    F(q, df) with ``F = W / q`` when ``res.df_inference`` is set (as fixest's
    ``wald``), chi-squared(q) with ``W`` otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> res = BaseResults(params=pd.Series({"a": 1.0, "b": 2.0}),
    ...                   cov=pd.DataFrame([[1.0, 0.0], [0.0, 4.0]], ["a", "b"], ["a", "b"]),
    ...                   nobs=50, df_inference=None, cov_type="iid", estimator="OLS", spec={})
    >>> t = wald_test(res, ["a", "b"])
    >>> t.wald, t.distribution, round(t.p_value, 4)
    (2.0, 'chi2', 0.3679)
    """
    terms = list(terms)
    if not terms:
        raise SpecError("wald_test needs at least one term.")
    names = list(res.params.index)
    unknown = [t for t in terms if t not in names]
    if unknown:
        raise SpecError(f"Unknown term(s) {unknown}; the model's terms are {names}. Terms "
                        "dropped as collinear cannot be tested.")
    b = res.params[terms].to_numpy()
    v = res.cov.loc[terms, terms].to_numpy()
    try:
        w = float(b @ linalg.solve(v, b, assume_a="pos"))
    except (linalg.LinAlgError, ValueError):
        w = float(b @ np.linalg.pinv(v) @ b)
    q = len(terms)
    df = getattr(res, "df_inference", None)
    from scipy import stats  # lazy: importing scipy.stats takes ~0.3 s, most fits never test

    if df is None:
        return WaldTest(tuple(terms), w, w, q, None, float(stats.chi2(q).sf(w)), "chi2")
    return WaldTest(tuple(terms), w, w / q, q, int(df), float(stats.f(q, df).sf(w / q)), "F")
