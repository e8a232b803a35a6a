"""Refutation and placebo distributions with the estimate marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ...exceptions import SpecError
from ._common import finite_scalar
from ._style import PALETTE, new_axes, plot_style

__all__ = ["refutation_plot", "histogram_edges"]


def histogram_edges(draws: np.ndarray) -> np.ndarray:
    """Bin edges of the histogram: numpy's ``"auto"`` rule, at most 60 bins."""
    edges = np.histogram_bin_edges(draws, bins="auto")
    if len(edges) > 61:
        edges = np.histogram_bin_edges(draws, bins=60)
    return edges


def _one(obj: Any, k: int | None) -> tuple[np.ndarray, int, float, str | None, float | None]:
    where = "refutation" if k is None else f"refutation[{k}]"
    for attr in ("draws", "estimate"):
        if not hasattr(obj, attr):
            raise SpecError(f"{where} must have attributes 'draws' (1-d array), 'estimate' "
                            f"(float) and 'name' (str); {type(obj).__name__} has no {attr!r}.")
    name = getattr(obj, "name", None)
    p = getattr(obj, "p_value", None)
    return _check(obj.draws, obj.estimate, name, p, where)


def _check(draws: Any, estimate: Any, name: Any, p_value: Any, where: str
           ) -> tuple[np.ndarray, int, float, str | None, float | None]:
    label = where if name is None else f"{where} {name!r}"
    if draws is None:
        raise SpecError(f"{label} has no draws (a single refit, not a distribution); plot only "
                        "refutations with draws, e.g. [r for r in suite.results if r.draws is "
                        "not None].")
    try:
        raw = np.asarray(draws, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"{label} draws must be numbers; got {type(draws).__name__}.") from None
    if raw.ndim != 1:
        raise SpecError(f"{label} draws must be one-dimensional; got shape {raw.shape}.")
    keep = np.isfinite(raw)
    if keep.sum() < 2:
        raise SpecError(f"{label} needs at least 2 finite draws; got {int(keep.sum())} of "
                        f"{raw.size}.")
    d = raw[keep]
    est = finite_scalar(estimate, f"{where} estimate")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"{where} name must be a string; got {name!r}.")
    if p_value is not None:
        p_value = finite_scalar(p_value, f"{where} p_value")
        if not 0 <= p_value <= 1:
            raise SpecError(f"{where} p_value must be between 0 and 1; got {p_value!r}.")
    return d, int(raw.size - d.size), est, name, p_value


def _panel(ax: Axes, draws: np.ndarray, n_bad: int, est: float, name: str | None,
           p: float | None) -> None:
    from scipy.stats import gaussian_kde

    edges = histogram_edges(draws)
    _, _, bars = ax.hist(draws, bins=edges, density=True, color=PALETTE[0], alpha=0.45,
                         edgecolor="white", linewidth=0.5, label=f"Draws (n = {len(draws):,}"
                         + (f"; {n_bad:,} non-finite left out)" if n_bad else ")"))
    for bar in bars:
        bar.set_gid("histogram")
    if np.ptp(draws) > 0 and len(draws) >= 3:
        lo = min(draws.min(), est)
        hi = max(draws.max(), est)
        pad = 0.05 * (hi - lo)
        grid = np.linspace(lo - pad, hi + pad, 256)
        (kde,) = ax.plot(grid, gaussian_kde(draws)(grid), color=PALETTE[0], linewidth=1.5)
        kde.set_gid("kde")
    mark = ax.axvline(est, color=PALETTE[3], linewidth=2, label=f"Estimate = {est:.4g}")
    mark.set_gid("estimate")
    title = name or "Refutation"
    if p is not None:
        title += f" (p = {p:.3g})"
    ax.set_title(title)
    ax.set_xlabel("Estimate under the placebo / refutation")
    ax.tick_params(labelsize=10)
    ax.set_ylabel("Density")
    ax.legend(loc="best", fontsize="small")


def refutation_plot(
    refutation: Any = None,
    *,
    draws: Any = None,
    estimate: float | None = None,
    name: str | None = None,
    p_value: float | None = None,
    ncols: int | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The distribution of placebo or refutation draws, with the estimate marked.

    A histogram (density scale, numpy's ``"auto"`` bins) and a Gaussian kernel
    density of the draws, a vertical line at the estimate, and the p-value in
    the title when known. Non-finite draws (failed re-estimates) are left out,
    as the refuters' p-values leave them out, and the legend says how many.

    Parameters
    ----------
    refutation
        An object with attributes ``draws`` (1-d array), ``estimate`` (float),
        ``name`` (str) and optionally ``p_value``; or a sequence of them (one
        panel per refuter).
    draws, estimate, name, p_value
        The same given directly (instead of ``refutation``).
    ncols
        Panels per row for several refuters: default 2 (at most); ``1`` stacks them
        in a column, as the report does so that each panel stays legible on a
        phone.
    ax
        Axes to draw on (one refuter only; default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per refuter. Bars have gid ``"histogram"``, the density line
        ``"kde"``, the estimate line ``"estimate"``.

    Raises
    ------
    SpecError
        Both or neither of ``refutation`` and ``draws``/``estimate``; no draws or
        fewer than two finite ones; a non-finite estimate; a p-value outside [0, 1];
        ``ax`` with several refuters.

    Examples
    --------
    >>> import numpy as np
    >>> from causalpolicing.report.plots import refutation_plot
    >>> rng = np.random.default_rng(0)
    >>> fig = refutation_plot(draws=rng.normal(0, 0.02, 200), estimate=0.054,
    ...                       name="Placebo treatment", p_value=0.005)
    >>> fig.axes[0].get_title()
    'Placebo treatment (p = 0.005)'
    """
    direct = any(v is not None for v in (draws, estimate, name, p_value))
    if refutation is not None and direct:
        raise SpecError("Pass either a refutation object (or a list of them) or "
                        "draws=/estimate=/name=/p_value=, not both.")
    if refutation is None:
        if draws is None or estimate is None:
            raise SpecError("refutation_plot needs a refutation object, or draws= (the placebo "
                            "estimates) and estimate= (the actual estimate).")
        items = [_check(draws, estimate, name, p_value, "refutation")]
    elif hasattr(refutation, "draws"):
        items = [_one(refutation, None)]
    elif isinstance(refutation, Sequence) and not isinstance(refutation, str):
        if not refutation:
            raise SpecError("refutation is an empty list; pass at least one refutation.")
        items = [_one(r, k) for k, r in enumerate(refutation)]
    else:
        raise SpecError(f"refutation must be an object with draws/estimate/name or a list of "
                        f"them; got {type(refutation).__name__}.")
    n = len(items)
    with plot_style():
        if n == 1:
            fig, a = new_axes(ax, (6.0, 3.8))
            axes = [a]
        else:
            if ax is not None:
                raise SpecError(f"ax= draws one panel; {n} refutations need {n}. Leave ax out.")
            if ncols is None:
                ncols = 2
            if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
                raise SpecError(f"ncols must be a positive integer (1 stacks the panels in a "
                                f"column); got {ncols!r}.")
            ncols = min(ncols, n)
            nrows = int(np.ceil(n / ncols))
            fig = Figure(figsize=(5.2 * ncols, 3.0 * nrows), layout="constrained")
            axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
            for extra in axes[n:]:
                extra.set_visible(False)
        for (d, n_bad, est, nm, p), a in zip(items, axes, strict=False):
            _panel(a, d, n_bad, est, nm, p)
    return fig
