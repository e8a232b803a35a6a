"""Callaway-Sant'Anna: aggregations of the ATT(g,t) with their influence functions.

Private to :mod:`causalpolicing.designs.callaway_santanna_did`; transcribed from R
``did``'s ``compute.aggte`` (``type = "simple"``, ``"dynamic"``, ``"group"``,
``"calendar"``). Weights :math:`p_g` are the (sampling-weighted) shares of the
cohorts among the units; where they enter an average across cohorts, the
influence function includes the term for their estimation (R's ``wif``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._cs_cells import CSCells, CSData
from ._timing import event_term

__all__ = ["AGGREGATIONS", "Aggregation", "aggregate"]

AGGREGATIONS = ("simple", "dynamic", "group", "calendar")


@dataclass(frozen=True)
class Aggregation:
    """Aggregated effects: term names, keys (event time / cohort / period), estimates, IFs."""

    kind: str
    terms: tuple[str, ...]
    keys: tuple[int, ...]
    estimates: np.ndarray
    influence: np.ndarray      # n x terms (the overall "ATT" is the last column)
    reference: np.ndarray      # True for a universal base period's reference event time


def _pg(data: CSData) -> dict[int, float]:
    """Cohort shares ``mean_i(w_i 1[G_i = g])`` over the units (R's ``pg``)."""
    return {int(g): float(np.mean(data.weight_u * (data.cohort_u == g))) for g in data.cohorts}


def _cohort_code(data: CSData) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's position among ``data.cohorts`` (``len(cohorts)`` if in none), and the
    cohorts (found once per aggregation, not once per weighted average)."""
    cohorts = np.asarray(data.cohorts)
    pos = np.searchsorted(cohorts, data.cohort_u)
    ok = pos < len(cohorts)
    ok[ok] = cohorts[pos[ok]] == data.cohort_u[ok]
    return np.where(ok, pos, len(cohorts)), cohorts


def _weighted(att: np.ndarray, psi: np.ndarray, groups: np.ndarray, pg: np.ndarray,
              data: CSData, estimated_weights: bool,
              codes: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, np.ndarray]:
    """``sum pg att / sum pg`` and its influence function (with R's ``wif`` if asked)."""
    spg = pg.sum()
    est = float(np.dot(pg, att) / spg)
    inf = psi @ (pg / spg)
    if estimated_weights:
        # wif @ att without the n x k matrix: per unit, sums over the cells of its cohort
        uniq = np.unique(groups)
        a_sum = np.array([att[groups == g].sum() for g in uniq])
        c_cnt = np.array([(groups == g).sum() for g in uniq], dtype=float)
        code, cohorts = codes if codes is not None else _cohort_code(data)
        at = np.searchsorted(cohorts, uniq)
        if np.all(at < len(cohorts)) and np.array_equal(cohorts[np.minimum(at, len(cohorts) - 1)],
                                                        uniq):
            # per unit through its cohort's code (one lookup table, no search over units):
            # the cohort's sum, 0 for units of other cohorts (code len(cohorts): never treated)
            a_tab = np.zeros(len(cohorts) + 1)
            c_tab = np.zeros(len(cohorts) + 1)
            a_tab[at], c_tab[at] = a_sum, c_cnt
            a_u, c_u = a_tab[code], c_tab[code]
        else:
            cohort_of = data.cohort_u
            pos = np.searchsorted(uniq, cohort_of)
            hit = (pos < len(uniq)) & (uniq[np.minimum(pos, len(uniq) - 1)] == cohort_of)
            a_u = np.where(hit, a_sum[np.minimum(pos, len(uniq) - 1)], 0.0)
            c_u = np.where(hit, c_cnt[np.minimum(pos, len(uniq) - 1)], 0.0)
        w = data.weight_u
        centered_att = w * a_u - np.dot(pg, att)
        centered_sum = w * c_u - spg
        inf = inf + centered_att / spg - centered_sum * np.dot(pg, att) / spg ** 2
    return est, inf


def aggregate(cells: CSCells, data: CSData, kind: str, *, min_e: float = -np.inf,
              max_e: float = np.inf) -> Aggregation:
    """R ``aggte(type=kind)``: the effects and their influence functions (n x terms)."""
    ok = np.isfinite(cells.att)
    g, t, att = cells.group[ok], cells.time[ok], cells.att[ok]
    # no copy of the n x cells matrix when every cell was estimated
    psi = cells.influence if ok.all() else cells.influence[:, ok]
    ref = cells.reference[ok]
    pg_of = _pg(data)
    codes = _cohort_code(data)
    pg = np.array([pg_of[int(x)] for x in g])
    e = t - g
    post = (g <= t) & (t <= g + max_e)
    terms: list[str] = []
    keys: list[int] = []
    ests: list[float] = []
    infs: list[np.ndarray] = []
    refs: list[bool] = []
    if kind == "simple":
        est, inf = _weighted(att[post], psi[:, post], g[post], pg[post], data, True, codes)
        return Aggregation(kind, ("ATT",), (), np.array([est]), inf[:, None],
                           np.array([False]))
    if kind == "group":
        gl = [x for x in np.unique(g) if np.any(post & (g == x))]
        for x in gl:
            sel = post & (g == x)
            terms.append(f"cohort_{_label(data, x)}")
            keys.append(int(x))
            ests.append(float(att[sel].mean()))
            infs.append(psi[:, sel].mean(axis=1))
            refs.append(False)
        pgg = np.array([pg_of[int(x)] for x in gl])
        est, inf = _weighted(np.array(ests), np.column_stack(infs), np.array(gl), pgg, data,
                             True, codes)
    elif kind == "dynamic":
        eseq = [int(v) for v in np.unique(e) if min_e <= v <= max_e]
        if not eseq:
            raise ValueError("no event time within [min_e, max_e]")
        # the influence functions go straight into the n x (event times + 1) matrix
        out = np.empty((data.n, len(eseq) + 1))
        for i, v in enumerate(eseq):
            sel = e == v
            est_e, out[:, i] = _weighted(att[sel], psi[:, sel], g[sel], pg[sel], data, True, codes)
            terms.append(event_term(v))
            keys.append(v)
            ests.append(est_e)
            refs.append(bool(np.all(ref[sel])))
        pos = np.array(keys) >= 0
        if not pos.any():
            est, out[:, -1] = np.nan, np.nan
        else:
            est = float(np.mean(np.array(ests)[pos]))
            out[:, -1] = out[:, :-1][:, pos].mean(axis=1)
        return Aggregation(kind, (*terms, "ATT"), tuple(keys), np.array([*ests, est]), out,
                           np.array([*refs, False]))
    elif kind == "calendar":
        for tt in np.unique(t[t >= g.min()]):
            sel = (t == tt) & (g <= tt)
            if not sel.any():
                continue
            est_t, inf_t = _weighted(att[sel], psi[:, sel], g[sel], pg[sel], data, True, codes)
            terms.append(f"period_{_label(data, tt)}")
            keys.append(int(tt))
            ests.append(est_t)
            infs.append(inf_t)
            refs.append(False)
        est = float(np.mean(ests))
        inf = np.column_stack(infs).mean(axis=1)
    else:  # pragma: no cover - checked by the caller
        raise ValueError(kind)
    return Aggregation(kind, (*terms, "ATT"), tuple(keys), np.array([*ests, est]),
                       np.column_stack([*infs, inf]), np.array([*refs, False]))


def _label(data: CSData, period: int) -> str:
    return str(data.label.get(int(period), int(period)))
