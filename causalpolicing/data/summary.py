"""Panel summary: structure, balance, gaps, missingness and treatment variation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .panel import Panel, PanelSummary

__all__ = ["summarise", "find_gaps", "variation_table"]


def find_gaps(frame: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    """Units with missing periods between their first and last observation.

    Returns a DataFrame with ``unit``, ``n_missing`` and ``missing_periods``
    (a comma-separated list, at most 12 shown).
    """
    if len(frame) == 0:
        return pd.DataFrame(columns=["unit", "n_missing", "missing_periods"])
    ordinals = frame[time].array.asi8
    g = pd.DataFrame({"u": frame[unit].to_numpy(), "t": ordinals})
    agg = g.groupby("u", sort=True)["t"].agg(["min", "max", "count"])
    expected = agg["max"] - agg["min"] + 1
    gappy = agg.index[(expected > agg["count"]).to_numpy()]
    freq = frame[time].dt.freq
    rows = []
    for u in gappy:
        seen = set(g.loc[g["u"] == u, "t"].tolist())
        lo, hi = int(agg.loc[u, "min"]), int(agg.loc[u, "max"])
        missing = [o for o in range(lo, hi + 1) if o not in seen]
        labels = [str(pd.Period(ordinal=o, freq=freq)) for o in missing[:12]]
        text = ", ".join(labels) + (f" and {len(missing) - 12} more" if len(missing) > 12 else "")
        rows.append({"unit": u, "n_missing": len(missing), "missing_periods": text})
    return pd.DataFrame(rows, columns=["unit", "n_missing", "missing_periods"])


def variation_table(frame: pd.DataFrame, unit: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Overall, between-unit and within-unit standard deviation of each column.

    ``within`` is the SD of the value minus its unit mean; ``share_within`` is the
    within variance over the overall variance; ``units_constant`` counts units in
    which the column never changes (fixed effects absorb them).
    """
    rows = []
    for col in columns:
        x = pd.to_numeric(frame[col], errors="coerce")
        ok = x.notna()
        xs, us = x[ok], frame.loc[ok, unit]
        if len(xs) < 2:
            rows.append({"column": col, "mean": np.nan, "sd_overall": np.nan,
                         "sd_between": np.nan, "sd_within": np.nan, "share_within": np.nan,
                         "units_constant": 0})
            continue
        means = xs.groupby(us.to_numpy()).transform("mean")
        unit_means = xs.groupby(us.to_numpy()).mean()
        within = xs - means
        sd_all = float(xs.std(ddof=1))
        sd_within = float(within.std(ddof=1))
        share = float(within.var(ddof=1) / xs.var(ddof=1)) if sd_all > 0 else np.nan
        spans = xs.groupby(us.to_numpy()).agg(lambda s: s.max() - s.min())
        rows.append({
            "column": col,
            "mean": float(xs.mean()),
            "sd_overall": sd_all,
            "sd_between": float(unit_means.std(ddof=1)) if len(unit_means) > 1 else np.nan,
            "sd_within": sd_within,
            "share_within": share,
            "units_constant": int((spans == 0).sum()),
        })
    return pd.DataFrame(rows)


def summarise(panel: Panel) -> PanelSummary:
    """Build the :class:`~causalpolicing.data.panel.PanelSummary` of a panel."""
    from .panel import PanelSummary

    frame = panel.to_frame()
    drops = panel.drop_log
    t = frame[panel.time]
    columns = list(dict.fromkeys([
        *panel.roles.numeric, *panel.clusters,
        *[c for c in frame.columns if c not in (panel.unit, panel.time)],
    ]))
    dropped_for = {}
    for col in drops["column"].dropna():
        for c in str(col).split(", "):
            dropped_for[c] = dropped_for.get(c, 0) + 1
    miss = pd.DataFrame({
        "column": columns,
        "role": [_role_of(panel, c) for c in columns],
        "missing_in_panel": [int(frame[c].isna().sum()) for c in columns],
        "dropped_for": [dropped_for.get(c, 0) for c in columns],
    })
    reasons = (
        drops.groupby("reason", sort=True).size().rename("n_rows").reset_index()
        .sort_values("n_rows", ascending=False, kind="stable")
        if len(drops) else pd.DataFrame(columns=["reason", "n_rows"])
    )
    return PanelSummary(
        n_rows=len(panel),
        n_units=panel.n_units,
        n_periods=panel.n_periods,
        first_period=str(t.min()),
        last_period=str(t.max()),
        freq=panel.freq,
        balanced=panel.is_balanced,
        n_source_rows=panel.metadata.n_source_rows,
        n_dropped=len(drops),
        gaps=find_gaps(frame, panel.unit, panel.time),
        missingness=miss,
        variation=variation_table(frame, panel.unit, panel.treatments),
        roles=panel.roles.as_dict(),
        drop_reasons=reasons,
        source=panel.metadata.source,
    )


def _role_of(panel: Panel, col: str) -> str:
    r = panel.roles
    if col in r.outcomes:
        return f"outcome ({r.outcome_kinds[col]})"
    if col in r.treatments:
        return f"treatment ({r.treatment_kinds[col]})"
    if col == r.exposure:
        return "exposure"
    if col in r.covariates:
        return "covariate"
    if col in r.clusters:
        return "cluster"
    return "-"
