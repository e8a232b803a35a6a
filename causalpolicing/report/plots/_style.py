"""House style of every figure: a seaborn "whitegrid" look, applied inside a context manager.

Nothing here changes global state: :func:`plot_style` wraps
:func:`matplotlib.rc_context`, so the user's ``rcParams`` are restored when the
block ends, and figures are made with :class:`matplotlib.figure.Figure`
directly (not registered with pyplot, so there is nothing to close).

Examples
--------
>>> import matplotlib as mpl
>>> from causalpolicing.report.plots import plot_style
>>> before = mpl.rcParams["axes.grid"]
>>> with plot_style():
...     inside = mpl.rcParams["axes.grid"]
>>> inside, mpl.rcParams["axes.grid"] == before
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...exceptions import SpecError

__all__ = ["plot_style", "PALETTE", "new_axes", "level_label", "GREY"]

#: The colourblind-safe palette (seaborn "colorblind", Okabe-Ito-like), as hex strings.
PALETTE: tuple[str, ...] = tuple(sns.color_palette("colorblind").as_hex())
GREY = "#7f7f7f"


@contextmanager
def plot_style(**overrides: Any) -> Iterator[None]:
    """Temporarily apply the causalpolicing house style (restored on exit).

    Parameters
    ----------
    **overrides
        Extra ``rcParams`` (e.g. ``{"font.size": 12}`` spelled ``**{"font.size": 12}``).

    Examples
    --------
    >>> from causalpolicing.report.plots import plot_style
    >>> import matplotlib as mpl
    >>> with plot_style(**{"font.size": 13}):
    ...     float(mpl.rcParams["font.size"])
    13.0
    """
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook", font_scale=0.9))
    rc.update({
        "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "legend.frameon": False,
        "svg.hashsalt": "causalpolicing",  # stable SVG ids (reproducible reports)
        "figure.dpi": 100,
    })
    rc.update(overrides)
    with mpl.rc_context(rc):
        yield


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure and axes to draw on: ``ax``'s own, or a new constrained-layout figure."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise SpecError(f"ax must be a matplotlib Axes (or None for a new figure); got "
                        f"{type(ax).__name__}.")
    fig = ax.figure
    while not isinstance(fig, Figure):  # an axes in a SubFigure: climb to the root figure
        fig = fig.figure
    return fig, ax


def level_label(level: float) -> str:
    """``0.95`` -> ``"95% CI"`` (one decimal when needed, e.g. ``"97.5% CI"``)."""
    pct = 100 * level
    txt = f"{pct:.0f}" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}".rstrip("0")
    return f"{txt}% CI"
