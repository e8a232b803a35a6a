"""Benchmark: the wild cluster bootstrap (B = 9,999) against wildboottest and pyfixest.

Run from the repository root::

    python benchmarks/bench_bootstrap.py            # 26, 200 and 3,000 clusters
    python benchmarks/bench_bootstrap.py --quick    # 26 clusters only, fewer repeats

Panels: 26 units x 33 years (the Swiss-cantons shape), 200 x 10 and 3,000 x 5,
model ``y ~ x + w | unit + year`` clustered by unit, WCR with Rademacher weights,
test of ``x`` (p-value only for the references, which do not compute intervals;
ours is timed both without and with the confidence interval).
The references get the fixed effects as dummies (as pyfixest passes them to
wildboottest). wildboottest compiles a numba kernel on every call, which is
part of what a user waits for, so its times include it; its first (warm-up)
call is excluded. Medians of ``--repeat`` runs; speed is never asserted in tests.
Ours limits BLAS to one thread while drawing (threadpoolctl; see
``causalpolicing.inference.bootstrap._single_thread_blas``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def make_panel(n_units: int, n_years: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_years),
                       "year": np.tile(np.arange(n_years), n_units)})
    df["x"] = rng.normal(size=len(df)) + rng.normal(size=n_units)[df["unit"]]
    df["w"] = rng.normal(size=len(df))
    df["y"] = (0.05 * df["x"] + 0.3 * df["w"] + rng.normal(size=n_units)[df["unit"]]
               + rng.normal(size=len(df)))
    return df


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def bench_one(n_units: int, n_years: int, b: int, repeat: int, pf) -> dict:
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    import causalpolicing as cp

    df = make_panel(n_units, n_years)
    res = cp.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"})
    cp.inference.wild_bootstrap(res, "x", reps=99, seed=1)  # warm-up (imports)
    t_ours, ours = timed(lambda: cp.inference.wild_bootstrap(
        res, "x", reps=b, seed=1, conf_int=False), repeat)
    t_ours_ci, _ = timed(lambda: cp.inference.wild_bootstrap(
        res, "x", reps=b, seed=1, conf_int=True), repeat)
    row: dict = {"clusters": n_units, "obs": len(df), "ours_s": t_ours, "ours_ci_s": t_ours_ci,
                 "ours_p": ours.p_value}
    if n_units >= 1000:
        row["note"] = "references skipped (dense dummies and G x G Python loops: minutes)"
        return row
    xd = pd.concat([df[["x", "w"]],
                    pd.get_dummies(df["unit"], prefix="u", drop_first=True, dtype=float),
                    pd.get_dummies(df["year"], prefix="t", drop_first=True, dtype=float)], axis=1)
    xd.insert(0, "const", 1.0)
    model = sm.OLS(df["y"], xd)

    def run_wbt() -> pd.DataFrame:
        return wildboottest(model, B=b, cluster=df["unit"].to_numpy(), param="x", seed=1,
                            show=False, parallel=False)

    run_wbt()  # warm-up
    t_wbt, wbt = timed(run_wbt, repeat)
    row.update({"wildboottest_s": t_wbt, "wildboottest_p": float(wbt["p-value"].iloc[0]),
                "ratio_wildboottest": t_wbt / t_ours})
    if pf is None:
        return row
    fit = pf.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"})

    def run_pf() -> pd.Series:
        return fit.wildboottest(param="x", reps=b, seed=1)

    try:
        run_pf()  # warm-up
        t_pf, pfo = timed(run_pf, repeat)
        row.update({"pyfixest_s": t_pf, "pyfixest_p": float(pfo["Pr(>|t|)"]),
                    "ratio_pyfixest": t_pf / t_ours})
    except Exception as exc:  # pragma: no cover - report, do not fail
        row["pyfixest_error"] = repr(exc)[:80]
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reps", type=int, default=9999)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    try:
        import pyfixest as pf
    except Exception:  # pragma: no cover - optional
        pf = None

    shapes = [(26, 33)] if args.quick else [(26, 33), (200, 10), (3000, 5)]
    rows = []
    for n_units, n_years in shapes:
        row = bench_one(n_units, n_years, args.reps, args.repeat, pf)
        rows.append(row)
        print(pd.Series(row).to_string(), "\n", flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
