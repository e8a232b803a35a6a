"""Price transforms for drug markets: deflated (real) prices and prices per pure gram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...exceptions import TransformError
from .._messages import quote_list
from ..timeparse import FREQUENCIES
from ._common import _add_columns, _check_names, _check_panel, _numeric, _parse_period, _where
from ._lookup import _keys

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

__all__ = ["deflate", "pure_price"]


def deflate(panel: Panel, price: str, index: str, base: Any = None,
            name: str | None = None) -> Panel:
    """Real prices: ``price * index_at_base / index``.

    Parameters
    ----------
    panel
        The panel.
    price
        Nominal price column.
    index
        Price index column (e.g. a consumer price index), positive.
    base
        The base period whose money the real prices are expressed in.
        ``None`` (default): the index's own base, i.e. ``index_at_base = 100``
        (an index that is 100 in its base year). A period label (``2010``,
        ``"2010Q1"``, ``"2010-01"``): each unit's index value in that period;
        a coarser period than the panel's (a year for a monthly panel) uses the
        unit's mean index over it, and every sub-period must be present.
    name
        Name of the new column; default ``{price}_real``.

    Returns
    -------
    Panel
        A new panel with the real price. Missing prices or index values give
        missing real prices.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the index is zero or negative in some rows (named), or a unit lacks
        the base period.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"city": ["Z"] * 3, "year": [2000, 2001, 2002],
    ...                    "deaths": [1, 2, 3], "price": [100.0, 110.0, 120.0],
    ...                    "cpi": [100.0, 110.0, 125.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="city", time="year", outcome="deaths",
    ...                           treatment="price", covariates=["cpi"])
    >>> deflate(panel, "price", "cpi").column("price_real").tolist()
    [100.0, 100.0, 96.0]
    >>> deflate(panel, "price", "cpi", base=2002).column("price_real").tolist()
    [125.0, 125.0, 120.0]
    """
    _check_panel(panel, "deflate")
    p = _numeric(panel, price, "price", "deflate()")
    ix = _numeric(panel, index, "index", "deflate()")
    bad = ix <= 0
    if bad.any():
        raise TransformError(
            f"deflate(): the price index {index!r} is zero or negative in "
            f"{_where(panel, bad, ix)}; a price index must be positive. Fix those values."
        )
    if base is None:
        ref = np.full(len(ix), 100.0)
    else:
        start, end = _parse_period(base, panel, "base", "deflate()")
        codes, units, ords = _keys(panel)
        inside = (ords >= start) & (ords <= end) & ~np.isnan(ix)
        n_in = np.bincount(codes[inside], minlength=len(units))
        need = end - start + 1
        lacking = np.flatnonzero(n_in != need)
        if len(lacking):
            raise TransformError(
                f"deflate(): base={base!r} needs the index {index!r} in all {need} "
                f"{FREQUENCIES[panel.freq]} of the base period for every unit, but "
                f"{quote_list([str(units[i]) for i in lacking])} "
                f"{'has' if len(lacking) == 1 else 'have'} fewer (missing rows or missing index "
                "values). Choose another base period, or base=None for the index's own base."
            )
        ref_u = np.bincount(codes[inside], weights=ix[inside], minlength=len(units)) / need
        ref = ref_u[codes]
    new = name if name is not None else f"{price}_real"
    _check_names(panel, [new])
    return _add_columns(panel, {new: p * ref / ix}, "deflate",
                        {"price": price, "index": index, "base": base, "name": new})


def pure_price(panel: Panel, price: str, purity: str,
               scale: Literal["fraction", "percent"] = "fraction", name: str | None = None) -> Panel:
    """Price per pure gram: ``price / purity``.

    Parameters
    ----------
    panel
        The panel.
    price
        Price per bulk gram (street price).
    purity
        Purity column: a fraction in (0, 1] with ``scale="fraction"`` (default)
        or a percentage in (0, 100] with ``scale="percent"``.
    scale
        ``"fraction"`` or ``"percent"``.
    name
        Name of the new column; default ``{price}_pure``.

    Returns
    -------
    Panel
        A new panel with the purity-adjusted price (missing where price or
        purity is missing).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the purity is 0 (price per pure gram undefined) or outside the
        scale's range; the rows are named.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"city": ["Z"] * 2, "year": [2000, 2001], "deaths": [1, 2],
    ...                    "price": [100.0, 90.0], "purity": [25.0, 60.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="city", time="year", outcome="deaths",
    ...                           treatment="price", covariates=["purity"])
    >>> pure_price(panel, "price", "purity", scale="percent").column("price_pure").tolist()
    [400.0, 150.0]
    """
    _check_panel(panel, "pure_price")
    scales = {"fraction": 1.0, "percent": 100.0}
    if scale not in scales:
        raise TransformError(
            f"pure_price(): unknown scale={scale!r}; use 'fraction' (0-1) or 'percent' (0-100)."
        )
    top = scales[scale]
    p = _numeric(panel, price, "price", "pure_price()")
    q = _numeric(panel, purity, "purity", "pure_price()")
    outside = (q < 0) | (q > top)
    if outside.any():
        hint = ""
        if scale == "fraction" and np.nanmax(q) <= 100 and np.nanmin(q) >= 0:
            hint = " The values look like percentages: pass scale='percent'."
        raise TransformError(
            f"pure_price(): purity {purity!r} must lie in [0, {top:g}] with scale={scale!r}, but "
            f"is outside in {_where(panel, outside, q)}.{hint}"
        )
    zero = q == 0
    if zero.any():
        raise TransformError(
            f"pure_price(): purity {purity!r} is 0 in {_where(panel, zero)}, so the price per "
            "pure gram is undefined. Set those purities missing (if not measured) or fix them."
        )
    new = name if name is not None else f"{price}_pure"
    _check_names(panel, [new])
    return _add_columns(panel, {new: p / (q / top)}, "pure_price",
                        {"price": price, "purity": purity, "scale": scale, "name": new})
