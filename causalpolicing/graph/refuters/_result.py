"""Frozen result objects of the refuters and of a refutation suite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ...exceptions import SpecError

__all__ = ["RefutationResult", "RefutationSuite", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ["refuter", "term", "estimate", "new_estimate", "draws_mean", "draws_sd",
                   "reps", "p_value", "passed", "reading"]


def _copy(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, (pd.Series, pd.DataFrame)):
        return v.copy()
    if isinstance(v, Mapping):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


@dataclass(frozen=True, eq=False)
class RefutationResult:
    """One refutation: what was done, the numbers, and what they mean.

    Attributes
    ----------
    name
        The refuter (e.g. ``"placebo_permutation"``).
    term
        The treatment refuted.
    estimate
        The original estimate of ``term``.
    new_estimate
        The refuter's summary number: the mean placebo estimate, the lead or
        placebo-outcome coefficient, or the mean re-estimate (see ``statistic``).
    statistic
        What ``new_estimate`` is, in words.
    p_value
        The refuter's p-value (``None`` where there is no test); its null
        hypothesis is stated in ``reading`` and in ``details["null"]``.
    passed
        Whether the estimate survived the refutation at level ``alpha`` (the
        criterion is in ``details["criterion"]``).
    alpha
        The level used for ``passed``.
    reading
        Plain language: what the result means and what it does not mean.
    reps
        Number of draws (0 for a single refit).

    Notes
    -----
    ``draws`` and ``details`` return copies; the object cannot be changed.
    """

    name: str
    term: str
    estimate: float
    new_estimate: float
    statistic: str
    p_value: float | None
    passed: bool | None
    alpha: float
    reading: str
    reps: int = 0
    draws_: np.ndarray | None = field(default=None, repr=False)
    details_: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        d = None if self.draws_ is None else np.array(self.draws_, dtype=float, copy=True)
        if d is not None:
            d.setflags(write=False)
        object.__setattr__(self, "draws_", d)
        object.__setattr__(self, "details_", MappingProxyType(
            {k: _copy(v) for k, v in dict(self.details_).items()}))

    @property
    def draws(self) -> np.ndarray | None:
        """The estimates of every draw (placebo or re-estimate), a copy; ``None`` if none."""
        return None if self.draws_ is None else self.draws_.copy()

    @property
    def details(self) -> dict[str, Any]:
        """Further numbers (criterion, null hypothesis, per-unit estimates, ...), a copy."""
        return {k: _copy(v) for k, v in self.details_.items()}

    @property
    def draws_mean(self) -> float:
        """Mean of the finite draws (nan without draws)."""
        if self.draws_ is None or not np.isfinite(self.draws_).any():
            return float("nan")
        return float(np.nanmean(self.draws_))

    @property
    def draws_sd(self) -> float:
        """Standard deviation (ddof=1) of the finite draws (nan with fewer than two)."""
        if self.draws_ is None or np.isfinite(self.draws_).sum() < 2:
            return float("nan")
        return float(np.nanstd(self.draws_, ddof=1))

    def summary_row(self) -> dict[str, Any]:
        """One row of :meth:`RefutationSuite.summary`."""
        return {"refuter": self.name, "term": self.term, "estimate": self.estimate,
                "new_estimate": self.new_estimate, "draws_mean": self.draws_mean,
                "draws_sd": self.draws_sd, "reps": self.reps, "p_value": self.p_value,
                "passed": self.passed, "reading": self.reading}

    def __str__(self) -> str:
        p = "n/a" if self.p_value is None else f"{self.p_value:.3g}"
        verdict = {True: "passed", False: "FAILED", None: "no verdict"}[self.passed]
        return (f"{self.name} ({self.term}): estimate {self.estimate:.4g}, "
                f"{self.statistic} {self.new_estimate:.4g}, p = {p}, {verdict}.\n"
                f"  {self.reading}")


@dataclass(frozen=True, eq=False)
class RefutationSuite:
    """The results of :func:`refute`: one :class:`RefutationResult` per refuter.

    Attributes
    ----------
    results
        The refutations, in the order run.
    term, estimate
        The treatment and its original estimate.
    alpha
        Level used for every ``passed``.
    seed
        The entropy that reproduces every draw (pass it as ``seed=``).
    seconds
        Wall time of each refuter.
    """

    results: tuple[RefutationResult, ...]
    term: str
    estimate: float
    alpha: float
    seed: int
    seconds_: Mapping[str, float] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "seconds_", MappingProxyType(dict(self.seconds_)))

    @property
    def seconds(self) -> dict[str, float]:
        """Wall time of each refuter (a copy)."""
        return dict(self.seconds_)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.results)

    def __getitem__(self, name: str) -> RefutationResult:
        for r in self.results:
            if r.name == name:
                return r
        raise SpecError(f"No refuter {name!r} in this suite; it ran {list(self.names)}.")

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Any:
        return iter(self.results)

    @property
    def failed(self) -> tuple[str, ...]:
        """Names of the refuters the estimate did not pass."""
        return tuple(r.name for r in self.results if r.passed is False)

    def summary(self) -> pd.DataFrame:
        """One row per refuter: ``refuter, term, estimate, new_estimate, draws_mean,
        draws_sd, reps, p_value, passed, reading``."""
        return pd.DataFrame([r.summary_row() for r in self.results], columns=SUMMARY_COLUMNS)

    def __str__(self) -> str:
        head = (f"Refutation of {self.term} = {self.estimate:.4g} (alpha {self.alpha}): "
                f"{len(self.results) - len(self.failed)} of {len(self.results)} passed.")
        return "\n".join([head, *(str(r) for r in self.results)])
