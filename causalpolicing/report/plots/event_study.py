"""Event-study plot: coefficients by event time with a confidence band and the reference period."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..._hints import check_level
from ...exceptions import SpecError
from ...inference.bands import sup_t_band
from ._common import check_terms, normalize_models, ratio_kind, unknown_term
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


BANDS = ("pointwise", "uniform", "both")


@dataclass(frozen=True)
class _Series:
    """What one results object contributes to the plot (sorted by event time)."""

    x: np.ndarray
    est: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    ulo: np.ndarray | None
    uhi: np.ndarray | None
    reference: int | None


def _own_reference(results: Any) -> tuple[bool, int | None]:
    """(has an event-time table, its reference event time or None)."""
    own = getattr(results, "event_time", None)
    if isinstance(own, pd.DataFrame) and "reference" in own.columns:
        rows = own.loc[own["reference"].astype(bool), "event_time"]
        return True, (int(rows.iloc[0]) if len(rows) else None)
    return False, None


def _series(results: Any, *, terms: Any, event_time: Mapping[str, int] | None,
            reference: int | None, level: float, band: str, draws: int, seed: int,
            overlay: bool) -> _Series:
    available = list(results.params.index)
    if overlay:  # the caller's terms/event_time apply where the results have them
        if event_time is not None:
            event_time = {t: e for t, e in event_time.items() if t in available} or None
        chosen = None if terms is None else [t for t in (
            [terms] if isinstance(terms, str) else terms) if t in available]
        has_table, own_ref = _own_reference(results)
        if has_table:
            reference = own_ref
    else:
        chosen = None if terms is None else check_terms(terms, available)
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
    ci = results.conf_int(level)
    est = results.params[chosen].to_numpy(dtype=float)
    lo = ci.loc[chosen, "conf_low"].to_numpy(dtype=float)
    hi = ci.loc[chosen, "conf_high"].to_numpy(dtype=float)
    bad = ~np.isfinite(np.c_[est, lo, hi]).all(axis=1)
    if bad.any():
        raise SpecError(f"terms {[t for t, b in zip(chosen, bad, strict=True) if b]} have a "
                        "non-finite estimate or interval; leave them out with terms=[...].")
    ulo = uhi = None
    if band != "pointwise":
        ulo, uhi = _uniform(results, chosen, est, level, draws, seed)
    return _Series(x, est, lo, hi, ulo, uhi, None if reference is None else int(reference))


def _uniform(results: Any, chosen: list[str], est: np.ndarray, level: float, draws: int,
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The results' own uniform band (``band_low``/``band_high``), else sup-t from ``cov``."""
    own = getattr(results, "event_time", None)
    if isinstance(own, pd.DataFrame) and {"band_low", "band_high", "term"} <= set(own.columns):
        rows = own.set_index("term").reindex(chosen)
        ulo = rows["band_low"].to_numpy(dtype=float)
        uhi = rows["band_high"].to_numpy(dtype=float)
        if np.isfinite(np.c_[ulo, uhi]).all():
            return ulo, uhi
    cov = results.cov.loc[chosen, chosen]
    return sup_t_band(est, cov, level=level, draws=draws, seed=seed)


def _with_reference(s: _Series, lo: np.ndarray, hi: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, lo, hi with the reference period inserted at zero width (a band runs through it)."""
    if s.reference is None:
        return s.x, lo, hi
    pos = int(np.searchsorted(s.x, s.reference))
    return (np.insert(s.x, pos, float(s.reference)), np.insert(lo, pos, 0.0),
            np.insert(hi, pos, 0.0))


def event_study_plot(
    results: Any,
    *,
    terms: str | Sequence[str] | None = None,
    event_time: Mapping[str, int] | None = None,
    reference: int | None = -1,
    level: float = 0.95,
    band: Literal["pointwise", "uniform", "both"] = "pointwise",
    draws: int = 10_000,
    seed: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """Coefficients by event time with a confidence band and the omitted reference period.

    Parameters
    ----------
    results
        One results object, or several to overlay: a list, or a mapping
        ``{"TWFE": es, "Callaway-Sant'Anna": cs}`` (the keys label them). Overlaid
        results are dodged left and right of each event time.
    terms
        Terms to show (default: every term with an event time). With several
        results, the terms each of them has.
    event_time
        Mapping ``term -> event time`` (periods relative to treatment; leads
        negative). Default: see :func:`event_times` (the results' own
        ``event_time``, else distributed-lag names ``x``, ``x_lagK``, ``x_leadK``).
    reference
        The omitted (normalised) period, drawn as an open marker at 0. It must not
        be an event time that has a coefficient: a distributed-lag model with leads
        estimates every period, so pass ``reference=None`` there. ``None`` draws no
        reference point. With several results, a results object with its own
        event-time table uses its own reference row (or none).
    level
        Coverage of the bands (``results.conf_int(level)``).
    band
        ``"pointwise"`` (each interval covers its coefficient with probability
        ``level``), ``"uniform"`` (the band covers every coefficient at once: the
        results' ``band_low``/``band_high`` columns when they have them, else the
        sup-t band from ``results.cov``, see
        :func:`causalpolicing.inference.bands.sup_t_critical_value`) or ``"both"``.
    draws, seed
        Simulation draws and seed of the sup-t critical value.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure. One results object: the estimates are the ``Line2D`` with gid
        ``"estimate"``, the pointwise band the collection with gid ``"ci_band"``,
        the uniform band gid ``"uniform_band"``, the reference marker gid
        ``"reference"``. Several: the same gids followed by ``":" + label``
        (error bars instead of filled bands). The zero line has gid ``"zero"``,
        the treatment start (between -1 and 0) gid ``"onset"``.

    Raises
    ------
    SpecError
        Unknown terms, terms without an event time, two terms at one event time, a
        reference period that has a coefficient, non-finite estimates, bad
        ``level`` or ``band``.

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
    >>> fig = event_study_plot({"Poisson": res, "again": res}, band="both")
    >>> sorted(line.get_gid() for line in fig.axes[0].lines if line.get_gid())[:2]
    ['estimate:Poisson', 'estimate:again']
    """
    if band not in BANDS:
        raise SpecError(f"band must be one of {list(BANDS)}; got {band!r}.")
    level = check_level(level)
    overlay = isinstance(results, Mapping) or (
        isinstance(results, Sequence) and not isinstance(results, str))
    labels, models = normalize_models(results)
    if overlay and not isinstance(results, Mapping):
        labels = [str(getattr(m, "estimator", label)) + f" {label}" for m, label in
                  zip(models, labels, strict=True)]
    series = [_series(m, terms=terms, event_time=event_time, reference=reference,
                      level=level, band=band, draws=draws, seed=seed, overlay=overlay)
              for m in models]
    kind = ratio_kind(models[0])
    with plot_style():
        fig, ax = new_axes(ax, (6.4, 4.0))
        if overlay:
            all_x = _draw_overlay(ax, labels, series, band, level)
        else:
            all_x = _draw_one(ax, series[0], band, level)
        zero = ax.axhline(0.0, color=GREY, linestyle="--", linewidth=1, zorder=1)
        zero.set_gid("zero")
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


def _draw_one(ax: Axes, s: _Series, band: str, level: float) -> np.ndarray:
    colour = PALETTE[0]
    bx, blo, bhi = _with_reference(s, s.lo, s.hi)
    if band in ("uniform", "both") and s.ulo is not None and s.uhi is not None:
        ux, ulo, uhi = _with_reference(s, s.ulo, s.uhi)
        ub = ax.fill_between(ux, ulo, uhi, color=colour, alpha=0.12, linewidth=0,
                             label=f"Uniform {level_label(level)}")
        ub.set_gid("uniform_band")
    if band in ("pointwise", "both"):
        pb = ax.fill_between(bx, blo, bhi, color=colour, alpha=0.2, linewidth=0,
                             label=level_label(level))
        pb.set_gid("ci_band")
    (line,) = ax.plot(s.x, s.est, "o-", color=colour, label="Estimate", zorder=3)
    line.set_gid("estimate")
    if s.reference is not None:
        (ref,) = ax.plot([float(s.reference)], [0.0], "o", markerfacecolor="white",
                         markeredgecolor=colour, markersize=7, zorder=4,
                         label=f"Reference period ({s.reference})")
        ref.set_gid("reference")
    return bx


def _draw_overlay(ax: Axes, labels: list[str], series: list[_Series], band: str,
                  level: float) -> np.ndarray:
    k = len(series)
    step = min(0.8 / k, 0.2)
    xs = []
    for i, (label, s) in enumerate(zip(labels, series, strict=True)):
        colour = PALETTE[i % len(PALETTE)]
        shift = (i - (k - 1) / 2) * step
        x = s.x + shift
        if band in ("uniform", "both") and s.ulo is not None and s.uhi is not None:
            ub = ax.errorbar(x, s.est, yerr=[s.est - s.ulo, s.uhi - s.est], fmt="none",
                             ecolor=colour, alpha=0.45, elinewidth=1, capsize=3, zorder=2)
            ub.lines[2][0].set_gid(f"uniform_band:{label}")
        if band in ("pointwise", "both"):
            pb = ax.errorbar(x, s.est, yerr=[s.est - s.lo, s.hi - s.est], fmt="none",
                             ecolor=colour, elinewidth=2.5 if band == "both" else 1.5,
                             zorder=3)
            pb.lines[2][0].set_gid(f"ci_band:{label}")
        (line,) = ax.plot(x, s.est, "o", color=colour, label=label, zorder=4)
        line.set_gid(f"estimate:{label}")
        xs.append(s.x)
        if s.reference is not None:
            (ref,) = ax.plot([s.reference + shift], [0.0], "o", markerfacecolor="white",
                             markeredgecolor=colour, markersize=6, zorder=4)
            ref.set_gid(f"reference:{label}")
            xs.append(np.array([float(s.reference)]))
    note = {"pointwise": level_label(level), "uniform": f"uniform {level_label(level)}",
            "both": f"thick: {level_label(level)}, thin: uniform"}[band]
    ax.set_title(f"Bars: {note}; open markers: reference periods", fontsize="small")
    return np.concatenate(xs)
