r"""Monte Carlo: staggered adoption with heterogeneous, dynamic effects at 50 clusters.

Run from the repository root::

    python benchmarks/mc_staggered.py                     # R = 500, B = 999, 2 workers
    python benchmarks/mc_staggered.py --reps 200 --boot-reps 199 --workers 1

Simulated staggered panels in which the static two-way fixed-effects (TWFE)
coefficient has the **wrong sign** although every treatment effect is positive;
the heterogeneity-robust estimators are compared with the truth of the estimand
each one targets. The script prints one row per method: the mean truth and
estimate, the share of replications whose 95% interval covers the truth
(``coverage``), its Monte Carlo standard error :math:`\sqrt{c(1-c)/R}`, the mean
interval length and the time per replication spent in the method.

Design (fixed across replications; only the shocks are redrawn)
---------------------------------------------------------------
50 units (= 50 clusters) x 10 periods ``t = 1..10``. Cohorts (first treated
period) and their fixed sizes: ``g = 3`` (14 units), ``5`` (10), ``7`` (10),
``9`` (8), never treated (8); units 0-13 are cohort 3, 14-23 cohort 5, and so
on. The untreated outcome is

.. math::

    y_{it}(0) = a_i + \lambda_t + u_{it},\qquad
    a_i = \eta_i + 0.5\,1[G_i = 3],\quad \lambda_t = 0.1\,t + \nu_t,

with :math:`\eta_i, \nu_t \sim N(0,1)` redrawn each replication (unit effects
correlated with the cohort: parallel trends hold, levels differ) and
:math:`u_{it}` a stationary AR(1) within unit (:math:`\rho = 0.5`, variance 1).
The effect of cohort :math:`g` at event time :math:`e = t - g \ge 0` is
deterministic,

.. math::

    \tau(g, e) = 0.2 + b_g\, e,\qquad b_3 = 1.5,\ b_5 = 0.3,\ b_7 = 0.15,\ b_9 = 0.05,

heterogeneous across cohorts and growing with event time; there is no
anticipation (:math:`\tau = 0` for :math:`e < 0`). The early cohort's large,
growing effects enter TWFE's "forbidden comparisons" (early-treated units as
controls for later cohorts) with negative weight: the noise-free static TWFE
coefficient is :func:`twfe_estimand` (about -0.30) while every effect is
positive and the average effect on the treated is about 3.

Estimands (computed exactly from the DGP by :func:`truths`)
-----------------------------------------------------------
Let :math:`n_g` be the cohort sizes and :math:`\mathcal E_g = \{0, .., 10-g\}`
the event times observed for cohort :math:`g`.

``ATT_obs``: every treated unit-period counts once,
    :math:`\sum_g n_g \sum_{e \in \mathcal E_g} \tau(g,e) / \sum_g n_g |\mathcal E_g|`.
    Targeted by ``cp.callaway_santanna(aggregate="simple")`` (``aggte(type="simple")``:
    cells ``(g, t \ge g)`` weighted by :math:`p_g \propto n_g`), ``cp.did_imputation``
    (``ATT``: equal weights on all treated observations), ``cp.sun_abraham``
    (``ATT``: cells weighted by :math:`n_{g,e}`, their observation counts) and
    ``cp.etwfe`` (simple: the average marginal effect over treated observations).
    In a balanced panel with every event time in the window the four weightings
    coincide: each is computed from its own formula and the test checks that
    they agree.
``theta(e)``: :math:`\sum_{g: e \in \mathcal E_g} n_g \tau(g,e) / \sum_{g: e \in
    \mathcal E_g} n_g`, for every event time from -8 to 7 (0 before treatment).
    The dynamic aggregation of ``cp.callaway_santanna``.
``ATT_dyn``: the mean of :math:`\theta(e)` over :math:`e = 0..7` (equal weight per
    event time): the ``ATT`` of CS's dynamic aggregation, which differs from
    ``ATT_obs`` (it up-weights the long horizons, observed only in cohort 3).
``TWFE``: the noise-free static TWFE coefficient (the probability limit of the
    wrong-sign estimate; its interval is reported against ``ATT_obs``).

Methods
-------
``CS-simple`` (doubly robust, never-treated comparison units, analytic
influence-function interval), ``CS-dynamic-ATT`` (the same fit's dynamic ``ATT``),
``CS-band`` (dynamic aggregation with ``bootstrap=B`` multiplier draws: the
share of replications whose **uniform** band ``band_low/band_high`` covers
:math:`\theta(e)` at every event time -8..7 simultaneously), ``CS-pointwise``
(the analytic pointwise intervals of :math:`\theta(e)`, coverage averaged over
the 16 event times; its ``mc_se`` treats the average as one binomial share and
ignores the correlation between event times), ``BJS`` (``cp.did_imputation``,
BJS conservative standard errors without leave-out), ``SA``
(``cp.sun_abraham``, CRV1), ``ETWFE`` (``cp.etwfe``, not-yet-treated controls,
CRV1 delta method), and ``TWFE`` (``y ~ d | unit + year``, CRV1). All clustered
by unit, 95% intervals.

Notes on what the intervals condition on: the cohort sizes are fixed here, so
the sample and population cohort shares coincide. CS's influence function adds a
term for estimating the cohort shares :math:`p_g` (R ``did`` treats cohort
membership as random); with fixed sizes that term has no sampling variance to
capture, which makes CS's intervals of aggregates that mix cohorts somewhat
conservative in this design.

Seeds: data of replication ``i`` from ``numpy.random.default_rng(i)``; the
bootstrap of replication ``i`` from seed ``10**7 + i``. BLAS is limited to one
thread in every worker (``threadpoolctl``); ``--workers`` processes share the
replications. Nothing is asserted here; ``tests/test_coverage_staggered.py``
(``pytest -m slow``) runs the same code with fewer replications and asserts bands.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

N_PERIODS = 10
PERIODS = np.arange(1, N_PERIODS + 1)
#: cohort (first treated period; 0 = never treated) -> number of units
COHORT_SIZES: dict[int, int] = {3: 14, 5: 10, 7: 10, 9: 8, 0: 8}
N_UNITS = sum(COHORT_SIZES.values())
EFFECT_LEVEL = 0.2
EFFECT_SLOPE: dict[int, float] = {3: 1.5, 5: 0.3, 7: 0.15, 9: 0.05}
RHO = 0.5
LEVEL = 0.95
BOOT_SEED_OFFSET = 10**7
METHODS: tuple[str, ...] = ("CS-simple", "CS-dynamic-ATT", "CS-band", "CS-pointwise", "BJS",
                            "SA", "ETWFE", "TWFE")
TARGETS: dict[str, str] = {"CS-simple": "ATT_obs", "CS-dynamic-ATT": "ATT_dyn",
                           "CS-band": "theta(e), all e", "CS-pointwise": "theta(e), mean",
                           "BJS": "ATT_obs", "SA": "ATT_obs", "ETWFE": "ATT_obs",
                           "TWFE": "ATT_obs"}


# ------------------------------------------------------------------ the DGP
def cohorts() -> np.ndarray:
    """Each unit's cohort (0 = never treated), in unit order."""
    return np.repeat(np.array(list(COHORT_SIZES), dtype=np.int64),
                     list(COHORT_SIZES.values()))


def effect(g: int | np.ndarray, e: int | np.ndarray) -> np.ndarray:
    """The treatment effect tau(g, e): 0 for never-treated units and before treatment."""
    g, e = np.asarray(g), np.asarray(e)
    slope = np.vectorize(lambda c: EFFECT_SLOPE.get(int(c), 0.0), otypes=[float])(g)
    return np.where((g > 0) & (e >= 0), EFFECT_LEVEL + slope * e, 0.0)


def _ar1(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Stationary AR(1) series along the rows' time axis, unit variance."""
    e = rng.normal(size=shape) * math.sqrt(1 - RHO**2)
    out = np.empty(shape)
    out[:, 0] = rng.normal(size=shape[0])
    for t in range(1, shape[1]):
        out[:, t] = RHO * out[:, t - 1] + e[:, t]
    return out


def staggered_panel(seed: int) -> pd.DataFrame:
    """One simulated panel: columns ``unit, year, first, d, tau, y`` (``first`` 0 = never)."""
    rng = np.random.default_rng(seed)
    g = cohorts()
    a = rng.normal(size=N_UNITS) + 0.5 * (g == 3)
    lam = 0.1 * PERIODS + rng.normal(size=N_PERIODS)
    u = _ar1(rng, (N_UNITS, N_PERIODS))
    gg = np.repeat(g, N_PERIODS)
    year = np.tile(PERIODS, N_UNITS)
    tau = effect(gg, year - gg)
    d = ((gg > 0) & (year >= gg)).astype(float)
    y0 = np.repeat(a, N_PERIODS) + np.tile(lam, N_UNITS) + u.ravel()
    return pd.DataFrame({"unit": np.repeat(np.arange(N_UNITS), N_PERIODS), "year": year,
                         "first": gg, "d": d, "tau": tau, "y": y0 + tau})


# ------------------------------------------------------------------ the truths
def cell_truths() -> pd.DataFrame:
    """Every treated-cohort x period cell: ``cohort, time, event_time, n, tau``."""
    rows = [{"cohort": g, "time": int(t), "event_time": int(t - g), "n": n,
             "tau": float(effect(g, t - g))}
            for g, n in COHORT_SIZES.items() if g > 0 for t in PERIODS]
    return pd.DataFrame(rows)


def twfe_estimand() -> float:
    """The noise-free static TWFE coefficient of ``y ~ d | unit + year`` (balanced panel)."""
    g = cohorts()[:, None]
    d = ((g > 0) & (PERIODS[None, :] >= g)).astype(float)
    dt = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    return float((dt * effect(g, PERIODS[None, :] - g)).sum() / (dt * d).sum())


def truths() -> dict[str, Any]:
    """The estimand of every method, each from the weighting its estimator uses.

    Returns a dict with ``ATT_cs_simple`` (cells t >= g weighted by the cohort
    share), ``ATT_bjs`` (mean over treated observations), ``ATT_sa`` (post cells
    weighted by their observation counts), ``ATT_etwfe`` (mean over treated
    observations of the marginal effect), ``theta`` (Series over event times),
    ``ATT_dyn`` and ``TWFE``. The first four coincide in this design (see the
    module notes); they are computed separately so that the test can say so.
    """
    cells = cell_truths()
    post = cells[cells["event_time"] >= 0]
    # R did aggte(type="simple"): weight p_g = n_g / N on every post cell (g, t)
    p = post["n"] / N_UNITS
    att_cs = float((p * post["tau"]).sum() / p.sum())
    # BJS: the mean of tau_it over all treated observations (unit-periods)
    panel = staggered_panel(0)
    att_bjs = float(panel.loc[panel["d"] == 1, "tau"].mean())
    # SA: cells (g, e >= 0) weighted by n_{g,e} / sum n_{g',e'}
    grid = post.groupby(["cohort", "event_time"], as_index=False).agg(n=("n", "sum"),
                                                                       tau=("tau", "mean"))
    att_sa = float((grid["n"] * grid["tau"]).sum() / grid["n"].sum())
    # ETWFE simple: the average over treated observations of the cell effect tau_gt
    att_etwfe = float(np.average(post["tau"], weights=post["n"]))
    # CS dynamic: theta(e) = sum_g p_g tau(g, g+e) / sum_g p_g over cohorts observed at e
    theta = cells.groupby("event_time").apply(
        lambda c: float(np.average(c["tau"], weights=c["n"])), include_groups=False)
    theta.index = theta.index.astype(int)
    return {"ATT_cs_simple": att_cs, "ATT_bjs": att_bjs, "ATT_sa": att_sa,
            "ATT_etwfe": att_etwfe, "theta": theta,
            "ATT_dyn": float(theta[theta.index >= 0].mean()), "TWFE": twfe_estimand()}


# ------------------------------------------------------------------ one replication
def _row(method: str, estimate: float, low: float, high: float, truth: float,
         seconds: float, covered: float | None = None) -> dict[str, Any]:
    return {"method": method, "estimate": float(estimate), "truth": float(truth),
            "low": float(low), "high": float(high),
            "covered": float(low <= truth <= high) if covered is None else float(covered),
            "seconds": float(seconds)}


def replication(seed: int, boot_reps: int, truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Every method's estimate and interval on panel ``seed``."""
    import causalpolicing as cp

    df = staggered_panel(seed)
    roles = {"cohort": "first", "never_treated": 0, "unit": "unit", "time": "year"}
    rows = []
    t0 = time.perf_counter()
    cs = cp.callaway_santanna(df, outcome="y", **roles, est_method="dr",
                              control_group="never_treated", aggregate="dynamic",
                              bootstrap=boot_reps, seed=BOOT_SEED_OFFSET + seed)
    et = cs.event_time
    t1 = time.perf_counter()
    simple = cs.aggregate("simple")
    ci = simple.conf_int(LEVEL).loc["ATT"]
    t2 = time.perf_counter()
    rows.append(_row("CS-simple", simple.params["ATT"], ci["conf_low"], ci["conf_high"],
                     truth["ATT_cs_simple"], t2 - t1))
    ci = cs.conf_int(LEVEL).loc["ATT"]
    rows.append(_row("CS-dynamic-ATT", cs.params["ATT"], ci["conf_low"], ci["conf_high"],
                     truth["ATT_dyn"], t1 - t0))
    theta = truth["theta"].reindex(et["event_time"]).to_numpy()
    band = (et["band_low"].to_numpy() <= theta) & (theta <= et["band_high"].to_numpy())
    point = (et["conf_low"].to_numpy() <= theta) & (theta <= et["conf_high"].to_numpy())
    width = float((et["band_high"] - et["band_low"]).mean())
    rows.append(_row("CS-band", np.nan, -width / 2, width / 2, np.nan, t1 - t0,
                     covered=bool(band.all())))
    pw = float((et["conf_high"] - et["conf_low"]).mean())
    rows.append(_row("CS-pointwise", np.nan, -pw / 2, pw / 2, np.nan, 0.0,
                     covered=float(point.mean())))
    for method, fit in (
        ("BJS", lambda: cp.did_imputation(df, outcome="y", **roles)),
        ("SA", lambda: cp.sun_abraham(df, outcome="y", **roles)),
        ("ETWFE", lambda: cp.etwfe(df, outcome="y", **roles)),
        ("TWFE", lambda: cp.feols("y ~ d | unit + year", df, vcov={"CRV1": "unit"})),
    ):
        ta = time.perf_counter()
        res = fit()
        term = "d" if method == "TWFE" else "ATT"
        ci = res.conf_int(LEVEL).loc[term]
        target = truth["ATT_bjs" if method in ("BJS", "TWFE") else
                       "ATT_sa" if method == "SA" else "ATT_etwfe"]
        rows.append(_row(method, res.params[term], ci["conf_low"], ci["conf_high"], target,
                         time.perf_counter() - ta))
    return rows


# ------------------------------------------------------------------ driver
def _chunk(seeds: Sequence[int], boot_reps: int) -> list[dict[str, Any]]:
    """Replications ``seeds`` (run in a worker, one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    truth = truths()
    out = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 50 clusters, few never-treated: expected warnings
        for seed in seeds:
            for row in replication(seed, boot_reps, truth):
                row["seed"] = int(seed)
                out.append(row)
    return out


def simulate(reps: int, boot_reps: int = 999, workers: int = 1,
             first_seed: int = 0) -> pd.DataFrame:
    """All replications: one row per replication and method."""
    seeds = list(range(first_seed, first_seed + reps))
    if workers <= 1:
        rows = _chunk(seeds, boot_reps)
    else:
        parts = [seeds[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_chunk, part, boot_reps) for part in parts]
            rows = [row for f in futures for row in f.result()]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["seed", "method"], kind="stable").reset_index(drop=True)


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """One row per method: target, truth, mean estimate, coverage, MC s.e., length, time."""
    out = []
    for method in METHODS:
        grp = draws[draws["method"] == method]
        if grp.empty:
            continue
        r = len(grp)
        cov = float(grp["covered"].mean())
        out.append({
            "method": method, "target": TARGETS[method], "R": r,
            "truth": float(grp["truth"].mean()), "mean_est": float(grp["estimate"].mean()),
            "coverage": cov, "mc_se": math.sqrt(cov * (1 - cov) / r),
            "mean_length": float((grp["high"] - grp["low"]).mean()),
            "ms_per_rep": 1000 * float(grp["seconds"].mean()),
        })
    return pd.DataFrame(out)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=500, help="replications R")
    parser.add_argument("--boot-reps", type=int, default=999,
                        help="multiplier-bootstrap draws B of the CS uniform band")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--csv", default=None, help="also write every replication here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, load average at "
          f"start: {os.getloadavg()}", file=sys.stderr)
    t = truths()
    print(f"truths: ATT_obs {t['ATT_bjs']:.4f}, ATT_dyn {t['ATT_dyn']:.4f}, "
          f"TWFE estimand {t['TWFE']:.4f}", file=sys.stderr)
    draws = simulate(args.reps, args.boot_reps, args.workers)
    if args.csv:
        draws.to_csv(args.csv, index=False)
    table = summarise(draws)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"R = {args.reps}, B = {args.boot_reps}, workers = {args.workers}, "
          f"total {time.perf_counter() - start:.1f} s, load average at end: "
          f"{os.getloadavg()}", file=sys.stderr)
    return table


if __name__ == "__main__":
    main()
