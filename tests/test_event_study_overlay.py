"""Overlaid event-study plots with pointwise and uniform bands (report/plots/event_study.py)."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.inference.bands import sup_t_critical_value
from causalpolicing.report.plots import event_study_plot

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def fits() -> tuple[cp.EventStudyResults, cp.EventStudyResults]:
    rng = np.random.default_rng(2)
    years = np.arange(2000, 2012)
    df = pd.DataFrame({"unit": np.repeat(np.arange(60), len(years)),
                       "year": np.tile(years, 60)})
    df["first"] = np.repeat(rng.choice([0, 2004, 2006, 2008], 60), len(years))
    df["y"] = ((df["first"] > 0) & (df["year"] >= df["first"])) + rng.normal(size=len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                           time="year", leads=3, lags=3)
        b = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                           time="year", leads=2, lags=4, ref=-2)
    return a, b


def _gid(ax, gid: str):
    found = [a for a in [*ax.lines, *ax.collections] if a.get_gid() == gid]
    assert found, f"no artist {gid!r}"
    return found[0]


def test_single_results_keep_the_old_figure(fits) -> None:
    fig = event_study_plot(fits[0], reference=-1)
    ax = fig.axes[0]
    assert [float(v) for v in _gid(ax, "estimate").get_xdata()] == [-3, -2, 0, 1, 2, 3]
    _gid(ax, "ci_band"), _gid(ax, "reference"), _gid(ax, "zero"), _gid(ax, "onset")
    assert not [c for c in ax.collections if c.get_gid() == "uniform_band"]


def test_single_results_uniform_band_is_sup_t(fits) -> None:
    res = fits[0]
    ax = event_study_plot(res, reference=-1, band="both").axes[0]
    band = _gid(ax, "uniform_band").get_paths()[0].vertices
    terms = list(res.lead_terms + res.lag_terms)
    c = sup_t_critical_value(res.cov.loc[terms, terms])
    top = res.params[terms].max() + c * res.std_errors[terms].max()
    assert band[:, 1].max() <= top + 1e-9
    pointwise = _gid(ax, "ci_band").get_paths()[0].vertices
    assert band[:, 1].max() > pointwise[:, 1].max()  # wider than the pointwise band


def test_overlay_dodges_and_uses_each_reference(fits) -> None:
    fig = event_study_plot({"TWFE": fits[0], "TWFE ref -2": fits[1]}, band="both")
    ax = fig.axes[0]
    x1 = np.asarray(_gid(ax, "estimate:TWFE").get_xdata())
    x2 = np.asarray(_gid(ax, "estimate:TWFE ref -2").get_xdata())
    assert np.all(x1 < np.round(x1)) and np.all(x2 > np.round(x2))  # dodged left and right
    assert float(_gid(ax, "reference:TWFE").get_xdata()[0]) < -1 < float(
        _gid(ax, "reference:TWFE ref -2").get_xdata()[0]) + 1
    _gid(ax, "uniform_band:TWFE"), _gid(ax, "ci_band:TWFE ref -2")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["TWFE", "TWFE ref -2"]


def test_overlay_prefers_the_results_own_uniform_band(fits) -> None:
    res = fits[0]

    class WithBand:
        params, cov, std_errors, spec, estimator = (res.params, res.cov, res.std_errors,
                                                    res.spec, "CS")

        def conf_int(self, level=0.95):
            return res.conf_int(level)

        @property
        def event_time(self):
            et = res.event_time.copy()
            et["band_low"], et["band_high"] = et["estimate"] - 10, et["estimate"] + 10
            return et

    ax = event_study_plot([WithBand()], band="uniform").axes[0]
    seg = _gid(ax, "uniform_band:CS (1)").get_segments()[0]
    assert seg[1, 1] - seg[0, 1] == pytest.approx(20)


def test_list_and_bad_band(fits) -> None:
    assert event_study_plot(list(fits)).axes[0].get_legend() is not None
    with pytest.raises(SpecError, match="band must be one of"):
        event_study_plot(fits[0], band="simultaneous")


def test_analysis_report_overlays_every_design_fit(tmp_path) -> None:
    rng = np.random.default_rng(4)
    years = np.arange(2000, 2010)
    df = pd.DataFrame({"unit": np.repeat(np.arange(40), len(years)),
                       "year": np.tile(years, 40)})
    df["first"] = np.repeat(rng.choice([0, 2004, 2006], 40), len(years))
    df["law"] = ((df["first"] > 0) & (df["year"] >= df["first"])).astype(int)
    df["y"] = df["law"] + rng.normal(size=len(df))
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    spec = {"data": {"path": str(path), "unit": "unit", "time": "year", "outcome": "y",
                     "treatment": "law", "cohort": "first", "never_treated": 0},
            "models": [{"name": "ES", "estimator": "event_study", "leads": 2, "lags": 2},
                       {"name": "ES wide", "estimator": "event_study", "leads": 3, "lags": 4,
                        "ref": -2}],
            "diagnostics": {"feedback": False}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = cp.analyze(spec)
    captions = [c for c in analysis.figures if c.startswith("Event study")]
    assert captions == ["Event study: effects on y by periods since treatment, ES, ES wide"]
    ax = analysis.figures[captions[0]].axes[0]
    _gid(ax, "estimate:ES"), _gid(ax, "uniform_band:ES wide")
