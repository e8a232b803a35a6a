"""Benchmark: cp.fepois against pyfixest's fepois (2 fixed effects, exposure, CRV1).

Two sizes: the 26 x 33 canton panel (``simulated_cantons``) and a synthetic
panel of 10,000 units x 100 years (1M rows). For each it prints the median wall
time over repeated fits (the two libraries interleaved, after one warm-up call
each, so pyfixest's JIT compilation is excluded and reported separately), the
ratio, and the peak memory of one fit measured two ways: :mod:`tracemalloc`
(Python and numpy allocations; allocations made inside numba-compiled code may
escape it) and the increase of the process's peak resident set size in a fresh
child process (``ru_maxrss``; covers everything).

Run::

    python benchmarks/bench_fepois.py            # both sizes
    python benchmarks/bench_fepois.py --sizes small --reps 21

Nothing here is asserted; timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

FORMULA = "y ~ x + w | unit + year"


def make_data(size: str) -> pd.DataFrame:
    if size == "small":
        import causalpolicing as cp

        f = cp.datasets.load("simulated_cantons").to_frame()
        return pd.DataFrame({"unit": f["canton"], "year": f["year"], "y": f["deaths"],
                             "x": f["offences_per_1000"], "w": f["substitution_coverage"],
                             "pop": f["population"].astype(float),
                             "log_pop": np.log(f["population"].astype(float))})
    rng = np.random.default_rng(0)
    g, t = 10_000, 100
    n = g * t
    df = pd.DataFrame({"unit": np.repeat(np.arange(g), t), "year": np.tile(np.arange(t), g)})
    df["pop"] = rng.integers(1_000, 50_000, n).astype(float)
    df["log_pop"] = np.log(df["pop"])
    df["x"] = rng.normal(size=n) + rng.normal(size=g)[df["unit"]]
    df["w"] = rng.normal(size=n)
    eta = (np.log(df["pop"] / 20_000) + 0.1 * df["x"] - 0.05 * df["w"]
           + 0.5 * rng.normal(size=g)[df["unit"]] + 0.2 * rng.normal(size=t)[df["year"]])
    df["y"] = rng.poisson(np.exp(eta)).astype(float)
    return df


def fit_ours(df: pd.DataFrame):
    import causalpolicing as cp

    return cp.fepois(FORMULA, df, exposure="pop", vcov={"CRV1": "unit"})


def fit_pyfixest(df: pd.DataFrame):
    import pyfixest as pf

    return pf.fepois(FORMULA, df, offset="log_pop", vcov={"CRV1": "unit"})


FITS = {"causalpolicing": fit_ours, "pyfixest": fit_pyfixest}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def child(size: str, which: str) -> None:
    """Fresh process: warm up on a small frame, then report the peak-RSS increase of one fit.

    The peak (VmHWM) is reset to the current RSS through /proc/self/clear_refs (Linux), so
    the increase is that of the fit alone; elsewhere it falls back on ru_maxrss.
    """
    warnings.simplefilter("ignore")
    df = make_data(size)
    FITS[which](make_data("small"))  # imports and JIT outside the measurement
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        before = _status_kb("VmRSS")
        FITS[which](df)
        after = _status_kb("VmHWM")
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        FITS[which](df)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_increase_mb": (after - before) / 1024}))


def bench(size: str, reps: int) -> dict[str, float]:
    warnings.simplefilter("ignore")
    df = make_data(size)
    out: dict[str, float] = {"rows": len(df)}
    for name, fn in FITS.items():
        t0 = time.perf_counter()
        fn(df)
        out[f"{name}_first_s"] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in FITS}
    for _ in range(reps):
        for name, fn in FITS.items():
            t0 = time.perf_counter()
            fn(df)
            times[name].append(time.perf_counter() - t0)
    for name in FITS:
        out[f"{name}_median_s"] = statistics.median(times[name])
        tracemalloc.start()
        FITS[name](df)
        out[f"{name}_tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        res = subprocess.run([sys.executable, __file__, "--child", size, name],
                             capture_output=True, text=True, check=True)
        out[f"{name}_rss_increase_mb"] = json.loads(res.stdout.strip().splitlines()[-1])[
            "rss_increase_mb"]
    ours, ref = fit_ours(df), fit_pyfixest(df)
    out["max_rel_coef_diff"] = float(np.max(np.abs(ours.params.to_numpy()
                                                    / ref.coef().to_numpy() - 1)))
    out["max_rel_se_diff"] = float(np.max(np.abs(ours.std_errors.to_numpy()
                                                 / ref.se().to_numpy() - 1)))
    return out


def print_header() -> None:
    """Date, machine load and library versions, to paste next to the figures."""
    import importlib.metadata as md
    import platform

    versions = ", ".join(f"{m} {md.version(m)}" for m in ("numpy", "scipy", "pandas", "pyfixest"))
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python "
          f"{platform.python_version()}, {versions}; causalpolicing "
          f"{md.version('causalpolicing')}; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["small", "1M"], choices=["small", "1M"])
    parser.add_argument("--reps", type=int, default=None,
                        help="timed repetitions (default 21 small, 3 at 1M)")
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "WHICH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print_header()
    for size in args.sizes:
        reps = args.reps or (21 if size == "small" else 3)
        r = bench(size, reps)
        label = "26 x 33 (simulated_cantons)" if size == "small" else "10,000 x 100 (1M rows)"
        print(f"\n== {label}: {int(r['rows'])} rows, 2 fixed effects, exposure, CRV1 by unit, "
              f"{reps} timed reps ==")
        for name in FITS:
            print(f"{name:>15}: median {r[f'{name}_median_s']:.4f} s (first call "
                  f"{r[f'{name}_first_s']:.2f} s), tracemalloc peak "
                  f"{r[f'{name}_tracemalloc_peak_mb']:.1f} MB, peak RSS increase "
                  f"{r[f'{name}_rss_increase_mb']:.1f} MB")
        print(f"{'ratio':>15}: pyfixest / causalpolicing time = "
              f"{r['pyfixest_median_s'] / r['causalpolicing_median_s']:.2f}x; memory "
              f"(tracemalloc) ours / pyfixest = "
              f"{r['causalpolicing_tracemalloc_peak_mb'] / r['pyfixest_tracemalloc_peak_mb']:.2f}"
              f", (RSS) = "
              f"{r['causalpolicing_rss_increase_mb'] / max(r['pyfixest_rss_increase_mb'], 1e-9):.2f}")
        print(f"{'agreement':>15}: max rel. diff coef {r['max_rel_coef_diff']:.1e}, "
              f"SE {r['max_rel_se_diff']:.1e}")


if __name__ == "__main__":
    main()
