"""The within transformation: demeaning columns by any number of fixed effects.

Algorithm
---------
* **One fixed effect**: exact, one pass (subtract the weighted group means).
* **Two or more**: the method of alternating projections (MAP: sweep over the
  fixed effects, subtracting the group means of each in turn), with Irons–Tuck
  acceleration every third sweep (as in fixest). Convergence is checked on the
  *residual* condition that defines the answer: the weighted group means of the
  demeaned column, for every fixed effect, are at most ``tol`` times the
  column's root-mean-square (default ``tol = 1e-12``). The error of the
  demeaned column can exceed this criterion by the conditioning of the problem
  (about 100-fold in a low-mobility test case), hence the tight default;
  well-connected panels need a few sweeps.

  *Two fixed effects* (the common case) iterate on the coefficients instead of
  the rows, all columns at once (as fixest does): a sweep needs only each
  column's weighted level sums (computed once per call, one pass over the rows
  for all columns) and the table of summed weights of every pair of levels
  (dense for nearly full tables such as balanced panels, sparse otherwise), so
  its cost does not grow with the number of rows. This is the same sweep as the
  row-wise one, in a different order of floating-point operations. A
  :class:`FixedEffects` object keeps the structure of that table for repeated
  calls (the IRLS iterations of a Poisson fit). *Three or more* fixed effects
  sweep the rows column by column with :func:`numpy.bincount`.
* **Direct solve** (opt-in, ``direct=True``; used by the Poisson IRLS): two
  fixed effects whose smaller one has at most ``DIRECT_MAX_LEVELS`` levels (and
  ``levels_a * levels_b**2 <= DIRECT_MAX_WORK``) are solved directly: the fixed
  point of the sweep solves ``(diag(w_b) - W' diag(1/w_a) W) g = S_b - W' (S_a /
  w_a)`` on the coefficients of the smaller fixed effect (LU with its last
  coefficient fixed at zero, least squares if that fails). The answer must meet
  the same criterion as the iteration, which runs otherwise; method ``"direct"``,
  0 iterations.
* **Fallback**: when MAP stalls (the criterion falls less than tenfold over 100
  sweeps, the "low mobility" case of two nearly disconnected fixed effects) or
  reaches ``maxiter``, the column is solved as a sparse least-squares problem on
  the dummy matrix with :func:`scipy.sparse.linalg.lsmr`. If even that misses the
  tolerance a :class:`~causalpolicing.exceptions.ConvergenceWarning` names the
  column, the iterations and the achieved tolerance: an unconverged answer is
  never returned silently.

Everything is deterministic: fixed-effect levels are coded in sorted order,
sums over rows are taken in row order (:func:`numpy.bincount` or a sparse
product) and large dense products run on one BLAS thread (no hashing, no
thread-dependent reductions).

Level codes, singletons and the degrees of freedom absorbed by the fixed effects
are in :mod:`causalpolicing.core.fe_structure` (re-exported here).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import ConvergenceWarning, SpecError
from ._blas import _LAPACK, _lapack, _one_blas_thread
from ._demean_kernels import (
    _FE,
    _inverse,
    _iterate,
    _lsmr_column,
    _map_column,
)
from .fe_structure import (  # noqa: F401  (re-exported: the older import path)
    _n_components,
    drop_singletons,
    factorize,
    fe_dof,
    recode,
)

__all__ = [
    "DemeanInfo",
    "FixedEffects",
    "demean",
    "drop_singletons",
    "factorize",
    "fe_dof",
]

#: ufunc reductions called directly (what ndarray.max/all call, without the Python layer
#: of numpy's wrappers: microseconds that count in the small, repeated solves)
_MAX = np.maximum.reduce
_ALL = np.logical_and.reduce

DEFAULT_TOL = 1e-12
DEFAULT_MAXITER = 10_000
_BLOCK = 1 << 17  # elements per block of rows in the final subtraction
#: ``direct=True`` solves two fixed effects directly when the smaller has at most this
#: many levels and ``levels_a * levels_b ** 2`` (the work of the solve) is at most
#: ``DIRECT_MAX_WORK``.
DIRECT_MAX_LEVELS = 500
DIRECT_MAX_WORK = 20_000_000
#: A dense :class:`_Pair` keeps its cell index (``a * lb + b``) up to this many rows.
_KEEP_KEY_ROWS = 100_000
#: Level sums of up to this many elements (rows x columns) use one bincount per fixed
#: effect over the stacked columns (the stacked codes are kept by the :class:`_Pair`).
_STACK_MAX = 20_000


@dataclass(frozen=True)
class DemeanInfo:
    """How the within transformation went, per column."""

    iterations: tuple[int, ...]
    achieved_tol: tuple[float, ...]
    method: tuple[str, ...]  # "exact", "direct", "map" or "lsmr"
    converged: bool


# ------------------------------------------------------ two fixed effects, all columns at once
class FixedEffects:
    """Fixed-effect codes prepared once for repeated within transformations.

    Pass an instance to :func:`demean` instead of the list of code arrays when
    the same fixed effects are demeaned many times with different weights (the
    IRLS iterations of a Poisson fit): the structure of the two-way table of
    levels (which pairs of levels occur) is then built only once.

    Examples
    --------
    >>> fe = FixedEffects([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])])
    >>> fe.levels, len(fe)
    ((2, 2), 2)
    >>> demean(np.array([1.0, 2.0, 3.0, 5.0]), fe)[0].round(12).tolist()
    [0.25, -0.25, -0.25, 0.25]
    """

    __slots__ = ("codes", "levels", "_pair")

    def __init__(self, fe_codes: Sequence[np.ndarray]) -> None:
        self.codes = tuple(np.ascontiguousarray(c, dtype=np.int64) for c in fe_codes)
        self.levels = tuple(int(c.max()) + 1 if len(c) else 0 for c in self.codes)
        self._pair: _Pair | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def __bool__(self) -> bool:
        return bool(self.codes)

    def pair(self) -> _Pair:
        """The two-way structure of the first two fixed effects (built on first use)."""
        if self._pair is None:
            self._pair = _Pair(self.codes[0], self.codes[1], self.levels[0], self.levels[1])
        return self._pair


class _Pair:
    """Cells (occurring pairs of levels) of two fixed effects, in sorted order.

    The alternating projections of two fixed effects only need, besides each
    column's weighted level sums, the weighted counts of the cells: one sweep
    is then two products with the (levels_a x levels_b) table of cell weights,
    whatever the number of rows (as in fixest). ``a`` is the fixed effect with
    more levels; the iteration (and its acceleration) runs on the coefficients
    of ``b``.
    """

    __slots__ = ("a", "b", "la", "lb", "cell", "ncell", "cell_a", "cell_b", "indptr",
                 "dense", "_unit", "_idx", "key", "_stacked")

    def __init__(self, c0: np.ndarray, c1: np.ndarray, l0: int, l1: int) -> None:
        if l1 > l0:
            c0, c1, l0, l1 = c1, c0, l1, l0
        self.a, self.b, self.la, self.lb = c0, c1, l0, l1
        n = len(c0)
        key = c0 * l1 + c1
        size = l0 * l1
        self.cell: np.ndarray | None = None
        self._unit: _Table | None = None
        self._idx: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        #: the dense cell index a * lb + b, kept for small data only (recomputed per
        #: table otherwise: at 1M rows it would hold 8 MB)
        self.key: np.ndarray | None = None
        self._stacked: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if size <= 4 * n + 1024:
            counts = np.bincount(key, minlength=size)
            ncell = int(np.count_nonzero(counts))
            # a nearly full table (balanced panels) is multiplied as a dense matrix,
            # indexed by a * lb + b (recomputed when needed rather than kept); the
            # counts are its unit-weight version
            self.dense = ncell >= 0.5 * size and size <= max(2 * n, 1_000_000)
            if self.dense:
                if n <= _KEEP_KEY_ROWS:
                    self.key = key
                    # (the unit-weight table is built on first use from the kept key: the
                    # same counts; the weighted callers never need it)
                else:
                    self._unit = _Table(self, None, counts.astype(float))
                cells = np.empty(0, dtype=np.int64)
            else:
                present = counts > 0
                cells = np.flatnonzero(present)
                self.cell = (np.cumsum(present) - 1)[key]
                del present
            del counts
        else:
            self.dense = False
            cells, cell = np.unique(key, return_inverse=True)
            self.cell = cell.ravel().astype(np.int64, copy=False)
            ncell = len(cells)
        del key
        self.ncell = ncell
        if self.dense:  # (the sparse structure is not used)
            self.cell_a = self.cell_b = self.indptr = cells
        else:
            self.cell_a = cells // l1
            self.cell_b = cells % l1
            self.indptr = np.concatenate([[0], np.cumsum(np.bincount(self.cell_a,
                                                                     minlength=l0))])

    def _indices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """int32 codes and row pointers for the sparse level sums (built on first use)."""
        if self._idx is None:
            n = len(self.a)
            itype = np.int32 if max(n, self.la) < 2**31 - 1 else np.int64
            self._idx = (self.a.astype(itype), self.b.astype(itype),
                         np.arange(n + 1, dtype=itype))
        return self._idx

    def level_sums(self, mat: np.ndarray, weights: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Weighted sums of every column of ``mat`` by level of ``a`` and of ``b``.

        A sparse (levels x rows) indicator matrix with the weights as entries
        multiplies all columns in one pass over the rows, in row order.
        """
        n, k = mat.shape
        if k > 1 and n * k < _STACK_MAX:
            # small: one bincount per fixed effect over the columns stacked (column j's
            # codes shifted by j * levels). Each level's sum adds the same products in
            # the same (row) order as a bincount per column: the same numbers.
            codes = self._stacked.get(k)
            if codes is None:
                shift = np.arange(k, dtype=np.int64)[:, None]
                codes = ((self.a + shift * self.la).ravel(), (self.b + shift * self.lb).ravel())
                self._stacked[k] = codes
            wx = np.empty((k, n))
            if weights is None:
                wx[...] = mat.T
            else:
                np.multiply(mat.T, weights, out=wx)
            flat = wx.ravel()
            sa = np.bincount(codes[0], weights=flat, minlength=k * self.la)
            sb = np.bincount(codes[1], weights=flat, minlength=k * self.lb)
            return (np.ascontiguousarray(sa.reshape(k, self.la).T),
                    np.ascontiguousarray(sb.reshape(k, self.lb).T))
        if n * k < 100_000:  # small: numpy's bincount beats building sparse matrices
            sa = np.empty((self.la, k))
            sb = np.empty((self.lb, k))
            for j in range(k):
                wx = mat[:, j] if weights is None else mat[:, j] * weights
                sa[:, j] = np.bincount(self.a, weights=wx, minlength=self.la)
                sb[:, j] = np.bincount(self.b, weights=wx, minlength=self.lb)
            return sa, sb
        from scipy.sparse import csc_matrix

        if weights is None:
            weights = np.ones(n)  # not cached: memory matters more than 1 ms here
        a32, b32, rows = self._indices()
        sa = csc_matrix((weights, a32, rows), shape=(self.la, n)) @ mat
        sb = csc_matrix((weights, b32, rows), shape=(self.lb, n)) @ mat
        return np.asarray(sa), np.asarray(sb)

    def table(self, weights: np.ndarray | None) -> _Table:
        """Cell weights and level sums for these weights (unit weights are cached)."""
        if weights is None:
            if self._unit is None:
                self._unit = _Table(self, None)
            return self._unit
        return _Table(self, weights)


class _Table:
    """The cell-weight matrix of a :class:`_Pair` for one set of weights."""

    __slots__ = ("mat", "mat_t", "inv_a", "inv_b", "w_b")

    def __init__(self, p: _Pair, weights: np.ndarray | None,
                 full: np.ndarray | None = None) -> None:
        if p.dense:
            if full is None:
                if p.key is not None:
                    full = np.bincount(p.key, weights=weights, minlength=p.la * p.lb)
                else:
                    key = p.a * p.lb
                    key += p.b
                    full = np.bincount(key, weights=weights, minlength=p.la * p.lb)
                    del key
                full = full.astype(float, copy=False)
            self.mat = full.reshape(p.la, p.lb)
            self.mat_t = self.mat.T
            # (np.add.reduce: what ndarray.sum calls, without its Python wrapper)
            self.inv_a = _inverse(np.add.reduce(self.mat, axis=1))
            #: summed weights of the levels of b (the diagonal of the Schur complement)
            self.w_b = np.add.reduce(self.mat, axis=0)
            self.inv_b = _inverse(self.w_b)
        else:
            from scipy.sparse import csr_matrix

            data = np.bincount(p.cell, weights=weights, minlength=p.ncell).astype(float, copy=False)
            self.inv_a = _inverse(np.bincount(p.cell_a, weights=data, minlength=p.la))
            self.w_b = None  # (computed from the matrix by the direct solve if needed)
            self.inv_b = _inverse(np.bincount(p.cell_b, weights=data, minlength=p.lb))
            self.mat = csr_matrix((data, p.cell_b, p.indptr), shape=(p.la, p.lb))
            self.mat_t = self.mat.T  # CSC view, no copy


def _demean_two(
    mat: np.ndarray, p: _Pair, w: np.ndarray | None, tol: float, maxiter: int,
    scales: np.ndarray, out: np.ndarray | None = None, direct: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MAP for two fixed effects on the coefficients, every column at once.

    One sweep maps the coefficients ``g`` of ``b`` to
    ``F(g) = (S_b - W' a(g)) / w_b`` with ``a(g) = (S_a - W g) / w_a`` (``S``:
    weighted level sums of the column, ``W``: cell weights, ``w``: level
    weights): projecting out ``a`` then ``b``, exactly the sweep of the row-wise
    algorithm. The answer for ``g`` is ``x - a(g)[a] - g[b]``; its ``a`` means
    are zero by construction and its ``b`` means are ``F(g) - g``, which is the
    convergence criterion. Irons-Tuck acceleration every third sweep, per column.

    Returns (demeaned, iterations, achieved criterion, converged) per column.
    """
    n, k = mat.shape
    # the table and the level sums are freed (end of _coefficients) before ``out`` exists
    a_coef, gamma, iters, achieved, ok = _coefficients(mat, p, w, tol, maxiter, scales,
                                                       direct)
    if out is None:
        out = np.empty_like(mat)
    _subtract_effects(mat, p, a_coef, gamma, out)
    return out, iters, achieved, ok


def _subtract_effects(mat: np.ndarray, p: _Pair, a_coef: np.ndarray, gamma: np.ndarray,
                      out: np.ndarray) -> None:
    """``out = mat - a_coef[a] - gamma[b]`` in blocks of rows that stay in cache (no n x k
    temporaries)."""
    n, k = mat.shape
    step = max(1, _BLOCK // max(k, 1))
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        tmp = a_coef.take(p.a[lo:hi], axis=0)
        tmp += gamma.take(p.b[lo:hi], axis=0)
        np.subtract(mat[lo:hi], tmp, out=out[lo:hi])


def demean_two_inplace(mat: np.ndarray, fe: FixedEffects, weights: np.ndarray, tol: float,
                       maxiter: int = DEFAULT_MAXITER) -> bool:
    """``demean(mat, fe, weights, tol=tol, out=mat, direct=True)`` for exactly two fixed
    effects and a 2-D float64 C-contiguous ``mat``, without its bookkeeping (no
    :class:`DemeanInfo`): for iterative callers (the Poisson IRLS) of small problems.

    The same operations in the same order, so the same numbers, whenever every column
    converges (directly or by iterating); otherwise nothing is written and ``False`` is
    returned: the caller then runs :func:`demean`, which recomputes the same
    coefficients and handles the columns that need the LSMR fallback (and warns).
    """
    with np.errstate(all="ignore"):
        rms = np.sqrt(np.einsum("ij,ij->j", mat, mat) / max(len(mat), 1))
    scales = np.where(rms > 0, rms, 1.0)
    p = fe.pair()
    a_coef, gamma, _, _, ok = _coefficients(mat, p, weights, tol, maxiter, scales, True)
    if not _ALL(ok, axis=None):
        return False
    _subtract_effects(mat, p, a_coef, gamma, mat)
    return True


def _coefficients(
    mat: np.ndarray, p: _Pair, w: np.ndarray | None, tol: float, maxiter: int,
    scales: np.ndarray, direct: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of ``a`` and ``b`` per column, with iterations, criterion, convergence."""
    k = mat.shape[1]
    t = p.table(w)
    sa, sb = p.level_sums(mat, w)
    inv_a = t.inv_a[:, None]
    inv_b = t.inv_b[:, None]

    def alpha(g: np.ndarray, cols: np.ndarray | slice) -> np.ndarray:
        return (sa[:, cols] - t.mat @ g) * inv_a

    def sweep(g: np.ndarray, cols: np.ndarray | slice) -> np.ndarray:
        return (sb[:, cols] - t.mat_t @ alpha(g, cols)) * inv_b

    def crit(fg: np.ndarray, g: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return np.max(np.abs(fg - g), axis=0, initial=0.0) / scales[cols]

    if direct and p.lb <= DIRECT_MAX_LEVELS and p.la * p.lb * p.lb <= DIRECT_MAX_WORK:
        solved = _direct(t, sa, sb, inv_a, inv_b, scales, tol)
        if solved is not None:
            a_coef, gamma, achieved = solved
            zeros = np.zeros(k, dtype=np.int64)  # no iteration: marks the direct solve
            return a_coef, gamma, zeros, achieved, zeros == 0  # (all True)
    with _one_blas_thread(p.dense and p.la * p.lb * k >= 100_000):
        gamma, iters, achieved, ok = _iterate(sweep, crit, p.lb, k, tol, maxiter)
    return alpha(gamma, slice(None)), gamma, iters, achieved, ok


def _direct(
    t: _Table, sa: np.ndarray, sb: np.ndarray, inv_a: np.ndarray, inv_b: np.ndarray,
    scales: np.ndarray, tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The fixed point of the two-way sweep solved directly (small problems).

    Eliminating the coefficients of ``a`` from the normal equations leaves
    ``(diag(w_b) - W' diag(1/w_a) W) g = S_b - W' (S_a / w_a)`` on the ``lb``
    coefficients of ``b``: the equation whose solution the alternating
    projections converge to. It is singular (one free constant per connected
    component), so the last coefficient is fixed at zero and the rest solved
    by an LU solve; if that fails (disconnected fixed effects, levels without
    weight) a least-squares solve takes over. The answer is accepted only if it
    meets the same criterion as the iteration (``None`` otherwise: iterate).
    Returns the coefficients of ``a`` (those of the accepted sweep), of ``b``
    and the criterion per column.

    The sweep and criterion are those of :func:`_coefficients` written out (the
    same operations in the same order, so the same numbers).
    """
    lapack = _LAPACK[0] if _LAPACK else _lapack()
    dense = isinstance(t.mat, np.ndarray)
    mat = t.mat if dense else t.mat.toarray()
    lb = mat.shape[1]
    scaled = mat * inv_a
    schur = mat.T @ scaled
    np.negative(schur, out=schur)
    schur.flat[:: lb + 1] += t.w_b if t.w_b is not None else mat.sum(axis=0)
    rhs = sb - scaled.T @ sa
    del scaled

    def check(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # alpha(g), then the criterion max |F(g) - g| / scale of the sweep F
        al = (sa - t.mat @ g) * inv_a
        fg = (sb - t.mat_t @ al) * inv_b
        fg -= g
        np.abs(fg, out=fg)
        return al, _MAX(fg, axis=0, initial=0.0) / scales

    gamma = np.zeros(rhs.shape)
    if lb > 1:
        # LU with partial pivoting (LAPACK gesv, as numpy.linalg.solve); info > 0: singular
        sol, info = lapack.dgesv(schur[:-1, :-1], rhs[:-1])[2:]
        if info == 0 and _ALL(np.isfinite(sol), axis=None):
            gamma[:-1] = sol
    al, c = check(gamma)
    if _ALL(c <= tol, axis=None):
        return al, gamma, c
    from scipy import linalg

    try:
        gamma = linalg.lstsq(schur, rhs, check_finite=False)[0]
    except (linalg.LinAlgError, ValueError):
        return None
    al, c = check(gamma)
    return (al, gamma, c) if (c <= tol).all() else None


def demean(
    x: np.ndarray,
    fe_codes: Sequence[np.ndarray] | FixedEffects,
    weights: np.ndarray | None = None,
    *,
    tol: float = DEFAULT_TOL,
    maxiter: int = DEFAULT_MAXITER,
    names: Sequence[str] | None = None,
    out: np.ndarray | None = None,
    direct: bool = False,
) -> tuple[np.ndarray, DemeanInfo]:
    """Subtract fixed effects from every column of ``x`` (a new array unless ``out``).

    Parameters
    ----------
    x
        ``(n,)`` or ``(n, k)`` float array.
    fe_codes
        One integer code array (0..L-1, no gaps, no -1) per fixed effect, or a
        :class:`FixedEffects` built from them (reused across calls).
    weights
        Optional positive analytic weights: the projection is weighted.
    tol
        Convergence tolerance: every fixed effect's weighted group means of the
        result must be at most ``tol`` times the column's root-mean-square.
    maxiter
        Maximum MAP sweeps per column before the LSMR fallback.
    names
        Column names for warnings.
    out
        Optional writeable float64 array of the shape of ``x`` to write the
        result into; it may be ``x`` itself (overwritten: the caller then gives
        up its input). Saves an allocation per call in iterative callers.
    direct
        Two fixed effects only: solve small problems (the smaller fixed effect
        with at most ``DIRECT_MAX_LEVELS`` levels and ``levels_a * levels_b**2``
        at most ``DIRECT_MAX_WORK``) directly instead of iterating: the answer
        the iteration converges to, checked against the same criterion (method
        ``"direct"``; the iteration takes over if the check fails).

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
    if out is not None and (out.shape != arr.shape or out.dtype != np.float64
                            or not out.flags.writeable):
        raise SpecError(
            f"out must be a writeable float64 array of shape {arr.shape}; got "
            f"{out.dtype} of shape {out.shape} (writeable: {out.flags.writeable}). Pass "
            "out=None to get a new array.")
    given = out
    out_mat = None if out is None else out.reshape(mat.shape)
    if not len(fe_codes):
        none = DemeanInfo((0,) * k, (0.0,) * k, ("none",) * k, True)
        if given is not None:
            out_mat[...] = mat
            return given, none
        return (mat.copy().ravel() if one_d else mat.copy()), none
    prepared = fe_codes if isinstance(fe_codes, FixedEffects) else FixedEffects(fe_codes)
    w = None if weights is None else np.asarray(weights, dtype=float)
    iters: list[int] = [1] * k
    achieved: list[float] = [0.0] * k
    methods: list[str] = ["exact"] * k
    ok = [True] * k
    if len(prepared) == 1:
        fe = _FE(prepared.codes[0], w)
        out = np.empty_like(mat) if out_mat is None else out_mat
        for j in range(k):
            out[:, j] = fe.project_out(mat[:, j])
        return (given if given is not None else out.ravel() if one_d else out), DemeanInfo(
            tuple(iters), tuple(achieved), tuple(methods), True)
    with np.errstate(all="ignore"):
        rms = np.sqrt(np.einsum("ij,ij->j", mat, mat) / max(len(mat), 1))
    scales = np.where(rms > 0, rms, 1.0)
    fes: list[_FE] = []
    if len(prepared) == 2:
        out, it2, ach2, ok2 = _demean_two(mat, prepared.pair(), w, tol, maxiter, scales,
                                          out_mat, direct)
        iters, achieved, ok = it2.tolist(), ach2.tolist(), ok2.tolist()
        methods = ["direct" if i == 0 else "map" for i in iters]
    else:
        out = np.empty_like(mat) if out_mat is None else out_mat
        fes = [_FE(c, w) for c in prepared.codes]
        for j in range(k):
            out[:, j], iters[j], achieved[j], ok[j] = _map_column(
                mat[:, j], fes, tol, maxiter, float(scales[j]))
            methods[j] = "map"
    for j in range(k):
        if ok[j]:
            continue
        if not fes:
            fes = [_FE(c, w) for c in prepared.codes]
        xl, it_l, crit_l, ok[j] = _lsmr_column(mat[:, j], fes, w, tol, float(scales[j]))
        if crit_l < achieved[j]:
            out[:, j], achieved[j] = xl, crit_l
            methods[j] = "lsmr"
            iters[j] += it_l
        if not ok[j]:
            name = names[j] if names is not None else f"column {j}"
            warnings.warn(
                f"The within transformation of {name} did not converge: after {iters[j]} "
                f"iterations ({methods[j]}) the largest fixed-effect mean is {achieved[j]:.2e} "
                f"times the column's scale (tolerance {tol:.0e}). Estimates may be inaccurate; "
                "check for nearly disconnected fixed effects or loosen `tol`.",
                ConvergenceWarning,
                stacklevel=3,
            )
    info = DemeanInfo(tuple(iters), tuple(achieved), tuple(methods), all(ok))
    return (given if given is not None else out.ravel() if one_d else out), info
