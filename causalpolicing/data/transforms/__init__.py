"""Panel transforms: each takes a :class:`~causalpolicing.data.panel.Panel` and returns a new one.

Every function here leaves its input untouched and returns a new Panel whose
``history`` ends with a :class:`~causalpolicing.data.panel.TransformRecord`
(the transform's name, its parameters as resolved, and the columns it
created). The same transforms are available as Panel methods with the same
names and arguments (``panel.rate("deaths")`` is ``rate(panel, "deaths")``).

==========================  ====================================================  ========================
transform                   what it computes                                      default column name
==========================  ====================================================  ========================
:func:`rate`                ``column / exposure * per``                           ``deaths_per_100k``
:func:`per_capita`          ``column / population * per``                         ``offences_per_capita``
:func:`log`                 ``log(x)``, ``log(1 + x)`` or ``log(x + c)``          ``log_deaths``
:func:`lag`                 ``x`` one (or ``k``) periods earlier, within unit     ``offences_lag1``
:func:`lead`                ``x`` ``k`` periods later, within unit                ``offences_lead1``
:func:`lags`                several lags at once                                  ``offences_lag1``, ...
:func:`diff`                ``x_t - x_{t-k}``                                     ``offences_diff1``
:func:`neighbour_mean`      mean of ``x`` over the unit's neighbours              ``offences_nb_mean``
:func:`neighbour_sum`       sum of ``x`` over the unit's neighbours               ``offences_nb_sum``
:func:`aggregate`           months -> years (etc.) with a stated rule per column  (same columns)
:func:`deflate`             ``price * index_at_base / index``                     ``price_real``
:func:`pure_price`          ``price / purity``                                    ``price_pure``
:func:`harmonic`            ``sin``/``cos`` of ``2 pi k t / period``              ``sin14_1``, ``cos14_1``
==========================  ====================================================  ========================

Rules shared by all transforms
------------------------------
* A new column may not replace an existing one: pass ``name=`` to choose
  another name.
* Lags, leads, differences and neighbour values work on periods, not rows: a
  lag across a missing period is missing, never the previous row.
* Missing inputs give missing outputs; the rows stay in the panel and the
  estimators drop and report them.
* Nothing is silently repaired: ``log`` of zero raises unless you choose a
  policy, a zero exposure or purity raises and names the rows.

Examples
--------
>>> import warnings
>>> import pandas as pd
>>> import causalpolicing as cp
>>> from causalpolicing.exceptions import FewUnitsWarning
>>> df = pd.DataFrame({"canton": ["ZH"] * 3 + ["BE"] * 3, "year": [2000, 2001, 2002] * 2,
...                    "deaths": [10, 12, 9, 5, 7, 6], "offences": [3.0, 3.5, 3.2, 2.0, 2.4, 2.2],
...                    "population": [1e6, 1e6, 1e6, 5e5, 5e5, 5e5]})
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FewUnitsWarning)
...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
...                           treatment="offences", exposure="population")
>>> new = panel.rate("deaths").lag("offences")
>>> new.to_frame()[["canton", "year", "deaths_per_100k", "offences_lag1"]]
  canton  year  deaths_per_100k  offences_lag1
0     BE  2000              1.0            NaN
1     BE  2001              1.4            2.0
2     BE  2002              1.2            2.4
3     ZH  2000              1.0            NaN
4     ZH  2001              1.2            3.0
5     ZH  2002              0.9            3.5
>>> [str(r) for r in new.history]
["rate(column='deaths', per=100000, exposure='population', name='deaths_per_100k') -> deaths_per_100k", "lag(column='offences', k=1, name='offences_lag1') -> offences_lag1"]
>>> "deaths_per_100k" in panel.columns    # the input panel is unchanged
False
"""

from __future__ import annotations

from .aggregation import AGGREGATION_RULES, aggregate
from .aggregation import IncompletePolicy as IncompletePolicy
from .arithmetic import ZeroPolicy as ZeroPolicy
from .arithmetic import _per_label as _per_label  # used by causalpolicing.diagnostics.feedback
from .arithmetic import log, per_capita, rate
from .prices import deflate, pure_price
from .spatial import MissingPolicy as MissingPolicy
from .spatial import neighbour_mean, neighbour_sum
from .temporal import diff, harmonic, lag, lags, lead

__all__ = [
    "rate",
    "per_capita",
    "log",
    "lag",
    "lead",
    "lags",
    "diff",
    "neighbour_mean",
    "neighbour_sum",
    "aggregate",
    "AGGREGATION_RULES",
    "deflate",
    "pure_price",
    "harmonic",
]
