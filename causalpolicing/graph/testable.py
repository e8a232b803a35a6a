r"""Testable implications of a causal graph, tested on a panel.

A DAG implies conditional independences among its observed variables
(d-separation). :func:`implied_independences` lists one per pair of
non-adjacent observed nodes that some set of observed nodes d-separates: the
later node (in topological order) given its parents when they are all
observed (the local Markov property), else a minimal d-separator among the
observed nodes (:func:`networkx.find_minimal_d_separator`). Each is checked
with :func:`networkx.is_d_separator`.

:func:`implications` tests each on the panel: the regression

.. math::

    y_{it} = \rho\, x_{it} + z_{it}'\gamma + \alpha_i + \lambda_t + \varepsilon_{it}

(:func:`causalpolicing.feols`; fixed effects partialled out, Frisch-Waugh-Lovell)
gives the t statistic of :math:`\rho`, which with the iid covariance is the
test of the partial correlation of the fixed-effect-residualised :math:`x`
and :math:`y` given :math:`z`, with ``n - |z| - 1 - (absorbed fixed-effect
parameters)`` degrees of freedom; ``partial_corr`` is
:math:`t / \sqrt{t^2 + df}`. A cluster-robust covariance
(``vcov={"CRV1": "unit"}``) gives a test robust to serial correlation within
units (degrees of freedom: clusters minus one). P-values are adjusted for
multiple testing with Holm's method (default) or Benjamini-Hochberg
(:func:`statsmodels.stats.multitest.multipletests`).

The tests are linear: they detect linear dependence only, and a node that
depends on its parents non-linearly (e.g. a count with a multiplicative
exposure) can fail them although the graph is right. Mark such nodes latent
(``graph.with_latent("deaths")``) to leave them out.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.simulate.graph_panel import simulate_graph_panel
>>> panel, truth = simulate_graph_panel(seed=7)
>>> good = truth.graph.with_latent("deaths")
>>> res = cp.graph.implications(panel, good)
>>> res.n_tests, res.n_rejected
(15, 0)
>>> wrong = good.with_edges(remove=[("unemployment", "mortality")])
>>> int(cp.graph.implications(panel, wrong).n_rejected) > 0
True
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from ..estimators import feols
from ..exceptions import CollinearityWarning, SpecError
from .dag import CausalGraph, as_graph
from .estimation import _fe_columns, build_formula, prepare_data

__all__ = ["Implication", "ImplicationTests", "implied_independences", "implications",
           "IMPLICATION_COLUMNS"]

IMPLICATION_COLUMNS = ["implication", "x", "y", "given", "partial_corr", "statistic", "df",
                       "p_value", "p_adjusted", "rejected", "nobs"]
_METHODS = {"holm": "holm", "bh": "fdr_bh", "bonferroni": "bonferroni", "none": None}


@dataclass(frozen=True)
class Implication:
    """One implied conditional independence ``x _||_ y | given`` (node names)."""

    x: str
    y: str
    given: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.x} _||_ {self.y}" + (f" | {', '.join(self.given)}" if self.given else "")


def implied_independences(graph: CausalGraph | str) -> tuple[Implication, ...]:
    """The conditional independences the graph implies among its observed nodes.

    One per pair of non-adjacent observed nodes that observed nodes can
    d-separate (see the module docstring); ``y`` is the later node in
    topological order.

    Examples
    --------
    >>> g = CausalGraph([("w", "x"), ("w", "y"), ("x", "m"), ("m", "y")])
    >>> [str(i) for i in implied_independences(g)]
    ['w _||_ m | x', 'x _||_ y | m, w']
    >>> [str(i) for i in implied_independences(g.with_latent("w"))]
    []
    """
    graph = as_graph(graph)
    g = graph.to_networkx()
    order = [n for n in graph.topological_order() if n not in graph.latent]
    observed = set(order)
    out = []
    for i, j in itertools.combinations(range(len(order)), 2):
        x, y = order[i], order[j]
        if g.has_edge(x, y) or g.has_edge(y, x):
            continue
        parents = set(g.predecessors(y))
        if parents <= observed and x not in nx.descendants(g, y):
            given: set[str] | None = parents
        else:
            given = nx.find_minimal_d_separator(g, x, y, restricted=observed - {x, y})
        if given is None or not nx.is_d_separator(g, {x}, {y}, set(given)):
            continue
        out.append(Implication(x, y, tuple(graph._sorted(given))))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class ImplicationTests:
    """Results of :func:`implications` (frozen; ``table`` returns a copy).

    Attributes
    ----------
    graph
        The graph tested.
    alpha
        Level at which adjusted p-values are called rejected.
    method
        Multiple-testing correction (``holm``, ``bh``, ``bonferroni``, ``none``).
    cov_type
        Covariance used for the t tests.
    fixed_effects
        Fixed effects partialled out (column names).
    """

    graph: CausalGraph
    alpha: float
    method: str
    cov_type: str
    fixed_effects: tuple[str, ...]
    _table: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """One row per implication: ``implication, x, y, given, partial_corr, statistic, df,
        p_value, p_adjusted, rejected, nobs`` (a copy)."""
        return self._table.copy()

    @property
    def n_tests(self) -> int:
        """Number of implications tested."""
        return len(self._table)

    @property
    def n_rejected(self) -> int:
        """Number rejected at ``alpha`` after the correction."""
        return int(self._table["rejected"].sum())

    @property
    def failed(self) -> pd.DataFrame:
        """The rejected implications (a copy)."""
        return self._table[self._table["rejected"]].copy()

    @property
    def consistent(self) -> bool:
        """True when no implication is rejected."""
        return self.n_rejected == 0

    def __str__(self) -> str:
        head = (f"{self.n_tests} implication(s) tested ({self.cov_type}, {self.method} "
                f"correction, alpha={self.alpha:g}); {self.n_rejected} rejected.")
        if self.n_rejected:
            lines = [f"  {r.implication}: partial r = {r.partial_corr:.3f}, "
                     f"adjusted p = {r.p_adjusted:.3g}" for r in self.failed.itertuples()]
            head += "\n" + "\n".join(lines)
        return head

    def __repr__(self) -> str:
        return f"<ImplicationTests: {self.n_tests} tests, {self.n_rejected} rejected>"


def implications(
    panel: Any,
    graph: CausalGraph | str,
    *,
    fixed_effects: Sequence[str] | str | None = ("unit", "time"),
    vcov: str | Mapping[str, Any] = "iid",
    method: Literal["holm", "bh", "bonferroni", "none"] = "holm",
    alpha: float = 0.05,
) -> ImplicationTests:
    """Test the graph's implied conditional independences on the panel.

    Parameters
    ----------
    panel
        A Panel (or a DataFrame with ``fixed_effects`` naming its columns).
    graph
        The graph; its observed nodes must be columns (lag columns are created).
    fixed_effects
        Partialled out of every variable; ``"unit"``/``"time"`` mean the
        Panel's keys; ``()`` for none.
    vcov
        ``"iid"`` (default: the partial-correlation t test) or any covariance
        of :func:`causalpolicing.feols`, e.g. ``{"CRV1": "unit"}``.
    method
        ``"holm"`` (default), ``"bh"`` (Benjamini-Hochberg false discovery
        rate), ``"bonferroni"`` or ``"none"``.
    alpha
        Level for ``rejected``.

    Returns
    -------
    ImplicationTests
        An implication whose ``x`` has no variation left after the fixed
        effects and the conditioning set cannot be tested: its statistics are
        NaN and it is never rejected. Warnings raised by the regressions (e.g.
        few clusters) are issued once, not once per implication.
    """
    graph = as_graph(graph)
    if method not in _METHODS:
        raise SpecError(f"method must be one of {list(_METHODS)}; got {method!r}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise SpecError(f"alpha must be between 0 and 1; got {alpha!r}.")
    data = prepare_data(panel, graph)
    fes = _fe_columns(data, fixed_effects)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows, cov_type = _run_tests(graph, data, fes, vcov)
    seen: set[tuple[type, str]] = set()
    for w in caught:  # each distinct warning once, not once per implication
        key = (w.category, str(w.message))
        if key not in seen and not issubclass(w.category, CollinearityWarning):
            seen.add(key)
            warnings.warn(str(w.message), w.category, stacklevel=2)
    table = _finish(rows, method, alpha)
    return ImplicationTests(graph=graph, alpha=float(alpha), method=method, cov_type=cov_type,
                            fixed_effects=fes, _table=table[IMPLICATION_COLUMNS])


def _run_tests(graph: CausalGraph, data: Any, fes: tuple[str, ...],
               vcov: str | Mapping[str, Any]) -> tuple[list[tuple[Any, ...]], str]:
    """One fixed-effects regression per implication (warnings are collected by the caller)."""
    rows: list[tuple[Any, ...]] = []
    cov_type = str(vcov)
    for imp in implied_independences(graph):
        xcol, ycol = graph.column(imp.x), graph.column(imp.y)
        zcols = [graph.column(n) for n in imp.given]
        formula = build_formula(ycol, [xcol, *zcols], fes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CollinearityWarning)
            res = feols(formula, data, vcov="iid")
        term = xcol  # a one-column term is named by its column
        if term not in res.params.index:
            rows.append((str(imp), imp.x, imp.y, imp.given, np.nan, np.nan, np.nan, np.nan,
                         res.nobs))
            continue
        t_iid = float(res.tstats[term])
        df_resid = float(res.glance()["df_resid"].iloc[0])
        r = t_iid / np.sqrt(t_iid**2 + df_resid)
        if vcov != "iid":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CollinearityWarning)
                res = feols(formula, data, vcov=vcov)
        cov_type = res.cov_type
        t = float(res.tstats[term])
        p = float(res.pvalues[term])
        rows.append((str(imp), imp.x, imp.y, imp.given, r, t,
                     float(res.df_inference) if res.df_inference is not None else np.inf, p,
                     res.nobs))
    return rows, cov_type


def _finish(rows: list[tuple[Any, ...]], method: str, alpha: float) -> pd.DataFrame:
    """The table with adjusted p-values (untestable rows: NaN, never rejected)."""
    from statsmodels.stats.multitest import multipletests

    table = pd.DataFrame(rows, columns=["implication", "x", "y", "given", "partial_corr",
                                        "statistic", "df", "p_value", "nobs"])
    pvals = table["p_value"].to_numpy(dtype=float)
    ok = np.isfinite(pvals)
    adj = np.full(len(pvals), np.nan)
    if ok.any():
        if _METHODS[method] is None:
            adj[ok] = pvals[ok]
        else:
            adj[ok] = multipletests(pvals[ok], alpha=alpha, method=_METHODS[method])[1]
    table["p_adjusted"] = adj
    table["rejected"] = np.where(np.isfinite(adj), adj < alpha, False).astype(bool)
    table["nobs"] = table["nobs"].astype(int)
    return table
