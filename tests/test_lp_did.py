"""Local-projections DiD (causalpolicing.designs.local_projections).

References: Stata ``lpdid`` 1.0.1 (Busch and Girardi) on its official example data
``lpdidtestdata1.dta`` (shipped with pyfixest), printed numbers hard-coded below;
pyfixest 0.60 ``lpdid`` live; R ``lpdid`` numbers quoted in pyfixest's tests.
"""

from __future__ import annotations

import io
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.designs.event_studies import EVENT_TIME_COLUMNS
from causalpolicing.exceptions import SpecError

# Stata lpdid on lpdidtestdata1.dta, as exported to igerber/diff-diff's
# tests/data/lpdidtestdata1_{event,rw_event,pooled,rw_pooled}_stata.csv (commit 0127447):
#   lpdid Y, time(time) unit(unit) treat(treat) pre_window(5) post_window(10) [rw] nograph
# The first and last rows also appear in pyfixest's tests/test_did.py ("values obtained
# from Stata": -0.042566, 72.635834, N 40662 and 28709, pooled 31.79438).
STATA_EVENT = """horizon,coefficient,se,obs
-5,-.0425658601569193,.9483544265529035,40662
-4,.6403342929299243,.9588844257708641,42662
-3,1.079831242911072,.8967272007453519,44662
-2,1.458649930427825,.8264465215868178,46662
0,3.640153457831842,.7948941744251745,48662
1,7.112479602651633,.9093427542584681,46662
2,9.749810746393333,.9573893171671487,44662
3,14.68331497729838,.9699534383685853,42662
4,19.87852285316211,1.013118039598975,40662
5,28.50037918835317,1.014339171868121,38662
6,34.71440480408531,1.021341784647148,36662
7,42.87507645091376,1.034414729953316,34662
8,53.21208666746065,1.094259002678234,32662
9,62.63418230089712,1.108112209961253,30662
10,72.63583358489238,1.193887053903901,28709
"""
STATA_EVENT_RW = """horizon,coefficient,se,obs
-5,-.0934746507258283,.9488146009686517,24002
-4,.6703733636931376,.9617106854615973,24002
-3,1.033818718014264,.8978334344266504,24002
-2,1.450061080394444,.8280571542859058,24002
0,3.652607962916621,.7986206539641563,24002
1,7.064477301548373,.9132065209486606,22382
2,9.642659984568807,.9598135129437387,20851
3,14.46120451789723,.9736361601736844,19409
4,19.59718729036616,1.018366854272756,18059
5,28.07795965094927,1.017569387511566,16811
6,34.09584946056913,1.027092129840386,15645
7,42.07333261220359,1.033218912616206,14558
8,52.11098306352022,1.092178891895996,13557
9,61.39136935345374,1.101953564558626,12642
10,71.16704929139085,1.179845186926676,11814
"""
STATA_POOLED = {False: (31.79438066183989, .7559724118896032, 28709),
                True: (31.17286748889069, .7537750375564937, 11814)}


@pytest.fixture(scope="module")
def lpdid_data() -> pd.DataFrame:
    pytest.importorskip("pyfixest")
    path = resources.files("pyfixest.did.data").joinpath("lpdidtestdata1.dta")
    return pd.read_stata(path).astype("float64")


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    pytest.importorskip("pyfixest")
    return pd.read_csv(resources.files("pyfixest.did.data").joinpath("df_het.csv"))


def _fit_stata_example(data: pd.DataFrame, reweight: bool) -> cp.LPDiDResults:
    return cp.lp_did(data, outcome="Y", cohort="event_date", never_treated=float("nan"),
                     unit="unit", time="time", pre_window=5, post_window=10,
                     reweight=reweight)


def test_event_study_matches_stata_lpdid(lpdid_data):
    res = _fit_stata_example(lpdid_data, False)
    st = pd.read_csv(io.StringIO(STATA_EVENT))
    et = res.event_time.set_index("event_time").loc[st["horizon"]]
    # Stata generates the long differences with `gen` (single precision by default), so
    # the estimates agree to ~1e-7 absolute; checked at 1e-6 absolute (the largest is 73).
    np.testing.assert_allclose(et["estimate"], st["coefficient"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(et["std_error"], st["se"], rtol=1e-4)  # SEs 1e-4 relative
    nobs = res.horizons.set_index("event_time").loc[st["horizon"], "nobs"]
    np.testing.assert_array_equal(nobs.to_numpy(), st["obs"].to_numpy())


def test_reweighted_event_study_matches_stata_lpdid(lpdid_data):
    res = _fit_stata_example(lpdid_data, True)
    st = pd.read_csv(io.StringIO(STATA_EVENT_RW))
    et = res.event_time.set_index("event_time").loc[st["horizon"]]
    # lpdid.ado rounds each weight to 1e-8 (`round(weight_h, 0.00000001)`) where the
    # weights are ~7e-4: a relative perturbation up to ~1e-5 of every weight, which moves
    # the estimates by up to 4e-5 here. Checked at 1e-4 absolute; SEs at 1e-4 relative.
    np.testing.assert_allclose(et["estimate"], st["coefficient"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(et["std_error"], st["se"], rtol=1e-4)
    # the same samples: periods without entering units or clean controls drop out
    nobs = res.horizons.set_index("event_time").loc[st["horizon"], "nobs"]
    np.testing.assert_array_equal(nobs.to_numpy(), st["obs"].to_numpy())


@pytest.mark.parametrize("reweight", [False, True], ids=["variance-weighted", "equal"])
def test_pooled_att_matches_stata_lpdid(lpdid_data, reweight):
    est, se, nobs = STATA_POOLED[reweight]
    res = _fit_stata_example(lpdid_data, reweight)
    assert res.params["ATT"] == pytest.approx(est, rel=1e-6)  # 3e-7 with the rounding
    assert res.std_errors["ATT"] == pytest.approx(se, rel=1e-4)
    assert res.models["ATT"].nobs == nobs


def test_matches_pyfixest_lpdid_live(df_het):
    pf = pytest.importorskip("pyfixest")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = pf.lpdid(df_het, yname="dep_var", idname="unit", tname="year", gname="g",
                      att=False).tidy()
        pooled = pf.lpdid(df_het, yname="dep_var", idname="unit", tname="year", gname="g",
                          att=True, post_window=20).tidy()
    res = cp.lp_did(df_het, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                    time="year")
    h = [int(s.split("::")[1]) for s in ev.index]
    et = res.event_time.set_index("event_time").loc[h]
    # point estimates 1e-6, standard errors 1e-4 relative (issue #12)
    np.testing.assert_allclose(et["estimate"], ev["Estimate"].astype(float), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(et["std_error"], ev["Std. Error"].astype(float), rtol=1e-4)
    nobs = res.horizons.set_index("event_time").loc[h, "nobs"].to_numpy()
    np.testing.assert_array_equal(nobs, ev["N"].astype(int).to_numpy())
    assert res.params["ATT"] == pytest.approx(float(pooled["Estimate"].iloc[0]), rel=1e-6)
    assert res.std_errors["ATT"] == pytest.approx(float(pooled["Std. Error"].iloc[0]),
                                                  rel=1e-4)


def test_matches_r_lpdid_numbers_quoted_by_pyfixest(df_het):
    # pyfixest tests/test_did.py: R lpdid, window c(-20, 20) on df_het:
    # first -0.073055295, last 2.911501018 (printed to 9 digits)
    res = cp.lp_did(df_het, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                    time="year")
    assert res.window == (-20, 20)
    assert res.params["event_lead20"] == pytest.approx(-0.073055295, abs=5e-10)
    assert res.params["event_lag20"] == pytest.approx(2.911501018, abs=5e-10)


def _hetero_panel(seed: int = 11, n: int = 1500) -> tuple[pd.DataFrame, dict, dict]:
    """Cohorts of unequal size with different dynamic effects tau_{g,h} = a_g (h + 1)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2013)
    first = rng.choice([0, 2004, 2007, 2010], size=n, p=[0.25, 0.45, 0.2, 0.1])
    slope = {2004: 0.5, 2007: 1.5, 2010: 3.0}
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), len(years)),
                       "year": np.tile(years, n), "first": np.repeat(first, len(years))})
    ev = (df["year"] - df["first"]).to_numpy()
    a = df["first"].map(slope).fillna(0.0).to_numpy()
    tau = np.where((df["first"] > 0) & (ev >= 0), a * (ev + 1), 0.0)
    df["y"] = (np.repeat(rng.normal(size=n), len(years)) + 0.2 * (df["year"] - 2000)
               + tau + rng.normal(scale=0.05, size=len(df)))
    # equally weighted truth at horizon h: the mean of tau over entering units observed at
    # t+h that have a clean control at t+h (by 2012 only the never treated)
    truth = {}
    for h in range(3):
        cohorts = [g for g in slope if g + h <= 2012]
        sizes = np.array([(first == g).sum() for g in cohorts], dtype=float)
        truth[h] = float(np.sum(sizes * np.array([slope[g] * (h + 1) for g in cohorts]))
                         / sizes.sum())
    return df, truth, slope


def test_equally_weighted_recovers_the_average_effect_twfe_does_not():
    df, truth, _ = _hetero_panel()
    res = cp.lp_did(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                    time="year", pre_window=3, post_window=2, reweight=True)
    vw = cp.lp_did(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                   time="year", pre_window=3, post_window=2)
    twfe = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                          time="year", leads=3, lags=2)
    for h in range(3):
        assert res.params[f"event_lag{h}"] == pytest.approx(truth[h], abs=0.02)
    # the variance weights differ from the cohort sizes: a different (convex) average
    assert abs(vw.params["event_lag2"] - truth[2]) > 0.05
    assert abs(twfe.params["event_lag2"] - truth[2]) > 0.2  # binned endpoint, contaminated
    for k in (2, 3):
        assert abs(res.params[f"event_lead{k}"]) < 0.02


def test_joint_covariance_and_pretrend_test(lpdid_data):
    res = _fit_stata_example(lpdid_data, False)
    cov = res.cov.to_numpy()
    np.testing.assert_allclose(cov, cov.T, rtol=0, atol=1e-14)
    assert np.linalg.eigvalsh(cov).min() > -1e-10
    for term, m in res.models.items():  # the diagonal is each regression's own variance
        assert res.cov.loc[term, term] == pytest.approx(m.std_errors.iloc[0] ** 2, rel=1e-12)
    # neighbouring horizons share units and base periods: positively correlated
    corr = res.cov.loc["event_lag0", "event_lag1"] / (
        res.std_errors["event_lag0"] * res.std_errors["event_lag1"])
    assert 0.2 < corr < 1
    wt = res.pretrend_test
    assert wt.terms == ("event_lead5", "event_lead4", "event_lead3", "event_lead2")
    assert 0 < wt.p_value < 1


def test_event_time_contract(lpdid_data):
    res = _fit_stata_example(lpdid_data, False)
    et = res.event_time
    assert list(et.columns) == list(EVENT_TIME_COLUMNS)
    assert et["event_time"].tolist() == list(range(-5, 11))
    assert et.loc[et["reference"], "event_time"].tolist() == [-1]
    assert set(res.params.index) == {*et.loc[~et["reference"], "term"], "ATT"}


def test_never_treated_controls(df_het):
    res = cp.lp_did(df_het, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                    time="year", pre_window=2, post_window=2, control="never_treated")
    clean = cp.lp_did(df_het, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                      time="year", pre_window=2, post_window=2)
    h = res.horizons.set_index("term")["nobs"]
    assert (h <= clean.horizons.set_index("term")["nobs"]).all()
    assert h["event_lag0"] < clean.horizons.set_index("term")["nobs"]["event_lag0"]


@pytest.mark.parametrize("kwargs, match", [
    ({"ref": -2}, "reference is -1"),
    ({"control": "notyet"}, "control must be one of"),
    ({"reweight": True, "covariates": ["X"]}, "regression-adjustment"),
    ({"reweight": "yes"}, "reweight must be"),
    ({"post_window": 99}, "beyond"),
    ({"outcome": "nope"}, "not a column"),
], ids=["ref", "control", "rw-covariates", "rw-type", "window", "outcome"])
def test_refusals(df_het, kwargs, match):
    df = df_het.assign(X=1.0)
    args = {"outcome": "dep_var", "cohort": "g", "never_treated": 0, "unit": "unit",
            "time": "year", **kwargs}
    with pytest.raises(SpecError, match=match):
        cp.lp_did(df, **args)


def test_repeated_rows_refused(df_het):
    df = pd.concat([df_het, df_het.iloc[:1]])
    with pytest.raises(SpecError, match="repeated"):
        cp.lp_did(df, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                  time="year")


def test_never_treated_control_without_never_treated_refused(df_het):
    df = df_het[df_het["g"] != 0]
    with pytest.raises(SpecError, match="no unit is never treated"):
        cp.lp_did(df, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                  time="year", control="never_treated")


def test_registry_fits_the_design(df_het):
    from causalpolicing.estimators import registry

    res = registry.fit("lp_did", df_het, outcome="dep_var", cohort="g", never_treated=0,
                       unit="unit", time="year", pre_window=2, post_window=1)
    assert type(res).__name__ == registry.get("lp_did").results
    assert res.window == (-2, 1)


def test_clustering_by_another_column(df_het):
    res = cp.lp_did(df_het, outcome="dep_var", cohort="g", never_treated=0, unit="unit",
                    time="year", pre_window=2, post_window=2, vcov={"CRV1": "state"})
    for term, m in res.models.items():
        assert m.n_clusters == df_het["state"].nunique()
        assert res.cov.loc[term, term] == pytest.approx(m.std_errors.iloc[0] ** 2, rel=1e-12)
    assert np.linalg.eigvalsh(res.cov.to_numpy()).min() > -1e-12
