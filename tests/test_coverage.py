"""Slow Monte Carlo: coverage of 95% intervals with 26 clusters (``pytest -m slow``).

Runs ``benchmarks/mc_coverage.py`` (its docstring describes the designs) with the
study's own settings, ``R = 2000`` replications per design (seeds 0..1999) and
``B = 399`` bootstrap draws, on two worker processes, so the numbers asserted
here are the ones in the table of ``benchmarks/README.md``. Only the
Rademacher score bootstrap runs in the Poisson design (the study also runs
Webb weights). Runtime: 240-350 s on two cores (load average 2.5-3.7).

Monte Carlo error: a coverage ``c`` estimated from ``R = 2000`` replications
has standard error :math:`\\sqrt{c(1-c)/R}`, 0.0049 at ``c = 0.95`` and 0.0062 at
``c = 0.92``. The assertions and their bands:

* **the issue's band**: the bootstrap interval's coverage lies in [0.93, 0.97]
  (restricted wild cluster bootstrap, Webb weights, in the linear designs;
  restricted wild score bootstrap, Rademacher weights, in the Poisson design).
  The band is 0.95 +- 4.1 standard errors, so a bootstrap with true coverage
  0.95 essentially never fails it; but the measured coverages in the
  few-large-clusters (0.9385) and Poisson (0.938) designs are only about 1.5
  standard errors above 0.93, so a change that only re-orders random draws can
  move them across the edge: read such a failure together with the Monte
  Carlo error. In the extreme heterogeneous design the bootstrap does not
  reach the band (0.928, standard error 0.0058): that case is a strict
  ``xfail`` (it fails loudly if it starts passing);
* **CRV1 undercovers** in the designs built for it (heterogeneous scales, a few
  influential clusters, the Poisson canton panel): coverage plus three
  standard errors is still below 0.95;
* **CRV3 and the bootstrap cover more often than CRV1** there, by more than
  three standard errors of the paired difference (the methods share the
  panels; measured z between 5.3 and 16.3), and end closer to 0.95;
* **the balanced control design** has all three methods in [0.93, 0.97];
* **the intervals invert the tests**: in every replication an interval covers
  the truth exactly when the method's own p-value at the truth is at least 0.05.
"""

from __future__ import annotations

import importlib.util
import math
import multiprocessing
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

R = 2000
B = 399
# Worker processes find the benchmark module only when forked (it is loaded from a path,
# not importable by name); with another start method the study runs in one process.
WORKERS = 2 if multiprocessing.get_start_method() == "fork" else 1
NOMINAL = 0.95
ISSUE_BAND = (0.93, 0.97)
Z = 3.0
BOOTSTRAP = {
    "twfe_balanced": "WCR-webb",
    "twfe_heterogeneous": "WCR-webb",
    "twfe_few_large": "WCR-webb",
    "poisson_cantons": "score-rademacher",
}
UNDERCOVER_DESIGNS = ("twfe_heterogeneous", "twfe_few_large", "poisson_cantons")
_MODULE = "causalpolicing_benchmarks_coverage"


def _benchmark() -> ModuleType:
    """``benchmarks/mc_coverage.py`` as a module (registered so worker processes find it)."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "mc_coverage.py"
    spec = importlib.util.spec_from_file_location(_MODULE, path)
    if spec is None or spec.loader is None:  # pragma: no cover - broken checkout
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    spec.loader.exec_module(module)
    return module


@cache
def _draws(design: str) -> pd.DataFrame:
    return _benchmark().simulate(design, R, B, workers=WORKERS, score_weights=("rademacher",))


def _covered(design: str) -> pd.DataFrame:
    """Seeds x methods table of 0/1 coverage indicators."""
    rows = _draws(design)
    return rows.pivot(index="seed", columns="method", values="covered").astype(float)


def _coverage(design: str, method: str) -> float:
    return float(_covered(design)[method].mean())


def _mc_se(c: float) -> float:
    return math.sqrt(c * (1 - c) / R)


@pytest.mark.parametrize(
    "design",
    [
        "twfe_balanced",
        "twfe_few_large",
        "poisson_cantons",
        pytest.param("twfe_heterogeneous", marks=pytest.mark.xfail(
            strict=True, reason="WCR covers 0.928 (MC s.e. 0.006) when the cluster scales span "
                                "a factor 27: a real shortfall at 26 clusters")),
    ],
)
def test_bootstrap_coverage_in_issue_band(design: str) -> None:
    cov = _coverage(design, BOOTSTRAP[design])
    assert ISSUE_BAND[0] <= cov <= ISSUE_BAND[1], f"{design}: coverage {cov:.4f}"


@pytest.mark.parametrize("design", UNDERCOVER_DESIGNS)
def test_crv1_undercovers(design: str) -> None:
    cov = _coverage(design, "CRV1")
    assert cov + Z * _mc_se(cov) < NOMINAL, f"{design}: CRV1 coverage {cov:.4f}"


_PAIRS = [(d, m) for d in UNDERCOVER_DESIGNS for m in ("CRV3", BOOTSTRAP[d])]


@pytest.mark.parametrize(("design", "method"), _PAIRS, ids=[f"{d}-{m}" for d, m in _PAIRS])
def test_covers_more_often_than_crv1(design: str, method: str) -> None:
    table = _covered(design)
    diff = table[method] - table["CRV1"]
    se = float(diff.std(ddof=1)) / math.sqrt(R)
    assert float(diff.mean()) > Z * se, f"difference {diff.mean():.4f}, s.e. {se:.4f}"


@pytest.mark.parametrize(("design", "method"), _PAIRS, ids=[f"{d}-{m}" for d, m in _PAIRS])
def test_closer_to_nominal_than_crv1(design: str, method: str) -> None:
    gap = abs(_coverage(design, method) - NOMINAL)
    assert gap < abs(_coverage(design, "CRV1") - NOMINAL)


@pytest.mark.parametrize("method", ["CRV1", "CRV3", "WCR-webb"])
def test_balanced_design_near_nominal(method: str) -> None:
    cov = _coverage("twfe_balanced", method)
    assert ISSUE_BAND[0] <= cov <= ISSUE_BAND[1], f"{method}: coverage {cov:.4f}"


_ALL = [(d, m) for d in BOOTSTRAP for m in ("CRV1", "CRV3", BOOTSTRAP[d])]


@pytest.mark.parametrize(("design", "method"), _ALL, ids=[f"{d}-{m}" for d, m in _ALL])
def test_interval_inverts_test(design: str, method: str) -> None:
    rows = _draws(design)
    rows = rows[rows["method"] == method]
    assert rows["seed"].tolist() == list(range(R))
    mismatched = rows.loc[rows["covered"] == rows["reject"], "seed"].tolist()
    assert mismatched == []
