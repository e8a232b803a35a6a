"""The report on real panels (issue 10, item 5): short panels, many units, binary treatments.

Feedback checks on a short panel run where they can and the report says which
could not run and why; figures adapt to the data (no dose-response for a binary
treatment, many units aggregated with a note, units in natural order); the
DoWhy estimand reads as text; building figures emits no matplotlib warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.diagnostics import feedback_report
from causalpolicing.report.document import build_report

GRANGER = "Granger (Dumitrescu-Hurlin)"


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def short_panel() -> cp.Panel:
    """The last 8 years of the bundled cantons: too short for the Granger test."""
    frame = cp.datasets.load("simulated_cantons").to_frame()
    frame = frame[frame["year"] > frame["year"].max() - 8]
    return _quiet(cp.load_panel, frame, unit="canton", time="year", outcome="deaths",
                  treatment="offences_per_1000", exposure="population")


@pytest.fixture(scope="module")
def short_feedback(short_panel):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rep = feedback_report(short_panel)
    return rep, [str(w.message) for w in caught]


# ------------------------------------------------------------ feedback checks
def test_short_panel_runs_the_checks_it_supports(short_feedback) -> None:
    rep, _ = short_feedback
    assert [t.name for t in rep.tests] == ["leads test", "reverse regression"]
    assert rep.granger is None
    assert [name for name, _ in rep.not_run] == [GRANGER]
    reason = rep.not_run[0][1]
    assert "needs more than 11 periods per unit" in reason
    assert "has 8 usable period(s)" in reason
    assert "too short for this test even with 1 lag" in reason


def test_short_panel_warns_about_the_check_not_run(short_feedback) -> None:
    _, messages = short_feedback
    assert sum(m.startswith(f"Feedback check not run ({GRANGER})") for m in messages) == 1


def test_feedback_frame_lists_the_check_not_run(short_feedback) -> None:
    frame = short_feedback[0].to_frame()
    assert frame["name"].tolist() == ["leads test", "reverse regression", GRANGER]
    row = frame.set_index("name").loc[GRANGER]
    assert row["verdict"] == "not checked"
    assert np.isnan(row["statistic"]) and np.isnan(row["p_value"])
    assert "needs more than 11 periods" in row["interpretation"]


def test_too_short_for_every_check_raises_with_each_reason() -> None:
    frame = cp.datasets.load("simulated_cantons").to_frame()
    frame = frame[frame["year"] > frame["year"].max() - 2]   # 2 periods
    panel = _quiet(cp.load_panel, frame, unit="canton", time="year", outcome="deaths",
                   treatment="offences_per_1000", exposure="population")
    with pytest.raises(cp.exceptions.SpecError, match="No feedback check could run") as info:
        _quiet(feedback_report, panel)
    for name in ("leads test", "reverse regression", GRANGER):
        assert f"{name}:" in str(info.value)


def test_invalid_arguments_still_raise() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with pytest.raises(cp.exceptions.SpecError, match="granger_lags must be a positive"):
        feedback_report(panel, granger_lags=0)
    with pytest.raises(cp.exceptions.SpecError, match="estimator must be 'feols', 'fepois'"):
        feedback_report(panel, estimator="ols")  # type: ignore[arg-type]


def test_report_lists_the_check_not_run_with_its_reason(short_panel, short_feedback) -> None:
    res = _quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", short_panel)
    rep = build_report(res, panel=short_panel, diagnostics=short_feedback[0],
                       provenance={"timestamp": "2026-01-01T00:00:00+00:00"})
    md = rep.markdown
    assert "Not checked in this report: feedback check 'Granger (Dumitrescu-Hurlin)'" in md
    assert "too short for this test even with 1 lag" in md.split("## Caveats")[1]
    assert "| Granger (Dumitrescu-Hurlin) |  |  | not checked |" in md


def test_report_without_feedback_checks_lists_feedback_as_not_checked(short_panel) -> None:
    # other diagnostics (a bootstrap table, the warnings) but no feedback check at all
    res = _quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", short_panel)
    rep = build_report(res, panel=short_panel,
                       diagnostics={"warnings raised while running":
                                    pd.DataFrame({"warning": ["DataWarning: x"]})},
                       provenance={"timestamp": "2026-01-01T00:00:00+00:00"})
    caveats = rep.markdown.split("## Caveats")[1]
    assert "feedback / reverse causality" in caveats
