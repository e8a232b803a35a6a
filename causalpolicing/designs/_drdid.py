r"""Two-group, two-period DiD estimators with influence functions (Sant'Anna and Zhao 2020).

The building block of Callaway-Sant'Anna: the ATT of one comparison of a treated
group (``d = 1``) with a comparison group (``d = 0``) between a base and a later
period, given covariates ``x`` (the first column the intercept) and sampling
weights ``w``; covariates are passed by column, ``x`` of shape ``(k, n)``. Each
function returns the estimate and its influence function
(one value per observation, :math:`\hat\theta - \theta \approx \frac1n\sum_i
\psi_i`), transcribed from R ``DRDID`` (``drdid_panel``, ``reg_did_panel``,
``std_ipw_did_panel`` for panels, where ``dy`` is the change of the outcome of
each unit; ``drdid_rc``, ``reg_did_rc``, ``std_ipw_did_rc`` for repeated cross
sections, which R ``did`` also uses for unbalanced panels):

* ``"reg"``: outcome regression (Heckman, Ichimura and Todd 1997);
* ``"ipw"``: normalised (Hajek) inverse probability weighting (Abadie 2005);
* ``"dr"``: the locally efficient doubly robust estimator (logit propensity score,
  linear outcome regression fitted on the comparison group).

As in ``DRDID`` 1.2, propensity scores are capped at :math:`1 - 10^{-6}` and
comparison units with a score of ``trim_level`` (0.995) or more get weight zero.
A comparison that cannot be estimated (no variation, a singular design, a logit
that does not converge) raises :class:`CellError`; the caller reports the cell as
missing, as R ``did`` does.

>>> import numpy as np
>>> d = np.array([1., 1., 0., 0., 0.])
>>> dy = np.array([3., 5., 1., 2., 3.])
>>> x = np.ones((1, 5))
>>> att, inf = panel_att(dy, d, x, np.ones(5), "reg")
>>> float(att), inf.shape
(2.0, (5,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EST_METHODS", "CellError", "PanelDR", "panel_att", "panel_dr", "panel_dr_parts",
           "rc_att"]

EST_METHODS = ("dr", "ipw", "reg")
_EPS = np.finfo(float).eps
_SUM = np.add.reduce

# Small-k linear algebra over long columns without BLAS: einsum's own loops are fast
# for k of a few covariates and, unlike multithreaded BLAS calls on (n, 1) arrays,
# do not stall when the cores are busy.


def _xtv(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``X'v`` (k,) for columns ``x`` (k, n)."""
    return np.einsum("in,n->i", x, v)


def _xb(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``X b`` (n,)."""
    return np.einsum("in,i->n", x, b)


def _gram(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` (k, k)."""
    return np.einsum("in,jn->ij", x * w, x)


def _colmean(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """R's ``colMeans(v * X)``."""
    return _xtv(x, v) / x.shape[1]


class CellError(Exception):
    """One 2x2 comparison cannot be estimated (the message says why)."""


@dataclass(frozen=True)
class _Linear:
    """An asymptotic linear representation ``r_i * x_i' A`` (n x k), applied lazily."""

    x: np.ndarray
    r: np.ndarray
    a: np.ndarray

    def __matmul__(self, m: np.ndarray) -> np.ndarray:
        return self.r * _xb(self.x, self.a @ m)

    def __sub__(self, other: _Linear) -> _Difference:
        return _Difference(self, other)


@dataclass(frozen=True)
class _Difference:
    left: _Linear
    right: _Linear

    def __matmul__(self, m: np.ndarray) -> np.ndarray:
        return self.left @ m - self.right @ m


def _logit(x: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fitted probabilities of a weighted logit of ``d`` on ``x`` (Newton-Raphson)."""
    p0 = float((w * d).sum() / w.sum())
    if not 0 < p0 < 1:
        raise CellError("the treated or the comparison group is empty")
    if x.shape[0] == 1 and np.all(x[0] == x[0, 0]):
        return np.full(len(d), p0)
    beta = np.zeros(x.shape[0])
    beta[0] = np.log(p0 / (1 - p0))
    for _ in range(100):
        p = _expit(_xb(x, beta))
        try:
            step = np.linalg.solve(_gram(x, w * p * (1 - p)), _xtv(x, w * (d - p)))
        except np.linalg.LinAlgError:
            raise CellError("the propensity-score design is singular (collinear covariates "
                            "or no variation)") from None
        beta = beta + step
        if np.max(np.abs(step)) < 1e-11 * (1 + np.max(np.abs(beta))):
            return _expit(_xb(x, beta))
    raise CellError("the propensity-score logit did not converge (perfect prediction of "
                    "the treated group by the covariates?)")


def _expit(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check(m: np.ndarray, what: str) -> None:
    if m.shape == (1, 1):  # the intercept alone: cond is 1, or infinite at 0 (no SVD needed)
        singular = not np.isfinite(m[0, 0]) or m[0, 0] == 0
    else:
        singular = not np.all(np.isfinite(m)) or np.linalg.cond(m) > 1 / _EPS
    if singular:
        raise CellError(f"the {what} design is singular (collinear covariates or too few "
                        "units)")


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Coefficients of the weighted least squares of ``y`` on ``x`` over rows ``sel``."""
    ws = w * sel
    xtx = _gram(x, ws)
    _check(xtx, "outcome-regression")
    return np.linalg.solve(xtx, _xtv(x, ws * y))


def _asy_ols(x: np.ndarray, resid: np.ndarray, wsel: np.ndarray) -> _Linear:
    """Asymptotic linear representation of a weighted OLS fit (lazy n x k)."""
    xpx = _gram(x, wsel) / x.shape[1]
    _check(xpx, "outcome-regression")
    return _Linear(x, wsel * resid, np.linalg.inv(xpx))


def _asy_ps(x: np.ndarray, d: np.ndarray, ps: np.ndarray, w: np.ndarray) -> _Linear:
    hess = _gram(x, ps * (1 - ps) * w)
    _check(hess, "propensity-score")
    return _Linear(x, w * (d - ps), np.linalg.inv(hess) * x.shape[1])


def _pscore(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float
            ) -> tuple[np.ndarray, np.ndarray]:
    ps = np.minimum(_logit(x, d, w), 1 - 1e-6)
    trim = np.where(d == 0, ps < trim_level, True).astype(float)
    return ps, trim


def _mean(a: np.ndarray) -> float:
    """``float(a.mean())`` of a vector: the same sum divided by the same count, without
    ``ndarray.mean``'s Python-level dispatch (a few microseconds, ~15 calls a cell)."""
    return float(_SUM(a) / a.size)


def panel_att(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: str,
              trim_level: float = 0.995) -> tuple[float, np.ndarray]:
    """ATT and influence function of a panel 2x2 comparison.

    ``dy``: outcome in the period of interest minus outcome in the base period.
    """
    w = w / _mean(w)
    c = (d == 0).astype(float)
    if method == "reg":
        out = _xb(x, _wls(x, dy, w, c))
        w_t = w * d
        reg_t, reg_c = w_t * dy, w_t * out
        eta_t, eta_c = _mean(reg_t) / _mean(w_t), _mean(reg_c) / _mean(w_t)
        asy = _asy_ols(x, dy - out, w * c)
        inf_t = (reg_t - w_t * eta_t) / _mean(w_t)
        inf_c = (reg_c - w_t * eta_c + asy @ _colmean(x, w_t)) / _mean(w_t)
        return eta_t - eta_c, inf_t - inf_c
    ps, trim = _pscore(x, d, w, trim_level)
    w_t = trim * w * d
    w_c = trim * w * ps * c / (1 - ps)
    asy_ps = _asy_ps(x, d, ps, w)
    if method == "ipw":
        a_t, a_c = w_t * dy, w_c * dy
        eta_t, eta_c = _mean(a_t) / _mean(w_t), _mean(a_c) / _mean(w_c)
        inf_t = (a_t - w_t * eta_t) / _mean(w_t)
        inf_c = (a_c - w_c * eta_c + asy_ps @ _colmean(x, w_c * (dy - eta_c))) / _mean(w_c)
        return eta_t - eta_c, inf_t - inf_c
    return panel_dr(dy, _dr_parts(x, w, c, w_t, w_c, asy_ps))


@dataclass(frozen=True)
class PanelDR:
    """What the doubly robust panel estimator computes from ``d``, ``x`` and ``w`` alone
    (the same for every outcome change ``dy`` of one comparison): :func:`panel_dr_parts`
    once, then :func:`panel_dr` per ``dy``, the same operations as :func:`panel_att`."""

    x: np.ndarray
    ws: np.ndarray        # w * c, the outcome regression's weights
    xtx: np.ndarray       # X' diag(ws) X
    w_t: np.ndarray
    w_c: np.ndarray
    mw_t: float
    mw_c: float
    asy_ps: _Linear
    q_t: np.ndarray       # x_i' inv(X'WX/n) colMeans(w_t X): asy_ols @ m = (ws r) q
    q_c: np.ndarray


def panel_dr_parts(d: np.ndarray, x: np.ndarray, w: np.ndarray,
                   trim_level: float = 0.995) -> PanelDR:
    """The ``dy``-free part of :func:`panel_att` (``"dr"``); raises its :class:`CellError`."""
    w = w / _mean(w)
    c = (d == 0).astype(float)
    ps, trim = _pscore(x, d, w, trim_level)
    w_t = trim * w * d
    w_c = trim * w * ps * c / (1 - ps)
    return _dr_parts(x, w, c, w_t, w_c, _asy_ps(x, d, ps, w))


def _dr_parts(x: np.ndarray, w: np.ndarray, c: np.ndarray, w_t: np.ndarray, w_c: np.ndarray,
              asy_ps: _Linear) -> PanelDR:
    ws = w * c
    xtx = _gram(x, ws)
    _check(xtx, "outcome-regression")  # (_wls)
    xpx = _gram(x, ws) / x.shape[1]
    _check(xpx, "outcome-regression")  # (_asy_ols)
    a = np.linalg.inv(xpx)
    return PanelDR(x=x, ws=ws, xtx=xtx, w_t=w_t, w_c=w_c, mw_t=_mean(w_t), mw_c=_mean(w_c),
                   asy_ps=asy_ps, q_t=_xb(x, a @ _colmean(x, w_t)),
                   q_c=_xb(x, a @ _colmean(x, w_c)))


def panel_dr(dy: np.ndarray, p: PanelDR) -> tuple[float, np.ndarray]:
    """ATT and influence function of the doubly robust panel 2x2 comparison of ``dy``."""
    x, w_t, w_c, mw_t, mw_c = p.x, p.w_t, p.w_c, p.mw_t, p.mw_c
    out = _xb(x, np.linalg.solve(p.xtx, _xtv(x, p.ws * dy)))
    r = dy - out
    dr_t, dr_c = w_t * r, w_c * r
    eta_t, eta_c = _mean(dr_t) / mw_t, _mean(dr_c) / mw_c
    wr = p.ws * r  # (the outcome regression's asymptotic linear representation: wr * q)
    inf_t = (dr_t - w_t * eta_t - wr * p.q_t) / mw_t
    inf_c = (dr_c - w_c * eta_c + p.asy_ps @ _colmean(x, w_c * (r - eta_c))
             - wr * p.q_c) / mw_c
    return eta_t - eta_c, inf_t - inf_c


def rc_att(y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray,
           method: str, trim_level: float = 0.995) -> tuple[float, np.ndarray]:
    """ATT and influence function of a repeated-cross-section 2x2 comparison (one row each)."""
    w = w / _mean(w)
    pre = 1 - post
    c = 1 - d
    if method == "reg":
        out_pre = _xb(x, _wls(x, y, w, c * pre))
        out_post = _xb(x, _wls(x, y, w, c * post))
        w_tpre, w_tpost, w_c = w * d * pre, w * d * post, w * d
        a_tpre, a_tpost = w_tpre * y, w_tpost * y
        a_c = w_c * (out_post - out_pre)
        e_tpre, e_tpost = _mean(a_tpre) / _mean(w_tpre), _mean(a_tpost) / _mean(w_tpost)
        e_c = _mean(a_c) / _mean(w_c)
        asy_pre = _asy_ols(x, y - out_pre, w * c * pre)
        asy_post = _asy_ols(x, y - out_post, w * c * post)
        inf_t = ((a_tpost - w_tpost * e_tpost) / _mean(w_tpost)
                 - (a_tpre - w_tpre * e_tpre) / _mean(w_tpre))
        m1 = _colmean(x, w_c)
        inf_c = (a_c - w_c * e_c + asy_post @ m1 - asy_pre @ m1) / _mean(w_c)
        return (e_tpost - e_tpre) - e_c, inf_t - inf_c
    ps, trim = _pscore(x, d, w, trim_level)
    asy_ps = _asy_ps(x, d, ps, w)
    w_tpre, w_tpost = trim * w * d * pre, trim * w * d * post
    odds = ps * c / (1 - ps)
    w_cpre, w_cpost = trim * w * odds * pre, trim * w * odds * post
    if method == "ipw":
        eta = [wt * y / _mean(wt) for wt in (w_tpre, w_tpost, w_cpre, w_cpost)]
        att_tpre, att_tpost, att_cpre, att_cpost = (_mean(e) for e in eta)
        inf_t = ((eta[1] - w_tpost * att_tpost / _mean(w_tpost))
                 - (eta[0] - w_tpre * att_tpre / _mean(w_tpre)))
        inf_c = ((eta[3] - w_cpost * att_cpost / _mean(w_cpost))
                 - (eta[2] - w_cpre * att_cpre / _mean(w_cpre)))
        m2_pre = _colmean(x, w_cpre * (y - att_cpre)) / _mean(w_cpre)
        m2_post = _colmean(x, w_cpost * (y - att_cpost)) / _mean(w_cpost)
        inf_c = inf_c + asy_ps @ (m2_post - m2_pre)
        return (att_tpost - att_tpre) - (att_cpost - att_cpre), inf_t - inf_c
    return _drdid_rc(y, post, d, x, w, ps, trim, asy_ps)


def _drdid_rc(y: np.ndarray, post: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray,
              ps: np.ndarray, trim: np.ndarray, asy_ps: _Linear) -> tuple[float, np.ndarray]:
    """``DRDID::drdid_rc`` (the locally efficient doubly robust estimator)."""
    pre, c = 1 - post, 1 - d
    oc_pre, oc_post = _xb(x, _wls(x, y, w, c * pre)), _xb(x, _wls(x, y, w, c * post))
    oc = post * oc_post + pre * oc_pre
    ot_pre, ot_post = _xb(x, _wls(x, y, w, d * pre)), _xb(x, _wls(x, y, w, d * post))
    odds = ps * c / (1 - ps)
    w_tpre, w_tpost = trim * w * d * pre, trim * w * d * post
    w_cpre, w_cpost = trim * w * odds * pre, trim * w * odds * post
    w_d, w_dt1, w_dt0 = trim * w * d, trim * w * d * post, trim * w * d * pre
    e_tpre = w_tpre * (y - oc) / _mean(w_tpre)
    e_tpost = w_tpost * (y - oc) / _mean(w_tpost)
    e_cpre = w_cpre * (y - oc) / _mean(w_cpre)
    e_cpost = w_cpost * (y - oc) / _mean(w_cpost)
    e_dpost = w_d * (ot_post - oc_post) / _mean(w_d)
    e_dt1post = w_dt1 * (ot_post - oc_post) / _mean(w_dt1)
    e_dpre = w_d * (ot_pre - oc_pre) / _mean(w_d)
    e_dt0pre = w_dt0 * (ot_pre - oc_pre) / _mean(w_dt0)
    a = {k: _mean(v) for k, v in dict(tpre=e_tpre, tpost=e_tpost, cpre=e_cpre, cpost=e_cpost,
                                         dpost=e_dpost, dt1post=e_dt1post, dpre=e_dpre,
                                         dt0pre=e_dt0pre).items()}
    att = ((a["tpost"] - a["tpre"]) - (a["cpost"] - a["cpre"])
           + (a["dpost"] - a["dt1post"]) - (a["dpre"] - a["dt0pre"]))
    asy_cpre = _asy_ols(x, y - oc_pre, w * c * pre)
    asy_cpost = _asy_ols(x, y - oc_post, w * c * post)
    asy_tpre = _asy_ols(x, y - ot_pre, w * d * pre)
    asy_tpost = _asy_ols(x, y - ot_post, w * d * post)
    inf_tpre = e_tpre - w_tpre * a["tpre"] / _mean(w_tpre)
    inf_tpost = e_tpost - w_tpost * a["tpost"] / _mean(w_tpost)
    m1_post = -_colmean(x, w_tpost * post) / _mean(w_tpost)
    m1_pre = -_colmean(x, w_tpre * pre) / _mean(w_tpre)
    # R DRDID 1.2.3 adds the pre-period terms (inf.treat.or.post + inf.treat.or.pre, and
    # the same for the comparison group); kept as in R (see docs/designs.md)
    inf_t_or = asy_cpost @ m1_post + asy_cpre @ m1_pre
    inf_cpre = e_cpre - w_cpre * a["cpre"] / _mean(w_cpre)
    inf_cpost = e_cpost - w_cpost * a["cpost"] / _mean(w_cpost)
    m2_pre = _colmean(x, w_cpre * (y - oc - a["cpre"])) / _mean(w_cpre)
    m2_post = _colmean(x, w_cpost * (y - oc - a["cpost"])) / _mean(w_cpost)
    inf_c_ps = asy_ps @ (m2_post - m2_pre)
    m3_post = -_colmean(x, w_cpost * post) / _mean(w_cpost)
    m3_pre = -_colmean(x, w_cpre * pre) / _mean(w_cpre)
    inf_c_or = asy_cpost @ m3_post + asy_cpre @ m3_pre
    inf_eff = ((e_dpost - w_d * a["dpost"] / _mean(w_d))
               - (e_dt1post - w_dt1 * a["dt1post"] / _mean(w_dt1))
               - ((e_dpre - w_d * a["dpre"] / _mean(w_d))
                  - (e_dt0pre - w_dt0 * a["dt0pre"] / _mean(w_dt0))))
    mom_post = _colmean(x, w_d / _mean(w_d) - w_dt1 / _mean(w_dt1))
    mom_pre = _colmean(x, w_d / _mean(w_d) - w_dt0 / _mean(w_dt0))
    inf_or = (asy_tpost - asy_cpost) @ mom_post - (asy_tpre - asy_cpre) @ mom_pre
    inf_t = inf_tpost - inf_tpre + inf_t_or
    inf_c = inf_cpost - inf_cpre + inf_c_ps + inf_c_or
    return att, inf_t - inf_c + inf_eff + inf_or
