r"""Machinery shared by the imputation (:mod:`.imputation`) and two-stage (:mod:`.two_stage`) designs.

Both fit a model of the untreated outcome on the *untreated* observations
(never-treated units, and treated units before their cohort period) and
use it for the treated ones. This module reads and checks the data once
(:func:`prepare`), refuses treated observations whose fixed-effect levels never
occur untreated (they cannot be imputed), fits the linear first stage with the
numeric core's within transformation (:func:`causalpolicing.core.demean.demean`)
and solves the first stage's normal equations for the weights the standard
errors need (:func:`untreated_solve`).

Imputing with the within transformation: demeaning ``y - x'delta`` by the fixed
effects with weight 0 on the treated rows fits the fixed effects on the untreated
rows only, and subtracts the fitted effects from *every* row, so a treated row
is left with :math:`y_{it} - \hat y_{it}(0)`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.demean import demean
from ..core.fe_structure import factorize
from ..exceptions import DataWarning, SpecError
from ._timing import (
    StaggeredTiming,
    column,
    frame_and_roles,
    outcome_role,
    staggered_timing,
    timing_roles,
)

__all__: list[str] = []

#: Drop-log reason for rows with a missing value in a column the design uses.
MISSING_REASON = "missing value"


@dataclass(frozen=True)
class StaggeredData:
    """The rows a design uses, its roles, timing and fixed-effect codes."""

    frame: pd.DataFrame
    unit: str
    time: str
    outcome: str
    cohort: str
    never_treated: Any
    covariates: tuple[str, ...]
    fe_cols: tuple[str, ...]
    fe_codes: tuple[np.ndarray, ...]
    cluster: str
    cluster_codes: np.ndarray
    weights: np.ndarray | None
    weights_col: str | None
    exposure: str | None
    timing: StaggeredTiming
    treat: np.ndarray
    dropped: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def y(self) -> np.ndarray:
        return self.frame[self.outcome].to_numpy(dtype=float)

    @property
    def x(self) -> np.ndarray:
        return self.frame[list(self.covariates)].to_numpy(dtype=float).reshape(
            len(self.frame), len(self.covariates))

    @property
    def w(self) -> np.ndarray:
        return np.ones(len(self.frame)) if self.weights is None else self.weights


def prepare(data: Any, *, who: str, outcome: str | None, cohort: str | None, never_treated: Any,
            unit: str | None, time: str | None, covariates: Sequence[str] | str,
            fe: Sequence[str] | str | None, weights: str | None, cluster: str | None,
            exposure: str | None = None) -> StaggeredData:
    """Read, check and subset the data; refuse treated rows that cannot be imputed."""
    frame, unit, time, panel = frame_and_roles(data, unit, time, who=who)
    cohort, never_treated = timing_roles(panel, cohort, never_treated, who=who)
    outcome = column(frame, outcome_role(panel, outcome, who=who), "outcome")
    cohort = column(frame, cohort, "cohort")
    covs = (covariates,) if isinstance(covariates, str) else tuple(covariates)
    for c in covs:
        column(frame, c, "covariates")
    fe_cols = tuple({"unit": unit, "time": time}.get(f, f) for f in
                    ((fe,) if isinstance(fe, str) else (fe or ("unit", "time"))))
    if not fe_cols:
        raise SpecError(f"{who} needs at least one fixed effect (fe=None means unit and time).")
    for f in fe_cols:
        column(frame, f, "fe")
    cluster = unit if cluster is None else column(frame, cluster, "cluster")
    if weights is not None:
        column(frame, weights, "weights")
    if exposure is not None:
        column(frame, exposure, "exposure")
    # rows with a missing value in a column used are dropped, logged and announced
    used = [outcome, *covs, *fe_cols, cluster, time, unit]
    used += [c for c in (weights, exposure) if c is not None]
    rows, cols = [], []
    keep = np.ones(len(frame), dtype=bool)
    for c in dict.fromkeys(used):
        miss = frame[c].isna().to_numpy() & keep
        if miss.any():
            rows += list(frame.index[miss])
            cols += [c] * int(miss.sum())
            keep &= ~miss
    notes: list[str] = []
    dropped = pd.DataFrame({"row": rows, "source_row": pd.array([pd.NA] * len(rows)),
                            "column": cols, "reason": [MISSING_REASON] * len(rows)})
    if rows:
        msg = (f"{who} dropped {len(rows)} row(s) with a missing value in {sorted(set(cols))}; "
               "they are in the drop log (results.dropped).")
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
        frame = frame.loc[keep]
    if panel is not None and len(panel.drop_log):
        notes.append(f"the Panel had already dropped {len(panel.drop_log)} source row(s) "
                     "(panel.drop_log).")
    w = None
    if weights is not None:
        w = frame[weights].to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise SpecError(f"weights column {weights!r} must be positive and finite; "
                            f"{int(np.sum(~(w > 0)))} row(s) are not.")
    if exposure is not None:
        ex = frame[exposure].to_numpy(dtype=float)
        if np.any(ex <= 0) or not np.all(np.isfinite(ex)):
            raise SpecError(f"exposure column {exposure!r} must be positive (a population at "
                            f"risk); {int(np.sum(~(ex > 0)))} row(s) are not.")
    timing = staggered_timing(frame, unit=unit, time=time, cohort=cohort,
                              never_treated=never_treated)
    treat = timing.treated & (timing.event >= 0)
    if treat.all():
        raise SpecError(f"{who}: every observation is treated; there is nothing to fit the "
                        "untreated outcome on.")
    codes = tuple(factorize(frame[f])[0] for f in fe_cols)
    sd = StaggeredData(
        frame=frame, unit=unit, time=time, outcome=outcome, cohort=cohort,
        never_treated=never_treated, covariates=covs, fe_cols=fe_cols, fe_codes=codes,
        cluster=cluster, cluster_codes=factorize(frame[cluster])[0], weights=w,
        weights_col=weights, exposure=exposure, timing=timing, treat=treat, dropped=dropped,
        notes=tuple(notes))
    check_imputable(sd, who)
    return sd


def check_imputable(sd: StaggeredData, who: str) -> None:
    """Refuse (never drop silently) treated rows whose fixed-effect level has no untreated row."""
    for name, codes in zip(sd.fe_cols, sd.fe_codes, strict=True):
        seen = np.bincount(codes[~sd.treat], minlength=int(codes.max()) + 1) > 0
        bad = sd.treat & ~seen[codes]
        if bad.any():
            levels = sorted(pd.unique(sd.frame[name].to_numpy()[bad]).tolist())
            raise SpecError(
                f"{who} cannot impute the untreated outcome of {int(bad.sum())} treated "
                f"observation(s): fixed effect {name!r} level(s) {levels[:8]}"
                f"{' ...' if len(levels) > 8 else ''} occur only in treated observations, so "
                "their effect is not estimated from untreated data (e.g. units treated from "
                "the panel's first period, or periods when every unit is treated). Drop "
                f"those rows (e.g. data[~data[{name!r}].isin({levels[:3]})]) or add untreated "
                "observations; Borusyak, Jaravel and Spiess refuse these too.")


def linear_first_stage(sd: StaggeredData) -> tuple[np.ndarray, np.ndarray]:
    """``(adj, delta)``: first-stage residuals (untreated rows) and ``y - yhat(0)`` (treated).

    The covariate coefficients ``delta`` are fit on the within-transformed
    untreated rows (weighted least squares); the fixed effects by demeaning
    ``y - x'delta`` with weight 0 on the treated rows (see the module notes).
    """
    untreated = ~sd.treat
    w0 = np.where(untreated, sd.w, 0.0)
    y = sd.y
    delta = np.zeros(0)
    if sd.covariates:
        x = sd.x
        both = demean(np.column_stack([y, x]), sd.fe_codes, w0)[0]
        sw = np.sqrt(sd.w[untreated])
        xd = both[untreated, 1:] * sw[:, None]
        yd = both[untreated, 0] * sw
        delta, _, rank, sv = np.linalg.lstsq(xd, yd, rcond=None)
        if rank < xd.shape[1] or sv[-1] <= 1e-9 * sv[0]:
            raise SpecError(f"covariates {list(sd.covariates)} are collinear with each other or "
                            "with the fixed effects among the untreated observations; drop "
                            "the redundant ones.")
        y = y - x @ delta
    adj = demean(y, sd.fe_codes, w0)[0]
    return adj, delta


def design_matrix(sd: StaggeredData, x: np.ndarray | None = None) -> Any:
    """Sparse first-stage design: all levels of the first fixed effect, the others without
    their first level, then the covariates."""
    from scipy import sparse

    n = len(sd.frame)
    blocks = []
    for j, codes in enumerate(sd.fe_codes):
        lv = int(codes.max()) + 1
        m = sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, lv))
        blocks.append(m if j == 0 else m[:, 1:])
    x = sd.x if x is None else x
    if x.shape[1]:
        blocks.append(sparse.csr_matrix(x))
    return sparse.hstack(blocks, format="csr")


def untreated_solve(z: Any, untreated: np.ndarray, w0: np.ndarray, rhs: np.ndarray,
                    who: str) -> np.ndarray:
    """``g`` solving ``(Z0' diag(w0) Z0) g = rhs`` (the first stage's normal equations).

    A sparse LU solve; if the matrix is singular (fixed effects in several
    disconnected groups) a least-squares solve. The answer is checked: a
    right-hand side outside the range of the matrix (an effect not identified from
    the untreated rows) raises :class:`SpecError`.
    """
    from scipy import sparse
    from scipy.sparse.linalg import lsmr, splu

    z0 = z[untreated]
    s = (z0.T @ sparse.diags(w0) @ z0).tocsc()
    rhs = np.asarray(rhs, dtype=float).reshape(s.shape[0], -1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            g = splu(s).solve(rhs)
        ok = np.all(np.isfinite(g))
    except (RuntimeError, Warning):
        ok = False
    if not ok:
        g = np.column_stack([lsmr(s, rhs[:, j], atol=1e-14, btol=1e-14, maxiter=20 * s.shape[0]
                                  )[0] for j in range(rhs.shape[1])])
    scale = max(float(np.abs(rhs).max()), 1e-300)
    if float(np.abs(s @ g - rhs).max()) > 1e-7 * scale:
        raise SpecError(f"{who}: the weights of the standard errors are not identified (the "
                        "first-stage fixed effects of some treated observations are not "
                        "connected to untreated data); check the refusal conditions in the "
                        "docs or drop the disconnected units.")
    return g


def cluster_cov(v: np.ndarray, eps: np.ndarray, cluster_codes: np.ndarray) -> np.ndarray:
    """``sum_c (sum_{i in c} v_i eps_i)(...)'`` for column-wise ``v`` and ``eps`` (n x K)."""
    ncl = int(cluster_codes.max()) + 1
    s = np.column_stack([np.bincount(cluster_codes, weights=v[:, k] * eps[:, k], minlength=ncl)
                         for k in range(v.shape[1])])
    return s.T @ s


def smoothed_residuals(v: np.ndarray, adj: np.ndarray, treat: np.ndarray,
                       groups: np.ndarray) -> np.ndarray:
    r"""BJS's residuals: ``adj`` minus, on treated rows, the :math:`v^2`-weighted mean of
    ``adj`` in the row's group (cohort x event time), per column of ``v`` (their eq. 10,
    as R ``didimputation``: no leave-out)."""
    ng = int(groups.max()) + 1 if len(groups) else 0
    out = np.repeat(adj[:, None], v.shape[1], axis=1)
    g = groups[treat]
    for k in range(v.shape[1]):
        v2 = v[treat, k] ** 2
        num = np.bincount(g, weights=v2 * adj[treat], minlength=ng)
        den = np.bincount(g, weights=v2, minlength=ng)
        bar = np.divide(num, den, out=np.zeros(ng), where=den > 0)
        out[treat, k] = adj[treat] - bar[g]
    return out


def cohort_event_groups(sd: StaggeredData) -> np.ndarray:
    """Codes of cohort x event time of the treated rows (-1 x -1 elsewhere): the groups whose
    mean effect BJS's residuals subtract (R ``didimputation``'s default)."""
    t = sd.timing
    return factorize([pd.Series(np.where(sd.treat, t.cohort, -1)),
                      pd.Series(np.where(sd.treat, t.event, -1))])[0]
