"""Event-study plot: coefficients by event time with a confidence band and the reference period."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..._hints import check_level
from ...exceptions import SpecError
from ._common import check_results, check_terms, ratio_kind, unknown_term
from ._style import GREY, PALETTE, level_label, new_axes, plot_style

__all__ = ["event_study_plot", "event_times"]

_SHIFT = re.compile(r"^(?P<base>.+)_(?P<kind>lag|lead)(?P<k>\d+)$")


def _parse_names(names: Sequence[str]) -> dict[str, int]:
    """Event times from distributed-lag names: ``x`` -> 0, ``x_lagK`` -> K, ``x_leadK`` -> -K."""
    shifted: dict[str, int] = {}
    bases: set[str] = set()
    for n in names:
        m = _SHIFT.match(str(n))
        if m:
            k = int(m["k"])
            shifted[n] = k if m["kind"] == "lag" else -k
            bases.add(m["base"])
    out = {n: 0 for n in names if n in bases}
    out.update(shifted)
    if len(bases) > 1:
        raise SpecError(
            f"The term names hold lags/leads of several variables ({sorted(bases)}); pick one "
            "with terms=[...] or pass event_time={term: period, ...}.")
    return out


def _check_mapping(mapping: Any, available: Sequence[str], param: str) -> dict[str, int]:
    if not isinstance(mapping, Mapping) or not mapping:
        raise SpecError(f"{param} must be a non-empty mapping term -> event time (an integer); "
                        f"got {mapping!r}.")
    out: dict[str, int] = {}
    for t, e in mapping.items():
        if t not in available:
            raise unknown_term(t, available, param)
        if isinstance(e, bool) or not isinstance(e, (int, np.integer)):
            raise SpecError(f"{param}[{t!r}] must be an integer event time; got {e!r}.")
        out[t] = int(e)
    return out


def event_times(results: Any, event_time: Mapping[str, int] | None = None,
                terms: Sequence[str] | None = None) -> dict[str, int]:
    """The mapping term -> event time used by :func:`event_study_plot`.

    In order of precedence: ``event_time`` given by the caller; the results'
    own ``event_time`` (a mapping; a frame with ``term`` and ``event_time`` columns,
    as :class:`~causalpolicing.designs.EventStudyResults`; or a method returning a frame
    with ``term`` and ``rel_time`` columns, as
    :class:`~causalpolicing.estimators.DistributedLagResults`);
    else parsed from distributed-lag term names (``x`` -> 0, ``x_lagK`` -> K,
    ``x_leadK`` -> -K, see :func:`causalpolicing.distributed_lag`): the names in
    ``terms`` when given, else every term.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> from causalpolicing.report.plots.event_study import event_times
    >>> names = ["x_lead1", "x", "x_lag1", "w"]
    >>> res = BaseResults(params=pd.Series(0.0, index=names),
    ...                   cov=pd.DataFrame(0.0, names, names), nobs=10, df_inference=None,
    ...                   cov_type="iid", estimator="OLS", spec={})
    >>> event_times(res)
    {'x': 0, 'x_lead1': -1, 'x_lag1': 1}
    """
    available = list(results.params.index)
    if event_time is not None:
        return _check_mapping(event_time, available, "event_time")
    own = getattr(results, "event_time", None)
    if isinstance(own, Mapping):
        return _check_mapping(own, available, "results.event_time")
    if isinstance(own, pd.DataFrame) and {"term", "event_time"} <= set(own.columns):
        # a design's event-time table (EventStudyResults.event_time): its reference row
        # is not a term of the fit
        mapping = {t: int(e) for t, e in zip(own["term"], own["event_time"], strict=True)
                   if t in available}
        return _check_mapping(mapping, available, "results.event_time")
    if callable(own):
        frame = own()
        if not isinstance(frame, pd.DataFrame) or not {"term", "rel_time"} <= set(frame.columns):
            raise SpecError("results.event_time() must return a DataFrame with columns 'term' and "
                            "'rel_time'; pass event_time={term: period, ...} instead.")
        mapping = {t: int(e) for t, e in zip(frame["term"], frame["rel_time"], strict=True)
                   if t in available}  # terms dropped as collinear are not estimated
        return _check_mapping(mapping, available, "results.event_time")
    parsed = _parse_names(available if terms is None else list(terms))
    if not parsed:
        raise SpecError(
            "Cannot tell the event time of the terms: the results have no event_time and no "
            f"lag/lead term names (x, x_lag1, x_lead1, ...). Terms: {available}. Pass "
            "event_time={term: period, ...}, e.g. {'lead2': -2, 'lag0': 0}.")
    return parsed


def event_study_plot(
    results: Any,
    *,
    terms: str | Sequence[str] | None = None,
    event_time: Mapping[str, int] | None = None,
    reference: int | None = -1,
    level: float = 0.95,
    ax: Axes | None = None,
) -> Figure:
    """Coefficients by event time with a confidence band and the omitted reference period.

    Parameters
    ----------
    results
        One results object.
    terms
        Terms to show (default: every term with an event time).
    event_time
        Mapping ``term -> event time`` (periods relative to treatment; leads
        negative). Default: see :func:`event_times` (the results' own
        ``event_time``, else distributed-lag names ``x``, ``x_lagK``, ``x_leadK``).
    reference
        The omitted (normalised) period, drawn as an open marker at 0. It must not
        be an event time that has a coefficient: a distributed-lag model with leads
        estimates every period, so pass ``reference=None`` there. ``None`` draws no
        reference point.
    level
        Coverage of the band (``results.conf_int(level)``).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure. Estimates are the ``Line2D`` with gid ``"estimate"``, the band
        the collection with gid ``"ci_band"``, the reference marker the ``Line2D``
        with gid ``"reference"``.

    Raises
    ------
    SpecError
        Unknown terms, terms without an event time, two terms at one event time, a
        reference period that has a coefficient, non-finite estimates, bad ``level``.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.plots import event_study_plot
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     res = cp.distributed_lag(panel, "deaths", "offences_per_1000", lags=2, leads=0,
    ...                              estimator="fepois")
    >>> fig = event_study_plot(res)  # lags 0..2, the reference -1 drawn at 0
    >>> fig.axes[0].get_xlabel()
    'Event time (periods relative to treatment)'
    >>> [float(v) for v in fig.axes[0].lines[0].get_xdata()]
    [0.0, 1.0, 2.0]
    """
    check_results(results)
    level = check_level(level)
    chosen = None if terms is None else check_terms(terms, list(results.params.index))
    mapping = event_times(results, event_time, chosen)
    if chosen is None:
        chosen = list(mapping)
    else:
        missing = [t for t in chosen if t not in mapping]
        if missing:
            raise SpecError(f"terms {missing} have no event time; terms with one: "
                            f"{list(mapping)}. Pass event_time={{term: period, ...}}.")
    times = [mapping[t] for t in chosen]
    dup = sorted({e for e in times if times.count(e) > 1})
    if dup:
        raise SpecError(f"Several terms share event time(s) {dup}: "
                        f"{[t for t in chosen if mapping[t] in dup]}; plot one at a time "
                        "with terms=[...].")
    if reference is not None:
        if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)):
            raise SpecError(f"reference must be an integer event time or None; got "
                            f"{reference!r}.")
        if reference in times:
            raise SpecError(
                f"reference={reference} is the event time of the estimated term "
                f"{chosen[times.index(reference)]!r}, so it is not an omitted period. Pass "
                "reference=None (e.g. for a distributed-lag model, which estimates every "
                "period) or the period that was left out.")
    order = np.argsort(times, kind="stable")
    chosen = [chosen[i] for i in order]
    x = np.array([mapping[t] for t in chosen], dtype=float)
    params = results.params
    ci = results.conf_int(level)
    est = params[chosen].to_numpy(dtype=float)
    lo = ci.loc[chosen, "conf_low"].to_numpy(dtype=float)
    hi = ci.loc[chosen, "conf_high"].to_numpy(dtype=float)
    bad = ~np.isfinite(np.c_[est, lo, hi]).all(axis=1)
    if bad.any():
        raise SpecError(f"terms {[t for t, b in zip(chosen, bad, strict=True) if b]} have a "
                        "non-finite estimate or interval; leave them out with terms=[...].")
    # the band runs through the reference period with zero width there
    bx, blo, bhi = x, lo, hi
    if reference is not None:
        pos = int(np.searchsorted(x, reference))
        bx = np.insert(x, pos, float(reference))
        blo = np.insert(lo, pos, 0.0)
        bhi = np.insert(hi, pos, 0.0)
    kind = ratio_kind(results)
    with plot_style():
        fig, ax = new_axes(ax, (6.4, 4.0))
        colour = PALETTE[0]
        band = ax.fill_between(bx, blo, bhi, color=colour, alpha=0.2, linewidth=0,
                               label=level_label(level))
        band.set_gid("ci_band")
        (line,) = ax.plot(x, est, "o-", color=colour, label="Estimate", zorder=3)
        line.set_gid("estimate")
        if reference is not None:
            (ref,) = ax.plot([float(reference)], [0.0], "o", markerfacecolor="white",
                             markeredgecolor=colour, markersize=7, zorder=4,
                             label=f"Reference period ({reference})")
            ref.set_gid("reference")
        zero = ax.axhline(0.0, color=GREY, linestyle="--", linewidth=1, zorder=1)
        zero.set_gid("zero")
        all_x = bx
        if all_x.min() < 0 <= all_x.max():
            onset = ax.axvline(-0.5, color=GREY, linestyle=":", linewidth=1, zorder=1)
            onset.set_gid("onset")
        ax.set_xticks(np.unique(all_x))
        ax.set_xlabel("Event time (periods relative to treatment)")
        what = "Coefficient (log rate ratio)" if kind == "Rate ratio" else (
            "Coefficient (log odds ratio)" if kind == "Odds ratio" else "Coefficient")
        ax.set_ylabel(f"{what}, {level_label(level)}")
        ax.legend(loc="best")
    return fig
