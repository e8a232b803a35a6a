"""Post-estimation effects: rate ratios, effect_at and lincom (any results of the contract)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalpolicing as cp
from causalpolicing.estimators import effect_at, fepois, lincom, rate_ratios
from causalpolicing.exceptions import SpecError
from causalpolicing.results import BaseResults

LEVEL_Q = stats.norm.ppf(0.975)


def make_results(df_inference: int | None = None) -> BaseResults:
    names = ["x", "log(pop)", "w"]
    cov = pd.DataFrame([[0.04, 0.01, 0.0], [0.01, 0.09, 0.02], [0.0, 0.02, 0.25]], names, names)
    return BaseResults(params=pd.Series([0.1, 0.5, -0.2], index=names), cov=cov, nobs=200,
                       df_inference=df_inference, cov_type="iid", estimator="Poisson", spec={})


@pytest.fixture(scope="module")
def poisson_res():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"unit": np.repeat(np.arange(40), 8), "year": np.tile(np.arange(8), 40)})
    df["x"] = rng.normal(2.0, 3.0, len(df))
    df["pop"] = rng.integers(500, 5000, len(df)).astype(float)
    df["y"] = rng.poisson(df["pop"] / 1000 * np.exp(0.05 * df["x"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fepois("y ~ x + log(pop) | unit + year", df, vcov={"CRV1": "unit"})
    return res, df


# ------------------------------------------------------------------ rate_ratios
def test_rate_ratios_per_unit_exponentiate_estimates_and_interval() -> None:
    res = make_results()
    out = rate_ratios(res)
    assert list(out.columns) == ["term", "change", "rate_ratio", "conf_low", "conf_high",
                                 "percent_change", "pct_low", "pct_high"]
    assert out["term"].tolist() == ["x", "log(pop)", "w"]
    assert out["change"].tolist() == ["+1", "+1", "+1"]
    b = res.params.to_numpy()
    se = res.std_errors.to_numpy()
    np.testing.assert_allclose(out["rate_ratio"], np.exp(b))
    np.testing.assert_allclose(out["conf_low"], np.exp(b - LEVEL_Q * se))
    np.testing.assert_allclose(out["conf_high"], np.exp(b + LEVEL_Q * se))
    np.testing.assert_allclose(out["percent_change"], 100 * (np.exp(b) - 1))
    np.testing.assert_allclose(out["pct_low"], 100 * (np.exp(b - LEVEL_Q * se) - 1))
    np.testing.assert_allclose(out["pct_high"], 100 * (np.exp(b + LEVEL_Q * se) - 1))


def test_rate_ratios_per_ten_units_for_one_term() -> None:
    out = rate_ratios(make_results(), per={"x": 10})
    assert out["term"].tolist() == ["x"] and out["change"].tolist() == ["+10"]
    np.testing.assert_allclose(out["rate_ratio"], [math.exp(1.0)])
    np.testing.assert_allclose(out["conf_low"], [math.exp(10 * (0.1 - LEVEL_Q * 0.2))])
    np.testing.assert_allclose(out["conf_high"], [math.exp(10 * (0.1 + LEVEL_Q * 0.2))])


def test_negative_change_keeps_interval_ordered() -> None:
    out = rate_ratios(make_results(), per={"x": -2})
    assert out["change"].item() == "-2"
    np.testing.assert_allclose(out["rate_ratio"], [math.exp(-0.2)])
    np.testing.assert_allclose(out["conf_low"], [math.exp(-2 * (0.1 + LEVEL_Q * 0.2))])
    np.testing.assert_allclose(out["conf_high"], [math.exp(-2 * (0.1 - LEVEL_Q * 0.2))])


def test_percent_change_of_logged_regressor() -> None:
    out = rate_ratios(make_results(), per={"log(pop)": "10%"})
    assert out["change"].item() == "+10%"
    np.testing.assert_allclose(out["rate_ratio"], [math.exp(0.5 * math.log(1.1))])
    np.testing.assert_allclose(out["conf_high"],
                               [math.exp(math.log(1.1) * (0.5 + LEVEL_Q * 0.3))])


def test_percent_change_of_unlogged_regressor_raises() -> None:
    with pytest.raises(SpecError, match="applies to a logged regressor"):
        rate_ratios(make_results(), per={"x": "10%"})


def test_per_sd_uses_estimation_sample_sd(poisson_res) -> None:
    res, df = poisson_res
    out = rate_ratios(res, per={"x": "sd"})
    sd = df["x"].std()
    assert out["change"].item() == f"+1 SD (={sd:.3g})"
    np.testing.assert_allclose(out["rate_ratio"], [math.exp(res.params["x"] * sd)])


def test_per_sd_needs_data_for_results_without_sd() -> None:
    with pytest.raises(SpecError, match="pass the estimation data"):
        rate_ratios(make_results(), per="sd")


def test_per_sd_from_data_for_results_without_sd() -> None:
    data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    out = rate_ratios(make_results(), per={"x": "sd"}, data=data)
    np.testing.assert_allclose(out["rate_ratio"], [math.exp(0.1 * data["x"].std())])


def test_interval_uses_the_results_t_distribution() -> None:
    res = make_results(df_inference=5)
    out = rate_ratios(res, per={"w": 1}, level=0.9)
    q = stats.t(5).ppf(0.95)
    np.testing.assert_allclose(out["conf_low"], [math.exp(-0.2 - q * 0.5)])


@pytest.mark.parametrize(
    ("per", "match"),
    [({"z": 1}, "Unknown term"), ({"x": 0}, "non-zero"), ({"x": "ten"}, "must be a number"),
     ({"x": True}, "must be a number"), ({"log(pop)": "-100%"}, "above -100%")],
    ids=["unknown-term", "zero", "text", "bool", "minus-100pct"],
)
def test_invalid_per_raises(per, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        rate_ratios(make_results(), per=per)


def test_invalid_level_raises() -> None:
    with pytest.raises(SpecError, match="level"):
        rate_ratios(make_results(), level=95)


def test_effect_at_is_a_row_of_rate_ratios() -> None:
    res = make_results()
    row = effect_at(res, "x", 5)
    expected = rate_ratios(res, per={"x": 5}).iloc[0]
    pd.testing.assert_series_equal(row, expected)


def test_effect_at_unknown_term_raises() -> None:
    with pytest.raises(SpecError, match="Unknown term 'z'"):
        effect_at(make_results(), "z")


def test_rate_ratios_on_simulated_cantons_cover_truth() -> None:
    panel, card = cp.datasets.load("simulated_cantons", with_card=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                        panel)
    row = effect_at(res, "offences_per_1000")
    assert row["conf_low"] < card.true_parameters["enforcement_rr"] < row["conf_high"]


# ---------------------------------------------------------------------- lincom
def test_lincom_dict_estimate_and_se() -> None:
    res = make_results()
    out = lincom(res, {"x": 1, "log(pop)": 1})
    assert list(out.columns) == ["expression", "estimate", "std_error", "statistic",
                                 "p_value", "conf_low", "conf_high"]
    se = math.sqrt(0.04 + 0.09 + 2 * 0.01)
    row = out.iloc[0]
    assert row["expression"] == "1*x + 1*log(pop)"
    np.testing.assert_allclose([row["estimate"], row["std_error"], row["statistic"]],
                               [0.6, se, 0.6 / se])
    np.testing.assert_allclose(row["p_value"], 2 * stats.norm.sf(0.6 / se))
    np.testing.assert_allclose([row["conf_low"], row["conf_high"]],
                               [0.6 - LEVEL_Q * se, 0.6 + LEVEL_Q * se])


def test_lincom_string_equals_dict() -> None:
    res = make_results()
    a = lincom(res, "2*x - 0.5*w + log(pop)")
    b = lincom(res, {"x": 2, "w": -0.5, "log(pop)": 1})
    assert a["expression"].item() == "2*x - 0.5*w + log(pop)"
    pd.testing.assert_frame_equal(a.drop(columns="expression"), b.drop(columns="expression"))


def test_lincom_single_term_reproduces_tidy_for_linear_model() -> None:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"g": np.repeat(np.arange(30), 5), "x": rng.normal(size=150),
                       "w": rng.normal(size=150)})
    df["y"] = df["x"] + 0.5 * df["w"] + rng.normal(size=150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.feols("y ~ x + w | g", df, vcov={"CRV1": "g"})
    out = lincom(res, "x").iloc[0]
    tidy = res.tidy().set_index("term").loc["x"]
    for col in ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]:
        np.testing.assert_allclose(out[col], tidy[col], rtol=1e-12)


def test_lincom_uses_normal_for_contract_objects_without_df() -> None:
    class Minimal:
        params = pd.Series({"a": 1.0, "b": 2.0})
        cov = pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], ["a", "b"], ["a", "b"])

    out = lincom(Minimal(), "a - b").iloc[0]
    np.testing.assert_allclose(out["p_value"], 2 * stats.norm.sf(1 / math.sqrt(2)))


@pytest.mark.parametrize(
    ("expr", "match"),
    [("x +", "ends with an operator"), ("2 x", "must multiply a term"),
     ("x w", "expected '\\+' or '-'"), ("x / 2", "Cannot read"), ("", "empty"),
     ("__import__('os')", "Cannot read|Unknown term"), ("z", "Unknown term 'z'")],
    ids=["trailing-op", "number-no-star", "two-names", "division", "empty", "code", "unknown"],
)
def test_lincom_rejects_bad_expressions(expr: str, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        lincom(make_results(), expr)


@pytest.mark.parametrize(
    ("weights", "match"),
    [({"x": "one"}, "finite numbers"), ({"z": 1}, "Unknown term"), ({}, "no term"),
     (3, "must be a dict")],
    ids=["text-weight", "unknown", "empty", "wrong-type"],
)
def test_lincom_rejects_bad_weights(weights, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        lincom(make_results(), weights)


# ------------------------------------------- one change parser for tables and sentences
@pytest.mark.parametrize(
    ("change", "term"),
    [(0, "x"), (0.0, "x"), ("0%", "log(pop)"), ("-100%", "log(pop)"), (True, "x"),
     ("ten", "x"), (float("nan"), "x"), ("10%", "x"), ("sd", "x")],
    ids=["zero", "zero-float", "zero-pct", "minus-100pct", "bool", "text", "nan",
         "pct-of-unlogged", "sd-without-data"],
)
def test_rate_ratios_and_sentences_refuse_the_same_changes(change, term: str) -> None:
    from causalpolicing.report import describe_effect

    with pytest.raises(SpecError) as from_table:
        rate_ratios(make_results(), per={term: change})
    with pytest.raises(SpecError) as from_sentence:
        describe_effect(make_results(), term, change=change)
    assert str(from_table.value) == str(from_sentence.value)


@pytest.mark.parametrize(
    ("change", "term"),
    [(1, "x"), (-2.5, "w"), ("10%", "log(pop)"), (" -5 % ", "log(pop)"), ("SD", "x")],
    ids=["one-unit", "negative", "ten-pct", "minus-five-pct", "sd"],
)
def test_rate_ratios_and_sentences_read_a_change_alike(change, term: str) -> None:
    from causalpolicing.report import describe_effect

    data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 4.0]})
    row = rate_ratios(make_results(), per={term: change}, data=data).iloc[0]
    sentence = describe_effect(make_results(), term, change=change, data=data)
    ch = cp.estimators.parse_change(change, term, data=data)
    assert row["change"] == ch.label
    np.testing.assert_allclose(row["rate_ratio"], math.exp(ch.value * make_results().params[term]))
    assert f"{abs(row['percent_change']):.1f}%" in sentence


def test_parse_change_forms() -> None:
    assert cp.estimators.parse_change(3, "x") == cp.estimators.Change(3.0, "units")
    pct = cp.estimators.parse_change("10%", "log(pop)")
    assert (pct.kind, pct.percent, pct.value) == ("percent", 10.0, math.log1p(0.1))
    sd = cp.estimators.parse_change(" sd ", "x", data=pd.DataFrame({"x": [0.0, 2.0]}))
    assert (sd.kind, sd.value, sd.label) == ("sd", math.sqrt(2), "+1 SD (=1.41)")
