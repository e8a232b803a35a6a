"""Sun-Abraham interaction-weighted event study (causalpolicing.designs.interaction_weighted).

References: R fixest 0.12.2 (``sunab``) as printed in its documentation on
``base_stagg`` (vendored in tests/golden/staggered/base_stagg.csv by
make_base_stagg.py), and pyfixest 0.60 live (``event_study(estimator="saturated")``).
"""

from __future__ import annotations

import re
import warnings
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.designs.event_studies import EVENT_TIME_COLUMNS
from causalpolicing.designs.interaction_weighted import (
    ALWAYS_REASON,
    LAST_TREATED_REASON,
    OUTSIDE_REASON,
)
from causalpolicing.exceptions import DataWarning, SpecError

GOLDEN = Path(__file__).parent / "golden" / "staggered"


@pytest.fixture(scope="module")
def base_stagg() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "base_stagg.csv")


@pytest.fixture(scope="module")
def sa_stagg(base_stagg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.sun_abraham(base_stagg, outcome="y", cohort="year_treated",
                              never_treated=10000, unit="id", time="year", covariates=["x1"])


def _df_het() -> pd.DataFrame:
    pytest.importorskip("pyfixest")
    return pd.read_csv(resources.files("pyfixest.did.data").joinpath("df_het.csv"))


# fixest's documentation, docs/reference/sunab.html and docs/articles/fixest_walkthrough.html
# (fixest 0.12.2): etable(res_sunab) for feols(y ~ x1 + sunab(year_treated, year) | id + year,
# base_stagg), clustered by id. Tolerance: half a unit of the last printed digit.
FIXEST_PERIODS = {  # event time: (estimate, std. error)
    -9: (0.3518, 0.3591), -8: (-0.0790, 0.2975), -7: (0.1010, 0.3670), -6: (-0.0564, 0.3089),
    -5: (-0.2953, 0.2940), -4: (-0.3037, 0.2491), -3: (-0.0884, 0.2558), -2: (0.0847, 0.2443),
    0: (-5.188, 0.2211), 1: (-3.540, 0.2128), 2: (-2.155, 0.2258), 3: (-0.7750, 0.2771),
    4: (1.069, 0.3104), 5: (2.118, 0.4481), 6: (4.631, 0.4604), 7: (4.890, 0.3394),
    8: (6.244, 0.2976),
}
# etable(res_sa20, agg = FALSE) in the walkthrough: cohort x event-time coefficients.
FIXEST_CELLS = {  # (cohort, event time): (estimate, std. error)
    (10, -9): (0.3518, 0.3591), (9, -8): (0.0339, 0.4714), (10, -8): (-0.1919, 0.3529),
    (8, -7): (-0.5894, 0.7369), (9, -7): (0.8730, 0.4934), (10, -7): (0.0195, 0.6034),
    (7, -6): (-0.0421, 0.8657), (8, -6): (-0.6576, 0.5733), (9, -6): (0.8777, 0.5333),
    (10, -6): (-0.4036, 0.3474), (6, -5): (-0.6580, 0.9134), (5, -4): (-0.9835, 0.6345),
    (6, -4): (0.3604, 0.8583),
}


def _half_unit(value: float) -> float:
    """Half a unit of the last printed digit: etable prints 4 significant digits, and 4
    decimals for numbers below 1 (``-0.0790``, ``0.0847``)."""
    digits = 4 if abs(value) < 1 else 4 - 1 - int(np.floor(np.log10(abs(value))))
    return 0.5 * 10.0 ** -digits + 1e-12


def test_att_matches_fixest_vignette(sa_stagg):
    # summary(res_sa20, agg = "att"): ATT -1.133749 (0.205070), x1 0.994678 (0.018378);
    # aggregate.fixest's page prints the ATT's SE as 0.2050705. Printed to 6-7 digits.
    assert sa_stagg.params["ATT"] == pytest.approx(-1.133749, abs=5e-7)
    assert sa_stagg.std_errors["ATT"] == pytest.approx(0.2050705, abs=5e-8)
    assert sa_stagg.params["x1"] == pytest.approx(0.994678, abs=5e-7)
    assert sa_stagg.std_errors["x1"] == pytest.approx(0.018378, abs=5e-7)
    assert sa_stagg.pvalues["ATT"] == pytest.approx(2.882038e-07, rel=1e-6)


@pytest.mark.parametrize("e", sorted(FIXEST_PERIODS), ids=lambda e: f"e{e}")
def test_event_time_effects_match_fixest(sa_stagg, e):
    est, se = FIXEST_PERIODS[e]
    row = sa_stagg.event_time.set_index("event_time").loc[e]
    assert row["estimate"] == pytest.approx(est, abs=_half_unit(est))
    assert row["std_error"] == pytest.approx(se, abs=_half_unit(se))


def test_cohort_effects_match_fixest(sa_stagg):
    cells = sa_stagg.cohort_effects.set_index(["cohort", "event_time"])
    for key, (est, se) in FIXEST_CELLS.items():
        assert cells.loc[key, "estimate"] == pytest.approx(est, abs=_half_unit(est)), key
        assert cells.loc[key, "std_error"] == pytest.approx(se, abs=_half_unit(se)), key


def test_reference_is_minus_one_only_as_fixest(sa_stagg):
    # fixest's default ref.p = -1: the most distant lead (-9) is estimated, not a reference
    et = sa_stagg.event_time
    assert list(et.columns) == list(EVENT_TIME_COLUMNS)
    assert et.loc[et["reference"], "event_time"].tolist() == [-1]
    assert sa_stagg.window == (-9, 8)
    assert et.loc[et["event_time"] == -1, "estimate"].item() == 0.0


def test_weights_are_cohort_shares(sa_stagg):
    cells = sa_stagg.cohort_effects
    for _, g in cells.groupby("event_time"):
        assert g["weight"].sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(g["weight"], g["n_obs"] / g["n_obs"].sum(), rtol=1e-12)
    post = cells[cells["event_time"] >= 0]
    assert post["att_weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (cells.loc[cells["event_time"] < 0, "att_weight"] == 0).all()
    # the aggregates are these weighted sums of the cohort coefficients
    for e, g in cells.groupby("event_time"):
        if e == -1:
            continue
        b = float((g["weight"] * g["estimate"]).sum())
        assert sa_stagg.params[cp.designs._timing.event_term(int(e))] == pytest.approx(b, rel=1e-12)


@pytest.mark.skipif(
    np.lib.NumpyVersion(np.__version__) < "2.1.0",
    reason="the reference fails, not us: pyfixest 0.60's saturated event study builds its "
           "interactions with numpy.reshape(shape=...), which needs numpy >= 2.1 (lowest-deps "
           "numpy 1.26); fixest's printed numbers are checked above on every numpy")
def test_matches_pyfixest_saturated_live():
    pf = pytest.importorskip("pyfixest")
    df = _df_het()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.event_study(df, yname="dep_var", idname="unit", tname="year", gname="g",
                             estimator="saturated")
        agg = fit.aggregate()
        res = cp.sun_abraham(df, outcome="dep_var", cohort="g", never_treated=0,
                             unit="unit", time="year")
    et = res.event_time.set_index("event_time")
    agg.index = agg.index.astype(float).astype(int)
    assert len(agg) == 40
    # point estimates 1e-6, standard errors 1e-4 relative (issue #12)
    np.testing.assert_allclose(et.loc[agg.index, "estimate"], agg["Estimate"].astype(float),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(et.loc[agg.index, "std_error"],
                               agg["Std. Error"].astype(float), rtol=1e-4)
    # the cohort-specific coefficients of the saturated model
    cells = res.cohort_effects.set_index(["cohort", "event_time"])
    coef, se = fit.coef(), fit.se()
    for name in coef.index:
        m = re.match(r"rel_time::(-?[\d.]+):first_treated_period::(\d+)$", name)
        key = (int(m.group(2)), int(float(m.group(1))))
        assert cells.loc[key, "estimate"] == pytest.approx(coef[name], rel=1e-6, abs=1e-9)
        assert cells.loc[key, "std_error"] == pytest.approx(se[name], rel=1e-4)


def _hetero_panel(seed: int = 3, n: int = 600, noise: float = 0.05) -> tuple[pd.DataFrame, dict]:
    """Staggered panel 2000-2012, cohorts 2004/2007/2010 + never, tau_{g,e} = a_g (e + 1)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2013)
    first = rng.choice([0, 2004, 2007, 2010], size=n, p=[0.3, 0.3, 0.2, 0.2])
    slope = {2004: 0.5, 2007: 1.5, 2010: 3.0}
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), len(years)),
                       "year": np.tile(years, n), "first": np.repeat(first, len(years))})
    ev = (df["year"] - df["first"]).to_numpy()
    a = df["first"].map(slope).fillna(0.0).to_numpy()
    tau = np.where((df["first"] > 0) & (ev >= 0), a * (ev + 1), 0.0)
    df["y"] = (np.repeat(rng.normal(size=n), len(years)) + 0.3 * (df["year"] - 2000)
               + tau + rng.normal(scale=noise, size=len(df)))
    treated = (df["first"] > 0) & (ev >= 0)
    truth = pd.Series(tau[treated]).groupby(ev[treated]).mean().to_dict()
    return df, truth


def test_recovers_heterogeneous_dynamic_effects_where_twfe_does_not():
    df, truth = _hetero_panel()
    res = cp.sun_abraham(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                         time="year")
    twfe = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                          time="year", leads=10, lags=8)
    sa = res.event_time.set_index("event_time")["estimate"]
    tw = twfe.event_time.set_index("event_time")["estimate"]
    errors_sa = [abs(sa[e] - truth[e]) for e in range(0, 9)]
    errors_tw = [abs(tw[e] - truth[e]) for e in range(0, 8)]  # 8 is TWFE's binned endpoint
    assert max(errors_sa) < 0.03  # noise sd 0.05, ~100+ units per cell
    assert max(errors_tw) > 0.3  # contaminated by the other cohorts' effects
    assert max(abs(sa[e]) for e in range(-10, -1)) < 0.03  # no pre-trend in the truth
    treated = (df["first"] > 0) & (df["year"] >= df["first"])
    ev = (df["year"] - df["first"])[treated]
    a = df.loc[treated, "first"].map({2004: 0.5, 2007: 1.5, 2010: 3.0})
    assert res.params["ATT"] == pytest.approx(float((a * (ev + 1)).mean()), abs=0.03)


def test_pretrend_test_covers_the_leads(sa_stagg):
    wt = sa_stagg.pretrend_test
    assert wt.terms == sa_stagg.lead_terms
    assert wt.df_num == 8
    assert 0 < wt.p_value <= 1


def _poisson_panel(seed: int = 5, rr: float = 0.8, n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2005, 2015)
    first = rng.choice([0, 2009, 2011], size=n)
    df = pd.DataFrame({"canton": np.repeat(np.arange(n), len(years)),
                       "year": np.tile(years, n), "first": np.repeat(first, len(years))})
    # populations grow faster in treated cantons: ignoring the exposure biases the effect
    growth = np.repeat(np.where(first > 0, 0.06, 0.0), len(years))
    df["pop"] = (np.repeat(rng.integers(20_000, 200_000, size=n), len(years))
                 * np.exp(growth * (df["year"] - 2005).to_numpy())).round()
    base = np.exp(np.repeat(rng.normal(scale=0.3, size=n), len(years))
                  + 0.05 * (df["year"] - 2005).to_numpy()) * 2e-4
    post = ((df["first"] > 0) & (df["year"] >= df["first"])).to_numpy()
    df["mu0"] = df["pop"] * base
    df["deaths"] = rng.poisson(df["mu0"] * np.where(post, rr, 1.0))
    df["post"] = post
    return df


def test_poisson_with_exposure_recovers_rate_ratio_and_deaths_averted():
    df = _poisson_panel()
    res = cp.sun_abraham(df, outcome="deaths", cohort="first", never_treated=0,
                         unit="canton", time="year", estimator="fepois", exposure="pop")
    rr = cp.rate_ratios(res).set_index("term")
    # one seeded draw: recovery within 3 standard errors (coverage is a Monte Carlo matter)
    se = res.std_errors["ATT"]
    assert abs(res.params["ATT"] - np.log(0.8)) < 3 * se
    assert se < 0.015  # about 0.011 here
    assert rr.loc["ATT", "rate_ratio"] == pytest.approx(np.exp(res.params["ATT"]))
    added = res.deaths_added().set_index("term")
    post = df[df["post"]]
    true_added = float((post["mu0"] * (0.8 - 1)).sum())  # negative: deaths averted
    assert added.loc["ATT", "observed"] == pytest.approx(float(post["deaths"].sum()))
    assert added.loc["ATT", "added"] < 0
    assert abs(added.loc["ATT", "added"] - true_added) < 3 * added.loc["ATT", "std_error"]
    # per event time the rows add up to the total
    assert added.drop("ATT")["added"].sum() == pytest.approx(added.loc["ATT", "added"])
    # without the exposure the population growth of the treated cantons is read as an effect
    naive = cp.sun_abraham(df, outcome="deaths", cohort="first", never_treated=0,
                           unit="canton", time="year", estimator="fepois")
    assert np.exp(naive.params["ATT"]) > 0.9


def test_deaths_added_refused_for_linear_fit(sa_stagg):
    with pytest.raises(SpecError, match="estimator='fepois'"):
        sa_stagg.deaths_added()


def test_last_treated_control_equals_relabelled_never_treated(base_stagg):
    df = base_stagg[base_stagg["year_treated"] != 10000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.sun_abraham(df, outcome="y", cohort="year_treated", never_treated=10000,
                             unit="id", time="year", control="last_treated")
        manual = df[df["year"] < 10].assign(
            year_treated=lambda d: d["year_treated"].where(d["year_treated"] != 10, 0))
        ref = cp.sun_abraham(manual, outcome="y", cohort="year_treated", never_treated=0,
                             unit="id", time="year")
    np.testing.assert_allclose(res.params, ref.params.loc[res.params.index], rtol=1e-10)
    np.testing.assert_allclose(res.std_errors, ref.std_errors.loc[res.params.index],
                               rtol=1e-10)
    log = res.dropped
    assert (log["reason"] == LAST_TREATED_REASON).sum() == int((df["year"] >= 10).sum())


def test_window_drops_outside_rows_into_the_drop_log(base_stagg):
    with pytest.warns(DataWarning, match="outside the window"):
        res = cp.sun_abraham(base_stagg, outcome="y", cohort="year_treated",
                             never_treated=10000, unit="id", time="year", leads=3, lags=2)
    ev = base_stagg["year"] - base_stagg["year_treated"]
    treated = base_stagg["year_treated"] != 10000
    outside = treated & ((ev < -3) | (ev > 2))
    log = res.dropped
    assert sorted(log.loc[log["reason"] == OUTSIDE_REASON, "row"]) == sorted(
        base_stagg.index[outside])
    assert res.window == (-3, 2)
    assert res.nobs == len(base_stagg) - int(outside.sum())


def test_always_treated_units_are_dropped(base_stagg):
    df = base_stagg.copy()
    df.loc[df["id"] == 1, "year_treated"] = 1  # treated from the first period on
    with pytest.warns(DataWarning, match="always-treated"):
        res = cp.sun_abraham(df, outcome="y", cohort="year_treated", never_treated=10000,
                             unit="id", time="year")
    log = res.dropped
    assert sorted(log.loc[log["reason"] == ALWAYS_REASON, "row"]) == sorted(
        df.index[df["id"] == 1])


def test_cohort_after_the_panel_is_a_control(base_stagg):
    df = base_stagg.copy()
    df.loc[df["year_treated"] == 10000, "year_treated"] = 99  # treated after the panel ends
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.sun_abraham(df, outcome="y", cohort="year_treated", never_treated=-1,
                             unit="id", time="year", covariates="x1")
    assert res.params["ATT"] == pytest.approx(-1.133749, abs=5e-7)
    assert any("after the last period" in w for w in res.warnings)


def test_several_references(base_stagg):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.sun_abraham(base_stagg, outcome="y", cohort="year_treated",
                             never_treated=10000, unit="id", time="year", ref=[-1, -9])
    et = res.event_time
    assert et.loc[et["reference"], "event_time"].tolist() == [-9, -1]
    assert "event_lead9" not in res.params.index
    assert res.pretrend_test.df_num == 7


@pytest.mark.parametrize("kwargs, match", [
    ({"control": "never"}, "control must be one of"),
    ({"estimator": "ols"}, "estimator must be one of"),
    ({"ref": 0.5}, "ref"),
    ({"leads": 2, "ref": -5}, "outside the window"),
    ({"exposure": "x1"}, "needs estimator='fepois'"),
    ({"outcome": "deaths"}, "not a column"),
    ({"never_treated": None, "cohort": None}, "needs cohort="),
], ids=["control", "estimator", "ref-type", "ref-window", "exposure-linear", "outcome",
        "no-cohort"])
def test_refusals(base_stagg, kwargs, match):
    args = {"outcome": "y", "cohort": "year_treated", "never_treated": 10000, "unit": "id",
            "time": "year", **kwargs}
    with pytest.raises(SpecError, match=match):
        cp.sun_abraham(base_stagg, **args)


def test_no_never_treated_points_to_last_treated(base_stagg):
    df = base_stagg[base_stagg["year_treated"] != 10000]
    with pytest.raises(SpecError, match="control='last_treated'"):
        cp.sun_abraham(df, outcome="y", cohort="year_treated", never_treated=10000,
                       unit="id", time="year")


def test_does_not_change_the_input(base_stagg):
    before = base_stagg.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp.sun_abraham(base_stagg, outcome="y", cohort="year_treated", never_treated=10000,
                       unit="id", time="year")
    pd.testing.assert_frame_equal(base_stagg, before)


def test_registry_fits_the_design(base_stagg):
    from causalpolicing.estimators import registry

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = registry.fit("sun_abraham", base_stagg, outcome="y", cohort="year_treated",
                           never_treated=10000, unit="id", time="year", covariates=["x1"])
    assert res.params["ATT"] == pytest.approx(-1.133749, abs=5e-7)
    assert type(res).__name__ == registry.get("sun_abraham").results
