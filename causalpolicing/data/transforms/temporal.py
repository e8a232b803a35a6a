"""Transforms along time within each unit: lags, leads, differences and harmonic terms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...exceptions import TransformError
from ._common import (
    _add_columns,
    _check_names,
    _check_panel,
    _number_label,
    _numeric,
    _parse_period,
    _positive_int,
    _positive_number,
)
from ._lookup import _keys, _locate

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

__all__ = ["lag", "lead", "lags", "diff", "harmonic"]


def _shift(panel: Panel, x: np.ndarray, k: int) -> np.ndarray:
    """``x`` at period ``t - k`` of the same unit (``k < 0``: a lead); NaN if absent."""
    codes, _, ords = _keys(panel)
    pos = _locate(codes, ords, codes, ords - k)
    return np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan)


def _shifted(panel: Panel, column: str, k: int, name: str | None,
             transform: Literal["lag", "lead", "diff"], hint: str = "") -> Panel:
    """:func:`lag`, :func:`lead` or :func:`diff`: one column ``{column}_{transform}{k}``."""
    what = f"{transform}()"
    _check_panel(panel, transform)
    k = _positive_int(k, "k", what, hint)
    x = _numeric(panel, column, "column", what)
    new = name if name is not None else f"{column}_{transform}{k}"
    _check_names(panel, [new])
    if transform == "lag":
        values = _shift(panel, x, k)
    elif transform == "lead":
        values = _shift(panel, x, -k)
    else:
        values = x - _shift(panel, x, k)
    return _add_columns(panel, {new: values}, transform, {"column": column, "k": k, "name": new})


def lag(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The value ``k`` periods earlier in the same unit (missing across gaps).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        How many periods back (1, 2, ...). Periods are the panel's (years,
        months, ...), counted on the calendar, not by rows.
    name
        Name of the new column; default ``{column}_lag{k}`` (``offences_lag1``).

    Returns
    -------
    Panel
        A new panel with the lagged column. It is missing where period
        ``t - k`` is not in the panel for that unit (the first ``k`` periods,
        or after a gap), and where the earlier value is missing.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning, GapWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 2, "year": [2000, 2001, 2003, 2000, 2001],
    ...                    "deaths": [10, 12, 9, 5, 7], "offences": [3.0, 3.5, 3.2, 2.0, 2.4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     warnings.simplefilter("ignore", GapWarning)    # ZH has no 2002
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> lag(panel, "offences").to_frame()[["canton", "year", "offences", "offences_lag1"]]
      canton  year  offences  offences_lag1
    0     BE  2000       2.0            NaN
    1     BE  2001       2.4            2.0
    2     ZH  2000       3.0            NaN
    3     ZH  2001       3.5            3.0
    4     ZH  2003       3.2            NaN
    >>> lag(panel, "offences", k=2).column("offences_lag2").tolist()
    [nan, nan, nan, nan, 3.5]
    """
    return _shifted(panel, column, k, name, "lag", " For values from later periods use lead().")


def lead(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The value ``k`` periods later in the same unit (missing across gaps).

    The mirror image of :func:`lag`: ``lead(lag(x, k), k) == x`` wherever both
    periods exist. Leads of a treatment are the standard check for
    anticipation and reverse causation (police responding to deaths).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        How many periods ahead (1, 2, ...).
    name
        Name of the new column; default ``{column}_lead{k}`` (``offences_lead2``).

    Returns
    -------
    Panel
        A new panel with the lead column; missing where period ``t + k`` is
        not in the panel for that unit.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 3, "year": [2000, 2001, 2002] * 2,
    ...                    "deaths": [10, 12, 9, 5, 7, 6], "offences": [3.0, 3.5, 3.2, 2.0, 2.4, 2.2]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> lead(panel, "offences").column("offences_lead1").tolist()
    [2.4, 2.2, nan, 3.5, 3.2, nan]
    """
    return _shifted(panel, column, k, name, "lead", " For values from earlier periods use lag().")


def lags(panel: Panel, column: str, ks: Iterable[int] = (1,)) -> Panel:
    """Several lags at once: columns ``{column}_lag{k}`` for each ``k`` in ``ks``.

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    ks
        Positive lag orders, e.g. ``range(1, 4)`` for lags 1, 2 and 3.

    Returns
    -------
    Panel
        A new panel with one column per lag (one history record, ``lags``).

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 3, "year": [2000, 2001, 2002],
    ...                    "deaths": [10, 12, 9], "offences": [3.0, 3.5, 3.2]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> new = lags(panel, "offences", range(1, 3))
    >>> new.to_frame()[["offences_lag1", "offences_lag2"]].to_dict("list")
    {'offences_lag1': [nan, 3.0, 3.5], 'offences_lag2': [nan, nan, 3.0]}
    """
    _check_panel(panel, "lags")
    if isinstance(ks, int | np.integer):
        ks = [ks]
    try:
        orders = [_positive_int(k, "ks", "lags()") for k in ks]
    except TypeError:
        raise TransformError(f"lags(): ks must be lag orders such as range(1, 4); got {ks!r}.") from None
    if not orders:
        raise TransformError("lags(): ks is empty; give lag orders such as range(1, 4).")
    if len(set(orders)) != len(orders):
        raise TransformError(f"lags(): ks repeats a lag order: {orders}.")
    x = _numeric(panel, column, "column", "lags()")
    names = [f"{column}_lag{k}" for k in orders]
    _check_names(panel, names, hint="use lag(column, k, name=...) for the clashing lag")
    return _add_columns(panel, {n: _shift(panel, x, k) for n, k in zip(names, orders, strict=True)},
                        "lags", {"column": column, "ks": tuple(orders)})


def diff(panel: Panel, column: str, k: int = 1, name: str | None = None) -> Panel:
    """The change over ``k`` periods within unit: ``x_t - x_{t-k}``.

    Missing when period ``t - k`` is not in the panel for that unit (a
    difference never spans a gap silently).

    Parameters
    ----------
    panel
        The panel.
    column
        A numeric column.
    k
        The difference's span in periods (1 = first difference).
    name
        Name of the new column; default ``{column}_diff{k}`` (``offences_diff1``).

    Returns
    -------
    Panel
        A new panel with the difference column.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning, GapWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 4, "year": [2000, 2001, 2002, 2004],
    ...                    "deaths": [10, 12, 9, 8], "offences": [3.0, 3.5, 3.25, 4.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     warnings.simplefilter("ignore", GapWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> diff(panel, "offences").column("offences_diff1").tolist()
    [nan, 0.5, -0.25, nan]
    >>> diff(panel, "offences", k=2).column("offences_diff2").tolist()
    [nan, nan, 0.25, 0.75]
    """
    return _shifted(panel, column, k, name, "diff")


def harmonic(panel: Panel, period: float, order: int = 1, name: str | None = None,
             origin: Any = None) -> Panel:
    """Fixed-period harmonic terms: ``sin(2 pi k t / period)`` and ``cos(...)``, ``k = 1..order``.

    ``t`` counts the panel's periods (years, months, ...) from ``origin``. For
    monthly data, ``period=12`` gives seasonal terms; for annual data a long
    cycle (e.g. the 14-year oscillation in Swiss drug deaths, Nordt & Stohler
    2010) is ``period=14``.

    Parameters
    ----------
    panel
        The panel.
    period
        Length of the cycle in the panel's periods (a positive number).
    order
        Number of harmonics; each adds one sine and one cosine. Must be below
        ``period / 2`` (higher harmonics alias onto lower ones at whole ``t``).
    name
        Column prefix. Default: columns ``sin{period}_{k}`` and
        ``cos{period}_{k}`` (``sin14_1``, ``cos14_1``; a fractional period
        such as 2.5 is written ``2p5``). With ``name="cycle"``: ``cycle_sin1``,
        ``cycle_cos1``, ...
    origin
        The period with ``t = 0`` (e.g. ``1975`` or ``"2000-01"``); default the
        panel's first period. Only the phase depends on it: the sine-cosine pair
        spans the same terms whatever the origin.

    Returns
    -------
    Panel
        A new panel with ``2 * order`` columns, in the order sin1, cos1, sin2, ...

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"country": ["CH"] * 4, "year": [1975, 1976, 1977, 1978],
    ...                    "deaths": [1, 2, 3, 4], "offences": [1.0, 2.0, 3.0, 5.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="country", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> new = harmonic(panel, period=4)
    >>> new.to_frame()[["sin4_1", "cos4_1"]].round(12).to_dict("list")
    {'sin4_1': [0.0, 1.0, 0.0, -1.0], 'cos4_1': [1.0, 0.0, -1.0, -0.0]}
    """
    _check_panel(panel, "harmonic")
    p = _positive_number(period, "period", "harmonic()")
    order = _positive_int(order, "order", "harmonic()")
    if 2 * order >= p:
        raise TransformError(
            f"harmonic(): order={order} needs period > {2 * order}; with period={period!r} the "
            f"highest harmonics alias onto lower ones (at whole periods sin(2 pi k t / {period!r}) "
            f"repeats). Use order < {p / 2:g}, or period dummies for a full seasonal pattern."
        )
    _, _, ords = _keys(panel)
    zero = int(ords.min()) if origin is None else _parse_period(origin, panel, "origin",
                                                                 "harmonic()")[0]
    t = (ords - zero).astype(float)
    columns: dict[str, np.ndarray] = {}
    label = _number_label(p)
    for k in range(1, order + 1):
        angle = 2 * np.pi * k * t / p
        s_name = f"{name}_sin{k}" if name is not None else f"sin{label}_{k}"
        c_name = f"{name}_cos{k}" if name is not None else f"cos{label}_{k}"
        columns[s_name] = np.sin(angle)
        columns[c_name] = np.cos(angle)
    _check_names(panel, columns, hint="pass name= to choose another prefix")
    params = {"period": period, "order": order, "origin": origin, "name": name}
    return _add_columns(panel, columns, "harmonic", params)
