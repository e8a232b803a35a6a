"""The self-contained report: :func:`build_report` and the :class:`Report` it returns.

One HTML file (figures embedded as data URIs, CSS inline, no external
resources, readable on a phone) and its Markdown twin, rendered from jinja2
templates shipped with the package (``causalpolicing/report/templates``).

Examples
--------
>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> from causalpolicing.report.document import build_report
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS",
...                   spec={"depvar": "y"})
>>> rep = build_report(res, provenance={"timestamp": "2026-01-01T00:00:00Z"})
>>> rep.narrative
('An increase of 1 unit in x is associated with an increase of 2.0 in y (95% CI 1.0 to 3.0).',)
"""

from __future__ import annotations

from ._figures import ReportFigure
from ._provenance import PROVENANCE_PACKAGES
from .build import NARRATIVE_OPTIONS, build_report
from .model import Report

__all__ = ["NARRATIVE_OPTIONS", "PROVENANCE_PACKAGES", "Report", "ReportFigure", "build_report"]
