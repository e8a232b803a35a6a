"""Tests of cp.febinomial and cp.odds_ratios (binomial logit GLM; statsmodels is the engine).

References: statsmodels ``GLM(family=Binomial())`` fitted directly with the
``(deaths, trials - deaths)`` outcome, and with a 0/1 outcome expanded to two
rows per observation carrying ``freq_weights`` (the same likelihood); simulated
data with known log odds ratios for recovery.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalpolicing as cp
from causalpolicing.exceptions import FewClustersWarning, FewUnitsWarning, SpecError

pytestmark = pytest.mark.filterwarnings(
    "ignore::causalpolicing.exceptions.FewClustersWarning")


def binom_panel(seed: int, n_units: int = 20, n_periods: int = 25,
                beta: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods),
                       "year": np.tile(np.arange(1980, 1980 + n_periods), n_units)})
    df["enf"] = rng.normal(size=len(df))
    df["users"] = rng.integers(2_000, 20_000, len(df))
    eta = -4.0 + beta * df["enf"] + rng.normal(0, 0.3, n_units)[df["unit"]] \
        + rng.normal(0, 0.2, n_periods)[df["year"] - 1980]
    df["deaths"] = rng.binomial(df["users"], 1 / (1 + np.exp(-eta)))
    return df


def series(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(1975, 2008)
    df = pd.DataFrame({"country": "CH", "year": t, "users": 25_000,
                       "enf": rng.normal(3, 1, t.size)})
    df["sin14_1"] = np.sin(2 * np.pi * (t - 1975) / 14)
    df["cos14_1"] = np.cos(2 * np.pi * (t - 1975) / 14)
    eta = -5.0 + 0.2 * df["enf"] + 0.4 * df["sin14_1"] - 0.2 * df["cos14_1"]
    df["deaths"] = rng.binomial(df["users"], 1 / (1 + np.exp(-eta)))
    return df


@pytest.fixture(scope="module")
def pdf() -> pd.DataFrame:
    return binom_panel(3)


@pytest.fixture(scope="module")
def fe_fit(pdf: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return cp.febinomial("deaths ~ enf | unit + year", pdf, trials="users")


@pytest.fixture(scope="module")
def sm_fe(pdf: pd.DataFrame):
    x = np.column_stack([pdf["enf"], pd.get_dummies(pdf["unit"]).to_numpy(float),
                         pd.get_dummies(pdf["year"]).to_numpy(float)[:, 1:]])
    endog = np.column_stack([pdf["deaths"], pdf["users"] - pdf["deaths"]])
    return sm.GLM(endog, x, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": pdf["unit"].to_numpy()}, use_t=True)


def test_fe_params_equal_statsmodels(fe_fit, sm_fe) -> None:
    assert fe_fit.params["enf"] == pytest.approx(sm_fe.params[0], abs=1e-10)


def test_fe_cluster_std_error_equals_statsmodels(fe_fit, sm_fe) -> None:
    assert fe_fit.std_errors["enf"] == pytest.approx(sm_fe.bse[0], rel=1e-8)
    assert fe_fit.pvalues["enf"] == pytest.approx(sm_fe.pvalues[0], rel=1e-8)


def test_fe_metadata(fe_fit, pdf) -> None:
    assert fe_fit.estimator == "FEBinomial"
    assert fe_fit.nobs == len(pdf)
    assert fe_fit.cov_type == "CRV1 by unit"
    assert fe_fit.n_clusters == 20
    assert fe_fit.df_inference == 19
    assert fe_fit.link == "logit"
    assert fe_fit.family == "binomial"
    assert fe_fit.spec["trials"] == "users"
    assert np.isnan(fe_fit.alpha)


def test_freq_weighted_bernoulli_gives_identical_numbers(pdf) -> None:
    small = pdf.iloc[:120].copy()
    res = cp.febinomial("deaths ~ enf", small, trials="users", vcov="iid")
    long = pd.DataFrame({
        "y": np.r_[np.ones(len(small)), np.zeros(len(small))],
        "enf": np.r_[small["enf"], small["enf"]],
        "w": np.r_[small["deaths"], small["users"] - small["deaths"]],
    })
    ref = sm.GLM(long["y"], sm.add_constant(long[["enf"]]), family=sm.families.Binomial(),
                 freq_weights=long["w"]).fit()
    # identical likelihood; the two IRLS runs stop at slightly different iterates (1e-8 rel.)
    np.testing.assert_allclose(res.params[["Intercept", "enf"]], ref.params[["const", "enf"]],
                               rtol=1e-6)
    np.testing.assert_allclose(res.std_errors[["Intercept", "enf"]], ref.bse[["const", "enf"]],
                               rtol=1e-6)


def test_recovers_log_odds_ratio() -> None:
    df = binom_panel(8, n_units=40, n_periods=20, beta=0.3)
    res = cp.febinomial("deaths ~ enf | unit + year", df, trials="users")
    assert abs(res.params["enf"] - 0.3) < 3 * res.std_errors["enf"]


# ------------------------------------------------------------- time series
def test_hac_equals_statsmodels_newey_west() -> None:
    df = series(1)
    res = cp.febinomial("deaths ~ enf + sin14_1 + cos14_1", df, trials="users",
                        vcov={"HAC": 3})
    endog = np.column_stack([df["deaths"], df["users"] - df["deaths"]])
    ref = sm.GLM(endog, sm.add_constant(df[["enf", "sin14_1", "cos14_1"]]),
                 family=sm.families.Binomial()).fit(cov_type="HAC", cov_kwds={"maxlags": 3})
    np.testing.assert_allclose(res.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)
    assert res.cov_type == "HAC (Newey-West, 3 lags)"
    assert res.df_inference is None


def test_single_unit_panel_with_harmonic_defaults_to_hetero() -> None:
    df = series(2).drop(columns=["sin14_1", "cos14_1"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewUnitsWarning)
        panel = cp.load_panel(df, unit="country", time="year", outcome="deaths",
                              treatment="enf")
    panel = panel.harmonic(period=14)
    res = cp.febinomial("deaths ~ enf + sin14_1 + cos14_1", panel, trials="users")
    assert res.cov_type == "HC1"  # "hetero" means HC1 for every estimator
    assert res.spec["vcov_source"] == "default for a single-unit Panel: HC1"
    assert list(res.params.index) == ["Intercept", "enf", "sin14_1", "cos14_1"]
    assert abs(res.params["sin14_1"] - 0.4) < 3 * res.std_errors["sin14_1"]


def test_pearson_dispersion_equals_statsmodels_x2_scale() -> None:
    df = series(3)
    res = cp.febinomial("deaths ~ enf", df, trials="users", vcov="iid", dispersion="pearson")
    endog = np.column_stack([df["deaths"], df["users"] - df["deaths"]])
    ref = sm.GLM(endog, sm.add_constant(df[["enf"]]), family=sm.families.Binomial()).fit(
        scale="X2")
    np.testing.assert_allclose(res.std_errors.to_numpy(), ref.bse.to_numpy(), rtol=1e-8)


# -------------------------------------------------------------- odds ratios
def test_odds_ratios_are_exponentiated_scaled_coefficients(fe_fit) -> None:
    tab = cp.odds_ratios(fe_fit, per={"enf": 2.0})
    ci = fe_fit.conf_int()
    assert tab.loc[0, "odds_ratio"] == pytest.approx(np.exp(2 * fe_fit.params["enf"]), rel=1e-12)
    assert tab.loc[0, "conf_low"] == pytest.approx(np.exp(2 * ci.loc["enf", "conf_low"]),
                                                   rel=1e-12)
    assert tab.loc[0, "conf_high"] == pytest.approx(np.exp(2 * ci.loc["enf", "conf_high"]),
                                                    rel=1e-12)
    assert tab.loc[0, "p_value"] == pytest.approx(fe_fit.pvalues["enf"], rel=1e-10)
    assert tab.loc[0, "percent_change"] == pytest.approx(
        100 * (tab.loc[0, "odds_ratio"] - 1), rel=1e-12)


def test_odds_ratios_refuse_log_link_results() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300)})
    df["y"] = rng.poisson(np.exp(0.5 + 0.2 * df["x"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.fenegbin("y ~ x", df)
    with pytest.raises(SpecError, match="needs a logit model"):
        cp.odds_ratios(res)


# -------------------------------------------------------------- validation
def test_trials_below_deaths_raise(pdf) -> None:
    df = pdf.copy()
    df.loc[0, "users"] = df.loc[0, "deaths"] - 1
    with pytest.raises(SpecError, match="at least the outcome"):
        cp.febinomial("deaths ~ enf", df, trials="users", vcov="iid")


def test_hac_on_a_multi_unit_panel_raises() -> None:
    df = binom_panel(1, n_units=3, n_periods=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewUnitsWarning)
        panel = cp.load_panel(df, unit="unit", time="year", outcome="deaths", treatment="enf")
    with pytest.raises(SpecError, match="single time series"):
        cp.febinomial("deaths ~ enf", panel, trials="users", vcov="HAC")


def test_trials_must_be_a_column_name() -> None:
    with pytest.raises(SpecError, match="trials must be the name"):
        cp.febinomial("deaths ~ enf", pd.DataFrame(), trials=5)  # type: ignore[arg-type]


def test_unit_without_deaths_is_dropped_as_separated(pdf) -> None:
    df = pdf.copy()
    df.loc[df["unit"] == 2, "deaths"] = 0
    res = cp.febinomial("deaths ~ enf | unit + year", df, trials="users")
    assert res.dropped["reason"].unique().tolist() == [
        "outcome zero (or equal to trials) in every row of its fixed-effect level (separation)"]
    assert len(res.dropped) == 25
    assert res.nobs == len(df) - 25
    assert res.fe_table["levels"].tolist() == [19, 25]
