r"""Poisson imputation on the log link with an exposure (deaths with a population at risk).

Step 1 fits :math:`E[y_{it}] = N_{it} \exp(a_i + g_t + x_{it}'\delta)` on the untreated
observations (Poisson pseudo-likelihood, IRLS over the numeric core's weighted
within transformation, the iteration of :func:`causalpolicing.fepois`); step 2
imputes the untreated expected count :math:`\hat\mu_{it}` of every treated
observation. For a set :math:`k` of treated observations (a horizon, or all)
with weights :math:`w_{it}` (1 unless ``weights``), observed
:math:`O_k = \sum w y` and imputed :math:`M_k = \sum w \hat\mu` deaths give the
rate ratio :math:`O_k / M_k` (the parameter is its logarithm) and the deaths
added :math:`O_k - M_k` (negative: averted).

Standard errors: the delta method through the stacked estimating equations.
:math:`M_k` depends on the untreated rows through the first-stage estimate, whose
influence is :math:`H^{-1} Z_{it} w_{it} (y_{it} - \mu_{it})` with
:math:`H = Z_0' \mathrm{diag}(w \mu) Z_0`; so an untreated row enters
:math:`O_k - M_k` with weight :math:`v_{it} = -w_{it} Z_{it}' H^{-1} G_k`,
:math:`G_k = \sum_k w \hat\mu Z`, and a treated row with :math:`w_{it}`. The
variance is BJS's conservative cluster sum
:math:`\sum_c (\sum_{it \in c} v_{it} \tilde\varepsilon_{it})^2` with residuals
:math:`y - \hat\mu` on untreated rows and, on treated rows, :math:`y - \hat\mu`
minus its cohort x event-time average (the treatment effects' heterogeneity is
not counted as noise, as in the linear case). The log rate ratio has weights
:math:`v/O_k` on treated and :math:`v/M_k` on untreated rows.
"""

from __future__ import annotations

import numpy as np

from ..core.demean import demean
from ..exceptions import ConvergenceWarning, SpecError
from ._imputation_core import (
    StaggeredData,
    cluster_cov,
    cohort_event_groups,
    design_matrix,
    smoothed_residuals,
    untreated_solve,
)

__all__: list[str] = []


def poisson_first_stage(sd: StaggeredData, who: str) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray, list[str]]:
    """``(mu_hat, fit_rows, delta, notes)``: imputed/fitted means on every row."""
    y = sd.y
    if np.any(y < 0):
        raise SpecError(f"{who} with estimator='fepois' needs a non-negative count outcome; "
                        f"{sd.outcome!r} has {int((y < 0).sum())} negative value(s).")
    off = (np.log(sd.frame[sd.exposure].to_numpy(dtype=float)) if sd.exposure
           else np.zeros(len(y)))
    fit = ~sd.treat
    notes: list[str] = []
    # levels whose untreated outcomes are all zero: their effect is -inf; drop those
    # untreated rows from the fit (as fepois does) unless a treated row needs the level
    changed = True
    while changed:
        changed = False
        for name, codes in zip(sd.fe_cols, sd.fe_codes, strict=True):
            lv = int(codes.max()) + 1
            n_fit = np.bincount(codes[fit], minlength=lv)
            s_fit = np.bincount(codes[fit], weights=y[fit], minlength=lv)
            zero = (n_fit > 0) & (s_fit == 0)
            if not zero.any():
                continue
            need = sd.treat & zero[codes]
            if need.any():
                lvls = sorted(set(sd.frame[name].to_numpy()[need].tolist()))
                raise SpecError(
                    f"{who}: fixed effect {name!r} level(s) {lvls[:8]} have zero "
                    f"{sd.outcome!r} in every untreated observation, so their untreated "
                    "rate is estimated as 0 and the treated observations of those levels "
                    f"({int(need.sum())}) cannot be imputed (rate ratio infinite). Drop those "
                    "levels or aggregate them (e.g. into larger regions).")
            hit = fit & zero[codes]
            notes.append(f"{int(hit.sum())} untreated observation(s) of fixed effect "
                         f"{name!r} level(s) with zero {sd.outcome!r} throughout left out of "
                         "the Poisson first stage (they carry no information on the rest).")
            fit = fit & ~hit
            changed = True
    for name, codes in zip(sd.fe_cols, sd.fe_codes, strict=True):
        seen = np.bincount(codes[fit], minlength=int(codes.max()) + 1) > 0
        if (sd.treat & ~seen[codes]).any():
            raise SpecError(f"{who}: after leaving out the all-zero levels, some treated "
                            f"observations' {name!r} level has no untreated observation; "
                            "they cannot be imputed. Drop them.")
    uw = np.where(fit, sd.w, 0.0)
    x = sd.x
    yf, of = y[fit], off[fit]
    rate = float(sd.w[fit] @ yf / (sd.w[fit] @ np.exp(of - of.max())))
    mu = np.zeros(len(y))
    mu[fit] = (yf + rate * np.exp(of - of.max())) / 2
    mu[fit] = np.where(mu[fit] > 0, mu[fit], rate * np.exp(of - of.max()))
    eta = np.zeros(len(y))
    eta[fit] = np.log(mu[fit])
    delta = np.zeros(x.shape[1])
    last = np.inf
    converged = False
    for _ in range(200):
        z = np.where(fit, eta - off + np.divide(y - mu, mu, out=np.zeros(len(y)),
                                                where=fit), 0.0)
        w = uw * mu
        mat = demean(np.column_stack([z, x]), sd.fe_codes, w, tol=1e-13)[0]
        if x.shape[1]:
            sw = np.sqrt(w[fit])
            delta = np.linalg.lstsq(mat[fit, 1:] * sw[:, None], mat[fit, 0] * sw,
                                    rcond=None)[0]
        resid = mat[:, 0] - mat[:, 1:] @ delta
        eta = np.where(fit, z - resid + off, 0.0)
        mu = np.where(fit, np.exp(eta), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylog = np.where(yf > 0, yf * np.log(yf / mu[fit]), 0.0)
        dev = 2 * float(sd.w[fit] @ (ylog - (yf - mu[fit])))
        if abs(dev - last) / (0.1 + abs(dev)) < 1e-12:
            converged = True
            break
        last = dev
    if not converged:
        import warnings

        warnings.warn(f"{who}: the Poisson first stage did not converge in 200 iterations; "
                      "check for separation.", ConvergenceWarning, stacklevel=3)
    # the fixed effects of every row: demean the fitted effects with weight 0 off the fit
    fe_part = np.where(fit, eta - off - x @ delta, 0.0)
    fe_all = fe_part - demean(fe_part, sd.fe_codes, uw, tol=1e-13)[0]
    mu_all = np.exp(fe_all + x @ delta + off)
    return mu_all, fit, delta, notes


def poisson_effects(sd: StaggeredData, w1: np.ndarray, who: str) -> dict[str, np.ndarray]:
    """Log rate ratios, deaths added and their covariances for the columns of ``w1``.

    ``w1`` (n x K) holds each term's (unnormalised) weights on the treated rows.
    """
    mu, fit, delta, notes = poisson_first_stage(sd, who)
    y, treat = sd.y, sd.treat
    observed = w1[treat].T @ y[treat]
    imputed = w1[treat].T @ mu[treat]
    if np.any(observed <= 0):
        raise SpecError(f"{who}: no {sd.outcome!r} observed in some horizon (rate ratio 0, "
                        "log undefined); restrict horizons= to those with counts.")
    z = design_matrix(sd)
    rhs = z[treat].T @ (w1[treat] * mu[treat, None])
    wf = np.where(fit, sd.w * mu, 0.0)
    g = untreated_solve(z, fit, wf[fit], rhs, who)
    v = w1.copy()
    v[fit] = -sd.w[fit, None] * (z[fit] @ g)
    resid = np.where(fit | treat, y - mu, 0.0)
    groups = cohort_event_groups(sd)
    eps = smoothed_residuals(v, resid, treat, groups)
    cov_added = cluster_cov(v, eps, sd.cluster_codes)
    vl = v.copy()
    vl[treat] /= observed
    vl[~treat] /= imputed
    cov_log = cluster_cov(vl, eps, sd.cluster_codes)
    return {"observed": observed, "imputed": imputed, "cov_added": cov_added,
            "cov_log": cov_log, "log_rr": np.log(observed / imputed), "mu": mu,
            "delta": delta, "notes": np.array(notes, dtype=object),
            "n_fit": np.array(int(fit.sum()))}

