"""Reading a Panel or a DataFrame (with explicit column names) for the panel plots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...data.panel import Panel
from ...exceptions import SpecError
from ._common import frame_columns

__all__ = ["PanelData", "panel_data"]


@dataclass(frozen=True)
class PanelData:
    """A frame (a copy) with its unit and time columns; ``panel`` is the Panel, if one was given."""

    frame: pd.DataFrame
    unit: str
    time: str
    panel: Panel | None


def panel_data(obj: Any, unit: str | None, time: str | None) -> PanelData:
    """Frame, unit and time of a Panel (roles) or of a DataFrame (``unit``/``time`` required)."""
    if isinstance(obj, Panel):
        for param, given, role in (("unit", unit, obj.unit), ("time", time, obj.time)):
            if given is not None and given != role:
                raise SpecError(f"{param}={given!r} differs from the Panel's {param} role "
                                f"{role!r}; leave {param} out for a Panel (or pass a DataFrame).")
        frame = obj.to_frame()
        if frame.empty:
            raise SpecError("The panel has no rows; nothing to plot.")
        return PanelData(frame, obj.unit, obj.time, obj)
    if not isinstance(obj, pd.DataFrame):
        raise SpecError(f"panel_or_frame must be a Panel or a DataFrame; got "
                        f"{type(obj).__name__}.")
    if unit is None or time is None:
        raise SpecError("For a DataFrame pass unit='column' and time='column' (a Panel knows its "
                        "roles).")
    frame_columns(obj, {"unit": unit, "time": time}, where="the frame")
    return PanelData(obj.copy(), unit, time, None)
