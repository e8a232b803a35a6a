"""The design of ``benchmarks/mc_staggered.py`` (fast; the coverage itself is ``pytest -m slow``).

Checks that the simulated staggered panels are what the study claims: every
effect is positive while the static TWFE coefficient is negative, and each
estimator's truth (computed from its own weighting of the cell effects) is what
the estimator returns on a noise-free panel of the same design, exactly up to
rounding (tolerance 1e-8: the fits are deterministic, only floating-point
summation order differs).
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp

_MODULE = "causalpolicing_benchmarks_mc_staggered"
ROLES = {"cohort": "first", "never_treated": 0, "unit": "unit", "time": "year"}


def benchmark() -> ModuleType:
    """``benchmarks/mc_staggered.py`` as a module (registered so worker processes find it)."""
    if _MODULE in sys.modules:
        return sys.modules[_MODULE]
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "mc_staggered.py"
    spec = importlib.util.spec_from_file_location(_MODULE, path)
    if spec is None or spec.loader is None:  # pragma: no cover - broken checkout
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MODULE] = module
    spec.loader.exec_module(module)
    return module


@cache
def _noise_free() -> pd.DataFrame:
    """Panel of seed 0 with the AR(1) shocks removed: y = unit + period effects + tau."""
    mc = benchmark()
    df = mc.staggered_panel(0)
    rng = np.random.default_rng(0)  # the same draws as staggered_panel(0), in the same order
    a = rng.normal(size=mc.N_UNITS) + 0.5 * (mc.cohorts() == 3)
    lam = 0.1 * mc.PERIODS + rng.normal(size=mc.N_PERIODS)
    df["y"] = np.repeat(a, mc.N_PERIODS) + np.tile(lam, mc.N_UNITS) + df["tau"]
    return df


def test_effects_positive_but_twfe_has_the_wrong_sign() -> None:
    mc = benchmark()
    df = mc.staggered_panel(0)
    treated = df["d"] == 1
    assert (df.loc[treated, "tau"] > 0).all() and (df.loc[~treated, "tau"] == 0).all()
    t = mc.truths()
    assert t["TWFE"] < -0.2 < 2.5 < t["ATT_bjs"]
    # the noise-free TWFE fit reproduces the analytic TWFE estimand (tolerance 1e-8)
    fit = cp.feols("y ~ d | unit + year", _noise_free())
    assert float(fit.params["d"]) == pytest.approx(t["TWFE"], abs=1e-8)
    # and with noise the sign stays wrong: seeds 0-4 all negative
    for seed in range(5):
        assert float(cp.feols("y ~ d | unit + year", mc.staggered_panel(seed)).params["d"]) < 0


def test_truths_use_each_estimators_weights() -> None:
    mc = benchmark()
    t = mc.truths()
    cells = mc.cell_truths()
    post = cells[cells["event_time"] >= 0]
    # every treated observation once == cells weighted by cohort size (balanced panel)
    by_obs = float(np.average(post["tau"], weights=post["n"]))
    for key in ("ATT_cs_simple", "ATT_bjs", "ATT_sa", "ATT_etwfe"):
        assert t[key] == pytest.approx(by_obs, abs=1e-12), key
    # CS's dynamic ATT weights event times equally: a different, larger number here
    assert t["ATT_dyn"] == pytest.approx(float(t["theta"].loc[0:].mean()), abs=1e-12)
    assert t["ATT_dyn"] > by_obs + 1
    assert list(t["theta"].index) == list(range(-8, 8))
    assert (t["theta"].loc[:-1] == 0).all()
    # theta(7) is cohort 3 alone; theta(0) is the common impact effect
    assert t["theta"].loc[7] == pytest.approx(mc.EFFECT_LEVEL + 7 * mc.EFFECT_SLOPE[3])
    assert t["theta"].loc[0] == pytest.approx(mc.EFFECT_LEVEL)


def test_estimators_return_their_truth_without_noise() -> None:
    mc = benchmark()
    t = mc.truths()
    df = _noise_free()
    cs = cp.callaway_santanna(df, outcome="y", **ROLES, est_method="dr")
    assert float(cs.aggregate("simple").params["ATT"]) == pytest.approx(t["ATT_cs_simple"],
                                                                         abs=1e-8)
    assert float(cs.params["ATT"]) == pytest.approx(t["ATT_dyn"], abs=1e-8)
    et = cs.event_time.set_index("event_time")["estimate"]
    np.testing.assert_allclose(et.to_numpy(), t["theta"].reindex(et.index).to_numpy(),
                               atol=1e-8)
    bjs = cp.did_imputation(df, outcome="y", **ROLES)
    assert float(bjs.params["ATT"]) == pytest.approx(t["ATT_bjs"], abs=1e-8)
    sa = cp.sun_abraham(df, outcome="y", **ROLES)
    assert float(sa.params["ATT"]) == pytest.approx(t["ATT_sa"], abs=1e-8)
    ew = cp.etwfe(df, outcome="y", **ROLES)
    assert float(ew.params["ATT"]) == pytest.approx(t["ATT_etwfe"], abs=1e-8)


def test_one_replication_reports_every_method() -> None:
    mc = benchmark()
    rows = pd.DataFrame(mc.replication(3, 99, mc.truths()))
    assert list(rows["method"]) == list(mc.METHODS)
    assert rows["covered"].between(0, 1).all()
    twfe = rows.set_index("method").loc["TWFE"]
    assert twfe["estimate"] < 0 < twfe["truth"]
