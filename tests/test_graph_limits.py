"""Input limits of causal graphs (issue 10, item 4): DOT/GML text, files, sizes.

Hostile or malformed graphs must fail with one :class:`GraphError` naming the
limit (and the file) before any expensive step: 5,000 nested subgraphs used to
raise ``RecursionError``, a binary ``.dot`` ``UnicodeDecodeError`` without the
file's name, and a 100,000-node chain ran for minutes (quadratic edge
de-duplication, then networkx and DoWhy). The checks are shown to come first by
replacing the expensive function with one that fails the test if called.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import causalpolicing.graph.dag as dag
from causalpolicing.graph import (
    MAX_DEPTH,
    MAX_EDGES,
    MAX_IDENTIFY_NODES,
    MAX_NODES,
    CausalGraph,
    GraphError,
    identify,
    parse_dot,
)


def chain(n: int) -> str:
    return "digraph {\n" + " -> ".join(f"n{i}" for i in range(n)) + ";\n}\n"


def nested(depth: int) -> str:
    return "digraph { " + "subgraph { " * depth + "a b" + " }" * depth + " a -> b }"


class _Called(Exception):
    pass


def _fail(*args: object, **kwargs: object) -> None:
    raise _Called("the expensive step ran before the limit was checked")


@pytest.fixture
def no_networkx(monkeypatch: pytest.MonkeyPatch) -> None:
    """networkx graphs and the GML parser, as used by the graph module, fail if called."""
    monkeypatch.setattr(dag.nx, "DiGraph", _fail)
    monkeypatch.setattr(dag.nx, "parse_gml", _fail)


# ------------------------------------------------------------------ within limits
def test_a_chain_of_1000_nodes_is_read() -> None:
    g = CausalGraph.from_dot(chain(1000))
    assert len(g.nodes) == 1000
    assert len(g.edges) == 999
    assert g.parents("n999") == ("n998",)
    assert CausalGraph.from_dot(g.to_dot()) == g


def test_nesting_up_to_the_limit_is_read() -> None:
    nodes, edges, _ = parse_dot(nested(MAX_DEPTH - 1))
    assert (nodes, edges) == (["a", "b"], [("a", "b")])


def test_graph_at_the_node_limit_is_built() -> None:
    g = CausalGraph([(f"n{i}", f"n{i + 1}") for i in range(MAX_NODES - 1)])
    assert len(g.nodes) == MAX_NODES


# ----------------------------------------------------------------- beyond limits
def test_deeply_nested_subgraphs(no_networkx: None) -> None:
    with pytest.raises(GraphError, match=r"nested more than 64 levels.*MAX_DEPTH"):
        CausalGraph.from_dot(nested(5000))


def test_deeply_nested_gml(no_networkx: None) -> None:
    text = "graph [ directed 1 " + "a [ " * 5000 + "]" * 5000 + " ]"
    with pytest.raises(GraphError, match=r"GML text .* nested more than 64 levels"):
        CausalGraph.from_gml(text)


def test_100000_node_chain_fails_before_networkx(no_networkx: None) -> None:
    with pytest.raises(GraphError, match=r"more than 2,000 nodes .*MAX_NODES"):
        CausalGraph.from_dot(chain(100_000))


def test_100000_edges_as_a_list_fail_before_networkx(no_networkx: None) -> None:
    edges = [(f"n{i}", f"n{i + 1}") for i in range(100_000)]
    with pytest.raises(GraphError, match="more than 2,000 nodes"):
        CausalGraph(edges)


def test_too_many_edges_in_a_group(no_networkx: None) -> None:
    left = " ".join(f"a{i}" for i in range(200))
    right = " ".join(f"b{i}" for i in range(200))  # 40,000 edges from 400 nodes
    with pytest.raises(GraphError, match=f"more than {MAX_EDGES:,} edges"):
        CausalGraph.from_dot(f"digraph {{ {{{left}}} -> {{{right}}} }}")


def test_large_gml_fails_before_networkx_parses(no_networkx: None) -> None:
    nodes = " ".join(f'node [ id {i} label "n{i}" ]' for i in range(MAX_NODES + 1))
    with pytest.raises(GraphError, match="more than 2,000 nodes"):
        CausalGraph.from_gml(f"graph [ directed 1 {nodes} ]")


def test_networkx_graph_too_large() -> None:
    g = nx.path_graph(MAX_NODES + 1, create_using=nx.DiGraph)
    with pytest.raises(GraphError, match="more than 2,000 nodes"):
        CausalGraph.from_networkx(g)


def test_identification_limit_is_checked_before_dowhy(monkeypatch: pytest.MonkeyPatch) -> None:
    import dowhy.causal_identifier.auto_identifier as auto

    monkeypatch.setattr(auto, "identify_effect_auto", _fail)
    g = CausalGraph.from_dot(chain(MAX_IDENTIFY_NODES + 1))
    with pytest.raises(GraphError, match=r"201 nodes; identification takes at most 200"):
        identify(g, "n0", f"n{MAX_IDENTIFY_NODES}")


# -------------------------------------------------------------------------- files
def test_binary_dot_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.dot"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(GraphError, match=r"Graph file '.*graph\.dot' is binary"):
        CausalGraph.from_file(path)


def test_non_utf8_dot_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.dot"
    path.write_bytes('digraph { "Todesfälle" -> x }'.encode("latin-1"))
    with pytest.raises(GraphError, match=r"'.*graph\.dot' is not UTF-8 text \(byte 17 is 0xe4\)"):
        CausalGraph.from_file(path)


def test_parse_errors_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.gv"
    path.write_text(nested(100), encoding="utf-8")
    with pytest.raises(GraphError, match=r"Graph file '.*graph\.gv': The DOT text .* nested"):
        CausalGraph.from_file(path)


def test_gml_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.gml"
    path.write_text(CausalGraph([("x", "y")], latent=["x"]).to_gml(), encoding="utf-8")
    assert CausalGraph.from_file(path).latent == ("x",)


# ---------------------------------------------------------------------------- CLI
CLI_CASES = [
    pytest.param("nested.dot", nested(5000).encode(), "nested more than 64 levels", id="nested"),
    pytest.param("binary.dot", bytes(range(256)) * 4, "is binary", id="binary"),
    pytest.param("chain.dot", chain(100_000).encode(), "more than 2,000 nodes", id="chain"),
]


@pytest.mark.parametrize(("name", "content", "message"), CLI_CASES)
def test_analyze_with_a_bad_graph_file_exits_2(tmp_path: Path, name: str, content: bytes,
                                               message: str) -> None:
    graph = tmp_path / name
    graph.write_bytes(content)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[data]\ndataset = "nc_crime"\n[causal]\ngraph = {str(graph)!r}\n',
                    encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "causalpolicing", "analyze", "--config",
                          str(spec), "--out", str(tmp_path / "out"), "--no-progress"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert str(graph) in errors[0]
    assert not (tmp_path / "out" / "report.html").exists()


def test_identify_keeps_the_interactive_display() -> None:
    """DoWhy's import calls sympy.init_printing(), which replaced sys.displayhook (doctests
    and Python sessions then printed every result with sympy)."""
    code = ("import sys; hook = sys.displayhook\n"
            "import causalpolicing as cp\n"
            "cp.graph.identify(cp.graph.CausalGraph([('x', 'y')]), 'x', 'y')\n"
            "cp.graph.dowhy_model\n"
            "print(sys.displayhook is hook)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert res.stdout.strip() == "True", res.stderr


def test_analyze_checks_an_inline_graph_before_loading_data(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import causalpolicing as cp
    import causalpolicing.analysis.run as run

    monkeypatch.setattr(run, "load_spec_data", _fail)
    spec = {"data": {"dataset": "nc_crime"}, "causal": {"graph": nested(5000)}}
    with pytest.raises(GraphError, match=r"^causal.graph: The DOT text .* nested more than 64"):
        cp.analyze(spec)
