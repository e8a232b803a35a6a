"""did2s (Gardner's two-stage DiD): R did2s's published output, pyfixest's did2s live,
recovery, refusals."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError

GOLDEN = Path(__file__).parent / "golden" / "staggered"


def staggered(seed: int = 0, n_units: int = 150, periods: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n_units) < 0.3, 0, rng.choice([3, 5, 6], n_units))
    df = pd.DataFrame({"unit": np.repeat(np.arange(1, n_units + 1), periods),
                       "t": np.tile(np.arange(1, periods + 1), n_units),
                       "g": np.repeat(g, periods)})
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    df["tau"] = np.where(on, 0.5 + 0.3 * (df["t"] - df["g"]) + 0.1 * (df["g"] == 3), 0.0)
    df["x"] = rng.normal(size=len(df))
    df["w"] = np.repeat(rng.uniform(0.5, 2.0, n_units), periods)
    df["state"] = (df["unit"] - 1) // 5
    df["y"] = (np.repeat(rng.normal(size=n_units), periods) + 0.2 * df["t"] + 0.5 * df["x"]
               + df["tau"] + rng.normal(size=len(df)))
    df["treat"] = on
    df["rel"] = np.where(df["g"] > 0, df["t"] - df["g"], np.inf)
    return df


def ours(df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.did2s(df, outcome="y", cohort="g", never_treated=0, unit="unit", time="t",
                        **kw)


def test_r_readme_static() -> None:
    """R did2s README (github.com/kylebutts/did2s, commit 8228c15): did2s(df_het, yname =
    "dep_var", first_stage = ~ 0 | state + year, second_stage = ~ i(treat, ref = FALSE),
    treatment = "treat", cluster_var = "state") prints 2.152 (0.0476), on did2s's own df_het
    (vendored by golden/staggered/make_imputation_data.py). Tolerance: the printed digits."""
    df = pd.read_csv(GOLDEN / "did2s_df_het.csv.gz")
    res = cp.did2s(df, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                   time="year", fe=["state", "year"], cluster="state", event_time=False)
    assert round(float(res.params["ATT"]), 3) == 2.152
    assert round(float(res.std_errors["ATT"]), 4) == 0.0476


PF_CASES = {
    "event": ({}, {"first_stage": "~ 0 | unit + t", "second_stage": "~ i(rel, ref=-1.0)"}),
    "static": ({"event_time": False},
               {"first_stage": "~ 0 | unit + t", "second_stage": "~ i(treat)"}),
    "covariate": ({"covariates": ["x"]},
                  {"first_stage": "~ x | unit + t", "second_stage": "~ i(rel, ref=-1.0)"}),
    "weights": ({"weights": "w"}, {"first_stage": "~ 0 | unit + t",
                                   "second_stage": "~ i(rel, ref=-1.0)", "weights": "w"}),
    "cluster": ({"cluster": "state"}, {"first_stage": "~ 0 | unit + t",
                                       "second_stage": "~ i(rel, ref=-1.0)",
                                       "cluster": "state"}),
}


@pytest.mark.parametrize("case", list(PF_CASES), ids=list(PF_CASES))
def test_pyfixest_did2s_live(case: str) -> None:
    """pyfixest 0.60 did2s on the same data. Tolerances: estimates 2e-5 absolute (pyfixest's
    first stage stops its fixed-effect iterations earlier: its residuals of never-treated
    rows average ~3e-6, not 0), GMM standard errors 1e-4 relative."""
    pf = pytest.importorskip("pyfixest")
    kw, pkw = PF_CASES[case]
    df = staggered(1)
    horizons = None if kw.get("event_time") is False else [-4, -3, -2, 0, 1, 2, 3, 4, 5]
    res = ours(df, horizons=horizons, **kw)
    pkw = {"cluster": "unit", **pkw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = pf.did2s(df.copy(), yname="y", treatment="treat", **pkw)
    coef, se = theirs.coef(), theirs.se()
    if horizons is None:
        pairs = [("ATT", coef.index[0])]
    else:
        pairs = [(cp.designs._timing.event_term(h), f"rel::{float(h)}") for h in horizons]
    for term, name in pairs:
        assert res.params[term] == pytest.approx(coef[name], abs=2e-5), term
        assert res.std_errors[term] == pytest.approx(se[name], rel=1e-4), term


def test_recovery_and_event_time_contract() -> None:
    df = staggered(2, n_units=400)
    res = ours(df, horizons=[-2, 0, 1, 2])
    et = res.event_time
    assert et["term"].tolist() == ["event_lead2", "event_lag0", "event_lag1", "event_lag2"]
    assert not et["reference"].any()
    truth = df.loc[df["treat"]].groupby(df["t"] - df["g"])["tau"].mean()
    for h in (0, 1, 2):
        assert abs(res.params[f"event_lag{h}"] - truth[h]) < 4 * res.std_errors[
            f"event_lag{h}"]
    assert abs(res.params["event_lead2"]) < 4 * res.std_errors["event_lead2"]
    assert ours(df, event_time=False).event_time is None


@pytest.mark.parametrize("kw, match", [
    ({"event_time": False, "horizons": [0]}, "horizons= needs event_time=True"),
    ({"horizons": [40]}, r"horizons \[40\]"),
    ({"event_time": "yes"}, "event_time must be True or False"),
    ({"cluster": "nope"}, "cluster='nope' is not a column"),
], ids=["static-horizons", "horizon", "event_time", "cluster"])
def test_refusals(kw: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        ours(staggered(3), **kw)


def test_refuses_unimputable_rows() -> None:
    df = staggered(4)
    df.loc[df["unit"] == 2, "g"] = 1
    with pytest.raises(SpecError, match=r"fixed effect 'unit' level\(s\) \[2\]"):
        ours(df)


def test_registry_entry() -> None:
    res = cp.estimators.registry.fit("did2s", staggered(5), outcome="y", cohort="g",
                                     never_treated=0, unit="unit", time="t", event_time=False)
    assert isinstance(res, cp.TwoStageResults) and list(res.params.index) == ["ATT"]
