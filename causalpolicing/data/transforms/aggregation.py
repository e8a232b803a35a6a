"""Aggregation to coarser periods, with a stated rule per column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ...exceptions import NonNumericError, TransformError
from .._messages import quote_list
from .._records import TransformRecord
from ..readers import DROP_LOG_COLUMNS
from ..timeparse import _RANK, FREQUENCIES, normalise_freq
from ._common import _check_column, _check_names, _check_panel, _frame, _scalar
from ._lookup import _keys

if TYPE_CHECKING:  # transforms take a Panel but never import the module that defines it
    from ..panel import Panel

__all__ = ["aggregate", "AGGREGATION_RULES"]

IncompletePolicy = Literal["error", "drop", "keep"]

#: Aggregation rules accepted by :func:`aggregate` (plus ``("weighted_mean", weight_column)``).
AGGREGATION_RULES: tuple[str, ...] = ("sum", "mean", "first", "last", "min", "max")


def _resolve_rules(panel: Panel, rules: Mapping[str, Any] | None) -> dict[str, str | tuple[str, str]]:
    if rules is None:
        rules = {}
    if not isinstance(rules, Mapping):
        raise TransformError(
            f"aggregate(): rules must be a mapping column -> rule; got {type(rules).__name__}."
        )
    options = f"{quote_list(AGGREGATION_RULES)} or ('weighted_mean', weight_column)"
    resolved: dict[str, str | tuple[str, str]] = {}
    for col, rule in rules.items():
        _check_column(panel, col, "rules key")
        if isinstance(rule, str) and rule in AGGREGATION_RULES:
            resolved[col] = rule
        elif (isinstance(rule, tuple | list) and len(rule) == 2 and rule[0] == "weighted_mean"):
            _check_column(panel, rule[1], f"weight of {col!r}")
            resolved[col] = ("weighted_mean", rule[1])
        else:
            raise TransformError(
                f"aggregate(): unknown rule {rule!r} for column {col!r}; use one of {options}."
            )
    defaults: dict[str, str] = {}
    for c, kind in panel.outcome_kinds.items():
        if kind == "count":
            defaults[c] = "sum"
        elif kind == "rate":
            defaults[c] = "mean"
    if panel.exposure is not None:
        defaults[panel.exposure] = "mean"
    for c, rule in defaults.items():
        resolved.setdefault(c, rule)
    keys = (panel.unit, panel.time)
    lacking = [c for c in panel.columns if c not in keys and c not in resolved]
    if lacking:
        example = ", ".join(f"{c!r}: 'mean'" for c in lacking[:3])
        raise TransformError(
            f"aggregate(): column(s) {quote_list(lacking)} have no aggregation rule. Every column "
            f"needs one: pass rules={{{example}}} with a rule from {options}. Defaults: count "
            "outcomes are summed, rate outcomes and the exposure are averaged."
        )
    return {c: resolved[c] for c in panel.columns if c in resolved}


def aggregate(panel: Panel, to: str = "Y", rules: Mapping[str, Any] | None = None,
              incomplete: IncompletePolicy = "error", count_name: str | None = None) -> Panel:
    """Aggregate to coarser periods (days -> weeks or months, months -> quarters or years, ...).

    Parameters
    ----------
    panel
        The panel (daily, monthly or quarterly; weeks do not nest in months or
        years, so weekly panels cannot be aggregated).
    to
        Target frequency: ``"W"`` (from days), ``"M"``, ``"Q"`` or ``"Y"``.
    rules
        A mapping column -> rule for every column except the unit and time:

        * ``"sum"`` (counts), ``"mean"`` (rates, averages), ``"min"``, ``"max"``;
        * ``("weighted_mean", weight_column)`` (e.g. a population-weighted rate);
        * ``"first"`` / ``"last"``: the value of the group's first / last row
          (also for text columns).

        Defaults (used when a column is not in ``rules``): count outcomes are
        summed; rate outcomes and the exposure are averaged. Any other column
        without a rule raises an error listing them. A missing value anywhere in
        a group makes the numeric rules' result missing (never treated as 0);
        ``first``/``last`` take the row's value as it is.
    incomplete
        What to do with a coarse period that lacks some sub-periods (e.g. a
        year with 11 of 12 months, including a unit's first or last year):

        * ``"error"`` (default): raise, naming unit, period and how many
          sub-periods are present;
        * ``"drop"``: leave those coarse periods out. Their fine rows are
          recorded in the new panel's ``drop_log`` (one entry per fine row,
          with its source row, reason ``"incomplete period ..."`` and stage
          ``"aggregate"``);
        * ``"keep"``: aggregate them anyway (sums over fewer months are then
          smaller: pass ``count_name`` to record how many sub-periods each row has).
    count_name
        If given, a new column of that name holds the number of sub-periods in
        each aggregated row.

    Returns
    -------
    Panel
        A new panel with one row per unit and coarse period, the new ``freq``,
        the same roles and neighbours (the time column keeps its name, e.g.
        ``month``, but holds the coarser periods). Role kinds are checked again: a rule
        that turns a count into non-integers or a binary treatment into
        fractions raises an error suggesting another rule or a kind change
        with :meth:`~causalpolicing.data.panel.Panel.with_roles`.

    Notes
    -----
    Row accounting: each aggregated row's ``source_rows`` entry is the source
    row of the first (earliest) fine row in its group. The drop log keeps every
    entry of the input panel and adds the fine rows of dropped incomplete
    periods, so for an aggregated panel the loading identity becomes
    ``n_source_rows == (fine rows aggregated) + len(drop_log)``; the number of
    fine rows aggregated is the sum of ``count_name`` when it is requested.

    A rate is best recomputed from aggregated counts and exposure (sum the
    counts, average the population, then :func:`rate`) rather than averaged.

    Examples
    --------
    >>> import warnings
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> from causalpolicing.exceptions import FewUnitsWarning
    >>> df = pd.DataFrame({"canton": ["ZH"] * 4, "quarter": ["2000Q1", "2000Q2", "2000Q3", "2000Q4"],
    ...                    "deaths": [1, 2, 3, 4], "offences": [1.0, 2.0, 3.0, 6.0],
    ...                    "population": [100.0, 100.0, 200.0, 200.0]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FewUnitsWarning)
    ...     panel = cp.load_panel(df, unit="canton", time="quarter", outcome="deaths",
    ...                           treatment="offences", exposure="population")
    >>> yearly = aggregate(panel, "Y", rules={"offences": ("weighted_mean", "population")})
    >>> yearly.freq, yearly.to_frame().to_dict("records")
    ('Y', [{'canton': 'ZH', 'quarter': Period('2000', 'Y-DEC'), 'deaths': 10.0, 'offences': 3.5, 'population': 150.0}])
    """
    _check_panel(panel, "aggregate")
    target = normalise_freq(to)
    own = panel.freq
    if own == "W":
        raise TransformError(
            "aggregate(): weekly periods do not nest in months, quarters or years, so a weekly "
            "panel cannot be aggregated exactly. Aggregate the daily data instead."
        )
    if _RANK[target] <= _RANK[own]:
        raise TransformError(
            f"aggregate(): the panel holds {FREQUENCIES[own]}; to={to!r} ({FREQUENCIES[target]}) "
            "is not coarser. Periods can only be aggregated upwards (days -> weeks/months, "
            "months -> quarters/years, quarters -> years)."
        )
    if incomplete not in ("error", "drop", "keep"):
        raise TransformError(
            f"aggregate(): unknown incomplete={incomplete!r}; use 'error' (default), 'drop' or "
            "'keep'."
        )
    resolved = _resolve_rules(panel, rules)
    if count_name is not None:
        _check_names(panel, [count_name], hint="pass another count_name")

    f = _frame(panel)
    codes, _, ords = _keys(panel)
    source_rows = panel._source_rows
    order = np.lexsort((ords, codes))
    if not np.array_equal(order, np.arange(len(order))):  # Panels are sorted; be safe anyway
        f = f.iloc[order].reset_index(drop=True)
        codes, ords, source_rows = codes[order], ords[order], source_rows[order]
    coarse = f[panel.time].dt.asfreq(target).array.asi8.astype(np.int64)
    n = len(f)
    first = np.ones(n, dtype=bool)
    first[1:] = (codes[1:] != codes[:-1]) | (coarse[1:] != coarse[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, n))
    ends = starts + counts - 1
    coarse_index = pd.PeriodIndex.from_ordinals(coarse[starts], freq=target)
    expected = (coarse_index.asfreq(own, how="end").asi8
                - coarse_index.asfreq(own, how="start").asi8 + 1)
    complete = counts == expected
    unit_values = f[panel.unit].to_numpy()

    keep = np.ones(len(starts), dtype=bool)
    new_drops = None
    if not complete.all():
        bad = np.flatnonzero(~complete)
        shown = "; ".join(
            f"{unit_values[starts[g]]} {coarse_index[g]}: {counts[g]} of {expected[g]} "
            f"{FREQUENCIES[own]}" for g in bad[:8]
        )
        more = f" and {len(bad) - 8} more" if len(bad) > 8 else ""
        if incomplete == "error":
            raise TransformError(
                f"aggregate(): {len(bad)} unit-period(s) lack some {FREQUENCIES[own]}: "
                f"{shown}{more}. Choose incomplete='drop' (leave them out; recorded in the "
                "drop log) or incomplete='keep' (aggregate what is there; add count_name= to "
                "see how much)."
            )
        if incomplete == "drop":
            keep = complete
            if not keep.any():
                raise TransformError(
                    f"aggregate(): every unit-period is incomplete ({shown}{more}); nothing "
                    "would be left. Use incomplete='keep' or aggregate to a finer frequency."
                )
            group_of_row = np.repeat(np.arange(len(starts)), counts)
            dropped = ~keep[group_of_row]
            g = group_of_row[dropped]
            reason = np.empty(len(starts), dtype=object)
            reason[bad] = [
                f"incomplete period {coarse_index[i]} ({counts[i]} of {expected[i]} "
                f"{FREQUENCIES[own]}) when aggregating to {FREQUENCIES[target]}"
                for i in bad
            ]
            new_drops = pd.DataFrame({
                "source_row": source_rows[dropped].astype(np.int64),
                "unit": unit_values[dropped],
                "time": f[panel.time].astype(str).to_numpy()[dropped],
                "column": panel.time,
                "reason": reason[g],
                "stage": "aggregate",
            })[DROP_LOG_COLUMNS]

    out: dict[str, Any] = {
        panel.unit: f[panel.unit].iloc[starts].to_numpy(),
        panel.time: pd.PeriodIndex.from_ordinals(coarse[starts], freq=target),
    }
    for col, rule in resolved.items():
        out[col] = _apply_rule(panel, f, col, rule, starts, ends, counts, unit_values, coarse_index)
    result = pd.DataFrame(out)
    if count_name is not None:
        result[count_name] = counts
    result = result.loc[keep].reset_index(drop=True)
    _check_kinds_after(panel, result, resolved)

    drop_log = panel._drop_log
    if new_drops is not None:
        drop_log = (pd.concat([drop_log, new_drops], ignore_index=True) if len(drop_log)
                    else new_drops)
        drop_log = drop_log.sort_values("source_row", kind="stable").reset_index(drop=True)
    params = {"to": target, "from": own, "rules": dict(resolved), "incomplete": incomplete}
    if count_name is not None:
        params["count_name"] = count_name
    record = TransformRecord("aggregate", params, (count_name,) if count_name else ())
    return panel._derive(result, record, source_rows=source_rows[starts][keep], freq=target,
                         drop_log=drop_log)


def _apply_rule(panel: Panel, f: pd.DataFrame, col: str, rule: str | tuple[str, str],
                starts: np.ndarray, ends: np.ndarray, counts: np.ndarray,
                unit_values: np.ndarray, coarse_index: pd.PeriodIndex) -> Any:
    if rule == "first":
        return f[col].iloc[starts].to_numpy()
    if rule == "last":
        return f[col].iloc[ends].to_numpy()
    label = rule if isinstance(rule, str) else "weighted_mean"
    what = f"aggregate() rule {label!r}"
    # numeric rules: checked on the (possibly reordered) frame
    s = f[col]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise NonNumericError(
            f"{what} needs a numeric column, but {col!r} holds {s.dtype} values. Use 'first' or "
            "'last' for labels, or declare the column numeric when loading."
        )
    x = s.to_numpy(dtype=float, na_value=np.nan)
    if rule == "sum":
        return np.add.reduceat(x, starts)
    if rule == "mean":
        return np.add.reduceat(x, starts) / counts
    if rule == "min":
        return np.minimum.reduceat(x, starts)
    if rule == "max":
        return np.maximum.reduceat(x, starts)
    weight = rule[1]
    ws = f[weight]
    if not pd.api.types.is_numeric_dtype(ws):
        raise NonNumericError(
            f"{what}: the weight column {weight!r} for {col!r} holds {ws.dtype} values; it must "
            "be numeric."
        )
    w = ws.to_numpy(dtype=float, na_value=np.nan)
    neg = w < 0
    if neg.any():
        raise TransformError(
            f"{what}: the weight {weight!r} for {col!r} is negative in "
            f"{int(neg.sum())} row(s); weights must be non-negative."
        )
    num = np.add.reduceat(x * w, starts)
    den = np.add.reduceat(w, starts)
    zero = den == 0
    if zero.any():
        g = np.flatnonzero(zero)
        shown = ", ".join(f"{unit_values[starts[i]]} {coarse_index[i]}" for i in g[:8])
        raise TransformError(
            f"{what}: the weights {weight!r} of {col!r} sum to 0 in {len(g)} unit-period(s) "
            f"({shown}), so the weighted mean is undefined there. Use 'mean' or fix the weights."
        )
    return num / den


def _check_kinds_after(panel: Panel, frame: pd.DataFrame,
                       rules: Mapping[str, str | tuple[str, str]]) -> None:
    checks = [(c, "outcome", k) for c, k in panel.outcome_kinds.items()]
    checks += [(c, "treatment", k) for c, k in panel.treatment_kinds.items()]
    for col, role, kind in checks:
        v = frame[col].to_numpy(dtype=float, na_value=np.nan)
        v = v[~np.isnan(v)]
        if kind == "count":
            bad = (v < 0) | (np.floor(v) != v)
            fix = "use 'sum' for counts"
            new_kind = "'rate' or 'continuous'"
        elif kind == "binary":
            bad = ~np.isin(v, (0.0, 1.0))
            fix = "use 'max' (any event in the period), 'min', 'first' or 'last'"
            new_kind = "'continuous'"
        elif kind == "rate":
            bad = v < 0
            fix = "use 'mean' or a weighted mean"
            new_kind = "'continuous'"
        else:
            continue
        if bad.any():
            raise TransformError(
                f"aggregate(): rule {rules[col]!r} turns {role} {col!r} (a {kind}) into values "
                f"that are not a {kind} (e.g. {_scalar(v[bad][0])!r}). Either {fix}, or change its kind "
                f"first: panel.with_roles({role}={{{col!r}: {new_kind.split(' or ')[0]}}})."
            )
