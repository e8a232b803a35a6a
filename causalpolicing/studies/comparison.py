"""The published-versus-reproduced comparison that :func:`~causalpolicing.studies.reproduce` returns.

One row per published number: where it was printed (model, table, column, term),
which quantity (``estimate``, ``std_error``, ``conf_low``, ``conf_high`` or a fit
statistic such as ``nobs``), the printed text, the published value, the reproduced
value at full precision, their difference, the printed decimals and whether they
match **at the published rounding**:

``match``  ``|reproduced - published| <= 0.5 * 10**-decimals + 1e-12``

i.e. the reproduced number rounds to the printed one, with exact half-way cases (and
floating-point noise of 1e-12 around them) counted as matches. Where a study file
declares a ``tolerance`` with its reason (for example data stored in single
precision), ``ok`` is also true when ``|difference| <= tolerance``; everywhere else
``ok == match``.

The object is frozen; ``table`` returns a copy.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from ..report.markdown_escape import md_cell
from .schema import Study

__all__ = ["Comparison", "ModelRun", "COLUMNS", "matches_at_rounding"]

COLUMNS = ["study", "model", "table", "column", "term", "quantity", "scale", "printed",
           "published", "reproduced", "difference", "decimals", "match", "tolerance", "ok",
           "note"]
#: Slack around exact half-way cases when comparing at the published rounding.
HALFWAY_SLACK = 1e-12


def matches_at_rounding(reproduced: float, published: float, decimals: int) -> bool:
    """Whether ``reproduced`` rounds to ``published`` at ``decimals`` decimals.

    Half-way cases (``|difference|`` exactly half a unit in the last printed place,
    within 1e-12) count as matches, whichever way the publication rounded them.

    Examples
    --------
    >>> matches_at_rounding(-0.35482957, -0.354830, 6)
    True
    >>> matches_at_rounding(0.80218882, 0.802184, 6)
    False
    >>> matches_at_rounding(0.0325, 0.033, 3), matches_at_rounding(0.0325, 0.032, 3)
    (True, True)
    """
    if not (np.isfinite(reproduced) and np.isfinite(published)):
        return False
    return abs(reproduced - published) <= 0.5 * 10.0 ** (-decimals) + HALFWAY_SLACK


@dataclass(frozen=True)
class ModelRun:
    """What was fitted for one ``[[models]]`` entry."""

    id: str
    estimator: str
    specification: str
    nobs: int
    cov_type: str


@dataclass(frozen=True, eq=False)
class Comparison:
    """Published versus reproduced numbers of one study (see the module docstring).

    Attributes
    ----------
    study
        The parsed study.
    data_source
        Where the data came from (a bundled dataset, a file, a DataFrame).
    user_data
        True when the data were supplied by the caller rather than declared by the
        study (``--data FILE``). For a study with status ``"needs data"`` the
        published numbers come from the authors' data, so differences are expected
        and reported, not treated as failures (see :attr:`expected_to_match`).
    models
        One :class:`ModelRun` per model.
    warnings
        Messages of the estimators and transforms, prefixed with the model id.
    steps
        The data steps applied, one line each.
    """

    study: Study
    _table: pd.DataFrame
    data_source: str
    user_data: bool
    models: tuple[ModelRun, ...]
    warnings: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    _fits: Mapping[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ accessors
    @property
    def table(self) -> pd.DataFrame:
        """The comparison, one row per published number (a copy); columns :data:`COLUMNS`."""
        return self._table.copy()

    @property
    def all_match(self) -> bool:
        """True when every published number is reproduced at the published rounding."""
        return bool(self._table["match"].all())

    @property
    def all_ok(self) -> bool:
        """True when every number matches, or lies within a tolerance the study declares."""
        return bool(self._table["ok"].all())

    @property
    def expected_to_match(self) -> bool:
        """False for a ``"needs data"`` study run on data the user supplied."""
        return not (self.study.needs_data and self.user_data)

    @property
    def n_mismatches(self) -> int:
        """Number of rows that are not ``ok``."""
        return int((~self._table["ok"]).sum())

    def results(self, model: str) -> Any:
        """The fitted results object of one model (immutable, as every results object)."""
        if model not in self._fits:
            raise SpecError(f"No model {model!r} in study {self.study.id!r}; models: "
                            f"{', '.join(self._fits)}.")
        return self._fits[model]

    @property
    def verdict(self) -> str:
        """One line: how many numbers match, and what that means."""
        n = len(self._table)
        n_match = int(self._table["match"].sum())
        n_tol = int((self._table["ok"] & ~self._table["match"]).sum())
        head = f"{n_match} of {n} published numbers reproduced at the published rounding"
        if n_tol:
            head += f"; {n_tol} more within a tolerance the study file declares and explains"
        if not self.expected_to_match:
            head += (". These data were supplied by you, not the authors' data, so the "
                     "published numbers are not expected to match: the comparison is a report, "
                     "not a check.")
        elif self.all_ok:
            head += ": REPRODUCED."
        else:
            head += f": {self.n_mismatches} MISMATCH(ES)."
        return head

    # -------------------------------------------------------------- render
    def _display_rows(self) -> list[list[str]]:
        rows = []
        for r in self._table.itertuples(index=False):
            d = int(r.decimals)
            if not np.isfinite(r.reproduced):
                rep = "nan"
            elif d == 0 and float(r.reproduced).is_integer():
                rep = str(int(r.reproduced))
            else:
                rep = f"{r.reproduced:.{d + 4}f}"
            diff = "nan" if not np.isfinite(r.difference) else f"{r.difference:+.1e}"
            mark = "yes" if r.match else ("within tol." if r.ok else "NO")
            where = f"{r.table}, {r.column}"
            rows.append([r.model, where, r.term or "", r.quantity + (
                "" if r.scale == "coef" else f" ({r.scale})"), r.printed, rep, diff, mark])
        return rows

    _HEAD = ["model", "table, column", "term", "quantity", "published", "reproduced",
             "difference", "match"]

    def _header_lines(self) -> list[str]:
        s = self.study
        lines = [f"{s.title}", f"  {s.citation}"]
        if s.doi or s.url:
            lines.append(f"  {'doi:' + s.doi if s.doi else s.url}")
        lines.append(f"  study {s.id!r} ({s.status}); data: {self.data_source}")
        return lines

    def _footer_lines(self) -> list[str]:
        out = []
        tol = self._table[self._table["tolerance"].notna()]
        for r in tol.itertuples(index=False):
            out.append(f"tolerance {r.tolerance:g} on {r.model} {r.term} {r.quantity}: {r.note}")
        if self.warnings:
            out.append(f"{len(self.warnings)} message(s) from the estimators:")
            out.extend(f"  {w}" for w in self.warnings)
        return out

    def to_text(self) -> str:
        """A plain-text report: header, the comparison table, the verdict and notes."""
        rows = [self._HEAD, *self._display_rows()]
        widths = [max(len(r[j]) for r in rows) for j in range(len(self._HEAD))]
        right = {4, 5, 6}
        lines = self._header_lines() + [""]
        for k, r in enumerate(rows):
            cells = [c.rjust(w) if j in right else c.ljust(w)
                     for j, (c, w) in enumerate(zip(r, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines += ["", self.verdict]
        foot = self._footer_lines()
        if foot:
            lines += [""] + foot
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """A Markdown section: title, citation, a pipe table, the verdict and notes.

        Every text is escaped as in all of the package's Markdown
        (:mod:`causalpolicing.report.markdown_escape`): HTML entities for ``& < >``,
        backslashes before Markdown's metacharacters, no line break inside a cell.
        """
        esc = md_cell
        s = self.study
        out = [f"### {esc(s.title)}", "", esc(s.citation) + (f" doi:{esc(s.doi)}" if s.doi else ""),
               "", f"Study `{s.id}` ({esc(s.status)}); data: {esc(self.data_source)}.", ""]
        out.append("| " + " | ".join(self._HEAD) + " |")
        out.append("|" + "|".join(":--" if j < 4 or j == 7 else "--:"
                                  for j in range(len(self._HEAD))) + "|")
        for r in self._display_rows():
            out.append("| " + " | ".join(esc(c) for c in r) + " |")
        out += ["", esc(self.verdict)]
        foot = self._footer_lines()
        if foot:
            out += [""] + [f"- {esc(line.strip())}" for line in foot]
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """An HTML fragment (a ``<section>`` with a table); every cell is escaped."""
        e = html.escape
        s = self.study
        parts = [f'<section class="cp-reproduction" id="study-{e(s.id)}">',
                 f"<h3>{e(s.title)}</h3>", f"<p>{e(s.citation)}"
                 + (f" doi:{e(s.doi)}" if s.doi else "") + "</p>",
                 f"<p>Study <code>{e(s.id)}</code> ({e(s.status)}); data: "
                 f"{e(self.data_source)}.</p>", "<table>", "<thead><tr>"
                 + "".join(f"<th>{e(h)}</th>" for h in self._HEAD) + "</tr></thead>", "<tbody>"]
        for r in self._display_rows():
            cls = {"yes": "match", "NO": "mismatch"}.get(r[-1], "tolerance")
            parts.append(f'<tr class="{cls}">' + "".join(f"<td>{e(c)}</td>" for c in r)
                         + "</tr>")
        parts += ["</tbody>", "</table>", f"<p><strong>{e(self.verdict)}</strong></p>"]
        foot = self._footer_lines()
        if foot:
            parts.append("<ul>" + "".join(f"<li>{e(line.strip())}</li>" for line in foot)
                         + "</ul>")
        parts.append("</section>")
        return "\n".join(parts) + "\n"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<Comparison {self.study.id!r}: {int(self._table['match'].sum())}/"
                f"{len(self._table)} match at the published rounding>")
