"""Helpers shared by the refuters: argument checks, p-values, a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...exceptions import SpecError
from ...inference._pvalue import resampling_pvalue

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
    p-value is never below ``1 / (1 + R)`` and is exact (valid in finite samples)
    under the sharp null that the treatment has no effect on any unit. Draws that
    tie the estimate within a relative :math:`10^{-9}` count as "as large" (the
    package's one tie convention, :mod:`causalpolicing.inference._pvalue`);
    non-finite draws are left out.

    >>> permutation_pvalue(2.0, np.array([0.5, -3.0, 1.0]))
    0.5
    """
    return resampling_pvalue(draws, estimate, "symmetric", plus_one=True, drop_nonfinite=True)


def rank_pvalue(estimate: float, draws: np.ndarray) -> float:
    """Two-sided rank p-value of ``estimate`` within ``draws`` (DoWhy's bootstrap test):
    ``min(1, 2 min(P(draw <= estimate), P(draw >= estimate)))``.

    Draws that tie the estimate (within a relative :math:`10^{-9}`) count in both
    tails, the package's tie convention (:mod:`causalpolicing.inference._pvalue`);
    DoWhy counts exact ties half, so the two agree whenever no draw ties. Non-finite
    draws are left out (NaN when none is left).

    >>> rank_pvalue(0.0, np.array([-1.0, 1.0, 2.0, 3.0]))
    0.5
    """
    return resampling_pvalue(draws, estimate, "equal-tailed", drop_nonfinite=True)


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
