"""Reporting: tables, plots, plain-language narrative and the self-contained report.

* :func:`table` — models side by side (Markdown, HTML, LaTeX, text, CSV, DataFrame);
* :mod:`~causalpolicing.report.plots` — coefficient, event-study, dose-response,
  counterfactual, DAG, refutation and panel-overview figures (matplotlib/seaborn);
* :mod:`~causalpolicing.report.narrative` — one sentence per effect with its
  uncertainty, and the caveats the diagnostics call for;
* :func:`build_report` — one self-contained HTML file and its Markdown twin.

The report reads only the results contract
(:class:`~causalpolicing.results.EstimationResults`), never estimator internals.
Everything loads lazily: importing this package imports neither pandas-heavy
renderers nor matplotlib/seaborn.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.results import BaseResults
>>> import pandas as pd
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS", spec={})
>>> print(cp.report.table(res, gof=["nobs"]).to_csv(), end="")
,(1)
Estimator,OLS
x,2.000
,(0.500)
Observations,100
"""

from .._lazy import lazy_exports as _lazy_exports

__all__ = [
    "Table", "table", "tables",
    "plots", "bacon_plot", "coefficient_plot", "event_study_plot", "dose_response_plot",
    "counterfactual_plot", "dag_plot", "refutation_plot", "panel_overview_plot", "missingness_plot", "save_figure",
    "figure_to_data_uri", "honest_did_plot",
    "narrative", "describe_effect", "describe_results", "caveats", "Caveat",
    "document", "build_report", "Report",
]

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "table": ".tables",
    "Table": ".tables",
    **{name: ".plots" for name in (
        "bacon_plot", "coefficient_plot", "event_study_plot", "dose_response_plot",
        "counterfactual_plot", "dag_plot", "refutation_plot", "panel_overview_plot", "missingness_plot", "save_figure",
        "figure_to_data_uri", "honest_did_plot")},
    **{name: ".narrative" for name in ("describe_effect", "describe_results", "caveats",
                                       "Caveat")},
    "build_report": ".document",
    "Report": ".document",
}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY,
                                     submodules=["tables", "plots", "narrative", "document"])
