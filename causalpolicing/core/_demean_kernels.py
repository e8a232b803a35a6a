"""Iterative kernels of the within transformation (split out of :mod:`.demean`).

Alternating projections (MAP) with Irons-Tuck acceleration for one column and any
number of fixed effects, the accelerated fixed-point iteration on the coefficients
of two fixed effects (all columns at once), and the LSMR fallback for fixed effects
that MAP cannot resolve (low mobility). :mod:`.demean` chooses among them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__: list[str] = []


class _FE:
    """Precomputed group sizes of one fixed effect."""

    __slots__ = ("codes", "n", "inv_w", "w")

    def __init__(self, codes: np.ndarray, weights: np.ndarray | None) -> None:
        self.codes = codes
        self.n = int(codes.max()) + 1
        self.w = weights
        sw = np.bincount(codes, weights=weights, minlength=self.n)
        self.inv_w = _inverse(sw)

    def means(self, x: np.ndarray) -> np.ndarray:
        wx = x if self.w is None else x * self.w
        return np.bincount(self.codes, weights=wx, minlength=self.n) * self.inv_w

    def project_out(self, x: np.ndarray) -> np.ndarray:
        return x - self.means(x)[self.codes]


def _inverse(sw: np.ndarray) -> np.ndarray:
    """1 / sw where positive, else 0 (levels without weight)."""
    return np.divide(1.0, sw, out=np.zeros(sw.shape), where=sw > 0)


def _criterion(x: np.ndarray, fes: list[_FE], scale: float, swept: bool = True) -> float:
    """Largest fixed-effect group mean of ``x`` relative to ``scale``.

    After a sweep the last fixed effect's means are zero up to rounding, so it is
    skipped when ``swept``.
    """
    check = fes[:-1] if swept else fes
    return max(float(np.max(np.abs(fe.means(x)))) for fe in check) / scale


def _sweep(x: np.ndarray, fes: list[_FE]) -> np.ndarray:
    for fe in fes:
        x = fe.project_out(x)
    return x


def _map_column(
    x0: np.ndarray, fes: list[_FE], tol: float, maxiter: int, scale: float
) -> tuple[np.ndarray, int, float, bool]:
    """MAP with Irons-Tuck acceleration. Returns (x, iterations, achieved, converged)."""
    x = _sweep(x0, fes)
    it = 1
    crit = _criterion(x, fes, scale)
    history = [crit]
    while crit > tol and it < maxiter:
        x1 = _sweep(x, fes)
        x2 = _sweep(x1, fes)
        it += 2
        d1 = x1 - x
        d2 = x2 - x1
        dd = d2 - d1
        denom = float(dd @ dd)
        if denom > 0:
            x = x2 - (float(d2 @ dd) / denom) * d2
            x = _sweep(x, fes)
            it += 1
        else:
            x = x2
        crit = _criterion(x, fes, scale)
        history.append(crit)
        # stall: less than a tenfold fall over the last ~100 sweeps
        if len(history) > 34 and crit > 0.1 * history[-34]:
            return x, it, crit, False
    return x, it, crit, crit <= tol


def _iterate(
    sweep: Callable[[np.ndarray, np.ndarray], np.ndarray],
    crit: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    lb: int, k: int, tol: float, maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Accelerated fixed-point iteration of ``sweep`` on the (lb, k) coefficients."""
    gamma = np.zeros((lb, k))
    iters = np.zeros(k, dtype=np.int64)
    achieved = np.zeros(k)
    ok = np.zeros(k, dtype=bool)
    cols = np.arange(k)
    g = sweep(gamma, cols)  # first sweep from zero coefficients
    fg = sweep(g, cols)
    it = 2
    c = crit(fg, g, cols)
    history = [c]
    while True:
        done = (c <= tol) | (it >= maxiter)
        if len(history) > 34:
            done |= c > 0.1 * history[-34]  # stall: less than tenfold over ~100 sweeps
        if done.any():
            fin = cols[done]
            gamma[:, fin] = g[:, done]
            iters[fin] = it
            achieved[fin] = c[done]
            ok[fin] = c[done] <= tol
            keep = ~done
            cols = cols[keep]
            if not len(cols):
                break
            g, fg, c = g[:, keep], fg[:, keep], c[keep]
            history = [h[keep] for h in history[-35:]]
        ffg = sweep(fg, cols)
        d1 = fg - g
        d2 = ffg - fg
        dd = d2 - d1
        denom = np.einsum("ij,ij->j", dd, dd)
        num = np.einsum("ij,ij->j", d2, dd)
        step = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
        g = ffg - step * d2
        fg = sweep(g, cols)
        it += 2
        c = crit(fg, g, cols)
        history.append(c)
    return gamma, iters, achieved, ok


def _lsmr_column(
    x0: np.ndarray, fes: list[_FE], weights: np.ndarray | None, tol: float, scale: float
) -> tuple[np.ndarray, int, float, bool]:
    from scipy.sparse import csc_matrix, hstack
    from scipy.sparse.linalg import lsmr

    n = len(x0)
    sw = np.ones(n) if weights is None else np.sqrt(weights)
    rows = np.arange(n)
    blocks = [csc_matrix((sw, (rows, fe.codes)), shape=(n, fe.n)) for fe in fes]
    d = hstack(blocks).tocsc()
    # scale columns to unit norm (diagonal preconditioner)
    colnorm = np.sqrt(np.asarray(d.multiply(d).sum(axis=0)).ravel())
    colnorm[colnorm == 0] = 1.0
    from scipy.sparse import diags

    d = d @ diags(1.0 / colnorm)
    b = sw * x0
    sol = lsmr(d, b, atol=1e-15, btol=1e-15, maxiter=max(10 * d.shape[1], 10_000))
    resid = (b - d @ sol[0]) / sw
    crit = _criterion(resid, fes, scale, swept=False)
    return resid, int(sol[2]), crit, crit <= tol
