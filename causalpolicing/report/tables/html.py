"""Render a :class:`~.format.FormattedTable` as a self-contained HTML ``<table>``.

The table sits in a ``<div style="overflow-x:auto">`` so that a wide table
scrolls sideways on a phone instead of breaking the page.

Every text is escaped with :func:`html.escape`. Styling is minimal and inline
(no stylesheet, no fixed widths, so it reflows on a phone): rules above and below
the table and between its parts, centred model columns, notes in a smaller font
in ``<tfoot>``. The table carries ``class="cp-table"`` for users who want to
restyle it.

Examples
--------
>>> from causalpolicing.report.tables.format import BodyRow, FormattedTable
>>> ft = FormattedTable(title=None, columns=("A&B",), header_rows=(),
...                     body=(BodyRow("x<1", ("1.0",), ("",), ("(0.5)",)),), gof=(), notes=())
>>> "<th" in render_html(ft) and "A&amp;B" in render_html(ft) and "x&lt;1" in render_html(ft)
True
"""

from __future__ import annotations

from html import escape

from .format import FormattedTable

__all__ = ["render_html"]

_RULE = "border-top:1px solid currentColor;"
_PAD = "padding:0.15em 0.6em;"


def _tr(label: str, cells: tuple[str, ...], *, tag: str = "td", rule: bool = False,
        label_tag: str = "th") -> str:
    top = _RULE if rule else ""
    first = (f'<{label_tag} style="text-align:left;font-weight:normal;{_PAD}{top}">'
             f"{escape(label)}</{label_tag}>")
    rest = "".join(f'<{tag} style="text-align:center;{_PAD}{top}">{escape(c)}</{tag}>'
                   for c in cells)
    return f"<tr>{first}{rest}</tr>"


def render_html(ft: FormattedTable) -> str:
    """A ``<table>`` (in a scrolling ``<div>``) with caption, header, estimates, fit
    statistics and notes."""
    n = len(ft.columns)
    out = ['<div class="cp-table-wrap" style="overflow-x:auto;">',
           '<table class="cp-table" style="border-collapse:collapse;'
           'border-top:2px solid currentColor;border-bottom:2px solid currentColor;'
           'margin:0.5em 0;font-variant-numeric:tabular-nums;">']
    if ft.title:
        out.append(f'<caption style="caption-side:top;text-align:left;font-weight:bold;'
                   f'padding:0.3em 0;">{escape(ft.title)}</caption>')
    out.append("<thead>")
    out.append(_tr("", ft.columns, tag="th"))
    out.extend(_tr(lab, vals) for lab, vals in ft.header_rows)
    out.append("</thead>")
    out.append("<tbody>")
    for i, r in enumerate(ft.body):
        est = tuple(e + s for e, s in zip(r.estimates, r.stars, strict=True))
        out.append(_tr(r.label, est, rule=i == 0))
        if any(r.uncertainty):
            out.append(_tr("", r.uncertainty))
    for i, (lab, vals) in enumerate(ft.gof):
        out.append(_tr(lab, vals, rule=i == 0))
    out.append("</tbody>")
    if ft.notes:
        out.append("<tfoot>")
        out.extend(f'<tr><td colspan="{n + 1}" style="text-align:left;font-size:0.85em;'
                   f'{_PAD}">{escape(note)}</td></tr>' for note in ft.notes)
        out.append("</tfoot>")
    out.append("</table>")
    out.append("</div>")
    return "\n".join(out) + "\n"
