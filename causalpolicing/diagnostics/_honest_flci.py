r"""The fixed-length confidence interval (FLCI) under smoothness restrictions :math:`\Delta^{SD}(M)`.

Rambachan & Roth (2023, Section 4.1; Armstrong & Kolesár 2018): among affine estimators
:math:`\hat\theta = a'\hat\beta_{pre} + l'\hat\beta_{post}` the interval
:math:`\hat\theta \pm \chi` with :math:`\chi = h\,cv_\alpha(\bar b / h)` has the shortest
length, where :math:`h` is the estimator's standard deviation, :math:`\bar b` its worst-case
bias over :math:`\Delta^{SD}(M) = \{\delta: |(\delta_{t+1} - \delta_t) - (\delta_t -
\delta_{t-1})| \le M\}` and :math:`cv_\alpha(t)` the :math:`1-\alpha` quantile of
:math:`|N(t, 1)|`. As in R ``HonestDiD::findOptimalFLCI`` the pre-period weights are
written :math:`a = D w` (:math:`D` the first-difference matrix), the bias is
:math:`M(\text{const} + \sum_j |\sum_{i \le j} w_i|)` subject to :math:`\sum_i w_i =
\sum_t t\, l_t`, and the length is minimised over :math:`h` between the minimum-variance
estimator and the minimum-bias one. Differences from R: the folded-normal quantile is exact
(R simulates it with :math:`10^6` draws, an error of about :math:`10^{-3} h`); the bias
problem is solved by SLSQP (R: ECOS through CVXR) and :math:`h` by Brent's method on the
convex length (R: bisection on numerical derivatives).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

__all__ = ["FLCI", "flci", "folded_normal_quantile", "sd_default_grid"]


@dataclass(frozen=True)
class FLCI:
    """One FLCI: ``lower``, ``upper``, ``half_length``, the weights on betahat, ``h``."""

    lower: float
    upper: float
    half_length: float
    weights: np.ndarray
    h: float


def folded_normal_quantile(p: float, mu: float) -> float:
    """The ``p`` quantile of :math:`|X|`, :math:`X \\sim N(\\mu, 1)` (exact, by root finding).

    >>> round(folded_normal_quantile(0.95, 0.0), 6)
    1.959964
    """
    mu = abs(float(mu))

    def cdf(c: float) -> float:
        return float(special.ndtr(c - mu) - special.ndtr(-c - mu)) - p

    hi = mu + 10.0
    while cdf(hi) < 0:
        hi *= 2
    return float(optimize.brentq(cdf, 0.0, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps))


def _diff_matrix(k: int) -> np.ndarray:
    """w -> a: a_1 = w_1, a_j = w_j - w_{j-1} (R's ``.wToLFn``)."""
    return np.eye(k) - np.eye(k, k=-1)


class _Problem:
    """The pieces of the FLCI optimisation for one (sigma, l): variance and bias of w."""

    def __init__(self, sigma: np.ndarray, num_pre: int, l_vec: np.ndarray) -> None:
        k, t = num_pre, len(l_vec)
        self.k = k
        d = _diff_matrix(k)
        s_pre = sigma[:k, :k]
        s_pp = sigma[:k, k:]
        self.quad = d.T @ s_pre @ d                 # w' Q w
        self.lin = 2 * d.T @ s_pp @ l_vec            # + q' w
        self.const = float(l_vec @ sigma[k:, k:] @ l_vec)
        self.d = d
        self.sum_w = float(np.arange(1, t + 1) @ l_vec)
        self.bias_const = float(sum(abs(np.arange(1, s + 1) @ l_vec[t - s:])
                                    for s in range(1, t + 1)) - self.sum_w)
        self.l_vec = l_vec

    def var(self, w: np.ndarray) -> float:
        return float(w @ self.quad @ w + self.lin @ w + self.const)

    def bias(self, w: np.ndarray) -> float:
        """Worst-case bias at M = 1 (R's objective)."""
        return self.bias_const + float(np.abs(np.cumsum(w)).sum())

    def min_variance_w(self) -> np.ndarray:
        """argmin var(w) s.t. sum(w) = sum_w (the KKT system, least squares if singular)."""
        k = self.k
        kkt = np.zeros((k + 1, k + 1))
        kkt[:k, :k] = 2 * self.quad
        kkt[:k, k] = 1.0
        kkt[k, :k] = 1.0
        rhs = np.concatenate([-self.lin, [self.sum_w]])
        sol = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
        return sol[:k]

    def min_bias_w(self) -> np.ndarray:
        w = np.zeros(self.k)
        w[-1] = self.sum_w
        return w

    def min_bias_given_h(self, h: float, start: np.ndarray) -> np.ndarray:
        """argmin bias(w) s.t. var(w) <= h^2, sum(w) = sum_w (variables (U, w), U >= |cumsum w|)."""
        k = self.k
        low = np.tril(np.ones((k, k)))
        h2 = h * h
        x0 = np.concatenate([np.abs(np.cumsum(start)), start])
        a_abs = np.vstack([np.hstack([np.eye(k), -low]), np.hstack([np.eye(k), low])])
        cons = [
            {"type": "ineq", "fun": lambda x: a_abs @ x, "jac": lambda x: a_abs},
            {"type": "eq", "fun": lambda x: np.array([x[k:].sum() - self.sum_w]),
             "jac": lambda x: np.concatenate([np.zeros(k), np.ones(k)])[None, :]},
            {"type": "ineq", "fun": lambda x: np.array([(h2 - self.var(x[k:])) / h2]),
             "jac": lambda x: np.concatenate(
                 [np.zeros(k), -(2 * self.quad @ x[k:] + self.lin) / h2])[None, :]},
        ]
        obj = np.concatenate([np.ones(k), np.zeros(k)])
        res = optimize.minimize(lambda x: float(obj @ x), x0, jac=lambda x: obj,
                                constraints=cons, method="SLSQP",
                                options={"ftol": 1e-15, "maxiter": 1000})
        w = res.x[k:]
        # SLSQP may end a hair outside the variance constraint; the result is kept only if
        # it is (nearly) feasible, else the feasible start
        if self.var(w) > h2 * (1 + 1e-8) or abs(w.sum() - self.sum_w) > 1e-8 * max(
                1.0, abs(self.sum_w)):
            return start
        return w


def flci(betahat: np.ndarray, sigma: np.ndarray, num_pre: int, l_vec: np.ndarray, m: float,
         alpha: float) -> FLCI:
    """The optimal FLCI for :math:`l'\\tau_{post}` under :math:`\\Delta^{SD}(M)`."""
    prob = _Problem(sigma, num_pre, l_vec)
    w_var = prob.min_variance_w()
    h_min = float(np.sqrt(max(prob.var(w_var), 0.0)))
    w_bias = prob.min_bias_w()
    h_max = float(np.sqrt(max(prob.var(w_bias), 0.0)))
    q = 1 - alpha

    def solve(h: float) -> np.ndarray:
        if h <= h_min:
            return w_var
        return prob.min_bias_given_h(h, w_var)

    def half(h: float) -> float:
        w = solve(h)
        return folded_normal_quantile(q, m * prob.bias(w) / h) * h

    if m == 0 or h_max <= h_min * (1 + 1e-12):
        h_star = h_min
    else:
        res = optimize.minimize_scalar(half, bounds=(h_min, h_max), method="bounded",
                                       options={"xatol": 1e-10 * h_max})
        h_star = float(res.x)
        # the optimum may sit at an end of [h_min, h_max] (the length is convex in h)
        ends = {h_min: half(h_min), h_max: half(h_max)}
        best_end = min(ends, key=ends.__getitem__)
        if ends[best_end] < half(h_star):
            h_star = best_end
    w = solve(h_star)
    # as R: the half-length at the variance bound h* (binding at the optimum)
    chi = folded_normal_quantile(q, m * prob.bias(w) / h_star) * h_star if h_star > 0 else 0.0
    weights = np.concatenate([prob.d @ w, l_vec])
    center = float(weights @ betahat)
    return FLCI(lower=center - chi, upper=center + chi, half_length=chi, weights=weights,
                h=h_star)


def sd_default_grid(betahat: np.ndarray, sigma: np.ndarray, num_pre: int,
                    n: int = 10) -> np.ndarray:
    """R's default M grid: 10 values from 0 to ``DeltaSD_upperBound_Mpre`` (95% one-sided
    upper bound of the largest pre-period second difference; ``sqrt(sigma[0, 0])`` with one
    pre-period)."""
    if num_pre == 1:
        return np.linspace(0.0, float(np.sqrt(sigma[0, 0])), n)
    # second differences of (beta_pre, 0): rows (1, -2, 1), the last row (1, -2)
    a = np.zeros((num_pre - 1, num_pre + 1))
    for r in range(num_pre - 1):
        a[r, r:r + 3] = (1.0, -2.0, 1.0)
    a = a[:, :num_pre]
    a = np.vstack([a, -a])
    b = betahat[:num_pre]
    s = sigma[:num_pre, :num_pre]
    upper = a @ b + stats.norm.ppf(0.95) * np.sqrt(np.diag(a @ s @ a.T))
    return np.linspace(0.0, float(upper.max()), n)
