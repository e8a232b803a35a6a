"""Caveats drawn from results, the panel and the diagnostics: what could make an estimate wrong.

:func:`caveats` reads what is given and returns a list of :class:`Caveat`
(``kind``, ``severity``, ``message``), most severe first. Nothing is re-estimated:
every caveat comes from a number already computed.

========================  ========  ====================================================
kind                      severity  raised when
========================  ========  ====================================================
``few_clusters``          high /    ``results.n_clusters`` (the smallest, for two-way) is
                          medium /  below ``few_clusters`` (default 40): high below 20,
                          low       medium otherwise, low when the covariance is CRV3
``weak_instruments``      high /    IV first stage (``results.first_stage``): effective F
                          medium    (Olea-Pflueger) below 10 (high) or below its 5%
                                    critical value 23.1 for a 10% worst-case bias
                                    (medium); with several endogenous regressors, a
                                    partial F or the Cragg-Donald F below 10 (high)
``convergence``           high      ``results.converged`` is False or a warning says an
                                    algorithm did not converge
``collinearity``          medium    ``results.collinear`` lists dropped regressors
``dropped_rows``          medium /  rows dropped while loading (``panel.drop_log``) or in
                          low       estimation (``results.dropped``), counted by reason;
                                    medium when 5% or more of the rows, else low
``estimation_warning``    medium    any other warning recorded in ``results.warnings``
``feedback``              high /    a feedback check rejects no-feedback
                          medium    (``verdict == "feedback detected"``): leads test
                                    high; reverse regression, Granger medium
``pretrends``             high      an event study's pre-trend test (``pretrend_test``)
                                    rejects at 5%: the effects after treatment mix the
                                    policy with differences that predate it
``negative_weights``      high /    some de Chaisemartin-D'Haultfœuille weights of the
                          medium    static TWFE coefficient are negative
                                    (``twfe_weights``): high when they sum to -0.1 or
                                    less (a tenth of the weight or more), else medium
``failed_refutation``     high      a refutation with ``passed`` False
``failed_implication``    high      a testable implication of the causal graph with
                                    ``rejected`` True
========================  ========  ====================================================

Examples
--------
>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> res = BaseResults(params=pd.Series({"x": 0.1}), cov=pd.DataFrame([[0.01]], ["x"], ["x"]),
...                   nobs=200, df_inference=11, cov_type="CRV1 by state", estimator="FEOLS",
...                   spec={}, n_clusters=12)
>>> [(c.kind, c.severity) for c in caveats(res)]
[('few_clusters', 'high')]
>>> caveats(res, few_clusters=10)
[]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from ...data.panel import Panel
from ...diagnostics.feedback import FeedbackReport
from ...diagnostics.granger import GrangerTestResult
from ...exceptions import SpecError
from ...results import EstimationResults
from ._weights import NEGATIVE_WEIGHT_SUM_HIGH, negative_weights_message
from .event_time import pretrend_rejects

__all__ = ["CAVEAT_KINDS", "SEVERITIES", "Caveat", "caveats", "NEGATIVE_WEIGHT_SUM_HIGH",
           "OLEA_PFLUEGER_CRITICAL_F", "WEAK_IV_F"]

#: Severities, most serious first.
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
#: Every kind :func:`caveats` can return.
CAVEAT_KINDS: tuple[str, ...] = (
    "few_clusters", "weak_instruments", "convergence", "collinearity", "dropped_rows",
    "estimation_warning", "feedback", "pretrends", "negative_weights", "failed_refutation",
    "failed_implication")
#: Rule-of-thumb F below which instruments are weak (Staiger and Stock 1997).
WEAK_IV_F = 10.0
#: Olea and Pflueger (2013) simplified critical value: 5% test that the worst-case
#: Nagar bias exceeds 10% of the OLS bias (conservative for any number of instruments).
OLEA_PFLUEGER_CRITICAL_F = 23.109

_REMEDY_CLUSTERS = ("Check the inference with the wild cluster bootstrap "
                    "(cp.inference.wild_bootstrap(res, term)) or CRV3 standard errors "
                    "(res.with_cov({'CRV3': <cluster column>})).")
_FEEDBACK_DETECTED = "feedback detected"


@dataclass(frozen=True)
class Caveat:
    """One reason for caution.

    Attributes
    ----------
    kind
        One of :data:`CAVEAT_KINDS`.
    severity
        ``"high"`` (the estimate or its uncertainty may well be wrong), ``"medium"``
        or ``"low"`` (worth knowing).
    message
        Plain-language explanation with what to do about it.
    """

    kind: str
    severity: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in CAVEAT_KINDS:
            raise SpecError(f"Caveat kind must be one of {list(CAVEAT_KINDS)}; got {self.kind!r}.")
        if self.severity not in SEVERITIES:
            raise SpecError(f"Caveat severity must be one of {list(SEVERITIES)}; got "
                            f"{self.severity!r}.")
        if not isinstance(self.message, str) or not self.message:
            raise SpecError("Caveat message must be a non-empty string.")


# ------------------------------------------------------------------ protocols
@runtime_checkable
class _Test(Protocol):
    """A feedback check (LeadsTestResult, ReverseRegressionResult, GrangerTestResult)."""

    name: str
    p_value: float
    verdict: str
    interpretation: str


@runtime_checkable
class _Refutation(Protocol):
    name: str
    passed: bool
    p_value: float
    reading: str


def _fmt_p(p: Any) -> str:
    try:
        p = float(p)
    except (TypeError, ValueError):
        return "p not available"
    if not math.isfinite(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _fmt_f(f: float) -> str:
    return f"{f:,.3g}" if f < 100 else f"{f:,.0f}"


# -------------------------------------------------------------------- results
def _models(results: Any) -> list[tuple[str | None, Any]]:
    if results is None:
        return []
    if isinstance(results, Mapping):
        return [(str(k), v) for k, v in results.items()]
    if isinstance(results, Sequence) and not isinstance(results, str):
        items = list(results)
        if len(items) == 1:
            return [(None, items[0])]
        return [(f"({i + 1})", r) for i, r in enumerate(items)]
    return [(None, results)]


def _check_results(res: Any) -> None:
    if not isinstance(res, EstimationResults):
        raise SpecError(f"results must be a results object of the contract (e.g. from "
                        f"cp.feols or cp.fepois), a list or a dict of them; got "
                        f"{type(res).__name__}.")


def _pretrends(res: Any) -> list[Caveat]:
    if not pretrend_rejects(res):
        return []
    test = res.pretrend_test
    return [Caveat("pretrends", "high",
                   f"The pre-trend test rejects (joint test of the leads, "
                   f"{_fmt_p(test.p_value)}): treated units already differed before treatment, "
                   "so the effects after it are not causal without modelling or bounding that "
                   "difference (HonestDiD) or a heterogeneity-robust design. Passing such a "
                   "test would not prove parallel trends either (Roth 2022).")]


def _negative_weights(weights: Any) -> list[Caveat]:
    found = negative_weights_message(weights)
    return [] if found is None else [Caveat("negative_weights", *found)]


def _few_clusters(res: Any, few: int) -> list[Caveat]:
    nc = res.n_clusters
    if nc is None:
        return []
    n = min(nc) if isinstance(nc, tuple) else int(nc)
    if n >= few:
        return []
    cov = str(res.cov_type)
    what = "time periods (Driscoll-Kraay)" if cov.upper().startswith("DK") else "clusters"
    if cov.upper().startswith("CRV3"):
        return [Caveat("few_clusters", "low",
                       f"Only {n} {what} ({cov}). CRV3 is the recommended correction for few "
                       "clusters; compare its p-values with the wild cluster bootstrap "
                       "(cp.inference.wild_bootstrap(res, term)).")]
    severity = "high" if n < 20 else "medium"
    return [Caveat("few_clusters", severity,
                   f"Only {n} {what} ({cov}): cluster-robust standard errors are too small and "
                   f"confidence intervals too narrow with fewer than {few}. " + _REMEDY_CLUSTERS)]


def _weak_iv(res: Any) -> list[Caveat]:
    fs = getattr(res, "first_stage", None)
    if not isinstance(fs, pd.DataFrame) or fs.empty:
        return []
    out = []
    several = len(fs) > 1
    for _, row in fs.iterrows():
        name = str(row["endog"])
        eff = float(row.get("effective_f", math.nan))
        part = float(row.get("partial_f", math.nan))
        if not several and math.isfinite(eff):
            if eff < WEAK_IV_F:
                out.append(Caveat(
                    "weak_instruments", "high",
                    f"Weak instruments for {name}: effective F = {_fmt_f(eff)}, below the rule "
                    f"of thumb of {WEAK_IV_F:g}. 2SLS estimates are biased towards OLS and their "
                    "confidence intervals are unreliable; use weak-instrument-robust inference "
                    "(Anderson-Rubin) or find stronger instruments."))
            elif eff < OLEA_PFLUEGER_CRITICAL_F:
                out.append(Caveat(
                    "weak_instruments", "medium",
                    f"Instruments for {name} may be weak: effective F = {_fmt_f(eff)}, above "
                    f"{WEAK_IV_F:g} but below the Olea-Pflueger critical value "
                    f"{OLEA_PFLUEGER_CRITICAL_F:.1f} (5% test that the worst-case bias exceeds "
                    "10% of the OLS bias). Report weak-instrument-robust (Anderson-Rubin) "
                    "intervals alongside."))
        elif math.isfinite(part) and part < WEAK_IV_F:
            out.append(Caveat(
                "weak_instruments", "high",
                f"Weak instruments for {name}: partial F = {_fmt_f(part)} < {WEAK_IV_F:g}. "
                "2SLS estimates and their standard errors are unreliable."))
    if several:
        cd = float(fs["cragg_donald_f"].iloc[0]) if "cragg_donald_f" in fs.columns else math.nan
        if math.isfinite(cd) and cd < WEAK_IV_F:
            out.append(Caveat(
                "weak_instruments", "high",
                f"Weak instruments: Cragg-Donald F = {_fmt_f(cd)} < {WEAK_IV_F:g} for "
                f"{len(fs)} endogenous regressors jointly (compare with the Stock-Yogo critical "
                "values); the 2SLS estimates are unreliable."))
    return out


def _is_cluster_warning(msg: str) -> bool:
    low = msg.lower()
    return "clusters" in low and "too small" in low


def _is_drop_warning(msg: str) -> bool:
    low = msg.lower()
    return "dropped" in low and any(k in low for k in ("singleton", "all-zero", "separated"))


def _estimation(res: Any) -> list[Caveat]:
    out: list[Caveat] = []
    warnings_ = [str(w) for w in res.warnings]
    conv_msgs = [w for w in warnings_ if "did not converge" in w.lower()]
    converged = getattr(res, "converged", True)
    if conv_msgs:
        out.extend(Caveat("convergence", "high", m) for m in conv_msgs)
    elif converged is False:
        out.append(Caveat("convergence", "high",
                          f"The {res.estimator} fit did not converge: the estimates are "
                          "unreliable. Check for separation or raise the iteration limit."))
    collinear = getattr(res, "collinear", None)
    if isinstance(collinear, Mapping) and collinear:
        listed = "; ".join(f"{k} ({v})" for k, v in collinear.items())
        out.append(Caveat("collinearity", "medium",
                          f"Regressor(s) dropped as collinear or absorbed by the fixed effects: "
                          f"{listed}. Their effects are not identified by this model."))
    dropped = getattr(res, "dropped", None)
    n_drop = 0
    if isinstance(dropped, pd.DataFrame) and len(dropped) and "reason" in dropped.columns:
        n_drop = len(dropped)
        share = n_drop / (n_drop + res.nobs) if res.nobs else 1.0
        out.append(Caveat("dropped_rows", "medium" if share >= 0.05 else "low",
                          f"The estimation left out {n_drop:,} row(s) ({100 * share:.1f}%): "
                          f"{_by_reason(dropped)}."))
    for w in warnings_:
        if w in conv_msgs or _is_cluster_warning(w) or w.startswith("Weak instruments"):
            continue
        if w.startswith(("Regressor(s) dropped", "Instrument(s) dropped")) and (
                isinstance(collinear, Mapping) and collinear):
            continue
        if n_drop and _is_drop_warning(w):
            continue
        kind = "collinearity" if w.startswith(("Regressor(s) dropped",
                                               "Instrument(s) dropped")) else (
            "estimation_warning")
        out.append(Caveat(kind, "medium", w))
    return out


def _by_reason(log: pd.DataFrame, limit: int = 5) -> str:
    counts = log.groupby("reason", sort=True).size().sort_values(ascending=False, kind="stable")
    parts = [f"{int(n):,} {reason}" for reason, n in counts.head(limit).items()]
    if len(counts) > limit:
        parts.append(f"{len(counts) - limit} more reason(s)")
    return "; ".join(parts)


# ---------------------------------------------------------------------- panel
def _panel(panel: Any) -> list[Caveat]:
    if not isinstance(panel, Panel):
        raise SpecError(f"panel must be a Panel (cp.load_panel or cp.datasets.load); got "
                        f"{type(panel).__name__}.")
    log = panel.drop_log
    if log.empty:
        return []
    n_src = panel.metadata.n_source_rows or (len(log) + len(panel))
    share = len(log) / n_src if n_src else 1.0
    return [Caveat("dropped_rows", "medium" if share >= 0.05 else "low",
                   f"{len(log):,} of {n_src:,} source rows ({100 * share:.1f}%) were dropped "
                   f"while loading: {_by_reason(log)}. If these rows are not missing at random "
                   "the estimates can be biased; see the drop log.")]


# ---------------------------------------------------------------- diagnostics
@runtime_checkable
class _Tidy(Protocol):
    """Other diagnostics shown as a table (e.g. bootstrap results: ``tidy()``)."""

    def tidy(self) -> pd.DataFrame: ...


_DIAGNOSTICS_HELP = (
    "diagnostics must be a FeedbackReport (cp.diagnostics.feedback_report), a feedback test "
    "result (leads_test, reverse_regression, granger_test: anything with name, p_value, verdict "
    "and interpretation), a list of them, or a dict {title: any of these, a DataFrame or a "
    "result with tidy() such as a bootstrap result}")


def _split_diagnostics(diagnostics: Any) -> tuple[list[Any], list[tuple[str, pd.DataFrame]]]:
    """(feedback tests, [(title, table)] of other diagnostics given in a dict)."""
    tests: list[Any] = []
    tables: list[tuple[str, pd.DataFrame]] = []

    def walk(obj: Any, title: str | None) -> None:
        if obj is None:
            return
        if isinstance(obj, FeedbackReport):
            tests.extend(obj.tests)
        elif isinstance(obj, _Test):
            tests.append(obj)
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                walk(v, str(k))
        elif isinstance(obj, Sequence) and not isinstance(obj, str):
            for v in obj:
                walk(v, title)
        elif title is not None and isinstance(obj, pd.DataFrame):
            tables.append((title, obj))
        elif title is not None and isinstance(obj, _Tidy):
            frame = obj.tidy()
            if not isinstance(frame, pd.DataFrame):
                raise SpecError(f"diagnostics[{title!r}].tidy() must return a DataFrame; got "
                                f"{type(frame).__name__}.")
            tables.append((title, frame))
        else:
            raise SpecError(f"{_DIAGNOSTICS_HELP}; got {type(obj).__name__}"
                            + (f" for {title!r}." if title is not None else "."))

    walk(diagnostics, None)
    return tests, tables


def _tests(diagnostics: Any) -> list[Any]:
    return _split_diagnostics(diagnostics)[0]


def _feedback_not_run(diagnostics: Any) -> list[tuple[str, str]]:
    """``(check, reason)`` of every feedback check the panel could not support
    (``FeedbackReport.not_run``, e.g. the Granger test on a short panel)."""
    out: list[tuple[str, str]] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, FeedbackReport):
            out.extend(obj.not_run)
        elif isinstance(obj, Mapping):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, Sequence) and not isinstance(obj, (str, pd.DataFrame)):
            for v in obj:
                walk(v)

    walk(diagnostics)
    return out


def _feedback(diagnostics: Any, panel: Any) -> list[Caveat]:
    out = []
    for t in _tests(diagnostics):
        if t.verdict != _FEEDBACK_DETECTED:
            continue
        if isinstance(t, GrangerTestResult) and panel is not None and (
                t.x in panel.treatments and t.y not in panel.treatments):
            continue  # treatment -> outcome: the effect's direction, not feedback
        is_leads = t.name == "leads test"
        out.append(Caveat(
            "feedback", "high" if is_leads else "medium",
            f"{t.name[:1].upper()}{t.name[1:]}: {t.interpretation} "
            "Prefer lagged treatment (cp.distributed_lag) or an instrument, and read "
            "same-period estimates as associations."))
    return out


_REFUTATION_FIELDS = ("name", "passed", "p_value", "reading")


def _refutation_rows(refutations: Any) -> list[dict[str, Any]]:
    """One dict per refutation: name, term (or None), passed, p_value, reading."""
    if refutations is None:
        return []
    if isinstance(refutations, pd.DataFrame):
        missing = [c for c in _REFUTATION_FIELDS if c not in refutations.columns]
        if missing:
            raise SpecError(f"The refutations table lacks column(s) {missing}; it needs name, "
                            f"passed, p_value and reading; got {list(refutations.columns)}.")
        frame = refutations.assign(term=refutations["term"] if "term" in refutations.columns
                                   else None)
        return frame[["name", "term", *_REFUTATION_FIELDS[1:]]].to_dict("records")
    rows: list[dict[str, Any]] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, _Refutation):
            term = getattr(obj, "term", None)
            rows.append({"name": obj.name, "term": term if isinstance(term, str) else None,
                         "passed": obj.passed, "p_value": obj.p_value, "reading": obj.reading})
        elif isinstance(obj, Mapping):
            for v in obj.values():
                walk(v)
        elif isinstance(obj, Sequence) and not isinstance(obj, str):
            for v in obj:
                walk(v)
        else:
            raise SpecError("Each refutation must have the attributes name, passed (bool, or "
                            "None when there is no test), p_value and reading (str); give a "
                            f"list or dict of them or a DataFrame; got {type(obj).__name__}.")

    walk(refutations)
    return rows


def _failed(passed: Any) -> bool:
    """A refutation failed only when ``passed`` is False (None / NaN: not tested)."""
    if passed is None:
        return False
    try:
        if pd.isna(passed):
            return False
    except (TypeError, ValueError):
        pass
    return not bool(passed)


def _has_p(p: Any) -> bool:
    try:
        return p is not None and math.isfinite(float(p))
    except (TypeError, ValueError):
        return False


def _refutations(refutations: Any) -> list[Caveat]:
    out = []
    for r in _refutation_rows(refutations):
        if not _failed(r["passed"]):
            continue
        of = f" of {r['term']}" if r["term"] else ""
        p = f" ({_fmt_p(r['p_value'])})" if _has_p(r["p_value"]) else ""
        out.append(Caveat("failed_refutation", "high",
                          f"Refutation '{r['name']}'{of} failed{p}: {r['reading']}"))
    return out


IMPLICATION_COLUMNS = ("implication", "p_value", "p_adjusted", "rejected")


def _check_implications(implications: Any) -> pd.DataFrame:
    """The implications table: a DataFrame, or an object whose ``table`` is one
    (:class:`causalpolicing.graph` implication tests)."""
    frame = implications
    if not isinstance(frame, pd.DataFrame):
        frame = getattr(implications, "table", None)
    if not isinstance(frame, pd.DataFrame):
        raise SpecError("implications must be a DataFrame with columns implication, p_value, "
                        "p_adjusted, rejected (or implication tests whose .table is one); got "
                        f"{type(implications).__name__}.")
    missing = [c for c in IMPLICATION_COLUMNS if c not in frame.columns]
    if missing:
        raise SpecError(f"The implications table lacks column(s) {missing}; it needs "
                        f"{list(IMPLICATION_COLUMNS)}; got {list(frame.columns)}.")
    return frame


def _implications(implications: Any, limit: int = 5) -> list[Caveat]:
    if implications is None:
        return []
    imp = _check_implications(implications)
    bad = imp[imp["rejected"].fillna(False).astype(bool)]
    if bad.empty:
        return []
    listed = "; ".join(f"{row['implication']} (adjusted {_fmt_p(row['p_adjusted'])})"
                       for _, row in bad.head(limit).iterrows())
    more = f"; and {len(bad) - limit} more" if len(bad) > limit else ""
    return [Caveat("failed_implication", "high",
                   f"{len(bad)} of {len(imp)} testable implications of the causal graph are "
                   f"rejected by the data: {listed}{more}. The graph (and the adjustment set "
                   "derived from it) is probably wrong; revise it before trusting the estimate.")]


# ---------------------------------------------------------------------- entry
def caveats(
    results: Any = None,
    *,
    panel: Any = None,
    diagnostics: Any = None,
    refutations: Any = None,
    implications: pd.DataFrame | None = None,
    few_clusters: int = 40,
    twfe_weights: Any = None,
) -> list[Caveat]:
    """Caveats from results, the panel and the diagnostics, most severe first.

    Parameters
    ----------
    results
        A results object, a list of them, or ``{name: results}``. With several
        models a caveat shared by them is given once, naming the models.
    panel
        The :class:`~causalpolicing.Panel`: its drop log.
    diagnostics
        A :class:`~causalpolicing.diagnostics.FeedbackReport`, feedback test
        results (``LeadsTestResult``, ``ReverseRegressionResult``,
        ``GrangerTestResult``), or a list/dict of them. A Granger test of
        treatment -> outcome (with ``panel`` given to tell) is not feedback and
        raises nothing. In a dict, other diagnostics (DataFrames, results with
        ``tidy()`` such as bootstrap results) are accepted and raise nothing here
        (the report shows them).
    refutations
        Objects with ``name``, ``passed`` (bool; ``None`` when the refuter has
        no test), ``p_value`` (may be ``None``) and ``reading`` (optionally
        ``term``), as a list or dict (nested lists/dicts are flattened), or a
        DataFrame with those columns. Only ``passed`` False raises a caveat.
    implications
        Testable implications of the causal graph: a DataFrame with columns
        ``implication``, ``p_value``, ``p_adjusted`` and ``rejected``, or an
        object whose ``table`` is one.
    few_clusters
        Fewer clusters than this raise the ``few_clusters`` caveat.
    twfe_weights
        A :class:`~causalpolicing.diagnostics.TWFEWeights` (the weights of the static
        TWFE coefficient); negative weights raise the ``negative_weights`` caveat.

    Returns
    -------
    list of Caveat
        Sorted by severity (high, medium, low), then in the order of the table
        in the module docstring.

    Examples
    --------
    >>> import pandas as pd
    >>> imp = pd.DataFrame({"implication": ["A _||_ B | C"], "p_value": [0.001],
    ...                     "p_adjusted": [0.002], "rejected": [True]})
    >>> print(caveats(implications=imp)[0].message)
    1 of 1 testable implications of the causal graph are rejected by the data: A _||_ B | C (adjusted p = 0.002). The graph (and the adjustment set derived from it) is probably wrong; revise it before trusting the estimate.
    """
    if isinstance(few_clusters, bool) or not isinstance(few_clusters, int) or few_clusters < 1:
        raise SpecError(f"few_clusters must be a positive integer (e.g. 40); got "
                        f"{few_clusters!r}.")
    models = _models(results)
    for _, res in models:
        _check_results(res)
    # per model, then merged: identical caveats of several models are listed once
    merged: dict[tuple[str, str, str], list[str | None]] = {}
    for name, res in models:
        for c in [*_few_clusters(res, few_clusters), *_weak_iv(res), *_estimation(res),
                  *_pretrends(res)]:
            merged.setdefault((c.kind, c.severity, c.message), []).append(name)
    found: list[Caveat] = []
    for (kind, severity, message), names in merged.items():
        named = [n for n in names if n is not None]
        if named and len(models) > 1:
            label = "Model" if len(named) == 1 else "Models"
            message = f"{label} {', '.join(named)}: {message}"
        found.append(Caveat(kind, severity, message))
    if panel is not None:
        found.extend(_panel(panel))
    found.extend(_feedback(diagnostics, panel))
    found.extend(_negative_weights(twfe_weights))
    found.extend(_refutations(refutations))
    found.extend(_implications(implications))
    rank = {k: i for i, k in enumerate(CAVEAT_KINDS)}
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(found, key=lambda c: (order[c.severity], rank[c.kind]))
