"""HonestDiD sensitivity plot: the original CI and the robust confidence sets against M."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...exceptions import SpecError
from ._style import GREY, PALETTE, new_axes, plot_style

__all__ = ["honest_did_plot"]


def _parts(res: Any) -> tuple[pd.DataFrame, str]:
    rob = getattr(res, "robust", None)
    name = getattr(res, "parameter", None)
    if not isinstance(rob, pd.DataFrame) or not isinstance(name, str) or not all(
            hasattr(res, a) for a in ("conf_low", "conf_high", "breakdown", "method")):
        raise SpecError("res must be HonestDiD results, as returned by "
                        f"cp.diagnostics.honest_did(...); got {type(res).__name__}.")
    if rob.empty:
        raise SpecError("res.robust is empty: there is nothing to plot.")
    return rob, name


def honest_did_plot(res: Any, *, ax: Axes | None = None, show_breakdown: bool = True) -> Figure:
    """Robust confidence sets over M next to the original CI, with the breakdown value marked.

    One vertical interval per value of :math:`M` (or :math:`\\bar M`) and, at the left,
    the original confidence interval (parallel trends); a dashed line at zero and, when
    ``show_breakdown`` and it is finite, a dotted vertical line at the breakdown value: the
    largest M whose robust set still excludes zero (R ``createSensitivityPlot``).

    Parameters
    ----------
    res
        A :class:`~causalpolicing.diagnostics.HonestDiDResults`.
    ax
        Axes to draw on (default: a new figure).
    show_breakdown
        Mark the breakdown value.

    Returns
    -------
    matplotlib.figure.Figure
        The figure. The robust intervals are the ``LineCollection`` with gid ``"robust"``
        (one segment per M), the original CI the one with gid ``"original"``; the breakdown
        line has gid ``"breakdown"``.

    Raises
    ------
    SpecError
        For an object that is not HonestDiD results.

    Examples
    --------
    >>> import numpy as np
    >>> from causalpolicing.diagnostics import honest_did
    >>> from causalpolicing.report.plots import honest_did_plot
    >>> res = honest_did(betahat=np.array([0.01, -0.005, 0.002, 0.05, 0.06]),
    ...                  sigma=np.diag([0.004, 0.004, 0.004, 0.005, 0.006]) ** 2,
    ...                  num_pre=3, num_post=2, method="smoothness", grid=[0, 0.01, 0.02, 0.05])
    >>> fig = honest_did_plot(res)
    >>> sorted(c.get_gid() for c in fig.axes[0].collections)
    ['original', 'robust']
    >>> fig.axes[0].get_xlabel()
    'M'
    """
    rob, name = _parts(res)
    ms = rob[name].to_numpy(float)
    lo, hi = rob["lower"].to_numpy(float), rob["upper"].to_numpy(float)
    step = float(np.diff(ms).min()) if len(ms) > 1 else max(abs(float(ms[0])), 1.0)
    x_orig = float(ms[0]) - step
    label = "Mbar" if name == "Mbar" else "M"
    with plot_style():
        fig, ax = new_axes(ax, (6.4, 4.4))
        ok = np.isfinite(lo) & np.isfinite(hi)
        orig = ax.vlines([x_orig], [res.conf_low], [res.conf_high], color=GREY, linewidth=2.5,
                         label="Original (parallel trends)")
        orig.set_gid("original")
        rb = ax.vlines(ms[ok], lo[ok], hi[ok], color=PALETTE[0], linewidth=2.5,
                       label=f"Robust ({'C-LF' if name == 'Mbar' else 'FLCI'})")
        rb.set_gid("robust")
        ax.axhline(0.0, color="black", linewidth=0.8, linestyle="--")
        brk = float(res.breakdown)
        if show_breakdown and np.isfinite(brk):
            line = ax.axvline(brk, color=PALETTE[3], linestyle=":", linewidth=1.5,
                              label=f"Breakdown {label} = {brk:.3g}")
            line.set_gid("breakdown")
        ticks = [x_orig, *ms.tolist()]
        ax.set_xticks(ticks, ["Orig.", *[f"{m:.3g}" for m in ms]])
        ax.set_xlabel(label)
        ax.set_ylabel(f"{100 * (1 - float(res.alpha)):g}% confidence set")
        ax.set_title("HonestDiD sensitivity (" + (
            "relative magnitudes" if name == "Mbar" else "smoothness") + ")")
        # the robust sets widen with M: the upper left corner (narrow sets) stays clear
        ax.legend(loc="upper left", fontsize="small")
    return fig
