"""Missingness map: which unit x period cells are present, incomplete, absent or dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...exceptions import SpecError
from ._common import frame_columns, natural_order, tick_step
from ._paneldata import panel_data
from ._style import PALETTE, new_axes, plot_style

__all__ = ["missingness_plot", "missingness_matrix", "STATES"]

#: Cell states, in the order of their codes 0, 1, 2, 3.
STATES: tuple[str, ...] = ("present", "missing value", "no row", "dropped")
_COLOURS = (PALETTE[0], PALETTE[1], "#eeeeee", "#3b3b3b")


def _periods(values: pd.Series) -> list[Any]:
    """Every period of the time column: full range for periods and integers, else the distinct values."""
    v = values.dropna()
    if isinstance(v.dtype, pd.PeriodDtype):
        return list(pd.period_range(v.min(), v.max(), freq=v.dtype.freq))
    if pd.api.types.is_integer_dtype(v.dtype):
        return list(range(int(v.min()), int(v.max()) + 1))
    return sorted(pd.unique(v))


def _time_key(value: Any, periods: list[Any]) -> Any:
    """The grid period a drop-log time refers to (``None`` when it cannot be placed)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if periods and isinstance(periods[0], pd.Period):
        try:
            return pd.Period(value if isinstance(value, pd.Period) else str(value),
                             freq=periods[0].freq)
        except (ValueError, TypeError):
            return None
    lookup = {str(p): p for p in periods}
    return lookup.get(str(value))


def missingness_matrix(
    panel_or_frame: Any,
    *,
    unit: str | None = None,
    time: str | None = None,
    columns: Sequence[str] | None = None,
    drop_log: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, int]:
    """The state codes :func:`missingness_plot` draws, and the drop-log rows it cannot place.

    Returns a DataFrame (units x periods) of codes ``0`` present, ``1`` missing
    value (the row exists but one of ``columns`` is missing), ``2`` no row,
    ``3`` dropped (in the drop log), and the number of drop-log rows whose unit
    or time is missing or unreadable (not drawn). Units are in natural order
    (numerically when they are numbers or read as numbers: 209, 1094, 10043).

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.report.plots.missingness import missingness_matrix
    >>> df = pd.DataFrame({"u": ["a", "a", "b"], "t": [1, 3, 1], "y": [1.0, None, 2.0]})
    >>> codes, unplaced = missingness_matrix(df, unit="u", time="t")
    >>> codes.to_numpy().tolist(), unplaced
    ([[0, 2, 1], [0, 2, 2]], 0)
    """
    pdata = panel_data(panel_or_frame, unit, time)
    frame, u, t = pdata.frame, pdata.unit, pdata.time
    if columns is None:
        if pdata.panel is not None:
            p = pdata.panel
            columns = [*p.outcomes, *p.treatments, *([p.exposure] if p.exposure else []),
                       *p.covariates]
        else:
            columns = [c for c in frame.columns if c not in (u, t)]
    elif isinstance(columns, str) or not isinstance(columns, Sequence):
        raise SpecError(f"columns must be a list of column names; got {columns!r}.")
    columns = list(dict.fromkeys(columns))
    frame_columns(frame, {f"columns[{i}]": c for i, c in enumerate(columns)})
    if drop_log is None and pdata.panel is not None:
        drop_log = pdata.panel.drop_log
    if drop_log is not None:
        if not isinstance(drop_log, pd.DataFrame):
            raise SpecError(f"drop_log must be a DataFrame; got {type(drop_log).__name__}.")
        ucol = "unit" if "unit" in drop_log.columns else u
        tcol = "time" if "time" in drop_log.columns else t
        if len(drop_log):
            frame_columns(drop_log, {"unit": ucol, "time": tcol}, where="drop_log")
    keyed = frame.dropna(subset=[u, t])
    periods = _periods(keyed[t]) if len(keyed) else []
    units = natural_order(keyed[u])
    unit_of = {str(x): x for x in units}
    dropped: list[tuple[Any, Any]] = []
    unplaced = 0
    if drop_log is not None and len(drop_log):
        for uv, tv in zip(drop_log[ucol], drop_log[tcol], strict=True):
            key = _time_key(tv, periods)
            if uv is None or (not isinstance(uv, str) and pd.isna(uv)) or key is None:
                unplaced += 1
                continue
            if str(uv) not in unit_of:
                unit_of[str(uv)] = uv
                units.append(uv)
            dropped.append((unit_of[str(uv)], key))
        units = natural_order(units)
    if not units or not periods:
        raise SpecError("No rows with both a unit and a time; nothing to map.")
    codes = pd.DataFrame(2, index=pd.Index(units, name=u), columns=pd.Index(periods, name=t))
    row_u = keyed[u].to_numpy()
    row_t = keyed[t].to_numpy()
    incomplete = keyed[columns].isna().any(axis=1).to_numpy() if columns else np.zeros(
        len(keyed), bool)
    ui = codes.index.get_indexer(row_u)
    ti = codes.columns.get_indexer(row_t)
    arr = codes.to_numpy(copy=True)
    arr[ui, ti] = np.where(incomplete, 1, 0)
    for uv, tv in dropped:
        i, j = codes.index.get_loc(uv), codes.columns.get_loc(tv)
        if arr[i, j] == 2:  # a row that is still present keeps its own state
            arr[i, j] = 3
    return pd.DataFrame(arr, index=codes.index, columns=codes.columns), unplaced


def missingness_plot(
    panel_or_frame: Any,
    *,
    unit: str | None = None,
    time: str | None = None,
    columns: Sequence[str] | None = None,
    drop_log: pd.DataFrame | None = None,
    max_units: int = 60,
    ax: Axes | None = None,
) -> Figure:
    """A unit x period map of present, incomplete, absent and dropped cells.

    With more than ``max_units`` units one row per unit is unreadable: the figure
    then shows, per period, the share of units in each state (stacked bars), and
    its title says so.

    Parameters
    ----------
    panel_or_frame
        A :class:`~causalpolicing.Panel` (its roles and ``drop_log`` are used) or
        a DataFrame.
    unit, time
        Unit and time columns (required for a DataFrame).
    columns
        Columns whose missing values mark a cell "missing value". Default: a
        Panel's role columns (outcomes, treatments, exposure, covariates); every
        other column of a DataFrame.
    drop_log
        Rows left out while loading, with columns ``unit`` and ``time`` (the
        Panel's format) or the frame's unit and time columns. Default: the Panel's
        ``drop_log``.
    max_units
        Most units drawn one row each; above it, the shares per period.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure. A map: the image (gid ``"missingness"``) holds the codes of
        :func:`missingness_matrix` (0 present, 1 missing value, 2 no row, 3
        dropped), units in natural order. Shares: one bar per state and period, gid
        ``"share:<state>"``, its height the share of units in that state.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing (in the frame or the drop log).
    SpecError
        A DataFrame without ``unit``/``time``, no keyed rows, bad arguments.

    Notes
    -----
    Periods run over the full range for pandas periods and integer times (so gaps
    show as "no row"); other time values use the distinct values seen. Drop-log
    rows without a readable unit or time cannot be placed and are counted in the title.
    Tick labels are thinned so that they do not overlap.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.plots import missingness_plot
    >>> fig = missingness_plot(cp.datasets.load("simulated_cantons"))
    >>> fig.axes[0].get_images()[0].get_array().shape
    (26, 33)
    >>> fig = missingness_plot(cp.datasets.load("simulated_cantons"), max_units=10)
    >>> fig.axes[0].get_title().splitlines()[1]
    '(share of units per period: too many units for one row each)'
    """
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise SpecError(f"max_units must be a positive integer (e.g. 60); got {max_units!r}.")
    codes, unplaced = missingness_matrix(panel_or_frame, unit=unit, time=time, columns=columns,
                                         drop_log=drop_log)
    arr = codes.to_numpy()
    n_u, n_t = arr.shape
    counts = [(arr == k).sum() for k in range(4)]
    handles = [Patch(facecolor=_COLOURS[k], edgecolor="#999999",
                     label=f"{STATES[k]} ({counts[k]:,})") for k in range(4)]
    labels = [str(v) for v in codes.columns]
    chars = max(len(v) for v in labels)
    aggregate = n_u > max_units
    own_figure = ax is None
    with plot_style():
        if aggregate:
            width = min(7.5, max(5.0, 2.0 + 0.25 * n_t))
            fig, ax = new_axes(ax, (width, 4.2))
            bottom = np.zeros(n_t)
            for k in range(4):
                share = (arr == k).mean(axis=0)
                bars = ax.bar(np.arange(n_t), share, bottom=bottom, width=0.9,
                              color=_COLOURS[k], edgecolor="white", linewidth=0.3)
                for bar in bars:
                    bar.set_gid(f"share:{STATES[k]}")
                bottom = bottom + share
            ax.set_ylim(0, 1)
            ax.set_xlim(-0.6, n_t - 0.4)
            ax.set_ylabel(f"Share of the {n_u:,} units")
            ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
            ax.grid(axis="x", visible=False)
        else:
            width = min(7.5, max(5.5, 3.0 + 0.2 * n_t))
            height = min(10.0, max(3.0, 1.8 + 0.18 * n_u))
            fig, ax = new_axes(ax, (width, height))
            img = ax.imshow(arr, cmap=ListedColormap(list(_COLOURS)), vmin=-0.5, vmax=3.5,
                            aspect="auto", interpolation="nearest")
            img.set_gid("missingness")
            ax.grid(False)
            ystep = tick_step(n_u, 0, height - 1.8, vertical=True)
            ax.set_yticks(range(0, n_u, ystep), [str(v) for v in codes.index[::ystep]])
            ax.set_ylabel(str(codes.index.name))
        xstep = tick_step(n_t, chars, width - 1.2)
        ax.set_xticks(range(0, n_t, xstep), labels[::xstep])
        ax.set_xlabel(str(codes.columns.name))
        # two rows of two on a narrow figure: four entries side by side would be wider than
        # the figure, and constrained layout would shrink the axes to nothing
        ncols = 4 if width >= 7.2 else 2
        if own_figure:  # below the axes, in space the layout reserves for it
            fig.legend(handles=handles, loc="outside lower center", ncols=ncols,
                       fontsize="small")
        else:
            ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                      ncols=ncols, fontsize="small")
        title = f"Data coverage: {n_u} units x {n_t} periods"
        if aggregate:
            title += "\n(share of units per period: too many units for one row each)"
        if unplaced:
            title += f"\n({unplaced} dropped row(s) without a readable unit/time not shown)"
        ax.set_title(title)
    return fig
