"""Private helpers shared by the feedback diagnostics (argument checks, formatting)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.panel import Panel
from ..estimators.lags import role_column
from ..exceptions import SpecError

DETECTED = "feedback detected"
NOT_DETECTED = "no evidence of feedback"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _check_panel(panel: Any, fn: str) -> None:
    if not isinstance(panel, Panel):
        raise SpecError(f"{fn} needs a Panel (lags and leads count periods); got "
                        f"{type(panel).__name__}. Make one with cp.load_panel(...).")


def _column(panel: Any, value: str | None, role: str, param: str) -> str:
    return role_column(panel, value, role, param)


def _check_alpha(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, float) or not 0 < alpha < 1:
        raise SpecError(f"alpha (the test level) must be a float between 0 and 1, e.g. 0.05; "
                        f"got {alpha!r}.")


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise SpecError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)
