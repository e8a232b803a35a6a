"""Benchmark: cp.feols against pyfixest and linearmodels, TWFE + CRV1 by unit.

Run from the repository root::

    python benchmarks/bench_feols.py                 # 26x33, 3,000x100, 1M rows
    python benchmarks/bench_feols.py --sizes small   # quick look

For each size the same data are fit by every library: medians of ``--reps``
timed calls after one warm-up call (pyfixest compiles with numba on its first
call), the ratio to ours, and the peak traced memory of one call
(``tracemalloc``: allocations made through Python's allocator, which includes
numpy arrays; memory that numba or BLAS allocate natively is not seen). The
first call in a fresh process (import included) is measured in a subprocess.
Nothing here is asserted in the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

SIZES = {
    "small": (26, 33),
    "medium": (3_000, 100),
    "large": (10_000, 100),  # 1M rows
}


def make_data(n_units: int, n_t: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_units * n_t
    unit = np.repeat(np.arange(n_units), n_t)
    year = np.tile(np.arange(n_t), n_units)
    ue = rng.normal(size=n_units)[unit]
    te = rng.normal(size=n_t)[year]
    x = rng.normal(size=n) + ue
    w = rng.normal(size=n) + te
    y = 0.5 * x - 0.2 * w + ue + te + rng.normal(size=n)
    return pd.DataFrame({"unit": unit, "year": year, "x": x, "w": w, "y": y})


def fit_ours(df: pd.DataFrame) -> np.ndarray:
    import causalpolicing as cp

    return cp.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"}).std_errors.to_numpy()


def fit_pyfixest(df: pd.DataFrame) -> np.ndarray:
    import pyfixest as pf

    return pf.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"}).se().to_numpy()


def fit_linearmodels(df: pd.DataFrame) -> np.ndarray:
    from linearmodels import PanelOLS

    p = df.set_index(["unit", "year"])
    m = PanelOLS(p["y"], p[["x", "w"]], entity_effects=True, time_effects=True)
    return m.fit(cov_type="clustered", cluster_entity=True).std_errors.to_numpy()


LIBS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {
    "causalpolicing": fit_ours,
    "pyfixest": fit_pyfixest,
    "linearmodels": fit_linearmodels,
}


def time_it(fn: Callable[[pd.DataFrame], np.ndarray], df: pd.DataFrame, reps: int
            ) -> tuple[float, float, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(df)  # warm-up (JIT, imports)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn(df)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        fn(df)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return statistics.median(times), peak / 2**20, out


FIRST_CALL = """
import time
t0 = time.perf_counter()
import warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
{imp}
rng = np.random.default_rng(1)
unit = np.repeat(np.arange(26), 33); year = np.tile(np.arange(33), 26)
df = pd.DataFrame({{"unit": unit, "year": year, "x": rng.normal(size=858)}})
df["w"] = rng.normal(size=858); df["y"] = df["x"] + rng.normal(size=858)
{call}
print(time.perf_counter() - t0)
"""

FIRST_CALL_LIBS = {
    "causalpolicing": ("import causalpolicing as cp",
                       'cp.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"}).std_errors'),
    "pyfixest": ("import pyfixest as pf",
                 'pf.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"}).se()'),
}


def first_call(lib: str) -> float:
    imp, call = FIRST_CALL_LIBS[lib]
    out = subprocess.run([sys.executable, "-c", FIRST_CALL.format(imp=imp, call=call)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def print_header() -> None:
    """Date, machine load and library versions, to paste next to the figures."""
    import importlib.metadata as md
    import platform

    versions = ", ".join(f"{m} {md.version(m)}" for m in ("numpy", "scipy", "pandas", "pyfixest", "linearmodels"))
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python "
          f"{platform.python_version()}, {versions}; causalpolicing "
          f"{md.version('causalpolicing')}; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--libs", nargs="+", default=list(LIBS), choices=list(LIBS))
    args = parser.parse_args()
    print_header()

    print("first call in a fresh process, 26 x 33, import included:")
    for lib in FIRST_CALL_LIBS:
        if lib in args.libs:
            print(f"  {lib:15s} {first_call(lib):7.2f} s")

    for size in args.sizes:
        n_units, n_t = SIZES[size]
        df = make_data(n_units, n_t)
        reps = args.reps if len(df) < 500_000 else max(1, min(args.reps, 3))
        print(f"\n{size}: {n_units} units x {n_t} periods = {len(df):,} rows, "
              f"TWFE + CRV1 by unit, median of {reps}")
        results = {}
        for lib in args.libs:
            results[lib] = time_it(LIBS[lib], df, reps)
        base_t, base_m, base_se = results["causalpolicing"]
        print(f"  {'library':15s} {'median s':>10s} {'x ours':>8s} {'peak MiB':>9s} "
              f"{'x ours':>7s}  max rel. SE diff")
        for lib, (t, m, se) in results.items():
            diff = float(np.max(np.abs(se / base_se - 1)))
            print(f"  {lib:15s} {t:10.4f} {t / base_t:8.2f} {m:9.1f} {m / base_m:7.2f}  {diff:.1e}")


if __name__ == "__main__":
    main()
