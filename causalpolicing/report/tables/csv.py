"""Render a :class:`~.format.FormattedTable` as CSV (the displayed grid, as text).

One row per displayed line: a first column of labels (blank under an estimate,
where the uncertainty goes), then one column per model. Title and notes are
not part of the grid and are left out; use :meth:`Table.to_frame` for the
numbers themselves.

Examples
--------
>>> from causalpolicing.report.tables.format import BodyRow, FormattedTable
>>> ft = FormattedTable(title=None, columns=("(1)", "(2)"), header_rows=(),
...                     body=(BodyRow("x", ("1,000.000", ""), ("", ""), ("(0.500)", "")),),
...                     gof=(), notes=())
>>> print(render_csv(ft), end="")
,(1),(2)
x,"1,000.000",
,(0.500),
"""

from __future__ import annotations

import csv
import io

from .format import FormattedTable

__all__ = ["render_csv"]


def render_csv(ft: FormattedTable) -> str:
    """CSV text with ``\\n`` line endings (see the module docstring)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["", *ft.columns])
    for lab, vals in ft.header_rows:
        w.writerow([lab, *vals])
    for r in ft.body:
        w.writerow([r.label, *(e + s for e, s in zip(r.estimates, r.stars, strict=True))])
        if any(r.uncertainty):
            w.writerow(["", *r.uncertainty])
    for lab, vals in ft.gof:
        w.writerow([lab, *vals])
    return buf.getvalue()
