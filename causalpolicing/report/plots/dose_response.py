r"""Dose-response plot: the effect of the treatment relative to a reference level, over its range.

For a coefficient :math:`b` with interval :math:`[\ell, u]` the effect of moving
the treatment from the reference :math:`r` to :math:`x` is :math:`b\,(x - r)`,
with the exact interval :math:`[\min(\ell d, u d), \max(\ell d, u d)]`,
:math:`d = x - r` (a scalar multiple of one coefficient: the delta method is
exact). Log-link count models (Poisson, negative binomial) show the rate ratio
:math:`\exp(b\,d)` and logit models the odds ratio, with the exponentiated
interval; linear models show :math:`b\,d` in the outcome's units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..._hints import check_level
from ...exceptions import ColumnNotFoundError, SpecError
from ._common import (
    check_results,
    finite_array,
    finite_scalar,
    ratio_kind,
    unknown_term,
)
from ._style import GREY, PALETTE, level_label, new_axes, plot_style

__all__ = ["dose_response_plot", "dose_response_curve"]


def _observed(term: str, values: Any, data: Any) -> np.ndarray:
    if values is not None and data is not None:
        raise SpecError("Pass either values= (the observed treatment values) or data= (a frame "
                        "or Panel holding the term's column), not both.")
    if values is not None:
        return finite_array(values, "values", min_size=2)
    if data is None:
        raise SpecError(f"dose_response_plot needs the observed range of {term!r}: pass "
                        f"values=... or data=<DataFrame or Panel with column {term!r}>.")
    frame = data.to_frame() if callable(getattr(data, "to_frame", None)) and not isinstance(
        data, (pd.DataFrame, pd.Series)) else data
    if not isinstance(frame, pd.DataFrame):
        raise SpecError(f"data must be a DataFrame or a Panel; got {type(data).__name__}.")
    if term not in frame.columns:
        raise ColumnNotFoundError(
            f"data has no column {term!r} (the term whose range is shown); columns: "
            f"{list(frame.columns)}. For a transformed term pass values=... instead.")
    col = pd.to_numeric(frame[term], errors="coerce").to_numpy(dtype=float)
    col = col[~np.isnan(col)]  # missing rows are not part of the observed range
    return finite_array(col, f"data[{term!r}] (non-missing)", min_size=2)


def _rug_positions(obs: np.ndarray, lo: float, hi: float, most: int = 400) -> np.ndarray:
    """Where the rug marks go: the distinct observed values, or (more than ``most`` of them)
    the observed values snapped to ``most`` positions across the range. One mark per
    position keeps the figure small (a mark per row made a 677 KB SVG for 4,360 rows)."""
    marks = np.unique(obs)
    if len(marks) > most and hi > lo:
        step = (hi - lo) / most
        marks = np.unique(lo + np.round((marks - lo) / step) * step)
    return marks


def dose_response_curve(
    results: Any,
    term: str,
    grid: Any,
    *,
    reference: float,
    level: float = 0.95,
    rate_ratio: bool | None = None,
) -> pd.DataFrame:
    """The numbers :func:`dose_response_plot` draws: ``x, effect, conf_low, conf_high``.

    Parameters
    ----------
    results, term, level, rate_ratio
        As in :func:`dose_response_plot`.
    grid
        Treatment values at which to evaluate the effect.
    reference
        The treatment value the effect is relative to.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> from causalpolicing.report.plots.dose_response import dose_response_curve
    >>> res = BaseResults(params=pd.Series({"x": 0.1}), cov=pd.DataFrame([[0.0025]], ["x"], ["x"]),
    ...                   nobs=100, df_inference=None, cov_type="iid", estimator="Poisson",
    ...                   spec={})
    >>> dose_response_curve(res, "x", [0.0, 10.0], reference=0.0).round(4)
          x  effect  conf_low  conf_high
    0   0.0  1.0000    1.0000     1.0000
    1  10.0  2.7183    1.0202     7.2426
    """
    check_results(results)
    level = check_level(level)
    available = list(results.params.index)
    if not isinstance(term, str) or term not in available:
        raise unknown_term(term, available, "term")
    ratio = ratio_kind(results) is not None if rate_ratio is None else rate_ratio
    if not isinstance(ratio, bool):
        raise SpecError(f"rate_ratio must be True, False or None (decide from the model); got "
                        f"{rate_ratio!r}.")
    x = finite_array(grid, "grid")
    ref = finite_scalar(reference, "reference")
    b = float(results.params[term])
    ci = results.conf_int(level)
    lo_b, hi_b = float(ci.loc[term, "conf_low"]), float(ci.loc[term, "conf_high"])
    if not np.isfinite([b, lo_b, hi_b]).all():
        raise SpecError(f"term {term!r} has a non-finite estimate or interval "
                        f"({b}, [{lo_b}, {hi_b}]); its standard error is undefined.")
    d = x - ref
    eff = b * d
    lo = np.minimum(lo_b * d, hi_b * d)
    hi = np.maximum(lo_b * d, hi_b * d)
    if ratio:
        eff, lo, hi = np.exp(eff), np.exp(lo), np.exp(hi)
    return pd.DataFrame({"x": x, "effect": eff, "conf_low": lo, "conf_high": hi})


def dose_response_plot(
    results: Any,
    term: str,
    *,
    values: Any = None,
    data: Any = None,
    reference: float | None = None,
    level: float = 0.95,
    rate_ratio: bool | None = None,
    n_points: int = 101,
    ax: Axes | None = None,
) -> Figure:
    """The effect of ``term`` relative to a reference value, over its observed range.

    See the module docstring for the formulas. The curve is evaluated at
    ``n_points`` equally spaced values from the smallest to the largest observed
    value; a rug along the bottom shows where the observations lie (one mark per
    distinct value).

    Parameters
    ----------
    results
        One results object.
    term
        The treatment term (a coefficient of ``results``).
    values
        Observed values of the treatment (array-like).
    data
        Alternatively a DataFrame or :class:`~causalpolicing.Panel` with a column
        named ``term`` (missing values ignored).
    reference
        The treatment value the effect is relative to (default: the smallest
        observed value, so the curve reads "compared with the lowest level seen").
    level
        Coverage of the band.
    rate_ratio
        ``None`` (default): rate/odds ratios for log/logit-link models
        (``spec["link"]``, or an estimator named Poisson, negative binomial or
        binomial), the linear effect otherwise. ``True``/``False`` force either.
    n_points
        Number of grid points (at least 2).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure. The curve is the ``Line2D`` with gid ``"effect"``, the band the
        collection with gid ``"ci_band"``; :func:`dose_response_curve` gives the numbers.

    Raises
    ------
    SpecError
        Unknown term, neither or both of ``values``/``data``, fewer than two or
        non-finite values, a non-finite reference.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.plots import dose_response_plot
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    >>> fig = dose_response_plot(res, "offences_per_1000", data=panel, reference=1.0)
    >>> fig.axes[0].get_ylabel()
    'Rate ratio vs. offences_per_1000 = 1 (95% CI)'
    """
    obs = _observed(term, values, data)
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise SpecError(f"n_points must be an integer of at least 2; got {n_points!r}.")
    lo_x, hi_x = float(obs.min()), float(obs.max())
    if lo_x == hi_x:
        raise SpecError(f"The observed values of {term!r} are all {lo_x}; there is no range to "
                        "show.")
    ref = lo_x if reference is None else finite_scalar(reference, "reference")
    grid = np.linspace(lo_x, hi_x, int(n_points))
    curve = dose_response_curve(results, term, grid, reference=ref, level=level,
                                rate_ratio=rate_ratio)
    ratio = ratio_kind(results) is not None if rate_ratio is None else rate_ratio
    kind = (ratio_kind(results) or "exp(effect)") if ratio else None
    depvar = results.spec.get("depvar") if hasattr(results.spec, "get") else None
    with plot_style():
        fig, ax = new_axes(ax, (6.4, 4.0))
        colour = PALETTE[0]
        band = ax.fill_between(curve["x"], curve["conf_low"], curve["conf_high"], color=colour,
                               alpha=0.2, linewidth=0, label=level_label(level))
        band.set_gid("ci_band")
        (line,) = ax.plot(curve["x"], curve["effect"], color=colour, linewidth=2,
                          label="Effect")
        line.set_gid("effect")
        base = ax.axhline(1.0 if ratio else 0.0, color=GREY, linestyle="--", linewidth=1)
        base.set_gid("no_effect")
        if lo_x <= ref <= hi_x:
            (mark,) = ax.plot([ref], [1.0 if ratio else 0.0], "o", markerfacecolor="white",
                              markeredgecolor=colour, zorder=4, label=f"Reference ({ref:g})")
            mark.set_gid("reference")
        marks = _rug_positions(obs, lo_x, hi_x)
        rug = ax.plot(marks, np.zeros_like(marks), "|", color=GREY, alpha=0.5, markersize=8,
                      transform=ax.get_xaxis_transform())[0]
        rug.set_gid("rug")
        ax.set_xlabel(term)
        if ratio:
            ax.set_ylabel(f"{kind} vs. {term} = {ref:g} ({level_label(level)})")
        else:
            what = f"Change in {depvar}" if depvar else "Effect"
            ax.set_ylabel(f"{what} vs. {term} = {ref:g} ({level_label(level)})")
        ax.legend(loc="best")
    return fig
