"""The Panel's treatment-timing role: a cohort column and the never-treated marker.

A staggered-adoption panel declares its timing once, at loading
(``load_panel(..., cohort="first_treated", never_treated=0)``) or later
(``panel.with_roles(cohort=..., never_treated=...)``). The checks every design
relies on live here, below the designs, so that loading and estimation refuse the
same things with the same words: :func:`never_mask` (which rows are never treated)
and :func:`cohort_problem` (a cohort that varies within a unit, or is missing where
the unit is not marked never treated).

>>> import pandas as pd
>>> df = pd.DataFrame({"u": [1, 1, 2, 2], "g": [2001, 2001, 0, 0]})
>>> never_mask(df["g"], 0).tolist()
[False, False, True, True]
>>> cohort_problem(df, "u", "g", never_mask(df["g"], 0)) is None
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import RoleError

__all__ = ["check_timing_role", "cohort_problem", "never_mask", "never_values"]


def never_values(never_treated: Any) -> list[Any]:
    """The never-treated marker(s) as a list (a scalar, or a list/tuple/set of values)."""
    return (list(never_treated) if isinstance(never_treated, list | tuple | set | frozenset)
            else [never_treated])


def never_mask(cohort: pd.Series, never_treated: Any) -> np.ndarray:
    """True for rows whose cohort is one of the never-treated marker(s) (NaN matches missing)."""
    values = never_values(never_treated)
    if not values:
        raise RoleError("never_treated is empty; give the value(s) of the cohort column that "
                        "mark never-treated units (e.g. 0, or float('nan')).")
    mask = np.zeros(len(cohort), dtype=bool)
    dtype = cohort.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and all(
            isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            for v in values):
        # plain numbers against a NumPy numeric column: the same comparison on the array
        # (NaN == v is False, as fillna(False) below), without pandas' Series machinery
        vals = cohort.to_numpy()
        for v in values:
            mask |= np.isnan(vals) if isinstance(v, float) and np.isnan(v) else vals == v
        return mask
    for v in values:
        if isinstance(v, float) and np.isnan(v):
            mask |= cohort.isna().to_numpy()
        else:
            mask |= (cohort == v).fillna(False).to_numpy(dtype=bool)
    return mask


def cohort_problem(frame: pd.DataFrame, unit: str, cohort: str, never: np.ndarray) -> str | None:
    """What is wrong with a cohort column (as a sentence with the fix), or None.

    Checks that the cohort is constant within each unit and present wherever the
    unit is not marked never treated.
    """
    varying = _varying_units(frame, unit, cohort)
    if varying:
        return (f"cohort column {cohort!r} is not constant within unit {unit!r} for "
                f"{len(varying)} unit(s), e.g. {varying[:5]}; give each unit its first "
                "treated period on every row (never-treated units: the never_treated value).")
    missing = frame[cohort].isna().to_numpy() & ~never
    if missing.any():
        return (f"cohort column {cohort!r} is missing for {int(missing.sum())} row(s) that are "
                "not marked never treated; if missing marks never-treated units pass "
                "never_treated=float('nan'), else fill in the cohorts.")
    return None


def _varying_units(frame: pd.DataFrame, unit: str, cohort: str) -> list[Any]:
    """The units (sorted) whose cohort takes more than one value (missing counts as one)."""
    units, values = frame[unit], frame[cohort]
    u, c = units.dtype, values.dtype
    if isinstance(c, np.dtype) and c.kind in "iuf" and len(units):
        if isinstance(u, np.dtype) and u.kind in "iu":
            # integer ids in a compact range: each row against its unit's first cohort,
            # without grouping (the groupby below needs ~60 MB for a moment at 1M rows)
            ids = units.to_numpy()
            lo = int(ids.min())
            if int(ids.max()) - lo <= 4 * len(ids) + 1024:
                bad = _differs_from_first(np.subtract(ids, lo, dtype=np.int64),
                                          values.to_numpy())
                return np.unique(ids[bad]).tolist()
        else:
            # other ids (strings): the same test on pandas' codes; only a unit that varies
            # (an error) needs the groupby below, which names the units in sorted order
            codes = pd.factorize(units)[0]
            known = codes >= 0  # (groupby leaves missing units out)
            if not _differs_from_first(codes[known], values.to_numpy()[known]).any():
                return []
    per_unit = frame.groupby(unit, sort=True, observed=True)[cohort].nunique(dropna=False)
    return per_unit[per_unit > 1].index.tolist()


def _differs_from_first(codes: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """True for rows whose value differs from the first value of their code (NaN equals
    NaN, as ``nunique(dropna=False)``); ``codes`` non-negative."""
    if not len(codes):
        return np.zeros(0, dtype=bool)
    first = np.empty(int(codes.max()) + 1, dtype=vals.dtype)
    first[codes[::-1]] = vals[::-1]
    ref = first[codes]
    bad = vals != ref
    if vals.dtype.kind == "f":
        bad &= ~(np.isnan(vals) & np.isnan(ref))
    return bad


def check_timing_role(frame: pd.DataFrame, *, unit: str, time: str, cohort: str | None,
                      never_treated: Any) -> None:
    """Validate a declared timing role; raise :class:`RoleError` naming the column and the fix.

    ``cohort`` must be a column other than the keys, constant within unit, holding
    whole periods (numbers, or periods of the panel's frequency), with
    ``never_treated`` given whenever ``cohort`` is.
    """
    if cohort is None:
        if never_treated is not None:
            raise RoleError("never_treated was given without cohort: name the cohort column "
                            "(each unit's first treated period), e.g. cohort='first_treated'.")
        return
    if not isinstance(cohort, str):
        raise RoleError(f"cohort must be a column name (str); got {cohort!r}.")
    if cohort not in frame.columns:
        raise RoleError(f"cohort column {cohort!r} is not in the panel; columns: "
                        f"{list(frame.columns)}.")
    if cohort in (unit, time):
        raise RoleError(f"cohort column {cohort!r} is the panel's {'unit' if cohort == unit else 'time'} "
                        "column; give the column holding each unit's first treated period.")
    if never_treated is None:
        raise RoleError(f"cohort={cohort!r} needs never_treated=<value(s) of {cohort!r} marking "
                        "never-treated units>, e.g. 0 or float('nan'); it is never guessed.")
    never = never_mask(frame[cohort], never_treated)
    problem = cohort_problem(frame, unit, cohort, never)
    if problem:
        raise RoleError(problem[0].upper() + problem[1:])
    values = frame.loc[~never, cohort]
    t = frame[time]
    if isinstance(values.dtype, pd.PeriodDtype):
        if not isinstance(t.dtype, pd.PeriodDtype) or values.dtype.freq != t.dtype.freq:
            raise RoleError(f"Cohort column {cohort!r} ({values.dtype}) and time column {time!r} "
                            f"({t.dtype}) count different periods; give both in one frequency.")
        return
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        v = values.to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v != np.round(v))
        if bad.any():
            shown = sorted(set(v[bad].tolist()))[:5]
            raise RoleError(f"Cohort column {cohort!r} holds values that are not whole periods "
                            f"{shown}; give each unit's first treated period (e.g. the year), "
                            "and mark never-treated units with never_treated.")
        return
    freq = t.dtype.freq if isinstance(t.dtype, pd.PeriodDtype) else None
    if freq is not None:
        try:
            for u in pd.unique(values):
                pd.Period(u, freq=freq)
        except (ValueError, TypeError):
            pass
        else:
            return
    raise RoleError(f"Cohort column {cohort!r} holds {values.dtype} values that are not periods "
                    f"(e.g. {values.iloc[0]!r}); give each unit's first treated period as a "
                    "number (the year) or a period of the panel's frequency.")
