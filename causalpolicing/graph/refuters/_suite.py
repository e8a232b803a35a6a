"""Run several refuters on one estimate: :func:`refute`."""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...exceptions import SpecError
from ._common import check_alpha, check_progress, check_reps
from ._model import PanelModel, spawn_rngs
from ._result import RefutationResult, RefutationSuite
from .placebo import _placebo_lead, _placebo_outcome, _placebo_permutation, _placebo_time_shift
from .stability import _leave_one_unit_out, _random_common_cause, _random_unit_subsets

__all__ = ["refute", "REFUTERS", "DEFAULT_METHODS"]


def _lead_both(model: PanelModel, rng: Any = None, **kw: Any) -> RefutationResult:
    return _placebo_lead(model, rng, **{"keep_current": True, **kw})


def _lead_only(model: PanelModel, rng: Any = None, **kw: Any) -> RefutationResult:
    return _placebo_lead(model, rng, **{"keep_current": False, **kw})


#: name -> (function, options it accepts besides reps, whether it draws at random)
_REGISTRY: dict[str, tuple[Callable[..., RefutationResult], tuple[str, ...], bool]] = {
    "placebo_permutation": (_placebo_permutation, (), True),
    "placebo_time_shift": (_placebo_time_shift, ("mode", "min_shift", "block"), True),
    "placebo_lead": (_lead_only, ("lead",), False),
    "placebo_lead_both": (_lead_both, ("lead",), False),
    "placebo_outcome": (_placebo_outcome, ("outcome",), False),
    "leave_one_unit_out": (_leave_one_unit_out, (), False),
    "random_common_cause": (_random_common_cause, (), True),
    "random_unit_subsets": (_random_unit_subsets, ("fraction",), True),
}

#: Every refuter :func:`refute` knows, in its default order.
REFUTERS: tuple[str, ...] = tuple(_REGISTRY)

#: What :func:`refute` runs by default (``placebo_outcome`` is added when
#: ``placebo_outcome=`` names a column).
DEFAULT_METHODS: tuple[str, ...] = tuple(m for m in REFUTERS if m != "placebo_outcome")

#: Default draws of the refit-based random subsets (each draw is a refit).
SUBSET_REPS = 200


def refute(
    results: Any,
    data: Any,
    *,
    methods: Sequence[str] | None = None,
    treatment: str | None = None,
    reps: int = 1000,
    seed: int | None = None,
    alpha: float = 0.05,
    placebo_outcome: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    progress: bool | None = None,
) -> RefutationSuite:
    """Run a suite of panel-aware refuters on one estimate.

    Parameters
    ----------
    results
        A fit of :func:`causalpolicing.feols` (OLS/WLS, not IV) or
        :func:`causalpolicing.fepois`.
    data
        The DataFrame or Panel it was fit on (checked: the rebuilt design must
        reproduce the estimate).
    methods
        Refuters to run, from :data:`REFUTERS`: ``"placebo_permutation"``,
        ``"placebo_time_shift"``, ``"placebo_lead"``, ``"placebo_lead_both"``,
        ``"placebo_outcome"``, ``"leave_one_unit_out"``, ``"random_common_cause"``,
        ``"random_unit_subsets"``. Default: all but ``placebo_outcome``, which is
        added when ``placebo_outcome`` names a column.
    treatment
        The regressor to refute (default: the first regressor of the formula).
    reps
        Draws of each random refuter (``random_unit_subsets`` refits every draw
        and defaults to ``min(reps, 200)``; override through ``options``).
    seed
        Seed (``None``: fresh entropy). Each refuter gets its own stream, so its
        draws do not depend on which other refuters run; ``suite.seed``
        reproduces them all.
    alpha
        Level of every pass/fail verdict.
    placebo_outcome
        A column the treatment cannot affect (for ``"placebo_outcome"``).
    unit, time
        Unit and period columns (default: the Panel's roles; needed for a DataFrame).
    options
        Per-refuter options, e.g. ``{"placebo_time_shift": {"mode": "blocks",
        "block": 5}, "random_unit_subsets": {"reps": 100, "fraction": 0.7},
        "placebo_lead_both": {"lead": 2}}``.
    progress
        ``True``/``False`` to force the progress bar on/off; ``None`` shows it only
        for long refit loops when standard error is a terminal.

    Returns
    -------
    RefutationSuite
        ``.results`` (one :class:`RefutationResult` each), ``.summary()`` (a
        DataFrame), ``suite["placebo_permutation"]``, ``.failed``.

    Notes
    -----
    Two kinds of p-values appear, with opposite readings (the confusion DoWhy
    users report, py-why/dowhy issues #159, #312, #532):

    * placebo refuters (permutation, time shift): the share of placebo
      estimates at least as large as the real one; *small is good* (the real
      treatment stands out from random reassignments);
    * stability refuters (random common cause, random subsets): the rank of the
      original estimate among re-estimates; *small is bad* (the estimate moves);
    * lead and placebo-outcome refuters: the refit's p-value of an effect that
      should be zero; *small is bad*.

    Each result's ``passed`` applies the right direction and ``reading`` says
    what it means and what it does not.

    Cost: for a linear fit the placebo and random-common-cause draws share one
    within transformation (the default suite takes about 0.15 s on the 26 x 33
    panel). A Poisson fit is refit with :func:`causalpolicing.fepois` for every
    draw (about 8 ms each at 26 x 33: the default suite, about 3,200 fits, takes
    about 25 s; pass a smaller ``reps``).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.graph.refuters import refute
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols("deaths ~ offences_per_1000 | canton + year", panel)
    >>> suite = refute(res, panel, reps=200, seed=7, progress=False,
    ...                methods=["placebo_permutation", "random_common_cause"])
    >>> suite.summary()[["refuter", "passed"]]
                   refuter  passed
    0  placebo_permutation    True
    1  random_common_cause    True
    """
    alpha = check_alpha(alpha)
    reps = check_reps(reps)
    progress = check_progress(progress)
    if methods is None:
        chosen = list(DEFAULT_METHODS)
        if placebo_outcome is not None:
            chosen.insert(REFUTERS.index("placebo_outcome"), "placebo_outcome")
    else:
        if isinstance(methods, str):
            methods = [methods]
        chosen = list(dict.fromkeys(methods))
        bad = [m for m in chosen if m not in _REGISTRY]
        if bad:
            raise SpecError(f"Unknown refuter(s) {bad}; choose from {list(REFUTERS)}.")
    if "placebo_outcome" in chosen and placebo_outcome is None:
        raise SpecError("methods include 'placebo_outcome': pass placebo_outcome='column', an "
                        "outcome the treatment cannot affect.")
    opts = {k: dict(v) for k, v in (options or {}).items()}
    for name, o in opts.items():
        if name not in _REGISTRY:
            raise SpecError(f"options names unknown refuter {name!r}; choose from "
                            f"{list(REFUTERS)}.")
        allowed = ("reps", *_REGISTRY[name][1]) if _REGISTRY[name][2] else _REGISTRY[name][1]
        extra = [k for k in o if k not in allowed]
        if extra:
            raise SpecError(f"options[{name!r}] has unknown key(s) {extra}; {name} accepts "
                            f"{list(allowed)}.")
    model = PanelModel(results, data, treatment=treatment, unit=unit, time=time)
    entropy, rngs = spawn_rngs(seed, range(len(REFUTERS)))
    out: list[RefutationResult] = []
    seconds: dict[str, float] = {}
    for name in chosen:
        fn, _, random = _REGISTRY[name]
        kw: dict[str, Any] = dict(opts.get(name, {}))
        if name == "placebo_outcome":
            kw["outcome"] = placebo_outcome
        if random:
            default_reps = min(reps, SUBSET_REPS) if name == "random_unit_subsets" else reps
            kw["reps"] = check_reps(kw.get("reps", default_reps), name=f"{name} reps")
        t0 = _time.perf_counter()
        res = fn(model, rngs[REFUTERS.index(name)], alpha=alpha, progress=progress, **kw)
        seconds[name] = _time.perf_counter() - t0
        out.append(res)
    return RefutationSuite(results=tuple(out), term=model.term, estimate=model.estimate,
                           alpha=alpha, seed=entropy, seconds_=seconds)
