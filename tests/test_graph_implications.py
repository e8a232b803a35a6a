"""Testable implications: enumeration (checked by networkx d-separation), the partial
correlation tests (checked against statsmodels OLS with dummies), multiple testing
(checked against hand-written Holm and Benjamini-Hochberg), and power/size on the
simulator: the true graph passes, a graph with a missing edge is flagged."""

from __future__ import annotations

import dataclasses
import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from causalpolicing.exceptions import FewClustersWarning, SpecError
from causalpolicing.graph import (
    CausalGraph,
    ImplicationTests,
    implications,
    implied_independences,
)
from causalpolicing.graph.testable import IMPLICATION_COLUMNS
from causalpolicing.simulate.graph_panel import simulate_graph_panel


@pytest.fixture(scope="module")
def sim():
    panel, truth = simulate_graph_panel(seed=21)
    return panel, truth, truth.graph.with_latent("deaths")


# ------------------------------------------------------------------ enumeration
@pytest.mark.parametrize(
    ("edges", "latent", "expected"),
    [
        ([("a", "b"), ("b", "c")], [], ["a _||_ c | b"]),
        ([("a", "c"), ("b", "c")], [], ["a _||_ b"]),
        ([("w", "x"), ("w", "y"), ("x", "m"), ("m", "y")], [],
         ["w _||_ m | x", "x _||_ y | m, w"]),
        ([("u", "a"), ("u", "b"), ("a", "c")], ["u"], ["b _||_ c | a"]),
        ([("u", "a"), ("u", "b")], ["u"], []),
    ],
    ids=["chain", "collider", "mediated", "latent-fork", "latent-only"],
)
def test_implied_independences(edges, latent, expected):
    g = CausalGraph(edges, latent=latent)
    assert [str(i) for i in implied_independences(g)] == expected


def test_every_nonadjacent_pair_of_a_fully_observed_dag_is_listed_and_d_separated(sim):
    _, truth, _ = sim
    g = truth.graph
    h = g.to_networkx()
    imps = implied_independences(g)
    pairs = {frozenset((i.x, i.y)) for i in imps}
    nonadjacent = {frozenset(p) for p in itertools.combinations(g.nodes, 2)
                   if not (h.has_edge(*p) or h.has_edge(*reversed(p)))}
    assert pairs == nonadjacent
    for i in imps:
        assert nx.is_d_separator(h, {i.x}, {i.y}, set(i.given))


def test_implications_with_latent_nodes_condition_only_on_observed(sim):
    _, truth, _ = sim
    g = truth.graph.with_latent("market_size")
    for i in implied_independences(g):
        assert "market_size" not in (i.x, i.y, *i.given)
        assert nx.is_d_separator(g.to_networkx(), {i.x}, {i.y}, set(i.given))


# ------------------------------------------------------------ the tests themselves
def test_result_table_columns_and_fields(sim):
    panel, _, good = sim
    res = implications(panel, good)
    assert isinstance(res, ImplicationTests)
    t = res.table
    assert list(t.columns) == IMPLICATION_COLUMNS
    assert res.n_tests == len(implied_independences(good)) == 15
    assert res.method == "holm" and res.alpha == 0.05 and res.cov_type == "iid"
    assert res.fixed_effects == ("unit", "year")
    assert res.graph == good
    assert t["rejected"].dtype == bool
    assert (t["nobs"] == 858).all()
    assert list(t["implication"]) == [str(i) for i in implied_independences(good)]


def test_statistics_equal_statsmodels_with_dummies(sim):
    panel, _, good = sim
    res = implications(panel, good)
    df = panel.to_frame()
    df["year"] = df["year"].astype(str)
    for row in res.table.itertuples():
        rhs = " + ".join([row.x, *row.given, "C(unit)", "C(year)"])
        ref = smf.ols(f"{row.y} ~ {rhs}", data=df).fit()
        # tolerance 1e-8: the same t test computed with dummies instead of demeaning
        assert row.statistic == pytest.approx(float(ref.tvalues[row.x]), rel=1e-8, abs=1e-10)
        assert row.p_value == pytest.approx(float(ref.pvalues[row.x]), rel=1e-7, abs=1e-12)
        assert row.df == ref.df_resid
        # partial correlation of the dummy-residualised x and y
        zs = " + ".join([*row.given, "C(unit)", "C(year)"])
        rx = smf.ols(f"{row.x} ~ {zs}", data=df).fit().resid
        ry = smf.ols(f"{row.y} ~ {zs}", data=df).fit().resid
        r = float(np.corrcoef(rx, ry)[0, 1])
        assert row.partial_corr == pytest.approx(r, rel=1e-8, abs=1e-10)


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def _bh(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)[::-1]
    adj = np.empty(m)
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, p[i] * m / rank)
        adj[i] = running
    return adj


@pytest.mark.parametrize(("method", "reference"), [("holm", _holm), ("bh", _bh)],
                         ids=["holm", "bh"])
def test_multiple_testing_adjustment(sim, method, reference):
    panel, truth, good = sim
    wrong = good.with_edges(remove=[("unemployment", "mortality")])
    res = implications(panel, wrong, method=method)
    t = res.table
    expected = reference(t["p_value"].to_numpy())
    np.testing.assert_allclose(t["p_adjusted"].to_numpy(), expected, rtol=1e-12)
    assert list(t["rejected"]) == list(expected < 0.05)
    assert res.method == method


def test_no_correction(sim):
    panel, _, good = sim
    t = implications(panel, good, method="none").table
    np.testing.assert_array_equal(t["p_adjusted"].to_numpy(), t["p_value"].to_numpy())


def test_cluster_robust_option(sim):
    panel, _, good = sim
    with pytest.warns(FewClustersWarning) as record:
        res = implications(panel, good, vcov={"CRV1": "unit"})
    assert len(record) == 1  # once, not once per implication
    t = res.table
    assert res.cov_type == "CRV1 by unit"
    assert (t["df"] == 25).all()
    iid = implications(panel, good).table
    # the same partial correlations; other statistics
    np.testing.assert_allclose(t["partial_corr"], iid["partial_corr"], rtol=1e-12)
    assert not np.allclose(t["statistic"], iid["statistic"])


# --------------------------------------------------------------- size and power
@pytest.mark.parametrize("seed", [21, 22, 23], ids=["seed21", "seed22", "seed23"])
def test_true_graph_passes(seed):
    panel, truth = simulate_graph_panel(seed=seed)
    res = implications(panel, truth.graph.with_latent("deaths"))
    assert res.n_rejected == 0
    assert res.consistent is True
    assert res.failed.empty


@pytest.mark.parametrize("seed", [21, 22, 23], ids=["seed21", "seed22", "seed23"])
def test_graph_missing_an_edge_is_flagged(seed):
    panel, truth = simulate_graph_panel(seed=seed)
    wrong = truth.graph.with_latent("deaths").with_edges(remove=[("unemployment", "mortality")])
    res = implications(panel, wrong)
    assert res.n_rejected >= 1
    assert res.consistent is False
    failed = res.failed
    assert ("unemployment", "mortality") in set(zip(failed["x"], failed["y"], strict=True))
    assert "rejected" in str(res)


# --------------------------------------------------------------------- misc
def test_result_is_frozen_and_table_is_a_copy(sim):
    panel, _, good = sim
    res = implications(panel, good)
    t = res.table
    t.loc[0, "p_value"] = -1.0
    assert res.table.loc[0, "p_value"] >= 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 0.1  # type: ignore[misc]


def test_no_fixed_effects_on_a_dataframe():
    df, truth = simulate_graph_panel(n_units=300, n_periods=1, effects_sd=0.0, seed=3,
                                     as_frame=True)
    res = implications(df, truth.graph.with_latent("deaths"), fixed_effects=())
    assert res.fixed_effects == ()
    assert res.n_tests == 15
    ref = smf.ols("unemployment ~ market_size", data=df).fit()
    row = res.table.iloc[0]
    assert row["implication"] == "market_size _||_ unemployment"
    assert row["statistic"] == pytest.approx(float(ref.tvalues["market_size"]), rel=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"method": "fdr"}, "method must be one of"), ({"alpha": 1.5}, "alpha must be"),
     ({"alpha": True}, "alpha must be")],
    ids=["method", "alpha-range", "alpha-bool"],
)
def test_argument_errors(sim, kwargs, match):
    panel, _, good = sim
    with pytest.raises(SpecError, match=match):
        implications(panel, good, **kwargs)


def test_input_panel_unchanged(sim):
    panel, _, good = sim
    before = panel.to_frame()
    implications(panel, good)
    pd.testing.assert_frame_equal(panel.to_frame(), before)


# ------------------------------------------------------------- Monte Carlo (slow)
@pytest.mark.slow
def test_monte_carlo_size_and_power_of_the_implication_tests():
    # 100 draws. Measured (seeds 500-599): the true graph is rejected (any implication, Holm)
    # in 1% of draws; the graph missing unemployment -> mortality in 100%.
    true_rejected, wrong_rejected, pvals = [], [], []
    for seed in range(500, 600):
        panel, truth = simulate_graph_panel(seed=seed)
        good = truth.graph.with_latent("deaths")
        res = implications(panel, good)
        true_rejected.append(res.n_rejected > 0)
        pvals.extend(res.table["p_value"])
        wrong = good.with_edges(remove=[("unemployment", "mortality")])
        wrong_rejected.append(implications(panel, wrong).n_rejected > 0)
    # Holm controls the familywise error at 5%: allow binomial noise (s.e. 2.2 points)
    assert np.mean(true_rejected) <= 0.10
    assert np.mean(wrong_rejected) >= 0.95
    # unadjusted p-values under the true graph: about 5% below 0.05 (1,500 correlated tests)
    assert 0.02 <= np.mean(np.asarray(pvals) < 0.05) <= 0.08
