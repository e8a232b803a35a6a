"""The event-study / staggered-adoption section of the analysis report (issue #12).

End to end on the bundled ``simulated_overdose_laws`` (built so that the static TWFE
DiD gets the wrong sign): the Goodman-Bacon decomposition and its plot, the
negative-weights caveat, HonestDiD per design with its plot, the skip paths, the
spec switch, and ``cp.table`` with two designs side by side.
"""

from __future__ import annotations

import dataclasses
import warnings

import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.analysis.staggered import staggered_diagnostics
from causalpolicing.report.narrative import caveats
from causalpolicing.report.tables.extract import extract
from causalpolicing.spec import AnalysisSpec

SPEC = {"data": {"dataset": "simulated_overdose_laws"},
        "models": [{"name": "Event study", "estimator": "event_study"},
                   {"name": "Imputation", "estimator": "did_imputation"}],
        "diagnostics": {"feedback": False},
        "report": {"figures": ["event_study"], "tables": ["markdown"]}}


@pytest.fixture(scope="module")
def analysis():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.analyze(SPEC)


@pytest.fixture(scope="module")
def panel():
    return cp.datasets.load("simulated_overdose_laws")


def _spec(**report):
    return AnalysisSpec.from_dict({**SPEC, "report": {**SPEC["report"], **report}})


def test_section_in_html_and_markdown(analysis) -> None:
    html, md = analysis.report.html, analysis.report.markdown
    assert '<section id="staggered">' in html
    assert "## Event study and staggered adoption" in md
    for heading in ("Goodman-Bacon decomposition", "Negative weights",
                    "Sensitivity to violations of parallel trends (HonestDiD)"):
        assert heading in html and heading in md
    # the section comes after the figures and before the caveats
    assert md.index("## Event study and staggered") < md.index("## Caveats")


def test_wrong_sign_twfe_raises_the_negative_weights_caveat(analysis) -> None:
    found = {c.kind: c for c in analysis.report.caveats}
    c = found["negative_weights"]
    w = analysis.staggered.weights
    assert w.n_negative > 0 and w.sum_negative <= -0.1
    assert c.severity == "high"
    assert f"{w.n_negative} of the {w.n_weights}" in c.message
    assert f"{w.sum_negative:.3f}" in c.message and f"{w.sigma_zero:.4g}" in c.message


def test_bacon_decomposition_of_the_primary_outcome(analysis) -> None:
    b = analysis.staggered.bacon
    assert b.outcome == "deaths" and b.treatment == "law"
    assert "the primary outcome deaths, in levels" in analysis.report.markdown
    assert f"The TWFE DiD coefficient of law on deaths is {b.twfe:.4g}" in analysis.report.markdown


def test_figures_bacon_and_honest_did_in_the_section(analysis) -> None:
    captions = [f.caption for f in analysis.report.figures]
    bacon = [c for c in captions if c.startswith("Goodman-Bacon")]
    honest = [c for c in captions if c.startswith("HonestDiD")]
    assert len(bacon) == 1 and honest == ["HonestDiD sensitivity, relative magnitudes "
                                          "(Event study)"]
    # numbered in order of appearance, every file distinct; written as SVG too
    numbers = [int(f.filename.split("/")[1][:2]) for f in analysis.report.figures]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(bacon + honest) <= set(analysis.figures)
    html = analysis.report.html
    section = html[html.index('<section id="staggered">'):html.index("</section>",
                                                                   html.index('id="staggered"'))]
    assert section.count("<figure") == 3  # event study (moved here), Bacon, HonestDiD
    assert "Event-study estimates" in section
    figures = html[html.index('<section id="figures">'):html.index('<section id="staggered">')] \
        if '<section id="figures">' in html else ""
    assert "Event study:" not in figures


def test_honest_did_uses_a_window_and_says_so(analysis) -> None:
    h = analysis.staggered.honest["Event study"]
    assert (h.num_pre, h.num_post) == (2, 4)  # leads -3, -2 (-4 is binned); lags 0-3
    assert h.target.startswith("average of the 4 post-period effects")
    md = analysis.report.markdown
    assert "event times 0 to 3" in md and "at most 3 leads and 4 lags" in md
    assert h.narrative() in md


def test_design_without_leads_is_skipped_with_its_reason(analysis) -> None:
    skipped = dict(analysis.staggered.skipped)
    assert "Imputation" not in analysis.staggered.honest
    reason = skipped["HonestDiD sensitivity (Imputation)"]
    assert "no pre-period coefficients" in reason
    assert "Not run: HonestDiD sensitivity (Imputation)" in analysis.report.markdown


def test_spec_switch_turns_the_section_off() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cp.analyze(_spec(staggered_diagnostics=False))
    assert a.staggered is None
    assert 'id="staggered"' not in a.report.html
    assert "negative_weights" not in [c.kind for c in a.report.caveats]
    assert any(c.startswith("Event study") for c in a.figures)  # still under Figures
    assert AnalysisSpec.from_toml(a.spec.to_toml()).report.staggered_diagnostics is False


def test_spec_switch_must_be_a_boolean() -> None:
    with pytest.raises(cp.exceptions.SpecError, match="staggered_diagnostics"):
        _spec(staggered_diagnostics="no")


def test_no_timing_role_no_section() -> None:
    spec = AnalysisSpec.from_dict({"data": {"dataset": "simulated_cantons"}})
    p = cp.datasets.load("simulated_cantons")
    assert staggered_diagnostics(spec, p, {}) is None


def _frame_panel(df: pd.DataFrame):
    return cp.load_panel(df, unit="state", time="year", outcome="deaths", treatment="law",
                         cohort="adopt_year", never_treated=0)


def test_non_binary_treatment_skips_the_twfe_diagnostics(panel) -> None:
    df = panel.to_frame()
    df["law"] = df["law"] * (0.5 + 0.5 * (df["state"] < "S10"))
    sec = staggered_diagnostics(_spec(), _frame_panel(df), {})
    assert sec.bacon is None and sec.weights is None
    reasons = dict(sec.skipped)
    assert "is not binary" in reasons["Goodman-Bacon decomposition"]
    assert "no model of the run has event-time effects" in reasons["HonestDiD sensitivity"]


def test_unbalanced_panel_skips_the_decomposition_only(panel) -> None:
    df = panel.to_frame().iloc[1:]
    sec = staggered_diagnostics(_spec(), _frame_panel(df), {})
    assert sec.bacon is None and sec.weights is not None
    assert "balanced" in dict(sec.skipped)["Goodman-Bacon decomposition"]


def test_negative_weights_caveat_severity(panel) -> None:
    w = cp.diagnostics.twfe_weights(panel, outcome="deaths", treatment="law")
    assert [c.severity for c in caveats(twfe_weights=w)] == ["high"]
    mild = dataclasses.replace(w, sum_negative=-0.05)
    assert [c.severity for c in caveats(twfe_weights=mild)] == ["medium"]
    none = dataclasses.replace(w, n_negative=0, sum_negative=0.0)
    assert caveats(twfe_weights=none) == []
    with pytest.raises(cp.exceptions.SpecError, match="twfe_weights"):
        caveats(twfe_weights="weights")


# ------------------------------------------------------------------ cp.table of designs
@pytest.fixture(scope="module")
def designs(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"TWFE ES": cp.event_study(panel, outcome="deaths"),
                "BJS": cp.did_imputation(panel, outcome="deaths")}


def test_table_orders_att_then_event_times(designs) -> None:
    terms = list(extract(designs).term_keys)
    assert terms[:5] == ["ATT", "event_lead4", "event_lead3", "event_lead2", "event_lag0"]
    lags = [t for t in terms if t.startswith("event_lag")]
    assert lags == [f"event_lag{k}" for k in range(len(lags))]


def test_table_markdown_of_two_designs(designs) -> None:
    md = cp.table(designs).to_markdown()
    assert "| Dependent variable |" in md and md.count("deaths") >= 2
    assert "Event time -4" in md and "event\\_lead" not in md
    assert md.index("| ATT") < md.index("| Event time -4") < md.index("| Event time 0 ")
    assert "Event time k: the effect k periods after treatment starts" in md
    assert "ATT: the average effect on the treated" in md


def test_table_html_and_latex_of_two_designs(designs) -> None:
    t = cp.table(designs)
    html, tex = t.to_html(), t.to_latex()
    assert "Event time -2" in html and "ATT" in html and "BJS" in html
    assert "Event time -2 & -7.427 &  \\\\" in tex
    assert "event\\_lead" not in tex
    # rename still wins over the default label
    assert "Lead 2" in cp.table(designs, rename={"event_lead2": "Lead 2"}).to_markdown()


def test_callaway_santanna_varying_base_is_skipped_universal_runs(panel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        varying = cp.callaway_santanna(panel, outcome="deaths", control_group="not_yet_treated")
        universal = cp.callaway_santanna(panel, outcome="deaths",
                                         control_group="not_yet_treated",
                                         base_period="universal")
    sec = staggered_diagnostics(_spec(), panel, {"CS": varying, "CS universal": universal})
    assert "base_period='universal'" in dict(sec.skipped)["HonestDiD sensitivity (CS)"]
    h = sec.honest["CS universal"]
    assert (h.num_pre, h.num_post) == (3, 4)
