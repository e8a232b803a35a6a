r"""Render a :class:`~.format.FormattedTable` as a (GitHub-flavoured) Markdown pipe table.

Text in cells, the title and the notes is escaped with
:func:`~causalpolicing.report.markdown_escape.md_cell` (the rule every Markdown
output of the package follows): ``& < >`` become HTML entities, so a model named
``<script>`` prints as text, and Markdown's metacharacters (``\ | * _ [ ] #`` and
backticks) are backslash-escaped, so stars print as stars, not emphasis, and ``|``
does not split a cell. The title is a bold line above
the table, the notes one paragraph below it.

Examples
--------
>>> from causalpolicing.report.tables.format import BodyRow, FormattedTable
>>> ft = FormattedTable(title="Deaths", columns=("(1)",), header_rows=(),
...                     body=(BodyRow("log_x", ("1.000",), ("*",), ("(0.500)",)),),
...                     gof=(("Observations", ("10",)),), notes=("* p < 0.1.",))
>>> print(render_markdown(ft), end="")
**Deaths**
<BLANKLINE>
|              |   (1)   |
|:-------------|:-------:|
| log\_x       | 1.000\* |
|              | (0.500) |
| Observations |   10    |
<BLANKLINE>
\* p &lt; 0.1.
"""

from __future__ import annotations

from ..markdown_escape import md_cell
from .format import FormattedTable

__all__ = ["render_markdown", "escape_markdown"]


def escape_markdown(text: str) -> str:
    r"""One table cell's text, escaped for Markdown (:func:`~causalpolicing.report.markdown_escape.md_cell`).

    Examples
    --------
    >>> escape_markdown("a_b|c* <b>")
    'a\\_b\\|c\\* &lt;b&gt;'
    """
    return md_cell(text)


def render_markdown(ft: FormattedTable) -> str:
    """Markdown pipe table with title and notes (see the module docstring)."""
    rows: list[list[str]] = [["", *ft.columns]]
    rows.extend([lab, *vals] for lab, vals in ft.header_rows)
    for r in ft.body:
        rows.append([r.label, *(e + s for e, s in zip(r.estimates, r.stars, strict=True))])
        if any(r.uncertainty):
            rows.append(["", *r.uncertainty])
    rows.extend([lab, *vals] for lab, vals in ft.gof)
    esc = [[escape_markdown(c) for c in row] for row in rows]
    widths = [max(3, *(len(row[j]) for row in esc)) for j in range(len(esc[0]))]

    def line(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [c.center(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        return "| " + " | ".join(cells) + " |"

    out = []
    if ft.title:
        out += [f"**{escape_markdown(ft.title)}**", ""]
    out.append(line(esc[0]))
    out.append("|:" + "-" * (widths[0] + 1) + "|"
               + "|".join(":" + "-" * w + ":" for w in widths[1:]) + "|")
    out += [line(r) for r in esc[1:]]
    if ft.notes:
        out += ["", " ".join(escape_markdown(n) for n in ft.notes)]
    return "\n".join(out) + "\n"
