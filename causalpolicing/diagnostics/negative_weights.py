r"""The de Chaisemartin-D'Haultfœuille weights of a two-way fixed-effects coefficient.

Under parallel trends, the coefficient :math:`\hat\beta_{fe}` of
``y ~ D | unit + time`` estimates a weighted sum of the average treatment effects
:math:`\Delta_{g,t}` of the treated (unit, period) cells,

.. math::

    E[\hat\beta_{fe}] = \sum_{(g,t): D_{g,t} \ne 0} w_{g,t}\, \Delta_{g,t},
    \qquad w_{g,t} = \frac{N_{g,t}\, D_{g,t}\, \varepsilon_{g,t}}
                        {\sum_{(g',t')} N_{g',t'}\, D_{g',t'}\, \varepsilon_{g',t'}},

where :math:`\varepsilon_{g,t}` is the residual of the regression of the treatment
on unit and period fixed effects (and the controls), and the weights sum to one
(de Chaisemartin and D'Haultfœuille 2020, *American Economic Review* 110(9),
Theorem 1; the ``feTR`` case of their ``twowayfeweights`` command). Negative
weights mean that :math:`\hat\beta_{fe}` can be negative when every cell's effect
is positive. Two robustness measures follow (their Corollary 1):

* :math:`\underline\sigma_{fe} = |\hat\beta_{fe}| / \sigma(w)`, the smallest
  standard deviation of the cell effects compatible with :math:`\hat\beta_{fe}`
  and an average effect of zero among the treated (``sigma_zero``);
* the smallest standard deviation compatible with :math:`\hat\beta_{fe}` and
  cell effects all of the opposite sign (``sigma_sign``; only with negative weights).

:math:`\sigma(w)` is the standard deviation of the weights :math:`W_{g,t} =
w_{g,t} / s_{g,t}` (:math:`s_{g,t}` the cell's share of the treated observations)
weighted by :math:`s_{g,t}`, computed as Stata's ``summarize [aw=]`` does (divisor
:math:`n - 1`), so that both measures reproduce the authors' R and Stata commands.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from causalpolicing.diagnostics import twfe_weights
>>> df = pd.DataFrame({"g": np.repeat([1, 2, 3], 4), "t": np.tile([1, 2, 3, 4], 3)})
>>> df["d"] = ((df.g == 1) & (df.t >= 2) | (df.g == 2) & (df.t >= 4)).astype(float)
>>> df["y"] = df.d * (1 + df.t) + 0.1 * df.g
>>> w = twfe_weights(df, outcome="y", treatment="d", unit="g", time="t")
>>> w.n_negative, round(w.sum_negative, 4), round(float(w.weights.weight.sum()), 12)
(1, -0.1, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._hints import did_you_mean
from ..core.demean import demean
from ..core.fe_structure import factorize
from ..data.panel import Panel
from ..exceptions import SpecError

__all__ = ["TWFEWeights", "twfe_weights"]

#: Weights smaller than this in absolute value are set to zero (as ``twowayfeweights``).
ZERO = 1e-10
TYPES = ("feTR",)


@dataclass(frozen=True)
class TWFEWeights:
    """The weights of a TWFE coefficient on the treated cells' effects.

    Attributes
    ----------
    weights
        One row per treated (unit, period) cell: ``unit, time, treatment, n``
        (observations in the cell), ``weight`` (:math:`w_{g,t}`; they sum to one)
        and ``w_ratio`` (:math:`W_{g,t}`, the weight over the cell's share).
    beta
        The TWFE coefficient of the treatment.
    n_positive, n_negative, sum_positive, sum_negative
        Counts and sums of the positive and negative weights.
    sigma_zero
        Smallest SD of the cell effects compatible with ``beta`` and a zero
        average effect among the treated (R ``sensibility``).
    sigma_sign
        Smallest SD compatible with ``beta`` and effects all of the sign opposite
        to ``beta`` (R ``sensibility2``); ``None`` without negative weights.
    """

    weights: pd.DataFrame
    beta: float
    n_positive: int
    n_negative: int
    sum_positive: float
    sum_negative: float
    sigma_zero: float
    sigma_sign: float | None
    outcome: str
    treatment: str
    unit: str
    time: str
    type: str = "feTR"
    notes: tuple[str, ...] = field(default=())

    @property
    def n_weights(self) -> int:
        """Number of non-zero weights."""
        return self.n_positive + self.n_negative

    def summary(self) -> pd.DataFrame:
        """One row per sign: ``sign, n, sum`` (and a total row), as the authors' command prints."""
        return pd.DataFrame({
            "sign": ["positive", "negative", "total"],
            "n": [self.n_positive, self.n_negative, self.n_weights],
            "sum": [self.sum_positive, self.sum_negative, self.sum_positive + self.sum_negative],
        })

    def tidy(self) -> pd.DataFrame:
        """One row of the headline numbers (``beta``, counts, sums, both sigmas)."""
        return pd.DataFrame([{
            "treatment": self.treatment, "beta": self.beta, "n_positive": self.n_positive,
            "n_negative": self.n_negative, "sum_positive": self.sum_positive,
            "sum_negative": self.sum_negative, "sigma_zero": self.sigma_zero,
            "sigma_sign": np.nan if self.sigma_sign is None else self.sigma_sign}])

    def narrative(self) -> str:
        """A sentence for a report."""
        n = self.n_weights
        if self.n_negative == 0:
            head = (f"All {n} weights of the TWFE coefficient on the treated cells' effects "
                    "are non-negative")
        else:
            head = (f"{self.n_negative} of {n} weights of the TWFE coefficient on the treated "
                    f"cells' effects are negative, summing to {self.sum_negative:.4g}")
        return (f"{head} (de Chaisemartin and D'Haultfœuille 2020); the coefficient "
                f"{self.beta:.4g} would be compatible with a zero average effect if the "
                f"cells' effects had a standard deviation of {self.sigma_zero:.4g}.")


def twfe_weights(
    data: Any,
    *,
    outcome: str,
    treatment: str,
    unit: str | None = None,
    time: str | None = None,
    controls: Sequence[str] = (),
    type: str = "feTR",
) -> TWFEWeights:
    """The weights of ``outcome ~ treatment + controls | unit + time`` on the cells' effects.

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel` or a DataFrame.
    outcome, treatment
        Outcome and treatment columns (the treatment binary or not; it is
        replaced by its mean within each (unit, period) cell, as the authors' command does).
    unit, time
        The group and period columns (default: the Panel's roles).
    controls
        Further regressors of the TWFE regression (replaced by their cell means).
    type
        ``"feTR"`` (the fixed-effects regression under parallel trends); the
        first-difference and stable-effects variants are not implemented.

    Returns
    -------
    TWFEWeights

    Raises
    ------
    SpecError
        A missing column, another ``type``, a treatment without variation after
        the fixed effects.
    """
    if type not in TYPES:
        raise SpecError(f"type={type!r} is not implemented; twfe_weights computes the "
                        f"fixed-effects weights under parallel trends: type='feTR'"
                        f"{did_you_mean(str(type), ('feTR', 'fdTR', 'feS', 'fdS'))}.")
    if isinstance(data, Panel):
        frame = data.to_frame()
        unit = data.unit if unit is None else unit
        time = data.time if time is None else time
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise SpecError(f"twfe_weights needs a Panel or a DataFrame; got {data.__class__.__name__}.")
    controls = (controls,) if isinstance(controls, str) else tuple(controls)
    for name, col in [("outcome", outcome), ("treatment", treatment), ("unit", unit),
                      ("time", time), *[("controls", c) for c in controls]]:
        if col is None or col not in frame.columns:
            raise SpecError(f"{name}={col!r} is not a column of the data"
                            f"{did_you_mean(str(col), list(map(str, frame.columns)))}; "
                            f"columns: {list(frame.columns)[:20]}.")
    cols = [outcome, treatment, *controls]
    keep = frame[[unit, time]].notna().all(axis=1) & frame[cols].notna().all(axis=1)
    sub = frame.loc[keep.to_numpy()]
    g, _ = factorize(sub[unit])
    t, nt = factorize(sub[time])
    cell, _ = factorize([pd.Series(g), pd.Series(t)])
    notes = []
    vals = {}
    for c in (treatment, *controls):
        v = sub[c].to_numpy(dtype=float)
        m = pd.Series(v).groupby(cell).transform("mean").to_numpy()
        if np.any(np.abs(v - m) > 1e-12 * max(1.0, float(np.abs(v).max()))):
            notes.append(f"{c!r} varies within (unit, period) cells; replaced by its cell mean.")
        vals[c] = m
    y = sub[outcome].to_numpy(dtype=float)
    d = vals[treatment]
    Z = np.column_stack([d, *[vals[c] for c in controls]])
    Zt, _ = demean(Z, [g, t], tol=1e-13, direct=True)
    dt = Zt[:, 0]
    if controls:
        Xt = Zt[:, 1:]
        gamma, *_ = np.linalg.lstsq(Xt, dt, rcond=None)
        e = dt - Xt @ gamma
    else:
        e = dt
    ed = float(e @ d)
    if abs(ed) <= 1e-12 * max(1.0, float(d @ d)):
        raise SpecError(f"treatment {treatment!r} has no variation left after the unit and "
                        "period fixed effects (and controls): the TWFE coefficient is not "
                        "identified.")
    beta = float(e @ y) / ed
    n = len(d)
    first = pd.Series(np.arange(n)).groupby(cell).first().to_numpy()
    n_cell = np.bincount(cell)
    share = n_cell / n
    mean_d = float(d.mean())
    nat = share * d[first] / mean_d                 # the cells' shares of the treatment
    W = e[first] * mean_d / (ed / n)                 # weight over share
    weight = W * nat
    weight[np.abs(weight) < ZERO] = 0.0
    treated = nat != 0
    out = pd.DataFrame({unit: sub[unit].to_numpy()[first], time: sub[time].to_numpy()[first],
                        "treatment": d[first], "n": n_cell, "weight": weight, "w_ratio": W})
    out = out.loc[treated].sort_values([unit, time], kind="stable").reset_index(drop=True)
    pos, neg = weight > 0, weight < 0
    sigma_zero = abs(beta) / _aw_sd(W[treated], nat[treated])
    sigma_sign = (_sigma_sign(beta, W, weight, nat, g[first], t[first])
                  if weight[neg].sum() < 0 else None)
    return TWFEWeights(weights=out, beta=beta, n_positive=int(pos.sum()),
                       n_negative=int(neg.sum()), sum_positive=float(weight[pos].sum()),
                       sum_negative=float(weight[neg].sum()), sigma_zero=float(sigma_zero),
                       sigma_sign=sigma_sign, outcome=outcome, treatment=treatment, unit=unit,
                       time=time, type=type, notes=tuple(notes))


def _aw_sd(x: np.ndarray, w: np.ndarray) -> float:
    """Stata's ``summarize x [aw=w]`` standard deviation (divisor n - 1)."""
    ok = w != 0
    x, w = x[ok], w[ok]
    k = len(x)
    if k < 2:
        return float("nan")
    m = float(w @ x / w.sum())
    return float(np.sqrt(w @ (x - m) ** 2 / w.sum() * k / (k - 1)))


def _sigma_sign(beta: float, W: np.ndarray, weight: np.ndarray, nat: np.ndarray,
                g: np.ndarray, t: np.ndarray) -> float | None:
    """The second robustness measure: cumulate the cells from the most negative ratio up
    (ties broken as Stata's sort does) until the remaining weights cannot offset them."""
    k = weight != 0
    W, weight, nat, g, t = W[k], weight[k], nat[k], g[k], t[k]
    n = len(W)
    asc = np.lexsort((-t, -g, W))            # sort W -G -T
    P = np.empty(n)
    S = np.empty(n)
    T = np.empty(n)
    P[asc] = np.cumsum(nat[asc])
    S[asc] = np.cumsum(weight[asc])
    T[asc] = np.cumsum((nat * W ** 2)[asc])
    desc = np.lexsort((t, g, -W))            # then by -W G T
    W, P, S, T = W[desc], P[desc], S[desc], T[desc]
    denom = 1.0 - P
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(denom == 0, np.nan, S / denom)
        inner = np.where(denom == 0, np.nan, T + S ** 2 / denom)
        sens = np.where(inner > 0, abs(beta) / np.sqrt(np.where(inner > 0, inner, 1.0)), np.nan)
    ind = np.isnan(q) | (W < -q)
    ind[0] = False
    ind = np.maximum.accumulate(ind)
    tot = int(ind.sum())
    if tot == 0 or np.isnan(sens[n - tot]):
        return None
    return float(sens[n - tot])
