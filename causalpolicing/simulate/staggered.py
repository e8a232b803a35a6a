"""A seeded simulator of a law adopted by states at different times (staggered adoption).

**The data it makes are simulated.** Fifty states ``S01``-``S50`` are observed
2000-2022. A law against overdose deaths (think of a naloxone-access or
Good-Samaritan law) is adopted in six waves (``cohorts``: 2003, 2006, 2009,
2012, 2015, 2018); a few states never adopt it (``adopt_year`` 0). The law's
effect builds up as its programmes scale, faster in the early-adopting states
(whose epidemics were worse), so effects differ across cohorts and grow with
time since adoption. That is the case in which the static two-way fixed-effects
regression of deaths on the law indicator compares late adopters with early
adopters whose effects are still growing ("forbidden comparisons", Goodman-Bacon
2021) and, on this draw, gets the **wrong sign**: a harmful-looking law that in
truth averts deaths.

The model (state ``s``, year ``t``, cohort ``G_s``, event time ``e = t - G_s``)::

    deaths[s,t] ~ Poisson(mu1[s,t]),   mu0[s,t] = population[s,t] * base_rate
                                                  * exp(a[s] + g[t])
    mu1[s,t] = mu0[s,t] * exp(-slope[G_s] * (e + 1))   for adopters with e >= 0
             = mu0[s,t]                                otherwise

with state effects ``a[s] ~ N(0, 0.25^2)``, year effects ``g[t] = 0.07 (t -
2000) + N(0, 0.03^2)`` (a rising epidemic) and ``slope`` per cohort
(``cohort_slopes``). ``mu0`` and ``mu1`` are the expected deaths without and
with the law, so the true effects are known exactly: :func:`staggered_truth`
gives ATT(g, t) (deaths per state and rate ratio) for every cohort and year,
and its aggregates (overall, by event time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DatasetError
from .cantons import _check_seed

__all__ = ["STAGGERED_DEFAULTS", "simulate_staggered_laws", "staggered_truth"]

FIRST_YEAR, LAST_YEAR = 2000, 2022
N_STATES = 50
DEFAULT_SEED = 3

#: Default settings of :func:`simulate_staggered_laws`.
STAGGERED_DEFAULTS: dict[str, Any] = {
    "cohorts": (2003, 2006, 2009, 2012, 2015, 2018),
    "cohort_slopes": (0.12, 0.09, 0.07, 0.05, 0.03, 0.02),
    "n_never": 3,
    "base_rate": 1.2e-5,
}


def _check(cohorts: Sequence[int], slopes: Sequence[float], n_never: int) -> None:
    if len(cohorts) != len(slopes) or not cohorts:
        raise DatasetError(f"cohorts and cohort_slopes must have the same (non-zero) length; "
                           f"got {len(cohorts)} and {len(slopes)}.")
    if any(not FIRST_YEAR < int(c) <= LAST_YEAR for c in cohorts) or len(set(cohorts)) != len(
            cohorts):
        raise DatasetError(f"cohorts must be distinct years in {FIRST_YEAR + 1}-{LAST_YEAR}; "
                           f"got {list(cohorts)}.")
    if isinstance(n_never, bool) or not isinstance(n_never, int) or not 0 <= n_never < N_STATES:
        raise DatasetError(f"n_never must be an integer from 0 to {N_STATES - 1}; got {n_never!r}.")


def _draw(seed: int, cohorts: Sequence[int], slopes: Sequence[float], n_never: int,
          base_rate: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    _check_seed(seed)
    _check(cohorts, slopes, n_never)
    rng = np.random.default_rng(seed)
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    n_t = len(years)
    k = len(cohorts)
    sizes = [(N_STATES - n_never) // k] * k
    sizes[0] += N_STATES - n_never - sum(sizes)
    cohort = rng.permutation(np.concatenate(
        [np.zeros(n_never, dtype=np.int64)]
        + [np.full(n, c, dtype=np.int64) for n, c in zip(sizes, cohorts, strict=True)]))
    pop0 = np.exp(rng.normal(np.log(4e6), 0.8, N_STATES))
    state_fx = rng.normal(0.0, 0.25, N_STATES)
    year_fx = 0.07 * (years - FIRST_YEAR) + rng.normal(0.0, 0.03, n_t)
    g = np.repeat(cohort, n_t)
    year = np.tile(years, N_STATES)
    event = year - g
    treated = (g > 0) & (event >= 0)
    slope_of = dict(zip((int(c) for c in cohorts), (float(s) for s in slopes), strict=True))
    slope = np.array([slope_of.get(int(c), 0.0) for c in g])
    log_rr = np.where(treated, -slope * (event + 1), 0.0)
    population = np.round(np.repeat(pop0, n_t) * (1 + 0.005 * (year - FIRST_YEAR)))
    mu0 = population * base_rate * np.exp(np.repeat(state_fx, n_t) + np.tile(year_fx, N_STATES))
    mu1 = mu0 * np.exp(log_rr)
    deaths = rng.poisson(mu1)
    frame = pd.DataFrame({
        "state": np.repeat([f"S{i + 1:02d}" for i in range(N_STATES)], n_t),
        "year": year,
        "population": population.astype(np.int64),
        "deaths": deaths.astype(np.int64),
        "law": treated.astype(np.int64),
        "adopt_year": g,
    })
    return frame, mu0, mu1


def simulate_staggered_laws(
    seed: int = DEFAULT_SEED,
    *,
    cohorts: Sequence[int] = STAGGERED_DEFAULTS["cohorts"],
    cohort_slopes: Sequence[float] = STAGGERED_DEFAULTS["cohort_slopes"],
    n_never: int = STAGGERED_DEFAULTS["n_never"],
    base_rate: float = STAGGERED_DEFAULTS["base_rate"],
) -> pd.DataFrame:
    """Simulate the state x year panel of a staggered law (SIMULATED data).

    The default call reproduces the bundled dataset ``simulated_overdose_laws``
    exactly.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; a non-negative integer.
    cohorts
        Adoption years of the waves (distinct, 2001-2022).
    cohort_slopes
        Per wave, the growth of the effect: the log rate ratio ``e`` years after
        adoption is ``-slope * (e + 1)``.
    n_never
        States that never adopt (``adopt_year`` 0); the others are split evenly
        over the waves (the remainder to the first).
    base_rate
        Deaths per person and year before state and year effects.

    Returns
    -------
    pandas.DataFrame
        Columns ``state, year, population, deaths, law, adopt_year`` (50 x 23 rows).

    Examples
    --------
    >>> from causalpolicing.simulate import simulate_staggered_laws
    >>> df = simulate_staggered_laws()
    >>> df.shape, sorted(df["adopt_year"].unique().tolist())
    ((1150, 6), [0, 2003, 2006, 2009, 2012, 2015, 2018])
    """
    return _draw(seed, cohorts, cohort_slopes, n_never, base_rate)[0]


def staggered_truth(
    seed: int = DEFAULT_SEED,
    *,
    cohorts: Sequence[int] = STAGGERED_DEFAULTS["cohorts"],
    cohort_slopes: Sequence[float] = STAGGERED_DEFAULTS["cohort_slopes"],
    n_never: int = STAGGERED_DEFAULTS["n_never"],
    base_rate: float = STAGGERED_DEFAULTS["base_rate"],
) -> dict[str, Any]:
    """The true effects of :func:`simulate_staggered_laws` with the same arguments.

    Effects are differences and ratios of *expected* deaths with and without the
    law (``mu1``, ``mu0``), so they are exact, not estimated.

    Returns
    -------
    dict
        ``att_gt``: one row per adopting cohort and year from adoption on
        (``cohort, year, event_time, n_states, deaths_without, deaths_with,
        att_deaths`` (deaths added per state; negative: averted),
        ``rate_ratio``); ATT(g, t) before adoption is 0 (no anticipation).
        ``event_time``: the same aggregated by event time over cohorts, weighted
        by their number of states (``event_time, n_states, att_deaths,
        rate_ratio``). ``overall``: the simple ATT over every treated state-year
        (``att_deaths``, ``rate_ratio`` = ratio of summed expected deaths,
        ``deaths_averted`` in total, ``n_treated_state_years``).

    Examples
    --------
    >>> truth = staggered_truth()
    >>> round(truth["overall"]["rate_ratio"], 3) < 1
    True
    >>> truth["att_gt"].columns.tolist()[:3]
    ['cohort', 'year', 'event_time']
    """
    frame, mu0, mu1 = _draw(seed, cohorts, cohort_slopes, n_never, base_rate)
    post = frame["law"].to_numpy() == 1
    cells = pd.DataFrame({"cohort": frame["adopt_year"][post], "year": frame["year"][post],
                          "mu0": mu0[post], "mu1": mu1[post]})
    cells["event_time"] = cells["year"] - cells["cohort"]
    gt = cells.groupby(["cohort", "year", "event_time"], sort=True).agg(
        n_states=("mu0", "size"), deaths_without=("mu0", "sum"),
        deaths_with=("mu1", "sum")).reset_index()
    gt["att_deaths"] = (gt["deaths_with"] - gt["deaths_without"]) / gt["n_states"]
    gt["rate_ratio"] = gt["deaths_with"] / gt["deaths_without"]
    by_e = cells.groupby("event_time", sort=True).agg(
        n_states=("mu0", "size"), without=("mu0", "sum"), with_=("mu1", "sum")).reset_index()
    by_e["att_deaths"] = (by_e["with_"] - by_e["without"]) / by_e["n_states"]
    by_e["rate_ratio"] = by_e["with_"] / by_e["without"]
    overall = {
        "att_deaths": float((cells["mu1"] - cells["mu0"]).mean()),
        "rate_ratio": float(cells["mu1"].sum() / cells["mu0"].sum()),
        "deaths_averted": float((cells["mu0"] - cells["mu1"]).sum()),
        "n_treated_state_years": int(len(cells)),
    }
    return {"att_gt": gt, "event_time": by_e[["event_time", "n_states", "att_deaths",
                                               "rate_ratio"]], "overall": overall}
