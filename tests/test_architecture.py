"""The import rules of the package, enforced: every arrow points down, no cycles.

Every module under ``causalpolicing/`` is parsed with :mod:`ast` (never imported).
Each import -- at module level, inside a function, under ``TYPE_CHECKING``;
relative imports resolved -- is mapped to the room (sub-package or top-level
module) it comes from and goes to, and must go to the same room or to a lower
floor of :data:`LAYERS`. Rooms on one floor may import each other only where
:data:`SIDEWAYS` says so. The same table is in ``docs/architecture.md``; a test
checks that the two agree.

Cycles are checked twice: among module-level imports (what runs at import time)
and among all imports that run (module level and in functions; ``TYPE_CHECKING``
blocks excluded). The second check is the rule "an in-function import may keep a
heavy library lazy, never hide a cycle": an import moved into a function to dodge
a cycle still closes the loop here.

The approach follows CausalPy's layering test and import-linter's "layers"
contract, without the dependency.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = "causalpolicing"
SRC = Path(__file__).resolve().parents[1] / PACKAGE
DOCS = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: Floors, bottom to top. A room is a sub-package (``data``) or a top-level module
#: (``spec``). A module may import its own room and rooms on lower floors.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version", "exceptions", "_warnings", "_hints", "_lazy"),
    ("core", "formula", "results", "data"),
    ("inference",),
    ("estimators",),
    ("designs",),
    ("graph", "diagnostics", "simulate", "results_io", "datasets", "spec", "_spec_fields",
     "_model_spec"),
    ("report",),
    ("analysis", "studies"),
    ("cli", "__main__"),
)

#: Imports between rooms of one floor that are allowed, with the reason. Anything
#: not listed is forbidden, so that no two rooms of a floor can come to import each
#: other (the cycle checks below would catch that too).
SIDEWAYS: dict[tuple[str, str], str] = {
    ("_hints", "exceptions"): "check_level raises the package's errors",
    ("simulate", "graph"): "simulate.graph_panel draws data from a CausalGraph",
    ("datasets", "simulate"): "simulated datasets are built by the simulators",
    ("spec", "_spec_fields"): "the spec's field parsers live in _spec_fields",
    ("spec", "graph"): "the spec validates graph template names",
    ("spec", "_model_spec"): "an analysis spec's models are ModelSpecs",
    ("_model_spec", "_spec_fields"): "ModelSpec parses its fields with the spec's parsers",
    ("__main__", "cli"): "python -m causalpolicing runs the command line",
}

#: Upward imports tolerated while work that removes them is under way, as
#: (importing module, imported module). Empty: there are none. An entry must
#: still exist in the code (the test fails when one is gone), so the set only
#: shrinks; adding one needs a reason in a comment and an issue that removes it.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

#: Modules that import parts of the package inside functions, and why: each keeps a
#: heavy library out of an import that must stay light. Every other module imports
#: the package at module top: an in-function import that only dodges a cycle is a
#: hidden cycle. The test fails for a module not listed and for a listed module
#: that no longer needs it (so the list only shrinks).
LAZY_INTERNAL: dict[str, str] = {
    "causalpolicing.cli": "each command imports what it runs, so --help loads no pandas",
    "causalpolicing.studies._cli": "the reproduce command loads the study runner (pandas) "
                                   "only when it runs",
    "causalpolicing._spec_fields": "covariance names are checked by the covariance registry "
                                   "(numpy) only when a spec or option gives a vcov",
    "causalpolicing.estimators.registry": "--help reads the registry: the covariance registry "
                                          "(numpy) loads only when options are validated",
    "causalpolicing.estimators._schema": "--help reads the registry's option schema: the "
                                         "formula grammar and the covariance registry load "
                                         "only when options are validated",
    "causalpolicing.spec": "graph templates (networkx) load only for a [causal] section",
    "causalpolicing.simulate.graph_panel": "loading a simulated dataset does not load the "
                                           "graph room (networkx, scipy)",
    "causalpolicing.analysis.run": "figures (matplotlib, seaborn), the causal step (networkx, "
                                   "DoWhy), the feedback diagnostics (scipy, statsmodels) "
                                   "and the report (jinja2) load only when a spec asks",
}

#: The top-level ``causalpolicing/__init__.py`` is a lazy table naming everything:
#: as an importer it is exempt; as a target it sits above every room.
ROOT_FLOOR = len(LAYERS)


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is and how it runs."""

    source: str  # importing module
    target: str  # imported module (the longest prefix that is a module of the package)
    line: int
    in_function: bool
    type_checking: bool


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (path, is a package ``__init__``)."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        name, is_package = _module_name(path)
        out[name] = (path, is_package)
    return out


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                yield alias.name
        return
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    if base != PACKAGE and not base.startswith(PACKAGE + "."):
        return
    for alias in node.names:  # ``from . import transforms`` imports a module
        sub = f"{base}.{alias.name}"
        yield sub if sub in modules() else base


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _walk(node: ast.AST, module: str, is_package: bool, in_function: bool,
          type_checking: bool, found: list[Import]) -> None:
    for child in ast.iter_child_nodes(node):
        fn = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        tc = type_checking or (isinstance(child, ast.If) and _is_type_checking(child.test))
        if isinstance(child, ast.Import | ast.ImportFrom):
            for name in _targets(child, module, is_package):
                target = _known(name)
                if target is not None and target != module:
                    found.append(Import(module, target, child.lineno, fn, tc))
        _walk(child, module, is_package, fn, tc, found)


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a package module by a package module."""
    found: list[Import] = []
    for module, (path, is_package) in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        _walk(tree, module, is_package, False, False, found)
    return tuple(found)


def room(module: str) -> str:
    """``causalpolicing.data.panel`` -> ``data``; the package itself -> ``causalpolicing``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def floor(room_name: str) -> int:
    if room_name == PACKAGE:
        return ROOT_FLOOR
    for i, rooms in enumerate(LAYERS):
        if room_name in rooms:
            return i
    raise KeyError(room_name)


def _allowed(imp: Import) -> bool:
    a, b = room(imp.source), room(imp.target)
    if a == b:
        return True
    fa, fb = floor(a), floor(b)
    return fb < fa or (fa == fb and (a, b) in SIDEWAYS)


def _where(imp: Import) -> str:
    path = modules()[imp.source][0].relative_to(SRC.parent)
    how = " (in a function)" if imp.in_function else " (TYPE_CHECKING)" if imp.type_checking else ""
    return (f"{path}:{imp.line} imports {imp.target}{how}: {room(imp.source)} (floor "
            f"{floor(room(imp.source)) + 1}) -> {room(imp.target)} (floor "
            f"{floor(room(imp.target)) + 1})")


def _checked() -> list[Import]:
    """All imports except those of the top-level lazy table."""
    return [imp for imp in imports() if imp.source != PACKAGE]


def test_the_scan_finds_the_package() -> None:
    # Guards the test itself: a wrong path or a broken resolver would pass vacuously.
    assert "causalpolicing.data.panel" in modules()
    pairs = {(i.source, i.target) for i in imports()}
    assert ("causalpolicing.data.load", "causalpolicing.data.panel") in pairs
    assert ("causalpolicing.estimators.linear", "causalpolicing.core.demean") in pairs


def test_every_room_is_on_a_floor() -> None:
    rooms = {room(m) for m in modules()} - {PACKAGE}
    placed = {r for rooms_ in LAYERS for r in rooms_}
    assert rooms - placed == set(), (
        "Put new sub-packages or top-level modules on a floor of LAYERS "
        "(and in docs/architecture.md)."
    )
    assert placed - rooms == set(), "LAYERS names rooms that no longer exist."
    assert all(floor(a) == floor(b) for a, b in SIDEWAYS), "SIDEWAYS pairs must share a floor."


def test_imports_point_down() -> None:
    bad = [imp for imp in _checked()
           if not _allowed(imp) and (imp.source, imp.target) not in KNOWN_VIOLATIONS]
    assert bad == [], (
        "Imports must go to the same room or a lower floor (see LAYERS in this file and "
        "docs/architecture.md); move the shared name down instead:\n"
        + "\n".join(map(_where, bad))
    )


def test_known_violations_still_exist() -> None:
    upward = {(imp.source, imp.target) for imp in _checked() if not _allowed(imp)}
    gone = sorted(KNOWN_VIOLATIONS - upward)
    assert gone == [], f"These are fixed: remove them from KNOWN_VIOLATIONS: {gone}"


def _cycles(edges: list[tuple[str, str]]) -> list[list[str]]:
    graph = nx.DiGraph(edges)
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


def test_no_cycles_among_module_level_imports() -> None:
    edges = [(i.source, i.target) for i in _checked()
             if not i.in_function and not i.type_checking]
    assert _cycles(edges) == []


def test_no_in_function_import_hides_a_cycle() -> None:
    edges = [(i.source, i.target) for i in _checked()
             if not i.type_checking and (i.source, i.target) not in KNOWN_VIOLATIONS]
    cycles = _cycles(edges)
    assert cycles == [], (
        "These modules import each other (counting imports inside functions). Move the "
        f"shared names to a module below them rather than importing in a function: {cycles}"
    )


def _documented_layers() -> list[set[str]]:
    """The floors of the table in docs/architecture.md (rows ``| 1 | `a`, `b` | ... |``)."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|([^|]*)\|", DOCS.read_text(encoding="utf-8"), re.M)
    return [set(re.findall(r"`([\w.]+)/?`", rooms)) for _, rooms in rows]


@pytest.mark.skipif(not DOCS.is_file(), reason="docs/architecture.md is not in this checkout")
def test_docs_show_the_same_layers() -> None:
    assert _documented_layers() == [set(rooms) for rooms in LAYERS]


def test_in_function_imports_only_keep_heavy_libraries_lazy() -> None:
    lazy = {i.source for i in _checked() if i.in_function and not i.type_checking}
    assert lazy - set(LAZY_INTERNAL) == set(), (
        "Import the package's own modules at module top; an in-function import is for "
        "keeping a heavy library lazy (then list the module in LAZY_INTERNAL with the "
        f"reason): {sorted(lazy - set(LAZY_INTERNAL))}")
    assert set(LAZY_INTERNAL) - lazy == set(), (
        f"No longer lazy: remove from LAZY_INTERNAL: {sorted(set(LAZY_INTERNAL) - lazy)}")
