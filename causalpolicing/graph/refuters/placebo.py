"""Placebo refuters made for panels: permuted and time-shifted placebo treatments, a
future (lead) treatment, a placebo outcome.

A placebo treatment is one known to have no effect. Panel data make the usual
row shuffle (DoWhy's ``placebo_treatment_refuter``) the wrong placebo: it
destroys the treatment's time profile and its persistence within units, which
the fixed effects and the clustered errors were built around. Here the
treatment is

* **permuted across units within each period** (``placebo_permutation``): each
  period keeps its set of treatment values, so the national time profile is
  intact and the year effects see the same thing as with the real treatment;
* **rotated within units** (``placebo_time_shift``): each unit's series is
  shifted circularly by a random number of periods (or its blocks of
  consecutive periods are shuffled), keeping the unit's level, spread and
  autocorrelation but breaking the timing.

The placebo estimates form the distribution of the estimate under the sharp
null of no effect for any unit, *if* the real assignment were as exchangeable as
the placebo one (across units within a period, or over circular shifts within a
unit); a treatment with strong unit-specific persistence is less exchangeable
across units than the permutation assumes, which is why both kinds are offered
and should agree. The p-value is the share of placebo estimates
at least as large in absolute value as the actual one (counting the actual
assignment, so it is never zero). The estimate *passes* when this p-value is
at most ``alpha``: the actual treatment explains the outcome better than
random reassignments do.

Linear models use one within transformation of all placebo columns at once
(see :mod:`causalpolicing.graph.refuters._model`); Poisson models refit every
draw with :func:`causalpolicing.fepois` (about 5 ms a draw at 26 x 33).

The **lead** refuters regress the outcome on the treatment ``k`` periods ahead,
in place of the current treatment or together with it: the future cannot cause
the present, so an effect of the lead signals feedback (enforcement responding
to deaths), anticipation or a trend the fixed effects miss. The **placebo
outcome** refuter refits the model on an outcome the treatment cannot affect.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np

from ...core.fe_structure import factorize
from ...exceptions import SpecError
from ...inference._pvalue import resampling_pvalue
from ._common import (
    check_alpha,
    check_progress,
    check_reps,
    fmt,
    fmt_p,
    permutation_pvalue,
    progress_bar,
)
from ._model import PanelModel, spawn_rngs
from ._result import RefutationResult

__all__ = ["placebo_permutation", "placebo_time_shift", "placebo_lead", "placebo_outcome",
           "placebo_indices"]


# ----------------------------------------------------------------- placebo draws
def placebo_indices(model: PanelModel, kind: Literal["permute", "rotate", "blocks"],
                    rng: np.random.Generator, reps: int, *, min_shift: int = 1,
                    block: int = 4) -> np.ndarray:
    """Source rows (``n x reps``, positions in the estimation sample) of placebo draws.

    ``placebo[:, r] = values[idx[:, r]]``. ``"permute"``: a random permutation of the
    rows of each period; ``"rotate"``: each unit's rows in time order shifted
    circularly by a random offset in ``[min_shift, n_i - min_shift]``; ``"blocks"``:
    each unit's rows cut into blocks of ``block`` consecutive periods whose order is
    shuffled.
    """
    n = model.n
    if kind == "permute":
        model.need("time")
        tc = model.time_codes
        base = np.argsort(tc, kind="stable")  # rows by period
        counts = np.bincount(tc)
        idx = np.empty((n, reps), dtype=np.int64)
        start = 0
        for c in counts:  # each column of each period shuffled independently (Fisher-Yates)
            rows = base[start:start + c]
            shuffled = rng.permuted(np.broadcast_to(np.arange(c)[:, None], (c, reps)), axis=0)
            idx[rows] = rows[shuffled]
            start += c
        return idx
    model.need("unit", "time")
    uc, tc = model.unit_codes, model.time_codes
    so = np.lexsort((tc, uc))  # rows by unit, then time
    u_s = uc[so]
    counts = np.bincount(u_s)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    j = np.arange(n) - starts[u_s]  # position within the unit's series
    if kind == "rotate":
        lo = min_shift
        hi = counts - min_shift  # inclusive upper offset per unit
        if np.any(hi < lo):
            short = int(counts.min())
            raise SpecError(
                f"min_shift={min_shift} needs every unit to have at least {2 * min_shift} "
                f"periods; the shortest series has {short}. Lower min_shift.")
        off = lo + np.floor(rng.random((len(counts), reps)) * (hi - lo + 1)[:, None]).astype(
            np.int64)
        src = starts[u_s][:, None] + (j[:, None] + off[u_s]) % counts[u_s][:, None]
        idx = np.empty((n, reps), dtype=np.int64)
        idx[so] = so[src]
        return idx
    if kind == "blocks":
        if isinstance(block, bool) or not isinstance(block, int) or block < 1:
            raise SpecError(f"block must be a positive integer (periods); got {block!r}.")
        blk = j // block
        nblk = int(blk.max()) + 1
        u_rand = rng.random((len(counts), nblk, reps))
        key = u_s[:, None] + 0.5 * u_rand[u_s, blk, :]
        order = np.argsort(key, axis=0, kind="stable")
        idx = np.empty((n, reps), dtype=np.int64)
        idx[so] = so[order]
        return idx
    raise SpecError(f"kind must be 'permute', 'rotate' or 'blocks'; got {kind!r}.")


def _draw_estimates(model: PanelModel, idx: np.ndarray, progress: bool | None,
                    label: str) -> np.ndarray:
    values = model.treatment_values()
    if model.family == "linear":
        return model.placebo_betas(values[idx])
    raw = model.frame[model.column].to_numpy(float)[model.positions]
    name = model.free_name("placebo_treatment")
    formula = model.formula_with_treatment(name)
    out = np.full(idx.shape[1], np.nan)
    with progress_bar(idx.shape[1], label, progress) as advance:
        for r in range(idx.shape[1]):
            res = model.refit(model.frame_with(name, raw[idx[:, r]]), formula)
            out[r] = res.params.get(formula.exog[_pos(model)].name, np.nan)
            advance(1)
    return out


def _pos(model: PanelModel) -> int:
    return [t.name for t in model.formula.exog].index(model.term)


def _placebo_result(model: PanelModel, name: str, draws: np.ndarray, alpha: float,
                    what: str, extra: dict[str, Any]) -> RefutationResult:
    est = model.estimate
    p = permutation_pvalue(est, draws)
    finite = draws[np.isfinite(draws)]
    reps = len(draws)
    mean = float(finite.mean()) if len(finite) else float("nan")
    sd = float(finite.std(ddof=1)) if len(finite) > 1 else float("nan")
    mc_se = sd / np.sqrt(len(finite)) if len(finite) > 1 else float("nan")
    z = mean / mc_se if mc_se and np.isfinite(mc_se) and mc_se > 0 else float("nan")
    # "larger in magnitude than": the complement of the draws at least as large, ties
    # (within the package's tie tolerance) counted with those, as in the p-value
    share = (100 * (1 - resampling_pvalue(finite, est)) if len(finite) else float("nan"))
    passed = p <= alpha
    if passed:
        reading = (
            f"The estimate {fmt(est)} is larger in magnitude than {share:.1f}% of {reps} "
            f"estimates with the treatment {what} ({fmt_p(p)}): random reassignments that keep "
            "the panel structure do not produce an effect this large. This does not show the "
            "effect is causal: a confounder that moves with the real treatment is not removed "
            "by a placebo.")
    else:
        reading = (
            f"Estimates with the treatment {what} are at least as large as {fmt(est)} in "
            f"{100 - share:.1f}% of {reps} draws ({fmt_p(p)}): by this test the estimate "
            "cannot be told apart from no effect. This does not show the effect is zero (few "
            "units give little power) nor that the estimate is biased.")
    if np.isfinite(z) and abs(z) > 4:
        reading += (
            f" The placebo estimates do not centre on zero (mean {fmt(mean)}, {z:.1f} Monte "
            "Carlo standard errors away): the specification finds effects in a treatment that "
            "has none; check the fixed effects and trends.")
    details = {
        "null": "sharp null: the treatment has no effect on any unit in any period",
        "criterion": f"passed when the permutation p-value is at most alpha = {alpha}",
        "placebo_mean": mean, "placebo_sd": sd, "mc_se_of_mean": mc_se,
        "mean_z": z, "centred": bool(not np.isfinite(z) or abs(z) <= 4),
        "share_smaller": share / 100, "n_failed_draws": int(reps - len(finite)),
        "family": model.family,
    }
    details.update(extra)
    return RefutationResult(
        name=name, term=model.term, estimate=est, new_estimate=mean,
        statistic="mean placebo estimate", p_value=p, passed=passed, alpha=alpha,
        reading=reading, reps=reps, draws_=draws, details_=details)


def _placebo_permutation(model: PanelModel, rng: np.random.Generator, *, reps: int,
                         alpha: float, progress: bool | None) -> RefutationResult:
    idx = placebo_indices(model, "permute", rng, reps)
    draws = _draw_estimates(model, idx, progress, "placebo permutation")
    return _placebo_result(
        model, "placebo_permutation", draws, alpha,
        "permuted across units within each period",
        {"method": "permutation across units within each period",
         "cost": "one within transformation of all draws" if model.family == "linear"
         else f"{reps} Poisson refits"})


def _placebo_time_shift(model: PanelModel, rng: np.random.Generator, *, reps: int,
                        alpha: float, progress: bool | None, mode: str = "rotate",
                        min_shift: int = 1, block: int = 4) -> RefutationResult:
    if mode not in ("rotate", "blocks"):
        raise SpecError(f"mode must be 'rotate' or 'blocks'; got {mode!r}.")
    idx = placebo_indices(model, mode, rng, reps, min_shift=min_shift,  # type: ignore[arg-type]
                          block=block)
    draws = _draw_estimates(model, idx, progress, "time-shifted placebo")
    what = ("rotated within each unit by a random number of periods" if mode == "rotate"
            else f"shuffled within each unit in blocks of {block} periods")
    return _placebo_result(
        model, "placebo_time_shift", draws, alpha, what,
        {"method": what, "mode": mode, "min_shift": min_shift, "block": block})


def _check_model(results: Any, data: Any, treatment: str | None, unit: str | None,
                 time: str | None) -> PanelModel:
    return PanelModel(results, data, treatment=treatment, unit=unit, time=time)


def placebo_permutation(results: Any, data: Any, *, treatment: str | None = None,
                        reps: int = 1000, seed: int | None = None, alpha: float = 0.05,
                        time: str | None = None, progress: bool | None = None
                        ) -> RefutationResult:
    """Placebo treatment permuted across units within each period.

    Parameters
    ----------
    results
        A fit of :func:`causalpolicing.feols` (OLS/WLS) or :func:`causalpolicing.fepois`.
    data
        The DataFrame or Panel it was fit on.
    treatment
        The regressor to refute (default: the first regressor).
    reps
        Number of placebo draws.
    seed
        Seed of the draws (``None``: fresh entropy, recorded in ``details["seed"]``).
    alpha
        Level: the estimate passes when the permutation p-value is at most ``alpha``.
    time
        The period column (default: the Panel's time role; required for a DataFrame).
    progress
        Show a progress bar (``None``: only for long Poisson refit loops in a terminal).

    Returns
    -------
    RefutationResult
        ``draws`` are the placebo estimates; ``p_value`` the share at least as large
        in magnitude as the estimate (the observed assignment included).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import placebo_permutation
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> r = placebo_permutation(res, panel, reps=200, seed=1)
    >>> r.reps, r.passed, abs(r.draws_mean) < 0.2
    (200, True, True)
    """
    model = _check_model(results, data, treatment, None, time)
    entropy, rngs = spawn_rngs(seed, [0])
    out = _placebo_permutation(model, rngs[0], reps=check_reps(reps), alpha=check_alpha(alpha),
                               progress=check_progress(progress))
    return _with_seed(out, entropy)


def placebo_time_shift(results: Any, data: Any, *, treatment: str | None = None,
                       reps: int = 1000, seed: int | None = None, alpha: float = 0.05,
                       mode: Literal["rotate", "blocks"] = "rotate", min_shift: int = 1,
                       block: int = 4, unit: str | None = None, time: str | None = None,
                       progress: bool | None = None) -> RefutationResult:
    """Placebo treatment shifted in time within each unit.

    ``mode="rotate"`` shifts each unit's series circularly by a random number of
    periods between ``min_shift`` and ``n_i - min_shift`` (drawn per unit and
    draw); ``mode="blocks"`` cuts it into blocks of ``block`` consecutive periods
    and shuffles their order. Either keeps each unit's level and distribution of
    the treatment (so the unit effects absorb the same thing) and breaks its timing.
    Other parameters and the result as in :func:`placebo_permutation`.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import placebo_time_shift
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> r = placebo_time_shift(res, panel, reps=100, seed=2, min_shift=3)
    >>> r.name, r.draws.shape
    ('placebo_time_shift', (100,))
    """
    model = _check_model(results, data, treatment, unit, time)
    entropy, rngs = spawn_rngs(seed, [0])
    out = _placebo_time_shift(model, rngs[0], reps=check_reps(reps), alpha=check_alpha(alpha),
                              progress=check_progress(progress), mode=mode,
                              min_shift=min_shift, block=block)
    return _with_seed(out, entropy)


def _with_seed(res: RefutationResult, entropy: int) -> RefutationResult:
    details = res.details
    details["seed"] = entropy
    return dataclasses.replace(res, details_=details)


# ------------------------------------------------------------------------- leads
def lead_values(model: PanelModel, k: int) -> np.ndarray:
    """The treatment column ``k`` periods ahead within each unit, for every row of the
    data (NaN where that period is not observed). Periods are the sorted distinct
    values of the time column; ``k < 0`` gives lags."""
    model.need("unit", "time")
    frame = model.frame
    tcodes = _codes(frame[model.time])
    ucodes = _codes(frame[model.unit])
    vals = frame[model.column].to_numpy(dtype=float, na_value=np.nan)
    rows = np.flatnonzero((tcodes >= 0) & (ucodes >= 0))
    nt = int(tcodes.max()) + 1
    keys = ucodes[rows] * nt + tcodes[rows]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if np.any(np.diff(sorted_keys) == 0):
        raise SpecError(f"Several rows share a unit ({model.unit!r}) and period "
                        f"({model.time!r}); leads are not defined.")
    out = np.full(len(frame), np.nan)
    target = tcodes[rows] + k
    inside = (target >= 0) & (target < nt)
    rows, tkeys = rows[inside], ucodes[rows[inside]] * nt + target[inside]
    pos = np.minimum(np.searchsorted(sorted_keys, tkeys), len(sorted_keys) - 1)
    found = sorted_keys[pos] == tkeys
    src = np.flatnonzero((tcodes >= 0) & (ucodes >= 0))[order[pos[found]]]
    out[rows[found]] = vals[src]
    return out


def _codes(s: Any) -> np.ndarray:
    return factorize(s)[0]


def _placebo_lead(model: PanelModel, rng: np.random.Generator | None = None, *,
                  reps: int = 0, alpha: float, progress: bool | None = None, lead: int = 1,
                  keep_current: bool = False) -> RefutationResult:
    if isinstance(lead, bool) or not isinstance(lead, int) or lead < 1:
        raise SpecError(f"lead must be a positive integer (periods ahead); got {lead!r}.")
    name = model.free_name(f"lead{lead}_{model.column}")
    frame = model.frame.copy()
    frame[name] = lead_values(model, lead)
    formula = model.formula_with_treatment(name, keep_current=keep_current)
    res = model.refit(frame, formula)
    lead_term = next(t.name for t in formula.exog if t.factors[0].column == name)
    if lead_term not in res.params.index:
        raise SpecError(f"The lead of {model.term!r} was dropped from the refit "
                        f"({res.collinear}); the lead placebo is not estimable.")
    coef = float(res.params[lead_term])
    p = float(res.pvalues[lead_term])
    se = float(res.std_errors[lead_term])
    passed = p > alpha
    k = f"{lead} period{'s' if lead > 1 else ''}"
    cur = float(res.params[model.term]) if keep_current else float("nan")
    if keep_current:
        refuter = "placebo_lead_both"
        if passed:
            reading = (
                f"The treatment {k} ahead does not predict the current outcome given the "
                f"current treatment (coefficient {fmt(coef)}, {fmt_p(p)}): no sign of feedback "
                "or anticipation at this lead. This does not establish strict exogeneity: "
                "other leads are not tested and power is low with few units.")
        else:
            reading = (
                f"The treatment {k} ahead predicts the current outcome given the current "
                f"treatment (coefficient {fmt(coef)}, {fmt_p(p)}): a sign of feedback (the "
                "treatment responding to the outcome or its drivers), anticipation, or a trend "
                "the fixed effects miss, so the contemporaneous estimate may be biased. It does "
                "not say how large the bias is.")
    else:
        refuter = "placebo_lead"
        if passed:
            reading = (
                f"The treatment {k} ahead, put in place of the current one, shows no effect "
                f"(coefficient {fmt(coef)}, {fmt_p(p)}). It does not show the absence of feedback: "
                "with a persistent treatment a real effect would show up here too, so a null "
                "lead can also mean low power; see placebo_lead_both.")
        else:
            reading = (
                f"The treatment {k} ahead, put in place of the current one, 'has an effect' "
                f"(coefficient {fmt(coef)}, {fmt_p(p)}). With a persistent treatment this is "
                "expected when the real effect is not zero (the lead stands in for the current "
                "treatment). It does not by itself show feedback: that needs placebo_lead_both to "
                "fail too.")
    details = {
        "null": f"the treatment {k} ahead has no effect on the current outcome"
        + (" given the current treatment" if keep_current else ""),
        "criterion": f"passed when the lead's p-value exceeds alpha = {alpha}",
        "lead": lead, "std_error": se, "nobs": int(res.nobs), "cov_type": res.cov_type,
        "current_coefficient": cur, "lead_term": lead_term,
        "original_nobs": int(model.results.nobs),
    }
    return RefutationResult(
        name=refuter, term=model.term, estimate=model.estimate, new_estimate=coef,
        statistic=f"coefficient of the {k} lead", p_value=p, passed=passed, alpha=alpha,
        reading=reading, reps=0, draws_=None, details_=details)


def placebo_lead(results: Any, data: Any, *, treatment: str | None = None, lead: int = 1,
                 keep_current: bool = True, alpha: float = 0.05, unit: str | None = None,
                 time: str | None = None) -> RefutationResult:
    """The treatment ``lead`` periods ahead as a placebo.

    ``keep_current=True`` adds the lead to the model next to the current
    treatment (name ``"placebo_lead_both"``: does the future predict today's
    outcome given today's treatment?); ``False`` puts it in place of the current
    treatment (``"placebo_lead"``). The refit uses the same estimator, fixed
    effects and covariance; rows whose lead is not observed (the last ``lead``
    periods) drop out. The estimate passes when the lead's p-value exceeds
    ``alpha``.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import placebo_lead
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> r = placebo_lead(res, panel)
    >>> r.name, r.details["nobs"]
    ('placebo_lead_both', 832)
    """
    model = _check_model(results, data, treatment, unit, time)
    return _placebo_lead(model, alpha=check_alpha(alpha), lead=lead,
                         keep_current=bool(keep_current))


# -------------------------------------------------------------------- placebo outcome
def _placebo_outcome(model: PanelModel, rng: np.random.Generator | None = None, *,
                     reps: int = 0, alpha: float, progress: bool | None = None,
                     outcome: str | None = None) -> RefutationResult:
    if not isinstance(outcome, str):
        raise SpecError("placebo_outcome needs outcome='column': an outcome the treatment "
                        f"cannot affect; got {outcome!r}.")
    if outcome not in model.frame.columns:
        raise SpecError(f"outcome={outcome!r} is not a column of the data; columns: "
                        f"{list(model.frame.columns)[:20]}.")
    if outcome == model.formula.depvar.columns[0]:
        raise SpecError(f"outcome={outcome!r} is the model's own outcome; name another.")
    formula = model.formula_with_outcome(outcome)
    res = model.refit(model.frame, formula)
    if model.term not in res.params.index:
        raise SpecError(f"{model.term!r} was dropped in the placebo-outcome refit.")
    coef = float(res.params[model.term])
    p = float(res.pvalues[model.term])
    passed = p > alpha
    if passed:
        reading = (
            f"The treatment shows no effect on {outcome!r}, an outcome it should not affect "
            f"(coefficient {fmt(coef)}, {fmt_p(p)}): no sign of the confounding that outcome "
            "would reveal. It does not rule out confounders of the real outcome that leave "
            f"{outcome!r} alone, and it rests on the treatment truly not affecting {outcome!r}.")
    else:
        reading = (
            f"The treatment 'affects' {outcome!r}, which it should not (coefficient "
            f"{fmt(coef)}, {fmt_p(p)}): a sign of confounding (something drives both the "
            f"treatment and outcomes in general) or that {outcome!r} is not a valid placebo. "
            "It does not measure the bias of the main estimate.")
    details = {
        "null": f"the treatment has no effect on {outcome!r}",
        "criterion": f"passed when the p-value exceeds alpha = {alpha}",
        "outcome": outcome, "std_error": float(res.std_errors[model.term]),
        "nobs": int(res.nobs), "cov_type": res.cov_type,
    }
    return RefutationResult(
        name="placebo_outcome", term=model.term, estimate=model.estimate, new_estimate=coef,
        statistic=f"coefficient on {outcome}", p_value=p, passed=passed, alpha=alpha,
        reading=reading, reps=0, draws_=None, details_=details)


def placebo_outcome(results: Any, data: Any, outcome: str, *, treatment: str | None = None,
                    alpha: float = 0.05) -> RefutationResult:
    """Refit the model on ``outcome``, a column the treatment cannot affect.

    The same estimator, regressors, fixed effects and covariance; the estimate
    passes when the treatment's p-value on the placebo outcome exceeds ``alpha``.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import placebo_outcome
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> placebo_outcome(res, panel, "unemployment").statistic
    'coefficient on unemployment'
    """
    model = _check_model(results, data, treatment, None, None)
    return _placebo_outcome(model, alpha=check_alpha(alpha), outcome=outcome)
