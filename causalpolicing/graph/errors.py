"""The errors of causal graphs (shared by the DOT/GML readers and :class:`CausalGraph`)."""

from __future__ import annotations

from ..exceptions import CausalPolicingError

__all__ = ["GraphError", "CycleError"]


class GraphError(CausalPolicingError, ValueError):
    """A causal graph is malformed (bad DOT/GML, unknown node, cycle, too large, ...)."""


class CycleError(GraphError):
    """The graph has a directed cycle (a causal graph must be acyclic)."""
