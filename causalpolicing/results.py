"""The results contract shared by every estimator.

:class:`EstimationResults` is the :class:`typing.Protocol` that tables, plots and
reports rely on (and nothing else). :class:`BaseResults` is a frozen
implementation that estimators extend: it stores the estimates, the covariance
and the inference settings, and derives standard errors, t statistics,
p-values, confidence intervals, ``tidy()`` and ``glance()`` from them. Every
accessor returns a copy, so a results object cannot be changed after it is made.

Inference uses the Student t distribution with the results' ``df_inference``
degrees of freedom (fixest's rule: clusters minus one when clustered, the
residual degrees of freedom otherwise) or the normal distribution when it is
``None``.

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS",
...                   spec={"formula": "y ~ x"})
>>> res.tidy()[["term", "estimate", "std_error", "statistic"]]
  term  estimate  std_error  statistic
0    x       2.0        0.5        4.0
>>> p = res.params
>>> p["x"] = 0.0  # changes a copy only
>>> float(res.params["x"])
2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ._hints import check_level
from .exceptions import SpecError

__all__ = ["EstimationResults", "BaseResults", "TIDY_COLUMNS"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]


@runtime_checkable
class EstimationResults(Protocol):
    """What every estimator's results expose (the report reads only this)."""

    @property
    def params(self) -> pd.Series: ...

    @property
    def std_errors(self) -> pd.Series: ...

    @property
    def cov(self) -> pd.DataFrame: ...

    @property
    def tstats(self) -> pd.Series: ...

    @property
    def pvalues(self) -> pd.Series: ...

    @property
    def nobs(self) -> int: ...

    @property
    def n_clusters(self) -> int | tuple[int, ...] | None: ...

    @property
    def cov_type(self) -> str: ...

    @property
    def estimator(self) -> str: ...

    @property
    def spec(self) -> dict[str, Any]: ...

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def conf_int(self, level: float = 0.95) -> pd.DataFrame: ...

    def tidy(self, level: float = 0.95) -> pd.DataFrame: ...

    def glance(self) -> pd.DataFrame: ...


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return [_thaw(v) for v in obj]
    return obj


class BaseResults:
    """Frozen results of a fitted model (see the module docstring).

    Parameters
    ----------
    params
        Estimates, indexed by term.
    cov
        Covariance of the estimates (terms x terms).
    nobs
        Observations used.
    df_inference
        Degrees of freedom of the t distribution, or ``None`` for the normal.
    cov_type
        Label of the covariance (e.g. ``"CRV1 by unit"``).
    estimator
        Name of the estimator (e.g. ``"FEOLS"``).
    spec
        Formula and options as a plain dict.
    n_clusters
        Number of clusters (a tuple for two-way clustering), ``None`` if not clustered.
    fit_stats
        Extra one-row fit statistics for :meth:`glance` (r2, rmse, ...).
    dropped
        The drop log (rows left out and why).
    warnings
        Diagnostic messages issued while fitting.
    """

    __slots__ = ("_params", "_cov", "_nobs", "_df", "_cov_type", "_estimator", "_spec",
                 "_n_clusters", "_fit_stats", "_dropped", "_warnings")

    def __init__(
        self,
        *,
        params: pd.Series,
        cov: pd.DataFrame,
        nobs: int,
        df_inference: int | None,
        cov_type: str,
        estimator: str,
        spec: Mapping[str, Any],
        n_clusters: int | tuple[int, ...] | None = None,
        fit_stats: Mapping[str, Any] | None = None,
        dropped: pd.DataFrame | None = None,
        warnings: tuple[str, ...] | list[str] = (),
    ) -> None:
        # float inputs (what the estimators pass) are copied directly: the same private
        # copy without the (slow) re-construction by pd.Series/pd.DataFrame
        if isinstance(params, pd.Series) and params.dtype == np.float64:
            p = params.copy()
        else:
            p = pd.Series(params, dtype=float).copy()
        if isinstance(cov, pd.DataFrame) and all(t == np.float64 for t in cov.dtypes):
            c = cov.copy()
        else:
            c = pd.DataFrame(cov, dtype=float).copy()
        if list(c.index) != list(p.index) or list(c.columns) != list(p.index):
            raise SpecError("The covariance must be indexed by the parameter names on both axes.")
        # the checked private copies are adopted like an estimator's freshly built arrays
        self._adopt(params=p, cov=c, nobs=nobs, df_inference=df_inference, cov_type=cov_type,
                    estimator=estimator, spec=spec, n_clusters=n_clusters, fit_stats=fit_stats,
                    dropped=pd.DataFrame() if dropped is None else dropped.copy(),
                    warnings=warnings)

    def _adopt(
        self,
        *,
        params: pd.Series,
        cov: pd.DataFrame,
        nobs: int,
        df_inference: int | None,
        cov_type: str,
        estimator: str,
        spec: Mapping[str, Any],
        n_clusters: int | tuple[int, ...] | None = None,
        fit_stats: Mapping[str, Any] | None = None,
        dropped: pd.DataFrame,
        warnings: tuple[str, ...] | list[str] = (),
    ) -> None:
        """Internal (estimators only): fill the fields like ``__init__`` but take ownership
        of ``params``, ``cov`` and ``dropped`` instead of copying them.

        For objects an estimator has just built (float64 ``params`` and ``cov`` indexed by
        the same parameter names) or that belong to another results object (which never
        mutates them either): every accessor still hands out copies, so the result is as
        immutable as one built by ``__init__``, without three pandas copies and the input
        checks (about 0.1 ms per fit, which matters for small models).
        """
        setattr_ = object.__setattr__
        setattr_(self, "_params", params)
        setattr_(self, "_cov", cov)
        setattr_(self, "_nobs", int(nobs))
        setattr_(self, "_df", None if df_inference is None else int(df_inference))
        setattr_(self, "_cov_type", str(cov_type))
        setattr_(self, "_estimator", str(estimator))
        setattr_(self, "_spec", _freeze(dict(spec)))
        setattr_(self, "_n_clusters", n_clusters)
        setattr_(self, "_fit_stats", _freeze(dict(fit_stats or {})))
        setattr_(self, "_dropped", dropped)
        setattr_(self, "_warnings", tuple(warnings))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; {name!r} cannot be set.")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; {name!r} cannot be deleted.")

    # ---------------------------------------------------------------- estimates
    @property
    def params(self) -> pd.Series:
        """Point estimates (a copy)."""
        return self._params.copy()

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates (a copy)."""
        return self._cov.copy()

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors."""
        return pd.Series(np.sqrt(np.diag(self._cov.to_numpy())), index=self._params.index,
                         name="std_error")

    @property
    def tstats(self) -> pd.Series:
        """Estimate divided by its standard error."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self._params / self.std_errors).rename("statistic")

    @property
    def df_inference(self) -> int | None:
        """Degrees of freedom of the t reference distribution (``None``: normal)."""
        return self._df

    def _sf(self, x: np.ndarray) -> np.ndarray:
        """Upper tail of the reference distribution (scipy.special, imported when needed)."""
        from scipy import special

        return special.ndtr(-x) if self._df is None else special.stdtr(self._df, -x)

    def _ppf(self, p: float) -> float:
        from scipy import special

        return float(special.ndtri(p) if self._df is None else special.stdtrit(self._df, p))

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of estimate = 0."""
        t = self.tstats.to_numpy()
        return pd.Series(2 * self._sf(np.abs(t)), index=self._params.index,
                         name="p_value")

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Confidence intervals, columns ``conf_low`` and ``conf_high``.

        Parameters
        ----------
        level
            Coverage, strictly between 0 and 1.
        """
        level = check_level(level)
        q = self._ppf(0.5 + level / 2)
        se = self.std_errors
        return pd.DataFrame({"conf_low": self._params - q * se,
                             "conf_high": self._params + q * se})

    # --------------------------------------------------------------- metadata
    @property
    def nobs(self) -> int:
        """Observations used in estimation."""
        return self._nobs

    @property
    def n_clusters(self) -> int | tuple[int, ...] | None:
        """Clusters (a tuple for two-way clustering, periods for DK), ``None`` otherwise."""
        return self._n_clusters

    @property
    def cov_type(self) -> str:
        """Covariance label, e.g. ``CRV1 by unit``."""
        return self._cov_type

    @property
    def estimator(self) -> str:
        """Name of the estimator."""
        return self._estimator

    @property
    def spec(self) -> dict[str, Any]:
        """Formula and options as a plain dict (a copy)."""
        return _thaw(self._spec)

    @property
    def dropped(self) -> pd.DataFrame:
        """Rows left out of the estimation, with column and reason (a copy)."""
        return self._dropped.copy()

    @property
    def warnings(self) -> tuple[str, ...]:
        """Diagnostic messages issued while fitting."""
        return self._warnings

    # ------------------------------------------------------------------ tables
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``."""
        ci = self.conf_int(level)
        out = pd.DataFrame({
            "term": list(self._params.index),
            "estimate": self._params.to_numpy(),
            "std_error": self.std_errors.to_numpy(),
            "statistic": self.tstats.to_numpy(),
            "p_value": self.pvalues.to_numpy(),
            "conf_low": ci["conf_low"].to_numpy(),
            "conf_high": ci["conf_high"].to_numpy(),
        })
        return out[TIDY_COLUMNS]

    def glance(self) -> pd.DataFrame:
        """One row of fit statistics."""
        row: dict[str, Any] = {"estimator": self._estimator, "nobs": self._nobs}
        row.update(_thaw(self._fit_stats))
        row["n_clusters"] = self._n_clusters if not isinstance(self._n_clusters, tuple) else (
            min(self._n_clusters))
        row["cov_type"] = self._cov_type
        return pd.DataFrame([row])

    def __repr__(self) -> str:
        terms = ", ".join(f"{k}={v:.4g}" for k, v in list(self._params.items())[:4])
        more = ", ..." if len(self._params) > 4 else ""
        return (f"<{type(self).__name__}: {self._estimator}, {self._nobs} obs, "
                f"{self._cov_type}; {terms}{more}>")
