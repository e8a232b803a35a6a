"""Data preparation for :class:`~causalpolicing.estimators.poisson.FEPoisson`.

The offset (log exposure plus a user offset) with the rows it cannot use, the
rows that make the maximum likelihood estimate not exist (fixed-effect levels
with an all-zero outcome, singletons, separated rows), and the drop log.

>>> import pandas as pd
>>> off, bad = exposure_offset(pd.DataFrame({"y": [1, 0], "pop": [10.0, 0.0]}), "y", "pop", None)
>>> [round(float(v), 3) for v in off], [(m.tolist(), r) for m, _, r in bad if m.any()]
([2.303, 0.0], [([False, True], 'zero exposure (no one at risk, zero outcome)')])
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..core.demean import FixedEffects
from ..core.fe_structure import drop_singletons, factorize
from ..exceptions import (
    ConvergenceWarning,
    DataWarning,
    EstimationError,
    NegativeValueError,
    SpecError,
    ZeroExposureError,
)
from ._design import DROP_LOG_COLUMNS, _is_bool_dtype, _is_numeric_dtype, describe_rows
from ._poisson_irls import _all_zero_rows, _relu_separation


def exposure_offset(frame: pd.DataFrame, ycol: str, expo: str | None, offset: str | None,
                    source_rows: np.ndarray | None = None,
                    ) -> tuple[np.ndarray, list[tuple[np.ndarray, str, str]]]:
    """Offset vector (log exposure + offset) and rows to drop (mask, column, reason).

    ``source_rows`` (a Panel's) name rows in messages; else the frame's index labels."""
    n = len(frame)
    off = np.zeros(n)
    bad: list[tuple[np.ndarray, str, str]] = []
    if expo is not None and ycol in frame.columns:  # (a missing column is reported later)
        ys = frame[ycol]
        if not (_is_numeric_dtype(ys.dtype)
                and not _is_bool_dtype(ys.dtype)):  # (numeric: no conversion)
            ys = pd.to_numeric(ys, errors="coerce")
        y = ys.to_numpy(dtype=float, na_value=np.nan)
    else:
        y = np.zeros(n)
    for col, kind in ((expo, "exposure"), (offset, "offset")):
        if col is None:
            continue
        if col not in frame.columns:
            raise SpecError(f"The data have no column {col!r} (the {kind}). Available "
                            f"columns: {', '.join(map(str, list(frame.columns)[:20]))}.")
        s = frame[col]
        if not _is_numeric_dtype(s.dtype) or _is_bool_dtype(s.dtype):
            raise SpecError(f"The {kind} column {col!r} must be numeric; got dtype {s.dtype}.")
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad.append((np.isnan(v), col, f"missing {kind}"))
        bad.append((np.isinf(v), col, f"infinite {kind}"))
        if kind == "exposure":
            neg = v < 0
            if neg.any():
                rows = describe_rows(np.flatnonzero(neg), frame.index, source_rows)
                raise NegativeValueError(
                    f"The exposure column {col!r} has {int(neg.sum())} negative value(s) "
                    f"({rows}); exposures are populations at risk and must be >= 0.")
            zero = v == 0
            zpos = zero & (y > 0)
            if zpos.any():
                rows = describe_rows(np.flatnonzero(zpos), frame.index, source_rows)
                raise ZeroExposureError(
                    f"{int(zpos.sum())} row(s) have zero exposure ({col!r}) but a positive "
                    f"outcome ({rows}); nobody at risk cannot produce events. Fix the "
                    "exposure or drop those rows.")
            bad.append((zero, col, "zero exposure (no one at risk, zero outcome)"))
            with np.errstate(divide="ignore", invalid="ignore"):
                off = off + np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), 0.0)
        else:
            off = off + np.where(np.isfinite(v), v, 0.0)
    return off, bad


# ----------------------------------------------------------- rows to drop
def drop_problem_rows(
    y: np.ndarray, x: np.ndarray, fe_codes: tuple[np.ndarray, ...],
    fe_names: tuple[str, ...], *, singletons: str, separation: str, index: pd.Index,
    positions: np.ndarray, prepared: FixedEffects | None = None,
    source_rows: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[np.ndarray, str, str]], int, int, int]:
    """Drop all-zero fixed-effect levels, singletons and separated rows until nothing changes.

    Returns the rows kept (mask), the reasons ``(mask, column, reason)``, and the
    numbers of separated, all-zero-level and further singleton rows; warns about
    each. ``index[positions]`` (or ``source_rows[positions]`` for a Panel) names the
    rows in messages. ``prepared``: the
    :class:`FixedEffects` of ``fe_codes`` if already built (used while every row is kept).
    """
    has_fe = bool(fe_codes)
    keep = np.ones(len(y), dtype=bool)
    reasons: list[tuple[np.ndarray, str, str]] = []
    n_sep = 0
    relu_done = False
    while True:
        changed = True
        while changed and has_fe:
            changed = False
            for name, codes in zip(fe_names, fe_codes, strict=True):
                zero = _all_zero_rows(y, codes, keep)
                if zero.any():
                    reasons.append((zero, name, f"all-zero outcome in its {name} level"))
                    keep &= ~zero
                    changed = True
            if singletons == "drop":
                pk = keep.nonzero()[0]
                k2 = drop_singletons(list(fe_codes) if keep.all() else [c[keep] for c in fe_codes])
                if not k2.all():
                    single = np.zeros(len(y), dtype=bool)
                    single[pk[~k2]] = True
                    reasons.append((single, " + ".join(fe_names), "fixed-effect singleton"))
                    keep &= ~single
                    changed = True
        if not keep.any():
            raise EstimationError("No rows are left after dropping fixed-effect levels whose "
                                  "outcome is all zero; the model cannot be estimated.")
        if relu_done:
            break
        relu_done = True
        if keep.all():
            kp, y_k, x_k = None, y, x  # (no n-long index array)
            codes_k = fe_codes if prepared is None else prepared
        else:
            kp = np.flatnonzero(keep)
            codes_k = tuple(factorize(c[kp])[0] for c in fe_codes)
            y_k, x_k = y[kp], x[kp]
        sep, ok = _relu_separation(y_k, x_k, codes_k)
        del codes_k, y_k, x_k
        if not ok:
            warnings.warn("The separation check (iterative rectifier) did not converge in "
                          "100 iterations; separated observations may remain (watch for "
                          "non-convergence or huge coefficients).", ConvergenceWarning,
                          stacklevel=4)
        if sep.any():
            n_sep = int(sep.sum())
            sep_rows = np.flatnonzero(sep) if kp is None else kp[sep]
            rows = describe_rows(positions[sep_rows], index, source_rows, limit=10)
            if separation == "error":
                raise EstimationError(
                    f"{n_sep} observation(s) are separated ({rows}): some combination of regressors "
                    "and fixed effects predicts their zero outcome perfectly, so the "
                    "maximum likelihood estimate does not exist (Santos Silva & Tenreyro "
                    "2010; Correia, Guimarães & Zylkin 2021). Pass separation='drop' to "
                    "drop them, or remove the regressor that separates.")
            mask = np.zeros(len(y), dtype=bool)
            mask[sep_rows] = True
            reasons.append((mask, "regressors", "separated (zero outcome predicted "
                                                "perfectly; ReLU check)"))
            keep &= ~mask
            warnings.warn(
                f"{n_sep} separated observation(s) dropped ({rows}): their zero outcome is predicted perfectly "
                "by the regressors and fixed effects, so the MLE would not exist with them. "
                "Coefficients of regressors that only served to separate are not identified "
                "(dropped as collinear). See results.dropped; separation='error' raises.",
                DataWarning, stacklevel=4)
        else:
            break
    n_all_zero = sum(int(m.sum()) for m, _, r in reasons if r.startswith("all-zero"))
    n_single2 = sum(int(m.sum()) for m, _, r in reasons if r == "fixed-effect singleton")
    if n_all_zero:
        warnings.warn(
            f"{n_all_zero} row(s) dropped because their fixed-effect level has an all-zero "
            "outcome (the level's effect would be -infinity; such rows carry no information "
            "on the slopes, and fixest drops them too). They are listed in results.dropped.",
            DataWarning, stacklevel=4)
    if n_single2:
        warnings.warn(
            f"{n_single2} further fixed-effect singleton row(s) dropped after removing "
            "all-zero levels or separated rows; listed in results.dropped.", DataWarning,
            stacklevel=4)
    return keep, reasons, n_sep, n_all_zero, n_single2


# ------------------------------------------------------------- drop log
def _log_frame(frame: pd.DataFrame, source_rows: np.ndarray | None, part: pd.DataFrame
               ) -> pd.DataFrame:
    pos = part.pop("_pos").to_numpy()
    part.insert(1, "source_row", source_rows[pos] if source_rows is not None
                else np.full(len(pos), pd.NA, dtype=object))
    return part


def _concat_log(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [fr for fr in frames if len(fr)]
    if len(frames) == 1 and list(frames[0].columns) == DROP_LOG_COLUMNS:
        return frames[0]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DROP_LOG_COLUMNS})
    out = pd.concat([fr.astype(object) for fr in frames], ignore_index=True)
    return out[DROP_LOG_COLUMNS]


def reason_frames(frame: pd.DataFrame, source_rows: np.ndarray | None,
                  reasons: list[tuple[np.ndarray, str, str]],
                  positions: np.ndarray | None = None) -> list[pd.DataFrame]:
    """Drop-log frames of ``(mask, column, reason)`` triples; a mask indexes ``positions``
    (rows of ``frame``) when given, else the rows of ``frame``."""
    out = []
    for m, col, reason in reasons:
        if m.any():
            p = np.flatnonzero(m) if positions is None else positions[np.flatnonzero(m)]
            out.append(_log_frame(frame, source_rows, pd.DataFrame({
                "row": frame.index[p], "_pos": p, "column": col, "reason": reason})))
    return out
