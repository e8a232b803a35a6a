"""Spatial lags: values of each unit's neighbours in the same period."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ...exceptions import TransformError
from ._common import _add_columns, _check_names, _check_panel, _numeric
from ._lookup import _keys, _neighbour_totals

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

__all__ = ["neighbour_mean", "neighbour_sum"]

MissingPolicy = Literal["propagate", "available"]


def _neighbour(panel: Panel, column: str, name: str | None, missing: str, how: str) -> Panel:
    transform = f"neighbour_{how}"
    what = f"{transform}()"
    _check_panel(panel, transform)
    if missing not in ("propagate", "available"):
        raise TransformError(
            f"{what}: unknown missing policy missing={missing!r}; use 'propagate' (missing "
            "when any neighbour is missing; default) or 'available' (over the neighbours "
            "with a value)."
        )
    nb = panel.neighbours
    if nb is None:
        raise TransformError(
            f"{what} needs the units' neighbours, but the panel has no adjacency. Pass "
            "neighbours= to load_panel: a mapping unit -> list of neighbouring units, or an "
            "edge-list file with two columns (unit, neighbour)."
        )
    x = _numeric(panel, column, "column", what)
    new = name if name is not None else f"{column}_nb_{how}"
    count_name = f"{new}_n"
    _check_names(panel, [new, count_name] if missing == "available" else [new])

    codes, units, ords = _keys(panel)
    # the adjacency as an edge list of unit codes (-1: a neighbour with no rows in the panel)
    src = [u for u, vs in nb.items() for _ in vs]
    dst = [v for vs in nb.values() for v in vs]
    src_codes = units.get_indexer(pd.Index(src)) if src else np.empty(0, np.int64)
    dst_codes = units.get_indexer(pd.Index(dst)) if dst else np.empty(0, np.int64)
    in_panel = src_codes >= 0
    by_src = np.argsort(src_codes[in_panel], kind="stable")
    src_codes = src_codes[in_panel][by_src].astype(np.int64)
    dst_codes = dst_codes[in_panel][by_src].astype(np.int64)
    degree = np.bincount(src_codes, minlength=len(units)).astype(np.int64)[codes]
    sums, counts = _neighbour_totals(codes, ords, x, src_codes, dst_codes, len(units))
    ok = (counts == degree) & (degree > 0) if missing == "propagate" else counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        result = sums if how == "sum" else sums / counts
    columns: dict[str, Any] = {new: np.where(ok, result, np.nan)}
    if missing == "available":
        columns[count_name] = counts
    params = {"column": column, "missing": missing, "name": new}
    return _add_columns(panel, columns, transform, params)


def neighbour_mean(panel: Panel, column: str, name: str | None = None,
                   missing: MissingPolicy = "propagate") -> Panel:
    """Spatial lag: the mean of ``column`` over each unit's neighbours in the same period.

    Parameters
    ----------
    panel
        A panel loaded with ``neighbours=`` (see :func:`causalpolicing.load_panel`).
    column
        A numeric column.
    name
        Name of the new column; default ``{column}_nb_mean``.
    missing
        When a neighbour has no value in a period (its value is missing, or it
        has no row for that period):

        * ``"propagate"`` (default): the result is missing;
        * ``"available"``: the mean over the neighbours that have a value
          (missing if none has). A second column ``{name}_n`` then holds the
          number of neighbours used in each row.

    Returns
    -------
    Panel
        A new panel with the neighbour mean. Units without neighbours get
        missing values.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the panel has no adjacency.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["A", "B", "C"] * 2, "year": [2000] * 3 + [2001] * 3,
    ...                    "deaths": [1, 2, 3, 4, 5, 6], "t": [0.0, 1, 0, 1, 0, 1],
    ...                    "x": [1.0, 2.0, 4.0, 1.0, None, 4.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="t",
    ...                           neighbours={"A": ["B", "C"], "B": ["A"], "C": ["A"]})
    >>> panel.to_frame()[["canton", "year", "x"]].to_dict("list")["x"]
    [1.0, 1.0, 2.0, nan, 4.0, 4.0]
    >>> neighbour_mean(panel, "x").column("x_nb_mean").tolist()
    [3.0, nan, 1.0, 1.0, 1.0, 1.0]
    >>> new = neighbour_mean(panel, "x", missing="available")
    >>> new.column("x_nb_mean").tolist(), new.column("x_nb_mean_n").tolist()
    ([3.0, 4.0, 1.0, 1.0, 1.0, 1.0], [2, 1, 1, 1, 1, 1])
    """
    return _neighbour(panel, column, name, missing, "mean")


def neighbour_sum(panel: Panel, column: str, name: str | None = None,
                  missing: MissingPolicy = "propagate") -> Panel:
    """Spatial lag: the sum of ``column`` over each unit's neighbours in the same period.

    Parameters
    ----------
    panel
        A panel loaded with ``neighbours=``.
    column
        A numeric column (e.g. seizures or arrests in neighbouring areas).
    name
        Name of the new column; default ``{column}_nb_sum``.
    missing
        ``"propagate"`` (default: missing when any neighbour is missing) or
        ``"available"`` (sum over the neighbours with a value, missing if none
        has; the count used goes to ``{name}_n``). See :func:`neighbour_mean`.

    Returns
    -------
    Panel
        A new panel with the neighbour sum; missing for units without neighbours.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import DataWarning
    >>> df = pd.DataFrame({"area": ["A", "B", "C"], "year": [2000] * 3,
    ...                    "deaths": [1, 2, 3], "seizures": [1.0, 2.0, 4.0]})
    >>> with warnings.catch_warnings():   # few units, one year, C without neighbours
    ...     warnings.simplefilter("ignore", DataWarning)
    ...     panel = cp.load_panel(df, unit="area", time="year", outcome="deaths",
    ...                           treatment="seizures", neighbours={"A": ["B", "C"], "B": ["A"]})
    >>> neighbour_sum(panel, "seizures").column("seizures_nb_sum").tolist()
    [6.0, 1.0, nan]
    """
    return _neighbour(panel, column, name, missing, "sum")
