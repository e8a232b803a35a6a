"""Editable DAG templates for drug-law enforcement and drug-related mortality.

Each template is a documented DOT digraph (see :data:`TEMPLATES`). Start from
one, map its nodes to your columns, mark what you did not measure as latent,
and add or remove edges that your setting argues for::

    g = template("enforcement_mortality", enforcement="offences_per_1000",
                 mortality="deaths_per_100k")
    g = g.with_latent("market_size").with_edges(add=[("urbanisation", "displacement")])

Node names (use them as keywords to map columns):

=========================  ============================================================
``enforcement``            drug-law enforcement intensity (possession offences or arrests
                           per 1,000, police per capita): the treatment
``mortality``              drug-related deaths (per 100,000, or a count with a
                           population exposure): the outcome
``market_size``            size of the drug market / prevalence of problem use
                           (confounder: more users bring more police and more deaths)
``urbanisation``           share urban / open drug scenes (confounder)
``economic_conditions``    unemployment, income (confounder)
``harm_reduction_access``  access to harm-reduction services (needle exchange, naloxone,
                           outreach): a mediator (crackdowns keep users away)
``risky_use``              rushed or unsafe injecting, using alone (mediator)
``displacement``           users and markets pushed to other places (mediator)
``substitution_treatment`` coverage of opioid substitution treatment (programme)
``consumption_rooms``      supervised consumption rooms (programme)
``mortality_lag2``         mortality two periods earlier: feedback (police respond to
                           deaths) without a cycle; the toolkit creates the column
                           ``<mortality column>_lag2`` from a Panel when it is missing
``budget_shock``           police budget or staffing shocks: an instrument (moves deaths
                           only through enforcement)
=========================  ============================================================

The templates state assumptions, not facts: every edge (and every missing
edge) is a claim to argue for in your setting. Test the implications
(:func:`~causalpolicing.graph.implications`) and refute the estimate.

Examples
--------
>>> from causalpolicing.graph import template, list_templates
>>> list(list_templates()["name"])
['enforcement_mortality', 'enforcement_mortality_minimal', 'harm_reduction_programmes']
>>> g = template("enforcement_mortality_minimal", mortality="deaths")
>>> g.column("mortality"), g.lagged_nodes
('deaths', {'mortality_lag2': ('deaths', 2)})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from .dag import CausalGraph, GraphError

__all__ = ["TEMPLATES", "Template", "template", "list_templates"]


@dataclass(frozen=True)
class Template:
    """A named DAG template: its DOT text, description, treatment and outcome nodes."""

    name: str
    description: str
    treatment: str
    outcome: str
    dot: str


_FULL = """
digraph enforcement_mortality {
  // confounders
  economic_conditions -> market_size;
  urbanisation -> market_size;
  market_size -> enforcement;  urbanisation -> enforcement;  economic_conditions -> enforcement;
  market_size -> mortality;    urbanisation -> mortality;    economic_conditions -> mortality;
  // feedback: police respond to deaths two periods earlier; deaths persist
  market_size -> mortality_lag2;
  mortality_lag2 -> enforcement;  mortality_lag2 -> mortality;
  // instrument: budget or staffing shocks move enforcement only
  budget_shock -> enforcement;
  // mediators
  enforcement -> harm_reduction_access -> mortality;
  enforcement -> risky_use -> mortality;
  enforcement -> displacement -> risky_use;
  displacement -> mortality;
  harm_reduction_access -> risky_use;
  market_size -> risky_use;
  urbanisation -> harm_reduction_access;
  // direct effect (e.g. fatal arrests, interrupted treatment in custody)
  enforcement -> mortality;
  // programmes
  market_size -> substitution_treatment;  market_size -> consumption_rooms;
  urbanisation -> consumption_rooms;
  substitution_treatment -> risky_use;  substitution_treatment -> mortality;
  consumption_rooms -> harm_reduction_access;  consumption_rooms -> mortality;
}
"""

_MINIMAL = """
digraph enforcement_mortality_minimal {
  market_size -> enforcement;  market_size -> mortality;
  economic_conditions -> enforcement;  economic_conditions -> mortality;
  mortality_lag2 -> enforcement;  mortality_lag2 -> mortality;  market_size -> mortality_lag2;
  budget_shock -> enforcement;
  enforcement -> harm_reduction_access -> mortality;
  enforcement -> mortality;
}
"""

_PROGRAMMES = """
digraph harm_reduction_programmes {
  // effect of substitution treatment on mortality, with enforcement as a co-cause
  market_size -> substitution_treatment;  market_size -> mortality;
  urbanisation -> substitution_treatment;  urbanisation -> mortality;
  urbanisation -> consumption_rooms;  market_size -> consumption_rooms;
  economic_conditions -> mortality;  economic_conditions -> substitution_treatment;
  market_size -> enforcement;  enforcement -> mortality;  enforcement -> harm_reduction_access;
  mortality_lag2 -> substitution_treatment;  mortality_lag2 -> mortality;
  market_size -> mortality_lag2;
  substitution_treatment -> risky_use -> mortality;
  substitution_treatment -> mortality;
  consumption_rooms -> harm_reduction_access -> mortality;
  consumption_rooms -> mortality;
}
"""

#: The templates by name.
TEMPLATES: dict[str, Template] = {
    "enforcement_mortality": Template(
        "enforcement_mortality",
        "Enforcement -> drug-related mortality with confounders (market size, urbanisation, "
        "economic conditions), mediators (harm-reduction access, risky use, displacement), "
        "feedback through past mortality, programmes (substitution treatment, consumption "
        "rooms) and a budget-shock instrument.",
        "enforcement", "mortality", _FULL),
    "enforcement_mortality_minimal": Template(
        "enforcement_mortality_minimal",
        "A small version: market size and economic conditions confound, harm-reduction "
        "access mediates, past mortality feeds back, a budget shock instruments.",
        "enforcement", "mortality", _MINIMAL),
    "harm_reduction_programmes": Template(
        "harm_reduction_programmes",
        "Substitution treatment -> mortality, with consumption rooms, enforcement, "
        "confounders and feedback through past mortality (treatment expands where deaths rose).",
        "substitution_treatment", "mortality", _PROGRAMMES),
}


def list_templates() -> pd.DataFrame:
    """The available templates: ``name, treatment, outcome, n_nodes, n_edges, description``."""
    rows = []
    for t in TEMPLATES.values():
        g = CausalGraph.from_dot(t.dot)
        rows.append({"name": t.name, "treatment": t.treatment, "outcome": t.outcome,
                     "n_nodes": len(g.nodes), "n_edges": len(g.edges),
                     "description": t.description})
    return pd.DataFrame(rows)


def template(name: str, *, latent: Iterable[str] = (), **column_mapping: str) -> CausalGraph:
    """A template as a :class:`CausalGraph`, with nodes mapped to your columns.

    Parameters
    ----------
    name
        One of :func:`list_templates` (``TEMPLATES``).
    latent
        Nodes you did not measure.
    **column_mapping
        ``node="column"``: the Panel column of a node (default: the node's name).
        Mapping ``mortality`` also renames the default column of
        ``mortality_lag2`` to ``<column>_lag2``.

    Examples
    --------
    >>> g = template("enforcement_mortality", enforcement="offences_per_1000",
    ...              latent=["displacement"])
    >>> g.column("enforcement"), g.latent
    ('offences_per_1000', ('displacement',))
    >>> template("nope")
    Traceback (most recent call last):
    ...
    causalpolicing.graph.errors.GraphError: Unknown template 'nope'; available: ...
    """
    if name not in TEMPLATES:
        raise GraphError(f"Unknown template {name!r}; available: {list(TEMPLATES)}.")
    g = CausalGraph.from_dot(TEMPLATES[name].dot)
    unknown = [k for k in column_mapping if k not in g.nodes]
    if unknown:
        raise GraphError(f"Template {name!r} has no node(s) {unknown}; its nodes: {list(g.nodes)}.")
    cols = dict(column_mapping)
    if "mortality" in cols and "mortality_lag2" in g.nodes and "mortality_lag2" not in cols:
        cols["mortality_lag2"] = f"{cols['mortality']}_lag2"
    lat = [latent] if isinstance(latent, str) else list(latent)
    cols = {k: v for k, v in cols.items() if k not in lat}
    return CausalGraph(g.edges, nodes=g.nodes, latent=lat, columns=cols)
