"""The report's sections as plain data (strings, lists, small tables) for the templates.

Every number is formatted here, once, so the HTML and the Markdown twin show the
same text. A table is a dict ``{"columns": [...], "rows": [[str, ...], ...],
"numeric": [bool, ...]}`` (``numeric`` right-aligns a column).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ...exceptions import SpecError
from ..narrative.checks import (
    IMPLICATION_COLUMNS,
    _check_implications,
    _failed,
    _feedback_not_run,
    _refutation_rows,
    _split_diagnostics,
)

__all__ = ["frame_table", "data_section", "diagnostics_section", "graph_section"]

Table = dict[str, Any]


def _cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "Yes" if x else "No"
    if isinstance(x, numbers.Integral):
        return f"{int(x):,}"
    if isinstance(x, numbers.Real):
        x = float(x)
        if math.isnan(x):
            return ""
        if x == int(x) and abs(x) < 1e15:
            return f"{int(x):,}"
        return f"{x:,.4g}" if abs(x) >= 1e-3 else f"{x:.3g}"
    try:
        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    return str(x)


def _fmt_p(p: Any) -> str:
    try:
        p = float(p)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def frame_table(frame: pd.DataFrame, columns: Sequence[str] | None = None,
                labels: Mapping[str, str] | None = None,
                formats: Mapping[str, Any] | None = None) -> Table:
    """A DataFrame as a template table (strings), with optional column labels and formatters."""
    cols = list(columns) if columns is not None else list(frame.columns)
    labels = labels or {}
    formats = formats or {}
    rows = []
    for rec in frame[cols].itertuples(index=False, name=None):
        rows.append([formats.get(c, _cell)(v) for c, v in zip(cols, rec, strict=True)])
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in cols]
    return {"columns": [labels.get(c, c) for c in cols], "rows": rows, "numeric": numeric}


def _pairs_table(pairs: Sequence[tuple[str, str]]) -> Table:
    return {"columns": ["", ""], "rows": [[a, b] for a, b in pairs], "numeric": [False, False]}


# ------------------------------------------------------------------------ data
def data_section(panel: Any, *, drop_log_rows: int, drop_log_csv: bool) -> dict[str, Any]:
    """Structure, roles, missingness, gaps, treatment variation and the drop log."""
    s = panel.summary()
    freq = {"Y": "years", "Q": "quarters", "M": "months", "W": "weeks", "D": "days"}.get(
        s.freq, s.freq)
    facts = [
        ("Source", s.source),
        ("Units", f"{s.n_units:,}"),
        ("Periods", f"{s.n_periods:,} {freq} ({s.first_period} to {s.last_period})"),
        ("Rows in the panel", f"{s.n_rows:,}"),
        ("Balanced", "yes" if s.balanced else "no"),
        ("Source rows", f"{s.n_source_rows:,}"),
        ("Rows dropped while loading", f"{s.n_dropped:,}"),
    ]
    if s.aggregated_from:
        facts.append(("Aggregated from", s.aggregated_from))
    r = panel.roles
    roles = [("Unit", r.unit), ("Time", r.time),
             ("Outcome(s)", ", ".join(f"{k} ({v})" for k, v in r.outcome_kinds.items())),
             ("Treatment(s)", ", ".join(f"{k} ({v})" for k, v in r.treatment_kinds.items()))]
    if r.exposure:
        roles.append(("Exposure", r.exposure))
    if r.covariates:
        roles.append(("Covariates", ", ".join(r.covariates)))
    if r.clusters:
        roles.append(("Clusters", ", ".join(r.clusters)))
    miss = frame_table(s.missingness, ["column", "role", "missing_in_panel", "dropped_for"],
                       {"column": "Column", "role": "Role",
                        "missing_in_panel": "Missing in panel",
                        "dropped_for": "Rows dropped for it"})
    gaps = (frame_table(s.gaps, ["unit", "n_missing", "missing_periods"],
                        {"unit": "Unit", "n_missing": "Missing periods",
                         "missing_periods": "Which"}) if len(s.gaps) else None)
    variation = (frame_table(s.variation, ["column", "mean", "sd_overall", "sd_between",
                                           "sd_within", "share_within", "units_constant"],
                             {"column": "Treatment", "mean": "Mean", "sd_overall": "SD",
                              "sd_between": "SD between units", "sd_within": "SD within units",
                              "share_within": "Within share of variance",
                              "units_constant": "Units constant"})
                 if len(s.variation) else None)
    log = panel.drop_log
    reasons = (frame_table(s.drop_reasons, ["reason", "n_rows"],
                           {"reason": "Reason", "n_rows": "Rows"}) if len(log) else None)
    shown = log.head(drop_log_rows)
    cols = [c for c in ("source_row", "unit", "time", "column", "reason", "stage")
            if c in shown.columns]
    log_table = (frame_table(shown, cols, {"source_row": "Source row", "unit": "Unit",
                                           "time": "Time", "column": "Column",
                                           "reason": "Reason", "stage": "Stage"},
                             {"source_row": lambda v: "" if pd.isna(v) else str(int(v))})
                 if len(shown) else None)
    return {
        "facts": _pairs_table(facts),
        "roles": _pairs_table(roles),
        "missingness": miss,
        "gaps": gaps,
        "variation": variation,
        "drop_total": len(log),
        "drop_reasons": reasons,
        "drop_log": log_table,
        "drop_shown": len(shown),
        "drop_log_file": "drop_log.csv" if drop_log_csv and len(log) else None,
    }


# ----------------------------------------------------------------- diagnostics
def diagnostics_section(diagnostics: Any) -> dict[str, Any] | None:
    """The feedback checks (one row per test; a check the panel could not support says
    "not checked" and why) and any other diagnostic tables given by title."""
    tests, others = _split_diagnostics(diagnostics)
    not_run = _feedback_not_run(diagnostics)
    if not tests and not others and not not_run:
        return None
    feedback = None
    if tests or not_run:
        rows = [[t.name, _cell(float(getattr(t, "statistic", math.nan))), _fmt_p(t.p_value),
                 t.verdict, t.interpretation] for t in tests]
        rows += [[name, "", "", "not checked", reason] for name, reason in not_run]
        feedback = {"columns": ["Check", "Statistic", "p-value", "Verdict", "Reading"],
                    "rows": rows, "numeric": [False, True, True, False, False]}
    tables = [{"title": title, "table": frame_table(
        frame, formats={c: _fmt_p for c in frame.columns if c in ("p_value", "p_adjusted")})}
        for title, frame in others]
    return {"feedback": feedback, "tables": tables}


# ----------------------------------------------------------------------- graph
def _graph_item(key: str, value: Any) -> dict[str, Any]:
    label = str(key).replace("_", " ")
    label = label[:1].upper() + label[1:]
    if isinstance(value, str):
        return {"label": label, "kind": "pre" if "\n" in value else "text", "value": value}
    if isinstance(value, pd.DataFrame):
        return {"label": label, "kind": "table", "value": frame_table(value)}
    if isinstance(value, Mapping):
        return {"label": label, "kind": "pairs",
                "value": [(str(k), _inline(v)) for k, v in value.items()]}
    if isinstance(value, Sequence) or isinstance(value, (set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return {"label": label, "kind": "list", "value": [_inline(v) for v in items]}
    return {"label": label, "kind": "text", "value": _cell(value)}


def _inline(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, v))) + "}" if v else "{} (empty set)"
    if isinstance(v, Sequence):
        return "{" + ", ".join(map(str, v)) + "}" if len(v) else "{} (empty set)"
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {_inline(x)}" for k, x in v.items())
    return _cell(v)


def graph_section(graph_summary: Any, implications: Any, refutations: Any) -> dict[str, Any] | None:
    """Adjustment sets, estimand, testable implications and refutations (when given)."""
    if graph_summary is None and implications is None and refutations is None:
        return None
    items = []
    if graph_summary is not None:
        if not isinstance(graph_summary, Mapping):
            raise SpecError("graph_summary must be a mapping such as {'estimand': '...', "
                            "'adjustment_sets': [['w1', 'w2']]}; got "
                            f"{type(graph_summary).__name__}.")
        items = [_graph_item(k, v) for k, v in graph_summary.items()]
    imp = None
    if implications is not None:
        frame = _check_implications(implications)
        imp = frame_table(frame, list(IMPLICATION_COLUMNS),
                          {"implication": "Implication", "p_value": "p-value",
                           "p_adjusted": "Adjusted p", "rejected": "Rejected"},
                          {"p_value": _fmt_p, "p_adjusted": _fmt_p,
                           "rejected": lambda v: "Yes" if bool(v) else "No"})
    ref = None
    rows = _refutation_rows(refutations)
    if rows:
        def passed(v: Any) -> str:
            return "No" if _failed(v) else ("n/a" if v is None or pd.isna(v) else "Yes")

        with_term = any(r["term"] for r in rows)
        ref = {"columns": ["Refutation", *(["Term"] if with_term else []), "Passed", "p-value",
                           "Reading"],
               "rows": [[str(r["name"]), *([r["term"] or ""] if with_term else []),
                         passed(r["passed"]), _fmt_p(r["p_value"]), str(r["reading"])]
                        for r in rows],
               "numeric": [False, *([False] if with_term else []), False, True, False]}
    return {"items": items, "implications": imp, "refutations": ref}
