"""Causal graphs for panel data: DAGs, identification, estimation, testable implications.

* :class:`CausalGraph`: an immutable DAG over Panel columns and latent nodes, from
  DOT, GML or Python edges; :func:`template` / :func:`list_templates` give
  editable DAGs for drug-law enforcement and mortality.
* :func:`identify`: back-door sets (minimal, DoWhy's default, maximal), front
  door and instruments through DoWhy; names an open back-door path when the
  effect is not identified by adjustment.
* :func:`estimate`: the identified adjustment set plus unit and time fixed
  effects, fitted with :func:`causalpolicing.feols` or :func:`causalpolicing.fepois`;
  :class:`PanelFEEstimator` does the same inside DoWhy's ``CausalModel.estimate_effect``.
* :func:`implications`: the conditional independences the DAG implies, tested on
  the panel with fixed effects partialled out and corrected for multiple testing.
* :func:`refute`: panel-aware refuters (placebo treatments permuted within period
  or shifted in time, lead placebo, placebo outcome, leave one unit out, random
  common cause, random unit subsets), vectorised for linear FE models;
  :func:`dowhy_refuters` runs DoWhy's own on the same estimate for comparison.
* :func:`ovb_sensitivity` (Cinelli-Hazlett robustness value and benchmark bounds)
  and :func:`evalue` / :func:`evalue_rate_ratio` (VanderWeele-Ding E-value).
* :func:`mediate`: the share of an effect that runs through a mediator, with a
  cluster bootstrap.

Examples
--------
>>> import causalpolicing as cp
>>> g = cp.graph.CausalGraph.from_dot("digraph { w -> x; w -> y; x -> y }")
>>> cp.graph.identify(g, "x", "y").minimal
('w',)
"""

from .._lazy import lazy_exports as _lazy_exports
from .dag import (
    MAX_DEPTH,
    MAX_EDGES,
    MAX_IDENTIFY_NODES,
    MAX_NODES,
    MAX_TEXT_CHARS,
    CausalGraph,
    CycleError,
    GraphError,
    as_graph,
    parse_dot,
)
from .estimation import GraphEstimate, estimate
from .identification import (
    Identification,
    NotIdentifiedError,
    check_adjustment_set,
    identify,
    open_backdoor_path,
)
from .identification import import_dowhy as _import_dowhy
from .mediation import MediationResult, mediate
from .refuters import (
    RefutationResult,
    RefutationSuite,
    dowhy_refuters,
    leave_one_unit_out,
    placebo_lead,
    placebo_outcome,
    placebo_permutation,
    placebo_time_shift,
    random_common_cause,
    random_unit_subsets,
    refute,
)
from .sensitivity import (
    EValue,
    OVBSensitivity,
    evalue,
    evalue_rate_ratio,
    ovb_sensitivity,
    partial_r2,
    robustness_value,
)
from .templates import list_templates, template
from .testable import ImplicationTests, implications, implied_independences

__all__ = [
    "EValue",
    "MediationResult",
    "OVBSensitivity",
    "RefutationResult",
    "RefutationSuite",
    "dowhy_refuters",
    "evalue",
    "evalue_rate_ratio",
    "leave_one_unit_out",
    "mediate",
    "ovb_sensitivity",
    "partial_r2",
    "placebo_lead",
    "placebo_outcome",
    "placebo_permutation",
    "placebo_time_shift",
    "random_common_cause",
    "random_unit_subsets",
    "refute",
    "robustness_value",
    "CausalGraph",
    "CycleError",
    "GraphError",
    "MAX_DEPTH",
    "MAX_EDGES",
    "MAX_IDENTIFY_NODES",
    "MAX_NODES",
    "MAX_TEXT_CHARS",
    "GraphEstimate",
    "Identification",
    "ImplicationTests",
    "NotIdentifiedError",
    "PanelFEEstimator",
    "as_graph",
    "check_adjustment_set",
    "dowhy_model",
    "estimate",
    "identify",
    "implications",
    "implied_independences",
    "list_templates",
    "open_backdoor_path",
    "parse_dot",
    "template",
]

# The DoWhy estimator subclasses dowhy's CausalEstimator: DoWhy is imported only when asked.
_DOWHY_EXPORTS = {"PanelFEEstimator": ".dowhy_estimator", "dowhy_model": ".dowhy_estimator"}
_getattr, __dir__ = _lazy_exports(__name__, __all__, _DOWHY_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _DOWHY_EXPORTS:
        _import_dowhy()  # DoWhy's import would replace sys.displayhook
    return _getattr(name)
