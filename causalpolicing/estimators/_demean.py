"""The within transformation: demeaning columns by any number of fixed effects.

Algorithm
---------
* **One fixed effect**: exact, one pass (subtract the weighted group means).
* **Two or more**: the method of alternating projections (MAP: sweep over the
  fixed effects, subtracting the group means of each in turn), vectorised with
  :func:`numpy.bincount`, with Irons–Tuck acceleration every third sweep (as in
  fixest). Convergence is checked on the *residual* condition that defines the
  answer: the weighted group means of the demeaned column, for every fixed
  effect, are at most ``tol`` times the column's root-mean-square (default
  ``tol = 1e-12``). The error of the demeaned column can exceed this criterion
  by the conditioning of the problem (about 100-fold in a low-mobility test
  case), hence the tight default; well-connected panels need a few sweeps.
* **Fallback**: when MAP stalls (the criterion falls less than tenfold over 100
  sweeps, the "low mobility" case of two nearly disconnected fixed effects) or
  reaches ``maxiter``, the column is solved as a sparse least-squares problem on
  the dummy matrix with :func:`scipy.sparse.linalg.lsmr`. If even that misses the
  tolerance a :class:`~causalpolicing.exceptions.ConvergenceWarning` names the
  column, the iterations and the achieved tolerance: an unconverged answer is
  never returned silently.

Everything is deterministic: fixed-effect levels are coded in sorted order and
sums are taken with :func:`numpy.bincount` (no hashing, no threads).

Degrees of freedom absorbed by the fixed effects (:func:`fe_dof`): one fixed
effect: its number of levels; two: ``levels1 + levels2 - components`` (connected
components of the bipartite graph of levels, exact); three or more: the exact
count for the first two plus ``levels_k - 1`` for every further one (the same
approximation fixest uses by default; it can overstate the absorbed degrees of
freedom when further fixed effects are redundant).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import ConvergenceWarning

__all__ = [
    "DemeanInfo",
    "demean",
    "drop_singletons",
    "factorize",
    "fe_dof",
]

DEFAULT_TOL = 1e-12
DEFAULT_MAXITER = 10_000


@dataclass(frozen=True)
class DemeanInfo:
    """How the within transformation went, per column."""

    iterations: tuple[int, ...]
    achieved_tol: tuple[float, ...]
    method: tuple[str, ...]  # "exact", "map" or "lsmr"
    converged: bool


def factorize(values: pd.Series | np.ndarray | Sequence[pd.Series]) -> tuple[np.ndarray, int]:
    """Integer codes 0..L-1 (sorted level order) of one column or of interacted columns.

    Missing values get code -1.

    Examples
    --------
    >>> codes, n = factorize(np.array(["b", "a", "b"]))
    >>> codes.tolist(), n
    ([1, 0, 1], 2)
    """
    if isinstance(values, (list, tuple)):
        codes = np.zeros(len(values[0]), dtype=np.int64)
        for v in values:
            c, n = factorize(v)
            bad = (codes < 0) | (c < 0)
            codes = codes * max(n, 1) + c
            codes[bad] = -1
            codes, _ = _recode(codes)  # keeps the product small
        return _recode(codes)
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu" and len(arr):
        # integers: a lookup table keeps sorted order without hashing
        lo = int(arr.min())
        if int(arr.max()) - lo <= 4 * len(arr) + 1024:
            return _recode(arr.astype(np.int64) - lo)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64), len(uniques)


def _recode(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Map non-negative codes to 0..L-1 keeping their order; -1 stays -1.

    Uses a lookup table (no hashing or sorting) when the codes are not too sparse.
    """
    ok = codes >= 0
    out = np.full(codes.shape, -1, dtype=np.int64)
    if not ok.any():
        return out, 0
    valid = codes[ok]
    top = int(valid.max()) + 1
    if top <= 4 * len(valid) + 1024:
        present = np.bincount(valid, minlength=top) > 0
        table = np.cumsum(present) - 1
        out[ok] = table[valid]
        return out, int(present.sum())
    uniq, inv = np.unique(valid, return_inverse=True)
    out[ok] = inv
    return out, len(uniq)


def recode(codes: np.ndarray) -> np.ndarray:
    """Codes 0..L-1 without gaps (order kept) of non-negative integer codes."""
    return _recode(codes)[0]


def drop_singletons(fe_codes: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask of rows to keep after dropping singletons iteratively.

    A singleton is a row whose level of some fixed effect occurs only once; it
    is fit perfectly by its own fixed effect and carries no information on the
    slopes, but would distort the degrees of freedom. Dropping one can create
    another, so this repeats until none is left.

    Examples
    --------
    >>> drop_singletons([np.array([0, 0, 1, 2, 2]), np.array([0, 1, 0, 0, 1])]).tolist()
    [True, True, False, True, True]
    """
    n = len(fe_codes[0]) if fe_codes else 0
    keep = np.ones(n, dtype=bool)
    if all(np.bincount(c).min(initial=2) > 1 for c in fe_codes if len(c)):
        return keep  # fast path: no singleton at all
    while True:
        changed = False
        for codes in fe_codes:
            counts = np.bincount(codes[keep])
            single = keep.copy()
            single[keep] = counts[codes[keep]] == 1
            if single.any():
                keep &= ~single
                changed = True
        if not changed:
            return keep


def fe_dof(fe_codes: Sequence[np.ndarray]) -> tuple[int, tuple[int, ...]]:
    """Degrees of freedom absorbed by the fixed effects and the levels of each.

    Codes must be 0..L-1 without gaps. See the module notes for the rule used.

    Examples
    --------
    >>> fe_dof([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])])
    (3, (2, 2))
    >>> fe_dof([np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])])  # two components
    (2, (2, 2))
    """
    levels = tuple(int(c.max()) + 1 if len(c) else 0 for c in fe_codes)
    if not levels:
        return 0, ()
    if len(levels) == 1:
        return levels[0], levels
    n_comp = _n_components(fe_codes[0], fe_codes[1], levels[0], levels[1])
    dof = levels[0] + levels[1] - n_comp + sum(l_ - 1 for l_ in levels[2:])
    return int(dof), levels


def _n_components(a: np.ndarray, b: np.ndarray, la: int, lb: int) -> int:
    """Connected components of the bipartite graph whose edges are the rows (a, b).

    Min-label propagation with pointer jumping in numpy (no scipy import on the
    common path); falls back to :mod:`scipy.sparse.csgraph` if it has not settled
    after 200 rounds (very long chains of levels).
    """
    lab = np.arange(la)
    for _ in range(200):
        lab_b = np.full(lb, la, dtype=np.int64)
        np.minimum.at(lab_b, b, lab[a])
        new = lab.copy()
        np.minimum.at(new, a, lab_b[b])
        while True:  # pointer jumping
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, lab):
            roots = np.bincount(lab, minlength=la)
            return int(np.count_nonzero(roots)) + int(lb - np.count_nonzero(np.bincount(b, minlength=lb)))
        lab = new
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(a)), (a, b + la)), shape=(la + lb,) * 2).tocsr()
    return int(connected_components(g, directed=False)[0])


class _FE:
    """Precomputed group sizes of one fixed effect."""

    __slots__ = ("codes", "n", "inv_w", "w")

    def __init__(self, codes: np.ndarray, weights: np.ndarray | None) -> None:
        self.codes = codes
        self.n = int(codes.max()) + 1
        self.w = weights
        sw = np.bincount(codes, weights=weights, minlength=self.n)
        with np.errstate(divide="ignore"):
            self.inv_w = np.where(sw > 0, 1.0 / np.where(sw > 0, sw, 1.0), 0.0)

    def means(self, x: np.ndarray) -> np.ndarray:
        wx = x if self.w is None else x * self.w
        return np.bincount(self.codes, weights=wx, minlength=self.n) * self.inv_w

    def project_out(self, x: np.ndarray) -> np.ndarray:
        return x - self.means(x)[self.codes]


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


def demean(
    x: np.ndarray,
    fe_codes: Sequence[np.ndarray],
    weights: np.ndarray | None = None,
    *,
    tol: float = DEFAULT_TOL,
    maxiter: int = DEFAULT_MAXITER,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, DemeanInfo]:
    """Subtract fixed effects from every column of ``x`` (a new array is returned).

    Parameters
    ----------
    x
        ``(n,)`` or ``(n, k)`` float array.
    fe_codes
        One integer code array (0..L-1, no gaps, no -1) per fixed effect.
    weights
        Optional positive analytic weights: the projection is weighted.
    tol
        Convergence tolerance: every fixed effect's weighted group means of the
        result must be at most ``tol`` times the column's root-mean-square.
    maxiter
        Maximum MAP sweeps per column before the LSMR fallback.
    names
        Column names for warnings.

    Returns
    -------
    demeaned, info

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0, 5.0])
    >>> xd, info = demean(x, [np.array([0, 0, 1, 1])])
    >>> xd.tolist(), info.method
    ([-0.5, 0.5, -1.0, 1.0], ('exact',))
    """
    arr = np.asarray(x, dtype=float)
    one_d = arr.ndim == 1
    mat = arr.reshape(len(arr), -1)
    k = mat.shape[1]
    if not fe_codes:
        return (mat.copy().ravel() if one_d else mat.copy()), DemeanInfo(
            (0,) * k, (0.0,) * k, ("none",) * k, True
        )
    w = None if weights is None else np.asarray(weights, dtype=float)
    fes = [_FE(np.asarray(c, dtype=np.int64), w) for c in fe_codes]
    out = np.empty_like(mat)
    iters: list[int] = []
    achieved: list[float] = []
    methods: list[str] = []
    all_ok = True
    for j in range(k):
        col = mat[:, j]
        if len(fes) == 1:
            out[:, j] = fes[0].project_out(col)
            iters.append(1)
            achieved.append(0.0)
            methods.append("exact")
            continue
        rms = float(np.sqrt(np.mean(col * col))) if len(col) else 0.0
        scale = rms if rms > 0 else 1.0
        xj, it, crit, ok = _map_column(col, fes, tol, maxiter, scale)
        method = "map"
        if not ok:
            xl, it_l, crit_l, ok = _lsmr_column(col, fes, w, tol, scale)
            if crit_l < crit:
                xj, crit = xl, crit_l
                method = "lsmr"
                it += it_l
        if not ok:
            all_ok = False
            name = names[j] if names is not None else f"column {j}"
            warnings.warn(
                f"The within transformation of {name} did not converge: after {it} "
                f"iterations ({method}) the largest fixed-effect mean is {crit:.2e} times "
                f"the column's scale (tolerance {tol:.0e}). Estimates may be inaccurate; "
                "check for nearly disconnected fixed effects or loosen `tol`.",
                ConvergenceWarning,
                stacklevel=3,
            )
        out[:, j] = xj
        iters.append(it)
        achieved.append(crit)
        methods.append(method)
    info = DemeanInfo(tuple(iters), tuple(achieved), tuple(methods), all_ok)
    return (out.ravel() if one_d else out), info
