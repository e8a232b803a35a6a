"""The :class:`Report`: a finished, immutable report with its HTML, Markdown and files.

Examples
--------
>>> import tempfile, pandas as pd
>>> from causalpolicing.results import BaseResults
>>> from causalpolicing.report.document import build_report
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS",
...                   spec={"depvar": "y"})
>>> rep = build_report(res, provenance={"timestamp": "2026-01-01T00:00:00Z"})
>>> with tempfile.TemporaryDirectory() as d:
...     sorted(rep.save(d))
['report.html', 'report.md']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...exceptions import SpecError
from ..narrative.checks import Caveat
from ._figures import ReportFigure

__all__ = ["Report"]


@dataclass(frozen=True)
class Report:
    """A built report (made by :func:`~causalpolicing.report.document.build_report`).

    Attributes
    ----------
    title
        The report's title.
    html
        The complete, self-contained HTML document (figures as data URIs, CSS
        inline, no external resources).
    markdown
        The Markdown twin; figures are referenced as ``figures/NN-slug.png``,
        written next to it by :meth:`save`.
    figures
        The rendered figures (caption, file name, bytes).
    narrative
        The summary sentences, in order.
    caveats
        The caveats shown.
    provenance
        The provenance shown (read-only mapping of strings and pairs).
    drop_log_csv
        The panel's full drop log as CSV text (``None`` when no row was dropped
        or when it was not asked for); :meth:`save` writes it as ``drop_log.csv``.
    """

    title: str
    html: str = field(repr=False)
    markdown: str = field(repr=False)
    fragment: str = field(repr=False)
    figures: tuple[ReportFigure, ...] = field(repr=False)
    narrative: tuple[str, ...] = field(repr=False)
    caveats: tuple[Caveat, ...] = field(repr=False)
    provenance: Mapping[str, Any] = field(repr=False)
    drop_log_csv: str | None = field(default=None, repr=False)

    def save(self, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``report.html``, ``report.md``, ``figures/NN-slug.*`` and ``drop_log.csv``.

        The directory (and ``figures/``) is created when missing; files of the
        same names are overwritten (older figure files with other names are left
        alone).

        Parameters
        ----------
        directory
            Where to write.

        Returns
        -------
        dict
            ``{relative path: absolute Path}`` of every file written, e.g.
            ``{"report.html": ..., "report.md": ..., "figures/01-dose-response.png": ...}``.
        """
        if not isinstance(directory, (str, os.PathLike)):
            raise SpecError(f"save needs a directory path; got {type(directory).__name__}.")
        root = Path(directory)
        if root.exists() and not root.is_dir():
            raise SpecError(f"save: {str(root)!r} exists and is not a directory; pass a "
                            "directory to write report.html and report.md into.")
        root.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}

        def put(rel: str, content: str | bytes) -> None:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8", newline="\n")
            written[rel] = path.resolve()

        put("report.html", self.html)
        put("report.md", self.markdown)
        for f in self.figures:
            put(f.filename, f.data)
        if self.drop_log_csv is not None:
            put("drop_log.csv", self.drop_log_csv)
        return written

    def _repr_html_(self) -> str:
        return self.fragment

    def __str__(self) -> str:
        return self.markdown
