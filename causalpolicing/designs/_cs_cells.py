"""Callaway-Sant'Anna: the data preparation (with the drop log) and the ATT(g,t) cells.

Private to :mod:`causalpolicing.designs.callaway_santanna_did`. :func:`prepare` turns
the caller's frame into integer timing and per-unit arrays, dropping rows the way
R ``did`` 2.5 does (each with a reason in the drop log); :func:`att_gt` loops over
the (cohort, period) cells, each one vectorised over units, and returns the
estimates with their influence functions (one row per unit).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..core.fe_structure import factorize
from ..exceptions import DataWarning, SpecError
from ._drdid import CellError, PanelDR, panel_att, panel_dr, panel_dr_parts, rc_att
from ._timing import NEVER, staggered_timing

__all__ = ["CSCells", "CSData", "DROP_COLUMNS", "att_gt", "prepare"]

DROP_COLUMNS = ["row", "source_row", "column", "reason"]
FIRST_PERIOD_REASON = "unit treated in the first period (no untreated period to compare)"
NO_NEVER_REASON = ("period at or after the last cohort's start (no never-treated units: the "
                   "last cohort serves as the comparison group)")
# the empty drop log, copied per fit (building a frame of empty Series costs ~0.2 ms)
_NO_DROPS = pd.DataFrame({c: pd.Series(dtype=object) for c in DROP_COLUMNS})


@dataclass(frozen=True)
class CSData:
    """Integer timing and per-unit arrays of the estimation sample."""

    periods: np.ndarray          # sorted period numbers (R's tlist)
    label: dict[int, Any]        # period number -> the time column's value (for names)
    cohorts: np.ndarray          # treated cohorts estimated (R's glist)
    cohort_u: np.ndarray         # per unit: cohort period number, NEVER if never treated
    weight_u: np.ndarray         # per unit sampling weight (1 without weights)
    cluster_u: np.ndarray | None  # per unit cluster code
    balanced: bool
    y: np.ndarray                # balanced: (T, n) outcomes; unbalanced: per row
    x: np.ndarray                # covariates by column: balanced (T, k, n); else (k, rows)
    row_unit: np.ndarray | None  # unbalanced: unit code of each row
    row_t: np.ndarray | None     # unbalanced: period index of each row
    row_w: np.ndarray | None     # unbalanced: weight of each row
    nobs: int
    dropped: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.cohort_u)

    def for_aggregation(self) -> CSData:
        """The same data without the outcomes and covariates (all the aggregations and the
        results need once the ATT(g,t) are estimated)."""
        empty = np.empty(0)
        return replace(self, y=empty, x=empty, row_unit=None, row_t=None, row_w=None)


@dataclass(frozen=True)
class CSCells:
    """ATT(g,t) estimates with their influence functions (n x cells)."""

    group: np.ndarray
    time: np.ndarray
    base: np.ndarray
    att: np.ndarray
    influence: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    reference: np.ndarray   # universal base period: the base period itself (0 by construction)
    notes: tuple[str, ...]


def _drop_rows(frame: pd.DataFrame, mask: np.ndarray, column: str, reason: str,
               source_rows: np.ndarray | None) -> pd.DataFrame:
    pos = np.flatnonzero(mask)
    return pd.DataFrame({
        "row": frame.index[pos],
        "source_row": (source_rows[pos] if source_rows is not None
                       else np.full(len(pos), pd.NA, dtype=object)),
        "column": column, "reason": reason})


def prepare(frame: pd.DataFrame, *, unit: str, time: str, outcome: str, cohort: str,
            never_treated: Any, covariates: Sequence[str], weights: str | None,
            cluster: str | None, control_group: str, anticipation: int,
            source_rows: np.ndarray | None) -> CSData:
    """Check the data, drop rows as R ``did`` does (logged), and build the arrays."""
    logs: list[pd.DataFrame] = []
    notes: list[str] = []
    # first, while little else is in memory (factorizing 1M rows needs ~30 MB for a moment)
    ucodes_all, n_units_all = _unit_codes(frame[unit])
    keep = _finite_rows(frame, [outcome, *covariates, *([weights] if weights else [])],
                        cluster, logs, source_rows)
    if keep.sum() < len(frame):
        n_miss = int((~keep).sum())
        msg = (f"callaway_santanna dropped {n_miss} row(s) with missing or non-finite values "
               "(see the drop log); the units keep their other rows (unbalanced panel).")
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    timing = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                              never_treated=never_treated)
    period, coh = timing.period, timing.cohort.copy()
    del timing  # (its event times are not needed here)
    all_periods, first_rows, tidx_all = _period_codes(period)
    _check_unique_rows(frame, unit, time, ucodes_all, n_units_all, tidx_all, len(all_periods))
    # the time column's value of each period number (for names and messages)
    tcol = frame[time]
    tvals = (tcol.to_numpy()[first_rows] if isinstance(tcol.dtype, np.dtype)
             else tcol.iloc[first_rows]).tolist()
    labels = dict(zip(all_periods.tolist(), tvals, strict=True))

    tmax = int(period[keep].max())
    # R did: a cohort starting after the last period (+ anticipation) is never treated here
    late = (coh != NEVER) & (coh > tmax + anticipation)
    if late.any():
        notes.append(f"{len(set(frame.loc[late, unit]))} unit(s) first treated after the last "
                     "period are treated as never treated (as R did does).")
        coh[late] = NEVER
    never = coh == NEVER
    if not never[keep].any():
        latest = int(coh[keep].max())
        cut = keep & (period >= latest - anticipation)
        msg = (f"no never-treated units: the last cohort ({labels.get(latest, latest)}) serves "
               f"as the comparison group and the periods from {latest - anticipation} on are "
               "dropped (as R did does); see the drop log.")
        if control_group == "never_treated":
            coh[coh == latest] = NEVER
        logs.append(_drop_rows(frame, cut, time, NO_NEVER_REASON, source_rows))
        keep &= ~cut
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    if not keep.any():
        raise SpecError("no rows left after the drops (see the drop log); check the cohort "
                        "and time columns.")
    first = int(period[keep].min())
    early = keep & (coh != NEVER) & (coh <= first + anticipation)
    if early.any():
        n_units = frame.loc[early, unit].nunique()
        msg = (f"callaway_santanna dropped {n_units} unit(s) already treated in the first period "
               f"({labels[first]}"
               + (f", with anticipation={anticipation}" if anticipation else "")
               + "): they have no untreated period to compare (as R did does); see the drop log.")
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
        logs.append(_drop_rows(frame, early, cohort, FIRST_PERIOD_REASON, source_rows))
        keep &= ~early

    everything = bool(keep.all())

    def kept(name: str) -> pd.Series:
        return frame[name] if everything else frame[name][keep]

    if not everything:
        period, coh = period[keep], coh[keep]
    periods = all_periods if everything else np.unique(period)
    first = int(periods[0])
    coh_vals, coh_counts = _value_counts(coh)  # (np.unique's, by counting)
    cohorts = coh_vals[(coh_vals != NEVER) & (coh_vals > first + anticipation)]
    if control_group == "not_yet_treated" and not (coh == NEVER).any():
        cohorts = cohorts[cohorts < coh[coh != NEVER].max()]
    if len(cohorts) == 0:
        raise SpecError(f"no cohort to estimate: every treated unit in {cohort!r} starts in the "
                        "first period (or later than the last); Callaway-Sant'Anna needs cohorts "
                        "with at least one untreated period and a comparison group.")
    _check_group_sizes(coh_vals, coh_counts, len(periods), len(covariates), control_group,
                       labels, notes)

    if ucodes_all is None:  # units with missing values: pandas' own factorization
        ucodes, uniq_units = pd.factorize(kept(unit), sort=True)
        n = len(uniq_units)
    elif everything:
        ucodes, n = ucodes_all, n_units_all
    else:  # the kept units keep their sorted order: renumber 0..n-1
        ucodes = ucodes_all[keep]
        present = np.bincount(ucodes, minlength=n_units_all) > 0
        ucodes = (np.cumsum(present) - 1)[ucodes]
        n = int(present.sum())
    nrows = len(ucodes)
    first_row = np.full(n, -1)
    first_row[ucodes[::-1]] = np.arange(nrows)[::-1]
    cohort_u = coh[first_row]
    if weights is None:
        w_row, weight_u = None, np.ones(n)
    else:
        w_row = kept(weights).to_numpy(dtype=float)
        weight_u = _unit_constant(w_row, ucodes, n, weights, unit, "weights")
    if weights is not None and (np.any(weight_u < 0) or weight_u.mean() <= 0):
        raise SpecError(f"weights column {weights!r} must be non-negative with a positive mean.")
    cluster_u = None
    if cluster is not None:
        ccodes = pd.factorize(kept(cluster), sort=True)[0]
        cluster_u = _unit_constant(ccodes.astype(float), ucodes, n, cluster, unit,
                                   "cluster").astype(np.int64)
    tidx = tidx_all if everything else np.searchsorted(periods, period)
    yv = kept(outcome).to_numpy(dtype=float)
    dropped = pd.concat(logs, ignore_index=True) if logs else _NO_DROPS.copy()
    T = len(periods)
    balanced = nrows == n * T
    common = dict(periods=periods, label={int(p): labels[int(p)] for p in periods},
                  cohorts=cohorts, cohort_u=cohort_u, weight_u=weight_u, cluster_u=cluster_u,
                  nobs=nrows, dropped=dropped, notes=tuple(notes))
    if balanced:  # the wide period x unit matrix (a period's outcomes contiguous)
        y = np.empty((T, n))
        y[tidx, ucodes] = yv
        if covariates:
            x = np.empty((T, 1 + len(covariates), n))
            x[:, 0, :] = 1.0
            for j, c in enumerate(covariates, start=1):
                x[tidx, j, ucodes] = kept(c).to_numpy(dtype=float)
        else:  # the intercept alone: one row of ones, seen in every period (read only)
            x = np.broadcast_to(np.ones((1, 1, n)), (T, 1, n))
        return CSData(balanced=True, y=y, x=x, row_unit=None, row_t=None, row_w=None, **common)
    xv = np.vstack([np.ones(nrows)] + [kept(c).to_numpy(dtype=float) for c in covariates])
    return CSData(balanced=False, y=yv, x=xv, row_unit=ucodes.astype(np.int64), row_t=tidx,
                  row_w=np.ones(nrows) if w_row is None else w_row, **common)


def _finite_rows(frame: pd.DataFrame, numeric: Sequence[str], cluster: str | None,
                 logs: list[pd.DataFrame], source_rows: np.ndarray | None) -> np.ndarray:
    """Rows with finite numeric columns and a cluster (each drop logged in ``logs``)."""
    keep = np.ones(len(frame), dtype=bool)
    for col, is_numeric in [(c, True) for c in numeric] + ([(cluster, False)] if cluster else []):
        if is_numeric:
            raw = frame[col]
            if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iuf":
                # NumPy numbers: nothing to coerce or to refuse (pd.to_numeric is the identity)
                miss = ~np.isfinite(raw.to_numpy(dtype=float))
            else:
                vals = (raw.astype(float) if pd.api.types.is_bool_dtype(raw)
                        else pd.to_numeric(raw, errors="coerce"))
                if vals.isna().sum() > raw.isna().sum():
                    raise SpecError(f"column {col!r} is not numeric ({raw.dtype}); "
                                    "Callaway-Sant'Anna needs numeric outcomes, covariates and "
                                    "weights (encode categories as 0/1 columns).")
                miss = ~np.isfinite(vals.to_numpy(dtype=float))
        else:
            miss = frame[col].isna().to_numpy()
        miss = miss & keep
        if miss.any():
            logs.append(_drop_rows(frame, miss, col, f"missing or non-finite value in {col!r}",
                                   source_rows))
            keep &= ~miss
    return keep


def _unit_codes(units: pd.Series) -> tuple[np.ndarray | None, int]:
    """Sorted integer codes of the units (``None`` if some unit is missing).

    :func:`~causalpolicing.core.fe_structure.factorize` (the codes of
    ``pd.factorize(sort=True)``; integer ids by a lookup table, without pandas' hash
    table sized for every row).
    """
    codes, n = factorize(units)
    if len(codes) and codes.min() < 0:
        return None, n
    return codes, n


def _period_codes(period: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct periods, a row holding each, and each row's position among them."""
    lo, hi = int(period.min()), int(period.max())
    if hi - lo <= 4 * len(period) + 1000:  # counting, not sorting
        offset = period - lo
        present = np.bincount(offset, minlength=hi - lo + 1) > 0
        uniq = lo + np.flatnonzero(present)
        pos = (np.cumsum(present) - 1)[offset]
    else:
        uniq, pos = np.unique(period, return_inverse=True)
    first = np.empty(len(uniq), dtype=np.int64)
    first[pos[::-1]] = np.arange(len(period))[::-1]
    return uniq, first, pos


def _check_unique_rows(frame: pd.DataFrame, unit: str, time: str, ucodes: np.ndarray | None,
                       n_units: int, tidx: np.ndarray, n_periods: int) -> None:
    """Refuse two rows of one unit and period (counted on the integer codes)."""
    if ucodes is not None and n_units * n_periods <= 4 * len(ucodes) + 1000:
        if len(ucodes) == 0 or np.bincount(ucodes * n_periods + tidx).max() <= 1:
            return
    elif not frame.duplicated([unit, time]).any():
        return
    dup = frame.loc[frame.duplicated([unit, time], keep=False), [unit, time]].head(5)
    raise SpecError(f"unit {unit!r} and time {time!r} do not identify the rows: e.g. "
                    f"{dup.to_dict('records')}; give one row per unit and period.")


def _unit_constant(values: np.ndarray, codes: np.ndarray, n: int, col: str | None, unit: str,
                   what: str) -> np.ndarray:
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, codes, values)
    np.maximum.at(hi, codes, values)
    if np.any(lo != hi):
        raise SpecError(f"{what} column {col!r} varies within {unit!r} for "
                        f"{int((lo != hi).sum())} unit(s); Callaway-Sant'Anna (as R did) needs "
                        f"time-invariant {what}: give each unit one value.")
    return lo


def _value_counts(coh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(coh, return_counts=True)`` for period numbers and ``NEVER`` (the largest
    value, last): counting over the periods' range, not sorting every row."""
    treated = coh[coh != NEVER]
    if len(treated) == 0:
        return np.unique(coh, return_counts=True)
    lo, hi = int(treated.min()), int(treated.max())
    if hi - lo > 4 * len(coh) + 1000:
        return np.unique(coh, return_counts=True)
    counts = np.bincount(treated - lo, minlength=hi - lo + 1)
    vals = lo + np.flatnonzero(counts)
    counts = counts[counts > 0]
    n_never = len(coh) - len(treated)
    if n_never:
        vals = np.append(vals, NEVER)
        counts = np.append(counts, n_never)
    return vals.astype(coh.dtype, copy=False), counts


def _check_group_sizes(vals: np.ndarray, counts: np.ndarray, n_periods: int, n_cov: int,
                       control_group: str, labels: dict[int, Any], notes: list[str]) -> None:
    size = counts / n_periods
    need = n_cov + 5
    small = vals[size < need]
    if len(small):
        names = ["never treated" if v == NEVER else str(labels.get(int(v), v)) for v in small]
        if NEVER in small and control_group == "never_treated":
            raise SpecError(f"the never-treated group is too small to serve as the comparison "
                            f"(fewer than {need} units: covariates + 5, as R did requires); use "
                            "control_group='not_yet_treated' to add the not-yet-treated units.")
        msg = (f"some cohorts have very few units (< {need}), which may make their "
               f"estimates unstable: {', '.join(names)}.")
        warnings.warn(msg, DataWarning, stacklevel=4)
        notes.append(msg)


def att_gt(data: CSData, *, control_group: str, anticipation: int, base_period: str,
           est_method: str) -> CSCells:
    """Every ATT(g,t) of R ``did::att_gt`` with its influence function (n x cells).

    The influence functions go straight into one ``(n_cells, n_units)`` matrix (each
    cell writes only its own units' entries); the units of a comparison (cohort
    plus comparison group) are found once per cohort and comparison group.
    """
    periods, n, T = data.periods, data.n, len(data.periods)
    varying = base_period == "varying"
    tfac = 1 if varying else 0
    rows_by_t = ([np.flatnonzero(data.row_t == i) for i in range(T)]
                 if not data.balanced else [])
    n_cells = len(data.cohorts) * (T - 1 if varying else T)
    # cell by unit: each cell's influence function written contiguously; handed on as
    # its transpose, the (n, n_cells) view (the layout of ``influence[:, cells]``)
    influence_t = np.zeros((n_cells, n))
    out: dict[str, list] = {k: [] for k in ("group", "time", "base", "att", "nt", "nc", "ref")}
    notes: list[str] = []
    never_u = data.cohort_u == NEVER
    j = -1
    for g in data.cohorts:
        g_u = data.cohort_u == g
        pret_g = int(np.flatnonzero(periods + anticipation < g)[-1])
        units: dict[Any, _Units] = {}
        for t in range(T - 1 if varying else T):
            j += 1
            cur = t + tfac
            base = t if varying else pret_g
            if g <= periods[cur]:
                base = pret_g
            out["group"].append(int(g))
            out["time"].append(int(periods[cur]))
            out["base"].append(int(periods[base]))
            if not varying and base == cur:
                for k, v in (("att", 0.0), ("nt", int(g_u.sum())), ("nc", 0), ("ref", True)):
                    out[k].append(v)
                continue
            out["ref"].append(False)
            if control_group == "never_treated":
                key: Any = None
                c_u = never_u
            else:
                key = max(periods[cur], periods[base]) + anticipation
                c_u = (data.cohort_u > key) & ~g_u
            try:
                if data.balanced:
                    if key not in units:
                        units[key] = _units(data, g_u, c_u)
                    att, nt, nc = _panel_cell(data, units[key], cur, base, est_method,
                                              influence_t[j])
                else:
                    att, nt, nc = _rc_cell(data, g_u, c_u, cur, base, rows_by_t, est_method,
                                           influence_t[j])
            except CellError as exc:
                label = (data.label[int(g)] if int(g) in data.label else int(g))
                msg = (f"ATT(g,t) for cohort {label}, period {data.label[int(periods[cur])]} "
                       f"could not be estimated ({exc}); it is missing and left out of the "
                       "aggregations.")
                warnings.warn(msg, DataWarning, stacklevel=3)
                notes.append(msg)
                att = np.nan
                influence_t[j] = np.nan
                nt, nc = int(g_u.sum()), int(c_u.sum())
            out["att"].append(att)
            out["nt"].append(nt)
            out["nc"].append(nc)
    return CSCells(group=np.array(out["group"], dtype=np.int64),
                   time=np.array(out["time"], dtype=np.int64),
                   base=np.array(out["base"], dtype=np.int64),
                   att=np.array(out["att"], dtype=float),
                   influence=influence_t.T,
                   n_treated=np.array(out["nt"], dtype=np.int64),
                   n_control=np.array(out["nc"], dtype=np.int64),
                   reference=np.array(out["ref"], dtype=bool), notes=tuple(notes))


@dataclass(frozen=True)
class _Units:
    """The units of one panel comparison: positions, treated indicator, weights."""

    idx: np.ndarray
    d: np.ndarray
    w: np.ndarray
    nt: int
    nc: int
    dr: dict[Any, PanelDR | CellError] = field(default_factory=dict)  # panel_dr_parts


def _units(data: CSData, g_u: np.ndarray, c_u: np.ndarray) -> _Units:
    idx = np.flatnonzero(g_u | c_u)
    d = g_u[idx].astype(float)
    nt = int(d.sum())
    return _Units(idx=idx, d=d, w=data.weight_u[idx], nt=nt, nc=len(idx) - nt)


def _panel_cell(data: CSData, u: _Units, cur: int, base: int, est_method: str,
                col: np.ndarray) -> tuple[float, int, int]:
    """One balanced-panel 2x2 comparison; writes the influence function into ``col``."""
    if u.nt == 0 or u.nc == 0:
        raise CellError("no treated units" if u.nt == 0 else "no comparison units")
    idx = u.idx
    dy = data.y[cur][idx] - data.y[base][idx]
    if est_method == "dr":
        # the dy-free part once per comparison and covariate period (the intercept alone:
        # once per comparison); a CellError of it is raised again for each of its cells
        key = None if data.x.shape[1] == 1 else min(cur, base)
        if key not in u.dr:
            try:
                u.dr[key] = panel_dr_parts(u.d, data.x[min(cur, base)][:, idx], u.w)
            except CellError as exc:
                u.dr[key] = exc
        parts = u.dr[key]
        if isinstance(parts, CellError):
            raise CellError(*parts.args)
        att, inf = panel_dr(dy, parts)
    else:
        x = data.x[min(cur, base)][:, idx]
        att, inf = panel_att(dy, u.d, x, u.w, est_method)
    if not np.isfinite(att):
        raise CellError("the estimate is not finite")
    col[idx] = inf * (data.n / len(idx))
    return float(att), u.nt, u.nc


def _rc_cell(data: CSData, g_u: np.ndarray, c_u: np.ndarray, cur: int, base: int,
             rows_by_t: list[np.ndarray], est_method: str, col: np.ndarray
             ) -> tuple[float, int, int]:
    """One repeated-cross-section 2x2 comparison; writes the unit sums of the influence
    function into ``col``."""
    rows = np.sort(np.concatenate([rows_by_t[cur], rows_by_t[base]]))
    units = data.row_unit[rows]
    sel = g_u[units] | c_u[units]
    rows, units = rows[sel], units[sel]
    d = g_u[units].astype(float)
    post = (data.row_t[rows] == cur).astype(float)
    for mask, what in ((d * post, "no treated units in the period"),
                       (d * (1 - post), "no treated units in the base period"),
                       ((1 - d) * post, "no comparison units in the period"),
                       ((1 - d) * (1 - post), "no comparison units in the base period")):
        if mask.sum() == 0:
            raise CellError(what)
    att, inf = rc_att(data.y[rows], post, d, data.x[:, rows], data.row_w[rows], est_method)
    if not np.isfinite(att):
        raise CellError("the estimate is not finite")
    col[:] = np.bincount(units, weights=inf * (data.n / len(rows)), minlength=data.n)
    in_cell = np.bincount(units, minlength=data.n) > 0
    nt = int((in_cell & g_u).sum())
    return float(att), nt, int(in_cell.sum()) - nt
