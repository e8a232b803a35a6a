"""Treatment timing shared by the staggered-adoption designs.

Every design of :mod:`causalpolicing.designs` that starts from a *cohort* column
(each unit's first treated period, with never-treated units marked explicitly)
reads it here, so that the checks, the refusals and the period arithmetic are the
same everywhere: :func:`staggered_timing` turns a frame into integer period
numbers, cohort periods, the never-treated mask and event times.

>>> import pandas as pd
>>> df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [2000, 2001, 2000, 2001],
...                    "g": [2001, 2001, 0, 0]})
>>> tm = staggered_timing(df, unit="u", time="t", cohort="g", never_treated=0)
>>> tm.event.tolist(), tm.never.tolist()
([-1, 0, 0, 0], [False, False, True, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data._timing_role import cohort_problem
from ..data._timing_role import never_mask as _data_never_mask
from ..data.panel import Panel
from ..exceptions import RoleError, SpecError

__all__ = ["StaggeredTiming", "check_design", "check_int", "cohort_periods", "column",
           "event_term", "frame_and_roles", "never_mask", "outcome_role", "periods",
           "staggered_timing",
           "timing_roles"]

#: Cohort period given to never-treated rows in :attr:`StaggeredTiming.cohort`.
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class StaggeredTiming:
    """Integer timing of a staggered design, one entry per row of the frame.

    Attributes
    ----------
    period
        The time column as integer period numbers (annual periods: the year;
        other frequencies: pandas Period ordinals).
    cohort
        The first treated period on the same scale; :data:`NEVER` for never-treated rows.
    never
        True for never-treated rows.
    event
        ``period - cohort`` for treated rows, 0 for never-treated rows (ignore it there).
    """

    period: np.ndarray
    cohort: np.ndarray
    never: np.ndarray
    event: np.ndarray

    @property
    def treated(self) -> np.ndarray:
        """True for rows of ever-treated units."""
        return ~self.never


def event_term(e: int) -> str:
    """The term name of event time ``e`` shared by every design (``event_lead2``, ``event_lag0``).

    >>> event_term(-2), event_term(0)
    ('event_lead2', 'event_lag0')
    """
    return f"event_lead{-e}" if e < 0 else f"event_lag{e}"


def timing_roles(panel: Panel | None, cohort: str | None, never_treated: Any, *, who: str
                 ) -> tuple[str, Any]:
    """The cohort column and never-treated marker: given, else the Panel's timing role.

    A Panel may declare its treatment timing once (``panel.cohort`` and
    ``panel.never_treated``); an argument given here wins. Nothing is guessed:
    without either, a :class:`SpecError` says what to pass.
    """
    if cohort is None and panel is not None:
        cohort = getattr(panel, "cohort", None)
    if never_treated is None and panel is not None:
        never_treated = getattr(panel, "never_treated", None)
    if cohort is None:
        raise SpecError(f"{who} needs cohort='column' (each unit's first treated period), or a "
                        "Panel that declares its treatment timing.")
    if never_treated is None:
        raise SpecError(f"{who} needs never_treated=<value(s) of {cohort!r} marking never-treated "
                        "units>, e.g. 0 or float('nan'); it is never guessed.")
    return cohort, never_treated


def outcome_role(panel: Panel | None, outcome: str | None, *, who: str) -> str:
    """The outcome column: given, else the Panel's primary outcome.

    >>> outcome_role(None, "deaths", who="event_study")
    'deaths'
    """
    if outcome is not None:
        return outcome
    if panel is None:
        raise SpecError(f"{who} on a DataFrame needs outcome='column' (or pass a Panel, whose "
                        "primary outcome is the default).")
    return panel.outcome


def frame_and_roles(data: Any, unit: str | None, time: str | None, *, who: str,
                    copy: bool = True) -> tuple[pd.DataFrame, str, str, Panel | None]:
    """A private copy of the data with the unit and time columns named and checked.

    ``copy=False`` hands a DataFrame back as it is, for a caller that only reads
    it (no copy of a large frame); a Panel's frame is always a copy.
    """
    if isinstance(data, Panel):
        frame = data.to_frame()
        unit = data.unit if unit is None else unit
        time = data.time if time is None else time
        panel: Panel | None = data
    elif isinstance(data, pd.DataFrame):
        if unit is None or time is None:
            raise SpecError(f"{who} on a DataFrame needs unit='column' and time='column' "
                            "(or pass a Panel).")
        frame = data.copy() if copy else data
        panel = None
    else:
        raise SpecError(f"{who} needs a Panel or a DataFrame; got {type(data).__name__}.")
    return frame, column(frame, unit, "unit"), column(frame, time, "time"), panel


def staggered_timing(frame: pd.DataFrame, *, unit: str, time: str, cohort: str,
                     never_treated: Any) -> StaggeredTiming:
    """Check the cohort column and compute the integer timing of every row."""
    cohort = column(frame, cohort, "cohort")
    never = never_mask(frame[cohort], never_treated)
    check_design(frame, unit, cohort, never)
    treated = ~never
    period = periods(frame[time], time)
    coh = np.full(len(frame), NEVER, dtype=np.int64)
    coh[treated] = cohort_periods(frame, cohort, time, treated)
    event = np.zeros(len(frame), dtype=np.int64)
    event[treated] = period[treated] - coh[treated]
    return StaggeredTiming(period=period, cohort=coh, never=never, event=event)


def check_int(value: Any, name: str, *, minimum: int | None = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or (
            minimum is not None and value < minimum):
        what = "a non-negative integer" if minimum == 0 else "an integer"
        raise SpecError(f"{name} must be {what}; got {value!r}.")
    return int(value)


def column(frame: pd.DataFrame, name: Any, param: str) -> str:
    if not isinstance(name, str) or name not in frame.columns:
        raise SpecError(f"{param}={name!r} is not a column of the data; columns: "
                        f"{list(frame.columns)}.")
    return name


def periods(values: pd.Series, name: str) -> np.ndarray:
    """Integer period numbers of a time column (Period ordinals, or integer values)."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.array.asi8.astype(np.int64)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        v = values.to_numpy(dtype=float)
        if not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
            raise SpecError(f"time column {name!r} holds non-integer or missing periods; event "
                            "times count whole periods. Give integer periods (years) or make a "
                            "Panel with cp.load_panel(...), which normalises dates to periods.")
        return v.astype(np.int64)
    raise SpecError(f"time column {name!r} is {values.dtype}, not periods; make a Panel with "
                    "cp.load_panel(df, unit=..., time=...) so that event times count the "
                    "panel's periods.")


def never_mask(cohort: pd.Series, never_treated: Any) -> np.ndarray:
    """True for never-treated rows (the Panel's check, :func:`causalpolicing.data._timing_role.never_mask`)."""
    try:
        return _data_never_mask(cohort, never_treated)
    except RoleError as exc:
        raise SpecError(str(exc)) from None


def cohort_periods(frame: pd.DataFrame, cohort: str, time: str, treated: np.ndarray
                    ) -> np.ndarray:
    """Period numbers (on the time column's scale) of the cohorts of treated rows."""
    t = frame[time]
    whole = frame[cohort]
    if (isinstance(whole.dtype, np.dtype) and whole.dtype.kind in "iuf"
            and not isinstance(t.dtype, pd.PeriodDtype)):
        # NumPy numbers on a numeric time scale (the common case): the checks below on the
        # array, without a boolean-indexed Series
        v = whole.to_numpy(dtype=float)[treated]
        _check_whole(v, cohort)
        return v.astype(np.int64)
    c = whole[treated]
    if isinstance(c.dtype, pd.PeriodDtype):
        if not isinstance(t.dtype, pd.PeriodDtype) or c.dtype.freq != t.dtype.freq:
            raise SpecError(f"cohort column {cohort!r} ({c.dtype}) and time column {time!r} "
                            f"({t.dtype}) count different periods; give both in one frequency.")
        return c.array.asi8.astype(np.int64)
    if pd.api.types.is_numeric_dtype(c) and not pd.api.types.is_bool_dtype(c):
        v = c.to_numpy(dtype=float)
        _check_whole(v, cohort)
        if isinstance(t.dtype, pd.PeriodDtype):
            if not t.dtype.freq.freqstr.startswith(("Y", "A")):
                raise SpecError(f"cohort column {cohort!r} holds numbers but the panel's periods "
                                f"are {t.dtype.freq.freqstr}; give the cohorts as periods of that "
                                "frequency (e.g. '2017-03').")
            return (v - 1970).astype(np.int64)  # the ordinal of an annual period
        return v.astype(np.int64)
    if isinstance(t.dtype, pd.PeriodDtype):
        try:
            uniq = {u: pd.Period(u, freq=t.dtype.freq).ordinal for u in pd.unique(c)}
        except (ValueError, TypeError) as exc:
            raise SpecError(f"cohort column {cohort!r}: cannot read its values as periods of "
                            f"the panel ({exc}); give the first treated period of each unit.") from None
        return c.map(uniq).to_numpy(dtype=np.int64)
    raise SpecError(f"cohort column {cohort!r} is {c.dtype}; give the first treated period "
                    f"in the units of time column {time!r} (integers).")


def _check_whole(v: np.ndarray, cohort: str) -> None:
    """Refuse cohort values (floats) that are not whole periods."""
    if np.any(v != np.round(v)):
        bad = sorted(set(v[v != np.round(v)].tolist()))[:5]
        raise SpecError(f"cohort column {cohort!r} holds non-integer periods {bad}: event "
                        "times (time - cohort) must be whole periods. Give the first "
                        "treated period (e.g. the year) of each unit.")


def check_design(frame: pd.DataFrame, unit: str, cohort: str, never: np.ndarray) -> None:
    problem = cohort_problem(frame, unit, cohort, never)  # the Panel's own check, shared
    if problem:
        raise SpecError(problem)
    if never.all():
        raise SpecError(f"every unit is never treated (cohort column {cohort!r} holds only "
                        "never_treated values): there is no event to study. Check "
                        "never_treated.")
    if never.any():
        return
    treated_cohorts = frame[cohort]  # (every row is treated)
    if treated_cohorts.nunique() == 1:
        raise SpecError(
            f"every unit is treated in the same period ({treated_cohorts.iloc[0]!r} in cohort "
            f"column {cohort!r}) and none is never treated: with no never-treated and no "
            "not-yet-treated comparison the event-time effects cannot be told apart from the "
            "time effects. Add never-treated units (marked by never_treated=...) or units "
            "treated at other times.")


