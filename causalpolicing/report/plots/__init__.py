"""Plots built from the results contract (seaborn/matplotlib); each returns a Figure.

Every function reads only the results contract
(:class:`~causalpolicing.results.EstimationResults`) or plain data, draws in
the house style (:func:`plot_style`, a context manager: global ``rcParams``
are left as they were), and returns a :class:`matplotlib.figure.Figure` that is
not registered with pyplot (nothing to close; Jupyter displays it). Functions
with one panel accept ``ax=`` to draw into an existing axes.

=============================  ==================================================
:func:`coefficient_plot`       estimates with CIs, several models side by side
:func:`bacon_plot`             Goodman-Bacon 2×2 estimates against their weights
:func:`event_study_plot`       coefficients by event time, CI band, reference
:func:`dose_response_plot`     effect (rate ratio) over the treatment's range
:func:`counterfactual_plot`    observed vs counterfactual trends
:func:`dag_plot`               a causal graph (treatment, outcome, latent nodes)
:func:`refutation_plot`        placebo/refutation draws with the estimate marked
:func:`panel_overview_plot`    outcome and treatment over time by unit
:func:`missingness_plot`       unit x time map of present/missing/dropped cells
:func:`honest_did_plot`        HonestDiD robust confidence sets over M, breakdown
:func:`save_figure`            PNG or SVG file
:func:`figure_to_data_uri`     base64 ``data:`` URI for the HTML report
=============================  ==================================================

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.report.plots import coefficient_plot, figure_to_data_uri
>>> res = cp.feols("deaths ~ offences_per_1000 | canton + year",
...                cp.datasets.load("simulated_cantons"))
>>> figure_to_data_uri(coefficient_plot(res), "svg")[:26]
'data:image/svg+xml;base64,'
"""

from __future__ import annotations

from ._style import PALETTE, plot_style
from .bacon import bacon_plot
from .coefficients import coefficient_plot
from .counterfactual import counterfactual_plot
from .dag import dag_plot
from .dose_response import dose_response_plot
from .event_study import event_study_plot
from .export import figure_to_data_uri, save_figure
from .honest_did import honest_did_plot
from .missingness import missingness_plot
from .panel_overview import panel_overview_plot
from .refutation import refutation_plot

__all__ = [
    "PALETTE",
    "bacon_plot",
    "coefficient_plot",
    "counterfactual_plot",
    "dag_plot",
    "dose_response_plot",
    "event_study_plot",
    "figure_to_data_uri",
    "missingness_plot",
    "panel_overview_plot",
    "plot_style",
    "refutation_plot",
    "save_figure",
    "honest_did_plot",
]
