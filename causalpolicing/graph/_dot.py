"""Reading DOT and GML text for causal graphs, within documented limits.

:func:`parse_dot` reads a safe subset of DOT (nothing is executed);
:func:`check_gml` scans GML text before :func:`networkx.parse_gml` reads it;
:func:`read_graph_file` reads a ``.dot``/``.gv``/``.gml`` file as text.

Limits
------
Causal graphs of real studies have tens of nodes; these limits are far above
that and keep a malformed or hostile file from exhausting the stack, the memory
or the time of a run. Each is checked *before* the expensive step it protects
(parsing, building the networkx graph, identification with DoWhy) and raises
:class:`~causalpolicing.graph.GraphError` naming the limit and the fix.

=====================  =========  ===============================================
limit                  value      what it counts
=====================  =========  ===============================================
:data:`MAX_NODES`      2,000      distinct nodes of a graph (any input)
:data:`MAX_EDGES`      20,000     edges of a graph (any input)
:data:`MAX_DEPTH`      64         nested ``{ }`` blocks / subgraphs in DOT,
                                  nested ``[ ]`` lists in GML
:data:`MAX_TEXT_CHARS` 10,000,000 characters of DOT or GML text (10 MB files)
:data:`MAX_IDENTIFY_NODES` 200    nodes of a graph given to identification
                                  (:func:`~causalpolicing.graph.identify`, which
                                  runs DoWhy's search for adjustment sets; its
                                  time grows faster than the square of the nodes:
                                  about 20 s for a chain of 250 nodes, 10 minutes
                                  for 1,000)
=====================  =========  ===============================================

Examples
--------
>>> parse_dot('digraph { a -> {b c}; u [latent=true]; u -> a }')
(['a', 'b', 'c', 'u'], [('a', 'b'), ('a', 'c'), ('u', 'a')], ['u'])
>>> chain = "digraph { " + " -> ".join(f"n{i}" for i in range(MAX_NODES + 1)) + " }"
>>> parse_dot(chain)
Traceback (most recent call last):
...
causalpolicing.graph.errors.GraphError: The graph has more than 2,000 nodes (the limit, causalpolicing.graph.MAX_NODES). ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import GraphError

__all__ = ["MAX_NODES", "MAX_EDGES", "MAX_DEPTH", "MAX_TEXT_CHARS", "MAX_IDENTIFY_NODES",
           "parse_dot", "check_gml", "read_graph_file", "check_size"]

#: Most distinct nodes a causal graph may have.
MAX_NODES = 2_000
#: Most edges a causal graph may have.
MAX_EDGES = 20_000
#: Deepest nesting of ``{ }`` blocks (DOT subgraphs) or ``[ ]`` lists (GML).
MAX_DEPTH = 64
#: Longest DOT or GML text read, in characters.
MAX_TEXT_CHARS = 10_000_000
#: Most nodes of a graph whose effects :func:`~causalpolicing.graph.identify` identifies.
MAX_IDENTIFY_NODES = 200

_TRUE = {"yes", "true", "1", "y"}
_FALSE = {"no", "false", "0", "n"}
_FIX = ("A causal graph of a study has tens of nodes: check that this is the causal graph "
        "(not, e.g., a network derived from data) and simplify it.")


def check_size(n_nodes: int, n_edges: int) -> None:
    """Raise :class:`GraphError` when a graph has more nodes or edges than the limits."""
    if n_nodes > MAX_NODES:
        raise GraphError(f"The graph has more than {MAX_NODES:,} nodes (the limit, "
                         f"causalpolicing.graph.MAX_NODES). {_FIX}")
    if n_edges > MAX_EDGES:
        raise GraphError(f"The graph has more than {MAX_EDGES:,} edges (the limit, "
                         f"causalpolicing.graph.MAX_EDGES). {_FIX}")


def _check_text(text: str, kind: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise GraphError(f"The {kind} text has {len(text):,} characters, more than the limit of "
                         f"{MAX_TEXT_CHARS:,} (causalpolicing.graph.MAX_TEXT_CHARS). {_FIX}")


def _too_deep(what: str) -> GraphError:
    return GraphError(f"The {what} is nested more than {MAX_DEPTH} levels deep (the limit, "
                      "causalpolicing.graph.MAX_DEPTH). A causal graph needs no nesting: write "
                      "its edges at the top level ('digraph { a -> b; b -> c }').")


# ------------------------------------------------------------------ DOT parsing
_DOT_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<arrow>->|--)
  | (?P<punct>[{}\[\];,=:])
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<html><[^<>]*>)
  | (?P<id>-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)|[A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _DOT_TOKEN.match(text, pos)
        if m is None:
            line = text.count("\n", 0, pos) + 1
            raise GraphError(
                f"Cannot read the DOT text at line {line}: {text[pos:pos + 30]!r}. Supported: "
                "'digraph { a -> b; b -> c [label=x]; u [observed=\"no\"]; a -> {b c}; }'."
            )
        kind = m.lastgroup or ""
        if kind == "quoted":
            tokens.append(("id", m.group()[1:-1].replace('\\"', '"')))
        elif kind == "html":
            tokens.append(("id", m.group()[1:-1]))
        elif kind not in ("ws", "comment"):
            tokens.append((kind if kind != "punct" else m.group(), m.group()))
        pos = m.end()
    return tokens


class _DotParser:
    """Recursive-descent parser of the DOT subset: digraph, node and edge statements,
    attribute lists, ``{a b}`` node groups; graph/node/edge defaults are ignored."""

    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.nodes: dict[str, dict[str, str]] = {}
        self.edges: list[tuple[str, str]] = []
        self.depth = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def take(self, kind: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if kind is not None and tok[0] != kind:
            raise GraphError(f"DOT syntax error: expected {kind!r}, found {tok[1] or 'the end'!r} "
                             f"(token {self.i + 1}).")
        self.i += 1
        return tok

    def parse(self) -> None:
        if self.peek()[0] == "id" and self.peek()[1].lower() == "strict":
            self.take()
        kind = self.take("id")[1].lower()
        if kind == "graph":
            raise GraphError("The DOT text declares an undirected 'graph'; a causal graph must be "
                             "a 'digraph' with '->' edges.")
        if kind != "digraph":
            raise GraphError(f"DOT text must start with 'digraph'; found {kind!r}.")
        if self.peek()[0] == "id":
            self.take()
        self.take("{")
        self.statements()
        self.take("}")
        if self.peek()[0] != "eof":
            raise GraphError(f"Unexpected text after the closing brace: {self.peek()[1]!r}.")

    def statements(self) -> None:
        while self.peek()[0] not in ("}", "eof"):
            self.statement()
            while self.peek()[0] in (";", ","):
                self.take()

    def attrs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        while self.peek()[0] == "[":
            self.take("[")
            while self.peek()[0] != "]":
                key = self.take("id")[1]
                val = "true"
                if self.peek()[0] == "=":
                    self.take("=")
                    val = self.take("id")[1]
                out[key] = val
                while self.peek()[0] in (",", ";"):
                    self.take()
            self.take("]")
        return out

    def group(self) -> list[str]:
        tok = self.peek()
        if tok[0] == "id" and tok[1].lower() == "subgraph":
            self.take()
            if self.peek()[0] == "id":
                self.take()
            tok = self.peek()
        if tok[0] == "{":
            self.take("{")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _too_deep("DOT text ('{ }' blocks and subgraphs)")
            names: list[str] = []
            while self.peek()[0] != "}":
                t = self.peek()
                if t[0] == "id":
                    names.extend(self.group())
                elif t[0] in (";", ","):
                    self.take()
                else:
                    raise GraphError(f"DOT syntax error inside '{{...}}': unexpected {t[1]!r}.")
            self.take("}")
            self.depth -= 1
            return names
        name = self.take("id")[1]
        if self.peek()[0] == ":":  # ports (a:n) are ignored
            self.take(":")
            self.take("id")
        if name not in self.nodes:
            check_size(len(self.nodes) + 1, 0)
            self.nodes[name] = {}
        return [name]

    def statement(self) -> None:
        tok = self.peek()
        low = tok[1].lower() if tok[0] == "id" else ""
        if low in ("graph", "node", "edge") and self.peek(1)[0] == "[":
            self.take()
            self.attrs()
            return
        if tok[0] == "id" and self.peek(1)[0] == "=":  # graph attribute a = b
            self.take()
            self.take("=")
            self.take("id")
            return
        left = self.group()
        chain = [left]
        while self.peek()[0] == "arrow":
            arrow = self.take()[1]
            if arrow == "--":
                raise GraphError(f"Undirected edge '--' after {left!r}: use '->' in a causal graph.")
            chain.append(self.group())
        attrs = self.attrs()
        if len(chain) == 1:
            for n in left:
                self.nodes[n].update(attrs)
        pairs = list(zip(chain, chain[1:], strict=False))
        check_size(0, len(self.edges) + sum(len(a) * len(b) for a, b in pairs))
        for a_group, b_group in pairs:
            for a in a_group:
                for b in b_group:
                    self.edges.append((a, b))


def _is_latent_attr(attrs: Mapping[str, Any]) -> bool:
    def norm(v: Any) -> str:
        return str(v).strip().lower()

    if "latent" in attrs and norm(attrs["latent"]) in _TRUE:
        return True
    if "observed" in attrs and norm(attrs["observed"]) in _FALSE:
        return True
    return False


def parse_dot(text: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """Parse a DOT digraph into ``(nodes, edges, latent_nodes)`` (nothing is executed).

    Supported: ``strict``/``digraph`` headers, node statements with attribute
    lists (``u [observed="no"]`` or ``u [latent=true]`` mark a latent node),
    edge chains (``a -> b -> c``), node groups (``a -> {b c}``), comments,
    quoted names; ``graph``/``node``/``edge`` default statements and other
    attributes are read and ignored.

    Raises
    ------
    GraphError
        For text that is not this DOT subset, and for text or graphs beyond the
        limits of this module (:data:`MAX_TEXT_CHARS`, :data:`MAX_DEPTH`,
        :data:`MAX_NODES`, :data:`MAX_EDGES`), checked while reading.

    Examples
    --------
    >>> parse_dot('digraph { a -> {b c}; u [latent=true]; u -> a }')
    (['a', 'b', 'c', 'u'], [('a', 'b'), ('a', 'c'), ('u', 'a')], ['u'])
    """
    if not isinstance(text, str):
        raise GraphError(f"DOT input must be a string; got {type(text).__name__}.")
    _check_text(text, "DOT")
    p = _DotParser(text)
    p.parse()
    latent = [n for n, a in p.nodes.items() if _is_latent_attr(a)]
    return list(p.nodes), p.edges, latent


_GML_SCAN = re.compile(r'"[^"]*"|\[|\]|\b(?:node|edge)\b(?=\s*\[)')


def check_gml(text: str) -> None:
    """Check GML text against the limits before :func:`networkx.parse_gml` reads it.

    One linear scan (quoted strings skipped) counts ``node [`` and ``edge [``
    blocks and the nesting of ``[ ]`` lists.

    Raises
    ------
    GraphError
        When the text, its nesting or its node or edge count is beyond the limits.

    Examples
    --------
    >>> check_gml('graph [ directed 1 node [ id 0 label "x" ] ]') is None
    True
    >>> check_gml("graph [ " + "a [ " * 100 + "]" * 101)
    Traceback (most recent call last):
    ...
    causalpolicing.graph.errors.GraphError: The GML text ('[ ]' lists) is nested more than 64 levels deep ...
    """
    _check_text(text, "GML")
    depth = nodes = edges = 0
    for m in _GML_SCAN.finditer(text):
        tok = m.group()
        if tok == "[":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep("GML text ('[ ]' lists)")
        elif tok == "]":
            depth -= 1
        elif tok == "node":
            nodes += 1
        elif tok == "edge":
            edges += 1
    check_size(nodes, edges)


def read_graph_file(path: str | Path) -> str:
    """The text of a DOT or GML file, checked to be a text file within the size limit.

    Raises
    ------
    GraphError
        Naming the file, when it is missing, larger than :data:`MAX_TEXT_CHARS`
        bytes, binary, or not UTF-8 text.
    """
    p = Path(path)
    if not p.is_file():
        raise GraphError(f"Graph file {str(p)!r} not found.")
    size = p.stat().st_size
    if size > MAX_TEXT_CHARS:
        raise GraphError(f"Graph file {str(p)!r} has {size:,} bytes, more than the limit of "
                         f"{MAX_TEXT_CHARS:,} (causalpolicing.graph.MAX_TEXT_CHARS). {_FIX}")
    raw = p.read_bytes()
    fix = "Save the causal graph as a DOT ('digraph { a -> b }') or GML text file in UTF-8."
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise GraphError(f"Graph file {str(p)!r} is binary (a NUL byte at byte {nul:,}), not "
                         f"DOT or GML text. {fix}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphError(f"Graph file {str(p)!r} is not UTF-8 text (byte {exc.start:,} is "
                         f"0x{raw[exc.start]:02x}). {fix}") from None
