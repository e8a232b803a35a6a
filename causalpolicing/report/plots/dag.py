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


#: Longest line of a node label before it is wrapped (at ``_`` or a space).
WRAP = 14
#: Widest figure (inches) the DAG is drawn at before it is turned top-to-bottom: wider
#: figures shrink their text below legibility on a phone (about 9 px at 390 px width).
MAX_WIDTH = 7.0
_CHAR_IN = 0.095  # inches per character at the node font size (12 pt)


def wrap_label(text: str, width: int = WRAP) -> str:
    """A node label broken into lines of at most ``width`` characters at ``_``, ``-``, ``.``
    or spaces (the separator stays at the end of the line); words longer than ``width``
    are not cut.

    >>> print(wrap_label("neighbour_offences_per_1000"))
    neighbour_
    offences_per_
    1000
    >>> wrap_label("deaths")
    'deaths'
    """
    import re

    if len(text) <= width:
        return text
    pieces = [p for p in re.split(r"(?<=[_\-. ])", text) if p]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and len(line) + len(piece.rstrip()) > width:
            lines.append(line.rstrip())
            line = piece
        else:
            line += piece
    lines.append(line.rstrip())
    return "\n".join(lines)


def _orient_top_down(pos: dict[Any, tuple[float, float]]) -> dict[Any, tuple[float, float]]:
    """Causes on top, effects below: left-to-right positions turned a quarter turn."""
    return {n: (-y, -x) for n, (x, y) in pos.items()}


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
        mapping ``node -> (x, y)``. A left-to-right layout wider than
        ``MAX_WIDTH`` (7) inches is turned top-to-bottom when that is narrower, so
        the graph stays legible on a phone; long labels are wrapped at ``_``.
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
    labels = {n: wrap_label(str(n)) for n in g.nodes}
    node_w = _CHAR_IN * max(len(line) for t in labels.values() for line in t.split("\n")) + 0.35
    node_h = 0.22 * max(t.count("\n") + 1 for t in labels.values()) + 0.3

    def extent(p: dict[Any, tuple[float, float]]) -> tuple[float, float]:
        """Width and height (inches) that fit the columns and rows of positions ``p``."""
        cols = len(set(np.round([q[0] for q in p.values()], 6)))
        rows = max(np.unique(np.round([q[0] for q in p.values()], 6), return_counts=True)[1])
        return cols * node_w + (cols - 1) * 0.5 + 0.3, rows * node_h + (rows - 1) * 0.3 + 0.3

    width, height = extent(pos)
    top_down = False
    if not isinstance(layout, Mapping) and layout != "spring" and width > MAX_WIDTH:
        turned = _orient_top_down(pos)
        # a row of the turned graph is a former column: as wide as its nodes side by side
        per_row = max(np.unique(np.round([p[1] for p in turned.values()], 6),
                                return_counts=True)[1])
        t_width = per_row * node_w + (per_row - 1) * 0.3 + 0.3
        if t_width < width:
            pos, top_down = turned, True
            rows = len(set(np.round([p[1] for p in turned.values()], 6)))
            width, height = t_width, rows * node_h + (rows - 1) * 0.6 + 0.3
    xs = np.array([p[0] for p in pos.values()])
    ys = np.array([p[1] for p in pos.values()])
    span_x = float(np.ptp(xs)) or 1.0
    span_y = float(np.ptp(ys)) or 1.0
    width = float(np.clip(width, 3.0, 10.0))
    height = float(np.clip(height + 0.5, 2.0, 10.0))  # + the legend
    # margins (data units) that keep the outermost boxes inside the axes
    mx = span_x * (node_w / 2 + 0.1) / max(width - node_w - 0.2, 0.5)
    my = span_y * (node_h / 2 + 0.1) / max(height - 0.5 - node_h - 0.2, 0.5)
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
            t = ax.text(x, y, labels[node], ha="center", va="center", color=colour, zorder=3,
                        fontsize=12, multialignment="center",
                        bbox={"boxstyle": "round,pad=0.4", "facecolor": face, "edgecolor": edge,
                              "linestyle": "--" if node in lat_set else "-", "linewidth": 1.4})
            t.set_gid(f"node:{node}")
            texts[node] = t
        # an arrow that skips a layer bends, so it does not run through the boxes between
        main = 1 if top_down else 0
        def key(v: float) -> float:
            return float(np.round(v, 6))

        layer_of = {v: i for i, v in enumerate(sorted({key(p[main]) for p in pos.values()}))}
        for a, b in sorted(g.edges, key=lambda e: (str(e[0]), str(e[1]))):
            dashed = a in lat_set
            skip = abs(layer_of[key(pos[a][main])] - layer_of[key(pos[b][main])]) > 1
            arr = ax.annotate(
                "", xy=pos[b], xytext=pos[a], zorder=2,
                arrowprops={"arrowstyle": "-|>", "color": GREY if dashed else "#333333",
                            "linestyle": "--" if dashed else "-", "linewidth": 1.3,
                            "patchA": texts[a].get_bbox_patch(),
                            "patchB": texts[b].get_bbox_patch(),
                            "shrinkA": 2, "shrinkB": 2, "mutation_scale": 14,
                            "connectionstyle": f"arc3,rad={0.25 if skip else 0.0}"})
            arr.set_gid(f"edge:{a}->{b}")
        ax.set_xlim(xs.min() - mx - (0.3 if np.ptp(xs) == 0 else 0.0),
                    xs.max() + mx + (0.3 if np.ptp(xs) == 0 else 0.0))
        ax.set_ylim(ys.min() - my - (0.5 if np.ptp(ys) == 0 else 0.0),
                    ys.max() + my + (0.5 if np.ptp(ys) == 0 else 0.0))
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
                      ncols=len(handles), fontsize=11)
    return fig
