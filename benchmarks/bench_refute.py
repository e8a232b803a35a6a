"""Panel refuters against DoWhy's refuters on the same linear fixed-effects estimate.

The estimate: ``deaths ~ offences_per_1000 + unemployment | canton + year`` on
``simulated_cantons`` (26 x 33), fit by ``cp.feols``. DoWhy gets the same model
as a ``CausalModel`` whose common causes are ``unemployment`` and one dummy per
canton and year level (but the first), estimated by
``backdoor.linear_regression`` (the same number as ``cp.feols``, checked below).
Identification uses ``method_name="maximal-adjustment"``: DoWhy's default
search over adjustment sets with 59 dummy common causes took 98 s on its own.
Model construction, identification and the first estimate are excluded from
DoWhy's timings; only ``refute_estimate`` is timed.

Pairs timed (median wall time of ``--repeat`` runs after a warm-up; DoWhy
``--dowhy-repeat`` runs, reported per draw because DoWhy is too slow to run
1,000 draws repeatedly):

* ours ``placebo_permutation`` (permutation within year, ``--reps`` draws, one
  within transformation) vs DoWhy ``placebo_treatment_refuter``
  (``placebo_type="permute"``, ``--dowhy-sims`` simulations);
* ours ``random_common_cause`` vs DoWhy ``random_common_cause``;
* ours ``random_unit_subsets`` (refits on 80% of the cantons, ``--subset-reps``)
  vs DoWhy ``data_subset_refuter`` (80% of the rows).

Run from the repository root::

    python benchmarks/bench_refute.py                 # defaults
    python benchmarks/bench_refute.py --dowhy-sims 50 --repeat 7
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import time
import warnings

import numpy as np

import causalpolicing as cp
from causalpolicing.graph.refuters import (
    placebo_permutation,
    random_common_cause,
    random_unit_subsets,
    refute,
)
from causalpolicing.graph.refuters._model import PanelModel
from causalpolicing.graph.refuters.dowhy_compare import dowhy_frame

FORMULA = "deaths ~ offences_per_1000 + unemployment | canton + year"


def _median_time(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=1000, help="our draws per refuter")
    ap.add_argument("--subset-reps", type=int, default=200, help="our random-subset refits")
    ap.add_argument("--dowhy-sims", type=int, default=100, help="DoWhy num_simulations")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of ours")
    ap.add_argument("--dowhy-repeat", type=int, default=1, help="timed runs of DoWhy's")
    args = ap.parse_args()

    warnings.simplefilter("ignore")
    logging.getLogger("dowhy").setLevel(logging.WARNING)
    panel = cp.datasets.load("simulated_cantons")
    res = cp.feols(FORMULA, panel)
    beta = float(res.params["offences_per_1000"])

    from dowhy import CausalModel

    frame, t, y, causes = dowhy_frame(PanelModel(res, panel))
    cm = CausalModel(data=frame, treatment=t, outcome=y, common_causes=causes)
    estimand = cm.identify_effect(proceed_when_unidentifiable=True,
                                  method_name="maximal-adjustment")
    est = cm.estimate_effect(estimand, method_name="backdoor.linear_regression",
                             test_significance=False)
    print(f"estimate: causalpolicing {beta:.12f}, DoWhy {est.value:.12f} "
          f"(difference {abs(beta - est.value):.1e})")

    def dowhy(method: str, **kw):
        return lambda: cm.refute_estimate(estimand, est, method_name=method,
                                          num_simulations=args.dowhy_sims, random_seed=0, **kw)

    pairs = [
        ("placebo treatment", args.reps,
         lambda: placebo_permutation(res, panel, reps=args.reps, seed=0, progress=False),
         dowhy("placebo_treatment_refuter", placebo_type="permute")),
        ("random common cause", args.reps,
         lambda: random_common_cause(res, panel, reps=args.reps, seed=0, progress=False),
         dowhy("random_common_cause")),
        ("random subsets", args.subset_reps,
         lambda: random_unit_subsets(res, panel, reps=args.subset_reps, seed=0,
                                     progress=False),
         dowhy("data_subset_refuter", subset_fraction=0.8)),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, numpy {np.__version__}; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'refuter':<22}{'ours (draws)':>16}{'ours/draw':>12}{'DoWhy (sims)':>16}"
          f"{'DoWhy/draw':>12}{'ratio/draw':>12}")
    for name, n_ours, ours, theirs in pairs:
        t_ours = _median_time(ours, args.repeat)
        t_dw = _median_time(theirs, args.dowhy_repeat)
        per_ours, per_dw = t_ours / n_ours, t_dw / args.dowhy_sims
        print(f"{name:<22}{t_ours:>10.4f} s ({n_ours}){per_ours * 1e3:>9.4f} ms"
              f"{t_dw:>10.2f} s ({args.dowhy_sims}){per_dw * 1e3:>9.2f} ms"
              f"{per_dw / per_ours:>11.0f}x")
    t_suite = _median_time(lambda: refute(res, panel, reps=args.reps, seed=0, progress=False),
                           args.repeat)
    print(f"our whole default suite (7 refuters, {args.reps} draws, "
          f"{min(args.reps, 200)} subset refits, 26 leave-one-out refits, 2 lead refits): "
          f"{t_suite:.3f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
