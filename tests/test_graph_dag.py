"""CausalGraph: construction (edges, DOT, GML), validation, conversion; templates."""

from __future__ import annotations

import dataclasses

import matplotlib
import networkx as nx
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import ColumnNotFoundError
from causalpolicing.graph import (
    CausalGraph,
    CycleError,
    GraphError,
    as_graph,
    identify,
    list_templates,
    parse_dot,
    template,
)
from causalpolicing.graph.templates import TEMPLATES

matplotlib.use("Agg")


# ----------------------------------------------------------------- construction
def test_edges_constructor_fields():
    g = CausalGraph([("w", "x"), ("x", "y"), ("w", "y")], nodes=["z"], latent=["w"],
                    columns={"x": "offences"})
    assert g.nodes == ("w", "x", "y", "z")
    assert g.edges == (("w", "x"), ("x", "y"), ("w", "y"))
    assert g.latent == ("w",)
    assert g.observed == ("x", "y", "z")
    assert g.columns == {"x": "offences", "y": "y", "z": "z"}
    assert g.column("x") == "offences"
    assert g.lagged_nodes == {}


def test_duplicate_edges_are_kept_once():
    g = CausalGraph([("a", "b"), ("a", "b")])
    assert g.edges == (("a", "b"),)


@pytest.mark.parametrize(
    ("dot", "nodes", "edges", "latent"),
    [
        ("digraph { a -> b; b -> c }", ["a", "b", "c"], [("a", "b"), ("b", "c")], []),
        ("digraph G { a -> b -> c; }", ["a", "b", "c"], [("a", "b"), ("b", "c")], []),
        ("strict digraph { a -> {b c} }", ["a", "b", "c"], [("a", "b"), ("a", "c")], []),
        ("digraph { {a; b} -> c }", ["a", "b", "c"], [("a", "c"), ("b", "c")], []),
        ('digraph { U [label="Unobserved" observed="no"]; U -> x; x -> y }',
         ["U", "x", "y"], [("U", "x"), ("x", "y")], ["U"]),
        ("digraph { u [latent=true, shape=box]; u -> x }", ["u", "x"], [("u", "x")], ["u"]),
        ('digraph { "market size" -> "deaths" [label="+"]; }', ["market size", "deaths"],
         [("market size", "deaths")], []),
        ("digraph {\n // comment\n # another\n /* block\n comment */ a -> b }", ["a", "b"],
         [("a", "b")], []),
        ("digraph { graph [rankdir=LR]; node [shape=circle]; edge [color=red]; rankdir=LR; "
         "a -> b }", ["a", "b"], [("a", "b")], []),
        ("digraph { lonely; a -> b }", ["lonely", "a", "b"], [("a", "b")], []),
    ],
    ids=["simple", "chain-named", "strict-group", "group-left", "dowhy-observed-no",
         "latent-attr", "quoted", "comments", "defaults-ignored", "isolated-node"],
)
def test_parse_dot(dot, nodes, edges, latent):
    assert parse_dot(dot) == (nodes, edges, latent)


@pytest.mark.parametrize(
    ("dot", "match"),
    [
        ("graph { a -- b }", "undirected"),
        ("digraph { a -- b }", "Undirected edge"),
        ("digraph { a -> b ", "expected '}'"),
        ("digraph { a -> b } extra", "after the closing brace"),
        ("digraph { a -> ! }", "Cannot read the DOT text"),
        ("flowchart { a -> b }", "must start with 'digraph'"),
    ],
    ids=["undirected-graph", "undirected-edge", "unclosed", "trailing", "bad-char", "not-dot"],
)
def test_parse_dot_errors(dot, match):
    with pytest.raises(GraphError, match=match):
        parse_dot(dot)


def test_dot_text_is_never_executed():
    # code-looking node names stay plain names (nothing is evaluated)
    g = CausalGraph.from_dot('digraph { "__import__(\'os\').system(\'echo hi\')" -> y }')
    assert g.nodes == ("__import__('os').system('echo hi')", "y")


def test_from_gml_reads_directed_graph_and_latent():
    gml = ('graph [ directed 1 node [ id 0 label "u" latent 1 ] node [ id 1 label "x" ] '
           'node [ id 2 label "y" ] edge [ source 0 target 1 ] edge [ source 1 target 2 ] '
           'edge [ source 0 target 2 ] ]')
    g = CausalGraph.from_gml(gml)
    assert g.nodes == ("u", "x", "y")
    assert set(g.edges) == {("u", "x"), ("x", "y"), ("u", "y")}
    assert g.latent == ("u",)


def test_from_gml_rejects_undirected():
    gml = 'graph [ node [ id 0 label "x" ] node [ id 1 label "y" ] edge [ source 0 target 1 ] ]'
    with pytest.raises(GraphError, match="undirected"):
        CausalGraph.from_gml(gml)


@pytest.mark.parametrize(
    ("edges", "cycle"),
    [
        ([("a", "b"), ("b", "a")], "a -> b -> a"),
        ([("a", "b"), ("b", "c"), ("c", "a")], "a -> b -> c -> a"),
        ([("deaths", "offences"), ("offences", "deaths")], "deaths -> offences -> deaths"),
        ([("a", "a")], "a -> a"),
    ],
    ids=["two-cycle", "three-cycle", "feedback", "self-loop"],
)
def test_cycle_error_names_the_cycle(edges, cycle):
    with pytest.raises(CycleError, match=cycle) as info:
        CausalGraph(edges)
    assert "lagged nodes" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"latent": ["nope"]}, "not in the graph"),
        ({"columns": {"nope": "c"}}, "not in the graph"),
        ({"latent": ["x"], "columns": {"x": "c"}}, "latent but were given a column"),
    ],
    ids=["unknown-latent", "unknown-column-node", "latent-with-column"],
)
def test_constructor_errors(kwargs, match):
    with pytest.raises(GraphError, match=match):
        CausalGraph([("x", "y")], **kwargs)


def test_bad_edge_raises():
    with pytest.raises(GraphError, match="pair"):
        CausalGraph([("x", "y", "z")])


# ------------------------------------------------------------------ structure
def test_relatives_match_networkx():
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c"), ("c", "e")]
    g = CausalGraph(edges)
    ref = nx.DiGraph(edges)
    for n in g.nodes:
        assert g.parents(n) == tuple(sorted(ref.predecessors(n)))
        assert g.children(n) == tuple(sorted(ref.successors(n)))
        assert g.ancestors(n) == tuple(sorted(nx.ancestors(ref, n)))
        assert g.descendants(n) == tuple(sorted(nx.descendants(ref, n)))


def test_topological_order_is_deterministic():
    g = CausalGraph([("b", "c"), ("a", "c"), ("c", "d")])
    assert g.topological_order() == ("b", "a", "c", "d")


def test_unknown_node_suggests_close_match():
    g = CausalGraph([("offences", "deaths")])
    with pytest.raises(GraphError, match="did you mean 'offences'"):
        g.parents("offence")


def test_latent_node_has_no_column():
    g = CausalGraph([("u", "x")], latent=["u"])
    with pytest.raises(GraphError, match="latent"):
        g.column("u")


def test_lagged_nodes_recognised():
    g = CausalGraph([("deaths_lag2", "offences"), ("offences", "deaths")],
                    columns={"offences": "offences_lag1x"})
    assert g.lagged_nodes == {"deaths_lag2": ("deaths", 2)}


# ----------------------------------------------------------------- immutability
def test_graph_is_immutable():
    g = CausalGraph([("x", "y")])
    with pytest.raises(AttributeError, match="immutable"):
        g.foo = 1  # type: ignore[attr-defined]


def test_derivations_return_new_graphs_and_leave_the_original():
    g = CausalGraph([("u", "x"), ("x", "y"), ("u", "y")])
    g2 = g.with_latent("u")
    g3 = g.with_columns(x="offences")
    g4 = g.with_edges(remove=[("u", "y")], add=[("x", "z")])
    g5 = g2.with_observed("u")
    assert g.latent == () and g.columns == {"u": "u", "x": "x", "y": "y"}
    assert g2.latent == ("u",) and "u" not in g2.columns
    assert g3.columns["x"] == "offences"
    assert set(g4.edges) == {("u", "x"), ("x", "y"), ("x", "z")}
    assert g5 == g


def test_with_edges_remove_unknown_raises():
    with pytest.raises(GraphError, match="not in the graph"):
        CausalGraph([("x", "y")]).with_edges(remove=[("y", "x")])


def test_with_edges_can_create_a_cycle_error():
    with pytest.raises(CycleError):
        CausalGraph([("x", "y")]).with_edges(add=[("y", "x")])


# ------------------------------------------------------------------- data
def test_validate_names_missing_columns():
    g = CausalGraph([("market", "offences"), ("offences", "deaths"), ("u", "deaths")],
                    latent=["u"])
    df = pd.DataFrame({"offences": [1.0], "deaths": [2]})
    with pytest.raises(ColumnNotFoundError, match=r"\['market'\]") as info:
        g.validate(df)
    assert "with_latent" in str(info.value)


def test_validate_accepts_panel_and_creatable_lags():
    panel = cp.datasets.load("simulated_cantons")
    g = CausalGraph([("deaths_lag2", "offences_per_1000"), ("offences_per_1000", "deaths")])
    assert g.validate(panel) is g


def test_validate_panel_reports_unknown():
    panel = cp.datasets.load("simulated_cantons")
    g = CausalGraph([("prevalence_x", "deaths")])
    with pytest.raises(ColumnNotFoundError, match="prevalence_x"):
        g.validate(panel)


# --------------------------------------------------------------- conversion
def test_dot_round_trip():
    g = CausalGraph([("u", "x"), ("x", "y"), ("u", "y"), ('q"uote', "y")], latent=["u"])
    assert CausalGraph.from_dot(g.to_dot()) == g


def test_gml_round_trip():
    g = CausalGraph([("u", "x"), ("x", "y"), ("u", "y")], nodes=["z"], latent=["u"])
    assert CausalGraph.from_gml(g.to_gml()) == g


def test_to_networkx_attributes_and_copy():
    g = CausalGraph([("u", "x")], latent=["u"], columns={"x": "col_x"})
    h = g.to_networkx()
    assert dict(h.nodes(data=True)) == {"u": {"latent": True, "column": None},
                                        "x": {"latent": False, "column": "col_x"}}
    h.add_edge("x", "zz")
    assert g.nodes == ("u", "x")


def test_networkx_round_trip():
    g = CausalGraph([("u", "x"), ("x", "y")], latent=["u"])
    assert CausalGraph.from_networkx(g.to_networkx()) == g


@pytest.mark.parametrize(
    "obj",
    ["digraph { x -> y }",
     'graph [ directed 1 node [ id 0 label "x" ] node [ id 1 label "y" ] '
     'edge [ source 0 target 1 ] ]',
     [("x", "y")], nx.DiGraph([("x", "y")])],
    ids=["dot", "gml", "edges", "networkx"],
)
def test_as_graph(obj):
    assert as_graph(obj) == CausalGraph([("x", "y")])


def test_as_graph_rejects_other_text():
    with pytest.raises(GraphError, match="DOT"):
        as_graph("x -> y")


def test_draw_returns_axes_with_every_node_labelled():
    import matplotlib.pyplot as plt

    g = CausalGraph([("u", "x"), ("x", "y")], latent=["u"])
    ax = g.draw()
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["u", "x", "y"]
    plt.close(ax.figure)


# ------------------------------------------------------------------ templates
def test_list_templates_table():
    t = list_templates()
    assert list(t.columns) == ["name", "treatment", "outcome", "n_nodes", "n_edges",
                               "description"]
    assert list(t["name"]) == list(TEMPLATES)
    assert list(t["n_nodes"]) == [12, 7, 10]


@pytest.mark.parametrize(
    ("name", "minimal"),
    [
        ("enforcement_mortality",
         ("economic_conditions", "market_size", "mortality_lag2", "urbanisation")),
        ("enforcement_mortality_minimal", ("economic_conditions", "market_size",
                                           "mortality_lag2")),
        ("harm_reduction_programmes",
         ("economic_conditions", "market_size", "mortality_lag2", "urbanisation")),
    ],
    ids=list(TEMPLATES),
)
def test_template_identifies_its_effect(name, minimal):
    t = TEMPLATES[name]
    g = template(name)
    ident = identify(g, t.treatment, t.outcome)
    assert ident.minimal == minimal
    # the minimal set is valid by networkx's d-separation in the back-door graph
    h = g.to_networkx()
    h.remove_edges_from(list(h.out_edges(t.treatment)))
    assert nx.is_d_separator(h, {t.treatment}, {t.outcome}, set(minimal))


def test_template_column_mapping_and_lag_rename():
    g = template("enforcement_mortality", enforcement="offences_per_1000", mortality="deaths",
                 latent=["displacement"])
    assert g.column("enforcement") == "offences_per_1000"
    assert g.column("mortality_lag2") == "deaths_lag2"
    assert g.latent == ("displacement",)
    assert g.lagged_nodes == {"mortality_lag2": ("deaths", 2)}


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [(("nope",), {}, "Unknown template"),
     (("enforcement_mortality",), {"police": "x"}, "has no node")],
    ids=["unknown-template", "unknown-node"],
)
def test_template_errors(args, kwargs, match):
    with pytest.raises(GraphError, match=match):
        template(*args, **kwargs)


def test_template_objects_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TEMPLATES["enforcement_mortality"].name = "x"  # type: ignore[misc]
