"""The event-time table shared by the designs that aggregate to event-time effects.

:func:`event_time_table` turns a results object whose ``params`` hold the
event-time terms (:func:`~causalpolicing.designs._timing.event_term`) into the
DataFrame of the event-time contract (``event_studies.EVENT_TIME_COLUMNS``): one row per
event time, the reference period(s) with estimate 0 and ``reference=True``.

>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> res = BaseResults(params=pd.Series({"event_lag0": 1.0}),
...                   cov=pd.DataFrame([[0.25]], ["event_lag0"], ["event_lag0"]), nobs=10,
...                   df_inference=None, cov_type="iid", estimator="x", spec={})
>>> event_time_table(res, events=[-1, 0], refs={-1}, level=0.95)[["term", "estimate"]]
          term  estimate
0  event_lead1       0.0
1   event_lag0       1.0
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from ..results import BaseResults
from ._timing import event_term
from .event_studies import EVENT_TIME_COLUMNS

__all__ = ["event_time_table"]


def event_time_table(res: BaseResults, *, events: Sequence[int], refs: Collection[int],
                     level: float) -> pd.DataFrame:
    """One row per event time in ``events``; terms missing from ``params`` get NaN."""
    ci = res.conf_int(level)
    se = res.std_errors
    params = res.params
    rows = []
    for e in sorted(set(events) | set(refs)):
        term = event_term(e)
        ref = e in refs
        known = term in se.index and not ref
        rows.append({
            "event_time": int(e), "term": term,
            "estimate": 0.0 if ref else float(params.get(term, np.nan)),
            "std_error": float(se[term]) if known else np.nan,
            "conf_low": float(ci.loc[term].iloc[0]) if known else np.nan,
            "conf_high": float(ci.loc[term].iloc[1]) if known else np.nan,
            "reference": ref, "binned": False})
    return pd.DataFrame(rows, columns=list(EVENT_TIME_COLUMNS))
