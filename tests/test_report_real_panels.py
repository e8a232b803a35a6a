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


# -------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def wide_panel() -> cp.Panel:
    """545 units x 8 years with numeric-like unit codes and a 0/1 treatment (as wage_panel)."""
    rng = np.random.default_rng(10)
    units = rng.choice(np.arange(10, 12_500), size=545, replace=False)
    frame = pd.DataFrame([(str(u), y) for u in units for y in range(1980, 1988)],
                         columns=["nr", "year"])
    frame["union"] = rng.integers(0, 2, len(frame))
    frame["lwage"] = 1.5 + 0.08 * frame["union"] + rng.normal(0, 0.3, len(frame))
    return _quiet(cp.load_panel, frame, unit="nr", time="year", outcome="lwage",
                  treatment="union")


def _spec(figures: list[str]) -> cp.AnalysisSpec:
    return cp.AnalysisSpec.from_dict({"data": {"dataset": "simulated_cantons"},
                                      "report": {"figures": figures}})


def test_no_dose_response_for_a_binary_treatment(wide_panel) -> None:
    from causalpolicing.analysis.figures import draw_figures

    res = _quiet(cp.feols, "lwage ~ union | nr + year", wide_panel)
    figs = draw_figures(_spec(["coefficients", "dose_response"]), wide_panel, {"FE": res}, {})
    assert list(figs) == ["Coefficients of the linear models"]


def test_dose_response_kept_for_a_continuous_treatment() -> None:
    from causalpolicing.analysis.figures import draw_figures

    panel = cp.datasets.load("simulated_cantons")
    res = _quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year", panel)
    figs = draw_figures(_spec(["dose_response"]), panel, {"FE": res}, {})
    assert list(figs) == ["Dose-response: offences_per_1000 (FE)"]


def test_units_in_natural_order() -> None:
    from causalpolicing.report.plots.missingness import missingness_matrix

    frame = pd.DataFrame({"u": ["10043", "10441", "1094", "209", "13"], "t": [1] * 5,
                          "y": [1.0] * 5})
    codes, _ = missingness_matrix(frame, unit="u", time="t")
    assert codes.index.tolist() == ["13", "209", "1094", "10043", "10441"]
    mixed = pd.DataFrame({"u": ["unit 10", "unit 2", "AG"], "t": [1] * 3, "y": [1.0] * 3})
    codes, _ = missingness_matrix(mixed, unit="u", time="t")
    assert codes.index.tolist() == ["AG", "unit 2", "unit 10"]


def test_panel_overview_draws_the_first_units_in_natural_order(wide_panel) -> None:
    from causalpolicing.report.plots import panel_overview_plot

    fig = panel_overview_plot(wide_panel, max_units=5)
    drawn = [ln.get_gid()[5:] for ln in fig.axes[0].get_lines()
             if (ln.get_gid() or "").startswith("unit:")]
    numbers = sorted(int(u) for u in wide_panel.to_frame()["nr"].unique())
    assert [int(u) for u in drawn] == numbers[:5]
    assert "(5 of 545 units drawn" in fig.axes[0].get_title()


def test_many_units_coverage_is_aggregated_and_says_so(wide_panel) -> None:
    from causalpolicing.report.plots import missingness_plot

    fig = missingness_plot(wide_panel)
    ax = fig.axes[0]
    assert ax.get_images() == []  # no 545-row map
    assert "share of units per period" in ax.get_title()
    present = [p.get_height() for p in ax.patches if p.get_gid() == "share:present"]
    assert present == pytest.approx([1.0] * 8, abs=1e-12)
    # every period labelled once, no overlap at 8 periods
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in range(1980, 1988)]


def test_few_units_keep_the_map_with_thinned_ticks() -> None:
    from causalpolicing.report.plots import missingness_plot

    fig = missingness_plot(cp.datasets.load("simulated_cantons"))
    ax = fig.axes[0]
    assert len(ax.get_images()) == 1
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert 5 <= len(labels) < 33 and labels[0] == "1975"


def test_building_and_rendering_figures_emits_no_matplotlib_warning(wide_panel) -> None:
    from causalpolicing.analysis.figures import draw_figures
    from causalpolicing.report.document._figures import render_figure

    res = _quiet(cp.feols, "lwage ~ union | nr + year", wide_panel)
    spec = _spec(["coefficients", "dose_response", "panel_overview", "missingness"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figs = draw_figures(spec, wide_panel, {"FE": res}, {})
        for i, (caption, fig) in enumerate(figs.items()):
            render_figure(fig, caption, i + 1, "png", dpi=50)
            render_figure(fig, caption, i + 1, "svg")
    mpl_warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                    and "layout" in str(w.message).lower()]
    assert mpl_warnings == []
    assert len(figs) == 3


def test_refutations_in_one_column_for_the_report() -> None:
    from causalpolicing.report.plots import refutation_plot

    rng = np.random.default_rng(1)
    items = [type("R", (), {"draws": rng.normal(0, 1, 50), "estimate": 0.5, "name": f"r{i}",
                            "p_value": 0.3})() for i in range(4)]
    fig = refutation_plot(items, ncols=1)
    boxes = [a.get_position() for a in fig.axes]
    assert len({round(b.x0, 6) for b in boxes}) == 1  # one column
    width, _ = fig.get_size_inches()
    assert width <= 6.0
    with pytest.raises(cp.exceptions.SpecError, match="ncols must be a positive integer"):
        refutation_plot(items, ncols=0)


def test_dag_long_labels_wrapped_and_figure_narrow() -> None:
    from causalpolicing.report.plots import dag_plot

    edges = [("budget_shock", "offences_per_1000"), ("deaths_per_100k_lag2", "offences_per_1000"),
             ("offences_per_1000", "deaths_per_100k"),
             ("neighbour_offences_per_1000", "deaths_per_100k"),
             ("substitution_coverage", "deaths_per_100k_lag2"),
             ("substitution_coverage", "deaths_per_100k"), ("unemployment", "deaths_per_100k")]
    fig = dag_plot(edges, treatment="offences_per_1000", outcome="deaths_per_100k",
                   layout="layered")
    texts = {t.get_gid()[5:]: t.get_text() for t in fig.axes[0].texts
             if (t.get_gid() or "").startswith("node:")}
    assert texts["neighbour_offences_per_1000"] == "neighbour_\noffences_per_\n1000"
    assert max(len(line) for t in texts.values() for line in t.split("\n")) <= 14
    assert fig.get_size_inches()[0] <= 8.0  # was 13.9 inches: unreadable at 390 px


def test_wide_figures_scroll_instead_of_shrinking_on_a_phone() -> None:
    from causalpolicing.report.document._figures import ReportFigure

    assert ReportFigure("a", "f.png", "image/png", b"", width_in=10.0).min_width_px == 500
    assert ReportFigure("a", "f.png", "image/png", b"", width_in=6.4).min_width_px is None
    res = _quiet(cp.feols, "deaths ~ offences_per_1000 | canton + year",
                 cp.datasets.load("simulated_cantons"))
    from matplotlib.figure import Figure

    wide = Figure(figsize=(10, 3))
    wide.add_subplot().plot([0, 1], [0, 1])
    rep = build_report(res, figures={"Wide": wide},
                       provenance={"timestamp": "2026-01-01T00:00:00+00:00"})
    assert 'class="cp-figure-scroll"' in rep.html
    assert "min-width: min(" in rep.html


# ------------------------------------------------------------------- estimand
def test_estimand_is_plain_text() -> None:
    from causalpolicing.graph import CausalGraph, identify

    g = CausalGraph([("budget_shock", "offences_per_1000"),
                     ("deaths_per_100k_lag2", "offences_per_1000"),
                     ("deaths_per_100k_lag2", "deaths_per_100k"),
                     ("offences_per_1000", "deaths_per_100k")])
    text = identify(g, "offences_per_1000", "deaths_per_100k").estimand_text
    assert text.splitlines()[0] == ("Back door: d/d[offences_per_1000] "
                                    "E[deaths_per_100k | deaths_per_100k_lag2]")
    assert "Instrument: E[d/d[budget_shock] deaths_per_100k] / " \
           "E[d/d[budget_shock] offences_per_1000]" in text
    assert not any(ch in text for ch in "ₚₑᵣ─⎡⎣")  # no sympy drawing


def test_analysis_report_shows_the_readable_estimand() -> None:
    import tomllib

    from causalpolicing.spec import default_spec

    d = tomllib.loads(default_spec().to_toml())   # the bundled analysis, cut to the graph
    d["models"] = [{**d["models"][0], "bootstrap": 0}]
    d["diagnostics"]["feedback"] = False
    d["causal"].update(refute=[], implications=False, sensitivity=False)
    d["report"]["figures"] = []
    spec = cp.AnalysisSpec.from_dict(d)
    result = _quiet(cp.analyze, spec)
    summary = result.causal["graph_summary"]
    assert "Estimand (DoWhy)" not in summary
    assert summary["Estimand"].startswith("Back door: d/d[offences_per_1000] E[")
    assert "ₚₑᵣ" not in result.report.markdown


# -------------------------------------------------------- covariance labels
def test_report_shows_covariance_labels_in_full() -> None:
    # guard (passes before and after): the label carrying the small-sample convention
    # ('CRV1 by nr (stata_xtreg)', inference/vcov.py) is shown whole in every format
    from causalpolicing.results import BaseResults

    def fit(se: float, label: str) -> BaseResults:
        return BaseResults(params=pd.Series({"union": 0.08}),
                           cov=pd.DataFrame([[se ** 2]], ["union"], ["union"]), nobs=4360,
                           df_inference=544, cov_type=label, estimator="FEOLS", spec={},
                           n_clusters=545)

    labels = ["CRV1 by nr", "CRV1 by nr (stata_xtreg)"]
    rep = build_report({"fixest": fit(0.0227, labels[0]), "Stata": fit(0.0229, labels[1])},
                       provenance={"timestamp": "2026-01-01T00:00:00+00:00"})
    row = next(line for line in rep.markdown.splitlines() if line.startswith("| Std. errors"))
    assert [c.strip().replace("\\_", "_") for c in row.strip("|").split("|")][1:] == labels
    assert "CRV1 by nr (stata_xtreg)</td>" in rep.html
