"""Arithmetic transforms: rates, per-capita values and logarithms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...exceptions import TransformError
from .._messages import quote_list
from ._common import (
    _add_columns,
    _check_names,
    _check_panel,
    _number_label,
    _numeric,
    _positive_number,
    _where,
)

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

__all__ = ["rate", "per_capita", "log"]

ZeroPolicy = Literal["error", "log1p", "missing"]


def _ratio(panel: Panel, column: str, per: Any, denominator: str | None, *, transform: str,
           denominator_param: str, name: str | None) -> Panel:
    what = f"{transform}()"
    _check_panel(panel, transform)
    per_value = _positive_number(per, "per", what)
    if denominator is None:
        denominator = panel.exposure
        if denominator is None:
            raise TransformError(
                f"{what} divides by the panel's exposure, but the panel has none. Pass "
                f"{denominator_param}='population' (a column name), or declare exposure= in "
                "load_panel (or panel.with_roles(exposure=...))."
            )
    x = _numeric(panel, column, "column", what)
    d = _numeric(panel, denominator, denominator_param, what)
    neg = d < 0
    if neg.any():
        raise TransformError(
            f"{what}: {denominator_param} {denominator!r} is negative in {_where(panel, neg, d)}; "
            "a population cannot be negative. Fix the values."
        )
    zero = d == 0
    if zero.any():
        raise TransformError(
            f"{what}: {denominator_param} {denominator!r} is 0 in {_where(panel, zero, d)}, so "
            f"{column!r} per head is undefined there. Set those values missing or choose "
            "another denominator."
        )
    new = name if name is not None else f"{column}_per_{_per_label(per_value)}"
    _check_names(panel, [new])
    params = {"column": column, "per": per, denominator_param: denominator, "name": new}
    return _add_columns(panel, {new: x / d * per_value}, transform, params)


def _per_label(per: float) -> str:
    if per == 1:
        return "capita"
    if per.is_integer() and per >= 1e6 and per % 1e6 == 0:
        return f"{int(per // 1e6)}m"
    if per.is_integer() and per >= 1e4 and per % 1e3 == 0:
        return f"{int(per // 1e3)}k"
    return _number_label(per)


def rate(panel: Panel, column: str, per: float = 100_000, exposure: str | None = None,
         name: str | None = None) -> Panel:
    """Events per ``per`` people at risk: ``column / exposure * per``.

    Parameters
    ----------
    panel
        The panel.
    column
        The count (e.g. ``"deaths"``).
    per
        Scale: 100,000 gives deaths per 100,000 residents.
    exposure
        The population column; by default the panel's exposure role.
    name
        Name of the new column. Default ``{column}_per_{per}``, where ``per``
        is written ``capita`` for 1, ``{n}k`` for whole thousands from 10,000
        (``100k``), ``{n}m`` for whole millions (``1m``) and the number itself
        otherwise (``1000``, ``0p5`` for 0.5).

    Returns
    -------
    Panel
        A new panel with the rate column. To analyse the rate as an outcome,
        declare it: ``new.with_roles(outcome={"deaths_per_100k": "rate"})``
        (for counts a Poisson model with the exposure is usually better).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        If the panel has no exposure and none is given, or the exposure is zero
        or negative in some rows (they are named). Missing values give missing
        rates.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [10, 12, 5, 7], "offences": [3.1, 3.5, 2.0, 2.4],
    ...                    "population": [1e6, 1.2e6, 5e5, 5e5]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences", exposure="population")
    >>> rate(panel, "deaths").column("deaths_per_100k").tolist()
    [1.0, 1.4, 1.0, 1.0]
    >>> rated = rate(panel, "deaths", per=1000, name="mortality")
    >>> rated.with_roles(outcome={"mortality": "rate"}).outcome_kinds["mortality"]
    'rate'
    """
    return _ratio(panel, column, per, exposure, transform="rate", denominator_param="exposure",
                  name=name)


def per_capita(panel: Panel, column: str, per: float = 1, population: str | None = None,
               name: str | None = None) -> Panel:
    """A treatment or covariate per head: ``column / population * per``.

    The same arithmetic as :func:`rate`, meant for enforcement measures and
    controls (e.g. drug-law offences per 1,000 residents).

    Parameters
    ----------
    panel
        The panel.
    column
        The numerator (e.g. ``"offences"``).
    per
        Scale: 1 (default) per head, 1000 per 1,000 residents.
    population
        The population column; by default the panel's exposure role.
    name
        Name of the new column; default ``{column}_per_{per}`` as in :func:`rate`
        (``offences_per_capita``, ``offences_per_1000``).

    Returns
    -------
    Panel
        A new panel with the new column (give it a role with
        :meth:`~causalpolicing.data.panel.Panel.with_roles`).

    Raises
    ------
    causalpolicing.exceptions.TransformError
        As :func:`rate`.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [10, 12, 5, 7], "offences": [300, 350, 200, 240],
    ...                    "residents": [1e5, 1e5, 5e4, 6e4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences", covariates=["residents"])
    >>> new = per_capita(panel, "offences", per=1000, population="residents")
    >>> new.column("offences_per_1000").tolist()
    [4.0, 4.0, 3.0, 3.5]
    >>> new.with_roles(treatment="offences_per_1000").treatment
    'offences_per_1000'
    """
    return _ratio(panel, column, per, population, transform="per_capita",
                  denominator_param="population", name=name)


def log(panel: Panel, column: str, zero: ZeroPolicy = "error", offset: float | None = None,
        name: str | None = None) -> Panel:
    """Natural logarithm with an explicit policy for zeros.

    Parameters
    ----------
    panel
        The panel.
    column
        A non-negative column (negative values always raise).
    zero
        What to do with zeros:

        * ``"error"`` (default): raise, naming the rows with zeros;
        * ``"log1p"``: compute ``log(1 + x)`` for every row (new column
          ``log1p_{column}``);
        * ``"missing"``: ``log(x)``, with zeros becoming missing values in the
          new column. The rows stay in the panel; estimators using the column
          drop them and report them in their results.
    offset
        Compute ``log(x + offset)`` for every row instead (``offset > 0``; new
        column ``log_{column}_plus_{offset}``, e.g. ``log_deaths_plus_0p5``).
        Cannot be combined with a ``zero`` policy other than ``"error"``.
    name
        Name of the new column. Default ``log_{column}`` (``log1p_{column}``,
        ``log_{column}_plus_{offset}`` as above).

    Returns
    -------
    Panel
        A new panel with the new column. Missing values stay missing.

    Raises
    ------
    causalpolicing.exceptions.TransformError
        On negative values, on zeros under ``zero="error"``, or on an unknown
        policy. Nothing is ever added to the values silently.

    Notes
    -----
    Logs of small counts are fragile (``log(0)`` is undefined and adding a
    constant changes the estimates); for counts prefer a Poisson model with an
    exposure over a log-rate regression.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [1, 0, 3, 7], "offences": [3.1, 3.5, 2.0, 2.4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> log(panel, "offences").column("log_offences").round(4).tolist()
    [0.6931, 0.8755, 1.1314, 1.2528]
    >>> log(panel, "deaths", zero="missing").column("log_deaths").round(4).tolist()
    [1.0986, 1.9459, 0.0, nan]
    >>> log(panel, "deaths", zero="log1p").column("log1p_deaths").round(4).tolist()
    [1.3863, 2.0794, 0.6931, 0.0]
    >>> log(panel, "deaths")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.TransformError: log(): column 'deaths' is 0 in 1 row: ZH 2001 (source row 2)...
    """
    _check_panel(panel, "log")
    policies = ("error", "log1p", "missing")
    if zero not in policies:
        raise TransformError(
            f"log(): unknown zero policy zero={zero!r}; use one of {quote_list(policies)}, or "
            "offset=c for log(x + c)."
        )
    x = _numeric(panel, column, "column", "log()")
    if offset is not None:
        if zero != "error":
            raise TransformError(
                f"log(): give either zero={zero!r} or offset={offset!r}, not both: offset=c "
                "already decides what happens to zeros (log(0 + c))."
            )
        c = _positive_number(offset, "offset", "log()")
    neg = x < 0
    if neg.any():
        raise TransformError(
            f"log(): column {column!r} is negative in {_where(panel, neg, x)}; the log of a "
            "negative number is undefined. Fix the values, or transform another column."
        )
    is_zero = x == 0
    if offset is not None:
        default = f"log_{column}_plus_{_number_label(c)}"
        values = np.log(x + c)
    elif zero == "log1p":
        default = f"log1p_{column}"
        values = np.log1p(x)
    else:
        if is_zero.any() and zero == "error":
            raise TransformError(
                f"log(): column {column!r} is 0 in {_where(panel, is_zero)}, and log(0) is "
                "undefined. Choose explicitly: zero='missing' (those rows get a missing value "
                "and are dropped by estimators), zero='log1p' (log(1 + x) for every row), "
                "offset=c (log(x + c)), or better, model the count with a Poisson model."
            )
        default = f"log_{column}"
        with np.errstate(divide="ignore"):
            values = np.where(is_zero, np.nan, np.log(np.where(is_zero, 1.0, x)))
    new = name if name is not None else default
    _check_names(panel, [new])
    params: dict[str, Any] = {"column": column, "zero": zero}
    if offset is not None:
        params["offset"] = offset
    params["name"] = new
    return _add_columns(panel, {new: values}, "log", params)
