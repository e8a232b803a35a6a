"""The event study (causalpolicing.designs.event_studies) against pyfixest and known effects.

Reference: pyfixest 0.60 on the same data, ``pf.feols("y ~ i(rel, ref=-1) | unit + year",
vcov={"CRV1": "unit"})`` with ``rel`` the (binned) event time and never-treated units
put at the reference (all their indicators zero, as in our design);
``pf.fepois(..., offset="log_pop")`` for Poisson; ``pf.event_study(...,
estimator="twfe", att=False)`` for the unbinned full window.
Tolerances: point estimates 1e-6 absolute (both solve the same least-squares /
IRLS problem; Poisson to its convergence tolerance), CRV1 standard errors 1e-4
relative (the same fixest small-sample convention).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.designs.event_studies import EVENT_TIME_COLUMNS, OUTSIDE_REASON
from causalpolicing.exceptions import DataWarning, SpecError

pf = pytest.importorskip("pyfixest")

ATOL_COEF = 1e-6  # point estimates, absolute
RTOL_SE = 1e-4    # CRV1 standard errors, relative


def _panel(seed: int = 1, n_units: int = 60, years: range = range(2000, 2012),
           cohorts: tuple[int, ...] = (0, 2004, 2006, 2008),
           effect: dict[int, float] | None = None) -> pd.DataFrame:
    """A staggered panel: cohort 0 = never treated; y = unit + year effects + tau(e) + noise."""
    rng = np.random.default_rng(seed)
    n_t = len(years)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "year": np.tile(np.asarray(years), n_units)})
    df["first"] = np.repeat(rng.choice(cohorts, n_units), n_t)
    e = (df["year"] - df["first"]).to_numpy()
    treated = (df["first"] > 0).to_numpy()
    tau = np.zeros(len(df))
    for k, v in (effect or {0: 1.0, 1: 1.5, 2: 2.0}).items():
        tau[treated & (e == k)] = v
    last = max((effect or {2: 0}).keys())
    tau[treated & (e > last)] = (effect or {2: 2.0})[last]
    df["y"] = (np.repeat(rng.normal(size=n_units), n_t) + np.tile(rng.normal(size=n_t), n_units)
               + tau + rng.normal(size=len(df)))
    df["w"] = rng.normal(size=len(df))
    df["pop"] = rng.uniform(2e4, 2e5, len(df))
    df["log_pop"] = np.log(df["pop"])
    df["deaths"] = rng.poisson(df["pop"] * 1e-4 * np.exp(0.2 * tau))
    return df


def _rel(df: pd.DataFrame, leads: int, lags: int, ref: int = -1) -> pd.Series:
    e = np.clip(df["year"] - df["first"], -leads, lags)
    return pd.Series(np.where(df["first"] > 0, e, ref), index=df.index)


def _by_event_time(names: pd.Index) -> list[int]:
    return [int(re.search(r"(-?\d+)\]?$", str(n)).group(1)) for n in names]


def _ours(res: cp.EventStudyResults) -> tuple[pd.Series, pd.Series]:
    et = res.event_time
    et = et[~et["reference"]].set_index("event_time")
    return et["estimate"], et["std_error"]


def _fit(df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.event_study(df, outcome=kw.pop("outcome", "y"), cohort="first",
                              never_treated=0, unit="unit", time="year", **kw)


def _pf(fml: str, df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = (pf.fepois if "offset" in kw else pf.feols)(fml, df, vcov={"CRV1": "unit"}, **kw)
    keep = [n for n in m.coef().index if n.startswith("rel::")]
    coef, se = m.coef()[keep], m.se()[keep]
    idx = _by_event_time(coef.index)
    return pd.Series(coef.to_numpy(), idx), pd.Series(se.to_numpy(), idx)


def _compare(res, ref_coef: pd.Series, ref_se: pd.Series) -> None:
    est, se = _ours(res)
    assert sorted(est.index) == sorted(ref_coef.index)
    np.testing.assert_allclose(est[ref_coef.index], ref_coef, atol=ATOL_COEF, rtol=0)
    np.testing.assert_allclose(se[ref_se.index], ref_se, rtol=RTOL_SE)


# ------------------------------------------------------------------ against pyfixest
@pytest.mark.parametrize("leads,lags", [(3, 3), (2, 4), (4, 1)], ids=["3-3", "2-4", "4-1"])
def test_binned_linear_matches_pyfixest(leads: int, lags: int) -> None:
    df = _panel()
    df["rel"] = _rel(df, leads, lags)
    res = _fit(df, leads=leads, lags=lags)
    _compare(res, *_pf("y ~ i(rel, ref=-1) | unit + year", df))


@pytest.mark.parametrize("ref", [-2, 0], ids=["ref-2", "ref0"])
def test_reference_period_choice_matches_pyfixest(ref: int) -> None:
    df = _panel()
    df["rel"] = _rel(df, 3, 3, ref=ref)
    res = _fit(df, leads=3, lags=3, ref=ref)
    _compare(res, *_pf(f"y ~ i(rel, ref={ref}) | unit + year", df))
    row = res.event_time.set_index("event_time").loc[ref]
    assert row["reference"] and row["estimate"] == 0.0 and np.isnan(row["std_error"])
    assert res.reference == ref


def test_covariates_match_pyfixest() -> None:
    df = _panel()
    df["rel"] = _rel(df, 3, 3)
    res = _fit(df, leads=3, lags=3, covariates=["w"])
    coef, se = _pf("y ~ i(rel, ref=-1) + w | unit + year", df.assign(w=df["w"]))
    _compare(res, coef, se)


def test_one_binned_lag_is_pyfixest_event_study_twfe() -> None:
    # leads=1, lags=0 with binned endpoints: event_lag0 = 1[e >= 0] and every earlier period
    # is the reference, i.e. pyfixest's TWFE `is_treated`. (pyfixest 0.60's
    # event_study(estimator="twfe") fits `y ~ is_treated | unit + time` even with
    # att=False, so the dynamic comparison is the pf.feols(i(...)) one above.)
    df = _panel()
    res = _fit(df, leads=1, lags=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.event_study(df, yname="y", idname="unit", tname="year", gname="first",
                           estimator="twfe")
    assert list(res.params.index) == ["event_lag0"]
    np.testing.assert_allclose(res.params["event_lag0"], m.coef()["is_treated"],
                               atol=ATOL_COEF, rtol=0)
    np.testing.assert_allclose(res.std_errors["event_lag0"], m.se()["is_treated"],
                               rtol=RTOL_SE)


def test_unbinned_full_window_matches_pyfixest() -> None:
    df = _panel(cohorts=(0, 2004, 2006))
    e = (df["year"] - df["first"])[df["first"] > 0]
    res = _fit(df, leads=-int(e.min()), lags=int(e.max()), bin_endpoints=False)
    assert len(res.dropped) == 0
    df["rel"] = _rel(df, -int(e.min()), int(e.max()))
    _compare(res, *_pf("y ~ i(rel, ref=-1) | unit + year", df))


def test_poisson_with_exposure_matches_pyfixest_fepois() -> None:
    df = _panel()
    df["rel"] = _rel(df, 3, 3)
    res = _fit(df, outcome="deaths", leads=3, lags=3, estimator="fepois", exposure="pop")
    assert res.estimator == "EventStudy[FEPoisson]"
    _compare(res, *_pf("deaths ~ i(rel, ref=-1) | unit + year", df, offset="log_pop"))


# ------------------------------------------------------------------ binning / dropping
def test_without_binning_outside_rows_are_dropped_and_logged() -> None:
    df = _panel()
    e = df["year"] - df["first"]
    outside = (df["first"] > 0) & ((e < -2) | (e > 2))
    with pytest.warns(DataWarning, match=f"dropped {int(outside.sum())} observation"):
        res = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                             time="year", leads=2, lags=2, bin_endpoints=False)
    assert res.nobs == len(df) - int(outside.sum())
    logged = res.dropped[res.dropped["reason"] == OUTSIDE_REASON]
    assert sorted(logged["row"]) == sorted(df.index[outside])
    assert any("bin_endpoints=False" in w for w in res.warnings)
    kept = df[~outside].assign(rel=_rel(df[~outside], 2, 2))
    _compare(res, *_pf("y ~ i(rel, ref=-1) | unit + year", kept))
    assert not res.event_time["binned"].any()


def test_binned_endpoints_are_marked() -> None:
    res = _fit(_panel(), leads=3, lags=3)
    et = res.event_time.set_index("event_time")
    assert et.loc[-3, "binned"] and et.loc[3, "binned"] and not et.loc[0, "binned"]
    assert res.nobs == 60 * 12


# ------------------------------------------------------------------ known dynamic effects
def test_simulated_staggered_panel_recovers_the_dynamic_effects() -> None:
    # homogeneous effects across cohorts, never-treated controls: TWFE recovers tau(e)
    truth = {-3: 0.0, -2: 0.0, 0: 1.0, 1: 1.5, 2: 2.0, 3: 2.0}
    df = _panel(seed=7, n_units=600, years=range(2000, 2016),
                cohorts=(0, 2005, 2008, 2011), effect={0: 1.0, 1: 1.5, 2: 2.0, 3: 2.0})
    res = _fit(df, leads=3, lags=3)
    est, se = _ours(res)
    for e, tau in truth.items():
        assert abs(est[e] - tau) < 4 * se[e], (e, est[e], tau)
        assert abs(est[e] - tau) < 0.15, (e, est[e], tau)
    assert res.pretrend_test.p_value > 0.01


def test_pretrend_test_is_the_joint_wald_test_of_the_leads() -> None:
    res = _fit(_panel(), leads=3, lags=2)
    t = res.pretrend_test
    assert t.terms == ("event_lead3", "event_lead2")
    assert res.lead_terms == ("event_lead3", "event_lead2")
    assert res.lag_terms == ("event_lag0", "event_lag1", "event_lag2")
    direct = cp.inference.wald.wald_test(res, ["event_lead3", "event_lead2"])
    assert t == direct and t.df_num == 2 and t.distribution == "F"
    assert _fit(_panel(), leads=1, lags=2).pretrend_test is None  # only the reference lead


# ------------------------------------------------------------------ results object
def test_event_time_columns_and_rows() -> None:
    res = _fit(_panel(), leads=2, lags=3)
    et = res.event_time
    assert tuple(et.columns) == EVENT_TIME_COLUMNS
    assert et["event_time"].tolist() == [-2, -1, 0, 1, 2, 3]
    assert et["term"].tolist() == ["event_lead2", "event_lead1", "event_lag0", "event_lag1",
                                   "event_lag2", "event_lag3"]
    assert et["reference"].tolist() == [False, True, False, False, False, False]
    tidy = res.tidy().set_index("term")
    row = et.set_index("term").loc["event_lag1"]
    assert row["estimate"] == tidy.loc["event_lag1", "estimate"]
    assert row["conf_low"] == tidy.loc["event_lag1", "conf_low"]
    assert res.window == (-2, 3)


def test_level_sets_the_event_time_intervals() -> None:
    res = _fit(_panel(), leads=2, lags=2, level=0.9)
    lo = res.event_time.set_index("term").loc["event_lag0", "conf_low"]
    assert lo == res.conf_int(0.9).loc["event_lag0"].iloc[0]


def test_results_are_frozen() -> None:
    res = _fit(_panel(), leads=2, lags=2)
    assert isinstance(res, cp.EventStudyResults)
    assert isinstance(res.model, cp.FEOLSResults)
    with pytest.raises(AttributeError, match="immutable"):
        res.nobs = 3  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        res._es = {}  # type: ignore[misc]
    et = res.event_time
    et.loc[:, "estimate"] = 99.0
    assert (res.event_time["estimate"] != 99.0).all()


def test_input_frame_is_not_changed() -> None:
    df = _panel()
    before = df.copy()
    _fit(df, leads=2, lags=2)
    pd.testing.assert_frame_equal(df, before)


def test_panel_input_counts_periods_like_the_frame() -> None:
    df = _panel()
    panel = cp.load_panel(df, unit="unit", time="year", outcome="y", treatment="w",
                          exposure="pop")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.event_study(panel, outcome="y", cohort="first", never_treated=0, leads=2,
                             lags=2)
    expected = _fit(df, leads=2, lags=2)
    np.testing.assert_allclose(res.params, expected.params, atol=1e-10)


def test_nan_marks_never_treated_when_asked() -> None:
    df = _panel()
    expected = _fit(df, leads=2, lags=2)
    df["first"] = df["first"].where(df["first"] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.event_study(df, outcome="y", cohort="first", never_treated=float("nan"),
                             unit="unit", time="year", leads=2, lags=2)
    np.testing.assert_allclose(res.params, expected.params, atol=1e-12)


# ------------------------------------------------------------------ refusals
def _refuse(df: pd.DataFrame, match: str, **kw) -> None:
    args = {"outcome": "y", "cohort": "first", "never_treated": 0, "unit": "unit",
            "time": "year", "leads": 2, "lags": 2, **kw}
    with pytest.raises(SpecError, match=match):
        cp.event_study(df, **args)


def test_refuses_no_never_treated_and_one_cohort() -> None:
    _refuse(_panel(cohorts=(2005,)), r"none is never treated.*Add never-treated units")


def test_refuses_only_never_treated_units() -> None:
    _refuse(_panel(cohorts=(0,)), "every unit is never treated")


def test_refuses_cohort_not_constant_within_unit() -> None:
    df = _panel()
    df.loc[df.index[df["first"] > 0][0], "first"] = 2009
    _refuse(df, r"cohort column 'first' is not constant within unit 'unit'")


def test_refuses_ref_outside_the_window() -> None:
    _refuse(_panel(), r"ref=-3 is outside the window \[-2, 2\]", ref=-3)


def test_refuses_non_integer_event_times() -> None:
    df = _panel()
    df["first"] = df["first"].astype(float).where(df["first"] == 0, df["first"] + 0.5)
    _refuse(df, r"cohort column 'first' holds non-integer periods")


def test_refuses_missing_cohort_not_marked_never_treated() -> None:
    df = _panel()
    df["first"] = df["first"].where(df["first"] > 0)
    _refuse(df, r"never_treated=float\('nan'\)")


def test_refuses_unknown_column() -> None:
    _refuse(_panel(), r"cohort='start' is not a column", cohort="start")


def test_refuses_exposure_with_the_linear_model() -> None:
    _refuse(_panel(), "needs estimator='fepois'", exposure="pop")


def test_refuses_an_existing_indicator_column() -> None:
    _refuse(_panel().assign(event_lag0=1.0), r"already has column\(s\) \['event_lag0'\]")


def test_refuses_unknown_estimator() -> None:
    _refuse(_panel(), "estimator must be one of", estimator="ols")


# ------------------------------------------------------------------ the registry doors
def test_registry_fits_it() -> None:
    from causalpolicing.estimators import registry

    df = _panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = registry.fit("event_study", df, outcome="y", cohort="first", never_treated=0,
                           unit="unit", time="year", leads=2, lags=2,
                           vcov={"CRV1": "unit"}, family="feols",
                           fe=["unit", "year"])
    np.testing.assert_allclose(res.params, _fit(df, leads=2, lags=2).params, atol=1e-12)
    assert registry.get("event_study").family_for({"family": "fepois"}) == "poisson"


def test_analyze_runs_a_spec_with_an_event_study(tmp_path) -> None:
    path = tmp_path / "panel.csv"
    _panel().to_csv(path, index=False)
    spec = {"data": {"path": str(path), "unit": "unit", "time": "year", "outcome": "y",
                     "treatment": "w"},
            "models": [{"name": "ES", "estimator": "event_study", "cohort": "first",
                        "never_treated": 0, "leads": 2, "lags": 2}],
            "diagnostics": {"feedback": False}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = cp.analyze(spec)
    res = analysis.results["ES"]
    assert isinstance(res, cp.EventStudyResults)
    assert res.event_time["event_time"].tolist() == [-2, -1, 0, 1, 2]


def test_monthly_panel_counts_months_from_period_cohorts() -> None:
    rng = np.random.default_rng(3)
    months = pd.period_range("2017-01", periods=24, freq="M")
    df = pd.DataFrame({"u": np.repeat(np.arange(50), 24), "m": np.tile(months.astype(str), 50)})
    df["c"] = np.repeat(rng.choice(["none", "2017-06", "2018-03"], 50), 24)
    df["y"] = rng.normal(size=len(df))
    df["x"] = rng.normal(size=len(df))
    panel = cp.load_panel(df, unit="u", time="m", outcome="y", treatment="x")
    # the same design with integer month numbers
    ints = df.assign(m=np.tile(np.arange(24), 50),
                     c=df["c"].map({"none": -99, "2017-06": 5, "2018-03": 14}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.event_study(panel, outcome="y", cohort="c", never_treated="none", leads=2,
                             lags=2)
        expected = cp.event_study(ints, outcome="y", cohort="c", never_treated=-99, unit="u",
                                  time="m", leads=2, lags=2)
    np.testing.assert_allclose(res.params, expected.params, atol=1e-10)
