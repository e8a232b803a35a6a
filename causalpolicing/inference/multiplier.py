r"""The multiplier bootstrap of an asymptotically linear estimator.

An estimator :math:`\hat\theta` (a vector of :math:`k` estimates) is asymptotically
linear when :math:`\hat\theta - \theta = \frac1n\sum_{i=1}^n \psi_i + o_p(n^{-1/2})`
with influence functions :math:`\psi_i`, one row per unit. The multiplier
bootstrap perturbs the sum instead of re-estimating: with independent multipliers
:math:`V_c` of mean 0 and variance 1, one per cluster :math:`c` (per unit without
clustering), a draw is

.. math::

    \hat\theta^*_b - \hat\theta = \frac1n \sum_c V_{cb}\, S_c, \qquad
    S_c = \sum_{i \in c} \psi_i .

This is R ``did``'s ``mboot`` (Callaway and Sant'Anna 2021, Remark 10): the
bootstrap standard error of each estimate is the interquartile range of its draws
over that of the standard normal, and the critical value of a uniform
(simultaneous) band is the ``level`` quantile of :math:`\max_j |\text{draw}_j /
\text{se}_j|` over the estimates (sup-t); both quantiles are R's type 1 (order
statistics). Estimates whose draws are all (numerically) zero -- a reference
period fixed at zero -- get no standard error and stay out of the band.

Any design with influence functions can use it (Callaway-Sant'Anna and its
aggregations here).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> psi = rng.normal(size=(400, 2))
>>> boot = multiplier_bootstrap(psi, reps=999, seed=1)
>>> analytic = np.sqrt((psi ** 2).sum(0)) / 400
>>> bool(np.all(np.abs(boot.std_errors / analytic - 1) < 0.1)), boot.draws.shape
(True, (999, 2))
>>> 1.96 < boot.crit_value < 2.6
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from .._hints import check_level
from ..exceptions import SpecError

__all__ = ["MULTIPLIER_WEIGHTS", "MultiplierBootstrap", "multiplier_bootstrap",
           "multiplier_draws"]

MULTIPLIER_WEIGHTS = ("mammen", "rademacher")
_SQ5 = np.sqrt(5.0)
# Mammen's two-point distribution: (1 - sqrt5)/2 with probability (sqrt5 + 1)/(2 sqrt5)
_MAMMEN_LOW, _MAMMEN_HIGH = (1 - _SQ5) / 2, (1 + _SQ5) / 2
_MAMMEN_P = (_SQ5 + 1) / (2 * _SQ5)
_IQR_NORMAL = float(special.ndtri(0.75) - special.ndtri(0.25))
_BLOCK = 2_000_000  # multipliers drawn at once (memory: 16 MB)


@dataclass(frozen=True)
class MultiplierBootstrap:
    """Draws and summaries of :func:`multiplier_bootstrap`.

    Attributes
    ----------
    draws
        ``(reps, k)``: the bootstrap draws of :math:`\\hat\\theta^* - \\hat\\theta`.
    std_errors
        ``(k,)``: IQR-based bootstrap standard errors (NaN for degenerate estimates).
    crit_value
        Sup-t critical value of the uniform band at ``level`` (NaN if every
        estimate is degenerate).
    level
        The confidence level of ``crit_value``.
    n_clusters
        Number of independent multipliers per draw (units, or clusters).
    weights
        ``"mammen"`` or ``"rademacher"``.
    """

    draws: np.ndarray
    std_errors: np.ndarray
    crit_value: float
    level: float
    n_clusters: int
    weights: str

    def crit_value_of(self, columns: np.ndarray | slice) -> float:
        """Sup-t critical value over a subset of the estimates (the same draws)."""
        return _sup_t(self.draws[:, columns], self.std_errors[columns], self.level)

    def band(self, estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits of the uniform band around ``estimates``."""
        est = np.asarray(estimates, dtype=float)
        half = self.crit_value * self.std_errors
        return est - half, est + half


def multiplier_draws(sums: np.ndarray, *, reps: int, n: int,
                     weights: Literal["mammen", "rademacher"] = "mammen",
                     seed: int | np.random.SeedSequence | None = None) -> np.ndarray:
    """``(reps, k)`` draws :math:`\\frac1n\\sum_c V_{cb} S_c` from cluster sums ``sums`` (G x k).

    The multipliers come in blocks of rows (draws), so memory stays bounded for
    many units; the same ``seed`` gives the same multipliers whatever ``sums`` is.
    """
    if weights not in MULTIPLIER_WEIGHTS:
        raise SpecError(f"bootstrap_weights must be one of {MULTIPLIER_WEIGHTS}; got {weights!r}.")
    rng = np.random.default_rng(seed)
    sums = np.asarray(sums, dtype=float)
    g = sums.shape[0]
    out = np.empty((reps, sums.shape[1]))
    step = max(1, _BLOCK // max(g, 1))
    for start in range(0, reps, step):
        b = min(step, reps - start)
        v = rng.random((b, g))  # uniforms, turned into the multipliers in place
        low = v < (_MAMMEN_P if weights == "mammen" else 0.5)
        v.fill(_MAMMEN_HIGH if weights == "mammen" else 1.0)
        v[low] = _MAMMEN_LOW if weights == "mammen" else -1.0
        out[start:start + b] = v @ sums
    out /= n
    return out


def _order_stat(sorted_col: np.ndarray, p: float) -> float:
    """R's ``quantile(type = 1)`` of a sorted vector: the ``ceil(len * p)``-th value."""
    m = len(sorted_col)
    return float(sorted_col[max(int(np.ceil(m * p)) - 1, 0)])


def multiplier_bootstrap(
    influence: np.ndarray,
    *,
    reps: int,
    cluster: np.ndarray | None = None,
    weights: Literal["mammen", "rademacher"] = "mammen",
    seed: int | np.random.SeedSequence | None = None,
    level: float = 0.95,
) -> MultiplierBootstrap:
    """Multiplier bootstrap of estimates with influence functions ``influence`` (n x k).

    Parameters
    ----------
    influence
        One row per unit, one column per estimate: :math:`\\psi_i` such that the
        estimate minus its target is :math:`\\frac1n\\sum_i\\psi_i` to first order.
        NaN columns (estimates that could not be computed) give NaN results.
    reps
        Number of draws (R ``did``'s ``biters``).
    cluster
        Optional cluster code per row (n,): one multiplier per cluster, applied
        to the cluster sums of the influence functions.
    weights
        ``"mammen"`` (R ``did``'s default) or ``"rademacher"``.
    seed
        Seed of the multipliers (``numpy.random.default_rng``).
    level
        Confidence level of the uniform band's critical value.

    Returns
    -------
    MultiplierBootstrap
    """
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
        raise SpecError(f"reps must be an integer >= 2 (number of bootstrap draws); got {reps!r}.")
    level = check_level(level)
    psi = np.asarray(influence, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    n = psi.shape[0]
    if cluster is None:  # no copy of the influence functions unless they hold NaNs
        sums = psi if np.isfinite(psi).all() else np.nan_to_num(psi)
        n_clusters = n
    else:
        codes, uniq = _codes(np.asarray(cluster))
        if len(codes) != n:
            raise SpecError(f"cluster has {len(codes)} entries but the influence functions "
                            f"have {n} rows; give one cluster per row.")
        n_clusters = len(uniq)
        sums = np.zeros((n_clusters, psi.shape[1]))
        np.add.at(sums, codes, np.nan_to_num(psi))
    bad = ~np.all(np.isfinite(psi), axis=0)
    draws = multiplier_draws(sums, reps=int(reps), n=n, weights=weights, seed=seed)
    draws[:, bad] = np.nan
    # R's non-degeneracy rule, on its scale of the draws (sqrt(G) * mean over clusters)
    scaled = draws * (n / np.sqrt(n_clusters))
    ok = ~bad & ((scaled ** 2).sum(axis=0) > np.sqrt(np.finfo(float).eps) * 10)
    se = np.full(psi.shape[1], np.nan)
    for j in np.flatnonzero(ok):
        col = np.sort(draws[:, j])
        se[j] = (_order_stat(col, 0.75) - _order_stat(col, 0.25)) / _IQR_NORMAL
    crit = _sup_t(draws, se, level)
    return MultiplierBootstrap(draws=draws, std_errors=se, crit_value=crit, level=level,
                               n_clusters=int(n_clusters), weights=weights)


def _sup_t(draws: np.ndarray, se: np.ndarray, level: float) -> float:
    """``level`` quantile (type 1) of ``max_j |draw_j / se_j|`` over the estimates with an SE."""
    ok = np.isfinite(se) & (se > 0)
    if not ok.any():
        return float("nan")
    tmax = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    return _order_stat(np.sort(tmax[np.isfinite(tmax)]), level)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(values, return_inverse=True)
    return codes.ravel(), uniq
