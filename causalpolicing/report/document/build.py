"""Build the report: results, panel, figures and diagnostics -> a :class:`~.model.Report`.

Sections, in order (those without input are left out): title (with a prominent
notice when the panel is a simulated bundled dataset), summary (one sentence per
effect, :mod:`causalpolicing.report.narrative`), data (structure, roles,
missingness, gaps, treatment variation, the drop log), estimates (the
:func:`causalpolicing.table` of every model), figures, diagnostics (feedback
checks), causal graph (graph summary, testable implications, refutations),
caveats and provenance.

The HTML and the Markdown come from two jinja2 templates of the package
(``report.html.j2``, autoescaped, and ``report.md.j2``) fed the same context, so
they say the same things. Given the same inputs and a fixed
``provenance={"timestamp": ...}`` the output is identical from run to run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

import markupsafe
import pandas as pd

from ...data.panel import Panel
from ...exceptions import SpecError
from ...results import EstimationResults
from ..narrative.checks import Caveat, _feedback_not_run, _tests
from ..narrative.checks import caveats as find_caveats
from ..narrative.event_time import describe_event_study
from ..narrative.sentences import describe_results
from ..tables import table
from ._figures import FIGURE_FORMATS, ReportFigure, render_figure
from ._provenance import gather_provenance
from ._render import render, tidy_markdown
from ._sections import data_section, diagnostics_section, graph_section
from .model import Report
from .staggered import StaggeredSection, section_context

__all__ = ["build_report", "NARRATIVE_OPTIONS"]

#: Keys accepted by ``narrative={...}`` (passed to :func:`describe_results`).
NARRATIVE_OPTIONS = ("terms", "change", "level", "outcome_label", "treatment_labels",
                     "unit_labels", "causal", "log_outcome")


def _models(results: Any) -> tuple[list[tuple[str | None, Any]], Any]:
    """[(name or None, results)] and what to hand to cp.table."""
    def check(r: Any, where: str) -> None:
        if not isinstance(r, EstimationResults):
            raise SpecError(f"{where} must be a results object of the contract (from cp.feols, "
                            f"cp.fepois, ...); got {type(r).__name__}.")

    if isinstance(results, Mapping):
        if not results:
            raise SpecError("results is an empty mapping; pass at least one results object.")
        for k, r in results.items():
            check(r, f"results[{k!r}]")
        return [(str(k), r) for k, r in results.items()], {str(k): r for k, r in results.items()}
    if isinstance(results, Sequence) and not isinstance(results, str):
        items = list(results)
        if not items:
            raise SpecError("results is an empty list; pass at least one results object.")
        for i, r in enumerate(items):
            check(r, f"results[{i}]")
        if len(items) == 1:
            return [(None, items[0])], items
        return [(f"({i + 1})", r) for i, r in enumerate(items)], items
    check(results, "results")
    return [(None, results)], [results]


def _has_event_time(res: Any) -> bool:
    et = getattr(res, "event_time", None)
    return isinstance(et, pd.DataFrame) and {"event_time", "term", "estimate"} <= set(et.columns)


def _narrative(narrative: Any, models: list[tuple[str | None, Any]], panel: Any
               ) -> list[dict[str, Any]]:
    if isinstance(narrative, str):
        return [{"model": None, "sentences": [narrative]}]
    if isinstance(narrative, Sequence):
        if not all(isinstance(s, str) for s in narrative):
            raise SpecError("narrative as a list must hold strings (sentences).")
        return [{"model": None, "sentences": list(narrative)}]
    options: Mapping[str, Any] = {}
    if narrative is not None:
        if not isinstance(narrative, Mapping):
            raise SpecError("narrative must be None (automatic), a string, a list of sentences "
                            f"or a dict of options ({', '.join(NARRATIVE_OPTIONS)}); got "
                            f"{type(narrative).__name__}.")
        unknown = [k for k in narrative if k not in NARRATIVE_OPTIONS]
        if unknown:
            raise SpecError(f"Unknown narrative option(s) {unknown}; valid: "
                            f"{list(NARRATIVE_OPTIONS)}.")
        options = narrative
    groups = []
    for name, res in models:
        opts = dict(options)
        terms = opts.pop("terms", None)
        if terms is not None:
            terms = [t for t in ([terms] if isinstance(terms, str) else terms)
                     if t in res.params.index]
            if not terms:
                continue
        if terms is None and _has_event_time(res):  # a design: the path, and the pre-trends
            sentences = describe_event_study(res, level=opts.get("level", 0.95))
        else:
            sentences = describe_results(res, terms, data=panel, **opts)
        groups.append({"model": None if name is None else f"Model {name}",
                       "sentences": sentences})
    return groups


def _figures(figures: Any, fmt: str, dpi: int) -> list[ReportFigure]:
    if figures is None:
        return []
    if not isinstance(figures, Mapping):
        raise SpecError("figures must be a mapping {caption: matplotlib Figure}; got "
                        f"{type(figures).__name__}.")
    return [render_figure(fig, cap, i + 1, fmt, dpi=dpi)  # type: ignore[arg-type]
            for i, (cap, fig) in enumerate(figures.items())]


def _split_figures(figures: Any, staggered: StaggeredSection | None, fmt: str, dpi: int
                   ) -> tuple[list[ReportFigure], list[ReportFigure]]:
    """(the Figures section's, the staggered section's) rendered figures, numbered in
    order of appearance: the event-study figures the section names, and its own figures
    (also when given in ``figures``), move into it."""
    plain = _figures(figures, fmt, dpi) if staggered is None else None
    if plain is not None:
        return plain, []
    given = dict(figures or {}) if isinstance(figures, Mapping) else figures
    if not isinstance(given, dict):
        return _figures(figures, fmt, dpi), []  # raises the usual error
    moved = {c: given[c] for c in staggered.event_study_figures if c in given}
    moved.update({c: given.get(c, f) for c, f in staggered.figures.items()})
    first = _figures({c: f for c, f in given.items() if c not in moved}, fmt, dpi)
    second = [render_figure(f, c, len(first) + i + 1, fmt, dpi=dpi)  # type: ignore[arg-type]
              for i, (c, f) in enumerate(moved.items())]
    return first, second


def _not_run(panel: Any, diagnostics: Any, refutations: Any, implications: Any) -> list[str]:
    out = []
    if panel is None:
        out.append("the data (no panel given: no drop log, missingness or dataset notice)")
    if not _tests(diagnostics) and not _feedback_not_run(diagnostics):
        out.append("feedback / reverse causality (cp.diagnostics.feedback_report)")
    out.extend(f"feedback check '{name}': {reason.rstrip('.')}"
               for name, reason in _feedback_not_run(diagnostics))
    if refutations is None:
        out.append("refutations of the causal estimate")
    if implications is None:
        out.append("testable implications of a causal graph")
    return out


def build_report(
    results: Any,
    *,
    panel: Any = None,
    figures: Mapping[str, Any] | None = None,
    diagnostics: Any = None,
    refutations: Any = None,
    implications: Any = None,
    graph_summary: Mapping[str, Any] | None = None,
    narrative: str | Sequence[str] | Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
    title: str = "Analysis report",
    table_options: Mapping[str, Any] | None = None,
    figure_format: Literal["png", "svg"] = "png",
    figure_dpi: int = 144,
    drop_log_rows: int = 20,
    drop_log_csv: bool = True,
    few_clusters: int = 40,
    staggered: StaggeredSection | None = None,
) -> Report:
    """A self-contained HTML report and its Markdown twin.

    Parameters
    ----------
    results
        One results object, a list of them, or ``{name: results}``.
    panel
        The :class:`~causalpolicing.Panel` analysed: data section, drop log,
        simulated-data notice, input checksum.
    figures
        ``{caption: matplotlib Figure}``, in display order; rendered now (PNG or SVG).
    diagnostics
        Feedback checks: a :class:`~causalpolicing.diagnostics.FeedbackReport` or
        test results (see :func:`~causalpolicing.report.narrative.caveats`), or a
        dict ``{title: ...}`` of those and of other diagnostics shown as tables
        under their title (DataFrames, or results with ``tidy()`` such as
        :func:`~causalpolicing.inference.wild_bootstrap` results).
    refutations
        Refutation results (objects with ``name, passed, p_value, reading`` and
        optionally ``term``; a list, a dict, or nested), or a DataFrame with those
        columns. ``passed=None`` (no test) shows as "n/a".
    implications
        Testable implications of the causal graph (DataFrame ``implication,
        p_value, p_adjusted, rejected``, or an object whose ``table`` is one).
    graph_summary
        What the causal-graph step found, e.g. ``{"estimand": "...",
        "adjustment_sets": [["w1", "w2"]]}``: each key becomes a heading; strings
        are shown as text (multi-line ones as code), lists as bullet lists.
    narrative
        ``None``: one sentence per treatment term of each model (the panel's
        treatments, else every non-intercept term); a dict of options for
        :func:`~causalpolicing.report.narrative.describe_results`
        (``terms, change, level, outcome_label, treatment_labels, unit_labels,
        causal, log_outcome``); or your own sentence(s) as a string or list.
    provenance
        ``seed``, ``spec`` (text or mapping; or ``spec_toml``/``spec_json``),
        ``command`` (or ``command_line``), ``timestamp`` (fix it for reproducible
        output; default: now, UTC), ``packages``, anything else (listed as is);
        see :mod:`causalpolicing.report.document._provenance`. Package versions,
        Python, platform and the input's source and SHA-256 (from the panel) are
        added automatically.
    title
        The report's title.
    table_options
        Keyword arguments for :func:`causalpolicing.table` (e.g.
        ``{"exponentiate": True, "uncertainty": "ci", "stars": True}``).
    figure_format
        ``"png"`` (default) or ``"svg"``: how figures are embedded and saved.
    figure_dpi
        Resolution of PNG figures.
    drop_log_rows
        Rows of the drop log shown in the report (the counts by reason are always shown).
    drop_log_csv
        Keep the full drop log for :meth:`Report.save` (``drop_log.csv``).
    few_clusters
        Threshold of the few-clusters caveat.
    staggered
        The event-study / staggered-adoption section
        (:class:`~causalpolicing.report.document.staggered.StaggeredSection`, made by
        :func:`causalpolicing.analyze` when the panel has a timing role): the event-study
        figures it names move from Figures into it; its TWFE weights may raise the
        ``negative_weights`` caveat.

    Returns
    -------
    Report
        ``.html``, ``.markdown``, ``.save(directory)``; notebooks display it.

    Raises
    ------
    SpecError
        For any invalid argument (the message names it).

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.document import build_report
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    >>> rep = build_report(res, panel=panel, title="Enforcement and drug deaths",
    ...                    provenance={"timestamp": "2026-01-01T00:00:00+00:00", "seed": 1992})
    >>> rep.narrative[0][:60]
    'An increase of 1 unit in offences_per_1000 is associated wit'
    >>> 'id="simulated-notice"' in rep.html, [c.kind for c in rep.caveats]
    (True, ['few_clusters'])
    """
    if not isinstance(title, str) or not title.strip():
        raise SpecError(f"title must be a non-empty string; got {title!r}.")
    if isinstance(drop_log_rows, bool) or not isinstance(drop_log_rows, int) or drop_log_rows < 0:
        raise SpecError(f"drop_log_rows must be a non-negative integer; got {drop_log_rows!r}.")
    if not isinstance(drop_log_csv, bool):
        raise SpecError(f"drop_log_csv must be True or False; got {drop_log_csv!r}.")
    if figure_format not in FIGURE_FORMATS:
        raise SpecError(f"figure_format must be one of {list(FIGURE_FORMATS)}; got "
                        f"{figure_format!r}.")
    if table_options is not None and not isinstance(table_options, Mapping):
        raise SpecError("table_options must be a dict of cp.table keyword arguments; got "
                        f"{type(table_options).__name__}.")
    if panel is not None:
        if not isinstance(panel, Panel):
            raise SpecError(f"panel must be a Panel (cp.load_panel or cp.datasets.load); got "
                            f"{type(panel).__name__}.")
    if staggered is not None and not isinstance(staggered, StaggeredSection):
        raise SpecError("staggered must be a StaggeredSection (as cp.analyze makes) or None; "
                        f"got {type(staggered).__name__}.")
    models, table_input = _models(results)
    tab = table(table_input, **dict(table_options or {}))
    found: list[Caveat] = find_caveats(
        {n or "(1)": r for n, r in models} if len(models) > 1 else models[0][1],
        panel=panel, diagnostics=diagnostics, refutations=refutations,
        implications=implications, few_clusters=few_clusters,
        twfe_weights=None if staggered is None else staggered.weights)
    groups = _narrative(narrative, models, panel)
    figs, stag_figs = _split_figures(figures, staggered, figure_format, figure_dpi)
    prov = gather_provenance(provenance, panel)
    run = [("Generated (UTC)", prov["timestamp"]),
           ("Random seed", prov["seed"] if prov["seed"] is not None else "not given"),
           ("Python", prov["python"]), ("Platform", prov["platform"])]
    card = panel.card if panel is not None else None
    simulated = ({"title": card.title, "summary": card.summary}
                 if card is not None and card.kind == "simulated" else None)
    version = dict(prov["packages"]).get("causalpolicing", "")
    context: dict[str, Any] = {
        "title": title.strip(),
        "version": version,
        "simulated": simulated,
        "summary": {"groups": groups, "n_caveats": len(found),
                    "n_high": sum(c.severity == "high" for c in found)},
        "data": (data_section(panel, drop_log_rows=drop_log_rows, drop_log_csv=drop_log_csv)
                 if panel is not None else None),
        "estimates_html": markupsafe.Markup(tab.to_html()),  # escaped by the table renderer
        "estimates_markdown": tab.to_markdown().rstrip("\n"),
        "figures": figs,
        "staggered": None if staggered is None else section_context(staggered, stag_figs,
                                                                       len(figs) + 1),
        "diagnostics": diagnostics_section(diagnostics),
        "graph": graph_section(graph_summary, implications, refutations),
        "caveats": found,
        "not_run": _not_run(panel, diagnostics, refutations, implications),
        "provenance": {**prov, "run": run},
    }
    html = render("report.html.j2", {**context, "standalone": True})
    fragment = render("report.html.j2", {**context, "standalone": False})
    markdown = tidy_markdown(render("report.md.j2", context))
    log_csv = None
    if panel is not None and drop_log_csv:
        log = panel.drop_log
        if len(log):
            log_csv = log.to_csv(index=False, lineterminator="\n")
    frozen_prov = MappingProxyType({k: tuple(v) if isinstance(v, list) else v
                                    for k, v in prov.items()})
    return Report(
        title=title.strip(), html=html, markdown=markdown, fragment=fragment,
        figures=(*figs, *stag_figs),
        narrative=tuple(s for g in groups for s in g["sentences"]),
        caveats=tuple(found), provenance=frozen_prov, drop_log_csv=log_csv)
