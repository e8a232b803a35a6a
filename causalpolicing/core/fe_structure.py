"""The structure of fixed effects: level codes, singletons and absorbed degrees of freedom.

Levels are coded 0..L-1 in sorted order (:func:`factorize`), so everything
downstream is deterministic. :func:`drop_singletons` removes rows alone in a
level of some fixed effect, repeatedly, until none is left.

Degrees of freedom absorbed by the fixed effects (:func:`fe_dof`): one fixed
effect: its number of levels; two: ``levels1 + levels2 - components`` (connected
components of the bipartite graph of levels, exact); three or more: the exact
count for the first two plus ``levels_k - 1`` for every further one (the same
approximation fixest uses by default; it can overstate the absorbed degrees of
freedom when further fixed effects are redundant).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["drop_singletons", "factorize", "fe_dof", "recode"]

_NAT = np.iinfo(np.int64).min


def factorize(values: pd.Series | np.ndarray | Sequence[pd.Series]) -> tuple[np.ndarray, int]:
    """Integer codes 0..L-1 (sorted level order) of one column or of interacted columns.

    Missing values get code -1.

    Examples
    --------
    >>> codes, n = factorize(np.array(["b", "a", "b"]))
    >>> codes.tolist(), n
    ([1, 0, 1], 2)
    """
    if isinstance(values, (list, tuple)):
        codes = np.zeros(len(values[0]), dtype=np.int64)
        for v in values:
            c, n = factorize(v)
            bad = (codes < 0) | (c < 0)
            codes = codes * max(n, 1) + c
            codes[bad] = -1
            codes, _ = _recode(codes)  # keeps the product small
        return _recode(codes)
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, (pd.PeriodDtype, pd.DatetimeTZDtype)) or (
            isinstance(dtype, np.dtype) and dtype.kind in "mM"):
        # periods and datetimes: their int64 ordinals sort like the values (NaT is the
        # smallest int64), so code those instead of converting to Python objects
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        ordinals = np.asarray(series.array.asi8 if hasattr(series.array, "asi8")
                              else series.to_numpy().view(np.int64), dtype=np.int64)
        # missing (NaT) is the smallest int64, exactly what isna() tests for these dtypes
        missing = ordinals == _NAT
        if not missing.any():
            return factorize(ordinals)
        if missing.all():
            return np.full(len(ordinals), -1, dtype=np.int64), 0
        fill = ordinals[~missing].min()  # an existing level: adds none
        codes, _ = factorize(np.where(missing, fill, ordinals))
        return _recode(np.where(missing, -1, codes))
    arr = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if arr.dtype.kind in "iu" and len(arr):
        # integers: a lookup table keeps sorted order without hashing
        lo = int(arr.min())
        if int(arr.max()) - lo <= 4 * len(arr) + 1024:
            return _recode(np.subtract(arr, lo, dtype=np.int64))
    if arr.dtype == object and len(arr):
        # strings: factorize unsorted, then sort the (few) levels. For levels that are all
        # str this is what pd.factorize(sort=True) does (safe_sort: uniques.argsort(), codes
        # mapped through the inverse order), at half the cost; anything else goes there
        codes, uniques = pd.factorize(arr, sort=False, use_na_sentinel=True)
        if len(uniques) and all(type(u) is str for u in uniques):
            order = uniques.argsort()
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order), dtype=np.int64)
            out = rank[codes]  # (a missing value's -1 picks the last level: reset below)
            if codes.min() < 0:
                out[codes < 0] = -1
            return out, len(uniques)
    # a numpy array (object or float) factorizes like its Series, without the Series layer
    target = arr if isinstance(values, pd.Series) and isinstance(values.dtype, np.dtype) \
        else values if isinstance(values, pd.Series) else pd.Series(values)
    codes, uniques = pd.factorize(target, sort=True, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), len(uniques)


def _recode(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Map non-negative codes to 0..L-1 keeping their order; -1 stays -1.

    Uses a lookup table (no hashing or sorting) when the codes are not too sparse.
    """
    ok = codes >= 0
    all_ok = bool(ok.all())
    if not len(codes) or (not all_ok and not ok.any()):
        return np.full(codes.shape, -1, dtype=np.int64), 0
    valid = codes if all_ok else codes[ok]
    top = int(valid.max()) + 1
    if top <= 4 * len(valid) + 1024:
        present = np.zeros(top, dtype=bool)
        present[valid] = True
        table = np.cumsum(present, dtype=np.int64) - 1
        n_levels = int(table[-1]) + 1
        if all_ok:  # the common case: no masked copies
            return table[valid], n_levels
        out = np.full(codes.shape, -1, dtype=np.int64)
        out[ok] = table[valid]
        return out, n_levels
    uniq, inv = np.unique(valid, return_inverse=True)
    if all_ok:
        return inv.ravel().astype(np.int64, copy=False), len(uniq)
    out = np.full(codes.shape, -1, dtype=np.int64)
    out[ok] = inv.ravel()
    return out, len(uniq)


def recode(codes: np.ndarray) -> np.ndarray:
    """Codes 0..L-1 without gaps (order kept) of non-negative integer codes."""
    return _recode(codes)[0]


def drop_singletons(fe_codes: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask of rows to keep after dropping singletons iteratively.

    A singleton is a row whose level of some fixed effect occurs only once; it
    is fit perfectly by its own fixed effect and carries no information on the
    slopes, but would distort the degrees of freedom. Dropping one can create
    another, so this repeats until none is left.

    Examples
    --------
    >>> drop_singletons([np.array([0, 0, 1, 2, 2]), np.array([0, 1, 0, 0, 1])]).tolist()
    [True, True, False, True, True]
    """
    n = len(fe_codes[0]) if fe_codes else 0
    keep = np.ones(n, dtype=bool)
    if all(np.bincount(c).min(initial=2) > 1 for c in fe_codes if len(c)):
        return keep  # fast path: no singleton at all
    while True:
        changed = False
        for codes in fe_codes:
            counts = np.bincount(codes[keep])
            single = keep.copy()
            single[keep] = counts[codes[keep]] == 1
            if single.any():
                keep &= ~single
                changed = True
        if not changed:
            return keep


def fe_dof(fe_codes: Sequence[np.ndarray]) -> tuple[int, tuple[int, ...]]:
    """Degrees of freedom absorbed by the fixed effects and the levels of each.

    Codes must be 0..L-1 without gaps. See the module notes for the rule used.

    Examples
    --------
    >>> fe_dof([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])])
    (3, (2, 2))
    >>> fe_dof([np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])])  # two components
    (2, (2, 2))
    """
    levels = tuple(int(c.max()) + 1 if len(c) else 0 for c in fe_codes)
    if not levels:
        return 0, ()
    if len(levels) == 1:
        return levels[0], levels
    n_comp = _n_components(fe_codes[0], fe_codes[1], levels[0], levels[1])
    dof = levels[0] + levels[1] - n_comp + sum(l_ - 1 for l_ in levels[2:])
    return int(dof), levels


def _n_components(a: np.ndarray, b: np.ndarray, la: int, lb: int) -> int:
    """Connected components of the bipartite graph whose edges are the rows (a, b).

    Min-label propagation with pointer jumping in numpy (no scipy import on the
    common path); falls back to :mod:`scipy.sparse.csgraph` if it has not settled
    after 200 rounds (very long chains of levels). Shortcut (exact): when the
    table of occurring pairs is small and some level of ``a`` occurs with every
    level of ``b`` while every level of ``a`` occurs at all, the graph is
    connected (one component; balanced panels).
    """
    if la * lb <= 4 * len(a) + 1024 and len(a):
        linked = np.zeros(la * lb, dtype=bool)
        linked[a * lb + b] = True
        linked = linked.reshape(la, lb)
        if linked.all(axis=1).any() and linked.any(axis=1).all():
            return 1
    lab = np.arange(la)
    for _ in range(200):
        lab_b = np.full(lb, la, dtype=np.int64)
        np.minimum.at(lab_b, b, lab[a])
        new = lab.copy()
        np.minimum.at(new, a, lab_b[b])
        while True:  # pointer jumping
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, lab):
            roots = np.bincount(lab, minlength=la)
            return int(np.count_nonzero(roots)) + int(lb - np.count_nonzero(np.bincount(b, minlength=lb)))
        lab = new
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(a)), (a, b + la)), shape=(la + lb,) * 2).tocsr()
    return int(connected_components(g, directed=False)[0])
