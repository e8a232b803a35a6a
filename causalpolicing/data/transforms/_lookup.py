"""Vectorised row lookups by (unit, period) for lags, leads and neighbour values.

Row lookups use a dense unit x period table of row positions when it is small
(see :func:`_dense_fits`), one sorted integer key per row and a binary search
otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._common import _frame

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

# Row lookups by (unit, period) use a dense unit x period table when it has at most
# max(_DENSE_ROWS_FACTOR * rows, _DENSE_MIN_CELLS) cells, a sorted key otherwise.
_DENSE_ROWS_FACTOR = 4
_DENSE_MIN_CELLS = 1 << 20


def _dense_fits(n_units: int, span: int, n_rows: int) -> bool:
    """Whether a dense ``n_units x span`` table is small enough for ``n_rows`` rows."""
    return n_units * span <= max(_DENSE_ROWS_FACTOR * n_rows, _DENSE_MIN_CELLS)


def _period_span(ords: np.ndarray) -> tuple[int, int]:
    """The first period ordinal and the number of periods from the first to the last."""
    lo = int(ords.min())
    return lo, int(ords.max()) - lo + 1


def _keys(panel: Panel) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Unit codes (sorted units), the units, and period ordinals of each row."""
    f = _frame(panel)
    codes, uniques = pd.factorize(f[panel.unit], sort=True)
    return codes.astype(np.int64), pd.Index(uniques), f[panel.time].array.asi8.astype(np.int64)


def _locate(codes: np.ndarray, ords: np.ndarray, want_codes: np.ndarray,
            want_ords: np.ndarray) -> np.ndarray:
    """Row position of each wanted (unit code, period ordinal) pair; -1 where absent.

    Vectorised: a dense unit x period table of row positions when it is small
    (a few times the number of rows), otherwise one integer key per row, a sort
    and a binary search.
    """
    lo, span = _period_span(ords)
    n_units = int(codes.max()) + 1
    rel = want_ords - lo
    ok = (want_codes >= 0) & (rel >= 0) & (rel < span)
    out = np.full(len(want_codes), -1, dtype=np.int64)
    if _dense_fits(n_units, span, len(codes)):
        dtype = np.int32 if len(codes) < np.iinfo(np.int32).max else np.int64
        table = np.full((n_units, span), -1, dtype=dtype)
        table[codes, ords - lo] = np.arange(len(codes), dtype=dtype)
        out[ok] = table[want_codes[ok], rel[ok]]
        return out
    key = codes * span + (ords - lo)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    want = want_codes[ok] * span + rel[ok]
    pos = np.minimum(np.searchsorted(sorted_key, want), len(sorted_key) - 1)
    hit = sorted_key[pos] == want
    out[np.flatnonzero(ok)[hit]] = order[pos[hit]]
    return out


def _neighbour_totals(codes: np.ndarray, ords: np.ndarray, x: np.ndarray, src: np.ndarray,
                      dst: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: sum of the neighbours' non-missing values and how many there are.

    ``src``/``dst`` are the adjacency's edges as unit codes, sorted by ``src``
    (``dst == -1``: a neighbour without rows in the panel). Dense path: the
    values pivoted to a unit x period table, summed over each unit's neighbours
    in blocks of edges (memory bounded by the table, not by rows x neighbours).
    Sparse path: one row lookup per row and neighbour.
    """
    n = len(codes)
    lo, span = _period_span(ords)
    rel = ords - lo
    if _dense_fits(n_units, span, n):
        values = np.full((n_units + 1, span), np.nan)   # the extra last row: absent units
        values[codes, rel] = x
        have = ~np.isnan(values)
        values[~have] = 0.0
        dst = np.where(dst >= 0, dst, n_units)
        total = np.zeros((n_units, span))
        count = np.zeros((n_units, span), dtype=np.int64)
        block = max(1, _DENSE_MIN_CELLS // span)
        for b in range(0, len(src), block):
            s, d = src[b:b + block], dst[b:b + block]
            first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
            total[s[first]] += np.add.reduceat(values[d], first, axis=0)
            count[s[first]] += np.add.reduceat(have[d].astype(np.int64), first, axis=0)
        return total[codes, rel], count[codes, rel]
    degree_u = np.bincount(src, minlength=n_units).astype(np.int64)
    offset_u = np.cumsum(degree_u) - degree_u
    degree = degree_u[codes]
    owner = np.repeat(np.arange(n), degree)
    within = np.arange(int(degree.sum())) - np.repeat(np.cumsum(degree) - degree, degree)
    want_codes = dst[np.repeat(offset_u[codes], degree) + within]
    pos = _locate(codes, ords, want_codes, np.repeat(ords, degree))
    vals = np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan)
    present = ~np.isnan(vals)
    sums = np.bincount(owner, weights=np.where(present, vals, 0.0), minlength=n)
    counts = np.bincount(owner, weights=present.astype(float), minlength=n).astype(np.int64)
    return sums, counts
