r"""Covariance types robust to serial correlation: ``DK`` (Driscoll-Kraay, panels) and
``HAC`` (Newey-West, one time series; the GLMs).

Both weight the autocovariances of the scores at lags :math:`1..L` with the
Bartlett kernel :math:`1 - j/(L+1)`; the default lag is
:math:`\lfloor 4 (T/100)^{2/9} \rfloor` (:math:`T` periods for DK, observations
for HAC).

>>> from causalpolicing.inference.covariance.serial import DK, HAC
>>> DK.from_value({"time": "year", "lag": 2}, {}).label()
'DK by year (lag 2)'
>>> HAC.from_value(3, {}).label()
'HAC (Newey-West, 3 lags)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...exceptions import SpecError
from ._base import Covariance, Sandwich, SandwichPart, VcovRequest, cluster_sums, valid_text

__all__ = ["DK", "HAC"]


def _auto_lag(t: int) -> int:
    return int(np.floor(4 * (t / 100) ** (2 / 9)))


class DK(Covariance):
    r"""Driscoll-Kraay: the scores summed per period, :math:`\xi_t`, then
    :math:`c\, B \big(\sum_t \xi_t\xi_t' + \sum_{j=1}^{L} (1 - \tfrac{j}{L+1})
    (\Gamma_j + \Gamma_j')\big) B` with :math:`\Gamma_j = \sum_t \xi_t \xi_{t-j}'`.
    Factor :math:`c = \frac{T}{T-1}\frac{N-1}{N-K}` (fixest and Stata conventions,
    no nesting), :math:`N/(N-K)` (``"linearmodels"``), 1 (``"none"``); t with
    :math:`T-1` degrees of freedom."""

    name = "DK"
    kind = "hac"
    options = ("time", "lag")
    aliases = ("driscoll-kraay",)
    families = ("linear", "poisson")
    conventions = {"fixest": "T/(T-1) (N-1)/(N-K)", "stata_xtreg": "T/(T-1) (N-1)/(N-K)",
                   "stata_areg": "T/(T-1) (N-1)/(N-K)", "linearmodels": "N/(N-K)",
                   "none": "1"}
    examples = ("{'DK': 'year'}", "{'DK': {'time': 'year', 'lag': 2}}")
    description = "Driscoll-Kraay"
    needs_value = True

    @classmethod
    def from_value(cls, value: Any, given: Mapping[str, Any]) -> VcovRequest:
        if isinstance(value, str):
            return VcovRequest("DK", time=value)
        if isinstance(value, Mapping):
            unknown = set(value) - {"time", "lag"}
            if unknown or "time" not in value:
                raise SpecError(
                    f"DK options are 'time' (required) and 'lag'; got {sorted(value)}."
                )
            lag = value.get("lag")
            if lag is not None and (not isinstance(lag, (int, np.integer)) or lag < 0):
                raise SpecError(f"DK 'lag' must be a non-negative integer; got {lag!r}.")
            return VcovRequest("DK", time=str(value["time"]),
                               lag=None if lag is None else int(lag))
        raise SpecError(f"DK needs a time column name; got {value!r}. {valid_text()}")

    @classmethod
    def label(cls, request: VcovRequest) -> str:
        lag = request.lag if request.lag is not None else "auto"
        return f"DK by {request.time} (lag {lag})"

    @classmethod
    def as_spec(cls, request: VcovRequest) -> str | dict[str, Any]:
        return {"DK": {"time": request.time, "lag": request.lag}}

    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        if s.time_codes is None:
            raise SpecError("DK needs the time variable's codes.")
        n, ssc, bread = s.n, s.ssc, s.inp.bread
        t = np.asarray(s.time_codes)
        n_t = int(t.max()) + 1
        lag = s.request.lag
        if lag is None:
            lag = _auto_lag(n_t)
        if lag >= n_t:
            raise SpecError(f"The DK lag ({lag}) must be below the number of periods ({n_t}).")
        xi = cluster_sums(s.scores, t)
        meat = xi.T @ xi
        for j in range(1, lag + 1):
            gam = xi[j:].T @ xi[:-j]
            meat += (1 - j / (lag + 1)) * (gam + gam.T)
        if ssc == "linearmodels":
            ssc_factor = n / (n - s.k_adj)
        elif ssc == "none":
            ssc_factor = 1.0
        else:
            ssc_factor = s.adj * n_t / (n_t - 1)
        cov = ssc_factor * bread @ meat @ bread
        return SandwichPart(cov, ssc_factor, n_t - 1, VcovRequest("DK", time=s.request.time,
                                                                 lag=lag), (n_t,))


class HAC(Covariance):
    r"""Newey-West for a single time series (the GLMs): statsmodels'
    ``cov_type="HAC"`` with ``maxlags`` :math:`L` (default
    :math:`\lfloor 4 (N/100)^{2/9} \rfloor`), no small-sample factor. Ask
    ``"HAC"`` (also ``"nw"``, ``"newey-west"``), ``{"HAC": lags}`` or
    ``{"HAC": {"lags": n}}``. For panels use ``DK`` with ``feols``/``fepois``."""

    name = "HAC"
    kind = "hac"
    options = ("lags",)
    aliases = ("nw", "newey-west")
    families = ("glm",)
    conventions = {"glm": "1"}
    examples = ("'HAC'", "{'HAC': 2}")
    description = "Newey-West, one time series (GLMs)"

    @classmethod
    def from_value(cls, value: Any, given: Mapping[str, Any]) -> VcovRequest:
        lags = value.get("lags") if isinstance(value, Mapping) else value
        if isinstance(value, Mapping) and set(value) - {"lags"}:
            raise SpecError(f"HAC takes one option, 'lags'; got {sorted(value)}. "
                            f"{valid_text()}")
        if lags is not None and (isinstance(lags, bool) or not isinstance(
                lags, (int, np.integer)) or lags < 0):
            raise SpecError(f"HAC lags must be a non-negative integer; got {lags!r}.")
        return VcovRequest("HAC", lag=None if lags is None else int(lags))

    @classmethod
    def label(cls, request: VcovRequest) -> str:
        lags = request.lag if request.lag is not None else "auto"
        return f"HAC (Newey-West, {lags} lags)"

    @classmethod
    def as_spec(cls, request: VcovRequest) -> str | dict[str, Any]:
        return {"HAC": request.lag}

    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        lags = request.lag if request.lag is not None else _auto_lag(n_obs)
        return "HAC", {"maxlags": lags}, False

    @classmethod
    def from_statsmodels(cls, request: VcovRequest, cov: np.ndarray, sm_res: Any, *, n: int,
                         n_params: int, cluster_codes: Mapping[str, np.ndarray]
                         ) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None, str,
                                    list[str]]:
        return cov, None, None, f"HAC (Newey-West, {sm_res.cov_kwds['maxlags']} lags)", []
