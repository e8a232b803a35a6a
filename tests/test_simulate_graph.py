"""simulate_graph_panel: determinism, layout, roles, the truth object, and recovery of
its path coefficients by regressions on each node's parents (cp.feols, checked against
statsmodels with dummies in test_feols)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import DatasetError
from causalpolicing.simulate.graph_panel import (
    GRAPH_PANEL_DEFAULTS,
    GraphPanelTruth,
    graph_panel_dag,
    simulate_graph_panel,
)

COLUMNS = ["unit", "year", "market_size", "unemployment", "budget_shock", "enforcement",
           "harm_reduction_access", "risky_use", "mortality", "media_attention", "population",
           "deaths"]


def test_same_seed_same_panel():
    a, _ = simulate_graph_panel(seed=4)
    b, _ = simulate_graph_panel(seed=4)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_other_seed_other_panel():
    a, _ = simulate_graph_panel(seed=4)
    b, _ = simulate_graph_panel(seed=5)
    assert not np.allclose(a.column("enforcement"), b.column("enforcement"))


def test_panel_layout_and_roles():
    panel, _ = simulate_graph_panel(n_units=12, n_periods=7, seed=1)
    df = panel.to_frame()
    assert list(df.columns) == COLUMNS
    assert len(df) == 84 and panel.n_units == 12 and panel.n_periods == 7
    assert panel.is_balanced
    assert panel.outcomes == ("mortality", "deaths")
    assert dict(panel.outcome_kinds) == {"mortality": "continuous", "deaths": "count"}
    assert panel.treatments == ("enforcement",)
    assert panel.exposure == "population"
    assert panel.covariates == ("market_size", "unemployment")
    assert df["unit"].iloc[0] == "u01"
    assert str(df["year"].iloc[0]) == "1975"
    assert (df["deaths"] >= 0).all()
    assert df.groupby("unit")["population"].nunique().eq(1).all()


def test_as_frame_cross_section():
    df, _ = simulate_graph_panel(n_units=50, n_periods=1, effects_sd=0.0, seed=2, as_frame=True)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == COLUMNS
    assert len(df) == 50 and (df["year"] == 1975).all()


def test_truth_fields_with_defaults():
    _, truth = simulate_graph_panel(seed=9)
    assert isinstance(truth, GraphPanelTruth)
    assert truth.total_effect == 0.95
    assert truth.indirect_effect == 0.4
    assert truth.direct_effect == 0.55
    assert truth.controlled_direct_effect == 0.4
    assert truth.indirect_effect_risky_use == 0.15
    assert truth.share_mediated == pytest.approx(0.4 / 0.95, rel=1e-12)
    assert truth.total_effect == pytest.approx(truth.direct_effect + truth.indirect_effect)
    assert (truth.treatment, truth.outcome, truth.mediator) == (
        "enforcement", "mortality", "harm_reduction_access")
    assert (truth.instrument, truth.collider) == ("budget_shock", "media_attention")
    assert truth.adjustment_set == ("market_size", "unemployment")
    assert truth.graph == graph_panel_dag()
    assert dict(truth.coefficients) == GRAPH_PANEL_DEFAULTS
    assert truth.seed == 9


def test_truth_follows_custom_coefficients():
    _, truth = simulate_graph_panel(seed=1, direct=0.0, enf_to_access=-1.0,
                                    access_to_mortality=-0.5, enf_to_risky=0.0)
    assert truth.total_effect == 0.5
    assert truth.indirect_effect == 0.5
    assert truth.direct_effect == 0.0
    assert truth.share_mediated == 1.0


def test_truth_is_frozen():
    _, truth = simulate_graph_panel(seed=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        truth.total_effect = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        truth.coefficients["direct"] = 1.0  # type: ignore[index]


def test_the_graph_matches_the_panel_columns():
    panel, truth = simulate_graph_panel(seed=1)
    assert set(truth.graph.observed) <= set(panel.columns)
    assert truth.graph.validate(panel) is truth.graph


# ------------------------------------------------- recovery of the path coefficients
@pytest.fixture(scope="module")
def big():
    return simulate_graph_panel(n_units=150, n_periods=20, seed=77)


@pytest.mark.parametrize(
    ("node", "coefs"),
    [
        ("enforcement", {"market_size": 0.6, "unemployment": 0.4, "budget_shock": 0.5}),
        ("harm_reduction_access", {"enforcement": -0.5}),
        ("risky_use", {"enforcement": 0.3, "market_size": 0.5}),
        ("mortality", {"enforcement": 0.4, "harm_reduction_access": -0.8, "risky_use": 0.5,
                       "market_size": 0.7, "unemployment": 0.5}),
        ("media_attention", {"enforcement": 0.5, "mortality": 0.5}),
    ],
    ids=["enforcement", "access", "risky_use", "mortality", "media"],
)
def test_regression_on_parents_recovers_coefficients(big, node, coefs):
    panel, truth = big
    parents = truth.graph.parents(node)
    assert set(parents) == set(coefs)
    res = cp.feols(f"{node} ~ {' + '.join(parents)} | unit + year", panel, vcov="iid")
    for name, value in coefs.items():
        # 3,000 rows, unit-variance shocks: s.e. about 0.02; allow 5 s.e.
        assert abs(float(res.params[name]) - value) < 5 * float(res.std_errors[name])


def test_total_effect_recovered_on_a_large_panel(big):
    panel, truth = big
    res = cp.feols("mortality ~ enforcement + market_size + unemployment | unit + year", panel,
                   vcov="iid")
    assert abs(float(res.params["enforcement"]) - truth.total_effect) < 5 * float(
        res.std_errors["enforcement"])


def test_deaths_mean_follows_mortality_and_population(big):
    panel, _ = big
    df = panel.to_frame()
    expected = df["population"] * df["mortality"].clip(lower=0.1) / 1e5
    # Poisson: the sum of (deaths - mean) / sqrt(sum of means) is standard normal
    z = (df["deaths"] - expected).sum() / np.sqrt(expected.sum())
    assert abs(z) < 4


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_units": 1}, "n_units"), ({"n_periods": 0}, "n_periods"), ({"seed": -1}, "seed"),
     ({"seed": 1.5}, "seed"), ({"effects_sd": -1.0}, "effects_sd"),
     ({"noise_sd": float("nan")}, "noise_sd"), ({"bogus": 1.0}, "Unknown coefficient"),
     ({"direct": float("inf")}, "finite")],
    ids=["units", "periods", "seed-negative", "seed-float", "effects-sd", "noise-nan",
         "unknown-coef", "inf-coef"],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(DatasetError, match=match):
        simulate_graph_panel(**kwargs)
