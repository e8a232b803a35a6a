"""Tests of the plots (causalpolicing/report/plots).

What is checked against what (the numbers are read back from the drawn artists):

* **Coefficient plot**: the whisker end points equal ``res.conf_int(level)`` and the
  points ``res.params`` (absolute tolerance 1e-12); ``rate_ratio=True`` draws
  ``exp`` of both (relative 1e-12) and equals ``cp.rate_ratios(res, per=1)``, an
  independent implementation (relative 1e-12).
* **Event study**: estimates and band equal ``params``/``conf_int`` by event time
  (1e-12); the event times parsed from distributed-lag names equal those of
  ``DistributedLagResults.event_time()``; the reference period is drawn at (-1, 0).
* **Dose-response**: the curve equals ``exp(b (x - ref))`` and the band
  ``exp`` of the interval of ``b (x - ref)`` computed by hand from the t quantile
  (``scipy.stats.t``, independent of ``conf_int``; relative 1e-10) and, at the end of
  the range, ``cp.rate_ratios(res, per=x - ref)`` (relative 1e-12); linear models
  ``b (x - ref)`` with a symmetric band.
* **Counterfactual, panel overview, missingness**: line data equal the frame's
  columns (sorted by time), the mean line ``groupby(time).mean()`` (1e-12), the
  missingness image the state codes built by hand from the rows removed.
* **DAG**: node positions equal the layered layout computed by hand (generation ->
  x, sorted within a column -> y), latent nodes and their arrows are dashed.
* **Refutation**: histogram heights equal ``np.histogram(draws, "auto", density=True)``
  (1e-12), the density line ``scipy.stats.gaussian_kde`` (1e-12), the estimate line.
* **Export**: PNG magic bytes, SVG parses as XML with an ``<svg>`` root, data-URI
  prefixes decode to the same, output is byte-for-byte reproducible.
* **Errors**: every bad input raises ``SpecError``/``PanelError`` naming the problem.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import causalpolicing as cp
from causalpolicing.exceptions import ColumnNotFoundError, PanelError, SpecError
from causalpolicing.report.plots import (
    PALETTE,
    coefficient_plot,
    counterfactual_plot,
    dag_plot,
    dose_response_plot,
    event_study_plot,
    figure_to_data_uri,
    missingness_plot,
    panel_overview_plot,
    plot_style,
    refutation_plot,
    save_figure,
)
from causalpolicing.report.plots import dag as dag_module
from causalpolicing.report.plots._common import ratio_kind
from causalpolicing.report.plots.event_study import event_times
from causalpolicing.report.plots.missingness import missingness_matrix
from causalpolicing.results import BaseResults

FORMULA = "deaths ~ offences_per_1000 + unemployment | canton + year"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def panel() -> cp.Panel:
    return cp.datasets.load("simulated_cantons")


@pytest.fixture(scope="module")
def ols(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.feols(FORMULA, panel)


@pytest.fixture(scope="module")
def pois(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.fepois(FORMULA, panel)


@pytest.fixture(scope="module")
def dl(panel):
    """Distributed lags and leads (Poisson): event times -2..2, no omitted period."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.distributed_lag(panel, "deaths", "offences_per_1000", lags=2, leads=2,
                                  estimator="fepois")


@pytest.fixture(scope="module")
def dl_lags(panel):
    """Lags only (linear): event times 0..2, so -1 can be the reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.distributed_lag(panel, "deaths", "offences_per_1000", lags=2, leads=0)


def make_results(names, est, se, *, estimator="OLS", spec=None, df=None) -> BaseResults:
    return BaseResults(params=pd.Series(est, index=names, dtype=float),
                       cov=pd.DataFrame(np.diag(np.square(se)), names, names), nobs=100,
                       df_inference=df, cov_type="iid", estimator=estimator, spec=spec or {})


# ------------------------------------------------------------------- helpers
def by_gid(items, gid):
    found = [a for a in items if a.get_gid() == gid]
    assert len(found) == 1, [a.get_gid() for a in items]
    return found[0]


def band_bounds(coll, xs):
    """(low, high) of a fill_between band at each x (from the polygon's vertices)."""
    v = np.concatenate([p.vertices for p in coll.get_paths()])
    out = []
    for x in xs:
        ys = v[np.abs(v[:, 0] - x) <= 1e-12 * max(1.0, abs(x)), 1]
        assert ys.size, f"no band vertex at x={x}"
        out.append((ys.min(), ys.max()))
    return np.array(out)


def whiskers(ax, name):
    """Per term (top to bottom as drawn): (low, high, y) of a model's CI segments."""
    segs = by_gid(ax.collections, f"ci:{name}").get_segments()
    return np.array([[s[0, 0], s[1, 0], s[0, 1]] for s in segs])


# ------------------------------------------------------------ coefficient plot
def test_coefficient_whiskers_equal_conf_int(ols) -> None:
    fig = coefficient_plot(ols)
    w = whiskers(fig.axes[0], "1")
    ci = ols.conf_int(0.95)
    np.testing.assert_allclose(w[:, 0], ci["conf_low"].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(w[:, 1], ci["conf_high"].to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(w[:, 2], [1.0, 0.0])  # first term on top


def test_coefficient_points_equal_params(ols) -> None:
    fig = coefficient_plot(ols)
    pts = by_gid(fig.axes[0].lines, "estimate:1")
    np.testing.assert_allclose(pts.get_xdata(), ols.params.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pts.get_ydata(), [1.0, 0.0])


def test_coefficient_labels_and_reference_line(ols) -> None:
    fig = coefficient_plot(ols)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Estimate (95% CI)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["offences_per_1000", "unemployment"]
    assert list(by_gid(ax.lines, "reference").get_xdata()) == [0.0, 0.0]
    assert ax.get_legend() is None  # one model: no legend


def test_coefficient_level_is_used(ols) -> None:
    fig = coefficient_plot(ols, level=0.9)
    w = whiskers(fig.axes[0], "1")
    np.testing.assert_allclose(w[:, :2], ols.conf_int(0.9).to_numpy(), rtol=0, atol=1e-12)
    assert fig.axes[0].get_xlabel() == "Estimate (90% CI)"


def test_coefficient_models_dodged_side_by_side(ols, pois) -> None:
    fig = coefficient_plot({"OLS": ols, "Poisson": pois})
    ax = fig.axes[0]
    w_ols, w_pois = whiskers(ax, "OLS"), whiskers(ax, "Poisson")
    np.testing.assert_allclose(w_ols[:, :2], ols.conf_int().to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(w_pois[:, :2], pois.conf_int().to_numpy(), rtol=0, atol=1e-12)
    # same term row, the first model above the second, both within the row
    np.testing.assert_allclose(w_ols[:, 2] - w_pois[:, 2], [0.25, 0.25], rtol=0, atol=1e-12)
    np.testing.assert_allclose((w_ols[:, 2] + w_pois[:, 2]) / 2, [1.0, 0.0], atol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["OLS", "Poisson"]


def test_coefficient_sequence_named_like_tables(ols, pois) -> None:
    fig = coefficient_plot([ols, pois])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["(1)", "(2)"]


def test_coefficient_rate_ratio_exponentiates(pois) -> None:
    fig = coefficient_plot(pois, rate_ratio=True)
    ax = fig.axes[0]
    w = whiskers(ax, "1")
    rr = cp.rate_ratios(pois, per=1)  # independent implementation
    np.testing.assert_allclose(w[:, 0], rr["conf_low"], rtol=1e-12)
    np.testing.assert_allclose(w[:, 1], rr["conf_high"], rtol=1e-12)
    np.testing.assert_allclose(by_gid(ax.lines, "estimate:1").get_xdata(), rr["rate_ratio"],
                               rtol=1e-12)
    assert list(by_gid(ax.lines, "reference").get_xdata()) == [1.0, 1.0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Rate ratio (95% CI, log scale)"


def test_coefficient_terms_select_and_order_with_labels(ols) -> None:
    fig = coefficient_plot(ols, ["unemployment", "offences_per_1000"],
                           labels={"offences_per_1000": "Offences per 1,000"})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["unemployment", "Offences per 1,000"]
    np.testing.assert_allclose(by_gid(ax.lines, "estimate:1").get_xdata(),
                               ols.params[["unemployment", "offences_per_1000"]], atol=1e-12)


def test_coefficient_leaves_out_intercept_by_default() -> None:
    res = make_results(["Intercept", "x"], [5.0, 2.0], [1.0, 0.5])
    fig = coefficient_plot(res)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["x"]


def test_coefficient_intercept_when_asked() -> None:
    res = make_results(["Intercept", "x"], [5.0, 2.0], [1.0, 0.5])
    fig = coefficient_plot(res, terms=["Intercept", "x"])
    np.testing.assert_array_equal(by_gid(fig.axes[0].lines, "estimate:1").get_xdata(), [5, 2])


def test_coefficient_term_missing_in_one_model_is_skipped_there() -> None:
    a = make_results(["x", "w"], [1.0, 2.0], [0.1, 0.1])
    b = make_results(["x"], [3.0], [0.1])
    fig = coefficient_plot({"a": a, "b": b})
    ax = fig.axes[0]
    np.testing.assert_array_equal(by_gid(ax.lines, "estimate:b").get_xdata(), [3.0])
    np.testing.assert_array_equal(by_gid(ax.lines, "estimate:a").get_xdata(), [1.0, 2.0])


def test_coefficient_draws_on_given_axes(ols) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    out = coefficient_plot(ols, ax=ax)
    assert out is fig
    assert len(ax.collections) == 1


def test_coefficient_in_a_subfigure_returns_the_root_figure(ols) -> None:
    fig = Figure()
    ax = fig.subfigures(1, 2)[1].add_subplot()
    assert coefficient_plot(ols, ax=ax) is fig


def test_coefficient_unknown_term_lists_available(ols) -> None:
    with pytest.raises(SpecError, match=r"term 'offences' is not in the results\. Did you mean "
                       r"'offences_per_1000'\? Available terms: \['offences_per_1000', "
                       r"'unemployment'\]"):
        coefficient_plot(ols, "offences")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"terms": []}, "terms is empty"),
     ({"level": 1.5}, "level must be a number strictly between 0 and 1"),
     ({"labels": ["a"]}, "labels must be a mapping"),
     ({"rate_ratio": "yes"}, "rate_ratio must be True or False"),
     ({"terms": ["unemployment", "unemployment"]}, "listed twice"),
     ({"ax": "axes"}, "ax must be a matplotlib Axes")],
    ids=["empty-terms", "bad-level", "labels-not-mapping", "rate-ratio-not-bool", "duplicate",
         "ax-not-axes"],
)
def test_coefficient_bad_arguments(ols, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        coefficient_plot(ols, **kwargs)


@pytest.mark.parametrize(
    ("results", "match"),
    [({}, "empty mapping"), ([], "empty sequence"), ("res", "must be a results object"),
     ([1.0], r"results\[0\] must be a results object")],
    ids=["empty-mapping", "empty-list", "string", "list-of-floats"],
)
def test_coefficient_bad_results(results, match) -> None:
    with pytest.raises(SpecError, match=match):
        coefficient_plot(results)


def test_coefficient_non_finite_interval_is_an_error() -> None:
    res = make_results(["x"], [1.0], [np.nan])
    with pytest.raises(SpecError, match="term 'x' has a non-finite estimate or interval"):
        coefficient_plot(res)


# ----------------------------------------------------------------- event study
def test_event_study_points_and_band_equal_estimates(dl) -> None:
    fig = event_study_plot(dl, reference=None)
    ax = fig.axes[0]
    et = dl.event_time()  # rel_time, term, estimate, conf_low, conf_high in event order
    line = by_gid(ax.lines, "estimate")
    np.testing.assert_array_equal(line.get_xdata(), [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(line.get_ydata(), dl.params[et["term"]], rtol=0, atol=1e-12)
    ci = dl.conf_int()
    bounds = band_bounds(by_gid(ax.collections, "ci_band"), [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(bounds[:, 0], ci.loc[et["term"], "conf_low"], atol=1e-12)
    np.testing.assert_allclose(bounds[:, 1], ci.loc[et["term"], "conf_high"], atol=1e-12)
    assert not [ln for ln in ax.lines if ln.get_gid() == "reference"]


def test_event_study_reference_point_at_zero(dl_lags) -> None:
    fig = event_study_plot(dl_lags)
    ax = fig.axes[0]
    ref = by_gid(ax.lines, "reference")
    assert (list(ref.get_xdata()), list(ref.get_ydata())) == ([-1.0], [0.0])
    np.testing.assert_array_equal(by_gid(ax.lines, "estimate").get_xdata(), [0, 1, 2])
    # the band passes through the reference with zero width
    np.testing.assert_array_equal(band_bounds(by_gid(ax.collections, "ci_band"), [-1.0]),
                                  [[0.0, 0.0]])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "95% CI", "Estimate", "Reference period (-1)"]


def test_event_study_labels(dl, dl_lags) -> None:
    ax_pois = event_study_plot(dl, reference=None, level=0.9).axes[0]
    ax_ols = event_study_plot(dl_lags).axes[0]
    assert ax_pois.get_xlabel() == "Event time (periods relative to treatment)"
    assert ax_pois.get_ylabel() == "Coefficient (log rate ratio), 90% CI"
    assert ax_ols.get_ylabel() == "Coefficient, 95% CI"


def test_event_study_level_is_used(dl) -> None:
    fig = event_study_plot(dl, reference=None, level=0.8)
    terms = dl.event_time()["term"]
    bounds = band_bounds(by_gid(fig.axes[0].collections, "ci_band"), [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(bounds, dl.conf_int(0.8).loc[terms].to_numpy(), atol=1e-12)


def test_event_times_parsed_from_names_match_distributed_lag(dl) -> None:
    inner = dl.model  # plain FEPoisson results: no event_time, names x, x_lagK, x_leadK
    assert not hasattr(inner, "event_time")
    expected = dict(zip(dl.event_time()["term"], dl.event_time()["rel_time"], strict=True))
    assert event_times(inner) == expected
    assert event_times(dl) == expected


def test_event_study_from_parsed_names_equals_event_time_method(dl) -> None:
    a = by_gid(event_study_plot(dl.model, reference=None).axes[0].lines, "estimate")
    b = by_gid(event_study_plot(dl, reference=None).axes[0].lines, "estimate")
    np.testing.assert_array_equal(a.get_xydata(), b.get_xydata())


class _EventResults(BaseResults):
    """Results carrying an ``event_time`` mapping, as an event-study estimator would."""

    __slots__ = ()

    @property
    def event_time(self):
        return {"pre3": -3, "pre2": -2, "post0": 0, "post1": 1}


def test_event_study_uses_results_event_time_mapping() -> None:
    names = ["post1", "pre3", "post0", "pre2"]
    res = _EventResults(params=pd.Series([4.0, 1.0, 3.0, 2.0], index=names),
                        cov=pd.DataFrame(np.eye(4) * 0.01, names, names), nobs=50,
                        df_inference=None, cov_type="iid", estimator="OLS", spec={})
    line = by_gid(event_study_plot(res).axes[0].lines, "estimate")
    np.testing.assert_array_equal(line.get_xdata(), [-3, -2, 0, 1])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 2.0, 3.0, 4.0])


def test_event_study_user_mapping_wins_over_results() -> None:
    names = ["post1", "pre3", "post0", "pre2"]
    res = _EventResults(params=pd.Series([4.0, 1.0, 3.0, 2.0], index=names),
                        cov=pd.DataFrame(np.eye(4) * 0.01, names, names), nobs=50,
                        df_inference=None, cov_type="iid", estimator="OLS", spec={})
    assert event_times(res, {"post0": 5}) == {"post0": 5}


def test_event_study_terms_subset(dl) -> None:
    fig = event_study_plot(dl, terms=["offences_per_1000", "offences_per_1000_lag1"])
    np.testing.assert_array_equal(by_gid(fig.axes[0].lines, "estimate").get_xdata(), [0, 1])


def test_event_study_reference_with_a_coefficient_is_an_error(dl) -> None:
    with pytest.raises(SpecError, match=r"reference=-1 is the event time of the estimated term "
                       r"'offences_per_1000_lead1'.*reference=None"):
        event_study_plot(dl)


def test_event_study_without_event_times_is_an_error(ols) -> None:
    with pytest.raises(SpecError, match=r"Cannot tell the event time of the terms.*"
                       r"\['offences_per_1000', 'unemployment'\].*event_time="):
        event_study_plot(ols)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"event_time": {"nope": 1}}, r"event_time: term 'nope' is not in the results"),
     ({"event_time": {"offences_per_1000": 1.5}}, "must be an integer event time"),
     ({"event_time": {"offences_per_1000": 0, "unemployment": 0}},
      r"Several terms share event time\(s\) \[0\]"),
     ({"event_time": {"offences_per_1000": 0}, "terms": ["unemployment"]},
      r"terms \['unemployment'\] have no event time"),
     ({"event_time": {"offences_per_1000": 0}, "reference": "-1"},
      "reference must be an integer"),
     ({"event_time": {}}, "non-empty mapping")],
    ids=["unknown-term", "float-time", "duplicate-time", "term-without-time", "reference-str",
         "empty-mapping"],
)
def test_event_study_bad_arguments(ols, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        event_study_plot(ols, **kwargs)


def test_event_study_names_of_two_variables_are_ambiguous() -> None:
    res = make_results(["x", "x_lag1", "z", "z_lag1"], [1, 2, 3, 4], [1, 1, 1, 1])
    with pytest.raises(SpecError, match=r"lags/leads of several variables \(\['x', 'z'\]\)"):
        event_study_plot(res)


def test_event_study_terms_pick_one_of_two_variables() -> None:
    res = make_results(["x", "x_lag1", "z", "z_lag1"], [1, 2, 3, 4], [1, 1, 1, 1])
    line = by_gid(event_study_plot(res, terms=["z", "z_lag1"]).axes[0].lines, "estimate")
    np.testing.assert_array_equal(line.get_xydata(), [[0, 3], [1, 4]])


# --------------------------------------------------------------- dose-response
def test_dose_response_rate_ratio_band_by_hand(pois, panel) -> None:
    x_obs = panel.column("offences_per_1000").to_numpy()
    ref = 2.0
    fig = dose_response_plot(pois, "offences_per_1000", data=panel, reference=ref)
    ax = fig.axes[0]
    curve = by_gid(ax.lines, "effect")
    x = curve.get_xdata()
    np.testing.assert_allclose(x, np.linspace(x_obs.min(), x_obs.max(), 101), rtol=0, atol=0)
    b = pois.params["offences_per_1000"]
    se = pois.std_errors["offences_per_1000"]
    q = stats.t.ppf(0.975, pois.df_inference)  # independent of conf_int's code path
    d = x - ref
    np.testing.assert_allclose(curve.get_ydata(), np.exp(b * d), rtol=1e-12)
    bounds = band_bounds(by_gid(ax.collections, "ci_band"), x)
    np.testing.assert_allclose(bounds[:, 0], np.exp(b * d - q * se * np.abs(d)), rtol=1e-10)
    np.testing.assert_allclose(bounds[:, 1], np.exp(b * d + q * se * np.abs(d)), rtol=1e-10)


def test_dose_response_end_of_range_equals_rate_ratios(pois, panel) -> None:
    x_obs = panel.column("offences_per_1000").to_numpy()
    fig = dose_response_plot(pois, "offences_per_1000", values=x_obs)  # reference = minimum
    ax = fig.axes[0]
    per = x_obs.max() - x_obs.min()
    rr = cp.rate_ratios(pois, per={"offences_per_1000": per}).iloc[0]
    curve = by_gid(ax.lines, "effect")
    assert curve.get_ydata()[-1] == pytest.approx(rr["rate_ratio"], rel=1e-12)
    lo, hi = band_bounds(by_gid(ax.collections, "ci_band"), [x_obs.max()])[0]
    assert (lo, hi) == (pytest.approx(rr["conf_low"], rel=1e-12),
                        pytest.approx(rr["conf_high"], rel=1e-12))
    ref = by_gid(ax.lines, "reference")
    assert (list(ref.get_xdata()), list(ref.get_ydata())) == ([x_obs.min()], [1.0])


def test_dose_response_linear_model(ols, panel) -> None:
    ref = 4.0
    fig = dose_response_plot(ols, "offences_per_1000", data=panel.to_frame(), reference=ref,
                             n_points=11)
    ax = fig.axes[0]
    curve = by_gid(ax.lines, "effect")
    x = curve.get_xdata()
    b, se = ols.params["offences_per_1000"], ols.std_errors["offences_per_1000"]
    q = stats.t.ppf(0.975, ols.df_inference)
    np.testing.assert_allclose(curve.get_ydata(), b * (x - ref), rtol=1e-12, atol=1e-14)
    bounds = band_bounds(by_gid(ax.collections, "ci_band"), x)
    half = q * se * np.abs(x - ref)
    np.testing.assert_allclose(bounds[:, 0], b * (x - ref) - half, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bounds[:, 1], b * (x - ref) + half, rtol=1e-10, atol=1e-12)
    assert list(by_gid(ax.lines, "no_effect").get_ydata()) == [0.0, 0.0]
    assert ax.get_ylabel() == "Change in deaths vs. offences_per_1000 = 4 (95% CI)"
    assert ax.get_xlabel() == "offences_per_1000"


def test_dose_response_labels_rate_ratio(pois) -> None:
    ax = dose_response_plot(pois, "offences_per_1000", values=[1.0, 3.0], level=0.9).axes[0]
    assert ax.get_ylabel() == "Rate ratio vs. offences_per_1000 = 1 (90% CI)"
    assert list(by_gid(ax.lines, "no_effect").get_ydata()) == [1.0, 1.0]


@pytest.mark.parametrize(
    ("model", "rate_ratio", "expect_exp"),
    [("pois", False, False), ("ols", True, True), ("pois", None, True), ("ols", None, False)],
    ids=["poisson-forced-linear", "ols-forced-ratio", "poisson-auto", "ols-auto"],
)
def test_dose_response_rate_ratio_switch(request, model, rate_ratio, expect_exp) -> None:
    res = request.getfixturevalue(model)
    fig = dose_response_plot(res, "offences_per_1000", values=[0.0, 2.0], reference=0.0,
                             rate_ratio=rate_ratio, n_points=2)
    b = res.params["offences_per_1000"]
    y = by_gid(fig.axes[0].lines, "effect").get_ydata()
    np.testing.assert_allclose(y, np.exp([0, 2 * b]) if expect_exp else [0, 2 * b], rtol=1e-12)


@pytest.mark.parametrize(
    ("estimator", "spec", "kind"),
    [("FEPoisson", {}, "Rate ratio"), ("FENegBin", {}, "Rate ratio"),
     ("Negative Binomial", {}, "Rate ratio"), ("FEBinomial", {}, "Odds ratio"),
     ("OLS", {}, None), ("Custom", {"link": "log"}, "Rate ratio"),
     ("Custom", {"link": "logit"}, "Odds ratio"), ("FEOLS", {"link": None}, None)],
    ids=["poisson", "negbin", "negative-binomial", "binomial", "ols", "link-log",
         "link-logit", "link-none"],
)
def test_ratio_kind_detection(estimator, spec, kind) -> None:
    assert ratio_kind(make_results(["x"], [0.1], [0.01], estimator=estimator, spec=spec)) == kind


def test_dose_response_reference_inside_range_flips_band() -> None:
    res = make_results(["x"], [0.2], [0.1], estimator="FEPoisson")
    fig = dose_response_plot(res, "x", values=[0.0, 10.0], reference=5.0, n_points=3)
    bounds = band_bounds(by_gid(fig.axes[0].collections, "ci_band"), [0.0, 5.0, 10.0])
    q = stats.norm.ppf(0.975)  # df_inference=None: normal
    lo, hi = 0.2 - q * 0.1, 0.2 + q * 0.1
    np.testing.assert_allclose(bounds, np.exp([[-5 * hi, -5 * lo], [0, 0], [5 * lo, 5 * hi]]),
                               rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [({}, SpecError, r"needs the observed range of 'offences_per_1000': pass values="),
     ({"values": [1, 2], "data": "panel"}, SpecError, "not both"),
     ({"values": [2.0, 2.0]}, SpecError, "all 2.0; there is no range"),
     ({"values": [1.0, np.nan]}, SpecError, r"values has 1 non-finite value\(s\)"),
     ({"values": [1.0]}, SpecError, "at least 2 value"),
     ({"values": [1.0, 2.0], "reference": np.inf}, SpecError, "reference must be finite"),
     ({"values": [1.0, 2.0], "n_points": 1}, SpecError, "n_points must be an integer"),
     ({"data": pd.DataFrame({"x": [1.0, 2.0]})}, ColumnNotFoundError,
      r"data has no column 'offences_per_1000'")],
    ids=["no-range", "both", "constant", "nan", "one-value", "inf-reference", "n-points",
         "column-missing"],
)
def test_dose_response_bad_arguments(pois, panel, kwargs, exc, match) -> None:
    if isinstance(kwargs.get("data"), str):
        kwargs = {**kwargs, "data": panel}
    with pytest.raises(exc, match=match):
        dose_response_plot(pois, "offences_per_1000", **kwargs)


def test_dose_response_unknown_term(pois) -> None:
    with pytest.raises(SpecError, match=r"term: term 'offences_per_100' is not in the results\. "
                       r"Did you mean 'offences_per_1000'\?"):
        dose_response_plot(pois, "offences_per_100", values=[1, 2])


# -------------------------------------------------------------- counterfactual
@pytest.fixture(scope="module")
def cf_frame() -> pd.DataFrame:
    rng = np.random.default_rng(20260101)
    years = np.arange(2000, 2012)
    cf = 10 + 0.5 * (years - 2000) + rng.normal(0, 0.3, years.size)
    obs = cf - np.where(years >= 2006, 2.0, 0.0) + rng.normal(0, 0.3, years.size)
    frame = pd.DataFrame({"year": years, "y": obs, "synthetic": cf, "lo": cf - 1, "hi": cf + 1})
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)  # unsorted on purpose


def test_counterfactual_lines_band_and_start(cf_frame) -> None:
    before = cf_frame.copy()
    fig = counterfactual_plot(cf_frame, time="year", observed="y", counterfactual="synthetic",
                              lower="lo", upper="hi", treatment_start=2005.5)
    ax = fig.axes[0]
    s = cf_frame.sort_values("year")
    obs, cf = by_gid(ax.lines, "observed"), by_gid(ax.lines, "counterfactual")
    np.testing.assert_array_equal(obs.get_xdata(), s["year"])
    np.testing.assert_array_equal(obs.get_ydata(), s["y"])
    np.testing.assert_array_equal(cf.get_ydata(), s["synthetic"])
    np.testing.assert_allclose(band_bounds(by_gid(ax.collections, "interval"), s["year"]),
                               s[["lo", "hi"]].to_numpy(), rtol=0, atol=1e-12)
    assert list(by_gid(ax.lines, "treatment_start").get_xdata()) == [2005.5, 2005.5]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("year", "y")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Counterfactual interval", "Observed", "Counterfactual", "Treatment start"]
    pd.testing.assert_frame_equal(cf_frame, before)  # input not changed


def test_counterfactual_annual_periods_drawn_as_years(cf_frame) -> None:
    frame = cf_frame.assign(year=pd.PeriodIndex(cf_frame["year"].astype(str), freq="Y"))
    fig = counterfactual_plot(frame, time="year", observed="y", counterfactual="synthetic",
                              treatment_start="2006")
    np.testing.assert_array_equal(by_gid(fig.axes[0].lines, "observed").get_xdata(),
                                  np.arange(2000, 2012))
    assert list(by_gid(fig.axes[0].lines, "treatment_start").get_xdata()) == [2006, 2006]


def test_counterfactual_monthly_periods_drawn_as_timestamps() -> None:
    frame = pd.DataFrame({"month": pd.period_range("2020-01", periods=4, freq="M"),
                          "y": [1.0, 2.0, 3.0, 4.0], "cf": [1.0, 2.0, 4.0, 5.0]})
    fig = counterfactual_plot(frame, time="month", observed="y", counterfactual="cf",
                              treatment_start="2020-03")
    ax = fig.axes[0]
    assert list(by_gid(ax.lines, "observed").get_xdata()) == list(
        pd.date_range("2020-01-01", periods=4, freq="MS"))
    assert list(by_gid(ax.lines, "treatment_start").get_xdata()) == [
        pd.Timestamp("2020-03-01")] * 2


def test_counterfactual_one_panel_per_unit(panel) -> None:
    frame = panel.to_frame()
    frame = frame[frame["canton"].isin(["ZH", "BE", "TI"])].assign(cf=lambda d: d["deaths"] * 2)
    fig = counterfactual_plot(frame, time="year", observed="deaths", counterfactual="cf",
                              unit="canton", units=["ZH", "TI"],
                              treatment_start={"ZH": 1990})
    visible = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == ["ZH", "TI"]
    zh = frame[frame["canton"] == "ZH"]
    np.testing.assert_array_equal(by_gid(visible[0].lines, "observed").get_ydata(), zh["deaths"])
    np.testing.assert_array_equal(by_gid(visible[0].lines, "observed").get_xdata(),
                                  zh["year"].dt.year)
    assert [ln.get_gid() for ln in visible[1].lines] == ["observed", "counterfactual"]  # no start
    assert list(by_gid(visible[0].lines, "treatment_start").get_xdata()) == [1990, 1990]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [({"observed": "nope"}, ColumnNotFoundError, "observed='nope' is not a column of frame"),
     ({"lower": "lo"}, SpecError, "Pass both lower= and upper="),
     ({"unit": "year", "max_units": 5}, SpecError, "frame has 12 units in 'year'.*max_units=5"),
     ({"unit": "year", "units": [1999]}, SpecError, r"units \[1999\] are not in column 'year'"),
     ({"units": [2000]}, SpecError, "units= selects units of the unit= column"),
     ({"unit": "year", "units": [2000], "ax": "ax"}, SpecError, "ax= draws one panel"),
     ({"observed": "flag"}, SpecError, "observed='flag' must be a numeric column"),
     ({"observed": "inf"}, SpecError, r"observed='inf' holds \+/-inf in 1 row"),
     ({"max_units": 0}, SpecError, "max_units must be a positive integer")],
    ids=["missing-column", "lower-only", "too-many-units", "unknown-unit", "units-without-unit",
         "ax-with-unit", "non-numeric", "infinite", "max-units"],
)
def test_counterfactual_bad_arguments(cf_frame, kwargs, exc, match) -> None:
    frame = cf_frame.assign(flag=["a"] * len(cf_frame), inf=[np.inf] + [1.0] * (len(cf_frame) - 1))
    if isinstance(kwargs.get("ax"), str):
        kwargs = {**kwargs, "ax": Figure().add_subplot()}
    args = {"time": "year", "observed": "y", "counterfactual": "synthetic", **kwargs}
    with pytest.raises(exc, match=match):
        counterfactual_plot(frame, **args)


def test_counterfactual_duplicate_period_is_a_panel_error(cf_frame) -> None:
    frame = pd.concat([cf_frame, cf_frame.iloc[:1]])
    with pytest.raises(PanelError, match="appear more than once"):
        counterfactual_plot(frame, time="year", observed="y", counterfactual="synthetic")


def test_counterfactual_empty_frame(cf_frame) -> None:
    with pytest.raises(SpecError, match="frame has no rows"):
        counterfactual_plot(cf_frame.iloc[:0], time="year", observed="y",
                            counterfactual="synthetic")


# ------------------------------------------------------------------------- DAG
DAG_EDGES = [("prevalence", "enforcement"), ("prevalence", "deaths"),
             ("enforcement", "deaths"), ("budget", "enforcement"), ("treatment", "deaths")]


def node_texts(fig):
    return {t.get_gid()[5:]: t for t in fig.axes[0].texts if (t.get_gid() or "").startswith(
        "node:")}


def test_dag_layered_positions_by_hand() -> None:
    fig = dag_plot(DAG_EDGES, treatment="enforcement", outcome="deaths", layout="layered")
    pos = {n: t.get_position() for n, t in node_texts(fig).items()}
    # generations: {budget, prevalence, treatment} -> x=0, {enforcement} -> 1, {deaths} -> 2;
    # within a column sorted by name from the top, centred on 0
    assert pos == {"budget": (0.0, 1.0), "prevalence": (0.0, 0.0), "treatment": (0.0, -1.0),
                   "enforcement": (1.0, 0.0), "deaths": (2.0, 0.0)}


def test_dag_latent_nodes_and_their_arrows_dashed() -> None:
    fig = dag_plot(DAG_EDGES, latent=["prevalence"], layout="layered")
    styles = {n: t.get_bbox_patch().get_linestyle() for n, t in node_texts(fig).items()}
    assert styles == {"budget": "-", "prevalence": "--", "treatment": "-", "enforcement": "-",
                      "deaths": "-"}
    arrows = {t.get_gid(): t.arrow_patch.get_linestyle() for t in fig.axes[0].texts
              if (t.get_gid() or "").startswith("edge:")}
    assert arrows == {"edge:prevalence->enforcement": "--", "edge:prevalence->deaths": "--",
                      "edge:enforcement->deaths": "-", "edge:budget->enforcement": "-",
                      "edge:treatment->deaths": "-"}


def test_dag_treatment_and_outcome_highlighted() -> None:
    fig = dag_plot(DAG_EDGES, treatment="enforcement", outcome="deaths", layout="layered")
    faces = {n: mpl.colors.to_hex(t.get_bbox_patch().get_facecolor())
             for n, t in node_texts(fig).items()}
    assert faces == {"enforcement": PALETTE[0], "deaths": PALETTE[1], "budget": "#ffffff",
                     "prevalence": "#ffffff", "treatment": "#ffffff"}
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "Treatment", "Outcome"]


class _Graph:
    """Stands in for the causal-graph object: to_networkx() and a latent attribute."""

    latent = ("prevalence",)

    def to_networkx(self):
        return nx.DiGraph(DAG_EDGES)


@pytest.mark.parametrize(
    "graph", [DAG_EDGES, nx.DiGraph(DAG_EDGES), _Graph()],
    ids=["edge-list", "networkx", "to_networkx-object"],
)
def test_dag_accepts_graph_kinds(graph) -> None:
    fig = dag_plot(graph, layout="layered")
    assert set(node_texts(fig)) == {"prevalence", "enforcement", "deaths", "budget", "treatment"}


def test_dag_latent_attribute_of_graph_object_is_used() -> None:
    fig = dag_plot(_Graph(), layout="layered")
    assert node_texts(fig)["prevalence"].get_bbox_patch().get_linestyle() == "--"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
        "Latent (unobserved)"]


def test_dag_layout_mapping_used_verbatim() -> None:
    layout = {"a": (0.0, 0.0), "b": (3.0, 1.5)}
    fig = dag_plot([("a", "b")], layout=layout)
    assert {n: t.get_position() for n, t in node_texts(fig).items()} == layout


def test_dag_spring_layout_is_deterministic() -> None:
    a = {n: t.get_position() for n, t in node_texts(dag_plot(DAG_EDGES, layout="spring")).items()}
    b = {n: t.get_position() for n, t in node_texts(dag_plot(DAG_EDGES, layout="spring")).items()}
    assert a == b and set(a) == {"prevalence", "enforcement", "deaths", "budget", "treatment"}


def test_dag_auto_layout_without_graphviz_is_layered(monkeypatch) -> None:
    monkeypatch.setattr(dag_module, "_graphviz_available", lambda: False)
    auto = {n: t.get_position() for n, t in node_texts(dag_plot(DAG_EDGES)).items()}
    layered = {n: t.get_position()
               for n, t in node_texts(dag_plot(DAG_EDGES, layout="layered")).items()}
    assert auto == layered


def test_dag_graphviz_layout_unavailable_is_an_error(monkeypatch) -> None:
    monkeypatch.setattr(dag_module, "_graphviz_available", lambda: False)
    with pytest.raises(SpecError, match="layout='graphviz' needs pygraphviz or pydot"):
        dag_plot(DAG_EDGES, layout="graphviz")


@pytest.mark.parametrize(
    ("graph", "kwargs", "match"),
    [([("a", "b"), ("b", "a")], {}, r"graph has a cycle \(a -> b -> a\)"),
     ([], {}, "graph has no nodes"),
     (nx.Graph([("a", "b")]), {}, "graph must be directed"),
     ([("a", "b", "c")], {}, r"Each edge must be a \(cause, effect\) pair"),
     ("a->b", {}, "graph must be a networkx DiGraph"),
     ([("a", "b")], {"treatment": "x"}, r"treatment: node 'x' is not in the graph; nodes: "
      r"\['a', 'b'\]"),
     ([("a", "b")], {"treatment": "a", "outcome": "a"}, "both treatment and outcome"),
     ([("a", "b")], {"treatment": "a", "latent": ["a"]}, "latent .unobserved. and cannot be"),
     ([("a", "b")], {"layout": "circle"}, "layout must be one of"),
     ([("a", "b")], {"layout": {"a": (0, 0)}}, r"layout has no position for node\(s\) \['b'\]")],
    ids=["cycle", "empty", "undirected", "bad-edge", "string", "unknown-treatment",
         "treatment-is-outcome", "latent-treatment", "bad-layout", "layout-missing-node"],
)
def test_dag_bad_arguments(graph, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        dag_plot(graph, **kwargs)


# ------------------------------------------------------------------ refutation
class _Refutation:
    def __init__(self, draws, estimate, name, p_value=None):
        self.draws, self.estimate, self.name, self.p_value = draws, estimate, name, p_value


@pytest.fixture(scope="module")
def draws() -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, 0.02, 300)


def test_refutation_histogram_heights(draws) -> None:
    fig = refutation_plot(draws=draws, estimate=0.054, name="Placebo", p_value=0.004)
    ax = fig.axes[0]
    heights, edges = np.histogram(draws, bins="auto", density=True)
    bars = [p for p in ax.patches if p.get_gid() == "histogram"]
    np.testing.assert_allclose([b.get_height() for b in bars], heights, rtol=1e-12)
    np.testing.assert_allclose([b.get_x() for b in bars], edges[:-1], rtol=1e-12)


def test_refutation_kde_and_estimate_line(draws) -> None:
    ax = refutation_plot(draws=draws, estimate=0.054).axes[0]
    kde = by_gid(ax.lines, "kde")
    np.testing.assert_allclose(kde.get_ydata(), stats.gaussian_kde(draws)(kde.get_xdata()),
                               rtol=1e-12)
    assert kde.get_xdata().max() > 0.054  # the density is drawn out to the estimate
    assert list(by_gid(ax.lines, "estimate").get_xdata()) == [0.054, 0.054]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Estimate under the placebo / refutation",
                                                  "Density")


@pytest.mark.parametrize(
    ("name", "p", "title"),
    [("Placebo treatment", 0.004, "Placebo treatment (p = 0.004)"),
     ("Placebo treatment", None, "Placebo treatment"), (None, 0.5, "Refutation (p = 0.5)")],
    ids=["name-and-p", "name-only", "p-only"],
)
def test_refutation_title(draws, name, p, title) -> None:
    assert refutation_plot(_Refutation(draws, 0.05, name, p)).axes[0].get_title() == title


def test_refutation_sequence_gives_one_panel_each(draws) -> None:
    items = [_Refutation(draws, 0.05, "A", 0.01), _Refutation(draws * 2, -0.01, "B", 0.7),
             _Refutation(draws + 1, 1.0, "C")]
    fig = refutation_plot(items)
    visible = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == ["A (p = 0.01)", "B (p = 0.7)", "C"]
    assert list(by_gid(visible[1].lines, "estimate").get_xdata()) == [-0.01, -0.01]


def test_refutation_non_finite_draws_left_out_and_counted(draws) -> None:
    with_bad = np.concatenate([draws, [np.nan, np.inf]])
    ax = refutation_plot(draws=with_bad, estimate=0.05).axes[0]
    heights, _ = np.histogram(draws, bins="auto", density=True)
    bars = [p for p in ax.patches if p.get_gid() == "histogram"]
    np.testing.assert_allclose([b.get_height() for b in bars], heights, rtol=1e-12)
    assert ax.get_legend().get_texts()[0].get_text() == "Draws (n = 300; 2 non-finite left out)"


def test_refutation_constant_draws_have_no_kde() -> None:
    ax = refutation_plot(draws=[0.0, 0.0, 0.0], estimate=0.1).axes[0]
    assert [ln.get_gid() for ln in ax.lines] == ["estimate"]


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [((), {"draws": [0.1, 0.2]}, "needs a refutation object, or draws="),
     (("obj",), {"estimate": 0.1}, "not both"),
     ((), {"draws": [0.1, np.nan, np.inf], "estimate": 0.1},
      "needs at least 2 finite draws; got 1 of 3"),
     ((), {"draws": [[0.1, 0.2]], "estimate": 0.1}, "draws must be one-dimensional"),
     ((), {"draws": ["a", "b"], "estimate": 0.1}, "draws must be numbers"),
     (("no-draws",), {}, "refutation 'lead test' has no draws"),
     ((), {"draws": [0.1, 0.2], "estimate": np.inf}, "estimate must be finite"),
     ((), {"draws": [0.1, 0.2], "estimate": 0.1, "p_value": 1.2}, "p_value must be between"),
     (([],), {}, "empty list"),
     ((object(),), {}, "must be an object with draws/estimate/name"),
     (("list-ax",), {"ax": "ax"}, "2 refutations need 2")],
    ids=["draws-only", "both", "one-finite", "two-dim", "text", "no-draws", "inf-estimate",
         "bad-p", "empty", "object", "ax-with-list"],
)
def test_refutation_bad_arguments(draws, args, kwargs, match) -> None:
    if args == ("obj",):
        args = (_Refutation(draws, 0.1, "x"),)
    if args == ("no-draws",):
        args = (_Refutation(None, 0.1, "lead test", 0.3),)
    if args == ("list-ax",):
        args = ([_Refutation(draws, 0.1, "x"), _Refutation(draws, 0.1, "y")],)
    if isinstance(kwargs.get("ax"), str):
        kwargs = {**kwargs, "ax": Figure().add_subplot()}
    with pytest.raises(SpecError, match=match):
        refutation_plot(*args, **kwargs)


def test_refutation_object_missing_estimate(draws) -> None:
    class NoEstimate:
        def __init__(self):
            self.draws = draws

    with pytest.raises(SpecError, match="NoEstimate has no 'estimate'"):
        refutation_plot(NoEstimate())


# -------------------------------------------------------------- panel overview
def test_panel_overview_unit_lines_and_mean(panel) -> None:
    fig = panel_overview_plot(panel)
    frame = panel.to_frame()
    assert [a.get_ylabel() for a in fig.axes] == ["deaths", "offences_per_1000"]
    for ax, col in zip(fig.axes, ["deaths", "offences_per_1000"], strict=True):
        zh = by_gid(ax.lines, "unit:ZH")
        rows = frame[frame["canton"] == "ZH"]
        np.testing.assert_array_equal(zh.get_xdata(), rows["year"].dt.year)
        np.testing.assert_array_equal(zh.get_ydata(), rows[col])
        mean = frame.groupby(frame["year"].dt.year)[col].mean()
        m = by_gid(ax.lines, "mean")
        np.testing.assert_array_equal(m.get_xdata(), mean.index)
        np.testing.assert_allclose(m.get_ydata(), mean.to_numpy(), rtol=1e-12)
        assert sum(1 for ln in ax.lines if ln.get_gid().startswith("unit:")) == 26
    assert fig.axes[0].get_title() == "deaths by canton (26 units)"
    assert fig.axes[1].get_xlabel() == "year"


def test_panel_overview_max_units_draws_a_subset_but_means_all(panel) -> None:
    fig = panel_overview_plot(panel, max_units=3, treatment="substitution_coverage")
    ax = fig.axes[1]
    assert [ln.get_gid() for ln in ax.lines] == ["unit:AG", "unit:AI", "unit:AR", "mean"]
    frame = panel.to_frame()
    np.testing.assert_allclose(by_gid(ax.lines, "mean").get_ydata(),
                               frame.groupby("year")["substitution_coverage"].mean(), rtol=1e-12)
    assert ax.get_title() == ("substitution_coverage by canton (3 of 26 units drawn; mean over "
                              "all 26)")


def test_panel_overview_from_frame(panel) -> None:
    frame = panel.to_frame().assign(year=lambda d: d["year"].dt.year)
    fig = panel_overview_plot(frame, unit="canton", time="year", outcome="deaths")
    assert len(fig.axes) == 1
    np.testing.assert_array_equal(by_gid(fig.axes[0].lines, "unit:BE").get_ydata(),
                                  frame.loc[frame["canton"] == "BE", "deaths"])


@pytest.mark.parametrize(
    ("kind", "kwargs", "exc", "match"),
    [("frame", {"outcome": "deaths"}, SpecError, "pass unit='column' and time='column'"),
     ("frame", {"unit": "canton", "time": "year"}, SpecError, "Nothing to plot"),
     ("frame", {"unit": "canton", "time": "year", "outcome": "nope"}, ColumnNotFoundError,
      "outcome='nope' is not a column of the frame"),
     ("frame", {"unit": "canton", "time": "year", "outcome": "canton_name"}, SpecError,
      "Column 'canton_name' must be numeric"),
     ("panel", {"unit": "canton_name"}, SpecError, "differs from the Panel's unit role"),
     ("panel", {"max_units": 0}, SpecError, "max_units must be a positive integer"),
     ("dup", {"unit": "canton", "time": "year", "outcome": "deaths"}, PanelError,
      "two rows for one period"),
     ("list", {}, SpecError, "must be a Panel or a DataFrame")],
    ids=["frame-without-roles", "no-variables", "missing-column", "non-numeric",
         "conflicting-unit", "max-units", "duplicate-rows", "not-a-frame"],
)
def test_panel_overview_bad_arguments(panel, kind, kwargs, exc, match) -> None:
    frame = panel.to_frame()
    data = {"frame": frame, "panel": panel, "dup": pd.concat([frame, frame.iloc[:1]]),
            "list": [1, 2]}[kind]
    with pytest.raises(exc, match=match):
        panel_overview_plot(data, **kwargs)


# ----------------------------------------------------------------- missingness
@pytest.fixture(scope="module")
def gappy(panel):
    """simulated_cantons with 2 rows dropped by the loader (missing values) and 3 rows absent."""
    f = panel.to_frame().assign(year=lambda d: d["year"].dt.year)
    f.loc[3, "deaths"] = np.nan  # AG 1978 -> dropped (missing outcome)
    f.loc[40, "unemployment"] = np.nan  # AI 1982 -> dropped (missing covariate)
    f = f.drop(index=[7, 100, 101])  # AG 1982, BE 1976, BE 1977 -> no row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(f, unit="canton", time="year", outcome={"deaths": "count"},
                             treatment="offences_per_1000", covariates=["unemployment"])


def test_missingness_image_codes_by_hand(gappy, panel) -> None:
    fig = missingness_plot(gappy)
    img = by_gid(fig.axes[0].get_images(), "missingness")
    expected = np.zeros((26, 33), dtype=int)
    units = sorted(panel.units.tolist())
    cell = {(u, y): (units.index(u), y - 1975) for u in units for y in range(1975, 2008)}
    expected[cell["AG", 1978]] = 3
    expected[cell["AI", 1982]] = 3
    expected[cell["AG", 1982]] = 2
    expected[cell["BE", 1976]] = 2
    expected[cell["BE", 1977]] = 2
    np.testing.assert_array_equal(np.asarray(img.get_array()), expected)
    ax = fig.axes[0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [  # below the axes
        "present (853)", "missing value (0)", "no row (3)", "dropped (2)"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("year", "canton")
    assert ax.get_title() == "Data coverage: 26 units x 33 periods"


def test_missingness_frame_with_missing_values_and_drop_log() -> None:
    frame = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 4],
                          "y": [1.0, np.nan, 2.0, 3.0], "x": [1.0, 1.0, np.nan, 1.0]})
    log = pd.DataFrame({"u": ["b", "c", None], "t": [3, 2, 1]})
    codes, unplaced = missingness_matrix(frame, unit="u", time="t", drop_log=log)
    assert codes.index.tolist() == ["a", "b", "c"] and codes.columns.tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(codes.to_numpy(), [[0, 1, 2, 2], [1, 2, 3, 0], [2, 3, 2, 2]])
    assert unplaced == 1
    fig = missingness_plot(frame, unit="u", time="t", drop_log=log)
    assert fig.axes[0].get_title() == ("Data coverage: 3 units x 4 periods\n(1 dropped row(s) "
                                       "without a readable unit/time not shown)")


def test_missingness_columns_restrict_the_check() -> None:
    frame = pd.DataFrame({"u": ["a", "a"], "t": [1, 2], "y": [1.0, 2.0], "x": [np.nan, 1.0]})
    codes, _ = missingness_matrix(frame, unit="u", time="t", columns=["y"])
    np.testing.assert_array_equal(codes.to_numpy(), [[0, 0]])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [({"columns": ["nope"]}, ColumnNotFoundError, r"columns\[0\]='nope' is not a column"),
     ({"columns": "y"}, SpecError, "columns must be a list"),
     ({"drop_log": "log"}, SpecError, "drop_log must be a DataFrame"),
     ({"drop_log": pd.DataFrame({"unit": ["a"]})}, ColumnNotFoundError,
      "time='t' is not a column of drop_log")],
    ids=["unknown-column", "columns-str", "drop-log-type", "drop-log-without-time"],
)
def test_missingness_bad_arguments(kwargs, exc, match) -> None:
    frame = pd.DataFrame({"u": ["a"], "t": [1], "y": [1.0]})
    with pytest.raises(exc, match=match):
        missingness_plot(frame, unit="u", time="t", **kwargs)


# ---------------------------------------------------------------------- export
@pytest.fixture(scope="module")
def small_fig(ols) -> Figure:
    return coefficient_plot(ols)


def test_save_png_magic_bytes(small_fig, tmp_path) -> None:
    out = save_figure(small_fig, tmp_path / "coef.png")
    assert out == tmp_path / "coef.png"
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_save_svg_parses_as_xml(small_fig, tmp_path) -> None:
    out = save_figure(small_fig, str(tmp_path / "coef.SVG"))
    text = out.read_text()
    assert "<svg" in text
    assert ET.fromstring(text.encode()).tag == "{http://www.w3.org/2000/svg}svg"


def test_save_format_without_extension(small_fig, tmp_path) -> None:
    out = save_figure(small_fig, tmp_path / "coef", format="png")
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_save_is_reproducible(small_fig, tmp_path) -> None:
    a = save_figure(small_fig, tmp_path / "a.svg").read_bytes()
    b = save_figure(small_fig, tmp_path / "b.svg").read_bytes()
    assert a == b


@pytest.mark.parametrize(
    ("path", "kwargs", "match"),
    [("coef.pdf", {}, r"the extension of path must be one of \['png', 'svg'\]; got 'pdf'"),
     ("coef", {}, "has no extension"),
     ("coef.png", {"format": "svg"}, "contradicts the extension"),
     ("coef.png", {"format": "jpg"}, r"format must be one of \['png', 'svg'\]"),
     ("coef.png", {"dpi": 0}, "dpi must be a number between 10 and 1200"),
     ("missing/coef.png", {}, "does not exist")],
    ids=["pdf", "no-extension", "contradiction", "jpg", "dpi", "missing-folder"],
)
def test_save_bad_arguments(small_fig, tmp_path, path, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        save_figure(small_fig, tmp_path / path, **kwargs)


def test_save_needs_a_figure(tmp_path) -> None:
    with pytest.raises(SpecError, match="fig must be a matplotlib Figure"):
        save_figure("fig", tmp_path / "x.png")


def test_data_uri_png(small_fig) -> None:
    uri = figure_to_data_uri(small_fig)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == PNG_MAGIC


def test_data_uri_svg(small_fig) -> None:
    uri = figure_to_data_uri(small_fig, "svg")
    assert uri.startswith("data:image/svg+xml;base64,")
    root = ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_data_uri_bad_format(small_fig) -> None:
    with pytest.raises(SpecError, match=r"format must be one of \['png', 'svg'\]; got 'gif'"):
        figure_to_data_uri(small_fig, "gif")


# ---------------------------------------------------------------- global state
def test_plots_leave_rcparams_and_pyplot_alone(ols, dl, panel, draws) -> None:
    before = dict(mpl.rcParams)
    figs_before = plt.get_fignums()
    figs = [coefficient_plot(ols), event_study_plot(dl, reference=None),
            dose_response_plot(ols, "offences_per_1000", data=panel),
            dag_plot(DAG_EDGES, layout="layered"), refutation_plot(draws=draws, estimate=0.0),
            panel_overview_plot(panel, max_units=2), missingness_plot(panel)]
    assert all(isinstance(f, Figure) for f in figs)
    assert plt.get_fignums() == figs_before
    after = dict(mpl.rcParams)
    assert {k: (before[k], after[k]) for k in before if before[k] != after[k]} == {}


def test_plot_style_applies_whitegrid_inside_only() -> None:
    grid_before = mpl.rcParams["axes.grid"]
    with plot_style():
        inside = (mpl.rcParams["axes.grid"], mpl.rcParams["axes.facecolor"])
    assert inside == (True, "white")
    assert mpl.rcParams["axes.grid"] == grid_before


def test_import_causalpolicing_does_not_load_matplotlib() -> None:
    code = ("import sys, causalpolicing, causalpolicing.report; "
            "print(sorted(m for m in ('matplotlib', 'seaborn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    assert out.stdout.strip() == "[]"
