"""Identification of a causal effect from a :class:`~causalpolicing.graph.CausalGraph`.

:func:`identify` asks DoWhy's identifier (``dowhy.causal_identifier``) for the
back-door adjustment sets, the front-door set and the instruments, and keeps
DoWhy's estimand text. When no set of observed variables satisfies the
back-door criterion, the result names an open back-door path (found with
networkx) and says which observed variable would close it, or that a latent
variable on it blocks identification by adjustment.

Three adjustment sets are reported (node names; ``None`` when there is none):

``minimal``
    A valid set of the smallest size (among equals: the fewest instruments,
    then the first in alphabetical order).
``default``
    DoWhy's default set: among the sets DoWhy's default search finds (the
    largest valid set and every smallest one), the one with the fewest
    instruments, then the smallest (ties broken alphabetically, so the choice
    never depends on Python's hash seed; DoWhy itself breaks ties in hash
    order). This is the set ``backdoor.linear_regression`` uses.
``maximal``
    The largest valid set (DoWhy's ``maximal-adjustment``): every observed
    non-descendant of the treatment connected to treatment or outcome.

The graph describes the variables **after** unit and time effects: a
confounder that is constant within units, or common to all units in a
period, is absorbed by the fixed effects of :func:`causalpolicing.graph.estimate`
and need not be drawn.

Examples
--------
>>> from causalpolicing.graph import CausalGraph, identify
>>> g = CausalGraph([("market", "offences"), ("market", "deaths"), ("offences", "access"),
...                  ("access", "deaths"), ("budget", "offences")])
>>> ident = identify(g, "offences", "deaths")
>>> ident.minimal, ident.maximal, ident.instruments, ident.frontdoor
(('market',), ('budget', 'market'), ('budget',), ('access',))
>>> identify(g.with_latent("market"), "offences", "deaths").backdoor_identified
False
"""

from __future__ import annotations

import copy
import itertools
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from ..exceptions import CausalPolicingError
from .dag import MAX_IDENTIFY_NODES, CausalGraph, GraphError, as_graph

__all__ = [
    "Identification",
    "NotIdentifiedError",
    "identify",
    "check_adjustment_set",
    "open_backdoor_path",
]

#: Simple paths examined at most when looking for an open back-door path.
MAX_PATHS = 200_000

Which = Literal["minimal", "default", "maximal"]


class NotIdentifiedError(CausalPolicingError, ValueError):
    """The effect cannot be identified by adjustment (the message names an open path)."""


def import_dowhy() -> None:
    """Import DoWhy (once) without its side effect on the interactive display.

    Importing DoWhy calls ``sympy.init_printing()``, which replaces
    ``sys.displayhook``: every later result in a Python session or doctest would
    then be printed by sympy (strings without quotes, wrapped at 80 columns).
    The hook in place before the import is put back.
    """
    if "dowhy" in sys.modules:
        return
    hook = sys.displayhook
    try:
        import dowhy  # noqa: F401
    finally:
        sys.displayhook = hook


@contextmanager
def quiet_dowhy() -> Iterator[None]:
    """Silence DoWhy's loggers (INFO/WARNING chatter) inside the block."""
    loggers = [logging.getLogger(n) for n in ("dowhy", "dowhy.causal_identifier",
                                              "dowhy.causal_model", "dowhy.causal_estimator",
                                              "dowhy.causal_graph", "dowhy.graph")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, lvl in zip(loggers, levels, strict=True):
            lg.setLevel(lvl)


@dataclass(frozen=True)
class Identification:
    """What :func:`identify` found (frozen). Node names, not columns.

    Attributes
    ----------
    treatment, outcome
        The nodes asked about.
    graph
        The graph used.
    backdoor_identified
        Whether some set of observed variables satisfies the back-door criterion.
    minimal, default, maximal
        Adjustment sets (see the module docstring); ``None`` when not identified.
    backdoor_sets
        Every valid set DoWhy's default search found (sorted tuples).
    frontdoor
        A front-door set of observed nodes, or ``None``.
    instruments
        Observed instruments of the treatment (DoWhy's graphical criterion).
    no_directed_path
        True when the treatment has no directed path to the outcome (effect zero).
    estimand
        DoWhy's text of the identified estimand(s).
    open_path
        When not identified by adjustment: an open back-door path (nodes, from
        the treatment to the outcome), else ``None``.
    explanation
        One paragraph: how the effect is identified, or why not and what would help.
    """

    treatment: str
    outcome: str
    graph: CausalGraph
    backdoor_identified: bool
    minimal: tuple[str, ...] | None
    default: tuple[str, ...] | None
    maximal: tuple[str, ...] | None
    backdoor_sets: tuple[tuple[str, ...], ...]
    frontdoor: tuple[str, ...] | None
    instruments: tuple[str, ...]
    no_directed_path: bool
    estimand: str
    open_path: tuple[str, ...] | None
    explanation: str

    @property
    def identified(self) -> bool:
        """Identified by adjustment, the front door or an instrument (or trivially zero)."""
        return (self.backdoor_identified or self.frontdoor is not None
                or bool(self.instruments) or self.no_directed_path)

    @property
    def estimand_text(self) -> str:
        """The identified estimand(s) as plain text, one per line, with their assumptions.

        DoWhy's :attr:`estimand` is a sympy drawing (multi-line fractions, subscripts that
        turn ``offences_per_1000`` into ``offencesₚₑᵣ ₁₀₀₀``); this is the same content
        written on one line each, readable at any width: ``d/d[t]`` is the derivative
        with respect to ``t``, ``E[y | z]`` the expectation of ``y`` given ``z``.

        Examples
        --------
        >>> g = CausalGraph([("w", "x"), ("w", "y"), ("x", "y"), ("z", "x")])
        >>> print(identify(g, "x", "y").estimand_text)
        Back door: d/d[x] E[y | w]
          (assumes no unobserved common cause of x and y once w is adjusted for)
        Instrument: E[d/d[z] y] / E[d/d[z] x]
          (assumes z shares no unobserved cause with y and affects y only through x)
        """
        t, y = self.treatment, self.outcome
        if self.no_directed_path:
            return f"No directed path from {t} to {y}: the effect is zero."
        lines = []
        if self.backdoor_identified and self.default is not None:
            given = f" | {', '.join(self.default)}" if self.default else ""
            lines.append(f"Back door: d/d[{t}] E[{y}{given}]")
            lines.append(f"  (assumes no unobserved common cause of {t} and {y}"
                         + (f" once {', '.join(self.default)} {'is' if len(self.default) == 1 else 'are'}"
                            " adjusted for)" if self.default else ")"))
        else:
            lines.append("Back door: not identified (an unobserved common cause is not blocked).")
        if self.instruments:
            z = ", ".join(self.instruments)
            lines.append(f"Instrument: E[d/d[{z}] {y}] / E[d/d[{z}] {t}]")
            lines.append(f"  (assumes {z} shares no unobserved cause with {y} and affects {y} "
                         f"only through {t})")
        if self.frontdoor:
            m = ", ".join(self.frontdoor)
            lines.append(f"Front door: E[d/d[{m}] {y} | {t}] x E[d/d[{t}] {m}]")
            lines.append(f"  (assumes {t} affects {y} only through {m}, and no unobserved "
                         f"common cause of {t} and {m}, nor of {m} and {y} given {t})")
        return "\n".join(lines)

    def adjustment_set(self, which: Which = "minimal") -> tuple[str, ...]:
        """The ``minimal``, ``default`` or ``maximal`` set; raises when not identified."""
        if which not in ("minimal", "default", "maximal"):
            raise GraphError(f"which must be 'minimal', 'default' or 'maximal'; got {which!r}.")
        if not self.backdoor_identified:
            raise NotIdentifiedError(self.explanation)
        out = getattr(self, which)
        return tuple(out)

    def as_dict(self) -> dict[str, object]:
        """Plain-dict summary (lists, strings, booleans), e.g. for a report's graph section.

        Examples
        --------
        >>> g = CausalGraph([("w", "x"), ("w", "y"), ("x", "y")])
        >>> identify(g, "x", "y").as_dict()["adjustment_sets"]
        {'minimal': ['w'], 'default': ['w'], 'maximal': ['w']}
        """
        def lst(x: tuple[str, ...] | None) -> list[str] | None:
            return None if x is None else list(x)

        return {
            "treatment": self.treatment,
            "outcome": self.outcome,
            "identified_by_adjustment": self.backdoor_identified,
            "adjustment_sets": {"minimal": lst(self.minimal), "default": lst(self.default),
                                "maximal": lst(self.maximal)},
            "front_door": lst(self.frontdoor),
            "instruments": list(self.instruments),
            "open_path": lst(self.open_path),
            "explanation": self.explanation,
            "estimand": self.estimand,
        }

    def __str__(self) -> str:
        return self.explanation


# ------------------------------------------------------------------ path tools
def _backdoor_graph(g: nx.DiGraph, treatment: str) -> nx.DiGraph:
    h = g.copy()
    h.remove_edges_from(list(g.out_edges(treatment)))
    return h


def _is_open(g: nx.DiGraph, path: list[str], given: set[str]) -> bool:
    for a, b, c in zip(path, path[1:], path[2:], strict=False):
        collider = g.has_edge(a, b) and g.has_edge(c, b)
        if collider:
            if b not in given and not (nx.descendants(g, b) & given):
                return False
        elif b in given:
            return False
    return True


def _format_path(g: nx.DiGraph, path: list[str]) -> str:
    parts = [path[0]]
    for a, b in zip(path, path[1:], strict=False):
        parts.append("->" if g.has_edge(a, b) else "<-")
        parts.append(b)
    return " ".join(parts)


def open_backdoor_path(graph: CausalGraph, treatment: str, outcome: str,
                       given: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The shortest back-door path from ``treatment`` to ``outcome`` left open by ``given``.

    A back-door path starts with an arrow into the treatment. It is open when
    every non-collider on it is outside ``given`` and every collider is in
    ``given`` or has a descendant there. Returns ``None`` when all are blocked.

    Examples
    --------
    >>> g = CausalGraph([("w", "x"), ("w", "y"), ("x", "y")])
    >>> open_backdoor_path(g, "x", "y"), open_backdoor_path(g, "x", "y", ["w"])
    (('x', 'w', 'y'), None)
    """
    g = graph.to_networkx()
    z = set(given)
    skel = g.to_undirected(as_view=False)
    skel.remove_edges_from([(treatment, c) for c in g.successors(treatment)])
    paths = nx.shortest_simple_paths(skel, treatment, outcome)
    try:
        for path in itertools.islice(paths, MAX_PATHS):
            if not g.has_edge(path[1], treatment):
                continue
            if _is_open(g, path, z):
                return tuple(path)
    except nx.NetworkXNoPath:
        return None
    return None


def _valid_backdoor(g: nx.DiGraph, treatment: str, outcome: str, z: set[str]) -> bool:
    if z & (nx.descendants(g, treatment) | {treatment, outcome}):
        return False
    return nx.is_d_separator(_backdoor_graph(g, treatment), {treatment}, {outcome}, z)


def _describe_open(graph: CausalGraph, path: tuple[str, ...], given: set[str],
                   treatment: str) -> str:
    g = graph.to_networkx()
    desc_t = set(nx.descendants(g, treatment))
    text = _format_path(g, list(path))
    colliders_opened = []
    closers = []
    latent_on_path = []
    for a, b, c in zip(path, path[1:], path[2:], strict=False):
        if g.has_edge(a, b) and g.has_edge(c, b):
            colliders_opened.append(b)
        elif b in graph.latent:
            latent_on_path.append(b)
        elif b not in desc_t:
            closers.append(b)
    msg = f"The back-door path {text} is open"
    msg += f" given {sorted(given)}." if given else " (no adjustment)."
    if colliders_opened:
        opened = [b for b in colliders_opened if b in given or nx.descendants(g, b) & given]
        if opened:
            msg += (f" Conditioning on {opened} (a collider on this path, or a descendant of one) "
                    "opens it: leave it out.")
    if closers:
        msg += f" Adjusting for {' or '.join(map(repr, closers))} would close it."
    elif latent_on_path:
        msg += (f" Only latent node(s) {latent_on_path} could close it: a latent confounder "
                "blocks identification by adjustment. Measure it (or, if it is constant within "
                "units or common to all units in a period, rely on the fixed effects and drop it "
                "from the graph), or use a front door or an instrument.")
    return msg


def check_adjustment_set(graph: CausalGraph, treatment: str, outcome: str,
                         adjustment: Iterable[str]) -> tuple[str, ...]:
    """Validate a user-chosen adjustment set against the back-door criterion.

    Returns the set as a sorted tuple; raises :class:`NotIdentifiedError`
    naming an open path (or the offending descendant of the treatment).

    Examples
    --------
    >>> g = CausalGraph([("w", "x"), ("w", "y"), ("x", "m"), ("m", "y")])
    >>> check_adjustment_set(g, "x", "y", ["w"])
    ('w',)
    >>> check_adjustment_set(g, "x", "y", ["w", "m"])
    Traceback (most recent call last):
    ...
    causalpolicing.graph.identification.NotIdentifiedError: Adjustment set ['m', 'w'] contains ...
    """
    graph = as_graph(graph)
    z = set(adjustment)
    for n in z:
        graph._check_node(n)
    g = graph.to_networkx()
    bad_latent = sorted(z & set(graph.latent))
    if bad_latent:
        raise NotIdentifiedError(f"Adjustment set {sorted(z)} contains latent node(s) "
                                 f"{bad_latent}: they have no data.")
    forbidden = sorted(z & (nx.descendants(g, treatment) | {treatment, outcome}))
    if forbidden:
        raise NotIdentifiedError(
            f"Adjustment set {sorted(z)} contains {forbidden}: the treatment {treatment!r}, the "
            f"outcome or a descendant of the treatment (a mediator, or an effect of it). Adjusting "
            "for it biases the total effect; leave it out.")
    if not _valid_backdoor(g, treatment, outcome, z):
        path = open_backdoor_path(graph, treatment, outcome, z)
        detail = (_describe_open(graph, path, z, treatment) if path is not None
                  else "Some back-door path stays open.")
        raise NotIdentifiedError(f"Adjustment set {sorted(z)} does not satisfy the back-door "
                                 f"criterion for {treatment!r} -> {outcome!r}. {detail}")
    return tuple(sorted(z))


# ----------------------------------------------------------------- identify
def _estimand_text(est: object, treatment: str, outcome: str, default: tuple[str, ...],
                   instruments: tuple[str, ...], frontdoor: tuple[str, ...] | None) -> str:
    """DoWhy's estimand text, rebuilt with sorted variable lists (DoWhy lists them in hash
    order, so its own text would change with ``PYTHONHASHSEED``)."""
    from dowhy.causal_identifier.auto_identifier import (
        construct_adjustment_estimand,
        construct_frontdoor_estimand,
        construct_iv_estimand,
    )

    est = copy.deepcopy(est)
    t, y = [treatment], [outcome]
    est.estimands["backdoor"] = construct_adjustment_estimand(t, y, list(default))
    est.estimands["iv"] = construct_iv_estimand(t, y, list(instruments)) if instruments else None
    est.estimands["frontdoor"] = (construct_frontdoor_estimand(t, y, list(frontdoor))
                                  if frontdoor else None)
    general = (getattr(est, "general_adjustment_variables", None) or {}).get("general_adjustment")
    if general is not None and "general_adjustment" in est.estimands:
        est.estimands["general_adjustment"] = construct_adjustment_estimand(
            t, y, sorted(general))
    return str(est)


def _n_instr(s: tuple[str, ...], instruments: set[str]) -> int:
    return len(set(s) & instruments)


def identify(graph: CausalGraph | str, treatment: str, outcome: str) -> Identification:
    """Identify the effect of ``treatment`` on ``outcome`` from the graph (through DoWhy).

    Parameters
    ----------
    graph
        A :class:`CausalGraph` (or DOT/GML text, or edges; see
        :func:`~causalpolicing.graph.dag.as_graph`).
    treatment, outcome
        Observed nodes.

    Returns
    -------
    Identification
        Adjustment sets, front door, instruments, DoWhy's estimand text, and,
        when adjustment cannot identify the effect, an open back-door path with
        what would close it. Never raises for a non-identified effect (check
        ``backdoor_identified``); :meth:`Identification.adjustment_set` and
        :func:`~causalpolicing.graph.estimate` do.

    Raises
    ------
    GraphError
        For an unknown or latent treatment/outcome, and for a graph of more
        than :data:`~causalpolicing.graph.MAX_IDENTIFY_NODES` (200) nodes,
        checked before DoWhy's search (whose time grows faster than the square
        of the number of nodes).

    Examples
    --------
    >>> from causalpolicing.graph import CausalGraph, identify
    >>> g = CausalGraph([("u", "offences"), ("u", "deaths"), ("offences", "deaths")],
    ...                 latent=["u"])
    >>> res = identify(g, "offences", "deaths")
    >>> res.backdoor_identified, res.open_path
    (False, ('offences', 'u', 'deaths'))
    >>> print(res.explanation)  # doctest: +ELLIPSIS
    Not identified by adjustment: The back-door path offences <- u -> deaths is open ...
    """
    import_dowhy()
    from dowhy.causal_identifier.auto_identifier import (
        EstimandType,
        identify_effect_auto,
        identify_frontdoor,
    )
    from dowhy.graph import get_instruments

    graph = as_graph(graph)
    if len(graph.nodes) > MAX_IDENTIFY_NODES:  # before DoWhy's search, whose time explodes
        raise GraphError(
            f"The graph has {len(graph.nodes):,} nodes; identification takes at most "
            f"{MAX_IDENTIFY_NODES} (causalpolicing.graph.MAX_IDENTIFY_NODES), as DoWhy's search "
            "for adjustment sets grows faster than the square of the nodes. Keep the treatment, "
            "the outcome, their causes and the paths between them; drop the other nodes.")
    for role, node in (("treatment", treatment), ("outcome", outcome)):
        graph._check_node(node)
        if node in graph.latent:
            raise GraphError(f"The {role} {node!r} is latent; it must be observed.")
    if treatment == outcome:
        raise GraphError(f"treatment and outcome are the same node {treatment!r}.")
    g = graph.to_networkx()
    observed = list(graph.observed)
    obs_set = set(observed)

    if not nx.has_path(g, treatment, outcome):
        return Identification(
            treatment=treatment, outcome=outcome, graph=graph, backdoor_identified=True,
            minimal=(), default=(), maximal=(), backdoor_sets=((),), frontdoor=None,
            instruments=(), no_directed_path=True,
            estimand=f"No directed path from {treatment} to {outcome}: the effect is zero.",
            open_path=None,
            explanation=(f"The graph has no directed path from {treatment!r} to {outcome!r}: "
                         "it implies a causal effect of zero."))

    # can any observed set satisfy the back-door criterion? (the ancestral set is valid if any is)
    desc_t = nx.descendants(g, treatment)
    anc = (nx.ancestors(g, treatment) | nx.ancestors(g, outcome)) & obs_set
    canonical = anc - desc_t - {treatment, outcome}
    backdoor_ok = _valid_backdoor(g, treatment, outcome, canonical)

    with quiet_dowhy():
        instruments = tuple(sorted(set(get_instruments(g, [treatment], [outcome])) & obs_set))
        if backdoor_ok:
            est = identify_effect_auto(g, [treatment], [outcome], observed,
                                       EstimandType.NONPARAMETRIC_ATE)
            fd = list(est.frontdoor_variables or [])
        else:
            fd = list(identify_frontdoor(g, [treatment], [outcome], observed) or [])
            estimand_text = ""
    frontdoor = tuple(sorted(fd)) if fd else None
    iset = set(instruments)

    if backdoor_ok:
        sets = {tuple(sorted(v)) for k, v in (est.backdoor_variables or {}).items()
                if k != "backdoor" and v is not None}
        sets = {s for s in sets if set(s) <= obs_set}
        if not sets:  # pragma: no cover - DoWhy and networkx disagree
            sets = {tuple(sorted(canonical))}
        ordered = sorted(sets, key=lambda s: (len(s), s))
        min_len = len(ordered[0])
        minimal = min((s for s in ordered if len(s) == min_len),
                      key=lambda s: (_n_instr(s, iset), s))
        maximal = next(s for s in ordered if len(s) == len(ordered[-1]))
        default = min(ordered, key=lambda s: (_n_instr(s, iset), len(s), s))
        estimand_text = _estimand_text(est, treatment, outcome, default, instruments, frontdoor)
        ways = [f"adjusting for {list(minimal) if minimal else 'nothing'} (minimal set)"]
        if frontdoor:
            ways.append(f"the front door through {list(frontdoor)}")
        if instruments:
            ways.append(f"the instrument(s) {list(instruments)}")
        explanation = (f"The effect of {treatment!r} on {outcome!r} is identified by "
                       + "; by ".join(ways) + f". DoWhy's default adjustment set: {list(default)}"
                       f"; the largest valid set: {list(maximal)}.")
        return Identification(
            treatment=treatment, outcome=outcome, graph=graph, backdoor_identified=True,
            minimal=minimal, default=default, maximal=maximal, backdoor_sets=tuple(ordered),
            frontdoor=frontdoor, instruments=instruments, no_directed_path=False,
            estimand=estimand_text, open_path=None, explanation=explanation)

    path = open_backdoor_path(graph, treatment, outcome, canonical)
    detail = (_describe_open(graph, path, canonical, treatment) if path is not None else
              "No set of observed variables blocks every back-door path.")
    others = []
    if frontdoor:
        others.append(f"the front door through {list(frontdoor)} identifies it")
    if instruments:
        others.append(f"the instrument(s) {list(instruments)} identify it (under the IV "
                      "assumptions)")
    explanation = "Not identified by adjustment: " + detail + (
        " However, " + " and ".join(others) + "." if others else "")
    if not estimand_text:
        estimand_text = ("Back-door adjustment: not identified (a latent confounder). "
                         + (f"Front door: {list(frontdoor)}. " if frontdoor else "")
                         + (f"Instruments: {list(instruments)}." if instruments else ""))
    return Identification(
        treatment=treatment, outcome=outcome, graph=graph, backdoor_identified=False,
        minimal=None, default=None, maximal=None, backdoor_sets=(), frontdoor=frontdoor,
        instruments=instruments, no_directed_path=False, estimand=estimand_text.strip(),
        open_path=path, explanation=explanation)
