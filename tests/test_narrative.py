"""Narrative: sentences per effect (numbers checked against statsmodels and closed forms)
and caveats triggered by real results, diagnostics and panels."""

from __future__ import annotations

import re
import warnings
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

import causalpolicing as cp
from causalpolicing.diagnostics import granger_test, leads_test
from causalpolicing.exceptions import SpecError
from causalpolicing.report.narrative import (
    CAVEAT_KINDS,
    Caveat,
    caveats,
    describe_effect,
    describe_results,
    effect_kind,
    is_log_outcome,
)
from causalpolicing.report.narrative.checks import OLEA_PFLUEGER_CRITICAL_F
from causalpolicing.results import BaseResults

OFFENCE_UNIT = ("possession offence per 1,000 residents", "possession offences per 1,000 residents")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def synthetic(b: float, se: float, *, link: str | None = None, depvar: str = "deaths",
              term: str = "x", n_clusters: int | None = None, cov_type: str = "iid",
              warnings_: tuple[str, ...] = ()) -> BaseResults:
    """One-coefficient results with a normal reference distribution: CI = b +- 1.96 se."""
    spec = {"depvar": depvar}
    if link is not None:
        spec["link"] = link
    return BaseResults(params=pd.Series({term: b}), cov=pd.DataFrame([[se**2]], [term], [term]),
                       nobs=500, df_inference=None, cov_type=cov_type, estimator="test",
                       spec=spec, n_clusters=n_clusters, warnings=warnings_)


@pytest.fixture(scope="module")
def cantons():
    return cp.datasets.load("simulated_cantons")


# =========================================================== golden sentences
# Expected numbers worked out by hand from the closed forms (normal CI, z = 1.959964):
GOLDEN = [
    pytest.param(
        # the example: exp(0.0715) = 1.0741; exp(0.0715 -+ 1.96*0.025877) = 1.0210, 1.1300
        dict(b=0.0715, se=0.025877, link="log"),
        dict(outcome_label="drug-related deaths", unit_label=OFFENCE_UNIT),
        "An increase of 1 possession offence per 1,000 residents is associated with 7.4% more "
        "drug-related deaths (95% CI 2.1% to 13.0%).", id="count-issue-example"),
    pytest.param(
        # a unit and an explicit treatment label: the treatment is named too
        dict(b=0.0715, se=0.025877, link="log"),
        dict(outcome_label="drug-related deaths", unit_label=OFFENCE_UNIT,
             treatment_label="neighbouring cantons"),
        "An increase of 1 possession offence per 1,000 residents in neighbouring cantons is "
        "associated with 7.4% more drug-related deaths (95% CI 2.1% to 13.0%).",
        id="count-unit-and-label"),
    pytest.param(
        dict(b=0.0715, se=0.025877, link="log"),
        dict(outcome_label="drug-related deaths", unit_label=OFFENCE_UNIT, causal=True),
        "An increase of 1 possession offence per 1,000 residents leads to 7.4% more "
        "drug-related deaths (95% CI 2.1% to 13.0%).", id="count-causal-wording"),
    pytest.param(
        # exp(0.715) = 2.0442; exp(10 * CI) = 1.2310, 3.3945; >= 100% -> no decimals
        dict(b=0.0715, se=0.025877, link="log"),
        dict(change=10, outcome_label="drug-related deaths", unit_label=OFFENCE_UNIT),
        "An increase of 10 possession offences per 1,000 residents is associated with 104% more "
        "drug-related deaths (95% CI 23% to 239%).", id="count-ten-units-plural"),
    pytest.param(
        # exp(-0.5) - 1 = -39.35%; exp(-0.5 -+ 0.196) - 1 = -50.14%, -26.21%
        dict(b=-0.5, se=0.1, link="log"), {},
        "An increase of 1 unit in x is associated with 39.3% fewer deaths "
        "(95% CI 26.2% to 50.1%).", id="count-negative"),
    pytest.param(
        # change -1: exp(0.5) - 1 = 64.87%; exp(0.304), exp(0.696) -> 35.5%, 100.6%
        dict(b=-0.5, se=0.1, link="log"), dict(change=-1),
        "A decrease of 1 unit in x is associated with 64.9% more deaths "
        "(95% CI 35.5% to 100.6%).", id="count-decrease-of-regressor"),
    pytest.param(
        # exp(0.03) - 1 = 3.05%; exp(-0.0092) - 1 = -0.92%; exp(0.0692) - 1 = 7.16%
        dict(b=0.03, se=0.02, link="log"), {},
        "An increase of 1 unit in x is associated with 3.0% more deaths, but the data are "
        "consistent with anything from 0.9% fewer to 7.2% more (95% CI).",
        id="count-not-significant"),
    pytest.param(
        # OR exp(0.2776) = 1.3200; exp(0.2776 -+ 0.1372) = 1.1507, 1.5141
        dict(b=0.2776, se=0.07, link="logit"), dict(outcome_label="death"),
        "An increase of 1 unit in x is associated with 32.0% higher odds of death "
        "(odds ratio 1.32, 95% CI 1.15 to 1.51).", id="binomial-odds-ratio"),
    pytest.param(
        # OR exp(0.1) = 1.105; CI exp(0.1 -+ 0.392) = 0.747, 1.635
        dict(b=0.1, se=0.2, link="logit"), dict(outcome_label="death"),
        "An increase of 1 unit in x is associated with 10.5% higher odds of death (odds ratio "
        "1.11), but the data are consistent with odds ratios anywhere from 0.75 to 1.64 "
        "(95% CI).", id="binomial-not-significant"),
    pytest.param(
        # -0.5 -+ 0.392 = -0.892, -0.108
        dict(b=-0.5, se=0.2, depvar="violent_crime"), dict(outcome_label="violent crimes per 1,000"),
        "An increase of 1 unit in x is associated with a decrease of 0.50 in violent crimes per "
        "1,000 (95% CI 0.11 to 0.89).", id="linear-negative"),
    pytest.param(
        # thousands separators: 12345.6 -+ 196.0 = 12149.6, 12541.6 (no decimals)
        dict(b=12345.6, se=100.0, depvar="y"), {},
        "An increase of 1 unit in x is associated with an increase of 12,346 in y "
        "(95% CI 12,150 to 12,542).", id="linear-thousands-separators"),
    pytest.param(
        # 2.5 -+ 3.92 = -1.42, 6.42
        dict(b=2.5, se=2.0, depvar="y"), {},
        "An increase of 1 unit in x is associated with an increase of 2.5 in y, but the data "
        "are consistent with anything from a decrease of 1.4 to an increase of 6.4 (95% CI).",
        id="linear-not-significant"),
    pytest.param(
        # log outcome: exp(0.05) - 1 = 5.13%; exp(0.0304) - 1 = 3.09%; exp(0.0696) - 1 = 7.21%
        dict(b=0.05, se=0.01, depvar="log(wage)"), {},
        "An increase of 1 unit in x is associated with about 5.1% higher wage "
        "(95% CI 3.1% to 7.2%).", id="log-outcome-about"),
    pytest.param(
        # 10% of a logged regressor: c = log(1.1) = 0.09531; 2c = 0.1906; c(2 -+ 0.98) = 0.097, 0.284
        dict(b=2.0, se=0.5, depvar="deaths", term="log(pop)"), dict(change="10%"),
        "A 10% increase in pop is associated with an increase of 0.19 in deaths "
        "(95% CI 0.10 to 0.28).", id="percent-change-of-logged-regressor"),
]


@pytest.mark.parametrize(("make", "kwargs", "expected"), GOLDEN)
def test_golden_sentence(make, kwargs, expected) -> None:
    term = make.get("term", "x")
    assert describe_effect(synthetic(**make), term, **kwargs) == expected


def test_golden_sentence_sd_change_from_data() -> None:
    # SD of 0..4 = sqrt(2.5) = 1.5811; exp(0.15811) = 1.1713; exp(1.5811 * (0.1 -+ 0.0392))
    # = 1.1009, 1.2462
    res = synthetic(0.1, 0.02, link="log")
    data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0]})
    assert describe_effect(res, "x", change="sd", data=data) == (
        "An increase of one standard deviation (1.58) in x is associated with 17.1% more "
        "deaths (95% CI 10.1% to 24.6%).")


def test_golden_sentence_binary_treatment() -> None:
    data = pd.DataFrame({"x": [0, 1, 1, 0]})
    res = synthetic(-0.5, 0.1, link="log")
    assert describe_effect(res, "x", data=data, treatment_label="crackdown") == (
        "Crackdown (treated vs untreated) is associated with 39.3% fewer deaths "
        "(95% CI 26.2% to 50.1%).")


def test_golden_sentence_other_level() -> None:
    # 90%: z = 1.644854; exp(-0.5 -+ 0.16449) - 1 = -48.55%, -28.49%
    res = synthetic(-0.5, 0.1, link="log")
    assert describe_effect(res, "x", level=0.9) == (
        "An increase of 1 unit in x is associated with 39.3% fewer deaths "
        "(90% CI 28.5% to 48.5%).")


def test_golden_sentence_poisson_fit_on_simulated_cantons(cantons) -> None:
    res = quiet(cp.fepois, "deaths ~ offences_per_1000 | canton + year", cantons)
    assert describe_effect(res, "offences_per_1000", outcome_label="drug-related deaths",
                           unit_label=OFFENCE_UNIT) == (
        "An increase of 1 possession offence per 1,000 residents is associated with 5.6% more "
        "drug-related deaths (95% CI 2.7% to 8.5%).")


# ================================================ numbers vs independent fits
_PCT_SENTENCE = re.compile(
    r"with (?:about )?([\d,.]+)% (more|fewer|higher|lower) .*\((\d+)% CI ([\d,.]+)% to "
    r"([\d,.]+)%\)\.$")


def parse_percent(sentence: str) -> tuple[float, float, float, int]:
    """(estimate, low, high, decimals) as signed percentages from a significant sentence."""
    m = _PCT_SENTENCE.search(sentence)
    assert m is not None, sentence
    sign = 1.0 if m.group(2) in ("more", "higher") else -1.0
    vals = [float(m.group(i).replace(",", "")) * sign for i in (1, 4, 5)]
    decimals = len(m.group(1).split(".")[1]) if "." in m.group(1) else 0
    lo, hi = sorted(vals[1:])
    return vals[0], lo, hi, decimals


@pytest.fixture(scope="module")
def poisson_vs_statsmodels(cantons):
    """fepois (iid, no small-sample factor) and the same model as a statsmodels GLM with
    dummies and an offset (model-based standard errors)."""
    res = quiet(cp.fepois, "deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                cantons, vcov="iid", ssc="none")
    df = cantons.to_frame()
    df["year_c"] = df["year"].astype(str)
    glm = smf.glm("deaths ~ offences_per_1000 + substitution_coverage + C(canton) + C(year_c)",
                  df, family=sm.families.Poisson(), offset=np.log(df["population"])).fit(
        tol=1e-12)
    return res, glm


@pytest.mark.parametrize("term", ["offences_per_1000", "substitution_coverage"])
@pytest.mark.parametrize("change", [1.0, 0.1], ids=["per-1", "per-0.1"])
def test_count_sentence_numbers_match_statsmodels_glm(poisson_vs_statsmodels, term,
                                                      change) -> None:
    res, glm = poisson_vs_statsmodels
    b, se = float(glm.params[term]), float(glm.bse[term])
    q = stats.t.ppf(0.975, res.df_inference)  # the fit's reference distribution (t, df 799)
    lo, hi = sorted((change * (b - q * se), change * (b + q * se)))
    truth = 100 * np.expm1([change * b, lo, hi])
    est, plo, phi, d = parse_percent(describe_effect(res, term, change=change))
    # printed to d decimals: within half a unit of the last digit (plus 1e-6 for the
    # fepois-vs-GLM difference, which is below 1e-8 in the coefficients)
    np.testing.assert_allclose([est, plo, phi], truth, rtol=0, atol=0.5 * 10**-d + 1e-6)


@pytest.mark.parametrize("term", ["offences_per_1000", "substitution_coverage"])
def test_count_sentence_numbers_match_rate_ratios_per_sd(cantons, term) -> None:
    res = quiet(cp.fepois, "deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                cantons)
    row = cp.rate_ratios(res, per="sd").set_index("term").loc[term]
    est, lo, hi, d = parse_percent(describe_effect(res, term, change="sd"))
    np.testing.assert_allclose([est, lo, hi],
                               [row["percent_change"], row["pct_low"], row["pct_high"]],
                               rtol=0, atol=0.5 * 10**-d + 1e-12)


def test_binomial_sentence_matches_odds_ratios(cantons) -> None:
    res = quiet(cp.febinomial, "deaths ~ offences_per_1000 | canton + year", cantons,
                trials="population")
    sentence = describe_effect(res, "offences_per_1000", outcome_label="death")
    m = re.search(r"odds ratio ([\d.]+), 95% CI ([\d.]+) to ([\d.]+)\)", sentence)
    assert m is not None, sentence
    ref = cp.odds_ratios(res).set_index("term").loc["offences_per_1000"]
    np.testing.assert_allclose([float(m.group(i)) for i in (1, 2, 3)],
                               [ref["odds_ratio"], ref["conf_low"], ref["conf_high"]],
                               rtol=0, atol=0.005 + 1e-12)


def test_linear_sentence_matches_statsmodels_ols() -> None:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"x": rng.normal(size=300)})
    df["y"] = 1.0 + 0.8 * df["x"] + rng.normal(size=300)
    res = cp.feols("y ~ x", df, vcov="iid")
    ols = smf.ols("y ~ x", df).fit()
    ci = ols.conf_int().loc["x"]
    sentence = describe_effect(res, "x")
    m = re.search(r"an increase of ([\d.]+) in y \(95% CI ([\d.]+) to ([\d.]+)\)", sentence)
    assert m is not None, sentence
    d = len(m.group(1).split(".")[1])
    np.testing.assert_allclose([float(m.group(i)) for i in (1, 2, 3)],
                               [ols.params["x"], ci[0], ci[1]], rtol=0, atol=0.5 * 10**-d + 1e-9)


# ======================================================== rules and options
@pytest.mark.parametrize(("depvar", "expected"), [
    ("log(deaths)", True), ("LOG(deaths)", True), ("log_deaths", True), ("ln(deaths)", True),
    ("ln_deaths", True), ("l_deaths", True), ("lcrmrte", False), ("logins", False),
    ("deaths", False), ("blog_posts", False),
])
def test_log_outcome_rule_reads_only_the_documented_prefixes(depvar, expected) -> None:
    assert is_log_outcome(synthetic(0.1, 0.1, depvar=depvar)) is expected


def test_log_outcome_can_be_forced_either_way() -> None:
    res = synthetic(0.05, 0.01, depvar="lcrmrte")
    assert "about 5.1% higher lcrmrte" in describe_effect(res, "x", log_outcome=True)
    forced_off = describe_effect(synthetic(0.05, 0.01, depvar="log(w)"), "x", log_outcome=False)
    assert "an increase of 0.050 in log(w)" in forced_off


@pytest.mark.parametrize(("spec", "estimator", "expected"), [
    ({"link": "log"}, "X", "log"), ({"link": "logit"}, "X", "logit"),
    ({}, "FEPoisson", "log"), ({}, "FENegBin", "log"), ({}, "FEBinomial", "logit"),
    ({}, "FEOLS", "identity"), ({}, "FE-2SLS", "identity"),
])
def test_effect_kind_from_link_or_estimator_name(spec, estimator, expected) -> None:
    res = BaseResults(params=pd.Series({"x": 0.1}), cov=pd.DataFrame([[0.01]], ["x"], ["x"]),
                      nobs=10, df_inference=None, cov_type="iid", estimator=estimator, spec=spec)
    assert effect_kind(res) == expected


def test_describe_results_uses_panel_treatments_in_model_order(cantons) -> None:
    res = quiet(cp.fepois, "deaths ~ unemployment + substitution_coverage + offences_per_1000 "
                "| canton + year", cantons)
    out = describe_results(res, data=cantons)
    assert len(out) == 2  # unemployment is a covariate, not a treatment
    assert out[0].startswith("An increase of 1 unit in offences_per_1000 ")
    assert out[1].startswith("An increase of 1 unit in substitution_coverage ")


def test_describe_results_without_panel_skips_the_intercept() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=100), "w": rng.normal(size=100)})
    df["y"] = df["x"] + rng.normal(size=100)
    res = cp.feols("y ~ x + w", df, vcov="iid")
    out = describe_results(res, change={"w": 2}, treatment_labels={"x": "policing"})
    assert [s.split(" is associated")[0] for s in out] == [
        "An increase of 1 unit in policing", "An increase of 2 units in w"]


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(term="nope"), "Unknown term 'nope'"),
    (dict(term="x", change="10%"), "applies to a logged regressor"),
    (dict(term="x", change=0), "finite and non-zero"),
    (dict(term="x", change=True), "must be a number"),
    (dict(term="x", change="a lot"), "must be a number"),
    (dict(term="x", change="sd"), "pass the estimation data"),
    (dict(term="x", level=95), "level must be a number strictly between 0 and 1"),
    (dict(term="x", unit_label=("a",)), "unit_label must be a string"),
    (dict(term="x", outcome_label=3), "outcome_label must be a string"),
    (dict(term="x", causal="yes"), "causal must be True or False"),
    (dict(term="x", log_outcome="yes"), "log_outcome must be True, False or None"),
])
def test_describe_effect_rejects_bad_arguments(kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        describe_effect(synthetic(0.1, 0.1), **kwargs)


def test_describe_results_rejects_change_for_an_undescribed_term() -> None:
    with pytest.raises(SpecError, match=r"change names term\(s\) \['z'\]"):
        describe_results(synthetic(0.1, 0.1), change={"z": 1})


# ================================================================== caveats
def test_caveat_is_frozen_and_validated() -> None:
    c = Caveat("few_clusters", "high", "m")
    with pytest.raises(FrozenInstanceError):
        c.kind = "x"  # type: ignore[misc]
    with pytest.raises(SpecError, match="Caveat kind must be one of"):
        Caveat("nonsense", "high", "m")
    with pytest.raises(SpecError, match="severity must be one of"):
        Caveat("few_clusters", "urgent", "m")


def test_few_clusters_caveat_from_clustered_feols_on_26_cantons(cantons) -> None:
    res = quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", cantons,
                vcov={"CRV1": "canton"})
    assert res.n_clusters == 26
    found = caveats(res)
    assert [(c.kind, c.severity) for c in found] == [("few_clusters", "medium")]
    assert "Only 26 clusters (CRV1 by canton)" in found[0].message
    assert "wild_bootstrap" in found[0].message and "CRV3" in found[0].message


def test_few_clusters_caveat_is_high_below_20_clusters() -> None:
    found = caveats(synthetic(0.1, 0.1, n_clusters=12, cov_type="CRV1 by state"))
    assert [(c.kind, c.severity) for c in found] == [("few_clusters", "high")]


def test_few_clusters_caveat_is_low_under_crv3(cantons) -> None:
    res = quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", cantons,
                vcov={"CRV3": "canton"})
    found = caveats(res)
    assert [(c.kind, c.severity) for c in found] == [("few_clusters", "low")]
    assert found[0].message.startswith("Only 26 clusters (CRV3 by canton)")


def test_few_clusters_caveat_uses_smallest_of_two_way_clusters() -> None:
    found = caveats(synthetic(0.1, 0.1, n_clusters=(50, 30), cov_type="CRV1 by a + b"))
    assert [c.kind for c in found] == ["few_clusters"] and "Only 30 clusters" in found[0].message


@pytest.mark.parametrize("case", ["threshold-lowered", "iid", "many-clusters"])
def test_few_clusters_caveat_not_raised(cantons, case) -> None:
    if case == "threshold-lowered":
        res = quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", cantons)
        assert caveats(res, few_clusters=26) == []
        return
    if case == "iid":
        res = cp.feols("deaths ~ offences_per_1000 | canton + year", cantons, vcov="iid")
        assert res.n_clusters is None
    else:
        rng = np.random.default_rng(5)
        df = pd.DataFrame({"g": np.repeat(np.arange(60), 5), "x": rng.normal(size=300)})
        df["y"] = df["x"] + rng.normal(size=300)
        res = cp.feols("y ~ x | g", df, vcov={"CRV1": "g"})
        assert res.n_clusters == 60
    assert caveats(res) == []


def _iv_data(strength: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 500
    df = pd.DataFrame({"g": np.repeat(np.arange(100), 5), "z": rng.normal(size=n)})
    u = rng.normal(size=n)
    df["x"] = strength * df["z"] + u + rng.normal(size=n)
    df["y"] = df["x"] + u + rng.normal(size=n)
    return df


def test_weak_instrument_caveat_high_below_10() -> None:
    res = quiet(cp.feols, "y ~ 1 | x ~ z", _iv_data(0.05, 0), vcov={"CRV1": "g"})
    eff = float(res.first_stage["effective_f"].iloc[0])
    assert eff < 10
    found = [c for c in caveats(res) if c.kind == "weak_instruments"]
    assert [c.severity for c in found] == ["high"]
    m = re.search(r"effective F = ([\d.]+), below the rule of thumb of 10", found[0].message)
    assert m is not None and float(m.group(1)) == pytest.approx(eff, rel=5e-3)  # 3 digits


def test_weak_instrument_caveats_with_two_endogenous_regressors() -> None:
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"z1": rng.normal(size=n), "z2": rng.normal(size=n)})
    u = rng.normal(size=n)
    df["x1"] = 0.05 * df["z1"] + u + rng.normal(size=n)
    df["x2"] = 0.05 * df["z2"] + rng.normal(size=n)
    df["y"] = df["x1"] + df["x2"] + u + rng.normal(size=n)
    res = quiet(cp.feols, "y ~ 1 | x1 + x2 ~ z1 + z2", df, vcov="hetero")
    fs = res.first_stage
    assert (fs["partial_f"] < 10).all() and fs["cragg_donald_f"].iloc[0] < 10
    found = [c for c in caveats(res) if c.kind == "weak_instruments"]
    assert [c.severity for c in found] == ["high", "high", "high"]
    assert found[0].message.startswith("Weak instruments for x1: partial F = ")
    assert found[1].message.startswith("Weak instruments for x2: partial F = ")
    assert found[2].message.startswith("Weak instruments: Cragg-Donald F = ")


def test_convergence_caveat_from_unconverged_poisson_fit(cantons) -> None:
    res = quiet(cp.fepois, "deaths ~ offences_per_1000 | canton + year", cantons, maxiter=1)
    assert res.converged is False
    found = [c for c in caveats(res) if c.kind == "convergence"]
    assert [c.severity for c in found] == ["high"]
    assert found[0].message.startswith("IRLS did not converge in 1 iterations")


def test_weak_instrument_caveat_medium_below_olea_pflueger_critical_value() -> None:
    res = quiet(cp.feols, "y ~ 1 | x ~ z", _iv_data(0.25, 0), vcov={"CRV1": "g"})
    eff = float(res.first_stage["effective_f"].iloc[0])
    assert 10 <= eff < OLEA_PFLUEGER_CRITICAL_F  # precondition of this case
    found = [c for c in caveats(res) if c.kind == "weak_instruments"]
    assert [c.severity for c in found] == ["medium"]
    assert "23.1" in found[0].message


def test_weak_instrument_caveat_not_raised_for_strong_instrument(cantons) -> None:
    res = quiet(cp.feols, "deaths ~ 1 | canton + year | offences_per_1000 ~ budget_shock",
                cantons)
    assert float(res.first_stage["effective_f"].iloc[0]) > 1000
    assert [c.kind for c in caveats(res)] == ["few_clusters"]


def test_feedback_caveat_from_feedback_report_on_simulated_cantons(cantons) -> None:
    rep = quiet(cp.diagnostics.feedback_report, cantons, treatment="offences_per_1000")
    detected = [t.name for t in rep.tests if t.verdict == "feedback detected"]
    assert detected == ["reverse regression"]  # the simulated feedback (deaths -> enforcement)
    found = caveats(diagnostics=rep, panel=cantons)
    assert [(c.kind, c.severity) for c in found] == [("feedback", "medium")]
    assert found[0].message.startswith("Reverse regression: " + rep.reverse.interpretation)


def test_feedback_caveat_high_for_significant_leads() -> None:
    rng = np.random.default_rng(8)
    units, years = 40, 15
    df = pd.DataFrame({"u": np.repeat(np.arange(units), years),
                       "t": np.tile(np.arange(2000, 2000 + years), units)})
    df["x"] = rng.normal(size=len(df))
    lead = df.groupby("u")["x"].shift(-1).fillna(0.0)
    df["y"] = 2.0 * lead + rng.normal(size=len(df))  # future x "predicts" y
    panel = quiet(cp.load_panel, df, unit="u", time="t", outcome={"y": "continuous"},
                  treatment="x")
    lt = quiet(leads_test, panel, leads=1)
    assert lt.verdict == "feedback detected"
    found = caveats(diagnostics=lt)
    assert [(c.kind, c.severity) for c in found] == [("feedback", "high")]
    assert found[0].message.startswith("Leads test: Future x predicts today's y")


def test_feedback_caveat_not_raised_when_checks_do_not_reject(cantons) -> None:
    lt = quiet(leads_test, cantons, leads=2, treatment="offences_per_1000")
    assert lt.verdict == "no evidence of feedback"
    assert caveats(diagnostics=[lt]) == []


def test_granger_of_treatment_to_outcome_is_not_feedback(cantons) -> None:
    gt = granger_test(cantons, x="offences_per_1000", y="deaths", lags=1)
    forced = type(gt)(**{**gt.__dict__, "verdict": "feedback detected"})  # pretend it rejects
    assert caveats(diagnostics=forced, panel=cantons) == []
    assert [c.kind for c in caveats(diagnostics=forced)] == ["feedback"]  # no panel: no roles


class Refutation:
    def __init__(self, name: str, passed: bool, p_value: float, reading: str) -> None:
        self.name, self.passed, self.p_value, self.reading = name, passed, p_value, reading


def test_failed_refutation_caveat_from_objects_and_frame() -> None:
    refs = [Refutation("placebo treatment", True, 0.71, "The effect vanishes."),
            Refutation("random common cause", False, 0.004, "The estimate moves.")]
    found = caveats(refutations=refs)
    assert found == [Caveat("failed_refutation", "high",
                            "Refutation 'random common cause' failed (p = 0.004): "
                            "The estimate moves.")]
    frame = pd.DataFrame([r.__dict__ for r in refs])
    assert caveats(refutations=frame) == found
    assert caveats(refutations=refs[:1]) == []


def test_refutations_without_required_attributes_are_rejected() -> None:
    with pytest.raises(SpecError, match="name, passed"):
        caveats(refutations=[object()])
    with pytest.raises(SpecError, match=r"lacks column\(s\) \['reading'\]"):
        caveats(refutations=pd.DataFrame({"name": ["a"], "passed": [True], "p_value": [0.1]}))


def test_failed_implication_caveat() -> None:
    imp = pd.DataFrame({"implication": ["u _||_ y | w", "a _||_ b"], "p_value": [0.3, 0.0001],
                        "p_adjusted": [0.6, 0.0002], "rejected": [False, True]})
    found = caveats(implications=imp)
    assert [(c.kind, c.severity) for c in found] == [("failed_implication", "high")]
    assert found[0].message.startswith("1 of 2 testable implications")
    assert "a _||_ b (adjusted p < 0.001)" in found[0].message
    assert caveats(implications=imp.assign(rejected=False)) == []
    with pytest.raises(SpecError, match=r"lacks column\(s\) \['p_adjusted', 'rejected'\]"):
        caveats(implications=imp[["implication", "p_value"]])


def test_dropped_rows_caveat_from_panel_drop_log() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"u": np.repeat(np.arange(30), 10), "t": np.tile(np.arange(2000, 2010), 30),
                       "y": rng.poisson(5, 300).astype(float), "x": rng.normal(size=300)})
    df.loc[:29, "y"] = np.nan   # 30 rows without outcome
    df.loc[100:104, "x"] = np.nan  # 5 without treatment
    panel = quiet(cp.load_panel, df, unit="u", time="t", outcome="y", treatment="x")
    assert len(panel.drop_log) == 35
    found = caveats(panel=panel)
    assert [(c.kind, c.severity) for c in found] == [("dropped_rows", "medium")]
    counts = panel.drop_log["reason"].value_counts()
    assert found[0].message.startswith("35 of 300 source rows (11.7%) were dropped while "
                                       f"loading: 30 {counts.index[0]}; 5 {counts.index[1]}.")


def test_dropped_rows_caveat_not_raised_without_drops(cantons) -> None:
    assert cantons.drop_log.empty
    assert caveats(panel=cantons) == []


def test_estimation_drops_and_collinearity_caveats() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"u": np.repeat(np.arange(50), 4), "t": np.tile(np.arange(4), 50)})
    df["x"] = rng.normal(size=len(df))
    df["x2"] = 2 * df["x"]
    df["y"] = rng.poisson(2, size=len(df)).astype(float)
    df.loc[df["u"] == 5, "y"] = 0.0  # an all-zero unit: 4 rows dropped by the Poisson fit
    res = quiet(cp.fepois, "y ~ x + x2 | u + t", df)
    found = caveats(res)
    assert [(c.kind, c.severity) for c in found] == [("collinearity", "medium"),
                                                    ("dropped_rows", "low")]
    assert "x2 (collinear with x)" in found[0].message
    assert found[1].message == ("The estimation left out 4 row(s) (2.0%): 4 all-zero outcome "
                                "in its u level.")


def test_convergence_caveat_from_recorded_warning() -> None:
    msg = "IRLS did not converge in 3 iterations (maxiter=3)."
    found = caveats(synthetic(0.1, 0.1, warnings_=(msg,)))
    assert found == [Caveat("convergence", "high", msg)]


def test_other_recorded_warnings_become_estimation_warnings() -> None:
    found = caveats(synthetic(0.1, 0.1, warnings_=("Something odd happened.",)))
    assert found == [Caveat("estimation_warning", "medium", "Something odd happened.")]


def test_shared_caveats_of_several_models_are_merged(cantons) -> None:
    a = quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", cantons)
    b = quiet(cp.fepois, "deaths ~ offences_per_1000 | canton + year", cantons)
    found = caveats({"OLS": a, "Poisson": b})
    assert len(found) == 1 and found[0].message.startswith("Models OLS, Poisson: Only 26")


def test_caveats_sorted_by_severity() -> None:
    imp = pd.DataFrame({"implication": ["a _||_ b"], "p_value": [0.01], "p_adjusted": [0.01],
                        "rejected": [True]})
    found = caveats(synthetic(0.1, 0.1, n_clusters=30, cov_type="CRV1 by g"), implications=imp)
    assert [c.severity for c in found] == ["high", "medium"]
    assert set(c.kind for c in found) <= set(CAVEAT_KINDS)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(results="model"), "results must be a results object"),
    (dict(panel=pd.DataFrame()), "panel must be a Panel"),
    (dict(diagnostics=3.0), "diagnostics must be a FeedbackReport"),
    (dict(implications=[1]), "implications must be a DataFrame"),
    (dict(few_clusters=0), "few_clusters must be a positive integer"),
])
def test_caveats_rejects_bad_arguments(kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        caveats(**kwargs)


def test_caveats_with_nothing_given_is_empty() -> None:
    assert caveats() == []


@pytest.mark.parametrize(("values", "kwargs", "expected"), [
    ([7.43, 2.11, 12.96], dict(percent=True), 1),
    ([250.0, 120.0, 400.0], dict(percent=True), 0),
    ([0.042, 0.01, 0.09], dict(percent=True), 3),
    ([1.32, 1.15, 1.51], dict(ratio=True), 2),
    ([7.43, 7.41, 7.46], dict(percent=True), 2),  # raised until the three are told apart
    ([0.0, -1.0, 1.0], {}, 1),  # a zero estimate: two digits of the largest interval end
])
def test_shared_decimals(values, kwargs, expected) -> None:
    from causalpolicing.report.narrative._numbers import shared_decimals

    assert shared_decimals(values, **kwargs) == expected
