"""Renamed keywords: the old name still works for one release, with a FutureWarning.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     renamed_keyword("wild_bootstrap", "r", 0.5, "null", 0.0, 0.0)
0.5
>>> str(caught[0].message)
"wild_bootstrap: the keyword 'r' is deprecated and will be removed in the next release; use null= instead."
"""

from __future__ import annotations

import warnings
from typing import Any

from ..exceptions import SpecError

__all__ = ["renamed_keyword"]

#: The value of a deprecated keyword that was not given.
NOT_GIVEN: Any = None


def renamed_keyword(func: str, old: str, old_value: Any, new: str, new_value: Any,
                    default: Any) -> Any:
    """The value to use when keyword ``old`` was renamed ``new``: ``new_value`` unless
    ``old`` was given (not ``None``), then ``old_value`` with a :class:`FutureWarning`.
    Giving both (``new`` not at its default) raises."""
    if old_value is NOT_GIVEN:
        return new_value
    if new_value is not default and new_value != default:
        raise SpecError(f"{func}: pass {new}= only ({old}= is its deprecated former name).")
    warnings.warn(f"{func}: the keyword {old!r} is deprecated and will be removed in the next "
                  f"release; use {new}= instead.", FutureWarning, stacklevel=3)
    return old_value
