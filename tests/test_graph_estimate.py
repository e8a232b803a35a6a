"""cp.graph.estimate and the DoWhy plug-in estimator: recovery of the simulator's truth,
equality with cp.feols / cp.fepois, DoWhy's linear regression and DoWhy's own API."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalpolicing as cp
from causalpolicing.exceptions import ColumnNotFoundError, FewClustersWarning, SpecError
from causalpolicing.graph import (
    CausalGraph,
    GraphEstimate,
    NotIdentifiedError,
    PanelFEEstimator,
    dowhy_model,
    estimate,
)
from causalpolicing.graph.dowhy_estimator import METHOD_NAME
from causalpolicing.simulate.graph_panel import simulate_graph_panel

logging.getLogger("dowhy").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def sim():
    return simulate_graph_panel(seed=11)


@pytest.fixture(scope="module")
def cross_section():
    # a cross-section: one period, no unit or period effects
    return simulate_graph_panel(n_units=400, n_periods=1, effects_sd=0.0, seed=5, as_frame=True)


# ------------------------------------------------------------------ recovery
@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_estimate_covers_the_total_effect(seed):
    panel, truth = simulate_graph_panel(seed=seed)
    res = estimate(panel, truth.graph, "enforcement", "mortality", vcov={"CRV3": "unit"})
    lo, hi = res.conf_int(0.95)
    assert lo < truth.total_effect < hi
    assert abs(res.effect - truth.total_effect) < 0.15


def test_wrong_graph_misses_the_truth(sim):
    # dropping unemployment -> mortality drops unemployment from the adjustment set: biased
    panel, truth = sim
    wrong = truth.graph.with_edges(remove=[("unemployment", "mortality")])
    res = estimate(panel, wrong, "enforcement", "mortality", vcov={"CRV3": "unit"})
    assert res.adjustment == ("market_size",)
    lo, _ = res.conf_int(0.95)
    assert lo > truth.total_effect


# -------------------------------------------------------------- fields and equality
def test_estimate_fields_and_equality_with_feols(sim):
    panel, truth = sim
    res = estimate(panel, truth.graph, "enforcement", "mortality", vcov={"CRV3": "unit"})
    direct = cp.feols("mortality ~ enforcement + market_size + unemployment | unit + year",
                      panel, vcov={"CRV3": "unit"})
    assert isinstance(res, GraphEstimate)
    assert res.treatment == "enforcement" and res.outcome == "mortality"
    assert res.treatment_column == "enforcement" and res.outcome_column == "mortality"
    assert res.adjustment == ("market_size", "unemployment")
    assert res.adjustment_columns == ("market_size", "unemployment")
    assert res.formula == "mortality ~ enforcement + market_size + unemployment | unit + year"
    assert res.estimator == "feols"
    assert res.term == "enforcement"
    assert res.identification.minimal == ("market_size", "unemployment")
    pd.testing.assert_series_equal(res.results.params, direct.params)
    pd.testing.assert_frame_equal(res.results.cov, direct.cov)
    # deliberate exact equality: the graph estimate runs the same cp.feols call on the same
    # data in the same process (not another implementation), so every bit must agree
    assert res.effect == float(direct.params["enforcement"])
    assert res.std_error == float(direct.std_errors["enforcement"])
    assert res.p_value == float(direct.pvalues["enforcement"])
    ci = direct.conf_int(0.9).loc["enforcement"]
    assert res.conf_int(0.9) == (ci["conf_low"], ci["conf_high"])
    pd.testing.assert_frame_equal(res.tidy(), direct.tidy())
    assert "enforcement -> mortality" in repr(res)


def test_estimate_is_frozen(sim):
    panel, truth = sim
    res = estimate(panel, truth.graph, "enforcement", "mortality", vcov="iid")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.formula = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("adjustment", "expected"),
    [("minimal", ("market_size", "unemployment")),
     ("default", ("market_size", "unemployment")),
     ("maximal", ("budget_shock", "market_size", "unemployment")),
     (["unemployment", "market_size", "budget_shock"],
      ("budget_shock", "market_size", "unemployment"))],
    ids=["minimal", "default", "maximal", "explicit"],
)
def test_adjustment_choices(sim, adjustment, expected):
    panel, truth = sim
    res = estimate(panel, truth.graph, "enforcement", "mortality", adjustment=adjustment,
                   vcov="iid")
    assert res.adjustment == expected
    assert res.formula == ("mortality ~ enforcement + " + " + ".join(expected)
                           + " | unit + year")


def test_default_treatment_and_outcome_from_panel_roles(sim):
    panel, truth = sim
    res = estimate(panel, truth.graph, vcov="iid")
    assert (res.treatment, res.outcome) == ("enforcement", "mortality")


def test_column_mapping_is_used(sim):
    panel, truth = sim
    g = CausalGraph([("confounder", "police"), ("confounder", "rate"), ("police", "rate"),
                     ("unemployment", "police"), ("unemployment", "rate")],
                    columns={"confounder": "market_size", "police": "enforcement",
                             "rate": "mortality"})
    res = estimate(panel, g, "police", "rate", vcov="iid")
    assert res.adjustment == ("confounder", "unemployment")
    assert res.adjustment_columns == ("market_size", "unemployment")
    assert res.formula == "mortality ~ enforcement + market_size + unemployment | unit + year"


def test_fepois_with_exposure_equals_fepois(sim):
    panel, truth = sim
    res = estimate(panel, truth.graph, "enforcement", "deaths", estimator="fepois",
                   vcov={"CRV3": "unit"})
    direct = cp.fepois("deaths ~ enforcement + market_size + unemployment | unit + year", panel,
                       vcov={"CRV3": "unit"})
    assert res.estimator == "fepois"
    assert res.results.spec["exposure"] == "population"
    pd.testing.assert_series_equal(res.results.params, direct.params)
    assert res.effect > 0


def test_lagged_node_column_is_created(sim):
    panel, _ = sim
    g = CausalGraph([("market_size", "enforcement"), ("market_size", "mortality"),
                     ("mortality_lag1", "enforcement"), ("mortality_lag1", "mortality"),
                     ("enforcement", "mortality")])
    res = estimate(panel, g, "enforcement", "mortality", vcov="iid")
    direct = cp.feols("mortality ~ enforcement + market_size + mortality_lag1 | unit + year",
                      panel.lag("mortality", 1), vcov="iid")
    assert res.adjustment == ("market_size", "mortality_lag1")
    assert res.results.nobs == 858 - 26
    pd.testing.assert_series_equal(res.results.params, direct.params)


def test_no_fixed_effects_gives_ols_with_intercept(cross_section):
    df, truth = cross_section
    res = estimate(df, truth.graph, "enforcement", "mortality", fixed_effects=(), vcov="iid")
    assert res.formula == "mortality ~ enforcement + market_size + unemployment"
    assert list(res.results.params.index) == ["Intercept", "enforcement", "market_size",
                                              "unemployment"]


# ------------------------------------------------------------------ errors
def test_latent_confounder_raises_with_the_open_path(sim):
    panel, truth = sim
    with pytest.raises(NotIdentifiedError, match="enforcement <- market_size -> mortality"):
        estimate(panel, truth.graph.with_latent("market_size"), "enforcement", "mortality")


@pytest.mark.parametrize(
    ("adjustment", "match"),
    [(["market_size"], "Adjusting for 'unemployment' would close it"),
     (["market_size", "unemployment", "media_attention"], "descendant of the treatment"),
     (["market_size", "unemployment", "harm_reduction_access"], "descendant of the treatment")],
    ids=["missing-confounder", "collider", "mediator"],
)
def test_invalid_adjustment_raises(sim, adjustment, match):
    panel, truth = sim
    with pytest.raises(NotIdentifiedError, match=match):
        estimate(panel, truth.graph, "enforcement", "mortality", adjustment=adjustment)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"estimator": "ols"}, SpecError, "estimator must be one of"),
     ({"exposure": "population"}, SpecError, "applies to estimator='fepois' only"),
     ({"adjustment": "smallest"}, SpecError, "adjustment must be"),
     ({"fixed_effects": ("region",)}, ColumnNotFoundError, "region")],
    ids=["estimator", "exposure-with-feols", "adjustment-name", "unknown-fe"],
)
def test_estimate_argument_errors(sim, kwargs, error, match):
    panel, truth = sim
    with pytest.raises(error, match=match):
        estimate(panel, truth.graph, "enforcement", "mortality", **kwargs)


def test_dataframe_needs_treatment(cross_section):
    df, truth = cross_section
    with pytest.raises(SpecError, match="treatment= is required"):
        estimate(df, truth.graph, fixed_effects=())


def test_graph_column_missing_from_panel_raises(sim):
    panel, truth = sim
    g = truth.graph.with_edges(add=[("prices", "enforcement")])
    with pytest.raises(ColumnNotFoundError, match="prices"):
        estimate(panel, g, "enforcement", "mortality")


# --------------------------------------------------------- against DoWhy (cross-section)
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")  # inside DoWhy
def test_cross_section_identification_and_estimate_equal_dowhy(cross_section):
    df, truth = cross_section
    model = dowhy_model(df, truth.graph, "enforcement", "mortality")
    estimand = model.identify_effect()
    theirs = model.estimate_effect(estimand, method_name="backdoor.linear_regression")
    ours = estimate(df, truth.graph, "enforcement", "mortality", adjustment="default",
                    fixed_effects=(), vcov="iid")
    assert ours.adjustment == tuple(sorted(estimand.get_backdoor_variables()))
    # tolerance: 1e-8 relative (both are least squares on the same columns)
    assert ours.effect == pytest.approx(theirs.value, rel=1e-8)
    # DoWhy's fitted statsmodels OLS gives the same (iid) standard error
    assert ours.std_error == pytest.approx(float(theirs.estimator.model.bse.iloc[1]), rel=1e-8)


def test_cross_section_equals_statsmodels_ols(cross_section):
    df, truth = cross_section
    ours = estimate(df, truth.graph, "enforcement", "mortality", fixed_effects=(), vcov="iid")
    X = sm.add_constant(df[["enforcement", "market_size", "unemployment"]])
    ref = sm.OLS(df["mortality"], X).fit()
    assert ours.effect == pytest.approx(float(ref.params["enforcement"]), rel=1e-10)
    assert ours.std_error == pytest.approx(float(ref.bse["enforcement"]), rel=1e-8)


# ------------------------------------------------------------------ instruments
def test_iv_when_a_latent_confounder_blocks_adjustment(sim):
    panel, truth = sim
    g = truth.graph.with_latent("market_size")
    res = estimate(panel, g, "enforcement", "mortality", method="iv", vcov={"CRV3": "unit"})
    direct = cp.feols("mortality ~ 1 | unit + year | enforcement ~ budget_shock", panel,
                      vcov={"CRV3": "unit"})
    assert res.method == "iv" and res.instruments == ("budget_shock",)
    assert res.adjustment == () and res.adjustment_columns == ()
    assert res.formula == "mortality ~ 1 | unit + year | enforcement ~ budget_shock"
    assert res.results.estimator == "FE-2SLS"
    pd.testing.assert_series_equal(res.results.params, direct.params)
    lo, hi = res.conf_int()
    assert lo < truth.total_effect < hi
    assert "IV with ['budget_shock']" in repr(res)


def test_iv_with_exogenous_controls(sim):
    panel, truth = sim
    g = truth.graph.with_latent("market_size")
    res = estimate(panel, g, "enforcement", "mortality", method="iv",
                   adjustment=["unemployment"], vcov="iid")
    assert res.formula == "mortality ~ unemployment | unit + year | enforcement ~ budget_shock"
    assert list(res.results.params.index) == ["unemployment", "enforcement"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"adjustment": ["harm_reduction_access"]}, NotIdentifiedError, "exogenous controls"),
     ({"adjustment": ["budget_shock"]}, NotIdentifiedError, "exogenous controls"),
     ({"estimator": "fepois"}, SpecError, "use estimator='feols'"),
     ({"method": "frontdoor"}, SpecError, "method must be")],
    ids=["mediator-control", "instrument-control", "fepois", "unknown-method"],
)
def test_iv_errors(sim, kwargs, error, match):
    panel, truth = sim
    kw = {"method": "iv", **kwargs}
    with pytest.raises(error, match=match):
        estimate(panel, truth.graph.with_latent("market_size"), "enforcement", "mortality", **kw)


def test_iv_without_instrument_raises(sim):
    panel, truth = sim
    g = truth.graph.with_latent("market_size").with_edges(remove=[("budget_shock",
                                                                   "enforcement")])
    with pytest.raises(NotIdentifiedError, match="no instrument"):
        estimate(panel, g, "enforcement", "mortality", method="iv")


def test_cross_section_iv_equals_dowhy_instrumental_variable():
    df, truth = simulate_graph_panel(n_units=500, n_periods=1, effects_sd=0.0, seed=4,
                                     as_frame=True)
    g = truth.graph.with_latent("market_size")
    model = dowhy_model(df, g, "enforcement", "mortality")
    estimand = model.identify_effect()
    theirs = model.estimate_effect(estimand, method_name="iv.instrumental_variable")
    ours = estimate(df, g, "enforcement", "mortality", method="iv", fixed_effects=(),
                    vcov="iid")
    assert tuple(estimand.instrumental_variables) == ours.instruments
    # tolerance 1e-8 relative: the Wald ratio and 2SLS with one instrument are the same number
    assert ours.effect == pytest.approx(theirs.value, rel=1e-8)


# --------------------------------------------------------- the DoWhy plug-in estimator
def _plugin_estimate(panel, truth, **method_params):
    model = dowhy_model(panel, truth.graph, "enforcement", "mortality")
    estimand = model.identify_effect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return model.estimate_effect(estimand, method_name=METHOD_NAME,
                                     method_params=method_params, confidence_intervals=True,
                                     test_significance=True)


def test_plugin_estimator_equals_graph_estimate(sim):
    panel, truth = sim
    est = _plugin_estimate(panel, truth, fixed_effects=["unit", "year"],
                           vcov={"CRV3": "unit"})
    ours = estimate(panel, truth.graph, "enforcement", "mortality", adjustment="default",
                    vcov={"CRV3": "unit"})
    assert isinstance(est.estimator, PanelFEEstimator)
    assert est.value == pytest.approx(ours.effect, rel=1e-12)
    assert est.estimator.formula == ours.formula
    assert float(est.get_standard_error()[0]) == pytest.approx(ours.std_error, rel=1e-12)
    lo, hi = ours.conf_int(0.95)
    np.testing.assert_allclose(est.get_confidence_intervals(), [[lo, hi]], rtol=1e-12)
    assert float(est.test_stat_significance()["p_value"][0]) == pytest.approx(ours.p_value,
                                                                             rel=1e-12)
    assert est.estimator.results.cov_type == "CRV3 by unit"


def test_plugin_estimator_scales_by_treatment_contrast(sim):
    panel, truth = sim
    model = dowhy_model(panel, truth.graph, "enforcement", "mortality")
    estimand = model.identify_effect()
    one = model.estimate_effect(estimand, method_name=METHOD_NAME,
                                method_params={"fixed_effects": ["unit", "year"], "vcov": "iid"})
    two = model.estimate_effect(estimand, method_name=METHOD_NAME, control_value=1.0,
                                treatment_value=3.0,
                                method_params={"fixed_effects": ["unit", "year"], "vcov": "iid"})
    assert two.value == pytest.approx(2 * one.value, rel=1e-12)


@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")  # inside DoWhy
def test_plugin_estimator_without_fixed_effects_equals_linear_regression(cross_section):
    df, truth = cross_section
    model = dowhy_model(df, truth.graph, "enforcement", "mortality")
    estimand = model.identify_effect()
    ours = model.estimate_effect(estimand, method_name=METHOD_NAME,
                                 method_params={"vcov": "iid"})
    theirs = model.estimate_effect(estimand, method_name="backdoor.linear_regression")
    assert ours.value == pytest.approx(theirs.value, rel=1e-8)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [("random_common_cause", {"num_simulations": 3}),
     ("data_subset_refuter", {"num_simulations": 3, "subset_fraction": 0.8}),
     ("placebo_treatment_refuter", {"num_simulations": 3, "placebo_type": "permute"})],
    ids=["random-common-cause", "data-subset", "placebo"],
)
def test_dowhy_refuters_run_on_the_plugin_estimator(sim, method, kwargs):
    panel, truth = sim
    model = dowhy_model(panel, truth.graph, "enforcement", "mortality")
    estimand = model.identify_effect()
    est = model.estimate_effect(estimand, method_name=METHOD_NAME,
                                method_params={"fixed_effects": ["unit", "year"], "vcov": "iid"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = model.refute_estimate(estimand, est, method_name=method, random_seed=1, **kwargs)
    assert ref.estimated_effect == est.value
    if method == "placebo_treatment_refuter":
        assert abs(ref.new_effect) < 0.2  # a permuted treatment has no effect
    else:
        assert abs(ref.new_effect - est.value) < 0.1
    assert est.estimator.results is not None  # the original fit is untouched


def test_plugin_estimator_rejects_missing_fixed_effect_column(sim):
    panel, truth = sim
    with pytest.raises(SpecError, match="region"):
        _plugin_estimate(panel, truth, fixed_effects=["region"])


def test_plugin_estimator_rejects_bad_estimator_name(sim):
    panel, truth = sim
    with pytest.raises(SpecError, match="estimator must be one of"):
        _plugin_estimate(panel, truth, estimator="ols")


# ------------------------------------------------------------- Monte Carlo (slow)
@pytest.mark.slow
def test_monte_carlo_coverage_of_graph_estimate():
    # 200 draws (seeds 1000-1199), CRV3 by unit, 26 clusters. Measured: coverage 97.0%
    # (CRV1: 96.0%), mean estimate 0.9495 for a truth of 0.95, sd 0.042.
    hits = []
    for seed in range(200):
        panel, truth = simulate_graph_panel(seed=1000 + seed)
        res = estimate(panel, truth.graph, "enforcement", "mortality", vcov={"CRV3": "unit"})
        lo, hi = res.conf_int(0.95)
        hits.append(lo < truth.total_effect < hi)
    coverage = float(np.mean(hits))
    # binomial s.e. at 95% and 200 draws: 1.5 points; allow 3.5 s.e.
    assert 0.897 <= coverage <= 0.999
