"""One tie convention for every resampling and permutation p-value in the package.

A resampling p-value is the share of draws whose statistic is *at least as
extreme* as the observed one. "At least as" is the convention here, with a
relative tolerance, for three reasons:

* **The identity draw counts.** Under the null, the observed data are one of the
  equally likely resamples (a randomization test counts the observed assignment;
  a wild bootstrap with Rademacher weights enumerates the sign vector of ones,
  whose statistic *is* the observed one, and its mirror image). A rule that
  excludes ties can therefore report p = 0, which the design cannot justify:
  with ``G`` clusters and full Rademacher enumeration the smallest attainable
  two-sided p-value is :math:`2/2^G` (the identity draw and its mirror), e.g.
  0.25 with three clusters.
* **Ties must not depend on the last bit.** The bootstrap statistics are
  computed along another algebraic path than the observed one, so a draw that
  ties it in exact arithmetic differs from it by a few units in the last place,
  up or down, depending on BLAS, CPU and library versions. Draws within

  .. math:: \\text{tol} = 10^{-9}\\,\\max\\bigl(|t|,\\ \\operatorname{median}_b |t^*_b|\\bigr)

  of the observed value count as ties (the median over the first 101 draws).
  Rounding errors of these computations are around :math:`10^{-15}`-:math:`10^{-12}` relative (more with badly
  conditioned regressors), so :math:`10^{-9}` leaves three orders of magnitude
  of margin; and it is far below anything a p-value can resolve (a continuous
  statistic falls within :math:`10^{-9}` of the observed one with probability
  of order :math:`10^{-9}`, against a resolution of :math:`1/B`). The scale is
  the larger of the observed statistic and the median absolute draw, so the rule
  is the same whatever the units (t statistics or coefficients) and still
  meaningful when the observed statistic is zero.
* **Conservative, never anti-conservative.** Counting ties can only raise a
  p-value, by at most (number of ties)/B.

Other programs differ: ``wildboottest`` (Python, used by pyfixest),
``fwildclusterboot`` (R) and ``WildBootTests.jl`` (the Julia engine of Stata's boottest)
all count draws *strictly* more extreme (``|t| < |t*_b|``) although their full
enumeration includes the identity draw, so whether its tie counts depends on
rounding there; their p-values are ours minus at most (number of ties)/B.

>>> resampling_pvalue(np.array([0.5, -2.0, 2.0 + 1e-15, 3.0]), 2.0)
0.75
>>> resampling_pvalue(np.array([0.5, -2.0, 2.0, 3.0]), 2.0, "greater")
0.5
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["TIE_RTOL", "P_KINDS", "SCALE_DRAWS", "tie_tolerance", "resampling_pvalue", "resampling_pvalues"]

#: Relative tolerance within which a draw ties the observed statistic (module notes).
TIE_RTOL = 1e-9
PKind = Literal["symmetric", "equal-tailed", "greater", "less"]
#: ``symmetric``: :math:`|t^*| \ge |t|`; ``equal-tailed``: twice the smaller tail;
#: ``greater``: :math:`t^* \ge t`; ``less``: :math:`t^* \le t`.
P_KINDS: tuple[str, ...] = ("symmetric", "equal-tailed", "greater", "less")
#: Draws per row whose median absolute value sets the tolerance's scale.
SCALE_DRAWS = 101


def tie_tolerance(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """The tie tolerance per row: ``TIE_RTOL * max(|observed|, median |draws|)``.

    ``draws`` is (m x B), ``observed`` (m,). The median is taken over the first
    :data:`SCALE_DRAWS` draws of each row: it only sets the order of magnitude,
    and the full median would cost more than the p-value itself in the interval
    search. Non-finite draws sort last.
    """
    a = np.abs(draws[:, :SCALE_DRAWS])
    if a.shape[1] == 0:
        return TIE_RTOL * np.abs(observed)
    a[np.isnan(a)] = np.inf
    mid = a.shape[1] // 2  # the (upper) median; np.median's overhead dominates here
    spread = np.partition(a, mid, axis=1)[:, mid]
    spread[~np.isfinite(spread)] = 0.0
    return TIE_RTOL * np.maximum(np.abs(observed), spread)


def resampling_pvalues(draws: np.ndarray, observed: np.ndarray, kind: str = "symmetric", *,
                       plus_one: bool = False, drop_nonfinite: bool = False) -> np.ndarray:
    """p-values of ``observed`` (m,) against the rows of ``draws`` (m x B), ties counted.

    Parameters
    ----------
    draws
        Resampled statistics, one row per observed statistic, already centred
        as the test requires (e.g. :math:`t^*_b` under the null).
    observed
        The observed statistics.
    kind
        One of :data:`P_KINDS`. ``equal-tailed`` is
        :math:`\\min(1, 2\\min(P(t^* \\le t), P(t^* \\ge t)))`.
    plus_one
        Randomization-test form :math:`(1 + \\#\\{\\ldots\\})/(1 + B)`, for draws
        that do not include the observed assignment.
    drop_nonfinite
        Drop non-finite draws from the count and the denominator; otherwise
        they stay in the denominator and never count as extreme (a bootstrap
        draw with a zero standard error).

    Returns
    -------
    numpy.ndarray
        (m,) p-values.
    """
    if kind not in P_KINDS:
        raise ValueError(f"kind must be one of {list(P_KINDS)}; got {kind!r}.")
    d = np.atleast_2d(np.asarray(draws, dtype=float))
    t = np.atleast_1d(np.asarray(observed, dtype=float))
    tol = tie_tolerance(d, t)[:, None]
    tc = t[:, None]
    if kind == "symmetric":
        hits = [np.abs(d) >= np.abs(tc) - tol]
    elif kind == "greater":
        hits = [d >= tc - tol]
    elif kind == "less":
        hits = [d <= tc + tol]
    else:
        hits = [d <= tc + tol, d >= tc - tol]
    # NaN compares False; +-inf must not count either, and may leave the denominator
    infinite = np.isinf(d)
    if infinite.any():
        hits = [h & ~infinite for h in hits]
    n = np.full(d.shape[0], d.shape[1])
    if drop_nonfinite:
        n = n - np.count_nonzero(~np.isfinite(d), axis=1)
    extra = 1 if plus_one else 0
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = [(np.count_nonzero(h, axis=1) + extra) / (n + extra) for h in hits]
    if kind == "equal-tailed":
        return np.minimum(1.0, 2.0 * np.minimum(shares[0], shares[1]))
    return shares[0]


def resampling_pvalue(draws: np.ndarray, observed: float, kind: str = "symmetric", *,
                      plus_one: bool = False, drop_nonfinite: bool = False) -> float:
    """One p-value of ``observed`` against the 1-d ``draws`` (see :func:`resampling_pvalues`)."""
    d = np.asarray(draws, dtype=float).reshape(1, -1)
    return float(resampling_pvalues(d, np.array([observed], dtype=float), kind,
                                    plus_one=plus_one, drop_nonfinite=drop_nonfinite)[0])
