"""The causal-graph step of an analysis: identification, estimation, implications,
refutations, sensitivity and mediation, as ``[causal]`` of the spec asks.

Everything is computed by :mod:`causalpolicing.graph`; this module only chooses
what to run and on which estimate, and collects the outputs under stable keys
(``graph``, ``identification``, ``graph_estimate``, ``implications``,
``refutations``, ``sensitivity``, ``evalues``, ``mediation``, ``graph_summary``)
that the figures, the report and the written outputs read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import graph as cg
from ..exceptions import SpecError
from ..graph import CausalGraph, GraphError, as_graph, template

__all__ = ["run_causal", "load_graph"]


def load_graph(text: str, columns: Mapping[str, str] | None = None,
               latent: tuple[str, ...] = ()) -> Any:
    """A :class:`~causalpolicing.graph.CausalGraph` from a spec's ``graph`` value.

    ``"template:NAME"`` (with ``columns`` mapping its nodes to data columns), a
    path to a ``.dot``/``.gv``/``.gml`` file, or DOT/GML text.
    """
    if text.startswith("template:"):
        g = template(text.split(":", 1)[1], latent=latent, **dict(columns or {}))
        return g
    stripped = text.strip()
    if "\n" not in stripped and stripped.lower().endswith((".dot", ".gv", ".gml")):
        path = Path(stripped)
        if not path.is_file():
            raise SpecError(f"causal.graph: file {stripped!r} not found.")
        g = CausalGraph.from_file(path)  # text, size and nesting limits; errors name the file
    else:
        try:
            g = as_graph(stripped)
        except GraphError as exc:  # say where the graph came from, as for a file
            raise type(exc)(f"causal.graph: {exc}") from None
    if not isinstance(g, CausalGraph):  # pragma: no cover - as_graph returns CausalGraph
        raise SpecError("causal.graph: could not read the graph.")
    if latent:
        g = g.with_latent(*latent)
    if columns:
        g = g.with_columns(dict(columns))
    return g


def _target(results: Mapping[str, Any], treatment: str) -> Any:
    """The spec's first single-equation FE model (linear first) containing the treatment."""
    candidates = [r for r in results.values()
                  if treatment in r.params.index and not hasattr(r, "lag_terms")
                  and str(r.estimator) in ("FEOLS", "FEPoisson")
                  and not getattr(r, "is_iv", False)]
    linear = [r for r in candidates if r.estimator == "FEOLS"]
    return (linear or candidates or [None])[0]


def run_causal(spec: Any, panel: Any, results: Mapping[str, Any], *,
               progress: bool = False,
               note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the ``[causal]`` part of ``spec`` on ``panel`` (see the module docstring).

    ``progress`` shows the draw loops' progress bars; ``note`` (progress lines) is
    called with the name of each check before it runs.
    """
    note = note or (lambda text: None)
    c = spec.causal
    out: dict[str, Any] = {}
    treatment = c.treatment or panel.treatment
    outcome = c.outcome or panel.outcome
    vcov = {"CRV1": panel.clusters[0] if panel.clusters else panel.unit}
    target = None
    summary: dict[str, Any] = {}
    if c.graph is not None:
        g = load_graph(c.graph, c.columns, c.latent)
        # lagged nodes (e.g. deaths_per_100k_lag2) become columns once, so the estimate,
        # the implication tests and the refuters all see the same data
        for node, (base, k) in g.lagged_nodes.items():
            col = g.column(node)
            if col not in panel.columns and base in panel.columns:
                panel = panel.lag(base, k=k, name=col)
        out.update(graph=g, treatment=treatment, outcome=outcome, panel=panel)
        note("identification (DoWhy)")
        g.validate(panel)  # every node has its column, checked before identification
        ident = cg.identify(g, treatment, outcome)
        out["identification"] = ident
        summary["Treatment -> outcome"] = f"{treatment} -> {outcome}"
        summary["Identification"] = ident.explanation
        summary["Estimand"] = ident.estimand_text  # DoWhy's sympy drawing is unreadable
        if ident.backdoor_identified:
            note("estimate with the adjustment set")
            ge = cg.estimate(panel, g, treatment, outcome, estimator=c.estimator, vcov=vcov)
            out["graph_estimate"] = ge
            target = ge.results
            summary["Estimated with"] = (f"{ge.formula} ({ge.results.cov_type}): "
                                         f"{ge.effect:.4g} (s.e. {ge.std_error:.3g})")
        if c.implications:
            note("testable implications")
            out["implications"] = cg.implications(panel, g, vcov=vcov)
    if target is None:
        target = _target(results, treatment)
    if c.refute:
        if target is None:
            raise SpecError(f"causal.refute: no model to refute; add a feols or fepois model "
                            f"with the treatment {treatment!r} or a graph.")
        out["refutations"] = _refute_each(
            cg, note, target, panel, methods=list(c.refute), treatment=treatment, reps=c.reps,
            seed=spec.report.seed, placebo_outcome=c.placebo_outcome, progress=progress)
    if c.sensitivity:
        note("sensitivity and E-values")
        if target is not None and target.estimator == "FEOLS":
            sens = cg.ovb_sensitivity(target, panel, treatment=treatment)
            out["sensitivity"] = sens
            summary["Sensitivity (Cinelli-Hazlett)"] = sens.reading
        rows = []
        for name, res in results.items():
            if res.spec.get("link") == "log" and treatment in res.params.index \
                    and not hasattr(res, "lag_terms"):
                ev = cg.evalue_rate_ratio(res, treatment)
                rows.append({"model": name, **_evalue_row(ev)})
                summary[f"E-value ({name})"] = ev.reading
        if rows:
            out["evalues"] = pd.DataFrame(rows)
    if c.mediator is not None:
        if target is None:
            raise SpecError("causal.mediator: no model of the total effect to decompose.")
        note(f"mediation through {c.mediator}")
        med = cg.mediate(target, panel, c.mediator, treatment=treatment,
                         reps=max(c.reps, 199), seed=spec.report.seed, progress=progress)
        out["mediation"] = med
        summary[f"Mediation through {c.mediator}"] = med.reading
    if summary:
        out["graph_summary"] = summary
    return out


def _refute_each(cg: Any, note: Callable[[str], None], target: Any, panel: Any, *,
                 methods: list[str], **options: Any) -> Any:
    """``cg.refute`` one refuter at a time (a progress line each), as one suite.

    Each refuter draws from its own generator keyed by its name, so running them
    one by one gives the same draws as one call with every method.
    """
    suites = []
    for name in methods:
        note(f"refuter {name}")
        suites.append(cg.refute(target, panel, methods=[name], **options))
    first = suites[0]
    return cg.RefutationSuite(
        results=tuple(r for s in suites for r in s.results), term=first.term,
        estimate=first.estimate, alpha=first.alpha, seed=first.seed,
        seconds_={k: v for s in suites for k, v in s.seconds.items()})


def _evalue_row(ev: Any) -> dict[str, Any]:
    fields = getattr(ev, "__dataclass_fields__", None)
    if fields:
        return {k: getattr(ev, k) for k in fields}
    return {"evalue": ev}
