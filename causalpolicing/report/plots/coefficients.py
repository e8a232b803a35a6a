"""Coefficient plot: point estimates with confidence intervals, several models side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..._hints import check_level
from ...exceptions import SpecError
from ._common import INTERCEPTS, check_terms, normalize_models, ratio_kind
from ._style import GREY, PALETTE, level_label, new_axes, plot_style

__all__ = ["coefficient_plot"]


def _log_axis(ax: Axes) -> None:
    """A log x axis labelled with plain numbers (0.5, 1, 2), minor labels within one decade."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    lo, hi = ax.dataLim.intervalx
    if lo > 0 and np.log10(hi / lo) < 1.2:
        ax.xaxis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
    else:
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.grid(axis="x", which="both", visible=True)


def coefficient_plot(
    results: Any,
    terms: str | Sequence[str] | None = None,
    *,
    level: float = 0.95,
    labels: Mapping[str, str] | None = None,
    rate_ratio: bool = False,
    ax: Axes | None = None,
) -> Figure:
    """Point estimates with confidence-interval whiskers, one row per term.

    Terms run down the vertical axis (the first at the top); with several models
    each model's estimate is drawn slightly offset ("dodged") within the term's
    row, in its own colour, with a legend.

    Parameters
    ----------
    results
        One results object, a sequence of them (named ``(1)``, ``(2)``, ... as in
        :func:`causalpolicing.table`) or a mapping ``name -> results``.
    terms
        Terms to show, in order (a name or a list). Default: every term of every
        model in order of first appearance, without the intercept.
    level
        Coverage of the intervals (``results.conf_int(level)``).
    labels
        Display names of terms, ``{"offences_per_1000": "Offences per 1,000"}``.
    rate_ratio
        Show :math:`\\exp(\\hat\\beta)` and the exponentiated interval (rate ratios of
        log-link count models, odds ratios of logit models) on a log axis, with the
        reference line at 1 instead of 0.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``ax``'s figure when given). Model ``k``'s points are the
        ``Line2D`` with gid ``"estimate:<name>"``, its intervals the
        ``LineCollection`` with gid ``"ci:<name>"``.

    Raises
    ------
    SpecError
        For an unknown term (the message lists the available ones), an empty
        selection, a bad ``level`` or a non-finite estimate or interval.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.plots import coefficient_plot
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> ols = cp.feols("deaths ~ offences_per_1000 + unemployment | canton + year", panel)
    >>> pois = cp.fepois("deaths ~ offences_per_1000 + unemployment | canton + year", panel)
    >>> fig = coefficient_plot({"OLS": ols, "Poisson": pois}, labels={"unemployment": "Jobless"})
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['offences_per_1000', 'Jobless']
    >>> fig.axes[0].get_xlabel()
    'Estimate (95% CI)'
    """
    names, models = normalize_models(results)
    level = check_level(level)
    if labels is not None and not isinstance(labels, Mapping):
        raise SpecError(f"labels must be a mapping term -> display name; got "
                        f"{type(labels).__name__}.")
    if not isinstance(rate_ratio, bool):
        raise SpecError(f"rate_ratio must be True or False; got {rate_ratio!r}.")
    available: list[str] = []
    for m in models:
        available.extend(t for t in m.params.index if t not in available)
    if terms is None:
        terms = [t for t in available if t not in INTERCEPTS]
        if not terms:
            raise SpecError(f"The results have no terms to plot besides the intercept "
                            f"({available}); pass terms=[...] to show it.")
    else:
        terms = check_terms(terms, available)
    labels = dict(labels or {})

    n_t, n_m = len(terms), len(models)
    step = min(0.6 / n_m, 0.25) if n_m > 1 else 0.0
    height = max(2.2, 0.45 * n_t * max(1.0, 0.6 * n_m) + 1.2)
    with plot_style():
        fig, ax = new_axes(ax, (6.4, height))
        for j, (name, m) in enumerate(zip(names, models, strict=True)):
            params = m.params
            ci = m.conf_int(level)
            ys, est, lo, hi = [], [], [], []
            for i, t in enumerate(terms):
                if t not in params.index:
                    continue
                b, low, high = float(params[t]), float(ci.loc[t, "conf_low"]), float(
                    ci.loc[t, "conf_high"])
                if not np.isfinite([b, low, high]).all():
                    raise SpecError(
                        f"Model {name or 1!s}: term {t!r} has a non-finite estimate or interval "
                        f"(estimate {b}, {level_label(level)} [{low}, {high}]); its standard "
                        "error is undefined. Leave it out with terms=[...].")
                ys.append(n_t - 1 - i + ((n_m - 1) / 2 - j) * step)
                est.append(b)
                lo.append(low)
                hi.append(high)
            if rate_ratio:
                est, lo, hi = np.exp(est).tolist(), np.exp(lo).tolist(), np.exp(hi).tolist()
            colour = PALETTE[j % len(PALETTE)]
            gid = name or "1"
            coll = ax.hlines(ys, lo, hi, colors=colour, linewidth=1.8)
            coll.set_gid(f"ci:{gid}")
            (pts,) = ax.plot(est, ys, "o", color=colour, markersize=6, label=name or None,
                             zorder=3)
            pts.set_gid(f"estimate:{gid}")
        ref = ax.axvline(1.0 if rate_ratio else 0.0, color=GREY, linestyle="--", linewidth=1,
                         zorder=1)
        ref.set_gid("reference")
        ax.set_yticks(range(n_t - 1, -1, -1), [labels.get(t, t) for t in terms])
        ax.set_ylim(-0.6, n_t - 0.4)
        ax.grid(axis="y", visible=False)
        if rate_ratio:
            kinds = {ratio_kind(m) for m in models}
            kind = kinds.pop() if len(kinds) == 1 and None not in kinds else "exp(estimate)"
            _log_axis(ax)
            ax.set_xlabel(f"{kind} ({level_label(level)}, log scale)")
        else:
            ax.set_xlabel(f"Estimate ({level_label(level)})")
        if n_m > 1:
            handles = [Line2D([], [], color=PALETTE[j % len(PALETTE)], marker="o", label=nm)
                       for j, nm in enumerate(names)]
            ax.legend(handles=handles, title="Model", loc="best")
    return fig
