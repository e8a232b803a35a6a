"""The staggered-adoption diagnostics of an analysis run, computed once for the report.

When the Panel declares a treatment timing (``panel.cohort``) and ``[report]
staggered_diagnostics`` is on (the default), :func:`staggered_diagnostics` runs

* the Goodman-Bacon decomposition of the static two-way fixed-effects (TWFE) DiD
  ``outcome ~ treatment | unit + time`` and its plot;
* the de Chaisemartin-D'Haultfœuille weights of the same coefficient (negative
  weights become the report's ``negative_weights`` caveat);
* for every fitted design with an event-time table, a HonestDiD
  relative-magnitudes sensitivity analysis (R ``HonestDiD``'s default grid of
  ten :math:`\\bar M` from 0 to 2 and its C-LF test) of the *average* of the
  post-treatment effects in a window of at most :data:`HONEST_PRE` leads and
  :data:`HONEST_POST` lags around the reference period, and its plot.

The TWFE diagnostics are linear: they decompose the primary outcome, or its rate
when the spec added one (``[data] rates``) -- the outcome the linear designs of the
run use. A binary, absorbing treatment is needed for both. Each diagnostic that
cannot run (a treatment that is not 0/1, an unbalanced panel, a design without
pre-period coefficients, ...) is listed with its reason in the report; none stops
the run.

Why a window: the relative-magnitudes test inverts a linear programme over a grid
of 1,000 candidate effects for each :math:`\\bar M`; its cost grows quickly with
the number of event times (measured on ``simulated_overdose_laws``, 2 cores: about
1 s with 3 leads and 4 lags, 3 s with 4 and 5, 7 s with 5 and 6, and minutes with
the 18 leads and 20 lags of a Sun-Abraham fit). Event times binned at the window's
ends (``bin_endpoints``) pool several periods and are left out.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> from causalpolicing.spec import AnalysisSpec
>>> panel = cp.datasets.load("simulated_overdose_laws")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     es = cp.event_study(panel, outcome="deaths")
...     sec = staggered_diagnostics(AnalysisSpec.from_dict(
...         {"data": {"dataset": "simulated_overdose_laws"}}), panel, {"ES": es})
>>> sec.weights.n_negative > 0, round(sec.bacon.twfe, 3), sorted(sec.honest)
(True, 29.203, ['ES'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..designs._timing import never_mask
from ..diagnostics.bacon import bacon_decomposition
from ..diagnostics.honest import honest_did
from ..diagnostics.negative_weights import twfe_weights
from ..exceptions import CausalPolicingError
from ..report import plots
from ..report.document.staggered import StaggeredSection
from ._outcome import linear_outcome
from .figures import has_event_time, is_binary_treatment

__all__ = ["HONEST_POST", "HONEST_PRE", "event_study_captions", "linear_outcome",
           "staggered_diagnostics"]

#: Largest number of pre-period (lead) coefficients given to HonestDiD.
HONEST_PRE = 3
#: Largest number of post-period (lag) coefficients given to HonestDiD (event times 0, 1, ...).
HONEST_POST = 4

BACON = "Goodman-Bacon decomposition"
WEIGHTS = "de Chaisemartin-D'Haultfœuille weights"
HONEST = "HonestDiD sensitivity"


def _intro(panel: Any, outcome_phrase: str) -> tuple[str, ...]:
    frame = panel.to_frame()
    per_unit = frame.groupby(panel.unit, sort=False)[panel.cohort].first()
    never = never_mask(per_unit, panel.never_treated)
    cohorts = per_unit[~never].dropna().unique()
    timing = (f"Units adopt {panel.treatment} at {len(cohorts)} different time"
              f"{'s' if len(cohorts) != 1 else ''} (column {panel.cohort}); "
              f"{int(never.sum())} of {len(per_unit)} units are never treated.")
    static = ("With staggered adoption and effects that change over time, the static "
              "two-way fixed-effects (TWFE) DiD can be far from any average of the effects; "
              f"the diagnostics below decompose it, using {outcome_phrase}.")
    return timing, static


def _window(res: Any) -> tuple[np.ndarray, np.ndarray, int, int, list[int]]:
    """The HonestDiD inputs of a design: at most HONEST_PRE leads and HONEST_POST lags."""
    et = res.event_time
    ref_rows = et.loc[et["reference"].astype(bool), "event_time"] if "reference" in et else []
    if len(ref_rows) != 1 and (et["event_time"] < 0).any():
        raise CausalPolicingError(
            "its event-time table has no single reference period: its pre-period estimates "
            "are not normalised to one base period (e.g. Callaway-Sant'Anna's default "
            "varying base period), so they do not measure the pre-trend HonestDiD bounds "
            "with; refit with base_period='universal'.")
    if len(ref_rows) != 1:
        raise CausalPolicingError("its event-time table has no single reference period, so "
                                  "there are no pre-period coefficients to bound the "
                                  "violations of parallel trends with (the design estimates "
                                  "post-treatment effects only).")
    ref = int(ref_rows.iloc[0])
    keep = ~et["reference"].astype(bool)
    if "binned" in et.columns:
        keep &= ~et["binned"].astype(bool)
    e = et["event_time"].astype(int)
    keep &= (e >= ref - HONEST_PRE) & (e <= ref + HONEST_POST)
    rows = et[keep & et["term"].isin(res.cov.index)].sort_values("event_time")
    times = rows["event_time"].astype(int).tolist()
    pre = [t for t in times if t < ref]
    post = [t for t in times if t > ref]
    if not pre:
        raise CausalPolicingError("no pre-period (lead) coefficient next to the reference "
                                  "period is estimated; fit leads (e.g. leads=3).")
    if not post:
        raise CausalPolicingError("no post-period coefficient is estimated.")
    allt = sorted([*times, ref])
    if allt != list(range(allt[0], allt[-1] + 1)):
        raise CausalPolicingError(f"its event times around the reference period {ref} are not "
                                  f"consecutive ({allt}).")
    terms = rows["term"].astype(str).tolist()
    cov = res.cov.loc[terms, terms].to_numpy(float)
    return rows["estimate"].to_numpy(float), cov, len(pre), len(post), post


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith(".") else f"{text}."


def staggered_diagnostics(spec: Any, panel: Any, results: Mapping[str, Any], *,
                          event_study_figures: tuple[str, ...] = ()) -> StaggeredSection | None:
    """The staggered-adoption section (see the module docstring), or ``None`` when the
    Panel has no timing role or the spec turns the diagnostics off.

    ``event_study_figures`` are the captions of the run's event-study figures, shown in
    the section.
    """
    if not spec.report.staggered_diagnostics or panel.cohort is None:
        return None
    outcome, phrase = linear_outcome(panel)
    treatment = panel.treatment
    skipped: list[tuple[str, str]] = []
    figures: dict[str, Any] = {}
    bacon = weights = None
    if not is_binary_treatment(panel, treatment):
        reason = (f"the treatment {treatment} is not binary (0/1); the decomposition and the "
                  "weights of a staggered TWFE DiD need an on/off treatment.")
        skipped += [(BACON, reason), (WEIGHTS, reason)]
    else:
        try:
            bacon = bacon_decomposition(panel, outcome=outcome, treatment=treatment)
        except CausalPolicingError as exc:
            skipped.append((BACON, _reason(exc)))
        else:
            figures[f"Goodman-Bacon decomposition of the TWFE DiD of {outcome} on "
                    f"{treatment}"] = plots.bacon_plot(bacon)
        try:
            weights = twfe_weights(panel, outcome=outcome, treatment=treatment)
        except CausalPolicingError as exc:
            skipped.append((WEIGHTS, _reason(exc)))
    honest: dict[str, Any] = {}
    posts: set[tuple[int, ...]] = set()
    for name, res in results.items():
        if not has_event_time(res):
            continue
        try:
            beta, cov, num_pre, num_post, post = _window(res)
            honest[name] = honest_did(betahat=beta, sigma=cov, num_pre=num_pre,
                                      num_post=num_post, l_vec="average", progress=False)
        except (CausalPolicingError, ValueError, np.linalg.LinAlgError) as exc:
            skipped.append((f"{HONEST} ({name})", _reason(exc)))
            continue
        posts.add((post[0], post[-1]))
        figures[f"HonestDiD sensitivity, relative magnitudes ({name})"] = \
            plots.honest_did_plot(honest[name])
    note = ""
    if honest:
        spans = ", ".join(f"{a} to {b}" for a, b in sorted(posts))
        note = (f"Each sensitivity analysis bounds the average of the post-treatment effects "
                f"(event times {spans}) under relative magnitudes (Rambachan and Roth 2023): "
                "after treatment, parallel trends may be violated by up to Mbar times the "
                "largest change between consecutive pre-treatment periods. It uses at most "
                f"{HONEST_PRE} leads and {HONEST_POST} lags next to the reference period "
                "(binned endpoints left out), R HonestDiD's default grid (Mbar from 0 to 2) "
                "and its conditional/least-favourable hybrid test.")
    if not honest and not any(has_event_time(r) for r in results.values()):
        skipped.append((HONEST, "no model of the run has event-time effects (add a design "
                                "such as event_study or sun_abraham)."))
    return StaggeredSection(
        intro=_intro(panel, phrase), event_study_figures=tuple(event_study_figures),
        bacon=bacon, weights=weights, honest=honest, honest_note=note, figures=figures,
        skipped=tuple(skipped))


def event_study_captions(figures: Mapping[str, Any]) -> tuple[str, ...]:
    """The captions of the event-study figures among the run's figures."""
    return tuple(c for c in figures if c.startswith("Event study"))

