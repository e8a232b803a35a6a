"""Event-study sentences: the path of effects and what a pre-trend test can and cannot show."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import causalpolicing as cp
from causalpolicing.report.narrative import caveats, describe_event_study, describe_pretrends


def _es(df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                              time="year", **kw)


def _frame(pretrend: float, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2012)
    df = pd.DataFrame({"unit": np.repeat(np.arange(80), len(years)),
                       "year": np.tile(years, 80)})
    df["first"] = np.repeat(rng.choice([0, 2005, 2007], 80), len(years))
    e = df["year"] - df["first"]
    treated = df["first"] > 0
    # a linear pre-trend of the treated units (violating parallel trends) plus an effect of 1
    df["y"] = (pretrend * np.where(treated, e, 0) + np.where(treated & (e >= 0), 1.0, 0.0)
               + rng.normal(size=len(df)))
    return df


def test_passing_test_still_says_what_it_cannot_show() -> None:
    res = _es(_frame(0.0), leads=3, lags=3)
    assert res.pretrend_test.p_value > 0.05
    first, caution = describe_pretrends(res)
    assert first.startswith("The leads (event times -3 to -2) are jointly not distinguishable")
    assert "little power" in caution and "Roth 2022" in caution and "HonestDiD" in caution
    assert "pretrends" not in [c.kind for c in caveats(res)]


def test_rejected_test_warns_and_raises_a_caveat() -> None:
    res = _es(_frame(0.5), leads=3, lags=3)
    assert res.pretrend_test.p_value < 0.05
    first, _ = describe_pretrends(res)
    assert "jointly different from zero" in first and "do not read them as causal" in first
    found = [c for c in caveats(res) if c.kind == "pretrends"]
    assert len(found) == 1 and found[0].severity == "high"


def test_event_study_sentence_gives_the_path() -> None:
    res = _es(_frame(0.0), leads=2, lags=2)
    sentence = describe_event_study(res)[0]
    assert "at event time 0" in sentence and "at event time 2" in sentence
    assert "relative to event time -1" in sentence
    assert "of the 3 post-treatment 95% confidence intervals exclude zero" in sentence


def test_poisson_paths_are_percent_changes() -> None:
    panel = cp.datasets.load("simulated_overdose_laws")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.event_study(panel, outcome="deaths", estimator="fepois", leads=2, lags=2)
    assert "%" in describe_event_study(res)[0]


def test_no_leads_no_pretrend_sentences() -> None:
    res = _es(_frame(0.0), leads=1, lags=2)  # the only lead is the reference
    assert res.pretrend_test is None
    assert describe_pretrends(res) == []


def test_report_uses_the_event_study_sentences() -> None:
    res = _es(_frame(0.5), leads=3, lags=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = cp.build_report(res)
    text = report.to_markdown() if hasattr(report, "to_markdown") else str(report)
    assert "Pretest with caution" in text
    assert "event_lead3 is associated" not in text
