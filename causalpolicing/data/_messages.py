"""Small helpers that format rows and values for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["describe_rows", "close_matches", "quote_list", "show_value"]


def show_value(value: object) -> str:
    """A value as users wrote it: strings quoted, numpy scalars as plain numbers.

    Examples
    --------
    >>> import numpy as np
    >>> show_value(np.float64(2.0)), show_value("abc"), show_value(np.int64(3)), show_value(None)
    ('2.0', "'abc'", '3', 'None')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def describe_rows(rows: Sequence[int] | np.ndarray, values: Sequence[object] | None = None,
                  *, limit: int = 8) -> str:
    """Describe source rows (and optionally their values) compactly.

    Parameters
    ----------
    rows
        Source row numbers (1-based data rows, the first row below the header is 1).
    values
        The offending value of each row, shown in parentheses.
    limit
        At most this many rows are listed; the rest are counted.

    Examples
    --------
    >>> describe_rows([3, 17], ["abc", "x"])
    "rows 3 ('abc') and 17 ('x')"
    >>> describe_rows(list(range(1, 12)))
    'rows 1, 2, 3, 4, 5, 6, 7, 8 and 3 more'
    """
    rows = [int(r) for r in rows]
    n = len(rows)
    shown = []
    for i, r in enumerate(rows[:limit]):
        if values is not None:
            shown.append(f"{r} ({show_value(values[i])})")
        else:
            shown.append(str(r))
    word = "row" if n == 1 else "rows"
    if n <= limit:
        if n == 1:
            return f"{word} {shown[0]}"
        return f"{word} {', '.join(shown[:-1])} and {shown[-1]}"
    return f"{word} {', '.join(shown)} and {n - limit} more"


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Candidates that look like ``name`` (case-insensitive), best first."""
    candidates = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)
    exact_ci = [lowered[name.lower()]] if name.lower() in lowered else []
    out = exact_ci + [lowered[h] for h in hits if lowered[h] not in exact_ci]
    return out[:n]


def quote_list(items: Iterable[object], limit: int = 12) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items, then a count."""
    items = list(items)
    shown = ", ".join(repr(str(i)) for i in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown
