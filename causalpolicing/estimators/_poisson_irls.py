"""The Poisson IRLS engine of :class:`~causalpolicing.estimators.poisson.FEPoisson`.

The IRLS loop with weighted within transformations, the deviance, the checks
for fixed-effect levels with an all-zero outcome and for separation (iterative
rectifier), the re-estimation closures used by CRV3 and the score
bootstrap, and the covariance with the Poisson dispersion fixed at one. The method is described in :mod:`causalpolicing.estimators.poisson`.

>>> import numpy as np
>>> y = np.array([0.0, 0.0, 1.0, 2.0])
>>> x = np.array([[1.0], [1.0], [0.0], [0.0]])
>>> sep, ok = _relu_separation(y, x, ())
>>> sep.tolist(), ok
([True, True, False, False], True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.demean import FixedEffects, demean, demean_two_inplace
from ..core.fe_structure import factorize
from ..exceptions import EstimationError
from ..inference.vcov import VcovInput, VcovRequest, compute_vcov
from ._common import COLLIN_TOL, _inv_psd, _select_columns, no_regressor_message

#: Tolerance of the ReLU separation check (as ppmlhdfe and pyfixest).
SEPARATION_TOL = 1e-4
_MAX_HALVING = 20
#: The separation check demeans the regressors and its first outcome together up to
#: this many elements (rows x columns).
_MERGE_MAX = 1_000_000
#: The last IRLS iteration's within transformation must meet at least this tolerance.
_POLISHED_TOL = 1e-10
#: Up to this many rows the IRLS calls the lean in-place within transformation.
_LEAN_MAX_ROWS = 100_000


# ------------------------------------------------------------------- IRLS core
#: LAPACK's ``dlamch("E")`` (relative machine precision, 2**-53), the threshold of
#: scipy.linalg.solve's ill-conditioning warning. scipy is imported on first use, not
#: with this module: ``import causalpolicing.estimators`` (hence ``cp.feols``) loads this
#: module eagerly, and scipy.linalg costs about 150-250 ms of import time.
_LAMCH_E = float(np.finfo(np.float64).eps) / 2
_SCIPY: dict[str, Any] = {}


def _scipy() -> dict[str, Any]:
    """scipy.linalg, its LAPACK wrappers and gammaln (imported once, on first use)."""
    if not _SCIPY:
        from scipy import linalg
        from scipy.linalg import lapack
        from scipy.special import gammaln

        _SCIPY.update(linalg=linalg, lapack=lapack, gammaln=gammaln)
    return _SCIPY


def _solve_pos(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``scipy.linalg.solve(lhs, rhs, assume_a="pos")`` without its per-call overhead.

    The same LAPACK calls (``posv``, then ``pocon`` for the ill-conditioning
    warning), so the same numbers and the same errors and warnings.
    """
    sp = _SCIPY or _scipy()
    lapack, linalg = sp["lapack"], sp["linalg"]
    # (the ufunc reductions that ndarray.sum/max call, without their Python wrappers)
    anorm = float(np.maximum.reduce(np.add.reduce(np.abs(lhs), axis=0))) if lhs.size else 0.0
    c, x, info = lapack.dposv(lhs, rhs, lower=False)
    if info < 0:
        raise ValueError(f"LAPACK reported an illegal value in {-info}-th argument.")
    if info > 0:
        raise linalg.LinAlgError("Matrix is singular.")
    rcond, info = lapack.dpocon(c, anorm)
    if rcond < _LAMCH_E:
        warnings.warn(f"Ill-conditioned matrix (rcond={rcond:.6g}): result may not be "
                      "accurate.", linalg.LinAlgWarning, stacklevel=3)
    return x

@dataclass(frozen=True)
class _IRLS:
    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    xd: np.ndarray  # demeaned regressors at the last weights (unweighted)
    resid: np.ndarray  # working residuals of the last WLS (unweighted)
    w: np.ndarray  # last IRLS weights (user weights x mu)
    deviance: float
    iterations: int
    converged: bool
    keep: list[int]
    why: dict[str, str]


def _deviance(y: np.ndarray, mu: np.ndarray, uw: np.ndarray | None) -> float:
    # 2 sum w (y log(y / mu) - (y - mu)), with y log(y / mu) = 0 at y = 0; in place
    with np.errstate(divide="ignore", invalid="ignore"):
        term = y / mu
        np.log(term, out=term)
        term *= y
        term[y <= 0] = 0.0
        term -= y - mu
    return float(2 * (term.sum() if uw is None else uw @ term))


def _ylogy_minus_y(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y


def _deviance_eta(c_sum: float, y: np.ndarray, eta: np.ndarray, mu: np.ndarray,
                  uw: np.ndarray | None) -> float:
    """Deviance from the linear predictor: 2 sum w (y log y - y - y eta + mu), no logarithm."""
    if uw is None:  # (np.add.reduce: what mu.sum() calls, without its Python wrapper)
        return 2 * (c_sum - float(y @ eta) + float(np.add.reduce(mu)))
    return 2 * (c_sum - float(uw @ (y * eta)) + float(uw @ mu))


def _logliks(y: np.ndarray, mu: np.ndarray, offset: np.ndarray, uw: np.ndarray | None
             ) -> tuple[float, float, np.ndarray]:
    """Log-likelihood at ``mu``, of the constant-rate model and that model's fitted means."""
    wts = np.ones(len(y)) if uw is None else uw
    lgy = (_SCIPY or _scipy())["gammaln"](y + 1)
    zero = y <= 0

    def ll(m: np.ndarray) -> float:
        # sum w (y log m - m - log y!), with y log m = 0 at y = 0; in place
        t = np.log(m)
        t *= y
        t[zero] = 0.0
        t -= m
        t -= lgy
        return float(wts @ t)

    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = ll(mu)
        eo = np.exp(offset)
        a = np.log((wts @ y) / (wts @ eo))
        del eo
        mu0 = np.exp(a + offset)
        ll0 = ll(mu0)
    return loglik, ll0, mu0


def _irls(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...] | FixedEffects,
    offset: np.ndarray, uw: np.ndarray | None, names: tuple[str, ...], *, tol: float,
    maxiter: int,
    collin_tol: float = COLLIN_TOL, eta0: np.ndarray | None = None, check_collin: bool = True,
) -> _IRLS:
    """Poisson IRLS with weighted within transformations (see the module notes)."""
    # structure built once (or passed in), reused by every iteration
    fe_prep = fe_codes if isinstance(fe_codes, FixedEffects) else FixedEffects(fe_codes)
    has_fe = bool(fe_prep)
    # two fixed effects on small data: the in-place within transformation without the
    # bookkeeping of demean() (the same numbers; demean() takes over if it cannot converge)
    lean = len(fe_prep) == 2 and len(y) <= _LEAN_MAX_ROWS
    if eta0 is None:
        # start between y and the constant-rate fit (fixest's start, scaled by the exposure)
        ex = np.exp(offset - offset.max()) if np.any(offset) else None
        if ex is None:
            mean = float(y.mean() if uw is None else (uw @ y) / uw.sum())
            mu = (y + mean) / 2
        else:
            rate = float((y.sum() / ex.sum()) if uw is None else (uw @ y) / (uw @ ex))
            mu = (y + rate * ex) / 2
            mu = np.where(mu > 0, mu, rate * ex)
        eta = np.log(mu)
    else:
        eta = eta0
        mu = np.exp(eta)
    c = _ylogy_minus_y(y)
    c_sum = float(c.sum() if uw is None else uw @ c)
    del c
    last = _deviance(y, mu, uw)
    keep = list(range(x.shape[1]))
    why: dict[str, str] = {}
    z_prev = zd = xd = None
    both = np.empty((0, 0))
    beta = np.zeros(x.shape[1])
    converged = False
    polishing = False
    crit = 1.0
    it = 0
    for it in range(1, maxiter + 1):
        # inner tolerance: loose while far from the optimum, tight at the end
        inner = _POLISHED_TOL if polishing else max(_POLISHED_TOL, min(1e-6, 1e-4 * crit))
        z = eta - offset + (y - mu) / mu
        w = mu if uw is None else uw * mu
        if xd is None:
            both = np.column_stack([z, x])
            if not (lean and demean_two_inplace(both, fe_prep, w, inner)):
                both, _ = demean(both, fe_prep, w, tol=inner, out=both, direct=True)  # in place
            zd, xd = both[:, 0], both[:, 1:]
            if check_collin:
                raw_ss = w @ ((x - (w @ x) / w.sum()) ** 2)
                raw_ss[np.ptp(x, axis=0) == 0] = 0.0  # constant: exactly, whatever rounding
                sw = np.sqrt(w)
                keep, why = _select_columns(xd * sw[:, None], raw_ss, names, has_fe,
                                            tol=collin_tol)
                if not keep:
                    raise EstimationError(no_regressor_message(why, {}, (), ()))
                if len(keep) < x.shape[1]:
                    x = x[:, keep]
                    both = both[:, [0, *[1 + j for j in keep]]]
                    zd, xd = both[:, 0], both[:, 1:]
                    beta = beta[: len(keep)]
        else:
            # warm start in place: the previous demeaned columns plus the change of z
            both[:, 0] += z - z_prev
            if not (lean and demean_two_inplace(both, fe_prep, w, inner)):
                both, _ = demean(both, fe_prep, w, tol=inner, out=both, direct=True)  # in place
            zd, xd = both[:, 0], both[:, 1:]
        z_prev = z
        if xd.shape[1]:
            xw = xd * w[:, None]
            lhs, rhs = xd.T @ xw, xw.T @ zd
            del xw
            beta_new = _solve_pos(lhs, rhs)
            resid = zd - xd @ beta_new
        else:  # fixed effects only (a restricted fit)
            beta_new = beta
            resid = zd
        eta_new = z - resid + offset
        mu_new = np.exp(eta_new)
        dev = _deviance_eta(c_sum, y, eta_new, mu_new, uw)
        halving = 0
        while (not np.isfinite(dev) or dev > last * (1 + 1e-10) + 1e-12) and it > 1 \
                and halving < _MAX_HALVING:
            # step-halving: the linear predictor is linear in (beta, fixed effects)
            eta_new = (eta + eta_new) / 2
            beta_new = (beta + beta_new) / 2
            mu_new = np.exp(eta_new)
            dev = _deviance_eta(c_sum, y, eta_new, mu_new, uw)
            halving += 1
        crit = abs(dev - last) / (0.1 + abs(dev))
        eta, mu, beta, last = eta_new, mu_new, beta_new, dev
        if crit < tol:
            if inner <= _POLISHED_TOL or not has_fe:
                converged = True
                break
            polishing = True  # one more iteration with the tight inner tolerance
    return _IRLS(beta=beta, eta=eta, mu=mu, xd=xd, resid=resid, w=w, deviance=last,
                 iterations=it, converged=converged, keep=keep, why=why)


# --------------------------------------------------------------- data problems
def _all_zero_rows(y: np.ndarray, codes: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rows (mask) of kept rows whose level has no positive outcome among kept rows."""
    n_lv = int(codes.max()) + 1
    if keep.all():  # (the same sums, without two masked copies)
        pos = np.bincount(codes, weights=(y > 0).astype(float), minlength=n_lv)
        return pos[codes] == 0
    pos = np.bincount(codes[keep], weights=(y[keep] > 0).astype(float), minlength=n_lv)
    return keep & (pos[codes] == 0)


#: Limits of the exact pre-check of :func:`_separation_impossible` (beyond them, or when
#: it cannot prove anything, the iterative rectifier runs as before): at most this many
#: regressors, this many levels of the smaller of two fixed effects (the side of the dense
#: Schur complement) and cells of their two-way table; the reciprocal condition number of
#: the Schur complement and the smallest eigenvalue of the scaled Gram matrix of the
#: residualised regressors must exceed these margins.
_PRE_MAX_K = 50
_PRE_MAX_LEVELS = 500
_PRE_MAX_CELLS = 2_000_000
_PRE_RCOND = 1e-6
_PRE_EIG = 1e-7
#: logical reductions called directly (ndarray.all/any without numpy's Python wrappers)
_ALL = np.logical_and.reduce
_ANY = np.logical_or.reduce


def _separation_impossible(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...] | FixedEffects,
) -> bool:
    r"""An exact sufficient condition for the absence of separation (no false "True").

    Separation (Correia, Guimarães & Zylkin 2021) exists iff some combination
    ``z = M v`` of the columns of ``M = [X, D]`` (regressors and fixed-effect
    dummies) is zero on every interior row (``y > 0``), non-negative on every
    boundary row (``y = 0``) and positive on at least one of them. Let ``M_I``
    be the interior rows of ``M``.

    *Claim*: if ``rank(M_I) = rank(M)``, no such ``z`` exists. *Proof*: ``M_I``
    is a subset of the rows of ``M``, so ``null(M) ⊆ null(M_I)``; equal ranks
    make the two null spaces of equal dimension, hence equal. Any ``v`` with
    ``M_I v = 0`` then has ``M v = 0``: a combination that vanishes on the
    interior rows vanishes on every row and cannot be positive on a boundary
    row. ∎

    The ranks are established without a numerical rank decision on ``D``:

    * ``rank(M) <= rank(D) + k`` always (``k`` regressors), and
      ``rank(M_I) = rank(D_I) + rank(Q_I X_I)`` with ``Q_I`` the projection off
      the columns of ``D_I`` (Frisch-Waugh). So ``rank(D_I) = r_D`` with
      ``r_D >= rank(D)`` and ``Q_I X_I`` of full column rank ``k`` give
      ``rank(M_I) = r_D + k >= rank(M) >= rank(M_I)``: equality.
    * No fixed effect: ``r_D = 0``. One: ``rank(D_I)`` is the number of levels
      with an interior row; it must be every level (``rank(D) <= L``). Two (the
      connectivity of the fixed effects matters): ``rank(D) <= L_a + L_b - 1``
      (the dummies of ``a`` and of ``b`` both sum to the constant) and
      ``rank(D_I) = L_a + L_b - c_I`` with ``c_I`` the connected components of
      the bipartite graph of levels joined by interior rows (isolated levels
      count). The check requires ``c_I = 1``, decided exactly (integer
      reachability on the table of interior cell counts). Three or more fixed
      effects: not attempted (``False``).
    * ``Q_I X_I`` has full column rank iff its Gram matrix ``G = X_I' Q_I X_I``
      is positive definite. With two fixed effects, eliminating ``a`` gives
      ``G = X_I'X_I - S_a' diag(1/n_a) S_a - R' S^+ R`` with ``S = diag(n_b) -
      N' diag(1/n_a) N`` (``N``: interior cell counts, ``n``: level counts,
      ``S_a, S_b``: level sums of ``X_I``) and ``R = S_b - N' diag(1/n_a) S_a``;
      ``S`` is a connected graph's Laplacian (null space: the constant, to which
      ``R`` is orthogonal), so fixing the last coefficient of ``b`` at zero
      gives ``R' S^+ R = R_1' S_11^{-1} R_1`` with ``S_11`` positive definite.
      The columns of ``X_I`` are first centred (with a fixed effect the constant
      is in the span of ``D_I``, so ``Q_I X_I`` is unchanged) and ``G`` is scaled
      to unit diagonal of ``X_I'X_I``. Full rank is accepted only with margins
      far above the rounding errors of this computation: ``rcond(S_11) >=
      1e-6`` (LAPACK ``pocon``; the solve then loses at most about 1e-10) and a
      smallest eigenvalue of the scaled ``G`` of at least ``1e-7`` (tested as a
      completed Cholesky factorisation of ``G - 1e-7 I``; the scaled entries
      carry errors of order ``m * eps`` plus the solve's, below 1e-9 for up to a
      million rows), so the computed margin implies exact full rank.

    Anything else (a regressor absorbed by or collinear with the fixed effects
    on the interior rows, poorly connected or disconnected fixed effects, more
    than two fixed effects, large tables) returns ``False``: the caller then
    runs the iterative rectifier, so the check never weakens the separation
    test, it only skips it when separation is provably impossible.
    """
    interior = y > 0
    if isinstance(fe_codes, FixedEffects):
        codes, levels = fe_codes.codes, fe_codes.levels
    else:
        codes = tuple(fe_codes)
        levels = tuple(int(c.max()) + 1 if len(c) else 0 for c in codes)
    k = x.shape[1]
    if len(codes) > 2 or k > _PRE_MAX_K or not interior.any():
        return False
    # (small arrays: products with a vector of ones are several times faster than numpy's
    # axis reductions; the rounding of this check does not reach any estimate)
    xi = np.compress(interior, x, axis=0)
    m = len(xi)
    if codes and k:
        xi = xi - (np.ones(m) @ xi) / m  # (the constant is in the span of the dummies)
    if len(codes) == 1:
        a = codes[0][interior]
        la = levels[0]
        na = np.bincount(a, minlength=la).astype(float)
        if not _ALL(na, axis=None):
            return False
        sa = np.empty((la, k))
        for j in range(k):
            sa[:, j] = np.bincount(a, weights=xi[:, j], minlength=la)
        proj = sa.T @ (sa / na[:, None])
    elif len(codes) == 2:
        a, b = codes[0][interior], codes[1][interior]
        la, lb = levels
        if lb > la:
            a, b, la, lb = b, a, lb, la
        if lb > _PRE_MAX_LEVELS or la * lb > _PRE_MAX_CELLS:
            return False
        key = a * lb
        key += b
        cells = np.bincount(key, minlength=la * lb).reshape(la, lb)
        del key
        # connectivity, exactly (integer reachability): every level of a has an interior
        # row and every level of b is reachable from b-level 0 through shared a-levels
        linked = cells > 0
        if not _ALL(_ANY(linked, axis=1), axis=None):
            return False
        # (else an a-level links every b-level: connected)
        if not _ANY(_ALL(linked, axis=1), axis=None):
            reach_b = linked[:, 0].copy()  # (here: a-levels reached)
            reach_b = _ANY(linked[reach_b], axis=0)
            count = int(reach_b.sum())
            while count < lb:
                reach_b = _ANY(linked[_ANY(linked[:, reach_b], axis=1)], axis=0)
                new = int(reach_b.sum())
                if new == count:
                    return False  # disconnected
                count = new
        if k == 0:
            return True
        nn = cells.astype(float)
        ones_a = np.ones(la)
        na = nn @ np.ones(lb)
        nb = ones_a @ nn
        sa = np.empty((la, k))
        sb = np.empty((lb, k))
        for j in range(k):
            sa[:, j] = np.bincount(a, weights=xi[:, j], minlength=la)
            sb[:, j] = np.bincount(b, weights=xi[:, j], minlength=lb)
        scaled = nn / na[:, None]
        proj = sa.T @ (sa / na[:, None])
        if lb > 1:
            schur = nn.T @ scaled
            np.negative(schur, out=schur)
            schur.flat[:: lb + 1] += nb
            r1 = (sb - scaled.T @ sa)[:-1]
            s11 = np.array(schur[:-1, :-1], order="F")
            lapack = (_SCIPY or _scipy())["lapack"]
            anorm = float(np.abs(s11).max() * (lb - 1))  # (>= the 1-norm: rcond is lowered)
            chol, sol, info = lapack.dposv(s11, r1, lower=False)
            if info != 0:
                return False
            rcond, info = lapack.dpocon(chol, anorm)
            if info != 0 or not rcond >= _PRE_RCOND:
                return False
            proj = proj + r1.T @ sol
    else:
        proj = 0.0
    if k == 0:
        return True
    if m <= k:
        return False
    gram = xi.T @ xi
    c = np.sqrt(gram.diagonal())
    if not (_ALL(np.isfinite(c), axis=None) and _ALL(c > 0, axis=None)):
        return False
    g = (gram - proj) / np.outer(c, c)
    g = (g + g.T) / 2
    if not _ALL(np.isfinite(g), axis=None):
        return False
    # smallest eigenvalue >= _PRE_EIG  <=>  g - _PRE_EIG * I positive definite: a Cholesky
    # factorisation that completes (LAPACK potrf; backward error ~k * eps, far below the margin)
    g.flat[:: k + 1] -= _PRE_EIG
    info = (_SCIPY or _scipy())["lapack"].dpotrf(g, lower=False, clean=False)[1]
    return info == 0


def _relu_separation(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...] | FixedEffects,
    tol: float = SEPARATION_TOL,
    maxiter: int = 100,
    precheck: bool = True,
) -> tuple[np.ndarray, bool]:
    """Iterative rectifier of Correia, Guimarães & Zylkin (2021): separated rows (mask).

    Regress ``u = 1{y = 0}`` on the regressors and fixed effects with a huge
    weight on the interior rows (``y > 0``) so that their fitted values are
    zero; set fitted values within ``tol`` of zero (and every interior one) to
    zero; if none is negative, the boundary rows with positive fitted values are
    separated; else replace ``u`` by ``max(fitted, 0)`` and repeat.

    With ``precheck`` (default), :func:`_separation_impossible` runs first: when
    it proves that no combination of regressors and fixed effects can separate
    any row, no row is separated and the iteration is skipped.
    """
    boundary = y == 0
    n = len(y)
    if not boundary.any():
        return np.zeros(n, dtype=bool), True
    if precheck:
        with np.errstate(all="ignore"):  # (extreme values: not proved, no warning)
            if _separation_impossible(y, x, fe_codes):
                return np.zeros(n, dtype=bool), True
    interior = ~boundary
    big = interior.sum() / tol**2
    omega = np.where(interior, big, 1.0)
    # built once (or passed in) for all the demeaning below
    fe_prep = fe_codes if isinstance(fe_codes, FixedEffects) else FixedEffects(fe_codes)
    u = boundary.astype(float)
    ud: np.ndarray | None = None
    if n * (x.shape[1] + 1) <= _MERGE_MAX:
        # small data: the regressors and the first u in one call (one set of cell
        # weights and level sums; large data keep the separate calls, which use less memory)
        both = np.column_stack([x, u])
        both, _ = demean(both, fe_prep, omega, tol=1e-9, direct=True, out=both)  # in place
        xd, ud = both[:, :-1], both[:, -1]
        del both
    elif x.shape[1]:
        xd, _ = demean(x, fe_prep, omega, tol=1e-9, direct=True)
    else:
        xd = x
    sw = np.sqrt(omega)
    xs = xd * sw[:, None]
    for it in range(maxiter):
        if it or ud is None:
            ud, _ = demean(u, fe_prep, omega, tol=1e-9, direct=True)
        if xs.shape[1]:
            b = np.linalg.lstsq(xs, ud * sw, rcond=None)[0]
            resid = ud - xd @ b
        else:
            resid = ud
        uhat = u - resid
        del ud, resid
        uhat[interior | ((uhat > -0.1 * tol) & (uhat < tol))] = 0.0
        if np.all(uhat >= 0):
            return boundary & (uhat > 0), True
        u = np.where(boundary, np.maximum(uhat, 0.0), 0.0)
    return np.zeros(n, dtype=bool), False  # not settled in maxiter rounds (the caller warns)


# ------------------------------------------------------------ re-estimation
def refit_closures(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...], offset: np.ndarray,
    uw: np.ndarray | None, param_names: list[str], eta_hat: np.ndarray, *, tol: float,
    maxiter: int,
) -> tuple[Callable[..., np.ndarray | None], Callable[[np.ndarray], np.ndarray],
           Callable[[int, float], tuple[np.ndarray, np.ndarray]]]:
    """``refit`` (subset / reweighted), ``jackknife`` (CRV3) and ``restricted`` (score
    bootstrap) re-estimations of a fitted model, starting from its linear predictor."""
    n = len(y)

    def refit(mask: np.ndarray | None = None, mult: np.ndarray | None = None
              ) -> np.ndarray | None:
        """Re-estimate on a subset (mask) and/or with multiplied weights; None on failure."""
        sel = np.ones(n, dtype=bool) if mask is None else mask.copy()
        wts = uw if mult is None else (mult if uw is None else uw * mult)
        if wts is not None:
            sel &= wts > 0
        codes = [c[sel] for c in fe_codes]
        ys = y[sel]
        k2 = np.ones(len(ys), dtype=bool)
        changed = bool(codes)
        while changed:
            changed = False
            for c in codes:
                z = _all_zero_rows(ys, c, k2)
                if z.any():
                    k2 &= ~z
                    changed = True
        if not k2.any():
            return None
        idx = np.flatnonzero(sel)[k2]
        codes2 = tuple(factorize(c[idx])[0] for c in fe_codes)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = _irls(y[idx], x[idx], codes2, offset[idx],
                          None if wts is None else wts[idx], tuple(param_names), tol=tol,
                          maxiter=maxiter, eta0=eta_hat[idx], check_collin=False)
        except (np.linalg.LinAlgError, ValueError):  # (scipy.linalg's is numpy's)
            return None
        return r.beta if r.converged and np.all(np.isfinite(r.beta)) else None

    def jackknife(mask: np.ndarray) -> np.ndarray:
        b = refit(mask=mask)
        if b is None:
            raise EstimationError("CRV3: the model could not be re-estimated without one "
                                  "of the clusters; use CRV1.")
        return b

    def restricted(j: int, value: float) -> tuple[np.ndarray, np.ndarray]:
        """Scores and inverse Hessian at the estimate constrained to beta_j = value."""
        xr = np.delete(x, j, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = _irls(y, xr, tuple(fe_codes), offset + value * x[:, j], uw,
                      tuple(np.delete(np.array(param_names, dtype=object), j)), tol=tol,
                      maxiter=maxiter, eta0=eta_hat, check_collin=False)
            wr = r.mu if uw is None else uw * r.mu
            xdr, _ = demean(x, fe_codes, wr, direct=True)
        resp = y - r.mu if uw is None else uw * (y - r.mu)
        return xdr * resp[:, None], _inv_psd(xdr.T @ (xdr * wr[:, None]))

    return refit, jackknife, restricted


# ------------------------------------------------------------- covariance
def _vcov(req: VcovRequest, vin: VcovInput, ssc: str, codes: Mapping[str, np.ndarray]) -> Any:
    """The registry's covariance; iid with the Poisson dispersion fixed at one."""
    if req.kind == "iid":
        # compute_vcov's iid is RSS * factor * bread with factor 1/(N-K) (1/N for "none");
        # a pseudo-residual with RSS = N-1 (fixest-like conventions) or N gives the Poisson
        # Fisher information times (N-1)/(N-K), N/(N-K) (linearmodels) or 1 (none).
        n = vin.nobs
        rss = n - 1.0 if ssc in ("fixest", "stata_xtreg", "stata_areg") else float(n)
        vin = VcovInput(regressors=vin.regressors, resid=np.full(n, np.sqrt(rss / n)),
                        bread=vin.bread, params=vin.params, fe_codes=vin.fe_codes,
                        fe_names=vin.fe_names, fe_dof_exact=vin.fe_dof_exact)
    return compute_vcov(req, vin, ssc=ssc, cluster_codes=codes,
                        time_codes=codes.get(req.time) if req.time else None)
