"""Time ``cp.load_panel`` on a large panel, from a DataFrame and from a CSV file.

Usage::

    python benchmarks/bench_load.py                  # 10,000 units x 100 years = 1M rows
    python benchmarks/bench_load.py --units 2000     # smaller
    python benchmarks/bench_load.py --missing 0.1    # 10% of outcomes missing (dropped, logged)

Prints the median wall time of ``--reps`` loads for each source. Nothing is
asserted; timings depend on the machine and its load (printed with the figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import causalpolicing as cp


def make_frame(units: int, periods: int, missing: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = units * periods
    frame = pd.DataFrame({
        "unit": np.repeat([f"U{u:05d}" for u in range(units)], periods),
        "year": np.tile(np.arange(1950, 1950 + periods), units),
        "deaths": rng.poisson(5.0, n).astype(float),
        "offences": rng.gamma(2.0, 2.0, n),
        "pop": rng.integers(10_000, 1_000_000, n).astype(float),
    })
    frame.loc[rng.random(n) < missing, "deaths"] = np.nan
    return frame


def timed(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=100)
    parser.add_argument("--missing", type=float, default=0.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    frame = make_frame(args.units, args.periods, args.missing)
    roles = dict(unit="unit", time="year", outcome="deaths", treatment="offences", exposure="pop")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.csv"
        frame.to_csv(path, index=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_df = timed(lambda: cp.load_panel(frame, **roles), args.reps)
            t_csv = timed(lambda: cp.load_panel(path, **roles), args.reps)
            panel = cp.load_panel(frame, **roles)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}, pandas {pd.__version__}")
    print(f"{len(frame):,} rows ({args.units:,} units x {args.periods} periods), "
          f"{len(panel.drop_log):,} dropped; median of {args.reps}")
    print(f"  load_panel(DataFrame): {t_df:.2f} s")
    print(f"  load_panel(CSV file):  {t_csv:.2f} s")


if __name__ == "__main__":
    main()
