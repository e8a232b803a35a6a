r"""Estimate a graph-identified effect with the panel estimators.

:func:`estimate` identifies the effect (:func:`~causalpolicing.graph.identify`),
takes the chosen back-door adjustment set, adds unit and time fixed effects and
fits :func:`causalpolicing.feols` (linear outcome) or
:func:`causalpolicing.fepois` (count outcome with an exposure):

.. math::

    y_{it} = \beta\, d_{it} + z_{it}'\gamma + \alpha_i + \lambda_t + \varepsilon_{it}

with :math:`z` the adjustment set. :math:`\beta` is the effect of one unit of
the treatment (a log rate ratio for ``fepois``). The estimator's own results
object (the results contract) is kept, so every covariance, bootstrap and
table of the toolkit applies.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.simulate.graph_panel import simulate_graph_panel
>>> panel, truth = simulate_graph_panel(seed=1)
>>> g = truth.graph
>>> res = cp.graph.estimate(panel, g, treatment="enforcement", outcome="mortality",
...                         vcov={"CRV3": "unit"})  # 26 clusters: CRV3, not CRV1
>>> res.adjustment, res.formula
(('market_size', 'unemployment'), 'mortality ~ enforcement + market_size + unemployment | unit + year')
>>> lo, hi = res.conf_int()
>>> bool(lo < truth.total_effect < hi)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ..estimators import feols, fepois
from ..estimators._common import _is_panel
from ..exceptions import ColumnNotFoundError, SpecError
from ..formula import quote_name
from ..results import EstimationResults
from .dag import CausalGraph, as_graph
from .identification import Identification, NotIdentifiedError, check_adjustment_set, identify

__all__ = ["GraphEstimate", "estimate", "prepare_data", "build_formula", "build_iv_formula"]

ESTIMATORS = ("feols", "fepois")


@dataclass(frozen=True)
class GraphEstimate:
    """The result of :func:`estimate` (frozen).

    Attributes
    ----------
    results
        The estimator's results object (``FEOLSResults`` / ``FEPoissonResults``):
        the full results contract (``tidy()``, ``conf_int()``, ``with_cov()``, ...).
    identification
        The :class:`~causalpolicing.graph.Identification` used.
    treatment, outcome
        Nodes; ``treatment_column``/``outcome_column`` are their columns.
    adjustment
        The adjustment set used (nodes), ``adjustment_columns`` their columns
        (for ``method="iv"``: the exogenous controls, empty by default).
    formula
        The formula fitted.
    estimator
        ``"feols"`` or ``"fepois"``.
    term
        The name of the treatment's coefficient in ``results.params``.
    method
        ``"backdoor"`` (adjustment) or ``"iv"`` (two-stage least squares).
    instruments
        The instruments used (``method="iv"``), nodes.
    """

    results: EstimationResults
    identification: Identification
    treatment: str
    outcome: str
    treatment_column: str
    outcome_column: str
    adjustment: tuple[str, ...]
    adjustment_columns: tuple[str, ...]
    formula: str
    estimator: str
    term: str
    method: str = "backdoor"
    instruments: tuple[str, ...] = ()

    @property
    def effect(self) -> float:
        """The treatment's coefficient (per unit of treatment; a log rate ratio for fepois)."""
        return float(self.results.params[self.term])

    @property
    def std_error(self) -> float:
        """Its standard error."""
        return float(self.results.std_errors[self.term])

    @property
    def p_value(self) -> float:
        """Two-sided p-value of effect = 0."""
        return float(self.results.pvalues[self.term])

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the effect, ``(low, high)``."""
        ci = self.results.conf_int(level)
        return float(ci.loc[self.term, "conf_low"]), float(ci.loc[self.term, "conf_high"])

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The estimator's ``tidy()`` table (every term, the adjustment variables included)."""
        return self.results.tidy(level)

    def __repr__(self) -> str:
        how = (f"adjusting for {list(self.adjustment)}" if self.method == "backdoor" else
               f"IV with {list(self.instruments)}, controls {list(self.adjustment)}")
        return (f"<GraphEstimate: {self.treatment} -> {self.outcome} = {self.effect:.4g} "
                f"(s.e. {self.std_error:.3g}), {how}; {self.results.cov_type}>")


def _fe_columns(data: Any, fixed_effects: Sequence[str] | str | None) -> tuple[str, ...]:
    if fixed_effects is None:
        return ()
    if isinstance(fixed_effects, str):
        fixed_effects = (fixed_effects,)
    out = []
    is_panel = _is_panel(data)
    for fe in fixed_effects:
        if not isinstance(fe, str):
            raise SpecError(f"fixed_effects must be column names (or 'unit'/'time' for a Panel); "
                            f"got {fe!r}.")
        if is_panel and fe == "unit":
            out.append(data.unit)
        elif is_panel and fe == "time":
            out.append(data.time)
        else:
            if fe not in data.columns:
                raise ColumnNotFoundError(
                    f"fixed_effects names {fe!r}, which is not a column; columns: "
                    f"{list(data.columns)}. With a Panel, 'unit' and 'time' mean its keys.")
            out.append(fe)
    return tuple(dict.fromkeys(out))


def prepare_data(data: Any, graph: CausalGraph) -> Any:
    """Check the graph against ``data`` and add missing lag columns of lagged nodes.

    For a Panel, a node whose column is ``<base>_lag<k>`` and is not in the
    panel is created with :meth:`Panel.lag`. Returns the (possibly new) Panel
    or the DataFrame unchanged.
    """
    graph.validate(data)
    lagged = graph.lagged_nodes
    if not lagged:
        return data
    missing = [(graph.column(n), base, k) for n, (base, k) in lagged.items()
               if graph.column(n) not in data.columns]
    if not missing:
        return data
    if not _is_panel(data):
        cols = [c for c, _, _ in missing]
        raise ColumnNotFoundError(
            f"The DataFrame has no lag column(s) {cols}. Pass a Panel (the lags are then "
            "created from its unit and time keys) or add the columns.")
    for col, base, k in missing:
        data = data.lag(base, k, name=col)
    return data


def build_iv_formula(outcome: str, controls: Sequence[str], fixed_effects: Sequence[str],
                     treatment: str, instruments: Sequence[str]) -> str:
    """``outcome ~ controls | fe | treatment ~ instruments`` (``1`` without controls).

    Examples
    --------
    >>> build_iv_formula("deaths", [], ["canton", "year"], "offences", ["budget_shock"])
    'deaths ~ 1 | canton + year | offences ~ budget_shock'
    """
    rhs = " + ".join(quote_name(c) for c in controls) if controls else "1"
    parts = [f"{quote_name(outcome)} ~ {rhs}"]
    if fixed_effects:
        parts.append(" + ".join(quote_name(c) for c in fixed_effects))
    parts.append(f"{quote_name(treatment)} ~ " + " + ".join(quote_name(z) for z in instruments))
    return " | ".join(parts)


def build_formula(outcome: str, regressors: Sequence[str], fixed_effects: Sequence[str]) -> str:
    """``outcome ~ r1 + r2 | fe1 + fe2`` (names back-ticked when not plain).

    Examples
    --------
    >>> build_formula("deaths", ["offences", "market size"], ["canton", "year"])
    'deaths ~ offences + `market size` | canton + year'
    >>> print(build_formula("Todesfälle (n)", ["C(x)"], ["Kanton name", "Jahr"]))
    `Todesfälle (n)` ~ `C(x)` | `Kanton name` + Jahr
    """
    rhs = " + ".join(quote_name(c) for c in regressors)
    f = f"{quote_name(outcome)} ~ {rhs}"
    if fixed_effects:
        f += " | " + " + ".join(quote_name(c) for c in fixed_effects)
    return f


def estimate(
    panel: Any,
    graph: CausalGraph | str,
    treatment: str | None = None,
    outcome: str | None = None,
    *,
    adjustment: Literal["minimal", "default", "maximal"] | Sequence[str] = "minimal",
    fixed_effects: Sequence[str] | str | None = ("unit", "time"),
    estimator: Literal["feols", "fepois"] = "feols",
    exposure: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    method: Literal["backdoor", "iv"] = "backdoor",
) -> GraphEstimate:
    """Estimate the effect of ``treatment`` on ``outcome`` identified by the graph.

    Parameters
    ----------
    panel
        A :class:`~causalpolicing.Panel` (or a DataFrame; then ``fixed_effects``
        must name its columns).
    graph
        The causal graph (its observed nodes must be columns of ``panel``, via
        its ``columns`` mapping; missing ``<col>_lag<k>`` columns are created).
    treatment, outcome
        Nodes of the graph; default: the nodes whose columns are the panel's
        treatment and outcome.
    adjustment
        ``"minimal"`` (default), ``"default"`` (DoWhy's default set),
        ``"maximal"``, or an explicit list of nodes (checked against the
        back-door criterion; an invalid list raises
        :class:`~causalpolicing.graph.NotIdentifiedError` naming an open path).
    fixed_effects
        Fixed effects: ``"unit"`` and ``"time"`` mean the Panel's keys; other
        entries are column names; ``()`` or ``None`` for none (an intercept is
        then included).
    estimator
        ``"feols"`` (linear) or ``"fepois"`` (Poisson, for counts with an exposure).
    exposure
        ``fepois`` only: exposure column (default: the Panel's exposure).
    vcov
        Covariance, as in :func:`causalpolicing.feols` (default there: CRV1 by
        the Panel's unit). For a bootstrap, pass the result's ``results`` to
        :func:`causalpolicing.inference.wild_bootstrap` with ``term``.
    method
        ``"backdoor"`` (default): adjust for the chosen set. ``"iv"``: two-stage
        least squares (``feols``) with the graph's instruments (DoWhy's
        criterion: parents of the treatment with no other path to the outcome),
        e.g. when a latent confounder blocks adjustment; ``adjustment`` may then
        list exogenous controls (not descendants of the treatment; default none).

    Returns
    -------
    GraphEstimate

    Raises
    ------
    NotIdentifiedError
        When no observed adjustment set identifies the effect (the message
        names an open back-door path and what would close it).
    """
    graph = as_graph(graph)
    if estimator not in ESTIMATORS:
        raise SpecError(f"estimator must be one of {list(ESTIMATORS)}; got {estimator!r}.")
    if exposure is not None and estimator != "fepois":
        raise SpecError("exposure= applies to estimator='fepois' only; for a linear model of a "
                        "rate, use the rate as the outcome.")
    rev = {c: n for n, c in graph.columns.items()}
    for role, value in (("treatment", treatment), ("outcome", outcome)):
        if value is None:
            if not _is_panel(panel):
                raise SpecError(f"{role}= is required when the data are a DataFrame.")
            col = getattr(panel, role)
            if col not in rev:
                raise SpecError(f"The panel's {role} column {col!r} is not a node of the graph; "
                                f"pass {role}= (nodes: {list(graph.nodes)}).")
            if role == "treatment":
                treatment = rev[col]
            else:
                outcome = rev[col]
    if treatment is None or outcome is None:  # pragma: no cover - set above
        raise SpecError("treatment= and outcome= are required.")
    if method not in ("backdoor", "iv"):
        raise SpecError(f"method must be 'backdoor' or 'iv'; got {method!r}.")
    data = prepare_data(panel, graph)
    ident = identify(graph, treatment, outcome)
    if method == "iv":
        return _estimate_iv(data, graph, ident, adjustment, fixed_effects, estimator, vcov)
    if isinstance(adjustment, str):
        if adjustment not in ("minimal", "default", "maximal"):
            raise SpecError("adjustment must be 'minimal', 'default', 'maximal' or a list of "
                            f"nodes; got {adjustment!r}.")
        adj = ident.adjustment_set(adjustment)  # type: ignore[arg-type]
    else:
        adj = check_adjustment_set(graph, treatment, outcome, list(adjustment))
    fes = _fe_columns(data, fixed_effects)
    tcol, ycol = graph.column(treatment), graph.column(outcome)
    zcols = tuple(graph.column(n) for n in adj)
    clash = [c for c in (tcol, *zcols) if c in fes]
    if clash:
        raise SpecError(f"Column(s) {clash} are both regressors and fixed effects.")
    formula = build_formula(ycol, [tcol, *zcols], fes)
    if estimator == "feols":
        res = feols(formula, data, vcov=vcov)
    else:
        res = fepois(formula, data, vcov=vcov, exposure=exposure)
    return GraphEstimate(
        results=res, identification=ident, treatment=treatment, outcome=outcome,
        treatment_column=tcol, outcome_column=ycol, adjustment=tuple(adj),
        adjustment_columns=zcols, formula=formula, estimator=estimator, term=tcol)


def _estimate_iv(data: Any, graph: CausalGraph, ident: Identification,
                 adjustment: str | Sequence[str], fixed_effects: Sequence[str] | str | None,
                 estimator: str, vcov: str | Mapping[str, Any] | None) -> GraphEstimate:
    """Two-stage least squares with the identified instruments."""
    import networkx as nx

    treatment, outcome = ident.treatment, ident.outcome
    if estimator != "feols":
        raise SpecError("method='iv' fits two-stage least squares: use estimator='feols'.")
    if not ident.instruments:
        raise NotIdentifiedError(
            f"The graph gives no instrument for {treatment!r} -> {outcome!r} (a parent of the "
            "treatment with no other path to the outcome). " + ident.explanation)
    if isinstance(adjustment, str):
        controls: tuple[str, ...] = ()
    else:
        controls = tuple(sorted(adjustment))
        for n in controls:
            graph._check_node(n)
        g = graph.to_networkx()
        bad = sorted(set(controls) & (nx.descendants(g, treatment) | {treatment, outcome}
                                      | set(ident.instruments) | set(graph.latent)))
        if bad:
            raise NotIdentifiedError(
                f"IV controls {bad} are the treatment, the outcome, an instrument, latent, or "
                "descendants of the treatment; exogenous controls must be none of these.")
    fes = _fe_columns(data, fixed_effects)
    tcol, ycol = graph.column(treatment), graph.column(outcome)
    ccols = tuple(graph.column(n) for n in controls)
    zcols = [graph.column(z) for z in ident.instruments]
    formula = build_iv_formula(ycol, ccols, fes, tcol, zcols)
    res = feols(formula, data, vcov=vcov)
    return GraphEstimate(
        results=res, identification=ident, treatment=treatment, outcome=outcome,
        treatment_column=tcol, outcome_column=ycol, adjustment=controls,
        adjustment_columns=ccols, formula=formula, estimator=estimator, term=tcol,
        method="iv", instruments=tuple(ident.instruments))
