"""Causal graphs (DAGs) whose nodes are Panel columns or latent variables.

A :class:`CausalGraph` is an immutable directed acyclic graph. It is built from
Python edges, from a DOT string (a safe subset of the language, parsed here:
nothing is executed) or from a GML string (:func:`networkx.parse_gml`). Each
observed node maps to a Panel column (by default the column of the same name);
latent nodes have no column.

**Feedback over time** (police respond to deaths, deaths respond to police)
would be a cycle in a graph of contemporaneous variables. Express it with
lagged nodes instead: ``deaths_lag2 -> offences -> deaths`` is acyclic. A node
named ``<column>_lag<k>`` (the default name of :meth:`Panel.lag`) is
recognised as the ``k``-period lag of ``<column>``: the toolkit's graph
functions create the lagged column from the panel when it is not there yet
(see :attr:`CausalGraph.lagged_nodes`).

**Limits.** A graph has at most :data:`MAX_NODES` (2,000) nodes and
:data:`MAX_EDGES` (20,000) edges, DOT/GML text at most :data:`MAX_TEXT_CHARS`
(10 million) characters and :data:`MAX_DEPTH` (64) levels of nesting; larger
inputs raise :class:`GraphError` before any expensive step (see
``causalpolicing.graph._dot``). Identification (DoWhy's search for adjustment
sets) takes graphs of at most :data:`MAX_IDENTIFY_NODES` (200) nodes. Causal
graphs of real studies have tens of nodes.

Examples
--------
>>> from causalpolicing.graph import CausalGraph
>>> g = CausalGraph.from_dot('''
...     digraph {
...       U [observed="no"];          // a latent confounder
...       U -> offences; U -> deaths;
...       deaths_lag2 -> offences -> deaths;
...     }''')
>>> g.nodes
('U', 'offences', 'deaths', 'deaths_lag2')
>>> g.latent, g.parents("offences")
(('U',), ('U', 'deaths_lag2'))
>>> g.lagged_nodes
{'deaths_lag2': ('deaths', 2)}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from .._hints import did_you_mean
from ..exceptions import ColumnNotFoundError
from ._dot import (
    MAX_DEPTH,
    MAX_EDGES,
    MAX_IDENTIFY_NODES,
    MAX_NODES,
    MAX_TEXT_CHARS,
    _is_latent_attr,
    check_gml,
    check_size,
    parse_dot,
    read_graph_file,
)
from .errors import CycleError, GraphError

__all__ = ["CausalGraph", "GraphError", "CycleError", "as_graph", "parse_dot", "MAX_NODES",
           "MAX_EDGES", "MAX_DEPTH", "MAX_TEXT_CHARS", "MAX_IDENTIFY_NODES"]

_LAG_RE = re.compile(r"^(?P<base>.+)_lag(?P<k>[1-9][0-9]*)$")


# ---------------------------------------------------------------------- the graph
def _name(x: Any, what: str) -> str:
    if not isinstance(x, str) or not x:
        raise GraphError(f"{what} must be a non-empty string; got {x!r}.")
    return x


class CausalGraph:
    """An immutable causal DAG over Panel columns and latent variables.

    Parameters
    ----------
    edges
        Directed edges ``(cause, effect)``.
    nodes
        Extra nodes without edges (all nodes named in ``edges`` are included).
    latent
        Nodes that are not observed (no column).
    columns
        Mapping node -> Panel column for observed nodes whose column has another
        name (default: the node's own name).

    Raises
    ------
    CycleError
        When the edges form a directed cycle (the message names it; express
        feedback with lagged nodes such as ``deaths_lag2 -> offences``).
    GraphError
        When a latent node or a ``columns`` key is not a node, or a node is
        given a column although latent.

    Examples
    --------
    >>> g = CausalGraph([("market", "offences"), ("market", "deaths"), ("offences", "deaths")],
    ...                 columns={"market": "users_per_1000"})
    >>> g.column("market"), g.descendants("market")
    ('users_per_1000', ('deaths', 'offences'))
    >>> CausalGraph([("a", "b"), ("b", "a")])
    Traceback (most recent call last):
    ...
    causalpolicing.graph.errors.CycleError: The graph has a directed cycle: a -> b -> a. ...
    """

    __slots__ = ("_nodes", "_edges", "_latent", "_columns", "_g")

    def __init__(
        self,
        edges: Iterable[tuple[str, str]] = (),
        *,
        nodes: Iterable[str] = (),
        latent: Iterable[str] = (),
        columns: Mapping[str, str] | None = None,
    ) -> None:
        # sizes are checked while reading, before networkx (or DoWhy) sees the graph
        unique: dict[tuple[str, str], None] = {}
        order: dict[str, None] = {}
        for e in edges:
            if not isinstance(e, (tuple, list)) or len(e) != 2:
                raise GraphError(f"Each edge must be a pair (cause, effect); got {e!r}.")
            a, b = _name(e[0], "An edge's cause"), _name(e[1], "An edge's effect")
            unique.setdefault((a, b))
            order.setdefault(a)
            order.setdefault(b)
            check_size(len(order), len(unique))
        edge_list = list(unique)
        if isinstance(nodes, str):
            nodes = [nodes]
        for n in nodes:
            order.setdefault(_name(n, "A node"))
            check_size(len(order), 0)
        if isinstance(latent, str):
            latent = [latent]
        lat = tuple(dict.fromkeys(_name(n, "A latent node") for n in latent))
        unknown = [n for n in lat if n not in order]
        if unknown:
            raise GraphError(f"Latent node(s) {unknown} are not in the graph; nodes: {list(order)}. "
                             "Add them with edges or nodes=.")
        cols = dict(columns or {})
        bad = [k for k in cols if k not in order]
        if bad:
            raise GraphError(f"columns= names node(s) {bad} that are not in the graph; nodes: "
                             f"{list(order)}.")
        both = [k for k in cols if k in lat]
        if both:
            raise GraphError(f"Node(s) {both} are latent but were given a column; a latent node has "
                             "no data. Remove them from latent= or from columns=.")
        for k, v in cols.items():
            _name(v, f"The column of node {k!r}")
        g = nx.DiGraph()
        g.add_nodes_from(order)
        g.add_edges_from(edge_list)
        if not nx.is_directed_acyclic_graph(g):
            cycle = [u for u, _ in nx.find_cycle(g)]
            text = " -> ".join([*cycle, cycle[0]])
            raise CycleError(
                f"The graph has a directed cycle: {text}. A causal graph must be acyclic; express "
                "feedback over time with lagged nodes (e.g. 'deaths_lag2 -> offences' instead of "
                "'deaths -> offences')."
            )
        setter = object.__setattr__
        setter(self, "_nodes", tuple(order))
        setter(self, "_edges", tuple(edge_list))
        setter(self, "_latent", tuple(n for n in order if n in lat))
        setter(self, "_columns", {n: cols.get(n, n) for n in order if n not in lat})
        setter(self, "_g", g)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CausalGraph is immutable; use with_latent/with_columns/with_edges.")

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_dot(cls, text: str, *, latent: Iterable[str] = (),
                 columns: Mapping[str, str] | None = None) -> CausalGraph:
        """Build a graph from a DOT digraph (see :func:`parse_dot` for the subset read).

        Nodes with ``observed="no"`` or ``latent=true`` attributes are latent, as
        are those listed in ``latent``.
        """
        nodes, edges, lat = parse_dot(text)
        extra = [latent] if isinstance(latent, str) else list(latent)
        return cls(edges, nodes=nodes, latent=[*lat, *extra], columns=columns)

    @classmethod
    def from_gml(cls, text: str, *, latent: Iterable[str] = (),
                 columns: Mapping[str, str] | None = None) -> CausalGraph:
        """Build a graph from a GML string (read with :func:`networkx.parse_gml`).

        The graph must be ``directed 1``; nodes are named by their ``label``;
        a node attribute ``latent 1`` or ``observed "no"`` marks it latent.

        Examples
        --------
        >>> gml = ('graph [ directed 1 node [ id 0 label "x" ] node [ id 1 label "y" ] '
        ...        'edge [ source 0 target 1 ] ]')
        >>> CausalGraph.from_gml(gml).edges
        (('x', 'y'),)
        """
        if not isinstance(text, str):
            raise GraphError(f"GML input must be a string; got {type(text).__name__}.")
        check_gml(text)  # limits, before networkx parses
        try:
            g = nx.parse_gml(text, label="label")
        except nx.NetworkXError as exc:
            raise GraphError(f"Cannot read the GML text: {exc}") from exc
        if not g.is_directed():
            raise GraphError("The GML graph is undirected; add 'directed 1' to the graph block.")
        lat = [str(n) for n, a in g.nodes(data=True) if _is_latent_attr(a)]
        extra = [latent] if isinstance(latent, str) else list(latent)
        return cls([(str(a), str(b)) for a, b in g.edges()], nodes=[str(n) for n in g.nodes],
                   latent=[*lat, *extra], columns=columns)

    @classmethod
    def from_file(cls, path: str | Path, *, latent: Iterable[str] = (),
                  columns: Mapping[str, str] | None = None) -> CausalGraph:
        """Read a graph from a DOT (``.dot``, ``.gv``) or GML (``.gml``) file.

        The file must be UTF-8 text within the limits of the module docstring;
        every error names the file.

        Raises
        ------
        GraphError
            ``Graph file 'path': ...`` for a missing, binary, non-UTF-8 or too
            large file, malformed DOT/GML, or a graph beyond the limits.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.dot"
        >>> _ = p.write_text("digraph { x -> y }", encoding="utf-8")
        >>> CausalGraph.from_file(p).edges
        (('x', 'y'),)
        """
        text = read_graph_file(path)
        gml = Path(path).suffix.lower() == ".gml" or re.match(r"graph\s*\[", text.lstrip())
        try:
            if gml:
                return cls.from_gml(text, latent=latent, columns=columns)
            return cls.from_dot(text, latent=latent, columns=columns)
        except GraphError as exc:
            raise type(exc)(f"Graph file {str(path)!r}: {exc}") from None

    @classmethod
    def from_networkx(cls, g: nx.DiGraph, *, latent: Iterable[str] = (),
                      columns: Mapping[str, str] | None = None) -> CausalGraph:
        """Build a graph from a :class:`networkx.DiGraph` (node attribute ``latent`` honoured)."""
        if not isinstance(g, nx.DiGraph):
            raise GraphError(f"Expected a networkx.DiGraph; got {type(g).__name__}.")
        check_size(g.number_of_nodes(), g.number_of_edges())
        lat = [str(n) for n, a in g.nodes(data=True) if _is_latent_attr(a)]
        extra = [latent] if isinstance(latent, str) else list(latent)
        return cls([(str(a), str(b)) for a, b in g.edges()], nodes=[str(n) for n in g.nodes],
                   latent=[*lat, *extra], columns=columns)

    # -------------------------------------------------------------- structure
    @property
    def nodes(self) -> tuple[str, ...]:
        """All nodes, in order of first appearance."""
        return self._nodes

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """Directed edges ``(cause, effect)``."""
        return self._edges

    @property
    def latent(self) -> tuple[str, ...]:
        """Latent (unobserved) nodes."""
        return self._latent

    @property
    def observed(self) -> tuple[str, ...]:
        """Observed nodes (those with a column)."""
        return tuple(self._columns)

    @property
    def columns(self) -> dict[str, str]:
        """Mapping observed node -> Panel column (a copy)."""
        return dict(self._columns)

    @property
    def lagged_nodes(self) -> dict[str, tuple[str, int]]:
        """Observed nodes whose column is named ``<base>_lag<k>``: node -> ``(base, k)``."""
        out: dict[str, tuple[str, int]] = {}
        for node, col in self._columns.items():
            m = _LAG_RE.match(col)
            if m:
                out[node] = (m.group("base"), int(m.group("k")))
        return out

    def column(self, node: str) -> str:
        """The Panel column of an observed node."""
        self._check_node(node)
        if node not in self._columns:
            raise GraphError(f"Node {node!r} is latent: it has no column.")
        return self._columns[node]

    def _check_node(self, node: Any) -> str:
        if node not in self._g:
            raise GraphError(f"{node!r} is not a node of the graph"
                             f"{did_you_mean(str(node), self._nodes, n=3)}. "
                             f"Nodes: {list(self._nodes)}.")
        return node

    def _sorted(self, nodes: Iterable[str]) -> tuple[str, ...]:
        pos = {n: i for i, n in enumerate(self._nodes)}
        return tuple(sorted(nodes, key=lambda n: (n, pos[n])))

    def parents(self, node: str) -> tuple[str, ...]:
        """Direct causes of ``node`` (sorted by name)."""
        return self._sorted(self._g.predecessors(self._check_node(node)))

    def children(self, node: str) -> tuple[str, ...]:
        """Direct effects of ``node`` (sorted by name)."""
        return self._sorted(self._g.successors(self._check_node(node)))

    def ancestors(self, node: str) -> tuple[str, ...]:
        """All causes of ``node``, direct or indirect (sorted by name)."""
        return self._sorted(nx.ancestors(self._g, self._check_node(node)))

    def descendants(self, node: str) -> tuple[str, ...]:
        """All effects of ``node``, direct or indirect (sorted by name)."""
        return self._sorted(nx.descendants(self._g, self._check_node(node)))

    def topological_order(self) -> tuple[str, ...]:
        """Nodes in a deterministic topological order (ties broken by first appearance)."""
        pos = {n: i for i, n in enumerate(self._nodes)}
        return tuple(nx.lexicographical_topological_sort(self._g, key=lambda n: pos[n]))

    # ------------------------------------------------------------- derivation
    def with_latent(self, *nodes: str) -> CausalGraph:
        """A new graph with ``nodes`` marked latent as well (their columns are forgotten)."""
        for n in nodes:
            self._check_node(n)
        cols = {k: v for k, v in self._columns.items() if k not in nodes and v != k}
        return CausalGraph(self._edges, nodes=self._nodes, latent=[*self._latent, *nodes],
                           columns=cols)

    def with_observed(self, *nodes: str) -> CausalGraph:
        """A new graph with latent ``nodes`` made observed (column = node name)."""
        for n in nodes:
            self._check_node(n)
        cols = {k: v for k, v in self._columns.items() if v != k}
        return CausalGraph(self._edges, nodes=self._nodes,
                           latent=[n for n in self._latent if n not in nodes], columns=cols)

    def with_columns(self, mapping: Mapping[str, str] | None = None, /,
                     **kwargs: str) -> CausalGraph:
        """A new graph with some nodes mapped to other Panel columns.

        Examples
        --------
        >>> g = CausalGraph([("enforcement", "mortality")])
        >>> g.with_columns(enforcement="offences_per_1000").columns
        {'enforcement': 'offences_per_1000', 'mortality': 'mortality'}
        """
        cols = {k: v for k, v in self._columns.items() if v != k}
        cols.update(dict(mapping or {}))
        cols.update(kwargs)
        return CausalGraph(self._edges, nodes=self._nodes, latent=self._latent, columns=cols)

    def with_edges(self, add: Iterable[tuple[str, str]] = (),
                   remove: Iterable[tuple[str, str]] = ()) -> CausalGraph:
        """A new graph with edges added and/or removed (nodes are kept)."""
        rm = {tuple(e) for e in remove}
        missing = [e for e in rm if e not in self._edges]
        if missing:
            raise GraphError(f"Cannot remove edge(s) {sorted(missing)}: not in the graph.")
        edges = [e for e in self._edges if e not in rm] + [tuple(e) for e in add]
        cols = {k: v for k, v in self._columns.items() if v != k}
        return CausalGraph(edges, nodes=self._nodes, latent=self._latent, columns=cols)

    # ----------------------------------------------------------------- data
    def missing_columns(self, columns: Iterable[str]) -> list[str]:
        """Observed nodes' columns that are not in ``columns`` (lag columns whose base
        column is present count as available: they can be created)."""
        have = set(columns)
        lagged = self.lagged_nodes
        out = []
        for node, col in self._columns.items():
            if col in have:
                continue
            if node in lagged and lagged[node][0] in have:
                continue
            out.append(col)
        return out

    def validate(self, data: Any) -> CausalGraph:
        """Check that every observed node has its column in ``data`` (Panel or DataFrame).

        Returns the graph itself, so calls can be chained. Raises
        :class:`~causalpolicing.exceptions.ColumnNotFoundError` naming the
        missing columns.
        """
        cols = data.columns
        missing = self.missing_columns(cols)
        if missing:
            nodes = [n for n, c in self._columns.items() if c in missing]
            raise ColumnNotFoundError(
                f"The data have no column(s) {missing} for the graph's observed node(s) {nodes}. "
                f"Map nodes to columns with graph.with_columns(node='column'), mark unmeasured "
                f"nodes latent with graph.with_latent(...), or add the columns. Data columns: "
                f"{list(cols)}."
            )
        return self

    # ------------------------------------------------------------ conversion
    def to_networkx(self) -> nx.DiGraph:
        """A new :class:`networkx.DiGraph`; node attributes ``latent`` (bool) and ``column``."""
        g = nx.DiGraph()
        for n in self._nodes:
            g.add_node(n, latent=n in self._latent, column=self._columns.get(n))
        g.add_edges_from(self._edges)
        return g

    def to_dot(self) -> str:
        """DOT text of the graph (latent nodes carry ``observed="no"``, read by DoWhy too).

        Examples
        --------
        >>> print(CausalGraph([("u", "x"), ("x", "y")], latent=["u"]).to_dot())
        digraph {
          "u" [observed="no"];
          "x";
          "y";
          "u" -> "x";
          "x" -> "y";
        }
        """
        def q(s: str) -> str:
            return '"' + s.replace('"', '\\"') + '"'

        lines = ["digraph {"]
        for n in self._nodes:
            lines.append(f"  {q(n)} [observed=\"no\"];" if n in self._latent else f"  {q(n)};")
        lines.extend(f"  {q(a)} -> {q(b)};" for a, b in self._edges)
        lines.append("}")
        return "\n".join(lines)

    def to_gml(self) -> str:
        """GML text of the graph (latent nodes carry ``observed "no"``)."""
        g = nx.DiGraph()
        for n in self._nodes:
            if n in self._latent:
                g.add_node(n, observed="no")
            else:
                g.add_node(n)
        g.add_edges_from(self._edges)
        return "\n".join(nx.generate_gml(g))

    def draw(self, ax: Any = None, *, seed: int = 0) -> Any:
        """Draw the graph with networkx and matplotlib (latent nodes dashed and grey).

        Uses a layered (topological) layout; returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        g = self._g
        try:
            layers = {}
            for i, gen in enumerate(nx.topological_generations(g)):
                for n in sorted(gen):
                    layers[n] = i
            nx.set_node_attributes(h := g.copy(), layers, "layer")
            pos = nx.multipartite_layout(h, subset_key="layer")
        except (nx.NetworkXException, ValueError):  # pragma: no cover - fallback layout
            pos = nx.spring_layout(g, seed=seed)
        observed = [n for n in self._nodes if n not in self._latent]
        nx.draw_networkx_nodes(g, pos, nodelist=observed, node_color="#cfe2f3", ax=ax,
                               node_size=1400, edgecolors="#1f4e79")
        if self._latent:
            coll = nx.draw_networkx_nodes(g, pos, nodelist=list(self._latent),
                                          node_color="#eeeeee", ax=ax, node_size=1400,
                                          edgecolors="#777777")
            coll.set_linestyle("dashed")
        nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=15, node_size=1400)
        nx.draw_networkx_labels(g, pos, ax=ax, font_size=8)
        ax.set_axis_off()
        return ax

    # ---------------------------------------------------------------- dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CausalGraph):
            return NotImplemented
        return (set(self._nodes) == set(other._nodes) and set(self._edges) == set(other._edges)
                and set(self._latent) == set(other._latent) and self._columns == other._columns)

    def __hash__(self) -> int:
        return hash((frozenset(self._nodes), frozenset(self._edges), frozenset(self._latent)))

    def __repr__(self) -> str:
        return (f"<CausalGraph: {len(self._nodes)} nodes ({len(self._latent)} latent), "
                f"{len(self._edges)} edges>")


def as_graph(obj: Any) -> CausalGraph:
    """Coerce ``obj`` to a :class:`CausalGraph`.

    Accepts a CausalGraph, a DOT string (starting with ``digraph`` or
    ``strict digraph``), a GML string (starting with ``graph [``), a
    :class:`networkx.DiGraph` or a sequence of ``(cause, effect)`` pairs.

    Examples
    --------
    >>> as_graph("digraph { x -> y }").edges
    (('x', 'y'),)
    >>> as_graph([("x", "y")]) == as_graph("digraph { x -> y }")
    True
    """
    if isinstance(obj, CausalGraph):
        return obj
    if isinstance(obj, str):
        head = obj.lstrip().lower()
        if head.startswith(("digraph", "strict")):
            return CausalGraph.from_dot(obj)
        if re.match(r"graph\s*\[", head):
            return CausalGraph.from_gml(obj)
        raise GraphError("A graph string must be DOT ('digraph { a -> b }') or GML "
                         "('graph [ directed 1 ... ]'); got text starting with "
                         f"{obj.lstrip()[:20]!r}.")
    if isinstance(obj, nx.DiGraph):
        return CausalGraph.from_networkx(obj)
    if isinstance(obj, Sequence):
        return CausalGraph(obj)
    raise GraphError(f"Expected a CausalGraph, DOT or GML text, a networkx.DiGraph or a list of "
                     f"edges; got {type(obj).__name__}.")
