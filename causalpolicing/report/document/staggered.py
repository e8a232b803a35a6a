"""The event-study / staggered-adoption section of the report, as plain data for the templates.

The analysis runner (:mod:`causalpolicing.analysis.staggered`) computes the
diagnostics once and hands them over as a :class:`StaggeredSection`: the
Goodman-Bacon decomposition of the static two-way fixed-effects (TWFE) DiD, the
de Chaisemartin-D'Haultfœuille weights of that coefficient, and a HonestDiD
sensitivity analysis per design with an event-time table, with their figures and
the reasons any of them could not run. Here they become sentences and small
tables; :func:`~causalpolicing.report.narrative.caveats` turns negative weights
into the ``negative_weights`` caveat.

Examples
--------
>>> sec = StaggeredSection(intro=("Units adopt the policy at 3 different times.",),
...                        skipped=(("Goodman-Bacon decomposition", "the panel is unbalanced."),))
>>> ctx = section_context(sec, [], first_number=3)
>>> ctx["skipped"]
['Goodman-Bacon decomposition: the panel is unbalanced.']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...exceptions import SpecError
from ._figures import ReportFigure
from ._sections import frame_table

__all__ = ["StaggeredSection", "section_context"]


@dataclass(frozen=True)
class StaggeredSection:
    """What the staggered-adoption section shows (every part optional).

    Attributes
    ----------
    intro
        Opening sentences: the timing (cohorts, never-treated units) and which outcome the
        TWFE diagnostics decompose (the primary outcome, or its rate).
    event_study_figures
        Captions of figures (keys of ``build_report(figures=...)``) shown in this section
        rather than under Figures: the event-study plots.
    bacon
        A :class:`~causalpolicing.diagnostics.BaconDecomposition`, or ``None``.
    weights
        A :class:`~causalpolicing.diagnostics.TWFEWeights`, or ``None``; negative weights
        raise the ``negative_weights`` caveat.
    honest
        Model name -> :class:`~causalpolicing.diagnostics.HonestDiDResults`.
    honest_note
        How the sensitivity analyses were set up (window, target, grid), shown once.
    figures
        Caption -> matplotlib Figure: the decomposition and sensitivity plots, in order.
    skipped
        ``(diagnostic, reason)`` for each diagnostic that could not run.
    """

    intro: tuple[str, ...] = ()
    event_study_figures: tuple[str, ...] = ()
    bacon: Any = None
    weights: Any = None
    honest: Mapping[str, Any] = field(default_factory=dict)
    honest_note: str = ""
    figures: Mapping[str, Any] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()


def _bacon_text(b: Any) -> tuple[list[str], dict[str, Any]]:
    summ = b.summary()
    late = summ.loc["Later vs Earlier Treated"] if "Later vs Earlier Treated" in summ.index \
        else None
    text = [f"The TWFE DiD coefficient of {b.treatment} on {b.outcome} is {b.twfe:.4g}: a "
            f"weighted average of {len(b.comparisons)} simple 2×2 comparisons between "
            "groups of units adopting at different times (Goodman-Bacon 2021)."]
    if late is not None and float(late["weight"]) > 0:
        text.append(f"{float(late['weight']):.0%} of the weight is on comparisons that use "
                    "already-treated units as controls (Later vs Earlier Treated, average "
                    f"{float(late['estimate']):.4g}); when effects change over time these "
                    "comparisons are biased and can flip the sign of the TWFE coefficient.")
    text.append("By type of comparison: total weight, weighted average of the 2×2 "
                "estimates (Estimate) and number of comparisons (n).")
    table = summ.reset_index()
    tab = frame_table(table, ["type", "weight", "estimate", "n_comparisons"],
                      {"type": "Comparison", "weight": "Weight", "estimate": "Estimate",
                       "n_comparisons": "n"},
                      {"weight": lambda v: f"{float(v):.3f}",
                       "estimate": lambda v: f"{float(v):.4g}"})
    return text, tab


def _weights_text(w: Any) -> str:
    if w.n_negative == 0:
        return (f"All {w.n_weights} weights that the TWFE coefficient ({w.beta:.4g}) puts on "
                "the treated (unit, period) cells' effects are non-negative (de Chaisemartin "
                "and D'Haultfœuille 2020): it is a proper weighted average of those effects.")
    return (f"{w.n_negative} of the {w.n_weights} weights that the TWFE coefficient "
            f"({w.beta:.4g}) puts on the treated (unit, period) cells' effects are negative, "
            f"summing to {w.sum_negative:.3f} (de Chaisemartin and D'Haultfœuille 2020). "
            "The coefficient is then not an average of the effects: it could be "
            f"{'negative' if w.beta > 0 else 'positive'} even if every cell's effect were "
            f"{'positive' if w.beta > 0 else 'negative'}. It would be compatible with an "
            "average effect of zero among the treated if the cells' effects varied with a "
            f"standard deviation of only {w.sigma_zero:.4g} (in outcome units; σ̲, their "
            "measure of robustness to heterogeneous effects).")


def _figure(f: ReportFigure, number: int) -> dict[str, Any]:
    return {"caption": f.caption, "filename": f.filename, "data_uri": f.data_uri,
            "min_width_px": f.min_width_px, "number": number}


def section_context(section: StaggeredSection, figures: Sequence[ReportFigure],
                    first_number: int = 1) -> dict[str, Any]:
    """The template context of the section; ``figures`` are its rendered figures in order
    (the event-study figures first, then the section's own), numbered from
    ``first_number``."""
    if not isinstance(section, StaggeredSection):
        raise SpecError("staggered must be a StaggeredSection (made by the analysis runner); "
                        f"got {type(section).__name__}.")
    by_caption = {f.caption: _figure(f, first_number + i) for i, f in enumerate(figures)}
    bacon = None
    if section.bacon is not None:
        text, tab = _bacon_text(section.bacon)
        bacon = {"text": text, "table": tab,
                 "figures": [f for c, f in by_caption.items() if c.startswith("Goodman-Bacon")]}
    weights = None if section.weights is None else {"text": _weights_text(section.weights)}
    honest = [{"model": name, "text": res.narrative(),
               "figures": [f for c, f in by_caption.items()
                           if c.startswith("HonestDiD") and c.endswith(f"({name})")]}
              for name, res in section.honest.items()]
    return {
        "intro": list(section.intro),
        "event_study": [by_caption[c] for c in section.event_study_figures if c in by_caption],
        "bacon": bacon,
        "weights": weights,
        "honest": honest,
        "honest_note": section.honest_note,
        "skipped": [f"{what}: {reason}" for what, reason in section.skipped],
    }
