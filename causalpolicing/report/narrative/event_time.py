"""Sentences for event studies: the path of effects, and what a pre-trend test can and cannot show.

A test that the leads are jointly zero is read too often as proof of parallel
trends. The sentences here say what it shows and what it does not: such tests
often have little power against violations large enough to bias the estimates,
and analyses reported only when the test passes have distorted estimates and
confidence intervals (Roth 2022, "Pretest with caution: event-study estimates
after testing for parallel trends", *AER: Insights* 4(3), 305-322); bounding the
violation (Rambachan and Roth 2023, HonestDiD) is the robust check. When the
test rejects, the post-treatment effects are not to be read as causal.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_overdose_laws")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     es = cp.event_study(panel, outcome="deaths", estimator="fepois", leads=3, lags=3)
>>> print(describe_pretrends(es)[0])  # doctest: +ELLIPSIS
The leads (event times -3 to -2) are jointly different from zero (F = 23.66, p < 0.001)...
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..._hints import check_level

__all__ = ["ROTH_2022", "describe_event_study", "describe_pretrends", "pretrend_rejects"]

ROTH_2022 = "Roth 2022, 'Pretest with caution', AER: Insights"
_CAUTION = (
    "A pre-trend test cannot show that trends would have stayed parallel after treatment: "
    "it often has little power against violations large enough to bias the effects, and "
    "estimates reported only because the test passed have distorted point estimates and "
    f"confidence intervals ({ROTH_2022}). Bounding how far the post-treatment trend may "
    "depart from the pre-treatment one (HonestDiD, Rambachan and Roth 2023) is the robust "
    "check.")


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _leads(results: Any) -> list[int]:
    et = getattr(results, "event_time", None)
    if not isinstance(et, pd.DataFrame) or "event_time" not in et.columns:
        return []
    ref = et["reference"].astype(bool) if "reference" in et.columns else False
    return sorted(int(e) for e in et.loc[(et["event_time"] < 0) & ~ref, "event_time"])


def pretrend_rejects(results: Any, alpha: float = 0.05) -> bool | None:
    """Whether the results' pre-trend test rejects at ``alpha`` (None without a test)."""
    test = getattr(results, "pretrend_test", None)
    p = getattr(test, "p_value", None)
    if p is None or not math.isfinite(float(p)):
        return None
    return float(p) < alpha


def describe_pretrends(results: Any, alpha: float = 0.05) -> list[str]:
    """What the pre-trend test of an event study shows, and what it cannot show.

    Returns no sentence for results without ``pretrend_test`` (or without leads).
    """
    test = getattr(results, "pretrend_test", None)
    if test is None or getattr(test, "p_value", None) is None:
        return []
    leads = _leads(results)
    span = (f" (event times {leads[0]} to {leads[-1]})" if len(leads) > 1 else
            f" (event time {leads[0]})" if leads else "")
    stat = f"{getattr(test, 'distribution', 'F')} = {float(test.statistic):.2f}, {_p(test.p_value)}"
    if pretrend_rejects(results, alpha):
        return [
            f"The leads{span} are jointly different from zero ({stat}): outcomes of treated "
            "units already moved differently before treatment (anticipation, diverging "
            "trends, or, in a two-way fixed-effects event study with staggered timing, "
            "contamination from other event times). The effects after treatment then mix the "
            "policy with those differences: do not read them as causal without modelling or "
            "bounding the difference (HonestDiD) or using a heterogeneity-robust design.",
            _CAUTION,
        ]
    return [f"The leads{span} are jointly not distinguishable from zero ({stat}).", _CAUTION]


def describe_event_study(results: Any, level: float = 0.95) -> list[str]:
    """The path of the event-time effects in one sentence, then :func:`describe_pretrends`.

    Effects of a log-link model (Poisson) are given as percent changes.
    """
    level = check_level(level)
    et = results.event_time
    rows = et[(et["event_time"] >= 0) & ~et["reference"].astype(bool)
              & et["estimate"].notna()] if "reference" in et.columns else et[
                  (et["event_time"] >= 0) & et["estimate"].notna()]
    if rows.empty:
        return describe_pretrends(results)
    ci = results.conf_int(level).reindex(rows["term"])
    log_link = results.spec.get("link") == "log" or "pois" in str(results.estimator).lower()

    def show(v: float) -> str:
        return f"{100 * (math.exp(v) - 1):+.1f}%" if log_link else f"{v:+.3g}"

    first, last = rows.iloc[0], rows.iloc[-1]
    excl = int(np.sum((ci["conf_low"].to_numpy() > 0) | (ci["conf_high"].to_numpy() < 0)))
    ref = et.loc[et["reference"].astype(bool), "event_time"] if "reference" in et else []
    rel = f", relative to event time {int(ref.iloc[0])}" if len(ref) else ""
    what = "change in the outcome" if log_link else "effect"
    sentence = (f"The estimated {what} is {show(float(first['estimate']))} at event time "
                f"{int(first['event_time'])} and {show(float(last['estimate']))} at event time "
                f"{int(last['event_time'])}{rel}; {excl} of the {len(rows)} post-treatment "
                f"{level:.0%} confidence intervals exclude zero.")
    return [sentence, *describe_pretrends(results)]
