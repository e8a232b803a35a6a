"""Seeded simulators with known true effects (their output is SIMULATED data).

Each simulator's default call reproduces a bundled dataset exactly, so the
bundled files can be regenerated (``python datasets/build.py``) and varied
(other seeds, other true effects) for Monte Carlo checks of estimators.

* :func:`simulate_cantons`: 26 Swiss cantons x 1975-2007, drug deaths,
  enforcement with feedback, substitution treatment, spillovers, an instrument.
* :func:`simulate_crackdown`: 16 city districts x 60 months, one crackdown with
  displacement of overdoses and public consumption to the neighbours.
* :func:`simulate_staggered_laws`: 50 states x 2000-2022, a law adopted in six
  waves with effects that differ by wave and grow with time since adoption
  (:func:`staggered_truth`: the true ATT(g, t)).
* :func:`simulate_graph_panel`: a unit x period panel drawn from a known causal
  graph (confounders, an instrument, mediators such as harm-reduction access, a
  collider), with the total, direct and indirect effects in its ``truth``; not
  bundled as a dataset (the graph analyses draw it on demand).

Examples
--------
>>> from causalpolicing.simulate import simulate_cantons, simulate_crackdown
>>> simulate_cantons(seed=5).equals(simulate_cantons(seed=5))
True
"""

from .._lazy import lazy_exports as _lazy_exports
from . import swiss
from .cantons import CANTON_DEFAULTS, simulate_cantons
from .crackdown import CRACKDOWN_DEFAULTS, district_neighbours, simulate_crackdown
from .graph_panel import (
    GRAPH_PANEL_DEFAULTS,
    GraphPanelTruth,
    graph_panel_dag,
    simulate_graph_panel,
)
from .staggered import STAGGERED_DEFAULTS, simulate_staggered_laws, staggered_truth

__all__ = [
    "CANTON_DEFAULTS",
    "CRACKDOWN_DEFAULTS",
    "GRAPH_PANEL_DEFAULTS",
    "GraphPanelTruth",
    "graph_panel_dag",
    "simulate_graph_panel",
    "district_neighbours",
    "simulate_cantons",
    "simulate_crackdown",
    "swiss",
    "STAGGERED_DEFAULTS",
    "simulate_staggered_laws",
    "staggered_truth",
]

__getattr__, __dir__ = _lazy_exports(__name__, __all__)
