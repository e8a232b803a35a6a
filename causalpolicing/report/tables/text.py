"""Render a :class:`~.format.FormattedTable` as plain text (the ``print`` view).

Columns are centred under the model names, term labels left-aligned; ``=``
rules frame the table and ``-`` rules separate the header, the estimates and
the fit statistics.

Examples
--------
>>> from causalpolicing.report.tables.format import BodyRow, FormattedTable
>>> ft = FormattedTable(title=None, columns=("(1)",), header_rows=(),
...                     body=(BodyRow("x", ("1.000",), ("*",), ("(0.500)",)),),
...                     gof=(("Observations", ("10",)),), notes=("Standard errors in parentheses.",))
>>> print(render_text(ft), end="")
=====================
                (1)
---------------------
x              1.000*
              (0.500)
---------------------
Observations     10
=====================
Standard errors in parentheses.
"""

from __future__ import annotations

from .format import FormattedTable

__all__ = ["render_text"]


def render_text(ft: FormattedTable) -> str:
    """Plain-text table with notes below (see the module docstring)."""
    rows: list[tuple[str, tuple[str, ...]] | str] = [("", ft.columns)]
    rows.extend(ft.header_rows)
    rows.append("-")
    for r in ft.body:
        rows.append((r.label, tuple(e + s for e, s in zip(r.estimates, r.stars, strict=True))))
        if any(r.uncertainty):
            rows.append(("", r.uncertainty))
    if ft.gof:
        rows.append("-")
        rows.extend(ft.gof)
    cells = [r for r in rows if not isinstance(r, str)]
    wl = max(len(lab) for lab, _ in cells)
    n = len(ft.columns)
    wc = [max(len(c[j]) for _, c in cells) for j in range(n)]
    width = wl + sum(w + 2 for w in wc)
    lines = []
    if ft.title:
        lines.append(ft.title)
    lines.append("=" * width)
    for r in rows:
        if isinstance(r, str):
            lines.append(r * width)
            continue
        lab, vals = r
        line = lab.ljust(wl) + "".join("  " + v.center(w) for v, w in zip(vals, wc, strict=True))
        lines.append(line.rstrip())
    lines.append("=" * width)
    lines.extend(ft.notes)
    return "\n".join(lines) + "\n"
