r"""Render a :class:`~.format.FormattedTable` as a LaTeX ``tabular`` with booktabs rules.

Needs ``\usepackage{booktabs}`` (and ``threeparttable`` with
``threeparttable=True``). All text is escaped (``\ & % $ # _ { } ~ ^ < >``);
stars are ``\textsuperscript``; equal neighbouring cells of the header rows
(e.g. the same dependent variable) are merged with ``\multicolumn``; negative
numbers keep the plain hyphen-minus used by every renderer. Notes go in ``\multicolumn`` rows under
``\bottomrule``, or in a ``tablenotes`` block of a ``threeparttable``. With a
title (or ``float=True``) the tabular is wrapped in a ``table`` float with
``\caption``.

Examples
--------
>>> from causalpolicing.report.tables.format import BodyRow, FormattedTable
>>> ft = FormattedTable(title=None, columns=("(1)",), header_rows=(),
...                     body=(BodyRow("log_x", ("-1.000",), ("**",), ("(0.500)",)),),
...                     gof=(("Observations", ("10",)),), notes=("** p < 0.05.",))
>>> print(render_latex(ft), end="")
\begin{tabular}{@{}lc@{}}
\toprule
 & (1) \\
\midrule
log\_x & -1.000\textsuperscript{**} \\
 & (0.500) \\
\midrule
Observations & 10 \\
\bottomrule
\multicolumn{2}{@{}l}{\footnotesize ** p \textless{} 0.05.} \\
\end{tabular}
"""

from __future__ import annotations

from .format import FormattedTable

__all__ = ["render_latex", "escape_latex"]

_ESC = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}


def escape_latex(text: str) -> str:
    r"""Escape LaTeX's special characters for text mode.

    Examples
    --------
    >>> print(escape_latex("50% of a_b & c#"))
    50\% of a\_b \& c\#
    """
    return "".join(_ESC.get(ch, ch) for ch in text)


def _row(label: str, cells: tuple[str, ...]) -> str:
    return " & ".join([escape_latex(label), *cells]) + r" \\"


def _merged(cells: tuple[str, ...]) -> tuple[str, ...]:
    r"""Escape header cells, merging runs of equal non-empty cells with ``\multicolumn``.

    Examples
    --------
    >>> _merged(("deaths", "deaths", "rate_x"))
    ('\\multicolumn{2}{c}{deaths}', 'rate\\_x')
    """
    out: list[str] = []
    i = 0
    while i < len(cells):
        j = i
        while j + 1 < len(cells) and cells[j + 1] == cells[i] and cells[i]:
            j += 1
        text = escape_latex(cells[i])
        out.append(text if j == i else rf"\multicolumn{{{j - i + 1}}}{{c}}{{{text}}}")
        i = j + 1
    return tuple(out)


def render_latex(ft: FormattedTable, *, threeparttable: bool = False,
                 float: bool | None = None) -> str:
    r"""The LaTeX code (see the module docstring).

    Parameters
    ----------
    ft
        The formatted table.
    threeparttable
        Put the notes in a ``threeparttable`` ``tablenotes`` block (they then wrap to
        the table's width) instead of ``\multicolumn`` rows.
    float
        Wrap in a ``table`` float (``[htbp]``, centred, with ``\caption`` when there is
        a title). Default: only when the table has a title.
    """
    n = len(ft.columns)
    lines = [r"\begin{tabular}{@{}l" + "c" * n + "@{}}", r"\toprule"]
    lines.append(_row("", tuple(escape_latex(c) for c in ft.columns)))
    lines.extend(_row(lab, _merged(vals)) for lab, vals in ft.header_rows)
    lines.append(r"\midrule")
    for r in ft.body:
        est = tuple(escape_latex(e) + (rf"\textsuperscript{{{escape_latex(s)}}}" if s else "")
                    for e, s in zip(r.estimates, r.stars, strict=True))
        lines.append(_row(r.label, est))
        if any(r.uncertainty):
            lines.append(_row("", tuple(escape_latex(u) for u in r.uncertainty)))
    if ft.gof:
        lines.append(r"\midrule")
        lines.extend(_row(lab, tuple(escape_latex(v) for v in vals)) for lab, vals in ft.gof)
    lines.append(r"\bottomrule")
    if not threeparttable:
        lines.extend(rf"\multicolumn{{{n + 1}}}{{@{{}}l}}{{\footnotesize {escape_latex(note)}}} \\"
                     for note in ft.notes)
    lines.append(r"\end{tabular}")
    if threeparttable:
        inner = [r"\begin{threeparttable}", *lines]
        if ft.notes:
            inner += [r"\begin{tablenotes}", r"\footnotesize"]
            inner += [rf"\item {escape_latex(note)}" for note in ft.notes]
            inner.append(r"\end{tablenotes}")
        inner.append(r"\end{threeparttable}")
        lines = inner
    wrap = ft.title is not None if float is None else float
    if wrap:
        head = [r"\begin{table}[htbp]", r"\centering"]
        if ft.title:
            head.append(rf"\caption{{{escape_latex(ft.title)}}}")
        lines = [*head, *lines, r"\end{table}"]
    return "\n".join(lines) + "\n"
