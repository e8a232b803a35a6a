"""Monte Carlo: 95% confidence-interval coverage with 26 clusters (CRV1, CRV3, bootstrap).

Run from the repository root::

    python benchmarks/mc_coverage.py                    # the full study (R = 2000, B = 399)
    python benchmarks/mc_coverage.py --reps 200 --workers 1
    python benchmarks/mc_coverage.py --designs poisson_cantons --boot-weights webb

It prints one row per design and method: the share of replications whose 95%
interval covers the true coefficient (``coverage``), its Monte Carlo standard
error :math:`\\sqrt{c(1-c)/R}`, the mean interval length, the rejection rate of
the true null at the 5% level from the method's own p-value (``reject``; for an
interval that inverts the same test, ``coverage = 1 - reject`` up to the
inversion's numerical tolerance), the number of unbounded intervals, and the
time per replication spent in the method (for CRV1 this includes the fit).

Designs (26 clusters throughout)
--------------------------------
``twfe_balanced``, ``twfe_heterogeneous``, ``twfe_few_large``
    26 units x 33 periods, ``y = beta x + a_g + f_t + u`` with ``beta = 1``,
    fitted as ``y ~ x | unit + year`` with errors clustered by unit::

        x[g,t] = a_g + d_t + s_g e[g,t],   e: stationary AR(1), rho = 0.8, variance 1
        u[g,t] = c_g + f_t + s_g w[g,t],   w: stationary AR(1), rho = 0.8, variance 1

    with ``a, c, d, f ~ N(0, 1)``. The cluster scale ``s_g`` multiplies both the
    within-unit variation of x and the error, so clusters with a large ``s_g``
    are at once high-leverage and noisy: their scores dominate the CRV1
    variance, the effective number of clusters falls well below 26 and CRV1
    undercovers (Carter, Schnepel and Steigerwald 2017; MacKinnon and Webb 2017,
    "Wild bootstrap inference for wildly different cluster sizes", J. Applied
    Econometrics 32(2), where the influence comes from cluster size instead).
    ``balanced``: ``s_g = 1`` (the control design: CRV1 with t(G-1) critical
    values should be close to nominal). ``heterogeneous``: ``s_g =
    exp(0.8 q_g)`` with ``q_g`` the normal quantiles at ``(g + 0.5) / 26``
    (largest / smallest scale = 27). ``few_large``: ``s_g = 3`` for 5 of the 26
    clusters, 1 otherwise. The scales are fixed; only the shocks are redrawn.
    Methods: CRV1 and CRV3 t intervals (``res.conf_int()``, t with G - 1 = 25
    degrees of freedom) and the restricted wild cluster bootstrap (WCR, Webb
    weights, symmetric p-value, interval by test inversion;
    :func:`causalpolicing.inference.wild_bootstrap`).

``poisson_cantons``
    :func:`causalpolicing.datasets.simulate_cantons` with seeds ``0 .. R-1`` and
    the data card's defaults (true ``enforcement_rr = 1.05``, coefficient
    ``log 1.05``), fitted as ``deaths ~ offences_per_1000 +
    substitution_coverage + neighbour_offences_per_1000 | canton + year`` with
    exposure ``population``, clustered by canton. Methods: CRV1 and CRV3
    Wald intervals on the log scale (t(25)) and the restricted wild score
    bootstrap of Kline and Santos (2012)
    (:func:`causalpolicing.inference.poisson_bootstrap`, ``method="score"``,
    interval by test inversion with the same draws), with Rademacher weights
    (``score-rademacher``) and Webb weights (``score-webb``).

Bootstrap draws and Monte Carlo error
-------------------------------------
``B = 399`` draws per replication (``--boot-reps``); with ``B + 1`` a multiple
of 20 the 5% test is exact in the number of draws. The coverage of a
bootstrap interval is barely affected by ``B`` once ``B >= 199`` (the
randomness of the draws adds variance to each replication's decision, not
bias to the average: MacKinnon 2009, "Bootstrap hypothesis testing"), so a
larger ``R`` buys more than a larger ``B``. At ``R = 2000`` the Monte Carlo
standard error of a coverage near 0.95 is 0.0049 (0.0069 at ``R = 1000``,
0.0154 at ``R = 200``). Seeds: data of replication ``i`` from
``numpy.random.default_rng(i)`` (linear designs; the design's index is added
times 10^6) or ``simulate_cantons(seed=i)``; bootstrap draws from seed
``10**7 + i``. BLAS is limited to one thread in every worker
(``threadpoolctl``); ``--workers`` processes share the replications.
Nothing here is asserted; ``tests/test_coverage.py`` (``pytest -m slow``)
runs the same code with fewer replications and asserts bands.
"""

from __future__ import annotations

import argparse
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
from scipy import special

N_UNITS = 26
N_PERIODS = 33
BETA = 1.0
RHO = 0.8
LEVEL = 0.95
ALPHA = 1 - LEVEL
BOOT_SEED_OFFSET = 10**7
POISSON_FORMULA = ("deaths ~ offences_per_1000 + substitution_coverage"
                   " + neighbour_offences_per_1000 | canton + year")
POISSON_PARAM = "offences_per_1000"

LINEAR_DESIGNS: tuple[str, ...] = ("twfe_balanced", "twfe_heterogeneous", "twfe_few_large")
DESIGNS: tuple[str, ...] = (*LINEAR_DESIGNS, "poisson_cantons")
LINEAR_METHODS: tuple[str, ...] = ("CRV1", "CRV3", "WCR-webb")
POISSON_METHODS: tuple[str, ...] = ("CRV1", "CRV3", "score-rademacher", "score-webb")


# ------------------------------------------------------------------ linear designs
def cluster_scales(design: str) -> np.ndarray:
    """The fixed cluster scales ``s_g`` of a linear design (module docstring)."""
    if design == "twfe_balanced":
        return np.ones(N_UNITS)
    if design == "twfe_heterogeneous":
        q = special.ndtri((np.arange(N_UNITS) + 0.5) / N_UNITS)
        return np.exp(0.8 * q)
    if design == "twfe_few_large":
        s = np.ones(N_UNITS)
        s[:5] = 3.0
        return s
    raise ValueError(f"design must be one of {list(LINEAR_DESIGNS)}; got {design!r}.")


def _ar1(rng: np.random.Generator, rho: float, shape: tuple[int, int]) -> np.ndarray:
    """Stationary AR(1) series along the rows' time axis, unit variance."""
    e = rng.normal(size=shape)
    out = np.empty(shape)
    out[:, 0] = e[:, 0] / math.sqrt(1 - rho**2)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + e[:, t]
    return out * math.sqrt(1 - rho**2)


def twfe_panel(design: str, seed: int) -> pd.DataFrame:
    """One simulated 26 x 33 panel of a linear design (columns unit, year, x, y)."""
    s = cluster_scales(design)
    rng = np.random.default_rng(seed)
    shape = (N_UNITS, N_PERIODS)
    x = (rng.normal(size=(N_UNITS, 1)) + rng.normal(size=(1, N_PERIODS))
         + s[:, None] * _ar1(rng, RHO, shape))
    u = (rng.normal(size=(N_UNITS, 1)) + rng.normal(size=(1, N_PERIODS))
         + s[:, None] * _ar1(rng, RHO, shape))
    return pd.DataFrame({"unit": np.repeat(np.arange(N_UNITS), N_PERIODS),
                         "year": np.tile(np.arange(N_PERIODS), N_UNITS),
                         "x": x.ravel(), "y": (BETA * x + u).ravel()})


def _t_reject(estimate: float, se: float, truth: float, df: int | None) -> bool:
    t = abs(estimate - truth) / se
    p = 2 * (special.ndtr(-t) if df is None else special.stdtr(df, -t))
    return bool(p < ALPHA)


def _row(method: str, low: float, high: float, truth: float, reject: bool,
         seconds: float) -> dict[str, Any]:
    return {"method": method, "low": float(low), "high": float(high),
            "covered": bool(low <= truth <= high), "reject": bool(reject),
            "seconds": float(seconds)}


def linear_replication(design: str, seed: int, boot_reps: int) -> list[dict[str, Any]]:
    """CRV1, CRV3 and WCR intervals for one panel of a linear design."""
    import causalpolicing as cp

    df = twfe_panel(design, seed + 10**6 * LINEAR_DESIGNS.index(design))
    rows = []
    t0 = time.perf_counter()
    r1 = cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})
    ci1 = r1.conf_int(LEVEL).loc["x"]
    t1 = time.perf_counter()
    r3 = r1.with_cov({"CRV3": "unit"})
    ci3 = r3.conf_int(LEVEL).loc["x"]
    t2 = time.perf_counter()
    bs = cp.inference.wild_bootstrap(r1, "x", reps=boot_reps, weights="webb",
                                     seed=BOOT_SEED_OFFSET + seed, null=BETA, conf_int=True,
                                     level=LEVEL)
    t3 = time.perf_counter()
    est = float(r1.params["x"])
    rows.append(_row("CRV1", ci1["conf_low"], ci1["conf_high"], BETA,
                     _t_reject(est, float(r1.std_errors["x"]), BETA, r1.df_inference), t1 - t0))
    rows.append(_row("CRV3", ci3["conf_low"], ci3["conf_high"], BETA,
                     _t_reject(est, float(r3.std_errors["x"]), BETA, r3.df_inference), t2 - t1))
    rows.append(_row("WCR-webb", bs.conf_int[0], bs.conf_int[1], BETA, bs.p_value < ALPHA,
                     t3 - t2))
    return rows


# ------------------------------------------------------------------ Poisson design
def poisson_replication(seed: int, boot_reps: int,
                        score_weights: Sequence[str] = ("rademacher", "webb"),
                        ) -> list[dict[str, Any]]:
    """CRV1, CRV3 and score-bootstrap intervals for ``simulate_cantons(seed=seed)``."""
    import causalpolicing as cp

    df, truth = cp.datasets.simulate_cantons(seed=seed, return_truth=True)
    b0 = float(truth["beta_enforcement"])
    rows = []
    t0 = time.perf_counter()
    r1 = cp.fepois(POISSON_FORMULA, df, exposure="population", vcov={"CRV1": "canton"})
    ci1 = r1.conf_int(LEVEL).loc[POISSON_PARAM]
    t1 = time.perf_counter()
    r3 = r1.with_cov({"CRV3": "canton"})
    ci3 = r3.conf_int(LEVEL).loc[POISSON_PARAM]
    t2 = time.perf_counter()
    est = float(r1.params[POISSON_PARAM])
    rows.append(_row("CRV1", ci1["conf_low"], ci1["conf_high"], b0,
                     _t_reject(est, float(r1.std_errors[POISSON_PARAM]), b0, r1.df_inference),
                     t1 - t0))
    rows.append(_row("CRV3", ci3["conf_low"], ci3["conf_high"], b0,
                     _t_reject(est, float(r3.std_errors[POISSON_PARAM]), b0, r3.df_inference),
                     t2 - t1))
    for weights in score_weights:
        ta = time.perf_counter()
        bs = cp.inference.poisson_bootstrap(r1, POISSON_PARAM, method="score", reps=boot_reps,
                                            weights=weights, null=b0, level=LEVEL,
                                            seed=BOOT_SEED_OFFSET + seed, conf_int=True)
        rows.append(_row(f"score-{weights}", bs.conf_low, bs.conf_high, b0,
                         bs.p_value < ALPHA, time.perf_counter() - ta))
    return rows


# ------------------------------------------------------------------ driver
def _chunk(design: str, seeds: Sequence[int], boot_reps: int,
           score_weights: Sequence[str]) -> list[dict[str, Any]]:
    """Replications ``seeds`` of one design (run in a worker, one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    out = []
    with threadpool_limits(1), warnings.catch_warnings():
        # 26 clusters: every fit warns about few clusters; that is the point here.
        warnings.simplefilter("ignore")
        for seed in seeds:
            rows = (poisson_replication(seed, boot_reps, score_weights)
                    if design == "poisson_cantons"
                    else linear_replication(design, seed, boot_reps))
            for row in rows:
                row.update(design=design, seed=int(seed))
            out.extend(rows)
    return out


def simulate(design: str, reps: int, boot_reps: int = 399, workers: int = 1,
             first_seed: int = 0,
             score_weights: Sequence[str] = ("rademacher", "webb")) -> pd.DataFrame:
    """All replications of one design: one row per replication and method.

    ``score_weights`` lists the weights of the Poisson score bootstrap (one
    method row each); the linear designs ignore it.
    """
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {list(DESIGNS)}; got {design!r}.")
    seeds = list(range(first_seed, first_seed + reps))
    if workers <= 1:
        rows = _chunk(design, seeds, boot_reps, tuple(score_weights))
    else:
        parts = [seeds[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_chunk, design, part, boot_reps, tuple(score_weights))
                       for part in parts]
            rows = [row for f in futures for row in f.result()]
    frame = pd.DataFrame(rows)
    return frame.sort_values(["seed", "method"], kind="stable").reset_index(drop=True)


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """One row per design and method: coverage, MC s.e., length, rejection rate, time."""
    out = []
    for (design, method), grp in draws.groupby(["design", "method"], sort=False):
        r = len(grp)
        cov = float(grp["covered"].mean())
        length = (grp["high"] - grp["low"]).to_numpy()
        finite = np.isfinite(length)
        out.append({
            "design": design, "method": method, "R": r, "coverage": cov,
            "mc_se": math.sqrt(cov * (1 - cov) / r),
            "mean_length": float(length[finite].mean()) if finite.any() else math.inf,
            "unbounded": int((~finite).sum()),
            "reject": float(grp["reject"].mean()),
            "mismatch": int((grp["covered"] == grp["reject"]).sum()),
            "ms_per_rep": 1000 * float(grp["seconds"].mean()),
        })
    return pd.DataFrame(out)


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2000, help="replications R per design")
    parser.add_argument("--boot-reps", type=int, default=399, help="bootstrap draws B")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=DESIGNS)
    parser.add_argument("--csv", default=None, help="also write every replication here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    frames = []
    for design in args.designs:
        t0 = time.perf_counter()
        frames.append(simulate(design, args.reps, args.boot_reps, args.workers))
        print(f"{design}: {args.reps} replications in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    draws = pd.concat(frames, ignore_index=True)
    if args.csv:
        draws.to_csv(args.csv, index=False)
    table = summarise(draws)
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"R = {args.reps}, B = {args.boot_reps}, workers = {args.workers}, "
          f"total {time.perf_counter() - start:.1f} s, load average at end: "
          f"{os.getloadavg()}", file=sys.stderr)
    return table


if __name__ == "__main__":
    main()
