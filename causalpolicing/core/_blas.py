"""Lazy BLAS/LAPACK handles for the within transformation (split out of :mod:`.demean`).

scipy's LAPACK module is imported on first use and kept (an import statement per
call costs microseconds that matter in the small direct solves); BLAS is limited
to one thread around the small, memory-bound products (threadpoolctl, imported on
first use).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

__all__ = ["_LAPACK", "_lapack", "_one_blas_thread"]

_LAPACK: list[Any] = []


def _lapack() -> Any:
    """scipy.linalg.lapack, imported on first use (kept: an import statement per call
    costs microseconds that matter in the small direct solves)."""
    from scipy.linalg import lapack

    _LAPACK.append(lapack)
    return lapack


_CONTROLLER: list[Any] = []


def _one_blas_thread(active: bool) -> AbstractContextManager[Any]:
    """Limit BLAS to one thread (the products are small and memory-bound: threads only
    contend, about threefold slower on a busy 2-core machine, and one thread is
    deterministic)."""
    if not active:
        return nullcontext()
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
