"""The load-stage drop log: rows that lack a value the analysis needs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._records import Roles
from .readers import DROP_LOG_COLUMNS, empty_drop_log


def _drop_incomplete(
    frame: pd.DataFrame, rows: np.ndarray, roles: Roles, role_of: Mapping[str, str],
    extra: Mapping[str, np.ndarray],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows missing a value the analysis needs: the drop log and the mask of rows kept.

    Vectorised: the text of each distinct combination of reasons is built once.
    """
    check = list(dict.fromkeys([*roles.numeric, *roles.clusters]))
    # (column named in the log, reason, mask) in a fixed order
    causes: list[tuple[str, str, np.ndarray]] = [
        (c, f"missing {role_of.get(c, 'cluster')} {c!r}", frame[c].isna().to_numpy())
        for c in check
    ]
    causes += [(roles.exposure or "", reason, np.asarray(m, dtype=bool))
               for reason, m in extra.items()]
    if not causes:
        return empty_drop_log(), np.ones(len(frame), dtype=bool)
    masks = np.column_stack([m for _, _, m in causes])
    dropped = masks.any(axis=1)
    if not dropped.any():
        return empty_drop_log(), np.ones(len(frame), dtype=bool)
    idx = np.flatnonzero(dropped)
    distinct, codes = np.unique(masks[idx], axis=0, return_inverse=True)
    codes = np.asarray(codes).reshape(-1)
    cols_text, reasons_text = [], []
    for combo in distinct:
        hit = [cause for cause, on in zip(causes, combo, strict=True) if on]
        cols_text.append(", ".join(dict.fromkeys(c for c, _, _ in hit)))
        reasons_text.append("; ".join(r for _, r, _ in hit))
    times = frame[roles.time].array[idx]
    tcodes, tdistinct = pd.factorize(times)
    log = pd.DataFrame({
        "source_row": rows[idx].astype(np.int64),
        "unit": pd.Series(frame[roles.unit].to_numpy()[idx], dtype=object),
        "time": pd.Series(np.asarray(tdistinct.astype(str), dtype=object)[tcodes], dtype=object),
        "column": pd.Series(np.asarray(cols_text, dtype=object)[codes], dtype=object),
        "reason": pd.Series(np.asarray(reasons_text, dtype=object)[codes], dtype=object),
        "stage": pd.Series(["load"] * len(idx), dtype=object),
    })[DROP_LOG_COLUMNS]
    return log, ~dropped
