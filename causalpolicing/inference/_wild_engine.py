"""The engine of :func:`~causalpolicing.inference.bootstrap.wild_bootstrap`.

Vectorised weight draws (Rademacher, Webb, Mammen) or full enumeration, the
exact re-absorption of fixed effects not nested in the clusters, the bootstrap
t statistics in chunks of draws, p-values and the inversion of the test into a
confidence interval. The method is described in
:mod:`causalpolicing.inference.bootstrap`.

>>> _enumerate(0, 4, 2).tolist()
[[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from scipy import sparse

from ..core.demean import demean
from ._pvalue import resampling_pvalues
from .vcov import _nested

WeightName = Literal["rademacher", "webb", "mammen"]
PType = Literal["symmetric", "equal-tailed"]
WEIGHT_TYPES: tuple[str, ...] = ("rademacher", "webb", "mammen")
P_TYPES: tuple[str, ...] = ("symmetric", "equal-tailed")

#: Numbers (draws x clusters) processed at once; 2M doubles = 16 MB per array.
CHUNK_ELEMENTS = 2_000_000
#: Above this many levels of fixed effects not nested in the clusters, their exact
#: treatment (a dense levels x levels pseudo-inverse) is skipped, with a note.
MAX_CROSSED_LEVELS = 4000
#: Grid points per side when locating the ends of the confidence interval (boottest: 25).
CI_GRID = 25
#: Doublings of the search step (from 2 standard errors) before a side of the
#: confidence set is reported unbounded: 2^21 standard errors, about 2 million. Beyond
#: that the bootstrap statistics, extrapolated in r from the null, drift from their
#: exact values by more than the tie tolerance (the identity draw, which ties the
#: observed statistic at every r, lost its tie near 2e7 standard errors in tests).
CI_MAX_DOUBLINGS = 20
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_SQ5 = np.sqrt(5.0)
_MAMMEN_LOW = -(_SQ5 - 1) / 2
_MAMMEN_HIGH = (_SQ5 + 1) / 2
_MAMMEN_P_LOW = (_SQ5 + 1) / (2 * _SQ5)


# ------------------------------------------------------------------ draws
def _n_chunks(total: int, per: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, per):
        yield start, min(total, start + per)


def _draw(rng: np.random.Generator, weights: str, b: int, g: int) -> np.ndarray:
    if weights == "rademacher":
        raw = np.frombuffer(rng.bytes(-(-b * g // 8)), dtype=np.uint8)
        bits = np.unpackbits(raw)[: b * g].reshape(b, g)
        return 1.0 - 2.0 * bits
    if weights == "webb":
        return _WEBB[rng.integers(0, 6, size=(b, g), dtype=np.int8)]
    return np.where(rng.random(size=(b, g)) < _MAMMEN_P_LOW, _MAMMEN_LOW, _MAMMEN_HIGH)


def _enumerate(start: int, stop: int, g: int) -> np.ndarray:
    idx = np.arange(start, stop, dtype=np.int64)[:, None]
    bits = (idx >> np.arange(g, dtype=np.int64)[None, :]) & 1
    return 1.0 - 2.0 * bits


# ------------------------------------------------------------------ core
def _single_thread_blas() -> AbstractContextManager[Any]:
    """Limit BLAS to one thread while the draws run.

    The products here are tall and skinny (draws x clusters times clusters x
    k); multithreaded OpenBLAS spent 2.5-3.5 times longer on them than one
    thread on a busy two-core machine (benchmarks/bench_bootstrap.py). Uses
    ``threadpoolctl`` when it is installed; otherwise BLAS keeps its setting.
    """
    controller = _threadpool_controller()
    if controller is None:  # pragma: no cover - optional
        return nullcontext()
    return controller.limit(limits=1, user_api="blas")


@lru_cache(maxsize=1)
def _threadpool_controller() -> Any:
    """One ``threadpoolctl.ThreadpoolController`` (scanning the loaded libraries costs ms)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - optional
        return None
    return ThreadpoolController()


def _bincount2(codes: np.ndarray, values: np.ndarray, g: int) -> np.ndarray:
    """Cluster sums of each column of ``values`` (n x m) -> (g x m)."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=g)
    return np.column_stack([np.bincount(codes, weights=values[:, m], minlength=g)
                            for m in range(values.shape[1])]) if values.shape[1] else \
        np.zeros((g, 0))


def _fe_correction(
    cl: np.ndarray, g: int, fe_codes: tuple[np.ndarray, ...], sqrt_w: np.ndarray | None,
) -> tuple[sparse.csr_matrix, np.ndarray] | None:
    """Pieces of the projection on the fixed effects not nested in the clusters.

    Returns ``(D, K)``: ``D`` the (n x L) sparse dummies (times the square-root
    weights) of the non-nested fixed effects, and ``K`` the pseudo-inverse of
    :math:`D' M_{D_n} D`, with :math:`D_n` the nested fixed effects' dummies.
    ``None`` when every fixed effect is nested.
    """
    nested = [fe for fe in fe_codes if _nested(fe, cl)]
    others = [fe for fe in fe_codes if not _nested(fe, cl)]
    if not others:
        return None
    n = len(cl)
    s = np.ones(n) if sqrt_w is None else sqrt_w
    blocks = [sparse.csr_matrix((s, (np.arange(n), fe)), shape=(n, int(fe.max()) + 1))
              for fe in others]
    d = sparse.hstack(blocks, format="csr")
    gram = (d.T @ d).toarray()
    if len(nested) == 1:
        dn = sparse.csr_matrix((s, (np.arange(n), nested[0])),
                               shape=(n, int(nested[0].max()) + 1))
        c = (dn.T @ d).tocsr()  # (levels_n x L)
        cnt = np.asarray((dn.T @ dn).diagonal()).ravel()
        inv = sparse.diags(1.0 / cnt)
        gram = gram - (c.T @ inv @ c).toarray()
    elif len(nested) > 1:
        dense_cols = d.shape[1]
        w = None if sqrt_w is None else sqrt_w**2
        step = max(1, CHUNK_ELEMENTS // max(n, 1))
        for a, b in _n_chunks(dense_cols, step):
            raw = d[:, a:b].toarray() / s[:, None]
            dm, _ = demean(raw, list(nested), w)
            gram[:, a:b] = gram[:, a:b] - (d.T @ (raw * s[:, None] - dm * s[:, None]))
    k = np.linalg.pinv((gram + gram.T) / 2, rcond=1e-10, hermitian=True)
    return d, k


@dataclass(frozen=True)
class _Prepared:
    """Per-draw linear algebra of the fast algorithm for one coefficient."""

    a0: np.ndarray        # (G,) numerator weights at r0
    a1: np.ndarray        # (G,) their derivative in r (zeros for WCU)
    left: np.ndarray      # (G, m)
    right0: np.ndarray    # (m, G)
    right1: np.ndarray    # (m, G)
    full0: np.ndarray | None  # (G, G) = left @ right0 when cheaper
    full1: np.ndarray | None
    varies: bool          # WCR: the bootstrap statistics depend on r


def _prepare(
    x: np.ndarray, resid: np.ndarray, beta: np.ndarray, bread: np.ndarray, cl: np.ndarray,
    g: int, j: int, r0: float, impose_null: bool,
    corr: tuple[sparse.csr_matrix, np.ndarray] | None,
) -> _Prepared:
    h = bread[:, j]
    hj = float(h[j])
    z = x @ h
    u0 = resid + z * ((beta[j] - r0) / hj) if impose_null else resid
    amat = _bincount2(cl, x * z[:, None], g)            # rows: X_g' z_g
    s0 = _bincount2(cl, x * u0[:, None], g)             # rows: X_g' u_g
    a0 = np.bincount(cl, weights=z * u0, minlength=g)
    left_parts = [amat]
    r0_parts = [bread @ s0.T]
    r1_parts = [-(bread @ amat.T) / hj]
    if corr is not None:
        d, kinv = corr
        dz = d.multiply(z[:, None]).tocsc()
        du = d.multiply(u0[:, None]).tocsc()
        ind = sparse.csr_matrix((np.ones(len(cl)), (cl, np.arange(len(cl)))),
                                shape=(g, len(cl)))
        zc = np.asarray((ind @ dz).todense())           # (G x L): D'(z 1_g)
        u_mat = np.asarray((ind @ du).todense()).T      # (L x G): D'(u 1_g)
        left_parts.append(zc @ kinv)
        r0_parts.append(u_mat)
        r1_parts.append(-zc.T / hj)
    left = np.hstack(left_parts)
    right0 = np.vstack(r0_parts)
    right1 = np.vstack(r1_parts)
    varies = bool(impose_null)
    a1 = -np.bincount(cl, weights=z * z, minlength=g) / hj if varies else np.zeros(g)
    full0 = full1 = None
    if left.shape[1] * 2 >= g:
        full0 = left @ right0
        full1 = left @ right1 if varies else None
    return _Prepared(a0, a1, left, right0, right1, full0, full1, varies)


def _chunk_stats(p: _Prepared, v: np.ndarray, slope: bool) -> tuple[np.ndarray, ...]:
    """Numerator, its r-slope, and the three coefficients of the squared denominator."""
    num = v @ p.a0
    q0 = v * p.a0
    q0 -= v @ p.full0.T if p.full0 is not None else (v @ p.right0.T) @ p.left.T
    d0 = np.einsum("ij,ij->i", q0, q0)
    if not (p.varies and slope):
        zero = np.zeros_like(num)
        return num, zero, d0, zero, zero
    num1 = v @ p.a1
    q1 = v * p.a1
    q1 -= v @ p.full1.T if p.full1 is not None else (v @ p.right1.T) @ p.left.T
    d1 = np.einsum("ij,ij->i", q0, q1)
    d2 = np.einsum("ij,ij->i", q1, q1)
    return num, num1, d0, d1, d2


@dataclass(frozen=True)
class _Draws:
    num: np.ndarray
    num1: np.ndarray
    d0: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    r0: float
    c: float

    def tstats(self, r: float) -> np.ndarray:
        dr = r - self.r0
        num = self.num + dr * self.num1
        den2 = self.c * (self.d0 + 2 * dr * self.d1 + dr * dr * self.d2)
        return num / np.sqrt(np.maximum(den2, 0.0))  # callers silence 0/0 warnings


def _pvalue(tb: np.ndarray, t: float, p_type: str) -> float:
    return float(_pvalues(tb[None, :], np.array([t]), p_type)[0])


def _pvalues(tb: np.ndarray, t: np.ndarray, p_type: str) -> np.ndarray:
    """p-values of the statistics ``t`` (m,) against rows of bootstrap statistics (m x B).

    Draws at least as extreme as ``t`` count, ties within a relative tolerance
    included (:mod:`causalpolicing.inference._pvalue`); draws with a zero
    bootstrap standard error (non-finite) stay in the denominator and never count.
    """
    return resampling_pvalues(tb, t, p_type)


def _invert(draws: _Draws, est: float, se: float, alpha: float, p_type: str
            ) -> tuple[tuple[float, float], list[str]]:
    """Confidence set by inverting the bootstrap test: grid search and bisection."""
    notes: list[str] = []
    per = max(1, CHUNK_ELEMENTS // max(1, len(draws.num)))

    def pfun(rs: np.ndarray) -> np.ndarray:
        out = np.empty(len(rs))
        for a, b in _n_chunks(len(rs), per):
            dr = (rs[a:b] - draws.r0)[:, None]
            num = draws.num + dr * draws.num1
            den2 = draws.c * (draws.d0 + dr * (2 * draws.d1 + dr * draws.d2))
            out[a:b] = _pvalues(num / np.sqrt(np.maximum(den2, 0.0)), (est - rs[a:b]) / se,
                                p_type)
        return out

    ends = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for sign in (-1.0, 1.0):
            ends.append(_endpoint(pfun, est, se, alpha, sign, notes))
    return (float(ends[0]), float(ends[1])), notes


def _endpoint(pfun: Any, est: float, se: float, alpha: float, sign: float, notes: list[str]
              ) -> float:
    """One end of the confidence set, searching from the estimate in direction ``sign``.

    The step doubles until the p-value falls below ``alpha``; a grid of
    ``CI_GRID`` points between the estimate and there locates the outermost
    crossing, which bisection refines to :math:`10^{-10}` standard errors.
    """
    side = "lower" if sign < 0 else "upper"
    step = 2.0 * se
    tries = 0
    while pfun(np.array([est + sign * step]))[0] >= alpha:
        tries += 1
        if tries == CI_MAX_DOUBLINGS:
            notes.append(f"The confidence set is unbounded on the {side} side.")
            return sign * np.inf
        step *= 2.0
    grid = est + sign * np.linspace(0.0, step, CI_GRID)
    pv = pfun(grid)
    last_in = int(np.nonzero(pv >= alpha)[0].max())
    if np.any(pv[:last_in] < alpha):
        notes.append(f"The bootstrap p-value crosses 1 - level more than once on the {side} "
                     "side; the interval reported is the hull of the confidence set.")
    a, b = float(grid[last_in]), float(grid[last_in + 1])  # p(a) >= alpha > p(b)
    while abs(b - a) > 1e-10 * se:
        mid = 0.5 * (a + b)
        if mid in (a, b):
            break
        if pfun(np.array([mid]))[0] >= alpha:
            a = mid
        else:
            b = mid
    return 0.5 * (a + b)


def _wild_core(
    x: np.ndarray,
    y: np.ndarray,
    cluster_codes: np.ndarray,
    k_index: int,
    *,
    r: float = 0.0,
    reps: int = 9999,
    weights: str = "rademacher",
    impose_null: bool = True,
    p_type: str = "symmetric",
    level: float = 0.95,
    ci: bool = True,
    seed: Any = None,
    fe_codes: tuple[np.ndarray, ...] | list[np.ndarray] = (),
    sqrt_w: np.ndarray | None = None,
    ssc_factor: float | None = None,
    progress: bool = False,
    fe_correction: bool = True,
    draws: np.ndarray | None = None,
) -> dict[str, Any]:
    """The wild cluster bootstrap on arrays (within-transformed ``x`` and ``y``).

    ``x``, ``y`` are the regressors and outcome after the fixed effects were
    projected out (and multiplied by ``sqrt_w`` for weighted fits);
    ``cluster_codes`` are 0..G-1; ``fe_codes`` the fixed effects' codes, used for
    the exact treatment of fixed effects not nested in the clusters (module
    notes). ``ssc_factor`` defaults to :math:`\\frac{G}{G-1}\\frac{N-1}{N-k}`.
    ``draws`` (B x G) replaces the random weights (to replay another program's
    draws in tests); ``fe_correction=False`` skips the non-nested fixed-effect term.
    Returns a dict with ``estimate, std_error, t_stat, p_value, conf_int, reps,
    enumerated, n_clusters, t_boot, notes``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cl = np.asarray(cluster_codes, dtype=np.int64)
    n, k = x.shape
    g = int(cl.max()) + 1
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ (x.T @ y)
    resid = y - x @ beta
    return _run(x, resid, beta, bread, cl, g, k_index, r=r, reps=reps, weights=weights,
                impose_null=impose_null, p_type=p_type, level=level, ci=ci, seed=seed,
                fe_codes=tuple(fe_codes), sqrt_w=sqrt_w,
                ssc_factor=(g / (g - 1)) * (n - 1) / (n - k) if ssc_factor is None
                else ssc_factor, progress=progress, fe_correction=fe_correction, draws=draws)


def _run(
    x: np.ndarray, resid: np.ndarray, beta: np.ndarray, bread: np.ndarray, cl: np.ndarray,
    g: int, j: int, *, r: float, reps: int, weights: str, impose_null: bool, p_type: str,
    level: float, ci: bool, seed: Any, fe_codes: tuple[np.ndarray, ...],
    sqrt_w: np.ndarray | None, ssc_factor: float, progress: bool, fe_correction: bool,
    draws: np.ndarray | None = None,
) -> dict[str, Any]:
    notes: list[str] = []
    h = bread[:, j]
    z = x @ h
    score = np.bincount(cl, weights=z * resid, minlength=g)
    se = float(np.sqrt(ssc_factor * score @ score))
    est = float(beta[j])
    t_stat = (est - r) / se
    corr = None
    if fe_codes and fe_correction:
        levels = sum(int(fe.max()) + 1 for fe in fe_codes if not _nested(fe, cl))
        if levels > MAX_CROSSED_LEVELS:
            notes.append(
                f"The fixed effects not nested in the clusters have {levels} levels (more than "
                f"{MAX_CROSSED_LEVELS}): the bootstrap ran on the within-transformed data "
                "without re-absorbing them in each draw (module notes).")
        else:
            corr = _fe_correction(cl, g, fe_codes, sqrt_w)
    prep = _prepare(x, resid, beta, bread, cl, g, j, r, impose_null, corr)

    enumerated = draws is None and weights == "rademacher" and g < 63 and 2**g <= reps
    total = 2**g if enumerated else (reps if draws is None else draws.shape[0])
    rng = None if enumerated else np.random.default_rng(seed)
    per = max(1, CHUNK_ELEMENTS // g)
    out = [np.empty(total) for _ in range(5)]
    chunks = list(_n_chunks(total, per))
    bar = None
    if progress:
        from rich.progress import Progress

        bar = Progress(transient=True)
        task = bar.add_task("wild bootstrap", total=len(chunks))
        bar.start()
    try:
        with _single_thread_blas():
            for a, b in chunks:
                if draws is not None:
                    v = np.asarray(draws[a:b], dtype=float)
                elif enumerated:
                    v = _enumerate(a, b, g)
                else:
                    v = _draw(rng, weights, b - a, g)
                for arr, part in zip(out, _chunk_stats(prep, v, slope=ci), strict=True):
                    arr[a:b] = part
                if bar is not None:
                    bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    boot = _Draws(*out, r0=float(r), c=float(ssc_factor))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_boot = boot.tstats(r)
    bad = int(np.sum(~np.isfinite(t_boot)))
    if bad:
        notes.append(f"{bad} draw(s) gave a zero bootstrap standard error and count as not "
                     "more extreme.")
    p_value = _pvalue(t_boot, t_stat, p_type)
    conf_int = (np.nan, np.nan)
    if ci:
        conf_int, ci_notes = _invert(boot, est, se, 1.0 - level, p_type)
        notes.extend(ci_notes)
    t_boot.setflags(write=False)
    return {"estimate": est, "std_error": se, "t_stat": float(t_stat), "p_value": p_value,
            "conf_int": conf_int, "reps": int(total), "enumerated": bool(enumerated),
            "n_clusters": g, "t_boot": t_boot, "notes": notes}
