r"""Relative-magnitude bounds :math:`\Delta^{RM}(\bar M)` by the ARP conditional / hybrid test.

Andrews, Roth & Pakes (2023) test :math:`H_0: \exists \tau_{-}: E[Y] - X\tau_{-} \le 0` for
the moments :math:`Y = A\hat\beta - d - a_1\theta` of the polyhedral restriction
:math:`A\delta \le d` (nuisance :math:`\tau_{-}`: the other post-period effects, after
rotating :math:`\tau_{post}` so that :math:`\theta = l'\tau_{post}` is its first
component). The statistic is :math:`\hat\eta = \min_{\eta,\tau_{-}} \eta` s.t.
:math:`Y - X\tau_{-} \le \eta\,\sigma_Y` (a linear program, solved here by HiGHS through
:func:`scipy.optimize.linprog`); conditional on the optimal vertex its distribution is a
truncated normal. The hybrid ("C-LF", R ``HonestDiD``'s default) first rejects when
:math:`\hat\eta` exceeds the least-favourable :math:`1-\kappa` critical value
(:math:`\kappa = \alpha/10`, simulated with 1,000 draws), then runs the conditional test at
size :math:`(\alpha-\kappa)/(1-\kappa)` with the truncation capped at that value.

:math:`\Delta^{RM}(\bar M)` is the union over the location :math:`s` and sign of the
largest pre-period first difference of polyhedra :math:`\Delta^{RM}_{s,\pm}`; the
confidence set is the union of the sets for each (R ``computeConditionalCS_DeltaRM``),
found by inverting the test over R's grid of ``grid_points`` values of :math:`\theta` in
:math:`\pm 20\,\mathrm{sd}(l'\hat\tau)` and reported as the smallest and largest accepted
grid points. This module follows R ``HonestDiD`` (``R/deltarm.R``, ``R/arp-nuisance.R``,
``R/arp-nonuisance.R``) step by step, with R's own random draws for the least-favourable
critical value (:mod:`._r_rng`); it differs in computing :math:`\hat\eta` from the
enumerated vertices of its dual (the LP's optimum, when there are at most 20,000 subsets to
try; HiGHS otherwise) and in scanning the grid coarsely first, testing every point only
between coarse points whose decisions differ.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import optimize, special, stats

from ._r_rng import r_rmvnorm

__all__ = ["rm_confidence_set"]

_TOL_LAMBDA = 1e-6
_MAX_VERTICES = 20_000


# -- the restriction Delta^RM_{s,+/-}(Mbar) ---------------------------------------------------
def create_a_rm(num_pre: int, num_post: int, mbar: float, s: int, max_positive: bool
                ) -> np.ndarray:
    """R ``.create_A_RM`` (reference period dropped): rows of ``A delta <= 0``."""
    n = num_pre + num_post
    atilde = np.zeros((n, n + 1))
    for r in range(n):
        atilde[r, r:r + 2] = (-1.0, 1.0)
    v = np.zeros(n + 1)
    v[num_pre + s - 1: num_pre + s + 1] = (-1.0, 1.0)
    if not max_positive:
        v = -v
    a_ub = np.vstack([np.tile(v, (num_pre, 1)), np.tile(mbar * v, (num_post, 1))])
    a = np.vstack([atilde - a_ub, -atilde - a_ub])
    a = a[(a * a).sum(axis=1) > 1e-10]
    return np.delete(a, num_pre, axis=1)


def _post_rows(a: np.ndarray, num_pre: int) -> np.ndarray:
    return a[(a[:, num_pre:] != 0).any(axis=1)]


# -- the linear program for eta ----------------------------------------------------------------
def _eta_lp(y: np.ndarray, x: np.ndarray, sd: np.ndarray
            ) -> tuple[float, np.ndarray, bool]:
    """min eta s.t. sd*eta + X tau >= y: (eta, dual lambda >= 0, ok)."""
    k = x.shape[1]
    c = np.zeros(k + 1)
    c[0] = 1.0
    a_ub = -np.column_stack([sd, x])
    res = optimize.linprog(c, A_ub=a_ub, b_ub=-y, bounds=[(None, None)] * (k + 1),
                           method="highs")
    if res.status != 0:
        return np.nan, np.full(len(y), np.nan), False
    return float(res.fun), -np.asarray(res.ineqlin.marginals, float), True


def _dual_vertices(x: np.ndarray, sd: np.ndarray) -> np.ndarray | None:
    """Vertices of {lambda >= 0, sd'lambda = 1, X'lambda = 0}: eta(y) = max over them of
    lambda'y (LP duality). ``None`` when there are too many subsets to enumerate."""
    w = np.column_stack([sd, x])
    # keep sd and the columns of X that add rank (the others give redundant equalities)
    keep = [0]
    for j in range(1, w.shape[1]):
        if np.linalg.matrix_rank(w[:, keep + [j]]) > len(keep):
            keep.append(j)
    w = w[:, keep]
    m, r = w.shape
    n_sub = 1
    for i in range(r):
        n_sub = n_sub * (m - i) // (i + 1)
    if n_sub > _MAX_VERTICES:
        return None
    e1 = np.zeros(r)
    e1[0] = 1.0
    out = []
    for sub in itertools.combinations(range(m), r):
        ws = w[list(sub)]
        if abs(np.linalg.det(ws)) < 1e-12 * max(1.0, np.abs(ws).max()) ** r:
            continue
        lam_s = np.linalg.solve(ws.T, e1)
        if (lam_s >= -1e-10).all():
            lam = np.zeros(m)
            lam[list(sub)] = np.clip(lam_s, 0.0, None)
            out.append(lam)
    return np.array(out) if out else np.zeros((0, m))


def least_favorable_cv(x: np.ndarray | None, sigma: np.ndarray, kappa: float, sims: int,
                       seed: int, verts: np.ndarray | None = None) -> float:
    """The 1 - kappa quantile of eta under the least-favourable null (mean zero moments),
    from R's draws (``set.seed(seed); mvtnorm::rmvnorm(sims, sigma = sigma)``)."""
    sd = np.sqrt(np.diag(sigma))
    draws = r_rmvnorm(sims, sigma, seed)
    if x is None:                         # no nuisance: eta = max_i xi_i / sd_i
        return float(np.quantile((draws / sd).max(axis=1), 1 - kappa))
    if verts is not None:
        if len(verts) == 0:               # eta is -inf for every draw (R: NA, dropped)
            return np.nan
        etas = (draws @ verts.T).max(axis=1)
    else:
        etas = np.array([_eta_lp(xi, x, sd)[0] for xi in draws])
        etas = etas[np.isfinite(etas)]
    return float(np.quantile(etas, 1 - kappa))


def _truncnorm_quantile(p: float, lo: float, hi: float, mu: float = 0.0, sd: float = 1.0
                        ) -> float:
    """The p quantile of N(mu, sd^2) truncated to [lo, hi] (R ``TruncatedNormal::norminvp``)."""
    a, b = (lo - mu) / sd, (hi - mu) / sd
    if a > 0:       # upper tail: work with survival functions (no cancellation)
        sa, sb = special.ndtr(-a), special.ndtr(-b)
        q = -special.ndtri(sa - p * (sa - sb))
    else:
        fa, fb = special.ndtr(a), special.ndtr(b)
        q = special.ndtri(fa + p * (fb - fa))
    if not (np.isfinite(q) and a <= q <= b):   # extreme tails: scipy's careful version
        q = stats.truncnorm.ppf(p, a, b)
    return float(mu + sd * q)


# -- the conditional test with nuisance parameters (R .lp_conditional_test_fn, LF hybrid) -----
def _max_program(s_t: np.ndarray, b_vec: np.ndarray, w_t: np.ndarray, c: float,
                 verts: np.ndarray | None = None) -> tuple[float, np.ndarray] | None:
    """max (s_T + b c)'lambda over {lambda >= 0, W_T'lambda = e1} (R ``.max_program``)."""
    f = s_t + b_vec * c
    if verts is not None:                 # the same polytope as eta's dual: its vertices
        if len(verts) == 0:
            return None
        vals = verts @ f
        j = int(np.argmax(vals))
        return float(vals[j]), verts[j]
    beq = np.zeros(w_t.shape[1])
    beq[0] = 1.0
    res = optimize.linprog(-f, A_eq=w_t.T, b_eq=beq, bounds=[(0, None)] * len(f),
                           method="highs")
    if res.status != 0:
        return None
    return -float(res.fun), np.asarray(res.x, float)


def _vlo_vup_dual(eta: float, s_t: np.ndarray, gamma: np.ndarray, sigma: np.ndarray,
                  w_t: np.ndarray, verts: np.ndarray | None) -> tuple[float, float]:
    """R ``.vlo_vup_dual_fn``: the truncation points when the LP solution is degenerate."""
    tol_c = tol_eq = 1e-6
    sig_b = float(np.sqrt(gamma @ sigma @ gamma))
    low0, high0 = min(-100.0, eta - 20 * sig_b), max(100.0, eta + 20 * sig_b)
    b_vec = sigma @ gamma / float(gamma @ sigma @ gamma)
    eps = np.finfo(float).eps ** 0.75

    def check(c: float) -> tuple[bool, np.ndarray | None]:
        out = _max_program(s_t, b_vec, w_t, c, verts)
        if out is None:
            return False, None
        return abs(c - out[0]) <= tol_eq, out[1]

    def step(sol: np.ndarray) -> float:
        num = float(sol @ s_t)
        num = 0.0 if abs(num) < eps else num
        return num / (1 - float(sol @ b_vec))

    ok, _ = check(eta)
    if not ok:
        return eta, np.inf

    def search(start: float, upward: bool) -> float:
        ok0, sol = check(start)
        if ok0:
            return np.inf if upward else -np.inf
        dif, iters = 0.0, 1
        mid = step(sol) if sol is not None else start
        while True:
            ok_m, sol_m = check(mid)
            if ok_m or iters >= 10_000:
                break
            iters += 1
            if iters >= 10:
                dif = tol_c + 1
                break
            mid = step(sol_m) if sol_m is not None else mid
        low, high = (eta, mid) if upward else (mid, eta)
        while dif > tol_c and iters < 10_000:
            iters += 1
            mid = (high + low) / 2
            inside = check(mid)[0]
            if upward:
                low, high = (mid, high) if inside else (low, mid)
            else:
                low, high = (low, mid) if inside else (mid, high)
            dif = high - low
        return mid

    return search(low0, upward=False), search(high0, upward=True)


def _eta_vertices(y: np.ndarray, verts: np.ndarray) -> tuple[float, np.ndarray, bool]:
    """eta and the dual solution from the enumerated vertices (the LP's optimum)."""
    if len(verts) == 0:
        return np.nan, np.full(len(y), np.nan), False
    vals = verts @ y
    j = int(np.argmax(vals))
    return float(vals[j]), verts[j], True


def _test_nuisance(y: np.ndarray, x: np.ndarray, sigma: np.ndarray, alpha: float,
                   kappa: float, lf_cv: float, verts: np.ndarray | None = None) -> bool:
    """True if H0 is rejected (R ``.lp_conditional_test_fn`` with hybrid_flag = "LF")."""
    if verts is not None:
        eta, lam, ok = _eta_vertices(y, verts)
    else:
        eta, lam, ok = _eta_lp(y, x, np.sqrt(np.diag(sigma)))
    if not ok:
        return False                          # R: warning, not rejecting
    if eta > lf_cv:
        return True
    mod_size = (alpha - kappa) / (1 - kappa)
    k = x.shape[1]
    b_idx = lam > _TOL_LAMBDA
    degenerate = int(b_idx.sum()) != k + 1
    x_b = x[b_idx]
    full_rank = min(x_b.shape) > 0 and np.linalg.matrix_rank(x_b) == min(x_b.shape)
    sd = np.sqrt(np.diag(sigma))
    if degenerate or not full_rank:
        w_t = np.column_stack([sd, x])
        g = lam
        gsg = float(g @ sigma @ g)
        s_t = y - sigma @ g * float(g @ y) / gsg if gsg > 0 else y
        if abs(gsg) < np.finfo(float).eps:
            return eta > 0
        vlo, vup = _vlo_vup_dual(eta, s_t, g, sigma, w_t, verts)
        sig_b = np.sqrt(gsg)
        maxstat = eta / sig_b
        zlo, zup = vlo / sig_b, min(vup, lf_cv) / sig_b
    else:
        m = len(y)
        bc_idx = ~b_idx
        inv_b = np.linalg.inv(np.column_stack([sd[b_idx], x_b]))
        s_b = np.eye(m)[b_idx]
        s_bc = np.eye(m)[bc_idx]
        gamma_b = np.column_stack([sd[bc_idx], x[bc_idx]]) @ inv_b @ s_b - s_bc
        v_b = (inv_b[0] @ s_b)
        sig2_b = float(v_b @ sigma @ v_b)
        sig_b = np.sqrt(sig2_b)
        rho = gamma_b @ sigma @ v_b / sig2_b
        with np.errstate(divide="ignore", invalid="ignore"):
            mm = (-gamma_b @ y) / rho + float(v_b @ y)
        vlo = float(mm[rho > 0].max()) if (rho > 0).any() else -np.inf
        vup = float(mm[rho < 0].min()) if (rho < 0).any() else np.inf
        zlo, zup = vlo / sig_b, min(vup, lf_cv) / sig_b
        maxstat = eta / sig_b
    if not (zlo <= maxstat <= zup):
        return False
    cval = max(0.0, _truncnorm_quantile(1 - mod_size, zlo, zup))
    return bool(maxstat > cval)


# -- the test without nuisance parameters (one post-period; R .testInIdentifiedSet_LF_Hybrid)
def _test_no_nuisance(y: np.ndarray, sigma: np.ndarray, a: np.ndarray, d: np.ndarray,
                      alpha: float, kappa: float, lf_cv: float) -> bool:
    sig_t = np.sqrt(np.diag(a @ sigma @ a.T))
    at = a / sig_t[:, None]
    dt = d / sig_t
    moments = at @ y - dt
    loc = int(np.argmax(moments))
    max_moment = float(moments[loc])
    if max_moment > lf_cv:
        return True
    gamma = at[loc]
    abar = at - at[loc]
    dbar = dt - dt[loc]
    gsg = float(gamma @ sigma @ gamma)
    c = sigma @ gamma / gsg
    z = y - c * float(gamma @ y)
    ac = abar @ c
    with np.errstate(divide="ignore", invalid="ignore"):
        obj = (dbar - abar @ z) / ac
    vlo = float(obj[ac < 0].max()) if (ac < 0).any() else -np.inf
    vup = float(obj[ac > 0].min()) if (ac > 0).any() else np.inf
    alpha_t = (alpha - kappa) / (1 - kappa)
    crit = max(0.0, _truncnorm_quantile(1 - alpha_t, vlo, vup, mu=float(dt[loc]),
                                        sd=np.sqrt(gsg)))
    return bool(max_moment + dt[loc] > crit)


def _construct_gamma(l_vec: np.ndarray) -> np.ndarray:
    """R ``.construct_Gamma``: l followed by the unit vectors that complete a basis (rows)."""
    rows = [l_vec]
    for j in range(len(l_vec)):
        e = np.zeros(len(l_vec))
        e[j] = 1.0
        if np.linalg.matrix_rank(np.vstack(rows + [e])) > len(rows):
            rows.append(e)
    return np.vstack(rows)


def _accepted(test, n: int, step: int) -> np.ndarray:
    """Accept flags on grid indices 0..n-1: a coarse scan every ``step`` points, then every
    point between two coarse points whose decisions differ (all points if none accepts)."""
    acc = np.zeros(n, dtype=bool)
    known = np.zeros(n, dtype=bool)
    coarse = sorted(set(range(0, n, step)) | {n - 1})
    for i in coarse:
        acc[i], known[i] = test(i), True
    if not acc[coarse].any():
        idx = range(n)
    else:
        idx = [j for a, b in itertools.pairwise(coarse) if acc[a] != acc[b]
               for j in range(a + 1, b)]
    for j in idx:
        if not known[j]:
            acc[j], known[j] = test(j), True
    # between two coarse points with the same decision the decision is carried over
    for a, b in itertools.pairwise(coarse):
        if acc[a] == acc[b]:
            fill = ~known[a + 1:b]
            acc[a + 1:b][fill] = acc[a]
    return acc


def rm_confidence_set(betahat: np.ndarray, sigma: np.ndarray, num_pre: int, num_post: int,
                      l_vec: np.ndarray, mbar: float, alpha: float, *, grid_points: int,
                      grid_lb: float, grid_ub: float, sims: int, seed: int,
                      coarse_step: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """The C-LF confidence set for l'tau_post under Delta^RM(Mbar): (lower, upper, grid, accept)."""
    kappa = alpha / 10
    grid = np.linspace(grid_lb, grid_ub, grid_points)
    accept = np.zeros(grid_points, dtype=bool)
    for s in range(-(num_pre - 1), 1):
        for max_positive in (True, False):
            a = _post_rows(create_a_rm(num_pre, num_post, mbar, s, max_positive), num_pre)
            d = np.zeros(a.shape[0])
            if num_post == 1:
                sig_a = a @ sigma @ a.T
                lf_cv = least_favorable_cv(None, sig_a, kappa, sims, seed)
                e = np.zeros(len(betahat))
                e[num_pre] = 1.0

                def test(i: int, a=a, d=d, lf_cv=lf_cv, e=e) -> bool:
                    return not _test_no_nuisance(betahat - e * grid[i], sigma, a, d, alpha,
                                                 kappa, lf_cv)
            else:
                a_post_ginv = a[:, num_pre:] @ np.linalg.inv(_construct_gamma(l_vec))
                a1, x = a_post_ginv[:, 0], a_post_ginv[:, 1:]
                y0 = a @ betahat - d
                sig_y = a @ sigma @ a.T
                verts = _dual_vertices(x, np.sqrt(np.diag(sig_y)))
                lf_cv = least_favorable_cv(x, sig_y, kappa, sims, seed, verts)

                def test(i: int, y0=y0, a1=a1, x=x, sig_y=sig_y, lf_cv=lf_cv,
                         verts=verts) -> bool:
                    return not _test_nuisance(y0 - a1 * grid[i], x, sig_y, alpha, kappa,
                                              lf_cv, verts)
            accept |= _accepted(test, grid_points, coarse_step)
    if not accept.any():
        return np.nan, np.nan, grid, accept
    return float(grid[accept].min()), float(grid[accept].max()), grid, accept
