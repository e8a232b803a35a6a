"""Expansion of the formula's ``i()`` terms into indicator columns (fixest/pyfixest naming).

:func:`expand_indicators` replaces each :class:`~causalpolicing.formula.Indicator`
of a formula by plain terms over new 0/1 (or slope) columns added to a copy of
the data, named as pyfixest names its coefficients: ``rel::-2``, ``rel::0:x``,
``rel::-2:g::a``. The levels are those of the data the model is fitted on,
sorted (numbers numerically); the reference level(s) are left out.

>>> import pandas as pd
>>> from causalpolicing.formula import parse_formula
>>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "rel": [-2, -1, 0, -1]})
>>> f, data, missing = expand_indicators(parse_formula("y ~ i(rel, ref=-1)"), df)
>>> [t.name for t in f.exog], data["rel::0"].tolist()
(['rel::-2', 'rel::0'], [0.0, 0.0, 1.0, 0.0])
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import FormulaError
from ..formula import Factor, Formula, Indicator, Term

__all__ = ["expand_indicators"]


def _levels(values: pd.Series, column: str) -> tuple[list[Any], bool]:
    """The sorted distinct non-missing levels, and whether they are numbers."""
    present = values.dropna()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    uniq = pd.unique(present)
    if numeric:
        return sorted(v.item() if hasattr(v, "item") else v for v in uniq), True
    try:
        return sorted(uniq.tolist()), False
    except TypeError:
        raise FormulaError(f"i({column}): the levels of {column!r} mix types that cannot be "
                           "sorted; convert the column to text or numbers first.") from None


def _label(level: Any) -> str:
    return str(level)


def _match_refs(term: Indicator, levels: list[Any], numeric: bool) -> list[Any]:
    refs: list[Any] = []
    for r in term.ref:
        hit = [lv for lv in levels if (lv == r if numeric and not isinstance(r, str)
                                       else _label(lv) == str(r))]
        if not hit:
            shown = ", ".join(_label(lv) for lv in levels[:20])
            raise FormulaError(
                f"{term.text}: the reference level {r!r} is not a level of {term.var!r} in the "
                f"data used; its levels are {shown}{' ...' if len(levels) > 20 else ''}. "
                "Give one of them as ref=.")
        refs.append(hit[0])
    return refs


def expand_indicators(formula: Formula, data: pd.DataFrame
                      ) -> tuple[Formula, pd.DataFrame, list[tuple[np.ndarray, str]]]:
    """The formula without ``i()`` terms, the data with their columns, and the rows to drop.

    Returns the formula and data unchanged when there is no ``i()`` term. The
    third item lists ``(missing_mask, column)`` for the rows where an
    ``i()`` variable is missing (the caller drops and logs them).
    """
    if not any(isinstance(t, Indicator) for t in formula.exog):
        return formula, data, []
    new_cols: dict[str, np.ndarray] = {}
    missing: list[tuple[np.ndarray, str]] = []
    exog: list[Term] = []
    for term in formula.exog:
        if not isinstance(term, Indicator):
            exog.append(term)
            continue
        for c in term.columns:
            if c not in data.columns:
                raise FormulaError(f"The data have no column {c!r} (used in {term.text}).")
        values = data[term.var]
        levels, numeric = _levels(values, term.var)
        if not levels:
            raise FormulaError(f"{term.text}: {term.var!r} has no non-missing value.")
        refs = _match_refs(term, levels, numeric) if term.ref else [levels[0]]
        kept = [lv for lv in levels if lv not in refs]
        miss = values.isna().to_numpy()
        if miss.any():
            missing.append((miss, term.var))
        arr = values.to_numpy()
        pieces: list[tuple[str, np.ndarray]] = []
        for lv in kept:
            pieces.append((f"{term.var}::{_label(lv)}", (arr == lv) & ~miss))
        if term.by is not None:
            by = data[term.by]
            if pd.api.types.is_numeric_dtype(by) and not pd.api.types.is_bool_dtype(by):
                slope = by.to_numpy(dtype=float)
                bad = np.isnan(slope)
                if bad.any():
                    missing.append((bad, term.by))
                pieces = [(f"{name}:{term.by}", np.where(bad, 0.0, ind * slope))
                          for name, ind in pieces]
            else:
                by_levels, _ = _levels(by, term.by)
                bmiss = by.isna().to_numpy()
                if bmiss.any():
                    missing.append((bmiss, term.by))
                barr = by.to_numpy()
                pieces = [(f"{name}:{term.by}::{_label(b)}", ind & (barr == b))
                          for name, ind in pieces for b in by_levels]
        for name, col in pieces:
            if name in data.columns or name in new_cols:
                raise FormulaError(f"{term.text} builds the column {name!r}, which the data "
                                   "already have; rename that column.")
            new_cols[name] = np.asarray(col, dtype=float)
            exog.append(Term((Factor(name),)))
    names = [t.name for t in exog]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise FormulaError(f"The regressors {twice} appear twice once i() is expanded in "
                           f"{formula}.")
    out = pd.concat([data, pd.DataFrame(new_cols, index=data.index)], axis=1)
    return replace(formula, exog=tuple(exog)), out, missing
