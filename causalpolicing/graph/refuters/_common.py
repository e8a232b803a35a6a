"""Helpers shared by the refuters: argument checks, p-values, a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...exceptions import SpecError

__all__ = ["check_alpha", "check_reps", "permutation_pvalue", "rank_pvalue", "progress_bar",
           "fmt"]

#: Refit loops at least this long show a progress bar when ``progress=None`` (auto) and
#: standard error is a terminal.
AUTO_PROGRESS_FITS = 200


def check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (float, int)) or not 0 < alpha < 1:
        raise SpecError(f"alpha must be a number strictly between 0 and 1 (e.g. 0.05); got "
                        f"{alpha!r}.")
    return float(alpha)


def check_reps(reps: Any, minimum: int = 1, name: str = "reps") -> int:
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < minimum:
        raise SpecError(f"{name} must be an integer >= {minimum}; got {reps!r}.")
    return int(reps)


def check_progress(progress: Any) -> bool | None:
    if progress is not None and not isinstance(progress, bool):
        raise SpecError(f"progress must be True, False or None (auto); got {progress!r}.")
    return progress


def permutation_pvalue(estimate: float, draws: np.ndarray) -> float:
    """Two-sided randomization p-value: ``(1 + #{|draw| >= |estimate|}) / (1 + R)``.

    The observed assignment counts as one of the equally likely ones, so the
    p-value is never zero and is exact (valid in finite samples) under the sharp
    null that the treatment has no effect on any unit.

    >>> permutation_pvalue(2.0, np.array([0.5, -3.0, 1.0]))
    0.5
    """
    d = draws[np.isfinite(draws)]
    tol = 1e-12 * max(1.0, abs(estimate))  # ties within rounding count as "as large"
    return float((1 + np.count_nonzero(np.abs(d) >= abs(estimate) - tol)) / (1 + len(d)))


def rank_pvalue(estimate: float, draws: np.ndarray) -> float:
    """Two-sided rank p-value of ``estimate`` within ``draws`` (DoWhy's bootstrap test):
    ``2 min(q, 1 - q)``, ``q`` the share of draws above it (ties count half).

    >>> rank_pvalue(0.0, np.array([-1.0, 1.0, 2.0, 3.0]))
    0.5
    """
    d = draws[np.isfinite(draws)]
    if not len(d):
        return float("nan")
    q = float(np.mean((d > estimate) + 0.5 * (d == estimate)))
    return 2 * min(q, 1 - q)


@contextmanager
def progress_bar(total: int, description: str, enabled: bool | None
                 ) -> Iterator[Callable[[int], None]]:
    """A rich progress bar (transient) when enabled; ``None`` = auto (a terminal and at
    least :data:`AUTO_PROGRESS_FITS` steps). Yields ``advance(n)``."""
    show = enabled if enabled is not None else (
        total >= AUTO_PROGRESS_FITS and sys.stderr.isatty())
    if not show:
        yield lambda n=1: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def fmt(x: float) -> str:
    """A number for a sentence (4 significant digits)."""
    return f"{x:.4g}"


def fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
