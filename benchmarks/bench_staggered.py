"""Benchmark: Callaway-Sant'Anna and the imputation estimator against the Python peers.

Workloads (the issue's): Callaway-Sant'Anna, doubly robust, never-treated
controls, dynamic (event-time) aggregation, (a) with analytic standard errors
and (b) with 999 multiplier-bootstrap draws, against ``csdid``, ``moderndid``
and ``diff-diff``; and the imputation estimator (``cp.did_imputation``, event-time
effects) against ``pyfixest.did2s`` (the same point estimates on these data).
Two sizes: ``small`` = 500 units x 5 periods (2,500 rows, the shape of R
``did``'s ``mpdta``) and ``large`` = 50,000 units x 20 periods (1M rows) with
8 cohorts and never-treated units.

Every measurement runs in its own child process, so that one library's caches,
JIT compilation and memory do not touch another's. A child loads the data,
imports the library (for causalpolicing: loads the design's module, which
``import causalpolicing`` defers), then times the first call (``first``:
includes JIT compilation and lazy imports), then ``--reps`` further calls (``median``), and
reports the peak resident set size of the process (``ru_maxrss``) and its
increase over the state just before the first call (``peak_increase``). The
peers need packages that are not this project's dependencies: give a Python
that has them with ``--peers-python`` (e.g. a venv with ``pip install csdid
moderndid diff-diff pyfixest``); the project's own child runs with this Python.
A library that is missing or fails is reported as such, never skipped silently.

``fresh`` is the wall time of a whole fresh process that imports
causalpolicing and runs the small analytic fit (the issue's "first call in a
fresh process").

Run::

    python benchmarks/bench_staggered.py --peers-python /work/venv-peers/bin/python
    python benchmarks/bench_staggered.py --sizes small --reps 5 --peers-python ...

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
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SIZES = {"small": (500, 5, 3), "large": (50_000, 20, 8)}


def make_data(size: str, seed: int = 0) -> pd.DataFrame:
    """A balanced staggered panel: unit, t, g (first treated period, 0 = never), y."""
    n_units, n_periods, n_cohorts = SIZES[size]
    rng = np.random.default_rng(seed)
    # cohorts spread over periods 3..n_periods (every cohort has two untreated periods:
    # with one, pyfixest's did2s drops the unit's fixed effect as a singleton and fails);
    # ~30% never treated
    cohorts = np.linspace(3, n_periods, n_cohorts).round().astype(int)
    g = np.where(rng.random(n_units) < 0.3, 0, rng.choice(cohorts, n_units))
    unit = np.repeat(np.arange(1, n_units + 1), n_periods)
    t = np.tile(np.arange(1, n_periods + 1), n_units)
    gi = np.repeat(g, n_periods)
    alpha = np.repeat(rng.normal(size=n_units), n_periods)
    treated = (gi > 0) & (t >= gi)
    effect = np.where(treated, 0.5 + 0.1 * (t - gi) + 0.05 * (gi % 3), 0.0)
    y = alpha + 0.1 * t + effect + rng.normal(size=len(t))
    return pd.DataFrame({"unit": unit, "t": t, "g": gi, "y": y,
                         "treat": treated.astype(int),
                         "rel": np.where(gi > 0, t - gi, np.inf)})


# ------------------------------------------------------------------ child runners
def _ours_cs(df: pd.DataFrame, boot: int):
    import causalpolicing as cp

    fit = cp.callaway_santanna  # the module loads here, as the peers' imports do
    return lambda: fit(df, outcome="y", cohort="g", never_treated=0, unit="unit", time="t",
                       est_method="dr", control_group="never_treated", aggregate="dynamic",
                       bootstrap=boot, seed=1)


def _ours_imputation(df: pd.DataFrame, boot: int):
    import causalpolicing as cp

    fit = cp.did_imputation  # the module loads here, as the peers' imports do
    return lambda: fit(df, outcome="y", cohort="g", never_treated=0, unit="unit", time="t")


def _csdid(df: pd.DataFrame, boot: int):
    from csdid.att_gt import ATTgt

    def run():
        m = ATTgt(yname="y", tname="t", idname="unit", gname="g", data=df,
                  control_group=["nevertreated"], biters=max(boot, 1))
        m.fit(est_method="dr", bstrap=boot > 0)
        return m.aggte(typec="dynamic", bstrap=boot > 0)
    return run


def _moderndid(df: pd.DataFrame, boot: int):
    import moderndid as md

    def run():
        res = md.att_gt(df, yname="y", tname="t", idname="unit", gname="g", est_method="dr",
                        control_group="nevertreated", boot=boot > 0, biters=max(boot, 1),
                        cband=boot > 0, random_state=1)
        return md.aggte(res, type="dynamic", boot=boot > 0, biters=max(boot, 1),
                        cband=boot > 0, random_state=1)
    return run


def _diff_diff(df: pd.DataFrame, boot: int):
    from diff_diff import CallawaySantAnna

    def run():
        est = CallawaySantAnna(control_group="never_treated", estimation_method="dr",
                               n_bootstrap=boot, seed=1, cband=boot > 0)
        return est.fit(df, outcome="y", unit="unit", time="t", first_treat="g",
                       aggregate="event_study")
    return run


def _pyfixest_did2s(df: pd.DataFrame, boot: int):
    import pyfixest as pf

    def run():
        return pf.did2s(df, yname="y", first_stage="~ 0 | unit + t",
                        second_stage="~ i(rel, ref=-1.0)", treatment="treat", cluster="unit")
    return run


RUNNERS = {
    ("causalpolicing", "cs"): _ours_cs,
    ("csdid", "cs"): _csdid,
    ("moderndid", "cs"): _moderndid,
    ("diff-diff", "cs"): _diff_diff,
    ("causalpolicing", "imputation"): _ours_imputation,
    ("pyfixest", "imputation"): _pyfixest_did2s,
}


def _child(lib: str, task: str, path: str, boot: int, reps: int) -> None:
    df = pd.read_csv(path)
    make = RUNNERS[(lib, task)]
    run = make(df, boot)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"first": first, "median": statistics.median(times) if times else first,
                      "peak_mb": peak / 1024, "peak_increase_mb": (peak - base) / 1024}))


def _measure(python: str, lib: str, task: str, path: str, boot: int, reps: int,
             timeout: float) -> dict | str:
    cmd = [python, str(Path(__file__).resolve()), "--child", lib, task, path, str(boot),
           str(reps)]
    env = dict(os.environ)
    if lib == "causalpolicing":
        env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed: {last[:120]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh(path: str) -> str:
    code = (f"import pandas as pd, causalpolicing as cp; df = pd.read_csv({path!r}); "
            "cp.callaway_santanna(df, outcome='y', cohort='g', never_treated=0, unit='unit', "
            "time='t', est_method='dr', aggregate='dynamic')")
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:120]
    return f"{time.perf_counter() - t0:.2f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["small", "large"], choices=list(SIZES))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--peers-python", default=None,
                    help="a Python with csdid, moderndid, diff-diff and pyfixest")
    ap.add_argument("--skip", nargs="*", default=[], help="libraries to leave out (e.g. csdid)")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--child", nargs=5, metavar=("LIB", "TASK", "PATH", "BOOT", "REPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        lib, task, path, boot, reps = args.child
        _child(lib, task, path, int(boot), int(reps))
        return
    workloads = [("cs", 0, "CS dr, never-treated, dynamic, analytic SEs"),
                 ("cs", 999, "CS dr, never-treated, dynamic, 999 bootstrap draws"),
                 ("imputation", 0, "imputation / did2s, event-time effects")]
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            df = make_data(size)
            path = os.path.join(tmp, f"{size}.csv")
            df.to_csv(path, index=False)
            print(f"\n## {size}: {len(df):,} rows ({df['unit'].nunique():,} units x "
                  f"{df['t'].nunique()} periods, {df.loc[df['g'] > 0, 'g'].nunique()} cohorts)")
            if size == "small":
                print(f"fresh process, import + first CS fit: {_fresh(path)}")
            for task, boot, label in workloads:
                print(f"\n### {label}")
                print("| library | first call (s) | median (s) | ratio to causalpolicing | "
                      "peak RSS (MB) | peak increase (MB) |")
                print("|---|---|---|---|---|---|")
                ours = None
                for (lib, t), _ in RUNNERS.items():
                    if t != task or lib in args.skip:
                        continue
                    python = sys.executable if lib == "causalpolicing" else args.peers_python
                    if python is None:
                        print(f"| {lib} | not run: give --peers-python | | | | |")
                        continue
                    reps = args.reps if size == "small" or lib == "causalpolicing" else 1
                    m = _measure(python, lib, task, path, boot, reps, args.timeout)
                    if isinstance(m, str):
                        print(f"| {lib} | {m} | | | | |")
                        continue
                    if lib == "causalpolicing":
                        ours = m["median"]
                    ratio = f"{m['median'] / ours:.1f}x" if ours else "–"
                    print(f"| {lib} | {m['first']:.3f} | {m['median']:.3f} | {ratio} | "
                          f"{m['peak_mb']:.0f} | {m['peak_increase_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
