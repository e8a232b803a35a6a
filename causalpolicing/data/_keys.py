"""The unit and time keys: present, clean and unique."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..exceptions import DuplicateKeyError, MissingKeyError, RoleError
from ._messages import describe_rows


def _check_keys_present(frame: pd.DataFrame, unit: str, time: str, rows: np.ndarray) -> None:
    """Every row needs a unit and a time; blank text counts as missing."""
    problems = []
    for col, role in ((unit, "unit"), (time, "time")):
        values = frame[col]
        missing = values.isna().to_numpy()
        if not pd.api.types.is_numeric_dtype(values) and not isinstance(
            values.dtype, pd.PeriodDtype | pd.DatetimeTZDtype
        ) and not pd.api.types.is_datetime64_any_dtype(values):
            arrow = getattr(values.array, "_pa_array", None)
            if arrow is not None and (pa.types.is_string(arrow.type)
                                     or pa.types.is_large_string(arrow.type)):
                # pyarrow text: empty or only spaces, without making stripped copies
                blank = pc.or_(pc.equal(pc.utf8_length(arrow), 0), pc.utf8_is_space(arrow))
                blank = pc.fill_null(blank, True).to_numpy(zero_copy_only=False)
            else:
                text = values.astype("string").str.strip()
                blank = (text == "").fillna(True).to_numpy(dtype=bool)
            missing = missing | blank
        if missing.any():
            problems.append(f"{role} column {col!r} is empty in {describe_rows(rows[missing])}")
    if problems:
        text = "; ".join(problems)
        raise MissingKeyError(
            f"{text[0].upper()}{text[1:]}. Every row needs a unit and a time: fill them in, or remove "
            "those rows from the source before loading (rows without keys cannot be placed in "
            "the panel, so they are not dropped silently)."
        )


def _normalise_units(values: pd.Series, column: str, rows: np.ndarray) -> pd.Series:
    """Units as clean labels: stripped strings, or integers for whole-number codes."""
    if pd.api.types.is_bool_dtype(values):
        raise RoleError(f"Unit column {column!r} holds True/False values; it needs unit labels.")
    if pd.api.types.is_numeric_dtype(values):
        arr = values.to_numpy(dtype=float)
        if (np.floor(arr) == arr).all():
            return pd.Series(arr.astype(np.int64), index=values.index)
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return values.astype(str).str.strip().astype(object)


def _unit_labels(values: pd.Series, column: str, rows: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """:func:`_normalise_units` and the units' sort codes (:func:`_sort_key`).

    Text held by pyarrow is stripped and numbered there (fast), before it becomes
    Python strings.
    """
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        stripped = values.str.strip()
        return stripped.astype(object), _sort_key(stripped)
    labels = _normalise_units(values, column, rows)
    return labels, _sort_key(labels)


def _sort_key(units: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(units, sort=True)
    return codes


def _key_order(
    frame: pd.DataFrame, unit: str, time: str, ucodes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions that sort the rows by unit, then time (stable), and the units' sort codes."""
    if ucodes is None:
        ucodes = _sort_key(frame[unit])
    times = frame[time].array.asi8
    if len(times) == 0:
        return np.arange(0), ucodes
    lo, span = int(times.min()), int(times.max()) - int(times.min()) + 1
    if (int(ucodes.max()) + 1) * span < 2**62:
        # one integer key: a stable sort of it is fast, and linear when already sorted
        key = ucodes.astype(np.int64) * span + (times - lo)
        if (key[1:] >= key[:-1]).all():
            return np.arange(len(key)), ucodes
        return np.argsort(key, kind="stable"), ucodes
    return np.lexsort((times, ucodes)), ucodes


def _check_duplicates(
    frame: pd.DataFrame, unit: str, time: str, rows: np.ndarray,
    key: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Each (unit, time) pair once; ``key`` is :func:`_key_order` of the frame.

    With the rows sorted, duplicates are neighbours: one sort, no hashing of pairs.
    """
    order, ucodes = _key_order(frame, unit, time) if key is None else key
    times = frame[time].array.asi8
    if len(order) and (order[0] != 0 or (np.diff(order) != 1).any()):
        ucodes, times = ucodes[order], times[order]
    same = (ucodes[1:] == ucodes[:-1]) & (times[1:] == times[:-1])
    if not same.any():
        return
    dup = np.zeros(len(frame), dtype=bool)
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    sub = pd.DataFrame({"u": frame[unit].to_numpy()[dup],
                        "t": frame[time].array[dup].astype(str),
                        "row": rows[dup]})
    groups = sub.groupby(["u", "t"], sort=True)["row"].apply(list)
    shown = [f"{u!r} {t} (rows {', '.join(map(str, r))})" for (u, t), r in groups.head(8).items()]
    more = f" and {len(groups) - 8} more" if len(groups) > 8 else ""
    raise DuplicateKeyError(
        f"{len(groups)} unit-time pair(s) of ({unit!r}, {time!r}) appear more than once: "
        f"{'; '.join(shown)}{more}. Each unit may have one row per period: remove duplicates, "
        "aggregate them, or add the column that tells them apart to the unit (e.g. a "
        "'canton_offence' unit)."
    )
