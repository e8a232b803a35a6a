"""Time and memory of ``cp.load_panel`` on CSV files, against ``pandas.read_csv(engine="pyarrow")``.

Usage::

    python benchmarks/bench_load.py                       # 5M rows + 60-row wide files
    python benchmarks/bench_load.py --rows 1000000        # smaller long file
    python benchmarks/bench_load.py --skip-long           # only the wide files
    python benchmarks/bench_load.py --widths 2500 5000 10000 --reps 3

Two files are generated once into a temporary folder:

* a long panel: ``--rows`` rows (50,000 counties with FIPS-like codes such as
  ``"01001"`` x years), columns ``fips`` (text with leading zeros), ``state``
  (text), ``year``, ``deaths`` (count), ``offences`` and ``unemployment``
  (decimals), ``population`` and ``income`` (integers);
* wide files: 60 rows (12 units x 5 years) with 2,500 / 5,000 / 10,000 numeric
  columns, to show that the time grows linearly with the number of columns.

Each measurement runs in its own fresh Python process (so one measurement's
memory does not inflate the next) and reports the wall time of the call and
the peak resident memory it added over the process after imports
(``ru_maxrss``). ``load_panel`` validates everything (keys, duplicates,
numbers, missing values, the drop log, the warnings); pandas only parses and
infers types (and reads the codes as numbers, losing their leading zeros), so
it is the floor, not an equal. The loaded frame's memory is
``DataFrame.memory_usage(deep=True)`` of ``panel.to_frame()``.

Ratios are printed: load_panel / pandas time, and peak added memory / loaded
frame. Nothing is asserted; timings depend on the machine and its load
(printed with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROLES = dict(unit="fips", time="year", outcome="deaths", treatment="offences",
             exposure="population", covariates=["unemployment"])
WIDE_ROLES = dict(unit="unit", time="year", outcome="y", treatment="x")


# --------------------------------------------------------------------- files
def make_long(path: Path, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    units = 50_000 if rows >= 50_000 else max(rows // 10, 1)
    years = -(-rows // units)
    n = units * years
    codes = np.array([f"{s:02d}{c:03d}" for s in range(1, 51) for c in range(1000)])[:units]
    states = np.array([f"S{s:02d}" for s in range(1, 51) for _ in range(1000)])[:units]
    table = pa.table({
        "fips": np.repeat(codes, years),
        "state": np.repeat(states, years),
        "year": np.tile(np.arange(2024 - years + 1, 2025), units),
        "deaths": rng.poisson(5.0, n),
        "offences": np.round(rng.gamma(2.0, 2.0, n), 3),
        "unemployment": np.round(rng.normal(6.0, 1.5, n), 2),
        "population": rng.integers(1_000, 1_000_000, n),
        "income": rng.integers(20_000, 90_000, n),
    }).slice(0, rows)
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


def make_wide(path: Path, columns: int, seed: int = 0) -> None:
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 60
    data = {"unit": [f"{u:05d}" for u in np.repeat(np.arange(1, 13), 5)],
            "year": np.tile(np.arange(2000, 2005), 12),
            "y": rng.poisson(5, n), "x": rng.normal(size=n).round(4)}
    values = rng.normal(size=(n, columns - 4)).round(4)
    frame = pd.concat([pd.DataFrame(data), pd.DataFrame(values).add_prefix("v")], axis=1)
    frame.to_csv(path, index=False)


# ------------------------------------------------------------ one measurement
def child(kind: str, path: str, roles: str) -> None:
    """Run one measurement in this (fresh) process and print it as JSON."""
    import warnings

    import pandas as pd

    import causalpolicing as cp

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if kind == "pandas":
        frame = pd.read_csv(path, engine="pyarrow")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            panel = cp.load_panel(path, **json.loads(roles))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if kind != "pandas":
        frame = panel.to_frame()
    print(json.dumps({
        "seconds": seconds,
        "peak_added_mb": (peak - base) / 1024,  # ru_maxrss is in KiB on Linux
        "frame_mb": float(frame.memory_usage(deep=True).sum()) / 2**20,
        "shape": list(frame.shape),
    }))


def measure(kind: str, path: Path, roles: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), json.dumps(roles)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(path: Path, roles: dict, reps: int) -> tuple[dict, dict]:
    """Median of ``reps`` interleaved runs of pandas and load_panel."""
    runs: dict[str, list[dict]] = {"pandas": [], "load_panel": []}
    for _ in range(reps):
        for kind in runs:
            runs[kind].append(measure(kind, path, roles))

    def median(kind: str) -> dict:
        rs = runs[kind]
        return {k: statistics.median(r[k] for r in rs) if k != "shape" else rs[0][k]
                for k in rs[0]}

    return median("pandas"), median("load_panel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--widths", type=int, nargs="*", default=[2_500, 5_000, 10_000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    import pandas as pd
    import pyarrow as pa

    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, pandas {pd.__version__}, "
          f"pyarrow {pa.__version__}; median of {args.reps} interleaved runs, one process each")
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_long:
            path = Path(tmp) / "long.csv"
            make_long(path, args.rows)
            size = path.stat().st_size / 2**20
            pd_r, cp_r = compare(path, ROLES, args.reps)
            print(f"\nLong panel: {cp_r['shape'][0]:,} rows x {cp_r['shape'][1]} columns, "
                  f"{size:,.0f} MiB CSV")
            print(f"  pandas.read_csv(engine='pyarrow'): {pd_r['seconds']:6.2f} s, peak +"
                  f"{pd_r['peak_added_mb']:,.0f} MiB (frame {pd_r['frame_mb']:,.0f} MiB)")
            print(f"  cp.load_panel:                     {cp_r['seconds']:6.2f} s, peak +"
                  f"{cp_r['peak_added_mb']:,.0f} MiB (frame {cp_r['frame_mb']:,.0f} MiB)")
            print(f"  time ratio load_panel / pandas: {cp_r['seconds'] / pd_r['seconds']:.2f}x; "
                  f"peak memory / loaded frame: "
                  f"{cp_r['peak_added_mb'] / cp_r['frame_mb']:.2f}x")
        if args.widths:
            print("\nWide files: 60 rows")
            print(f"  {'columns':>8} {'pandas s':>9} {'load_panel s':>13} {'ratio':>6} "
                  f"{'s per 1,000 columns':>20}")
            for width in args.widths:
                path = Path(tmp) / f"wide{width}.csv"
                make_wide(path, width)
                pd_r, cp_r = compare(path, WIDE_ROLES, args.reps)
                print(f"  {width:>8,} {pd_r['seconds']:>9.2f} {cp_r['seconds']:>13.2f} "
                      f"{cp_r['seconds'] / pd_r['seconds']:>5.1f}x "
                      f"{cp_r['seconds'] / width * 1000:>20.3f}")
                path.unlink()


if __name__ == "__main__":
    main()
