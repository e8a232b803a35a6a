"""Roles of columns: role specifications, outcome and treatment kinds, column checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._hints import close_matches, did_you_mean
from ..exceptions import ColumnNotFoundError, NegativeValueError, NonIntegerCountError, RoleError
from ._messages import describe_rows, quote_list, read_options_hint
from ._numeric import NA_MARKERS, _to_numeric
from ._source import _name

__all__ = ["resolve_kinds", "infer_kind"]

RoleSpec = str | Sequence[str] | Mapping[str, str]


def _as_tuple(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise RoleError(f"{what} must be a column name or a list of names; got {value!r}.") from None


def _parse_role_spec(spec: RoleSpec, role: str, allowed: tuple[str, ...]) -> dict[str, str | None]:
    if isinstance(spec, str):
        return {spec: None}
    if isinstance(spec, Mapping):
        out: dict[str, str | None] = {}
        for name, kind in spec.items():
            if kind not in allowed and kind not in (None, "auto"):
                raise RoleError(
                    f"{role.capitalize()} {name!r}: unknown kind {kind!r}; use one of "
                    f"{quote_list(allowed)} (or None to infer it)."
                )
            out[name] = None if kind in (None, "auto") else kind
        if not out:
            raise RoleError(f"At least one {role} column is needed.")
        return out
    names = _as_tuple(spec, role)
    if not names:
        raise RoleError(f"At least one {role} column is needed.")
    return {n: None for n in names}


def resolve_kinds(
    spec: RoleSpec, role: str, frame: pd.DataFrame, allowed: tuple[str, ...], rows: Any
) -> tuple[tuple[str, ...], dict[str, str]]:
    """Parse a role spec against a frame: column names and their kinds.

    Used when roles change after loading (``Panel.with_roles``); ``rows`` are the
    row numbers to name in errors (default: 1-based positions in ``frame``).
    Text in the columns raises :class:`~causalpolicing.exceptions.NonNumericError`.
    """
    parsed = _parse_role_spec(spec, role, allowed)
    missing = [c for c in parsed if c not in frame.columns]
    if missing:
        hints = [h for c in missing for h in close_matches(c, [str(x) for x in frame.columns])]
        hint = f" (did you mean {', '.join(map(repr, dict.fromkeys(hints)))}?)" if hints else ""
        raise ColumnNotFoundError(
            f"{role.capitalize()} column(s) {quote_list(missing)} not in the panel{hint}; "
            f"columns: {quote_list(frame.columns, 30)}. Create the column first (e.g. with a "
            "transform) or pick an existing one."
        )
    r = np.arange(1, len(frame) + 1) if rows is None else np.asarray(rows)
    kinds = {}
    for c, k in parsed.items():
        values = _to_numeric(frame[c], c, role, r, NA_MARKERS, ".", None).to_numpy(dtype=float)
        kinds[c] = k or infer_kind(values, role)
        _check_kind(values, c, role, kinds[c], r)
    return tuple(parsed), kinds


def infer_kind(values: np.ndarray, role: str) -> str:
    """Infer an outcome kind (count/continuous) or a treatment kind (binary/continuous).

    Examples
    --------
    >>> import numpy as np
    >>> infer_kind(np.array([0, 3, 7.0]), "outcome"), infer_kind(np.array([0, 1.0]), "treatment")
    ('count', 'binary')
    """
    v = values[~np.isnan(values)]
    if role == "treatment":
        return "binary" if len(v) and np.isin(v, (0.0, 1.0)).all() else "continuous"
    if len(v) and (v >= 0).all() and (np.floor(v) == v).all():
        return "count"
    return "continuous"


def _check_kind(values: np.ndarray, col: str, role: str, kind: str, rows: np.ndarray) -> None:
    ok = ~np.isnan(values)
    if kind in ("count", "rate"):
        neg = ok & (values < 0)
        if neg.any():
            raise NegativeValueError(
                f"{role.capitalize()} {col!r} is declared a {kind} but is negative in "
                f"{describe_rows(rows[neg], values[neg])}. Fix the values, or declare it "
                f"'continuous' (e.g. {role}={{{col!r}: 'continuous'}})."
            )
    if kind == "count":
        frac = ok & (np.floor(values) != values)
        if frac.any():
            raise NonIntegerCountError(
                f"Outcome {col!r} is declared a count but has non-integer values in "
                f"{describe_rows(rows[frac], values[frac])}. Declare it 'rate' or "
                "'continuous', or correct the values."
            )
    if kind == "binary":
        bad = ok & ~np.isin(values, (0.0, 1.0))
        if bad.any():
            raise RoleError(
                f"{role.capitalize()} {col!r} is declared binary but holds values other than "
                f"0 and 1 in {describe_rows(rows[bad], values[bad])}. Declare it 'continuous' "
                "or recode it."
            )


def _check_columns_exist(frame: pd.DataFrame, role_of: Mapping[str, str], source: Any) -> None:
    columns = [str(c) for c in frame.columns]
    missing = [c for c in role_of if c not in columns]
    if not missing:
        return
    parts = []
    for c in missing:
        parts.append(f"{role_of[c]} {c!r}{did_you_mean(c, columns, n=3)}")
    msg = (
        f"Column(s) not found in {_name(source)}: {'; '.join(parts)}. "
        f"Available columns: {quote_list(columns, 30)}."
    )
    if isinstance(source, pd.DataFrame):
        in_index = [c for c in missing if c in [str(n) for n in source.index.names]]
        if in_index:
            msg += (
                f" {quote_list(in_index)} {'is' if len(in_index) == 1 else 'are'} in the "
                "DataFrame's index: pass df.reset_index() instead."
            )
    unnamed = [c for c in columns if c.startswith("Unnamed:")]
    if len(columns) > 1 and len(unnamed) >= len(columns) / 2:
        msg += (
            f" {len(unnamed)} of the {len(columns)} header cells are empty ('Unnamed: ...'), so "
            "the first row is probably a title, not the header: "
            f"{read_options_hint({'skiprows': 1})}, with the number of rows above the header."
        )
    if len(columns) == 1 and any(d in columns[0] for d in ",;\t|"):
        found = [d for d in (",", ";", "\t", "|") if d in columns[0]]
        msg += (
            f" The whole header was read as one column, so the delimiter is probably wrong: "
            f"{read_options_hint({'delimiter': found[0]})}."
        )
    raise ColumnNotFoundError(msg)
