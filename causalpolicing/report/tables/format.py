"""Format: the numeric :class:`~.extract.TableModel` -> strings (:class:`FormattedTable`).

The second table stage. Numbers get a fixed number of decimals (``digits``) and
thousands separators; counts (observations, clusters) are shown as integers;
stars come from the p-values; the uncertainty is put in parentheses (standard
errors, t statistics, p-values) or brackets (confidence intervals). Negative
numbers use a plain hyphen-minus ``-`` in every output format, and a value that
rounds to zero is shown without a sign (``0.000``, never ``-0.000``). The notes
that explain the table (what is in parentheses, the star thresholds, which
models are exponentiated) are added here, before the user's own notes.

Renderers read only :class:`FormattedTable`.

Examples
--------
>>> from causalpolicing.report.tables.format import format_number
>>> format_number(-0.354830, 3), format_number(12345.678, 1), format_number(-0.0004, 3)
('-0.355', '12,345.7', '0.000')
>>> format_number(float("nan"), 3)
''
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ...exceptions import SpecError
from .extract import Cell, TableModel

_EVENT = re.compile(r"event_(lead|lag)\d+")

__all__ = ["BodyRow", "FormattedTable", "auto_notes", "format_number", "format_table",
           "stars_for"]


@dataclass(frozen=True)
class BodyRow:
    """One term: its label, and per model the estimate, its stars and the uncertainty text.

    A model without the term has empty strings in all three.
    """

    label: str
    estimates: tuple[str, ...]
    stars: tuple[str, ...]
    uncertainty: tuple[str, ...]


@dataclass(frozen=True)
class FormattedTable:
    """Everything a renderer needs, as strings.

    Attributes
    ----------
    title
        Caption, or ``None``.
    columns
        Model names.
    header_rows
        ``(label, cells)`` rows shown under the model names (dependent variable, estimator).
    body
        One :class:`BodyRow` per term.
    gof
        ``(label, cells)`` rows below the estimates.
    notes
        Explanatory notes (automatic ones first, then the user's).
    """

    title: str | None
    columns: tuple[str, ...]
    header_rows: tuple[tuple[str, tuple[str, ...]], ...]
    body: tuple[BodyRow, ...]
    gof: tuple[tuple[str, tuple[str, ...]], ...]
    notes: tuple[str, ...]


def format_number(x: float, digits: int, thousands: bool = True) -> str:
    """``x`` with ``digits`` decimals and (optionally) thousands separators; NaN -> ``""``.

    Examples
    --------
    >>> format_number(1234.5, 2), format_number(1234.5, 0, thousands=False)
    ('1,234.50', '1234')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    s = f"{x:,.{digits}f}" if thousands else f"{x:.{digits}f}"
    if s.startswith("-") and not any(c in "123456789" for c in s):
        s = s[1:]
    return s


def stars_for(p: float, stars: tuple[tuple[str, float], ...]) -> str:
    """The symbol of the strictest threshold that ``p`` is below (strictly), or ``""``.

    Examples
    --------
    >>> spec = (("*", 0.1), ("**", 0.05), ("***", 0.01))
    >>> stars_for(0.049, spec), stars_for(0.05, spec), stars_for(0.2, spec)
    ('**', '*', '')
    """
    out = ""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return out
    for sym, thr in stars:  # loosest first
        if p < thr:
            out = sym
    return out


def _p_text(p: float, digits: int) -> str:
    if isinstance(p, float) and math.isnan(p):
        return ""
    floor = 10.0 ** -digits
    return f"<{format_number(floor, digits)}" if p < floor else format_number(p, digits)


def _uncertainty(cell: Cell, kind: str, digits: int) -> str:
    if kind == "se":
        inner = format_number(cell.std_error, digits)
        return f"({inner})" if inner else ""
    if kind == "t":
        inner = format_number(cell.statistic, digits)
        return f"({inner})" if inner else ""
    if kind == "p":
        inner = _p_text(cell.p_value, digits)
        return f"({inner})" if inner else ""
    lo, hi = format_number(cell.conf_low, digits), format_number(cell.conf_high, digits)
    return f"[{lo}, {hi}]" if lo and hi else ""


def _gof_value(v: Any, digits: int) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "Yes" if v else "No"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, tuple):
        return ", ".join(_gof_value(x, digits) for x in v)
    if isinstance(v, float):
        return format_number(v, digits)
    try:  # numpy scalars
        import numpy as np

        if isinstance(v, np.integer):
            return f"{int(v):,}"
        if isinstance(v, np.floating):
            return format_number(float(v), digits)
        if isinstance(v, np.bool_):
            return "Yes" if bool(v) else "No"
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    return str(v)


_UNC_NOTES = {
    "se": "Standard errors in parentheses.",
    "t": "t statistics in parentheses.",
    "p": "p-values in parentheses.",
}


def auto_notes(model: TableModel) -> list[str]:
    """The notes explaining the uncertainty, the stars and exponentiation.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> from causalpolicing.report.tables.extract import extract
    >>> r = BaseResults(params=pd.Series({"x": 1.0}), cov=pd.DataFrame([[1.0]], ["x"], ["x"]),
    ...                 nobs=10, df_inference=None, cov_type="iid", estimator="OLS", spec={})
    >>> auto_notes(extract(r, stars=True, uncertainty="ci", level=0.9))
    ['90% confidence intervals in brackets.', '* p < 0.1, ** p < 0.05, *** p < 0.01.']
    """
    notes = []
    if model.uncertainty == "ci":
        notes.append(f"{model.level * 100:g}% confidence intervals in brackets.")
    else:
        notes.append(_UNC_NOTES[model.uncertainty])
    if model.stars:
        notes.append(", ".join(f"{s} p < {t:g}" for s, t in model.stars) + ".")
    if any(_EVENT.fullmatch(t) for t in model.term_keys):
        notes.append("Event time k: the effect k periods after treatment starts (k < 0: "
                     "before it), relative to the design's reference period"
                     + ("; ATT: the average effect on the treated." if "ATT" in
                        model.term_keys else "."))
    if any(model.exponentiated):
        which = [n for n, e in zip(model.model_names, model.exponentiated, strict=True) if e]
        subject = "All models" if all(model.exponentiated) else "Models " + ", ".join(which)
        notes.append(
            f"{subject}: exponentiated coefficients (rate ratios for log-link models, odds "
            "ratios for logit models) per 1-unit change; intervals are the exponentiated "
            "intervals; standard errors by the delta method, exp(b) * se(b); p-values and "
            "stars test a ratio of 1.")
    return notes


def format_table(model: TableModel, digits: int = 3) -> FormattedTable:
    """Turn the numeric model into strings.

    Parameters
    ----------
    model
        The output of :func:`~causalpolicing.report.tables.extract.extract`.
    digits
        Decimals of estimates, uncertainty and fit statistics (counts are integers).

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> from causalpolicing.report.tables.extract import extract
    >>> r = BaseResults(params=pd.Series({"x": -0.35483}), nobs=630, df_inference=None,
    ...                 cov=pd.DataFrame([[0.032205 ** 2]], ["x"], ["x"]), cov_type="iid",
    ...                 estimator="OLS", spec={})
    >>> f = format_table(extract(r, stars=True))
    >>> f.body[0]
    BodyRow(label='x', estimates=('-0.355',), stars=('***',), uncertainty=('(0.032)',))
    >>> f.gof
    (('Observations', ('630',)), ('Std. errors', ('iid',)))
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 15:
        raise SpecError(f"digits must be an integer from 0 to 15 (decimals shown); got {digits!r}.")
    body = []
    for label, row in zip(model.terms, model.cells, strict=True):
        est = tuple("" if c is None else format_number(c.estimate, digits) for c in row)
        st = tuple("" if c is None else stars_for(c.p_value, model.stars) for c in row)
        unc = tuple("" if c is None else _uncertainty(c, model.uncertainty, digits) for c in row)
        body.append(BodyRow(label, est, st, unc))
    gof = tuple((g.label, tuple(_gof_value(v, digits) for v in g.values)) for g in model.gof)
    return FormattedTable(
        title=model.title,
        columns=model.model_names,
        header_rows=model.header_rows,
        body=tuple(body),
        gof=gof,
        notes=tuple(auto_notes(model)) + model.notes,
    )
