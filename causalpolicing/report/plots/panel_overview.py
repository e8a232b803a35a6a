"""Panel overview: outcome and treatment over time, one line per unit, with the mean highlighted."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ...exceptions import PanelError, SpecError
from ._common import frame_columns, natural_order, plot_times
from ._paneldata import panel_data
from ._style import PALETTE, plot_style

__all__ = ["panel_overview_plot"]


def panel_overview_plot(
    panel_or_frame: Any,
    *,
    unit: str | None = None,
    time: str | None = None,
    outcome: str | None = None,
    treatment: str | None = None,
    max_units: int = 30,
) -> Figure:
    """Outcome and treatment over time by unit ("spaghetti" lines) with the mean across units.

    One panel per variable (outcome on top, treatment below, shared time axis).
    Each unit is a thin grey line; the bold line is the mean over *all* units in
    each period (missing values skipped). With more than ``max_units`` units only
    the first ``max_units`` in natural order (numerically for numeric-like
    units) are drawn as lines, and the title says so.

    Parameters
    ----------
    panel_or_frame
        A :class:`~causalpolicing.Panel` (roles give unit, time, outcome and
        treatment) or a DataFrame.
    unit, time
        Unit and time columns (required for a DataFrame).
    outcome, treatment
        Columns to show. For a Panel default to its first outcome and treatment;
        for a DataFrame give at least one.
    max_units
        Most unit lines drawn per panel.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per variable. Unit lines have gid ``"unit:<unit>"``, the mean
        line ``"mean"``.

    Raises
    ------
    ColumnNotFoundError
        A named column is missing.
    PanelError
        A unit has two rows for one period.
    SpecError
        Neither outcome nor treatment, non-numeric columns, bad ``max_units``.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.report.plots import panel_overview_plot
    >>> fig = panel_overview_plot(cp.datasets.load("simulated_cantons"), max_units=5)
    >>> [a.get_ylabel() for a in fig.axes]
    ['deaths', 'offences_per_1000']
    >>> fig.axes[0].get_title()
    'deaths by canton (5 of 26 units drawn; mean over all 26)'
    """
    pdata = panel_data(panel_or_frame, unit, time)
    frame, u, t = pdata.frame, pdata.unit, pdata.time
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise SpecError(f"max_units must be a positive integer; got {max_units!r}.")
    if pdata.panel is not None:
        outcome = outcome if outcome is not None else (
            pdata.panel.outcome if pdata.panel.outcomes else None)
        treatment = treatment if treatment is not None else (
            pdata.panel.treatment if pdata.panel.treatments else None)
    variables = [v for v in (outcome, treatment) if v is not None]
    if not variables:
        raise SpecError("Nothing to plot: pass outcome='column' and/or treatment='column'.")
    frame_columns(frame, {"outcome": outcome, "treatment": treatment},
                  where="the panel" if pdata.panel is not None else "the frame")
    for v in variables:
        if not pd.api.types.is_numeric_dtype(frame[v]) or pd.api.types.is_bool_dtype(frame[v]):
            raise SpecError(f"Column {v!r} must be numeric to plot; it has dtype {frame[v].dtype}.")
    if frame[[u, t]].duplicated().any():
        dup = frame.loc[frame[[u, t]].duplicated(), [u, t]].head(3).to_dict("records")
        raise PanelError(f"Some units have two rows for one period (e.g. {dup}); aggregate first.")
    frame = frame.assign(_x=plot_times(frame[t])).sort_values([u, "_x"], kind="stable")
    units = natural_order(frame[u])
    shown = units[:max_units]
    with plot_style():
        fig = Figure(figsize=(7.0, 2.8 * len(variables) + 0.4), layout="constrained")
        axes = fig.subplots(len(variables), 1, sharex=True, squeeze=False)[:, 0]
        for a, v in zip(axes, variables, strict=True):
            for unit_value in shown:
                rows = frame[frame[u] == unit_value]
                (ln,) = a.plot(rows["_x"].to_numpy(), rows[v].to_numpy(dtype=float),
                               color="#9a9a9a", linewidth=0.8, alpha=0.6)
                ln.set_gid(f"unit:{unit_value}")
            mean = frame.groupby("_x", sort=True)[v].mean()
            (m,) = a.plot(mean.index.to_numpy(), mean.to_numpy(dtype=float), color=PALETTE[0],
                          linewidth=2.5, label=f"Mean over {len(units)} units")
            m.set_gid("mean")
            a.set_ylabel(v)
            if len(shown) < len(units):
                a.set_title(f"{v} by {u} ({len(shown)} of {len(units)} units drawn; mean over "
                            f"all {len(units)})")
            else:
                a.set_title(f"{v} by {u} ({len(units)} units)")
            a.legend(loc="upper left")
        axes[-1].set_xlabel(t)
    return fig
