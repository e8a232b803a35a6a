"""A seeded simulator of drug-user deaths and drug-law enforcement in 26 Swiss cantons.

**The data it makes are simulated.** The design follows the Swiss story told by
Nordt & Stohler (2010, *Drug Alcohol Rev* 29:540): a heroin epidemic peaking
around 1990-92, street-level enforcement that raises user mortality and that
itself responds to deaths two years earlier, and substitution treatment that
scales up after 1990 and protects. The numbers are invented, the canton names,
populations and borders are real.

The model (canton ``c``, year ``t``, 1975-2007)::

    prevalence[c,t]  = scale[c] * wave(t) * exp(u[c,t]),        u ~ N(0, 0.05^2) iid
    offences[c,t]    = level[c] + trend(t) + feedback * deathrate[c,t-2]
                       + instrument_strength * budget_shock[c,t] + e[c,t],
                       e ~ N(0, enforcement_noise_sd^2), floored at 0.05
    coverage[c,t]    = cmax[c] / (1 + exp(-(t - t0[c]) / 1.8))
    neighbour[c,t]   = mean of offences[d,t] over the cantons d bordering c
    deaths[c,t]      ~ Poisson(mu[c,t])
    log mu[c,t]      = log population[c,t] + log(prevalence[c,t] / 1000)
                       + log baseline_mortality + alpha[c] + gamma[t]
                       + log(enforcement_rr) * offences[c,t]
                       + log(substitution_rr) * coverage[c,t]
                       + log(spillover_rr) * neighbour[c,t]

``deathrate`` is deaths per 100,000 residents; ``budget_shock ~ N(0, 1)`` iid is
a valid instrument (it moves deaths only through enforcement). Everything in
``log mu`` except ``u`` and the three policy terms is a canton or a year
effect, so a Poisson regression with canton and year fixed effects, an offset
``log(population)`` and the three policy regressors recovers the three rate
ratios without observing prevalence. The feedback makes future enforcement
depend on today's deaths (strict exogeneity fails); with 33 years the
resulting bias of the fixed-effects Poisson estimate is small (see the data
card for the measured size).

The other pieces, all drawn from the seeded generator: ``scale`` ~ U(1.4, 2.0)
for the urban cantons ZH, BS, GE, BE, VD and U(0.5, 1.0) elsewhere;
``wave(t) = 0.6 + 3.4 exp(-((t - 1992) / w)^2 / 2)`` with ``w = 5`` before 1992
and 9 after (users per 1,000 at scale 1); ``alpha ~ N(0, 0.15^2)``,
``gamma ~ N(0, 0.05^2)``; ``level`` ~ U(3, 4) urban, U(2, 3) elsewhere;
``trend(t) = 0.06 (t - 1975) + 1.5 exp(-((t - 1992) / 3)^2 / 2)`` (the push
against open drug scenes in the early 1990s); ``t0`` ~ U(1991, 1996),
``cmax`` ~ U(0.45, 0.75). Two burn-in years (1973-74) give the feedback its
first deaths. Unemployment (percent) follows a national path (low until 1990,
a rise to about 4% by 1997, partly reversed after 2000) scaled by a canton
level (higher in the French- and Italian-speaking cantons) plus noise; it has
no effect on anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from ..exceptions import DatasetError
from .swiss import ADJACENCY, CANTON_NAMES, CANTONS, POPULATION_2000, URBAN_CANTONS

__all__ = ["simulate_cantons", "CANTON_DEFAULTS", "FIRST_YEAR", "LAST_YEAR", "POPULATION_GROWTH"]

FIRST_YEAR = 1975
LAST_YEAR = 2007
#: Linear population growth per year relative to the 2000 census value (back-cast to 1975).
POPULATION_GROWTH = 0.006
_BURN_IN = 2  # years simulated before FIRST_YEAR so the two-year feedback has deaths to use
_FLOOR = 0.05
_PEAK_YEAR = 1992.0  # offences per 1,000 never fall below this

#: Default true parameters (and the default seed) of :func:`simulate_cantons`.
CANTON_DEFAULTS: dict[str, float] = {
    "enforcement_rr": 1.05,
    "substitution_rr": 0.40,
    "spillover_rr": 1.02,
    "feedback": 0.1,
    "instrument_strength": 0.8,
    "enforcement_noise_sd": 0.5,
    "baseline_mortality": 0.01,
}
DEFAULT_SEED = 1992


@overload
def simulate_cantons(
    seed: int = ..., *, return_truth: Literal[False] = ...,
    enforcement_rr: float = ..., substitution_rr: float = ..., spillover_rr: float = ...,
    feedback: float = ..., instrument_strength: float = ..., enforcement_noise_sd: float = ...,
    baseline_mortality: float = ...,
) -> pd.DataFrame: ...
@overload
def simulate_cantons(
    seed: int = ..., *, return_truth: Literal[True],
    enforcement_rr: float = ..., substitution_rr: float = ..., spillover_rr: float = ...,
    feedback: float = ..., instrument_strength: float = ..., enforcement_noise_sd: float = ...,
    baseline_mortality: float = ...,
) -> tuple[pd.DataFrame, dict[str, Any]]: ...


def simulate_cantons(
    seed: int = DEFAULT_SEED,
    *,
    return_truth: bool = False,
    enforcement_rr: float = CANTON_DEFAULTS["enforcement_rr"],
    substitution_rr: float = CANTON_DEFAULTS["substitution_rr"],
    spillover_rr: float = CANTON_DEFAULTS["spillover_rr"],
    feedback: float = CANTON_DEFAULTS["feedback"],
    instrument_strength: float = CANTON_DEFAULTS["instrument_strength"],
    enforcement_noise_sd: float = CANTON_DEFAULTS["enforcement_noise_sd"],
    baseline_mortality: float = CANTON_DEFAULTS["baseline_mortality"],
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate the canton x year panel of drug deaths and enforcement (SIMULATED data).

    The default call (``seed=1992`` and the default parameters) reproduces the
    bundled dataset ``simulated_cantons`` exactly.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; a non-negative integer.
    return_truth
        Also return the true parameters (a dict) as the second element.
    enforcement_rr
        True death rate ratio per 1 possession offence per 1,000 residents in the
        canton itself (default 1.05). Must be positive.
    substitution_rr
        True rate ratio for substitution coverage going from 0 to 1 (default 0.40).
    spillover_rr
        True rate ratio per 1 offence per 1,000 of the neighbouring cantons' mean
        (default 1.02: enforcement next door displaces users here).
    feedback
        Offences per 1,000 added per drug death per 100,000 residents two years
        earlier (default 0.1). Non-negative.
    instrument_strength
        Offences per 1,000 per standard deviation of ``budget_shock`` (default 0.8).
        Non-negative; 0 makes the instrument irrelevant.
    enforcement_noise_sd
        Standard deviation of the enforcement noise (default 0.5). Non-negative.
    baseline_mortality
        Yearly death probability of a user before the policy terms (default 0.01).
        Strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        858 rows (26 cantons x 33 years, sorted by canton code then year) with
        columns ``canton, canton_name, year, population, prevalence,
        offences_per_1000, budget_shock, substitution_coverage,
        neighbour_offences_per_1000, unemployment, deaths``; with
        ``return_truth=True`` also a dict of the true parameters (the rate
        ratios, their logs ``beta_*``, the other arguments and the seed).

    Raises
    ------
    causalpolicing.exceptions.DatasetError
        When a parameter is out of range, naming the parameter, the value and
        the valid range.

    Notes
    -----
    See the module docstring for the model. Unemployment is a covariate with no
    effect on deaths or enforcement (its true coefficient is 0). Population grows
    linearly by 0.6% of its 2000 census value per year (back-cast to 1975).

    Examples
    --------
    >>> from causalpolicing.simulate import simulate_cantons
    >>> df, truth = simulate_cantons(seed=1, return_truth=True)
    >>> df.shape, truth["enforcement_rr"]
    ((858, 11), 1.05)
    >>> sorted(df["canton"].unique())[:3]
    ['AG', 'AI', 'AR']
    """
    params = {
        "enforcement_rr": enforcement_rr,
        "substitution_rr": substitution_rr,
        "spillover_rr": spillover_rr,
        "feedback": feedback,
        "instrument_strength": instrument_strength,
        "enforcement_noise_sd": enforcement_noise_sd,
        "baseline_mortality": baseline_mortality,
    }
    _check_seed(seed)
    for name in ("enforcement_rr", "substitution_rr", "spillover_rr"):
        _check_real(name, params[name], low=0.0, low_open=True)
    for name in ("feedback", "instrument_strength", "enforcement_noise_sd"):
        _check_real(name, params[name], low=0.0)
    _check_real("baseline_mortality", baseline_mortality, low=0.0, low_open=True, high=1.0)
    if not isinstance(return_truth, bool):
        raise DatasetError(f"return_truth must be True or False; got {return_truth!r}.")
    params = {k: float(v) for k, v in params.items()}

    rng = np.random.default_rng(seed)
    codes = list(CANTONS)
    n = len(codes)
    years = np.arange(FIRST_YEAR - _BURN_IN, LAST_YEAR + 1)
    n_t = len(years)
    idx = {c: i for i, c in enumerate(codes)}

    # ------------------------------------------------------- structural parts
    pop2000 = np.array([POPULATION_2000[c] for c in codes], dtype=float)
    population = np.rint(pop2000[:, None] * (1 + POPULATION_GROWTH * (years[None, :] - 2000)))
    urban = np.array([c in URBAN_CANTONS for c in codes])
    # canton scale of prevalence: urban cantons 1.4-2.0, others 0.5-1.0
    scale = np.where(urban, rng.uniform(1.4, 2.0, n), rng.uniform(0.5, 1.0, n))
    # the epidemic wave, per 1,000 residents at scale 1: rises fast, ebbs slowly
    width = np.where(years < _PEAK_YEAR, 5.0, 9.0)
    wave = 0.6 + 3.4 * np.exp(-0.5 * ((years - _PEAK_YEAR) / width) ** 2)
    u = rng.normal(0.0, 0.05, (n, n_t))
    prevalence = scale[:, None] * wave[None, :] * np.exp(u)

    alpha = rng.normal(0.0, 0.15, n)
    gamma = rng.normal(0.0, 0.05, n_t)

    level = np.where(urban, rng.uniform(3.0, 4.0, n), rng.uniform(2.0, 3.0, n))
    # national trend: slow rise plus the early-1990s push against open drug scenes
    trend = 0.06 * (years - FIRST_YEAR) + 1.5 * np.exp(-0.5 * ((years - 1992.0) / 3.0) ** 2)
    budget_shock = rng.normal(0.0, 1.0, (n, n_t))
    noise = rng.normal(0.0, 1.0, (n, n_t)) * params["enforcement_noise_sd"]

    t0 = rng.uniform(1991.0, 1996.0, n)
    cmax = rng.uniform(0.45, 0.75, n)
    coverage = cmax[:, None] / (1 + np.exp(-(years[None, :] - t0[:, None]) / 1.8))

    romandie = np.array([c in ("GE", "VD", "NE", "JU", "TI", "FR", "VS") for c in codes])
    unemp_level = np.where(romandie, rng.uniform(1.2, 1.6, n), rng.uniform(0.6, 1.0, n))
    national_unemp = 0.3 + 4.2 / (1 + np.exp(-(years - 1993.0) / 1.0)) - 1.6 / (
        1 + np.exp(-(years - 2000.0) / 1.0))
    unemployment = unemp_level[:, None] * national_unemp[None, :] + rng.normal(0.0, 0.1, (n, n_t))
    unemployment = np.round(np.clip(unemployment, 0.05, None), 2)

    nb_index = [[idx[d] for d in ADJACENCY[c]] for c in codes]
    b_e = math.log(params["enforcement_rr"])
    b_s = math.log(params["substitution_rr"])
    b_sp = math.log(params["spillover_rr"])
    log_base = math.log(params["baseline_mortality"])

    # ----------------------------------------------------- sequential in time
    offences = np.zeros((n, n_t))
    neighbour = np.zeros((n, n_t))
    deaths = np.zeros((n, n_t), dtype=np.int64)
    for j in range(n_t):
        if j >= 2:
            response = params["feedback"] * deaths[:, j - 2] / population[:, j - 2] * 1e5
        else:
            response = np.zeros(n)
        e = (level + trend[j] + response + params["instrument_strength"] * budget_shock[:, j]
             + noise[:, j])
        offences[:, j] = np.maximum(e, _FLOOR)
        neighbour[:, j] = [offences[nb, j].mean() for nb in nb_index]
        log_mu = (np.log(population[:, j]) + np.log(prevalence[:, j] / 1000.0) + log_base
                  + alpha + gamma[j] + b_e * offences[:, j] + b_s * coverage[:, j]
                  + b_sp * neighbour[:, j])
        deaths[:, j] = rng.poisson(np.exp(log_mu))

    keep = slice(_BURN_IN, None)
    frame = pd.DataFrame({
        "canton": np.repeat(codes, n_t - _BURN_IN),
        "canton_name": np.repeat([CANTON_NAMES[c] for c in codes], n_t - _BURN_IN),
        "year": np.tile(years[keep], n),
        "population": population[:, keep].ravel().astype(np.int64),
        "prevalence": prevalence[:, keep].ravel(),
        "offences_per_1000": offences[:, keep].ravel(),
        "budget_shock": budget_shock[:, keep].ravel(),
        "substitution_coverage": coverage[:, keep].ravel(),
        "neighbour_offences_per_1000": neighbour[:, keep].ravel(),
        "unemployment": unemployment[:, keep].ravel(),
        "deaths": deaths[:, keep].ravel(),
    })
    frame = frame.sort_values(["canton", "year"], kind="stable").reset_index(drop=True)
    if not return_truth:
        return frame
    truth: dict[str, Any] = dict(params)
    truth.update({
        "beta_enforcement": b_e,
        "beta_substitution": b_s,
        "beta_spillover": b_sp,
        "seed": int(seed),
    })
    return frame, truth


# ------------------------------------------------------------------ validation
def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise DatasetError(
            f"seed must be a non-negative integer (e.g. seed=1992); got {seed!r}. "
            "Pass an explicit integer so the simulation can be reproduced."
        )


def _check_real(
    name: str, value: Any, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, defaults: Mapping[str, Any] | None = None,
) -> None:
    """Raise DatasetError unless ``value`` is a finite real number in the range."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))
    if ok and low is not None:
        ok = float(value) > low if low_open else float(value) >= low
    if ok and high is not None:
        ok = float(value) < high
    if not ok:
        if low is not None and high is not None:
            rng_text = f"a number strictly between {low:g} and {high:g}"
        elif low is not None:
            rng_text = f"a finite number {'>' if low_open else '>='} {low:g}"
        else:
            rng_text = "a finite number"
        raise DatasetError(
            f"{name} must be {rng_text}; got {value!r}. "
            f"The default is {(defaults or CANTON_DEFAULTS).get(name, 'in the docstring')}."
        )
