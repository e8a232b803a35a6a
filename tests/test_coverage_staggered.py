"""Slow Monte Carlo: staggered-DiD intervals at 50 clusters (``pytest -m slow``).

Runs ``benchmarks/mc_staggered.py`` (its docstring describes the design: 50 units
x 10 periods, four cohorts and 8 never-treated units, effects heterogeneous across
cohorts and growing with event time, static TWFE of the wrong sign) with
``R = 500`` replications (seeds 0..499, a subset of the ``R = 2000`` study in
``benchmarks/README.md``) and ``B = 999`` multiplier draws, on two worker
processes; about 1 minute on two cores.

Monte Carlo error: at ``R = 500`` a coverage near 0.95 has standard error
:math:`\\sqrt{0.95 \\cdot 0.05 / 500} = 0.0097`; the band asserted for a method
with nominal coverage is 0.95 +- 3 standard errors, [0.921, 0.979] (at
``R = 2000`` the same rule gives the issue's 0.93-0.97 band, +-0.0146). What is
asserted:

* **near nominal**: CS's dynamic ``ATT``, the imputation ``ATT`` (BJS), Sun-Abraham's
  and ETWFE's ``ATT`` and CS's pointwise event-time intervals (coverage averaged
  over the 15 event times) lie in [0.921, 0.979]. BJS sits low (0.931 at
  ``R = 2000``, 3.3 standard errors below 0.95; 0.932 on these seeds): its
  conservative variance uses residuals without leave-out, which shrink the
  treated residuals by the cell means of 8-14 units (BJS 2024 recommend the
  leave-out correction for such small cells);
* **CS's simple ATT overcovers** (0.9955 at ``R = 2000``; intervals twice BJS's
  length): its influence function includes the estimation of the cohort shares,
  a variance component absent when, as here, cohort sizes are fixed by design;
  asserted as coverage above 0.979;
* **CS's uniform band undercovers** (0.8635 at ``R = 2000``; a strict ``xfail`` of
  the nominal band): the bootstrap sup-t critical value (2.78 on average) matches
  the 95% quantile of the maximum of the event-time estimates standardised by
  their *true* standard deviations (2.77 over 300 replications), but the band
  studentises with standard errors estimated from the 16-24 units behind each
  event time, and the maximum over 15 such t statistics has a heavier tail
  (95% quantile 3.14). Few units per event time, not the critical value, is the
  cause; a small-sample correction is future work;
* **TWFE** covers the average effect on the treated in no replication (its sign
  is wrong).
"""

from __future__ import annotations

import math
import multiprocessing
from functools import cache

import pandas as pd
import pytest

from tests.test_staggered_mc_design import benchmark

pytestmark = pytest.mark.slow

R = 500
B = 999
# Worker processes find the benchmark module only when forked (it is loaded from a path).
WORKERS = 2 if multiprocessing.get_start_method() == "fork" else 1
NOMINAL = 0.95
Z = 3.0
HALF_WIDTH = Z * math.sqrt(NOMINAL * (1 - NOMINAL) / R)
BAND = (NOMINAL - HALF_WIDTH, NOMINAL + HALF_WIDTH)


@cache
def _coverage() -> pd.Series:
    draws = benchmark().simulate(R, B, workers=WORKERS)
    assert draws.groupby("method").size().eq(R).all()
    return draws.groupby("method")["covered"].mean()


@pytest.mark.parametrize(
    "method",
    ["CS-dynamic-ATT", "CS-pointwise", "BJS", "SA", "ETWFE",
     pytest.param("CS-band", marks=pytest.mark.xfail(
         strict=True, reason="uniform band covers 0.8635 (MC s.e. 0.0077, R = 2000): "
                             "studentised with SEs from 16-24 units per event time"))],
)
def test_coverage_near_nominal(method: str) -> None:
    cov = float(_coverage()[method])
    assert BAND[0] <= cov <= BAND[1], f"{method}: coverage {cov:.4f} outside {BAND}"


def test_cs_simple_is_conservative_with_fixed_cohort_sizes() -> None:
    cov = float(_coverage()["CS-simple"])
    assert cov > BAND[1], f"coverage {cov:.4f}"


def test_twfe_misses_the_att() -> None:
    assert float(_coverage()["TWFE"]) < 0.05
