r"""Regression tables: :func:`table` and the :class:`Table` it returns.

Three stages, each its own module (extract -> format -> render):

* :mod:`.extract` reads the results contract into a numeric, frozen
  :class:`~.extract.TableModel` (terms x models, fit statistics);
* :mod:`.format` turns numbers into strings (digits, thousands separators,
  stars, parentheses/brackets, explanatory notes);
* one small renderer per output: :mod:`.text`, :mod:`.markdown`, :mod:`.html`,
  :mod:`.latex`, :mod:`.csv` and :mod:`.frame` (DataFrames).

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> ols = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
>>> pois = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
>>> tab = cp.table({"OLS": ols, "Poisson": pois}, stars=True,
...                rename={"offences_per_1000": "Offences per 1,000"})
>>> print(tab, end="")
==================================================
                          OLS           Poisson
Dependent variable       deaths         deaths
Estimator                FEOLS        FEPoisson
--------------------------------------------------
Offences per 1,000       0.562        0.054***
                        (0.349)        (0.013)
--------------------------------------------------
Observations              858            858
Clusters                  26             26
canton FE                 Yes            Yes
year FE                   Yes            Yes
Std. errors          CRV1 by canton CRV1 by canton
R2                       0.735
Within R2                0.005
Pseudo R2                               0.500
==================================================
Standard errors in parentheses.
* p < 0.1, ** p < 0.05, *** p < 0.01.
>>> tab.to_frame()[["model", "term", "estimate"]].round(4)
     model                term  estimate
0      OLS  Offences per 1,000    0.5617
1  Poisson  Offences per 1,000    0.0543
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...exceptions import SpecError
from . import extract as _extract
from .csv import render_csv
from .extract import TableModel
from .format import FormattedTable, format_table
from .frame import display_frame, tidy_frame
from .html import render_html
from .latex import render_latex
from .markdown import render_markdown
from .options import TableOptions, takes_table_options
from .text import render_text

__all__ = ["Table", "TableOptions", "table"]

_SAVE_EXT = {".md": "to_markdown", ".markdown": "to_markdown", ".html": "to_html",
             ".htm": "to_html", ".tex": "to_latex", ".txt": "to_text", ".csv": "to_csv"}


@dataclass(frozen=True)
class Table:
    """A regression table, ready to render in several formats.

    Made by :func:`table`; immutable. ``print(tab)`` shows the text version and
    notebooks show the HTML version.

    Attributes
    ----------
    model
        The numeric table (:class:`~.extract.TableModel`).
    formatted
        The same table as strings (:class:`~.format.FormattedTable`).
    """

    model: TableModel
    formatted: FormattedTable

    def to_text(self) -> str:
        """Plain text, for the console (also ``str(tab)``)."""
        return render_text(self.formatted)

    def to_markdown(self) -> str:
        """A Markdown pipe table (GitHub-flavoured), title in bold, notes below."""
        return render_markdown(self.formatted)

    def to_html(self) -> str:
        """A self-contained HTML ``<table>`` with inline styling."""
        return render_html(self.formatted)

    def to_latex(self, *, threeparttable: bool = False, float: bool | None = None) -> str:
        r"""LaTeX ``tabular`` with booktabs rules (``\usepackage{booktabs}``).

        Parameters
        ----------
        threeparttable
            Put the notes in a ``threeparttable`` (``\usepackage{threeparttable}``).
        float
            Wrap in a ``table`` float with ``\caption`` (default: when there is a title).
        """
        if not isinstance(threeparttable, bool):
            raise SpecError(f"threeparttable must be True or False; got {threeparttable!r}.")
        if float is not None and not isinstance(float, bool):
            raise SpecError(f"float must be True, False or None (when titled); got {float!r}.")
        return render_latex(self.formatted, threeparttable=threeparttable, float=float)

    def to_csv(self) -> str:
        """The displayed grid as CSV text (no title or notes)."""
        return render_csv(self.formatted)

    def to_frame(self, *, formatted: bool = False) -> pd.DataFrame:
        """The table as a DataFrame.

        Parameters
        ----------
        formatted
            ``False`` (default): tidy numbers, one row per term x model
            (``model, term, original_term, estimate, std_error, statistic,
            p_value, conf_low, conf_high, stars, exponentiated``), unrounded.
            ``True``: the displayed strings, one row per displayed line.
        """
        if not isinstance(formatted, bool):
            raise SpecError(f"formatted must be True or False; got {formatted!r}.")
        return display_frame(self.formatted) if formatted else tidy_frame(self.model)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Table: {len(self.model.model_names)} models, {len(self.model.terms)} terms; "
                "print() it or call to_latex()/to_html()/to_markdown()>")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table to ``path``, the format chosen by its extension.

        ``.md``/``.markdown``, ``.html``/``.htm``, ``.tex``, ``.txt``, ``.csv``.
        Returns the path written (UTF-8).
        """
        p = Path(path)
        method = _SAVE_EXT.get(p.suffix.lower())
        if method is None:
            raise SpecError(f"save: cannot tell the format of {str(path)!r} from its extension "
                            f"{p.suffix!r}; use one of {', '.join(sorted(_SAVE_EXT))}.")
        p.write_text(getattr(self, method)(), encoding="utf-8")
        return p


@takes_table_options
def table(results: Any, **options: Any) -> Table:
    r"""A side-by-side table of estimates from one or more models.

    Parameters
    ----------
    results
        One results object (anything of the results contract, e.g. from
        :func:`~causalpolicing.feols`, :func:`~causalpolicing.fepois`), a list of
        them, or a dict ``{name: results}`` (the keys name the columns).
    {options}

    Returns
    -------
    Table
        Render with ``to_text()`` (``print``), ``to_markdown()``, ``to_html()``
        (notebooks display it), ``to_latex()``, ``to_csv()``, ``to_frame()`` or
        ``save(path)``.

    Raises
    ------
    SpecError
        For any invalid option (the message names it and lists the valid values;
        unknown terms come with close matches and the available terms).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> pois = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    >>> tab = cp.table(pois, exponentiate=True, uncertainty="ci", gof=["nobs"])
    >>> print(tab.to_markdown(), end="")
    |                     |      (1)       |
    |:--------------------|:--------------:|
    | Dependent variable  |     deaths     |
    | Estimator           |   FEPoisson    |
    | offences\_per\_1000 |     1.056      |
    |                     | [1.027, 1.085] |
    | Observations        |      858       |
    <BLANKLINE>
    95% confidence intervals in brackets. All models: exponentiated coefficients (rate ratios for log-link models, odds ratios for logit models) per 1-unit change; intervals are the exponentiated intervals; standard errors by the delta method, exp(b) \* se(b); p-values and stars test a ratio of 1.
    """
    opts = TableOptions.from_kwargs(options)
    model = _extract.extract(results, opts)
    return Table(model=model, formatted=format_table(model, digits=opts.digits))
