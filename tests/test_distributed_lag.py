"""Tests of cp.distributed_lag: lag weights, cumulative effect, leads test, drop log.

References: a known linear DGP with true lag weights (1.0, 0.5, 0.25); the
cumulative standard error computed by hand as sqrt(w' V w); the Poisson path
against cp.fepois on lag columns built with the Panel transforms; the leads
test's rejection rate over a few seeds with and without feedback.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalpolicing as cp
from causalpolicing.estimators.lags import LAG_REASON, wald_test
from causalpolicing.exceptions import FewClustersWarning, GapWarning, SpecError
from causalpolicing.results import BaseResults

WEIGHTS = (1.0, 0.5, 0.25)

pytestmark = pytest.mark.filterwarnings(
    "ignore::causalpolicing.exceptions.FewClustersWarning")


def lag_panel(seed: int, n_units: int = 50, n_periods: int = 20, feedback: float = 0.0,
              drop: tuple[int, int] | None = None) -> cp.Panel:
    """y = sum_k w_k x_{t-k} + a_i + g_t + e; x = c_i + feedback * y_{t-1} + u."""
    rng = np.random.default_rng(seed)
    burn = 3
    t_all = n_periods + burn
    a = rng.normal(0, 1, n_units)
    g = rng.normal(0, 1, t_all)
    c = rng.normal(0, 1, n_units)
    x = np.zeros((n_units, t_all))
    y = np.zeros((n_units, t_all))
    for t in range(t_all):
        prev = y[:, t - 1] if t else 0.0
        x[:, t] = c + feedback * prev + rng.normal(0, 1, n_units)
        y[:, t] = a + g[t] + rng.normal(0, 1, n_units)
        for k, w in enumerate(WEIGHTS):
            if t - k >= 0:
                y[:, t] += w * x[:, t - k]
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods),
                       "year": np.tile(np.arange(2000, 2000 + n_periods), n_units),
                       "x": x[:, burn:].ravel(), "y": y[:, burn:].ravel()})
    if drop is not None:
        df = df[~((df["unit"] == drop[0]) & (df["year"] == drop[1]))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GapWarning)
        return cp.load_panel(df, unit="unit", time="year", outcome="y", treatment="x")


@pytest.fixture(scope="module")
def fit() -> cp.estimators.lags.DistributedLagResults:
    return cp.distributed_lag(lag_panel(0), lags=2, leads=1)


def test_true_lag_weights_are_recovered(fit) -> None:
    est = fit.params[["x", "x_lag1", "x_lag2"]].to_numpy()
    se = fit.std_errors[["x", "x_lag1", "x_lag2"]].to_numpy()
    assert np.all(np.abs(est - np.array(WEIGHTS)) < 3 * se)


def test_params_order_and_names(fit) -> None:
    assert list(fit.params.index) == ["x_lead1", "x", "x_lag1", "x_lag2"]
    assert fit.lag_terms == ("x", "x_lag1", "x_lag2")
    assert fit.lead_terms == ("x_lead1",)
    assert fit.estimator == "DistributedLag[FEOLS]"
    assert fit.cov_type == "CRV1 by unit"
    assert fit.n_clusters == 50


def test_event_time_table(fit) -> None:
    et = fit.event_time()
    assert et["rel_time"].tolist() == [-1, 0, 1, 2]
    assert et["term"].tolist() == ["x_lead1", "x", "x_lag1", "x_lag2"]
    tidy = fit.tidy().set_index("term")
    np.testing.assert_allclose(et["estimate"], tidy.loc[et["term"], "estimate"])
    np.testing.assert_allclose(et["conf_low"], tidy.loc[et["term"], "conf_low"])
    np.testing.assert_allclose(et["p_value"], tidy.loc[et["term"], "p_value"])


def test_cumulative_se_is_sqrt_wvw(fit) -> None:
    w = np.array([0.0, 1.0, 1.0, 1.0])
    v = fit.cov.to_numpy()
    out = fit.cumulative()
    assert out.loc[0, "estimate"] == pytest.approx(float(w @ fit.params.to_numpy()), rel=1e-12)
    assert out.loc[0, "std_error"] == pytest.approx(float(np.sqrt(w @ v @ w)), rel=1e-12)
    q = stats.t(fit.df_inference).ppf(0.975)
    assert out.loc[0, "conf_low"] == pytest.approx(
        out.loc[0, "estimate"] - q * out.loc[0, "std_error"], rel=1e-12)
    assert fit.cumulative_effect == pytest.approx(out.loc[0, "estimate"], rel=1e-12)
    assert abs(out.loc[0, "estimate"] - sum(WEIGHTS)) < 3 * out.loc[0, "std_error"]


def test_rows_lost_to_lags_and_leads_are_logged(fit) -> None:
    # per unit: 2 first periods (lags) + 1 last period (lead) = 3 rows x 50 units
    assert fit.nobs == 50 * 17
    lost = fit.dropped.drop_duplicates("row")
    assert len(lost) == 150
    assert set(fit.dropped["reason"]) == {LAG_REASON}


def test_gap_is_respected_and_logged() -> None:
    res = cp.distributed_lag(lag_panel(1, drop=(4, 2010)), lags=1, leads=0)
    # unit 4 loses 2000 (start) and 2011 (its lag period 2010 is missing)
    dropped = res.dropped
    frame = lag_panel(1, drop=(4, 2010)).to_frame()
    rows4 = frame.loc[dropped["row"]].query("unit == 4")["year"].astype(str).tolist()
    assert rows4 == ["2000", "2011"]
    assert set(dropped["reason"]) == {LAG_REASON}
    assert res.nobs == 50 * 20 - 1 - 50 - 1


def test_poisson_path_equals_fepois_on_transform_lags() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        res = cp.distributed_lag(panel, treatment="offences_per_1000", lags=1, leads=1,
                                 estimator="fepois")
        manual = panel.lag("offences_per_1000", 1).lead("offences_per_1000", 1)
        ref = cp.fepois("deaths ~ offences_per_1000_lead1 + offences_per_1000 + "
                        "offences_per_1000_lag1 | canton + year", manual)
    np.testing.assert_allclose(res.params.to_numpy(), ref.params.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(res.cov.to_numpy(), ref.cov.to_numpy(), rtol=1e-12)
    assert res.nobs == ref.nobs == 26 * 31


@pytest.mark.parametrize(("feedback", "expect_rejections"), [(0.5, True), (0.0, False)],
                         ids=["feedback", "no-feedback"])
def test_leads_test_rejects_only_under_feedback(feedback: float, expect_rejections: bool) -> None:
    # 10 seeds: under no feedback the number of 5% rejections is ~Binomial(10, 0.05-0.08)
    # (CRV1 with 40 clusters over-rejects slightly: 8% over 60 seeds), so >= 4 has
    # probability < 0.5%; under feedback the test has power near 1.
    rejections = 0
    for seed in range(10):
        res = cp.distributed_lag(lag_panel(100 + seed, n_units=40, n_periods=15,
                                           feedback=feedback), lags=2, leads=2)
        rejections += res.leads_test.p_value < 0.05
    if expect_rejections:
        assert rejections >= 8
    else:
        assert rejections <= 3


def test_wald_test_by_hand(fit) -> None:
    terms = ["x_lead1", "x_lag2"]
    b = fit.params[terms].to_numpy()
    v = fit.cov.loc[terms, terms].to_numpy()
    w = float(b @ np.linalg.inv(v) @ b)
    t = wald_test(fit, terms)
    assert t.wald == pytest.approx(w, rel=1e-10)
    assert t.statistic == pytest.approx(w / 2, rel=1e-10)
    assert (t.df_num, t.df_denom, t.distribution) == (2, 49, "F")
    assert t.p_value == pytest.approx(stats.f(2, 49).sf(w / 2), rel=1e-10)


def test_wald_test_normal_reference_uses_chi2() -> None:
    res = BaseResults(params=pd.Series({"a": 1.0}), cov=pd.DataFrame([[0.25]], ["a"], ["a"]),
                      nobs=10, df_inference=None, cov_type="iid", estimator="x", spec={})
    t = wald_test(res, ["a"])
    assert (t.wald, t.statistic, t.df_denom, t.distribution) == (4.0, 4.0, None, "chi2")
    assert t.p_value == pytest.approx(stats.chi2(1).sf(4.0), rel=1e-12)


def test_no_leads_gives_no_leads_test() -> None:
    res = cp.distributed_lag(lag_panel(2), lags=1, leads=0)
    assert res.leads_test is None
    assert res.event_time()["rel_time"].tolist() == [0, 1]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"estimator": "ols"}, "estimator must be one of"),
    ({"lags": -1}, "lags must be a non-negative integer"),
    ({"treatment": "nope"}, "is not a column"),
    ({"fe": ("unit", "region")}, "fe entry 'region'"),
], ids=["estimator", "lags", "treatment", "fe"])
def test_invalid_arguments_raise(kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        cp.distributed_lag(lag_panel(3, n_units=5, n_periods=6), **kwargs)


def test_dataframe_input_raises() -> None:
    with pytest.raises(SpecError, match="needs a Panel"):
        cp.distributed_lag(pd.DataFrame({"y": [1.0]}), "y", "x")
