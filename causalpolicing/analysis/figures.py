"""The figures of an analysis report, chosen from what the analysis produced.

Which figures are drawn is set by ``[report] figures`` in the spec; a figure
whose input is missing (e.g. ``event_study`` without a distributed-lag model,
``dag`` without a graph) is skipped, not an error. A binary (0/1) treatment gets
no dose-response figure: with two values there is no curve to show, and the
coefficient plot already shows the effect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from ..report import plots
from .progress import AnnouncedModule

__all__ = ["draw_figures", "has_event_time", "is_binary_treatment", "is_count_model"]

_COUNT_WORDS = ("poisson", "negbin", "negative binomial", "binomial", "glm")


def is_count_model(res: Any) -> bool:
    """True for results on the log (or logit) scale: Poisson, negative binomial, binomial."""
    spec = res.spec
    if spec.get("link") in ("log", "logit"):
        return True
    return any(w in str(res.estimator).lower() for w in _COUNT_WORDS)


def is_binary_treatment(panel: Any, treatment: str) -> bool:
    """True for a 0/1 treatment (declared ``"binary"``, or only two distinct values): its
    dose-response "curve" is a straight line between two points, so no figure is drawn.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> is_binary_treatment(cp.datasets.load("simulated_cantons"), "offences_per_1000")
    False
    """
    if panel.treatment_kinds.get(treatment) == "binary":
        return True
    values = panel.to_frame()[treatment]
    return bool(values.dropna().nunique() <= 2)


def has_event_time(res: Any) -> bool:
    """True for a design's results with an event-time table (``event_time`` DataFrame)."""
    et = getattr(res, "event_time", None)
    return isinstance(et, pd.DataFrame) and {"term", "event_time"} <= set(et.columns)


def _table_reference(res: Any) -> int | None:
    """The reference (omitted) event time of a design's event-time table, if it has one."""
    et = res.event_time
    if "reference" not in et.columns:
        return None
    rows = et.loc[et["reference"].astype(bool), "event_time"]
    return int(rows.iloc[0]) if len(rows) else None


def _is_lag_model(res: Any) -> bool:
    return hasattr(res, "lag_terms") and hasattr(res, "lead_terms")


def draw_figures(spec: Any, panel: Any, results: Mapping[str, Any],
                 causal: Mapping[str, Any], *,
                 note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Caption -> matplotlib Figure for every figure the spec asks for and the inputs allow.

    ``note`` (progress) is called with the kind of each figure before it is drawn.
    """
    draw = plots if note is None else AnnouncedModule(plots, note)

    wanted = set(spec.report.figures)
    level = spec.report.level
    figs: dict[str, Any] = {}
    treatment = panel.treatment
    plain = {n: r for n, r in results.items() if not _is_lag_model(r)}
    linear = {n: r for n, r in plain.items() if not is_count_model(r)}
    counts = {n: r for n, r in plain.items() if is_count_model(r)}
    terms = [t for t in panel.treatments
             if any(t in r.params.index for r in plain.values())]
    if "coefficients" in wanted and terms:
        if linear:
            figs["Coefficients of the linear models"] = draw.coefficient_plot(
                linear, terms=[t for t in terms if any(t in r.params.index
                                                       for r in linear.values())],
                level=level)
        if counts:
            figs["Rate ratios of the count models"] = draw.coefficient_plot(
                counts, terms=[t for t in terms if any(t in r.params.index
                                                       for r in counts.values())],
                level=level, rate_ratio=True)
    if "dose_response" in wanted and not is_binary_treatment(panel, treatment):
        pick = next(((n, r) for n, r in {**counts, **linear}.items()
                     if treatment in r.params.index), None)
        if pick is not None:
            name, res = pick
            figs[f"Dose-response: {treatment} ({name})"] = draw.dose_response_plot(
                res, treatment, data=panel.to_frame(), level=level)
    if "event_study" in wanted:
        designs = {n: r for n, r in results.items() if has_event_time(r)}
        for scale in (False, True):  # linear and count designs are not on one scale
            group = {n: r for n, r in designs.items() if is_count_model(r) == scale}
            if not group:
                continue
            if len(group) == 1:
                (name, res), = group.items()
                figs[f"Event study: {res.spec.get('outcome', '')} by periods since "
                     f"{res.spec.get('cohort', 'treatment')} ({name})"] = draw.event_study_plot(
                    res, level=level, reference=_table_reference(res), band="both")
            else:
                res = next(iter(group.values()))
                what = "log rate ratios" if scale else "effects"
                figs[f"Event study: {what} on {res.spec.get('outcome', '')} by periods since "
                     f"treatment, {', '.join(group)}"] = draw.event_study_plot(
                    group, level=level, band="both")
        for name, res in results.items():
            if _is_lag_model(res) and not has_event_time(res):
                # with leads, every period is estimated: no omitted reference period
                ref = None if len(res.lead_terms) else -1
                figs[f"Leads and lags of {res.treatment} ({name})"] = draw.event_study_plot(
                    res, level=level, reference=ref)
    if "panel_overview" in wanted:
        figs["The panel: outcome and treatment over time"] = draw.panel_overview_plot(panel)
    if "missingness" in wanted:
        figs["Missing and dropped cells"] = draw.missingness_plot(panel)
    graph = causal.get("graph")
    if "dag" in wanted and graph is not None:
        figs["The causal graph"] = draw.dag_plot(graph, treatment=causal.get("treatment"),
                                                  outcome=causal.get("outcome"))
    suite = causal.get("refutations")
    if "refutations" in wanted and suite is not None:
        with_draws = [r for r in getattr(suite, "results", ())
                      if getattr(r, "draws", None) is not None]
        if with_draws:
            # one column: each panel stays legible at phone width
            figs["Refutations: placebo distributions"] = draw.refutation_plot(with_draws,
                                                                                ncols=1)
    return figs
