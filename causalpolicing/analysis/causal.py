"""The causal-graph step of an analysis (wired once the graph module is in place)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["run_causal"]


def run_causal(spec: Any, panel: Any, results: Mapping[str, Any], *,
               progress: bool = False) -> dict[str, Any]:
    """Identification, implications, refutations and sensitivity as the spec asks."""
    return {}
