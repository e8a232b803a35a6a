"""Loading, validating and transforming panel data.

Data flows one way: readers -> :func:`load_panel` -> :class:`Panel` -> transforms.
Nothing here knows about estimators.
"""

from .._lazy import lazy_exports as _lazy_exports
from .load import NA_MARKERS, load_panel
from .panel import Panel, PanelMetadata, PanelSummary, Roles, TransformRecord
from .readers import ReadResult, available_readers, read_table, register_reader

__all__ = [
    "NA_MARKERS",
    "Panel",
    "PanelMetadata",
    "PanelSummary",
    "ReadResult",
    "Roles",
    "TransformRecord",
    "available_readers",
    "load_panel",
    "read_table",
    "register_reader",
]

__getattr__, __dir__ = _lazy_exports(__name__, __all__)
