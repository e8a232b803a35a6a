"""A DoWhy estimator that fits the identified model with fixed effects (and clustered SEs).

DoWhy 0.14 loads third-party estimators by their import path: in
``CausalModel.estimate_effect(estimand, method_name=...)`` a name with more
than two dot-separated parts whose second part is not ``dowhy`` is read as
``"<identifier>.<module path>.<class>"``; the class must subclass
``dowhy.causal_estimator.CausalEstimator`` and is constructed with the
estimand and the entries of ``method_params`` as keywords. So::

    model.estimate_effect(
        estimand,
        method_name="backdoor.causalpolicing.graph.dowhy_estimator.PanelFEEstimator",
        method_params={"fixed_effects": ["unit", "year"], "vcov": {"CRV1": "unit"}},
    )

fits ``outcome ~ treatment + <DoWhy's back-door set> | unit + year`` with
:func:`causalpolicing.feols` (or :func:`causalpolicing.fepois` with
``"estimator": "fepois"``); the effect is the coefficient times
``treatment_value - control_value`` (for ``fepois``: the log rate ratio).
Standard errors, confidence intervals and p-values come from the toolkit's
results (``confidence_intervals=True``, ``test_significance=True``), not a
row bootstrap. Effect modifiers are ignored (the effect is the average,
homogeneous effect). The fitted results object is ``estimate.estimator.results``.

:func:`dowhy_model` builds the ``CausalModel`` from a Panel and a
:class:`~causalpolicing.graph.CausalGraph` (nodes renamed to their columns,
latent nodes kept unobserved, DoWhy's logging quiet).

Examples
--------
>>> import warnings
>>> from causalpolicing.graph import dowhy_model
>>> from causalpolicing.simulate.graph_panel import simulate_graph_panel
>>> panel, truth = simulate_graph_panel(seed=1)
>>> model = dowhy_model(panel, truth.graph, "enforcement", "mortality")
>>> estimand = model.identify_effect()
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     est = model.estimate_effect(
...         estimand, method_name="backdoor.causalpolicing.graph.dowhy_estimator.PanelFEEstimator",
...         method_params={"fixed_effects": ["unit", "year"], "vcov": "iid"})
>>> round(est.value, 3), est.estimator.results.estimator
(0.953, 'FEOLS')
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from dowhy.causal_estimator import CausalEstimate, CausalEstimator

from ..estimators import feols, fepois
from ..exceptions import EstimationError, SpecError
from .dag import CausalGraph, as_graph
from .estimation import ESTIMATORS, build_formula, prepare_data
from .identification import quiet_dowhy

__all__ = ["PanelFEEstimator", "dowhy_model", "METHOD_NAME"]

#: The ``method_name`` that selects :class:`PanelFEEstimator` for back-door estimands.
METHOD_NAME = "backdoor.causalpolicing.graph.dowhy_estimator.PanelFEEstimator"


class PanelFEEstimator(CausalEstimator):
    """Back-door adjustment with fixed effects, for ``CausalModel.estimate_effect``.

    Parameters (pass them in ``method_params``)
    -------------------------------------------
    fixed_effects
        Columns of the model's data used as fixed effects (e.g.
        ``["unit", "year"]``); ``None`` or ``()``: none, an intercept instead.
    estimator
        ``"feols"`` (default) or ``"fepois"``.
    exposure
        ``fepois`` only: the exposure column.
    vcov
        Covariance as in :func:`causalpolicing.feols` (default: CRV1 by the
        first fixed effect, iid without fixed effects).

    The other parameters are DoWhy's (``test_significance``,
    ``confidence_intervals``, ``confidence_level``, ...).
    """

    def __init__(
        self,
        identified_estimand: Any,
        test_significance: bool | str = False,
        evaluate_effect_strength: bool = False,
        confidence_intervals: bool | str = False,
        *,
        fixed_effects: Sequence[str] | str | None = None,
        estimator: str = "feols",
        exposure: str | None = None,
        vcov: str | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("causalpolicing_estimator", None)  # added by DoWhy for third-party classes
        kwargs.pop("fit_params", None)
        super().__init__(identified_estimand=identified_estimand,
                         test_significance=test_significance,
                         evaluate_effect_strength=evaluate_effect_strength,
                         confidence_intervals=confidence_intervals, **kwargs)
        if estimator not in ESTIMATORS:
            raise SpecError(f"estimator must be one of {list(ESTIMATORS)}; got {estimator!r}.")
        if exposure is not None and estimator != "fepois":
            raise SpecError("exposure applies to estimator='fepois' only.")
        if isinstance(fixed_effects, str):
            fixed_effects = (fixed_effects,)
        self.fixed_effects = tuple(fixed_effects or ())
        self.estimator_name = estimator
        self.exposure = exposure
        self.vcov = vcov
        self.results: Any = None
        self.formula: str | None = None
        self._term: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> PanelFEEstimator:
        # DoWhy's refuters deep-copy the estimator and refit it; the fitted results (frozen,
        # holding read-only mappings) are not copied.
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, None if key == "results" else copy.deepcopy(value, memo))
        return new

    def fit(self, data: pd.DataFrame, effect_modifier_names: list[str] | None = None,
            **_: Any) -> PanelFEEstimator:
        """Fit the fixed-effects model on ``data`` (DoWhy calls this)."""
        self.reset_encoders()
        self._set_effect_modifiers(data, effect_modifier_names)
        self.need_conditional_estimates = False
        est = self._target_estimand
        method = getattr(est, "identifier_method", None)
        if method not in (None, "backdoor"):
            raise EstimationError(f"PanelFEEstimator estimates back-door estimands only; the "
                                  f"estimand's method is {method!r}.")
        treatments = list(est.treatment_variable)
        if len(treatments) != 1:
            raise EstimationError(f"PanelFEEstimator needs one treatment; got {treatments}.")
        treatment, outcome = treatments[0], est.outcome_variable[0]
        adjustment = sorted(est.get_adjustment_set() or [])
        missing = [c for c in (*self.fixed_effects, treatment, outcome, *adjustment)
                   if c not in data.columns]
        if missing:
            raise SpecError(f"Column(s) {missing} are not in the data; columns: "
                            f"{list(data.columns)}.")
        self.formula = build_formula(outcome, [treatment, *adjustment], self.fixed_effects)
        self._term = treatment  # a one-column term is named by its column
        self._observed_common_causes_names = adjustment
        with quiet_dowhy():
            if self.estimator_name == "feols":
                self.results = feols(self.formula, data, vcov=self.vcov)
            else:
                self.results = fepois(self.formula, data, vcov=self.vcov, exposure=self.exposure)
        self.symbolic_estimator = self.construct_symbolic_estimator(est)
        return self

    def construct_symbolic_estimator(self, estimand: Any) -> str:
        """DoWhy's text of the realised estimand (the formula fitted)."""
        return f"b: {self.formula} ({self.estimator_name})"

    def _delta(self) -> float:
        return float(np.asarray(self._treatment_value) - np.asarray(self._control_value))

    def estimate_effect(self, data: pd.DataFrame, treatment_value: Any = 1,
                        control_value: Any = 0, target_units: Any = None,
                        **_: Any) -> CausalEstimate:
        """The coefficient times ``treatment_value - control_value`` (DoWhy calls this)."""
        if self.results is None:
            raise EstimationError("Call fit() before estimate_effect().")
        self._target_units = target_units
        self._treatment_value = treatment_value
        self._control_value = control_value
        value = float(self.results.params[self._term]) * self._delta()
        estimate = CausalEstimate(
            data=data, treatment_name=self._target_estimand.treatment_variable,
            outcome_name=self._target_estimand.outcome_variable, estimate=value,
            control_value=control_value, treatment_value=treatment_value,
            conditional_estimates=None, target_estimand=self._target_estimand,
            realized_estimand_expr=self.symbolic_estimator)
        estimate.add_estimator(self)
        return estimate

    def _estimate_std_error(self, method: Any = None, **_: Any) -> np.ndarray:
        return np.array([float(self.results.std_errors[self._term]) * abs(self._delta())])

    def _estimate_confidence_intervals(self, confidence_level: float | None = None,
                                       method: Any = None, **_: Any) -> np.ndarray:
        level = self.confidence_level if confidence_level is None else confidence_level
        ci = self.results.conf_int(level).loc[self._term].to_numpy(dtype=float) * self._delta()
        return np.sort(ci).reshape(1, 2)

    def _test_significance(self, estimate_value: Any, method: Any = None,
                           **_: Any) -> dict[str, np.ndarray]:
        return {"p_value": np.array([float(self.results.pvalues[self._term])])}


def dowhy_model(panel: Any, graph: CausalGraph | str, treatment: str, outcome: str) -> Any:
    """A ``dowhy.CausalModel`` for the panel and graph (nodes renamed to their columns).

    Parameters
    ----------
    panel
        A Panel or a DataFrame; missing lag columns of lagged nodes are created
        from a Panel.
    graph
        The causal graph; latent nodes stay unobserved for DoWhy.
    treatment, outcome
        Nodes of the graph.

    Returns
    -------
    dowhy.CausalModel
        On the panel's data as a DataFrame (the time column as integer periods
        if it holds pandas periods, so DoWhy's encoders accept it).
    """
    from dowhy import CausalModel

    graph = as_graph(graph)
    data = prepare_data(panel, graph)
    frame = data.to_frame() if hasattr(data, "to_frame") and not isinstance(
        data, pd.DataFrame) else data.copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.PeriodDtype):
            yearly = type(frame[col].dt.freq).__name__ in ("YearEnd", "YearBegin")
            frame[col] = frame[col].dt.year if yearly else frame[col].array.asi8
    cols = graph.columns
    taken = set(frame.columns)
    rename: dict[str, str] = {}
    for n in graph.latent:  # a latent node must not collide with a data column
        rename[n] = n if n not in taken else f"{n}__latent"
    g = graph.to_networkx()
    mapping = {n: cols.get(n, rename.get(n, n)) for n in g.nodes}
    g = nx_relabel(g, mapping)
    with quiet_dowhy(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # DoWhy warns about unobserved nodes
        model = CausalModel(data=frame, treatment=graph.column(treatment),
                            outcome=graph.column(outcome), graph=g)
    return model


def nx_relabel(g: Any, mapping: Mapping[str, str]) -> Any:
    """Relabel a networkx graph (a copy) and drop node attributes DoWhy does not expect."""
    import networkx as nx

    h = nx.relabel_nodes(g, dict(mapping), copy=True)
    for _, attrs in h.nodes(data=True):
        attrs.clear()
    return h
