"""Drawing a causal graph (DAG): treatment and outcome highlighted, latent nodes dashed."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...exceptions import SpecError
from ._style import GREY, PALETTE, new_axes, plot_style

__all__ = ["dag_plot", "dag_layout", "as_digraph", "LAYOUTS"]

#: Layout names accepted by :func:`dag_plot` (or pass a mapping node -> (x, y)).
LAYOUTS = ("auto", "graphviz", "layered", "spring")


def as_digraph(graph: Any) -> nx.DiGraph:
    """A copy of ``graph`` as a :class:`networkx.DiGraph`.

    Accepts a networkx directed graph, an iterable of ``(cause, effect)`` pairs,
    or an object with a ``to_networkx()`` method returning one.
    """
    if callable(getattr(graph, "to_networkx", None)) and not isinstance(graph, nx.Graph):
        graph = graph.to_networkx()
    if isinstance(graph, nx.Graph):
        if not graph.is_directed():
            raise SpecError("graph must be directed (a DAG); got an undirected networkx graph. "
                            "Use nx.DiGraph with edges cause -> effect.")
        g = nx.DiGraph(graph)
    elif isinstance(graph, Iterable) and not isinstance(graph, (str, bytes, Mapping)):
        edges = list(graph)
        for e in edges:
            if isinstance(e, (str, bytes)) or not isinstance(e, Sequence) or len(e) != 2:
                raise SpecError(f"Each edge must be a (cause, effect) pair; got {e!r}.")
        g = nx.DiGraph()
        g.add_edges_from((a, b) for a, b in edges)
    else:
        raise SpecError(
            f"graph must be a networkx DiGraph, a list of (cause, effect) edges or an object with "
            f"to_networkx(); got {type(graph).__name__}.")
    if g.number_of_nodes() == 0:
        raise SpecError("graph has no nodes; nothing to draw.")
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        path = " -> ".join(str(a) for a, _ in cycle) + f" -> {cycle[0][0]}"
        raise SpecError(f"graph has a cycle ({path}); a causal DAG must be acyclic.")
    return g


def _graphviz_available() -> bool:
    has_py = any(importlib.util.find_spec(m) is not None for m in ("pygraphviz", "pydot"))
    return has_py and shutil.which("dot") is not None


def _layered(g: nx.DiGraph) -> dict[Any, tuple[float, float]]:
    """Causes left, effects right: x = topological generation; nodes in a layer sorted by name."""
    pos: dict[Any, tuple[float, float]] = {}
    for x, layer in enumerate(nx.topological_generations(g)):
        layer = sorted(layer, key=str)
        n = len(layer)
        for i, node in enumerate(layer):
            pos[node] = (float(x), float((n - 1) / 2 - i))
    return pos


def dag_layout(g: nx.DiGraph, layout: Any = None) -> dict[Any, tuple[float, float]]:
    """Node positions for :func:`dag_plot` (see its ``layout`` parameter)."""
    if layout is None:
        layout = "auto"
    if isinstance(layout, Mapping):
        missing = [n for n in g.nodes if n not in layout]
        if missing:
            raise SpecError(f"layout has no position for node(s) {missing}.")
        pos = {n: tuple(float(v) for v in layout[n]) for n in g.nodes}
        bad = [n for n, p in pos.items() if len(p) != 2 or not np.isfinite(p).all()]
        if bad:
            raise SpecError(f"layout positions must be finite (x, y) pairs; bad: {bad}.")
        return pos  # type: ignore[return-value]
    if layout not in LAYOUTS:
        raise SpecError(f"layout must be one of {list(LAYOUTS)} or a mapping node -> (x, y); "
                        f"got {layout!r}.")
    if layout == "auto":
        layout = "graphviz" if _graphviz_available() else "layered"
    if layout == "graphviz":
        if not _graphviz_available():
            raise SpecError("layout='graphviz' needs pygraphviz or pydot and Graphviz's 'dot' "
                            "program on the PATH; use layout='layered' instead.")
        relabel = {n: f"n{i}" for i, n in enumerate(g.nodes)}
        h = nx.relabel_nodes(g, relabel)
        h.graph["graph"] = {"rankdir": "LR"}
        if importlib.util.find_spec("pygraphviz") is not None:
            raw = nx.nx_agraph.graphviz_layout(h, prog="dot")
        else:
            raw = nx.nx_pydot.pydot_layout(h, prog="dot")
        return {n: (float(raw[relabel[n]][0]), float(raw[relabel[n]][1])) for n in g.nodes}
    if layout == "spring":
        raw = nx.spring_layout(g, seed=0)
        return {n: (float(p[0]), float(p[1])) for n, p in raw.items()}
    return _layered(g)


def _node_set(value: Any, g: nx.DiGraph, param: str) -> list[Any]:
    if value is None:
        return []
    items = [value] if (isinstance(value, str) or not isinstance(value, Iterable)) else list(value)
    for v in items:
        if v not in g:
            raise SpecError(f"{param}: node {v!r} is not in the graph; nodes: "
                            f"{sorted(g.nodes, key=str)}.")
    return items


def dag_plot(
    graph: Any,
    *,
    treatment: Any = None,
    outcome: Any = None,
    latent: Iterable[Any] = (),
    layout: str | Mapping[Any, tuple[float, float]] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw a causal DAG: boxes for variables, arrows from causes to effects.

    Parameters
    ----------
    graph
        A :class:`networkx.DiGraph`, a list of ``(cause, effect)`` edges, or an
        object with a ``to_networkx()`` method (e.g. the package's causal-graph
        object); its ``latent`` attribute, when present, adds latent nodes.
    treatment, outcome
        Node (or nodes) to highlight as treatment and outcome.
    latent
        Unobserved nodes, drawn with dashed borders (arrows out of them dashed).
    layout
        ``"auto"``/``None`` (Graphviz's ``dot`` when pygraphviz or pydot and the
        ``dot`` program are available, else ``"layered"``), ``"graphviz"``,
        ``"layered"`` (deterministic: causes left, effects right, by topological
        generation; nodes in a column sorted by name), ``"spring"`` (seeded), or a
        mapping ``node -> (x, y)``.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure. Each node is a text with gid ``"node:<name>"`` at its position
        (its box: ``text.get_bbox_patch()``); each arrow an annotation with gid
        ``"edge:<cause>-><effect>"``.

    Raises
    ------
    SpecError
        Not a graph, an empty or cyclic graph, unknown treatment/outcome/latent
        nodes, a bad layout.

    Examples
    --------
    >>> from causalpolicing.report.plots import dag_plot
    >>> edges = [("prevalence", "enforcement"), ("prevalence", "deaths"),
    ...          ("enforcement", "deaths")]
    >>> fig = dag_plot(edges, treatment="enforcement", outcome="deaths",
    ...                latent=["prevalence"], layout="layered")
    >>> sorted(t.get_gid() for t in fig.axes[0].texts if t.get_gid().startswith("node:"))
    ['node:deaths', 'node:enforcement', 'node:prevalence']
    >>> [t.get_position() for t in fig.axes[0].texts if t.get_gid() == "node:deaths"]
    [(2.0, 0.0)]
    """
    g = as_digraph(graph)
    treat = _node_set(treatment, g, "treatment")
    out = _node_set(outcome, g, "outcome")
    both = set(treat) & set(out)
    if both:
        raise SpecError(f"node(s) {sorted(both, key=str)} cannot be both treatment and outcome.")
    own_latent = getattr(graph, "latent", None) if not isinstance(graph, (list, tuple)) else None
    lat = _node_set(list(latent) + list(own_latent or ()), g, "latent")
    lat_set = set(lat)
    if lat_set & (set(treat) | set(out)):
        raise SpecError(f"node(s) {sorted(lat_set & (set(treat) | set(out)), key=str)} are "
                        "latent (unobserved) and cannot be the treatment or outcome.")
    pos = dag_layout(g, layout)
    xs = np.array([p[0] for p in pos.values()])
    ys = np.array([p[1] for p in pos.values()])
    span_x = float(np.ptp(xs)) or 1.0
    span_y = float(np.ptp(ys)) or 1.0
    # each layer as wide as its longest label (about 0.09 inch per character at this size)
    per_layer = max(1.8, 0.09 * max(len(str(n)) for n in g.nodes) + 0.7)
    width = float(np.clip(per_layer * len(set(np.round(xs, 6))) + 1.0, 4.0, 16.0))
    height = float(np.clip(1.0 * max(np.unique(np.round(xs, 6), return_counts=True)[1]) + 1.5,
                           2.5, 8.0))
    with plot_style():
        fig, ax = new_axes(ax, (width, height))
        texts = {}
        for node in sorted(g.nodes, key=str):
            x, y = pos[node]
            if node in treat:
                face, edge = PALETTE[0], PALETTE[0]
            elif node in out:
                face, edge = PALETTE[1], PALETTE[1]
            else:
                face, edge = "white", GREY if node in lat_set else "#333333"
            colour = "white" if node in treat or node in out else "#222222"
            t = ax.text(x, y, str(node), ha="center", va="center", color=colour, zorder=3,
                        bbox={"boxstyle": "round,pad=0.4", "facecolor": face, "edgecolor": edge,
                              "linestyle": "--" if node in lat_set else "-", "linewidth": 1.4})
            t.set_gid(f"node:{node}")
            texts[node] = t
        for a, b in sorted(g.edges, key=lambda e: (str(e[0]), str(e[1]))):
            dashed = a in lat_set
            arr = ax.annotate(
                "", xy=pos[b], xytext=pos[a], zorder=4,
                arrowprops={"arrowstyle": "-|>", "color": GREY if dashed else "#333333",
                            "linestyle": "--" if dashed else "-", "linewidth": 1.3,
                            "patchA": texts[a].get_bbox_patch(),
                            "patchB": texts[b].get_bbox_patch(),
                            "shrinkA": 2, "shrinkB": 2, "mutation_scale": 14,
                            "connectionstyle": "arc3,rad=0.0"})
            arr.set_gid(f"edge:{a}->{b}")
        ax.set_xlim(xs.min() - 0.25 * span_x - 0.3, xs.max() + 0.25 * span_x + 0.3)
        ax.set_ylim(ys.min() - 0.2 * span_y - 0.5, ys.max() + 0.2 * span_y + 0.5)
        ax.set_axis_off()
        handles = []
        if treat:
            handles.append(Patch(facecolor=PALETTE[0], edgecolor=PALETTE[0], label="Treatment"))
        if out:
            handles.append(Patch(facecolor=PALETTE[1], edgecolor=PALETTE[1], label="Outcome"))
        if lat_set:
            handles.append(Patch(facecolor="white", edgecolor=GREY, linestyle="--",
                                 label="Latent (unobserved)"))
        if handles:
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                      ncols=len(handles))
    return fig
