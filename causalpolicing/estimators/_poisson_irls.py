"""The Poisson IRLS engine of :class:`~causalpolicing.estimators.fepois.FEPoisson`.

The IRLS loop with weighted within transformations, the deviance, the checks
for fixed-effect levels with an all-zero outcome and for separation (iterative
rectifier), the re-estimation closures used by CRV3 and the score
bootstrap, and the covariance with the Poisson dispersion fixed at one. The method is described in :mod:`causalpolicing.estimators.fepois`.

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
from scipy import linalg
from scipy.linalg import lapack
from scipy.special import gammaln

from ..exceptions import EstimationError, SpecError
from ..inference.vcov import VcovInput, VcovRequest, compute_vcov
from ._common import COLLIN_TOL, _inv_psd, _select_columns
from ._demean import FixedEffects, demean
from ._fe_structure import factorize

#: Tolerance of the ReLU separation check (as ppmlhdfe and pyfixest).
SEPARATION_TOL = 1e-4
_MAX_HALVING = 20
#: The separation check demeans the regressors and its first outcome together up to
#: this many elements (rows x columns).
_MERGE_MAX = 1_000_000
#: The last IRLS iteration's within transformation must meet at least this tolerance.
_POLISHED_TOL = 1e-10


# ------------------------------------------------------------------- IRLS core
_LAMCH_E = float(lapack.dlamch("E"))


def _solve_pos(lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``scipy.linalg.solve(lhs, rhs, assume_a="pos")`` without its per-call overhead.

    The same LAPACK calls (``posv``, then ``pocon`` for the ill-conditioning
    warning), so the same numbers and the same errors and warnings.
    """
    anorm = float(np.abs(lhs).sum(axis=0).max()) if lhs.size else 0.0
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
    if uw is None:
        return 2 * (c_sum - float(y @ eta) + float(mu.sum()))
    return 2 * (c_sum - float(uw @ (y * eta)) + float(uw @ mu))


def _logliks(y: np.ndarray, mu: np.ndarray, offset: np.ndarray, uw: np.ndarray | None
             ) -> tuple[float, float, np.ndarray]:
    """Log-likelihood at ``mu``, of the constant-rate model and that model's fitted means."""
    wts = np.ones(len(y)) if uw is None else uw
    lgy = gammaln(y + 1)
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
            both, _ = demean(both, fe_prep, w, tol=inner, out=both, direct=True)  # in place
            zd, xd = both[:, 0], both[:, 1:]
            if check_collin:
                raw_ss = w @ ((x - (w @ x) / w.sum()) ** 2)
                sw = np.sqrt(w)
                keep, why = _select_columns(xd * sw[:, None], raw_ss, names, has_fe,
                                            tol=collin_tol)
                if not keep:
                    raise EstimationError(
                        "No regressor is left to estimate"
                        + (f" (dropped: {why})" if why else "")
                        + "; the fixed effects absorb everything."
                    )
                if len(keep) < x.shape[1]:
                    x = x[:, keep]
                    both = both[:, [0, *[1 + j for j in keep]]]
                    zd, xd = both[:, 0], both[:, 1:]
                    beta = beta[: len(keep)]
        else:
            # warm start in place: the previous demeaned columns plus the change of z
            both[:, 0] += z - z_prev
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
    pos = np.bincount(codes[keep], weights=(y[keep] > 0).astype(float), minlength=n_lv)
    return keep & (pos[codes] == 0)


def _relu_separation(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...] | FixedEffects,
    tol: float = SEPARATION_TOL,
    maxiter: int = 100,
) -> tuple[np.ndarray, bool]:
    """Iterative rectifier of Correia, Guimarães & Zylkin (2021): separated rows (mask).

    Regress ``u = 1{y = 0}`` on the regressors and fixed effects with a huge
    weight on the interior rows (``y > 0``) so that their fitted values are
    zero; set fitted values within ``tol`` of zero (and every interior one) to
    zero; if none is negative, the boundary rows with positive fitted values are
    separated; else replace ``u`` by ``max(fitted, 0)`` and repeat.
    """
    boundary = y == 0
    n = len(y)
    if not boundary.any():
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
        except (np.linalg.LinAlgError, linalg.LinAlgError, ValueError):
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
def _check_poisson_vcov(req: VcovRequest) -> VcovRequest:
    if req.name == "HC3":
        raise SpecError("HC3 is not available for the Poisson model (its leverage correction is "
                        "defined for least squares). Use 'hetero' (HC1), a CRV1 or CRV3.")
    return req


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
