"""Observed versus counterfactual trends (synthetic control, interrupted time series, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...exceptions import PanelError, SpecError
from ._common import frame_columns, plot_time_scalar, plot_times
from ._style import GREY, PALETTE, new_axes, plot_style

__all__ = ["counterfactual_plot"]


def _numeric(frame: pd.DataFrame, col: str, param: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
        raise SpecError(f"{param}={col!r} must be a numeric column; it has dtype "
                        f"{frame[col].dtype}.")
    arr = frame[col].to_numpy(dtype=float)
    if np.isinf(arr).any():
        raise SpecError(f"{param}={col!r} holds +/-inf in {int(np.isinf(arr).sum())} row(s); "
                        "replace them with NaN (a gap) or a finite value.")
    return arr


def counterfactual_plot(
    frame: pd.DataFrame,
    *,
    time: str,
    observed: str,
    counterfactual: str,
    lower: str | None = None,
    upper: str | None = None,
    unit: str | None = None,
    units: Sequence[Any] | None = None,
    treatment_start: Any = None,
    max_units: int = 16,
    ax: Axes | None = None,
) -> Figure:
    """Observed and counterfactual series over time, with an optional interval band.

    Parameters
    ----------
    frame
        One row per period (per unit when ``unit`` is given).
    time
        Time column (numbers, datetimes or pandas periods; annual periods are drawn
        as years).
    observed, counterfactual
        Numeric columns; missing values leave gaps.
    lower, upper
        Columns bounding the counterfactual's interval (both or neither).
    unit
        Unit column: one panel per unit (small multiples, shared axes).
    units
        With ``unit``: the units to show, in this order (default: all, sorted).
    treatment_start
        Time of the intervention, drawn as a vertical line: one value, or with
        ``unit`` a mapping ``unit -> time`` (staggered adoption; units missing
        from the mapping get no line).
    max_units
        With ``unit``: the most panels drawn; more units need ``units=[...]``.
    ax
        Axes to draw on (only without ``unit``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per unit (or one). Lines have gids ``"observed"`` and
        ``"counterfactual"``, the band ``"interval"``, the vertical line
        ``"treatment_start"``.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing.
    PanelError
        Two rows share a period (within a unit).
    SpecError
        Empty frame, non-numeric or infinite values, only one of lower/upper,
        unknown units, too many units, ``ax`` with ``unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.report.plots import counterfactual_plot
    >>> df = pd.DataFrame({"year": range(2000, 2010), "deaths": [5, 6, 5, 7, 6, 4, 3, 3, 2, 3],
    ...                    "synthetic": [5, 6, 5, 7, 6, 6, 7, 6, 7, 7]})
    >>> fig = counterfactual_plot(df, time="year", observed="deaths",
    ...                           counterfactual="synthetic", treatment_start=2004.5)
    >>> [ln.get_label() for ln in fig.axes[0].get_lines()[:2]]
    ['Observed', 'Counterfactual']
    """
    frame_columns(frame, {"time": time, "observed": observed, "counterfactual": counterfactual,
                          "lower": lower, "upper": upper, "unit": unit})
    if (lower is None) != (upper is None):
        raise SpecError("Pass both lower= and upper= (the interval of the counterfactual) or "
                        f"neither; got lower={lower!r}, upper={upper!r}.")
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise SpecError(f"max_units must be a positive integer; got {max_units!r}.")
    cols = {"observed": observed, "counterfactual": counterfactual}
    if lower is not None:
        cols.update({"lower": lower, "upper": upper})
    values = {k: _numeric(frame, c, k) for k, c in cols.items()}
    if frame[time].isna().any():
        raise PanelError(f"time={time!r} is missing in {int(frame[time].isna().sum())} row(s); "
                         "every row needs a period.")
    tvals = plot_times(frame[time]).to_numpy()
    if unit is None:
        if units is not None:
            raise SpecError("units= selects units of the unit= column; pass unit='column' too.")
        if isinstance(treatment_start, Mapping):
            raise SpecError("treatment_start as a mapping unit -> time needs unit='column'.")
        groups = [(None, np.arange(len(frame)))]
    else:
        if ax is not None:
            raise SpecError("ax= draws one panel; with unit= there is one panel per unit. Leave "
                            "ax out, or select one unit's rows and leave unit out.")
        codes = frame[unit]
        present = list(pd.unique(codes.dropna()))
        if units is None:
            chosen = sorted(present, key=str)
            if len(chosen) > max_units:
                raise SpecError(f"frame has {len(chosen)} units in {unit!r}; counterfactual_plot "
                                f"draws at most max_units={max_units} panels. Choose with "
                                f"units=[...] (e.g. {chosen[:3]}) or raise max_units.")
        else:
            if isinstance(units, str) or not isinstance(units, Sequence) or not units:
                raise SpecError(f"units must be a non-empty list of unit values; got {units!r}.")
            chosen = list(units)
            unknown = [u for u in chosen if u not in present]
            if unknown:
                raise SpecError(f"units {unknown} are not in column {unit!r}; units: "
                                f"{sorted(present, key=str)[:20]}.")
        groups = [(u, np.flatnonzero((codes == u).to_numpy())) for u in chosen]
    for u, idx in groups:
        t = pd.Series(frame[time].to_numpy()[idx])
        if t.duplicated().any():
            where = "" if u is None else f" for unit {u!r}"
            raise PanelError(f"Period(s) {t[t.duplicated()].unique()[:5].tolist()} appear more "
                             f"than once{where}; one row per period is needed.")

    def start_of(u: Any) -> Any:
        s = treatment_start.get(u) if isinstance(treatment_start, Mapping) else treatment_start
        return None if s is None else plot_time_scalar(s, frame[time])

    n = len(groups)
    ncols = 1 if n == 1 else min(4, int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    with plot_style():
        if n == 1:
            fig, first = new_axes(ax, (6.4, 4.0))
            axes = [first]
        else:
            fig = Figure(figsize=(3.2 * ncols, 2.4 * nrows + 0.6), layout="constrained")
            grid = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
            axes = list(grid.ravel())
            for extra in axes[n:]:
                extra.set_visible(False)
        for k, ((u, idx), a) in enumerate(zip(groups, axes, strict=False)):
            order = idx[np.argsort(tvals[idx], kind="stable")]
            x = tvals[order]
            if lower is not None:
                band = a.fill_between(x, values["lower"][order], values["upper"][order],
                                      color=PALETTE[1], alpha=0.2, linewidth=0,
                                      label="Counterfactual interval")
                band.set_gid("interval")
            (obs,) = a.plot(x, values["observed"][order], color=PALETTE[0], linewidth=2,
                            label="Observed")
            obs.set_gid("observed")
            (cf,) = a.plot(x, values["counterfactual"][order], color=PALETTE[1], linewidth=2,
                           linestyle="--", label="Counterfactual")
            cf.set_gid("counterfactual")
            # put the two lines first in a.lines, the band (a collection) is separate
            s = start_of(u)
            if s is not None:
                v = a.axvline(s, color=GREY, linestyle=":", linewidth=1.2,
                              label="Treatment start")
                v.set_gid("treatment_start")
            if u is not None:
                a.set_title(str(u))
            if n == 1 or k % ncols == 0:
                a.set_ylabel(observed if n == 1 else "")
            if n == 1 or k >= n - ncols:
                a.set_xlabel(time)
        if n == 1:
            axes[0].legend(loc="best")
        else:
            fig.supylabel(observed)
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    return fig
