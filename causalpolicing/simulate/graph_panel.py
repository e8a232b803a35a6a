"""A seeded unit x period panel generated from a known causal graph (SIMULATED data).

Built to check the graph tools: the right adjustment set, estimates that
cover the truth, implication tests that flag a wrong graph, mediation shares.
Every equation is linear with unit and period effects, so total, direct and
indirect effects are well defined on the linear scale of ``mortality``.

The model (unit ``i``, period ``t``; every ``a_i`` / ``l_t`` is a unit / period
effect drawn from ``N(0, effects_sd^2)``, every ``e`` an iid ``N(0, 1)`` shock)::

    market_size           = a_i + l_t + e
    unemployment          = a_i + l_t + e
    budget_shock          = e                                    (the instrument)
    enforcement           = 2 + a_i + l_t + c_market * market_size
                            + c_unemp * unemployment + instrument_strength * budget_shock + e
    harm_reduction_access = a_i + l_t + enf_to_access * enforcement + e
    risky_use             = a_i + l_t + enf_to_risky * enforcement + 0.5 * market_size + e
    mortality             = 10 + a_i + l_t + direct * enforcement
                            + access_to_mortality * harm_reduction_access
                            + risky_to_mortality * risky_use
                            + 0.7 * market_size + unemp_to_mortality * unemployment + e
    media_attention       = a_i + l_t + 0.5 * enforcement + 0.5 * mortality + e  (a collider)
    deaths                ~ Poisson(population * max(mortality, 0.1) / 100,000)

``mortality`` is deaths per 100,000 (continuous); ``deaths`` a count with the
``population`` exposure. The true effects of ``enforcement`` on ``mortality``:

* total = ``direct + enf_to_access * access_to_mortality + enf_to_risky * risky_to_mortality``
* indirect through ``harm_reduction_access`` = ``enf_to_access * access_to_mortality``
* direct (not through ``harm_reduction_access``) = total - indirect

With the defaults: 0.95 = 0.55 + 0.40. The back-door set is
``{market_size, unemployment}``; ``budget_shock`` is an instrument;
adjusting for ``media_attention`` (a collider) or a mediator biases the total
effect. Dropping the edge ``unemployment -> mortality`` from the graph gives
a wrong graph that the implication tests reject.

Examples
--------
>>> from causalpolicing.simulate.graph_panel import simulate_graph_panel
>>> panel, truth = simulate_graph_panel(seed=3)
>>> len(panel), panel.n_units, truth.total_effect, truth.indirect_effect
(858, 26, 0.95, 0.4)
>>> truth.adjustment_set, truth.graph.parents("mortality")
(('market_size', 'unemployment'), ('enforcement', 'harm_reduction_access', 'market_size', \
'risky_use', 'unemployment'))
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..data.load import load_panel
from ..exceptions import DatasetError, FewUnitsWarning

__all__ = ["simulate_graph_panel", "GraphPanelTruth", "GRAPH_PANEL_DEFAULTS", "graph_panel_dag"]

#: Default path coefficients of :func:`simulate_graph_panel`.
GRAPH_PANEL_DEFAULTS: dict[str, float] = {
    "direct": 0.4,
    "enf_to_access": -0.5,
    "access_to_mortality": -0.8,
    "enf_to_risky": 0.3,
    "risky_to_mortality": 0.5,
    "c_market": 0.6,
    "c_unemp": 0.4,
    "unemp_to_mortality": 0.5,
    "instrument_strength": 0.5,
}
FIRST_YEAR = 1975


def graph_panel_dag() -> Any:
    """The true causal graph of :func:`simulate_graph_panel` (a CausalGraph).

    Examples
    --------
    >>> g = graph_panel_dag()
    >>> len(g.nodes), len(g.edges), g.children("enforcement")
    (9, 14, ('harm_reduction_access', 'media_attention', 'mortality', 'risky_use'))
    """
    from ..graph.dag import CausalGraph

    return CausalGraph([
        ("market_size", "enforcement"), ("unemployment", "enforcement"),
        ("budget_shock", "enforcement"),
        ("enforcement", "harm_reduction_access"), ("enforcement", "risky_use"),
        ("market_size", "risky_use"),
        ("enforcement", "mortality"), ("harm_reduction_access", "mortality"),
        ("risky_use", "mortality"), ("market_size", "mortality"),
        ("unemployment", "mortality"),
        ("enforcement", "media_attention"), ("mortality", "media_attention"),
        ("mortality", "deaths"),
    ])


@dataclass(frozen=True)
class GraphPanelTruth:
    """The truth behind one :func:`simulate_graph_panel` draw (frozen).

    Attributes
    ----------
    total_effect
        Effect of one unit of ``enforcement`` on ``mortality`` (all paths).
    direct_effect
        The part not through ``harm_reduction_access`` (direct plus via ``risky_use``).
    indirect_effect
        The part through ``harm_reduction_access``.
    controlled_direct_effect
        The ``enforcement -> mortality`` edge alone (through neither mediator).
    indirect_effect_risky_use
        The part through ``risky_use``.
    share_mediated
        ``indirect_effect / total_effect``.
    treatment, outcome, mediator, instrument, collider
        Node names of the roles.
    adjustment_set
        The minimal back-door set.
    graph
        The true :class:`~causalpolicing.graph.CausalGraph`.
    coefficients
        Every parameter of the draw (read-only mapping).
    seed
        The seed used.
    """

    total_effect: float
    direct_effect: float
    indirect_effect: float
    controlled_direct_effect: float
    indirect_effect_risky_use: float
    share_mediated: float
    treatment: str
    outcome: str
    mediator: str
    instrument: str
    collider: str
    adjustment_set: tuple[str, ...]
    graph: Any
    coefficients: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "coefficients", MappingProxyType(dict(self.coefficients)))


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise DatasetError(f"{name} must be an integer >= {low}; got {value!r}.")
    return int(value)


def simulate_graph_panel(
    n_units: int = 26,
    n_periods: int = 33,
    seed: int = 2024,
    *,
    effects_sd: float = 1.0,
    noise_sd: float = 1.0,
    as_frame: bool = False,
    **coefficients: float,
) -> tuple[Any, GraphPanelTruth]:
    """Simulate a unit x period panel from a known DAG (SIMULATED data).

    Parameters
    ----------
    n_units, n_periods
        Panel size (default 26 x 33, like the Swiss cantons panel).
        ``n_periods=1`` with ``effects_sd=0`` gives a cross-section.
    seed
        Seed of ``numpy.random.default_rng`` (non-negative integer).
    effects_sd
        Standard deviation of the unit and period effects of every variable
        (0: none).
    noise_sd
        Standard deviation of every variable's own shock (default 1).
    as_frame
        Return a DataFrame instead of a Panel (e.g. for a cross-section, which
        a Panel would warn about).
    **coefficients
        Path coefficients overriding :data:`GRAPH_PANEL_DEFAULTS` (names listed
        there; unknown names raise).

    Returns
    -------
    (Panel or DataFrame, GraphPanelTruth)
        Columns ``unit, year, market_size, unemployment, budget_shock,
        enforcement, harm_reduction_access, risky_use, mortality,
        media_attention, population, deaths``. The Panel's roles: outcomes
        ``mortality`` (continuous) and ``deaths`` (count), treatment
        ``enforcement``, exposure ``population``, covariates ``market_size,
        unemployment``.

    Notes
    -----
    See the module docstring for the equations. The true graph
    (``truth.graph``) has ``deaths`` as a child of ``mortality``; the
    population (the exposure) is not a node. ``deaths`` depends on
    ``mortality`` multiplicatively (through the unit's population), so linear
    implication tests involving it are misspecified: test the graph with
    ``truth.graph.with_latent("deaths")``.
    """
    n_units = _check_int("n_units", n_units, 2)
    n_periods = _check_int("n_periods", n_periods, 1)
    seed = _check_int("seed", seed, 0)
    for name, v in (("effects_sd", effects_sd), ("noise_sd", noise_sd)):
        if isinstance(v, bool) or not isinstance(v, Real) or not v >= 0 or not np.isfinite(v):
            raise DatasetError(f"{name} must be a non-negative number; got {v!r}.")
    unknown = sorted(set(coefficients) - set(GRAPH_PANEL_DEFAULTS))
    if unknown:
        raise DatasetError(f"Unknown coefficient(s) {unknown}; valid: {sorted(GRAPH_PANEL_DEFAULTS)}.")
    c = dict(GRAPH_PANEL_DEFAULTS)
    for k, v in coefficients.items():
        if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v):
            raise DatasetError(f"Coefficient {k} must be a finite number; got {v!r}.")
        c[k] = float(v)

    rng = np.random.default_rng(seed)
    n = n_units * n_periods
    unit_idx = np.repeat(np.arange(n_units), n_periods)
    time_idx = np.tile(np.arange(n_periods), n_units)

    def effects() -> np.ndarray:
        a = rng.normal(0.0, effects_sd, n_units)
        lam = rng.normal(0.0, effects_sd, n_periods)
        return a[unit_idx] + lam[time_idx]

    def shock() -> np.ndarray:
        return rng.normal(0.0, noise_sd, n)

    market = effects() + shock()
    unemp = effects() + shock()
    budget = rng.normal(0.0, 1.0, n)
    enf = (2.0 + effects() + c["c_market"] * market + c["c_unemp"] * unemp
           + c["instrument_strength"] * budget + shock())
    access = effects() + c["enf_to_access"] * enf + shock()
    risky = effects() + c["enf_to_risky"] * enf + 0.5 * market + shock()
    mort = (10.0 + effects() + c["direct"] * enf + c["access_to_mortality"] * access
            + c["risky_to_mortality"] * risky + 0.7 * market + c["unemp_to_mortality"] * unemp
            + shock())
    media = effects() + 0.5 * enf + 0.5 * mort + shock()
    pop_unit = np.round(rng.uniform(50_000, 1_500_000, n_units))
    population = pop_unit[unit_idx]
    deaths = rng.poisson(population * np.maximum(mort, 0.1) / 1e5)

    width = max(2, len(str(n_units)))
    df = pd.DataFrame({
        "unit": [f"u{i + 1:0{width}d}" for i in unit_idx],
        "year": FIRST_YEAR + time_idx,
        "market_size": market,
        "unemployment": unemp,
        "budget_shock": budget,
        "enforcement": enf,
        "harm_reduction_access": access,
        "risky_use": risky,
        "mortality": mort,
        "media_attention": media,
        "population": population.astype(np.int64),
        "deaths": deaths.astype(np.int64),
    })
    indirect = c["enf_to_access"] * c["access_to_mortality"]
    via_risky = c["enf_to_risky"] * c["risky_to_mortality"]
    total = c["direct"] + indirect + via_risky
    truth = GraphPanelTruth(
        total_effect=round(total, 12),
        direct_effect=round(total - indirect, 12),
        indirect_effect=round(indirect, 12),
        controlled_direct_effect=c["direct"],
        indirect_effect_risky_use=round(via_risky, 12),
        share_mediated=round(indirect / total, 12) if total != 0 else float("nan"),
        treatment="enforcement", outcome="mortality", mediator="harm_reduction_access",
        instrument="budget_shock", collider="media_attention",
        adjustment_set=("market_size", "unemployment"),
        graph=graph_panel_dag(), coefficients=c, seed=seed,
    )
    if as_frame:
        return df, truth
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewUnitsWarning)
        panel = load_panel(
            df, unit="unit", time="year",
            outcome={"mortality": "continuous", "deaths": "count"},
            treatment={"enforcement": "continuous"}, exposure="population",
            covariates=["market_size", "unemployment"],
        )
    return panel, truth
