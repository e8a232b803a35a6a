"""Tests of the feedback diagnostics (leads test, reverse regression, Dumitrescu-Hurlin).

References
----------
* R plm's ``tests/test_pgrangertest.Rout.save`` (plm on R 3.4.2, GitHub
  ycroissant/plm): ``pgrangertest(inv ~ value, data = Grunfeld)`` prints
  ``Ztilde = 3.2896, p-value = 0.001003``; with ``order = 2L``: ``Ztilde = 1.6832,
  p-value = 0.09234``; with ``order = 2L, test = "Zbar"``: ``Zbar = 2.9657,
  p-value = 0.00302``. plm's Grunfeld data (10 firms x 1935-1954) are
  statsmodels' ``grunfeld`` without "American Steel" (checked below on plm's
  printed first rows).
* Per-unit Wald statistics recomputed with statsmodels OLS ``wald_test``, and
  Z-bar / Z-tilde recomputed from the formulas of Dumitrescu & Hurlin (2012,
  eq. 12 and the finite-T moments for T - K > 5 + 2K).
* Detection / size on ``simulate_cantons`` (deaths -> enforcement two years later).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

import causalpolicing as cp
from causalpolicing.diagnostics import (
    feedback_report,
    granger_test,
    leads_test,
    reverse_regression,
)
from causalpolicing.exceptions import FewUnitsWarning, SpecError
from causalpolicing.simulate import simulate_cantons

# plm tests/test_pgrangertest.Rout.save (printed to 5 significant digits)
PLM_ZTILDE_K1, PLM_P_K1 = 3.2896, 0.001003
PLM_ZTILDE_K2, PLM_P_K2 = 1.6832, 0.09234
PLM_ZBAR_K2, PLM_ZBAR_P_K2 = 2.9657, 0.00302

pytestmark = pytest.mark.filterwarnings(
    "ignore::causalpolicing.exceptions.FewClustersWarning")


@pytest.fixture(scope="module")
def grunfeld_df() -> pd.DataFrame:
    g = sm.datasets.grunfeld.load_pandas().data
    g = g[g["firm"] != "American Steel"].copy()
    g["year"] = g["year"].astype(int)
    return g


@pytest.fixture(scope="module")
def grunfeld(grunfeld_df: pd.DataFrame) -> cp.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(grunfeld_df, unit="firm", time="year", outcome="invest",
                             treatment="value")


def cantons(seed: int, feedback: float) -> cp.Panel:
    df = simulate_cantons(seed=seed, feedback=feedback)
    return cp.load_panel(df, unit="canton", time="year", outcome="deaths",
                         treatment="offences_per_1000", exposure="population")


@pytest.fixture(scope="module")
def bundled() -> cp.Panel:
    return cp.datasets.load("simulated_cantons")


# ----------------------------------------------------------------- Grunfeld
def test_grunfeld_is_plms_data(grunfeld_df: pd.DataFrame) -> None:
    # plm's printed head: firm 1-3 in 1935 (inv, value, capital)
    first = grunfeld_df[grunfeld_df["year"] == 1935].iloc[:3]
    assert first[["invest", "value", "capital"]].to_numpy().tolist() == [
        [317.6, 3078.5, 2.8], [209.9, 1362.4, 53.8], [33.1, 1170.6, 97.8]]
    assert grunfeld_df.groupby("firm").size().tolist() == [20] * 10


@pytest.mark.parametrize(("lags", "z_tilde", "p"), [(1, PLM_ZTILDE_K1, PLM_P_K1),
                                                    (2, PLM_ZTILDE_K2, PLM_P_K2)],
                         ids=["K1", "K2"])
def test_z_tilde_matches_plm(grunfeld, lags, z_tilde, p) -> None:
    t = granger_test(grunfeld, x="value", y="invest", lags=lags)
    assert t.z_tilde == pytest.approx(z_tilde, abs=5e-5)
    assert t.p_value == pytest.approx(p, rel=5e-4)


def test_z_bar_matches_plm(grunfeld) -> None:
    t = granger_test(grunfeld, x="value", y="invest", lags=2)
    assert t.z_bar == pytest.approx(PLM_ZBAR_K2, abs=5e-5)
    assert t.z_bar_p_value == pytest.approx(PLM_ZBAR_P_K2, rel=2e-3)


def test_unit_wald_equals_statsmodels_ols(grunfeld_df, grunfeld) -> None:
    k = 2
    t = granger_test(grunfeld, x="value", y="invest", lags=k)
    expected = []
    for _, g in grunfeld_df.sort_values(["firm", "year"]).groupby("firm", sort=True):
        y, x = g["invest"].to_numpy(), g["value"].to_numpy()
        n = len(y)
        design = np.column_stack([np.ones(n - k)] + [y[k - j:n - j] for j in (1, 2)]
                                 + [x[k - j:n - j] for j in (1, 2)])
        fit = sm.OLS(y[k:], design).fit()
        r = np.zeros((k, design.shape[1]))
        r[:, 1 + k:] = np.eye(k)
        expected.append(float(np.squeeze(fit.wald_test(r, scalar=True, use_f=False).statistic)))
    np.testing.assert_allclose(t.individual["wald"], expected, rtol=1e-9)
    np.testing.assert_allclose(t.individual["p_value"], stats.chi2(k).sf(expected), rtol=1e-9)
    assert t.individual["n_obs"].tolist() == [18] * 10
    assert t.individual["periods"].tolist() == [20] * 10


def test_statistics_follow_the_paper_formulas(grunfeld) -> None:
    k, n, big_t = 2, 10, 20
    t = granger_test(grunfeld, x="value", y="invest", lags=k)
    w_bar = t.individual["wald"].mean()
    # DH (2012): T is the regression sample, T_DH = T - K
    t_dh = big_t - k
    mean = k * (t_dh - 2 * k - 1) / (t_dh - 2 * k - 3)
    var = 2 * k * (t_dh - 2 * k - 1) ** 2 * (t_dh - k - 3) / (
        (t_dh - 2 * k - 3) ** 2 * (t_dh - 2 * k - 5))
    assert t.w_bar == pytest.approx(w_bar, rel=1e-12)
    assert t.z_bar == pytest.approx(np.sqrt(n / (2 * k)) * (w_bar - k), rel=1e-12)
    assert t.z_tilde == pytest.approx(np.sqrt(n) * (w_bar - mean) / np.sqrt(var), rel=1e-12)
    assert (t.n_units, t.lags, t.balanced, t.x, t.y) == (10, 2, True, "value", "invest")


def test_too_few_periods_raise(grunfeld) -> None:
    # T_i = 20 periods, K = 5: Z-tilde needs T_i > 5 + 3K = 20
    with pytest.raises(SpecError, match=r"needs more than 20 periods per unit"):
        granger_test(grunfeld, x="value", y="invest", lags=5)


def test_same_column_raises(grunfeld) -> None:
    with pytest.raises(SpecError, match="must be different columns"):
        granger_test(grunfeld, x="value", y="value")


# ---------------------------------------------- detection on simulated cantons
def test_reverse_regression_detects_bundled_feedback(bundled) -> None:
    r = reverse_regression(bundled, lags=2, treatment="offences_per_1000",
                           per_exposure=100_000)
    assert r.verdict == "feedback detected"
    assert r.p_value < 0.01
    assert r.coefficients["term"].tolist() == ["deaths_per_100k_lag1", "deaths_per_100k_lag2"]
    assert r.coefficients.loc[1, "estimate"] > 0  # enforcement rises two years after deaths
    assert (r.df_num, r.df_denom, r.distribution) == (2, 25, "F")
    assert r.interpretation.startswith("Past deaths_per_100k predicts today's offences")


@pytest.mark.parametrize("test", ["reverse", "granger"])
def test_no_false_alarm_without_feedback(test: str) -> None:
    rejections = 0
    for seed in range(4):
        p = cantons(seed, feedback=0.0)
        if test == "reverse":
            pv = reverse_regression(p, lags=2, per_exposure=100_000).p_value
        else:
            q = p.rate("deaths")
            pv = granger_test(q, x="deaths_per_100k", y="offences_per_1000", lags=2,
                              cross_section_demean=True).p_value
        rejections += pv < 0.05
    assert rejections <= 1


def test_granger_detects_strong_feedback() -> None:
    # feedback 0.3: +0.3 offences per 1,000 per death per 100,000 two years earlier
    rejections = 0
    for seed in range(3):
        q = cantons(seed, feedback=0.3).rate("deaths")
        t = granger_test(q, x="deaths_per_100k", y="offences_per_1000", lags=2,
                         cross_section_demean=True)
        rejections += t.verdict == "feedback detected"
    assert rejections == 3


def test_granger_without_demeaning_mistakes_common_trends_for_feedback() -> None:
    # the reason feedback_report demeans: national waves in both series, no feedback
    q = cantons(1, feedback=0.0).rate("deaths")
    raw = granger_test(q, x="deaths_per_100k", y="offences_per_1000", lags=2)
    demeaned = granger_test(q, x="deaths_per_100k", y="offences_per_1000", lags=2,
                            cross_section_demean=True)
    assert raw.p_value < 0.001
    assert demeaned.p_value > 0.05


def test_leads_test_on_bundled_data(bundled) -> None:
    t = leads_test(bundled, leads=2, treatment="offences_per_1000")
    assert t.estimator == "fepois"
    assert t.coefficients["term"].tolist() == ["offences_per_1000_lead2",
                                               "offences_per_1000_lead1"]
    assert t.df_num == 2 and t.df_denom == 25 and t.distribution == "F"
    assert t.statistic == pytest.approx(t.results.leads_test.statistic, rel=1e-12)
    assert t.verdict in ("feedback detected", "no evidence of feedback")
    assert "offences_per_1000" in t.interpretation


def test_leads_test_detects_feedback_in_a_linear_panel() -> None:
    rng = np.random.default_rng(4)
    n, tt = 40, 20
    y = np.zeros((n, tt))
    x = np.zeros((n, tt))
    for t in range(tt):
        x[:, t] = 0.6 * (y[:, t - 1] if t else 0) + rng.normal(size=n)
        y[:, t] = 0.3 * x[:, t] + rng.normal(size=n)
    df = pd.DataFrame({"u": np.repeat(np.arange(n), tt), "t": np.tile(np.arange(2000, 2000 + tt), n),
                       "x": x.ravel(), "y": y.ravel()})
    panel = cp.load_panel(df, unit="u", time="t", outcome="y", treatment="x")
    t = leads_test(panel, leads=1)
    assert t.estimator == "feols"
    assert t.verdict == "feedback detected"


# ------------------------------------------------------------------- report
def test_feedback_report_frame(bundled) -> None:
    rep = feedback_report(bundled, treatment="offences_per_1000")
    frame = rep.to_frame()
    assert frame.columns.tolist() == ["name", "statistic", "p_value", "verdict",
                                      "interpretation"]
    assert frame["name"].tolist() == ["leads test", "reverse regression",
                                      "Granger (Dumitrescu-Hurlin)"]
    assert frame["p_value"].tolist() == [rep.leads.p_value, rep.reverse.p_value,
                                         rep.granger.p_value]
    assert rep.reverse.regressor == "deaths_per_100k"
    assert rep.granger.x == "deaths_per_100k" and rep.granger.y == "offences_per_1000"
    assert rep.granger.cross_section_demean is True and rep.granger.lags == 2
    assert rep.any_detected is True
    assert len(str(rep).splitlines()) == 3


def test_results_are_frozen(bundled) -> None:
    r = reverse_regression(bundled, lags=1, treatment="offences_per_1000")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.p_value = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(("fn", "kwargs", "match"), [
    (leads_test, {"leads": 0}, "leads must be a positive integer"),
    (reverse_regression, {"alpha": 5}, "alpha"),
    (granger_test, {"lags": 0}, "lags must be a positive integer"),
], ids=["leads", "alpha", "granger-lags"])
def test_invalid_arguments_raise(bundled, fn, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        fn(bundled, **kwargs)


def test_dataframe_input_raises() -> None:
    with pytest.raises(SpecError, match="needs a Panel"):
        reverse_regression(pd.DataFrame({"a": [1]}))


def test_per_exposure_needs_an_exposure() -> None:
    df = pd.DataFrame({"u": np.repeat([1, 2], 5), "t": np.tile(np.arange(2000, 2005), 2),
                       "y": np.arange(10.0), "x": np.arange(10.0) ** 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewUnitsWarning)
        panel = cp.load_panel(df, unit="u", time="t", outcome="y", treatment="x")
    with pytest.raises(SpecError, match="needs a panel with an exposure"):
        reverse_regression(panel, per_exposure=1000)


@pytest.mark.slow
def test_monte_carlo_size_of_z_tilde() -> None:
    """Under H0 (independent AR(1) series) Z-tilde rejects at about the nominal 5%."""
    rejections = 0
    reps = 200
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        n, tt = 20, 25
        e = rng.normal(size=(n, tt, 2))
        z = np.zeros((n, tt, 2))
        for t in range(1, tt):
            z[:, t] = 0.5 * z[:, t - 1] + e[:, t]
        df = pd.DataFrame({"u": np.repeat(np.arange(n), tt),
                           "t": np.tile(np.arange(1990, 1990 + tt), n),
                           "x": z[:, :, 0].ravel(), "y": z[:, :, 1].ravel()})
        panel = cp.load_panel(df, unit="u", time="t", outcome="y", treatment="x")
        rejections += granger_test(panel, x="x", y="y", lags=1).p_value < 0.05
    assert 0.02 <= rejections / reps <= 0.09
