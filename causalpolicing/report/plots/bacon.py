"""Goodman-Bacon decomposition plot: each 2×2 estimate against its weight, by comparison type."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...exceptions import SpecError
from ._common import finite_scalar
from ._style import GREY, PALETTE, new_axes, plot_style

__all__ = ["bacon_plot"]

_MARKERS = ("o", "s", "^", "D", "v", "P")


def _parts(result: Any) -> tuple[pd.DataFrame, float]:
    comp = getattr(result, "comparisons", None)
    if not isinstance(comp, pd.DataFrame) or not hasattr(result, "twfe"):
        raise SpecError(
            "result must be a Goodman-Bacon decomposition (with a 'comparisons' DataFrame and "
            "'twfe'), as returned by cp.diagnostics.bacon_decomposition(...); got "
            f"{type(result).__name__}.")
    missing = [c for c in ("type", "estimate", "weight") if c not in comp.columns]
    if missing:
        raise SpecError(f"result.comparisons lacks the columns {missing}; it needs type, "
                        "estimate and weight.")
    if comp.empty:
        raise SpecError("result.comparisons is empty: there is nothing to plot.")
    vals = comp[["estimate", "weight"]].to_numpy(float)
    if not np.isfinite(vals).all():
        raise SpecError("result.comparisons has non-finite estimates or weights; they cannot "
                        "be plotted.")
    return comp, finite_scalar(result.twfe, "result.twfe")


def bacon_plot(result: Any, *, ax: Axes | None = None) -> Figure:
    """Every 2×2 DiD estimate against its weight, by comparison type, with the TWFE line.

    A scatter of ``estimate`` (vertical) against ``weight`` (horizontal), one colour
    and marker per comparison type, and a dashed horizontal line at the two-way
    fixed-effects estimate (the weighted mean of the points). Points far from
    the line with large weight drive the TWFE estimate; "Later vs Earlier Treated"
    comparisons use already-treated units as controls.

    Parameters
    ----------
    result
        A :class:`~causalpolicing.diagnostics.BaconDecomposition` (or any object
        with a ``comparisons`` DataFrame holding ``type``, ``estimate``, ``weight``
        and a float ``twfe``).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (``ax``'s figure when given). The points of a type are the
        ``PathCollection`` with gid ``"comparisons:<type>"`` (offsets: weight,
        estimate); the TWFE line is the ``Line2D`` with gid ``"twfe"``.

    Raises
    ------
    SpecError
        For an object that is not a decomposition, or non-finite numbers.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.diagnostics import bacon_decomposition
    >>> from causalpolicing.report.plots import bacon_plot
    >>> res = bacon_decomposition(cp.datasets.load("castle"), outcome="l_homicide",
    ...                           treatment="post")
    >>> fig = bacon_plot(res)
    >>> sorted(c.get_gid() for c in fig.axes[0].collections)
    ['comparisons:Earlier vs Later Treated', 'comparisons:Later vs Earlier Treated', \
'comparisons:Treated vs Never Treated']
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('Weight', '2×2 DiD estimate')
    """
    comp, twfe = _parts(result)
    kinds = list(dict.fromkeys(comp["type"].astype(str)))
    with plot_style():
        fig, ax = new_axes(ax, (6.4, 4.4))
        for j, kind in enumerate(kinds):
            part = comp[comp["type"].astype(str) == kind]
            pts = ax.scatter(part["weight"].to_numpy(float), part["estimate"].to_numpy(float),
                             color=PALETTE[j % len(PALETTE)], marker=_MARKERS[j % len(_MARKERS)],
                             s=36, alpha=0.85, label=kind, zorder=3)
            pts.set_gid(f"comparisons:{kind}")
        line = ax.axhline(twfe, color=GREY, linestyle="--", linewidth=1.2,
                          label=f"TWFE estimate = {twfe:.4g}", zorder=1)
        line.set_gid("twfe")
        ax.set_xlabel("Weight")
        ax.set_ylabel("2×2 DiD estimate")
        ax.set_xlim(left=0)
        ax.set_title("Goodman-Bacon decomposition")
        ax.legend(loc="best", fontsize="small")
    return fig
