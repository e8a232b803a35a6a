"""A seeded simulator of a police crackdown in one city district, with displacement.

**The data it makes are simulated.** Sixteen districts ``D01``-``D16`` lie on a
4 x 4 grid (``D01`` top left, row by row); districts sharing an edge are
neighbours (rook adjacency). From ``start_month`` the police concentrate on
the target district: police hours there rise by ``police_hours_multiplier``,
overdoses and public drug consumption fall there and are displaced into the
districts next door (as in Cabramatta, Vancouver's Downtown Eastside or
Zurich's Platzspitz/Letten).

The model (district ``d``, month ``m``, 2015-01 to 2019-12)::

    overdoses[d,m]          ~ Poisson(population[d,m] * 1e-4 * exp(a[d] + g[m]
                                  + log(overdose_direct_rr) * crackdown[d,m]
                                  + log(overdose_spillover_rr) * neighbour_of_target[d,m]))
    public_consumption[d,m] ~ Poisson(population[d,m] * 1e-3 * exp(b[d] + h[m]
                                  + log(consumption_direct_rr) * crackdown[d,m]
                                  + log(consumption_spillover_rr) * neighbour_of_target[d,m]))
    police_hours[d,m]       = round(population[d,m] / 100 * exp(p[d] + N(0, 0.1^2))
                                  * police_hours_multiplier ** crackdown[d,m])

with district effects ``a, b, p`` and month effects ``g, h`` (seasonality plus
a trend). ``crackdown`` is 1 for the target from ``start_month`` on;
``neighbour_of_target`` is 1 for the target's rook neighbours from
``start_month`` on. Outcomes depend on the crackdown indicators, not on
``police_hours`` (which records how intense the crackdown was).
"""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from ..exceptions import DatasetError
from .cantons import _check_real, _check_seed

__all__ = [
    "simulate_crackdown",
    "CRACKDOWN_DEFAULTS",
    "DISTRICTS",
    "GRID_SIZE",
    "district_neighbours",
]

GRID_SIZE = 4
#: District labels, row by row on the 4 x 4 grid.
DISTRICTS: tuple[str, ...] = tuple(f"D{i:02d}" for i in range(1, GRID_SIZE**2 + 1))
FIRST_MONTH = "2015-01"
LAST_MONTH = "2019-12"

#: Default true parameters (and settings) of :func:`simulate_crackdown`.
CRACKDOWN_DEFAULTS: dict[str, Any] = {
    "overdose_direct_rr": 0.70,
    "overdose_spillover_rr": 1.25,
    "consumption_direct_rr": 0.50,
    "consumption_spillover_rr": 1.30,
    "police_hours_multiplier": 3.0,
    "target": "D06",
    "start_month": "2017-07",
}
DEFAULT_SEED = 2017


def district_neighbours() -> dict[str, tuple[str, ...]]:
    """Rook adjacency of the 4 x 4 district grid (districts sharing an edge).

    Examples
    --------
    >>> district_neighbours()["D06"]
    ('D02', 'D05', 'D07', 'D10')
    >>> district_neighbours()["D01"]
    ('D02', 'D05')
    """
    out: dict[str, tuple[str, ...]] = {}
    for i, name in enumerate(DISTRICTS):
        r, c = divmod(i, GRID_SIZE)
        nbs = []
        for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < GRID_SIZE and 0 <= cc < GRID_SIZE:
                nbs.append(DISTRICTS[rr * GRID_SIZE + cc])
        out[name] = tuple(nbs)
    return out


@overload
def simulate_crackdown(
    seed: int = ..., *, return_truth: Literal[False] = ...,
    overdose_direct_rr: float = ..., overdose_spillover_rr: float = ...,
    consumption_direct_rr: float = ..., consumption_spillover_rr: float = ...,
    police_hours_multiplier: float = ..., target: str = ..., start_month: str = ...,
) -> pd.DataFrame: ...
@overload
def simulate_crackdown(
    seed: int = ..., *, return_truth: Literal[True],
    overdose_direct_rr: float = ..., overdose_spillover_rr: float = ...,
    consumption_direct_rr: float = ..., consumption_spillover_rr: float = ...,
    police_hours_multiplier: float = ..., target: str = ..., start_month: str = ...,
) -> tuple[pd.DataFrame, dict[str, Any]]: ...


def simulate_crackdown(
    seed: int = DEFAULT_SEED,
    *,
    return_truth: bool = False,
    overdose_direct_rr: float = CRACKDOWN_DEFAULTS["overdose_direct_rr"],
    overdose_spillover_rr: float = CRACKDOWN_DEFAULTS["overdose_spillover_rr"],
    consumption_direct_rr: float = CRACKDOWN_DEFAULTS["consumption_direct_rr"],
    consumption_spillover_rr: float = CRACKDOWN_DEFAULTS["consumption_spillover_rr"],
    police_hours_multiplier: float = CRACKDOWN_DEFAULTS["police_hours_multiplier"],
    target: str = CRACKDOWN_DEFAULTS["target"],
    start_month: str = CRACKDOWN_DEFAULTS["start_month"],
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate a district x month panel of a crackdown with displacement (SIMULATED data).

    The default call (``seed=2017`` and the default parameters) reproduces the
    bundled dataset ``simulated_crackdown`` exactly.

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; a non-negative integer.
    return_truth
        Also return the true parameters (a dict) as the second element.
    overdose_direct_rr, overdose_spillover_rr
        True overdose rate ratios in the target district during the crackdown
        (default 0.70) and in its neighbours (default 1.25). Positive.
    consumption_direct_rr, consumption_spillover_rr
        The same for public drug consumption (defaults 0.50 and 1.30). Positive.
    police_hours_multiplier
        Factor on police hours in the target during the crackdown (default 3). Positive.
    target
        The target district, one of ``D01`` ... ``D16`` (default ``D06``, an
        interior district with four neighbours).
    start_month
        First crackdown month, ``"YYYY-MM"`` between 2015-02 and 2019-12
        (default ``"2017-07"``).

    Returns
    -------
    pandas.DataFrame
        960 rows (16 districts x 60 months, sorted by district then month) with
        columns ``district, row, col, month, population, crackdown,
        neighbour_of_target, police_hours, overdoses, public_consumption``;
        ``month`` holds ``"YYYY-MM"`` strings. With ``return_truth=True`` also a
        dict of the true parameters.

    Raises
    ------
    causalpolicing.exceptions.DatasetError
        When a parameter is invalid, naming it, the value and the valid values.

    Examples
    --------
    >>> from causalpolicing.simulate import simulate_crackdown
    >>> df = simulate_crackdown(seed=3)
    >>> df.shape, int(df["crackdown"].sum())
    ((960, 10), 30)
    >>> sorted(df.loc[df["neighbour_of_target"] == 1, "district"].unique())
    ['D02', 'D05', 'D07', 'D10']
    """
    _check_seed(seed)
    rates = {
        "overdose_direct_rr": overdose_direct_rr,
        "overdose_spillover_rr": overdose_spillover_rr,
        "consumption_direct_rr": consumption_direct_rr,
        "consumption_spillover_rr": consumption_spillover_rr,
        "police_hours_multiplier": police_hours_multiplier,
    }
    for name, value in rates.items():
        _check_real(name, value, low=0.0, low_open=True, defaults=CRACKDOWN_DEFAULTS)
    if not isinstance(return_truth, bool):
        raise DatasetError(f"return_truth must be True or False; got {return_truth!r}.")
    if target not in DISTRICTS:
        raise DatasetError(
            f"target must be one of the districts {', '.join(DISTRICTS)}; got {target!r}."
        )
    months = pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")
    try:
        start = pd.Period(str(start_month), freq="M")
    except (ValueError, TypeError) as err:
        raise DatasetError(
            f"start_month must be a month 'YYYY-MM' between {months[1]} and {months[-1]}; "
            f"got {start_month!r}."
        ) from err
    if not (months[1] <= start <= months[-1]) or not _is_month_text(start_month):
        raise DatasetError(
            f"start_month must be a month 'YYYY-MM' between {months[1]} and {months[-1]} "
            f"(at least one month before the crackdown); got {start_month!r}."
        )

    rng = np.random.default_rng(seed)
    n_d, n_m = len(DISTRICTS), len(months)
    nbs = district_neighbours()
    m_index = np.arange(n_m)

    base_pop = rng.integers(20_000, 60_001, n_d).astype(float)
    growth = 1 + 0.01 * (m_index / 12.0)
    population = np.rint(base_pop[:, None] * growth[None, :]).astype(np.int64)

    # the target is the inner-city district with the open drug scene
    scene = np.array([1.0 if d == target else 0.0 for d in DISTRICTS])
    a = rng.normal(0.0, 0.25, n_d) + 0.8 * scene
    b = rng.normal(0.0, 0.25, n_d) + 1.0 * scene
    p = rng.normal(0.0, 0.15, n_d) + 0.3 * scene
    season = np.sin(2 * np.pi * (months.month.to_numpy() - 4) / 12.0)
    g = 0.10 * season + 0.004 * m_index + rng.normal(0.0, 0.05, n_m)
    h = 0.25 * season - 0.002 * m_index + rng.normal(0.0, 0.05, n_m)

    after = (months >= start).astype(float)
    is_target = np.array([d == target for d in DISTRICTS], dtype=float)
    is_nb = np.array([d in nbs[target] for d in DISTRICTS], dtype=float)
    crackdown = is_target[:, None] * after[None, :]
    neighbour = is_nb[:, None] * after[None, :]

    log_pop = np.log(population.astype(float))
    mu_od = np.exp(log_pop + math.log(1e-4) + a[:, None] + g[None, :]
                   + math.log(overdose_direct_rr) * crackdown
                   + math.log(overdose_spillover_rr) * neighbour)
    mu_pc = np.exp(log_pop + math.log(1e-3) + b[:, None] + h[None, :]
                   + math.log(consumption_direct_rr) * crackdown
                   + math.log(consumption_spillover_rr) * neighbour)
    hours = np.rint(population / 100.0 * np.exp(p[:, None] + rng.normal(0.0, 0.1, (n_d, n_m)))
                    * float(police_hours_multiplier) ** crackdown).astype(np.int64)
    overdoses = rng.poisson(mu_od)
    consumption = rng.poisson(mu_pc)

    rows, cols = np.divmod(np.arange(n_d), GRID_SIZE)
    frame = pd.DataFrame({
        "district": np.repeat(DISTRICTS, n_m),
        "row": np.repeat(rows + 1, n_m),
        "col": np.repeat(cols + 1, n_m),
        "month": np.tile(months.strftime("%Y-%m"), n_d),
        "population": population.ravel(),
        "crackdown": crackdown.ravel().astype(np.int64),
        "neighbour_of_target": neighbour.ravel().astype(np.int64),
        "police_hours": hours.ravel(),
        "overdoses": overdoses.ravel().astype(np.int64),
        "public_consumption": consumption.ravel().astype(np.int64),
    })
    if not return_truth:
        return frame
    truth: dict[str, Any] = {k: float(v) for k, v in rates.items()}
    truth.update({
        "target": target,
        "start_month": str(start),
        "neighbours_of_target": list(nbs[target]),
        "seed": int(seed),
    })
    return frame, truth


def _is_month_text(value: Any) -> bool:
    text = str(value)
    return len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit()
