"""Recording the warnings of a run (the analysis runner, ``validate``, ``reproduce``).

A run records every warning so that the report and the command line can list
them, except the deprecation notices of *other* libraries about their own APIs
(``DeprecationWarning``/``PendingDeprecationWarning`` raised outside
causalpolicing): they say nothing about the data or the analysis, and recording
them with the "always" filter made libraries that log what they catch print them
(matplotlib logs every warning raised while it reads its style files, so old
matplotlib with a newer pyparsing printed eight lines in the middle of the
progress output).

Examples
--------
>>> import warnings
>>> with record_warnings() as caught:
...     warnings.warn_explicit("old API", DeprecationWarning, "lib.py", 1, module="somelib")
...     warnings.warn("check the data", UserWarning)
>>> [str(w.message) for w in caught]
['check the data']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["record_warnings"]


@contextmanager
def record_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """``warnings.catch_warnings(record=True)`` with every warning recorded each time it
    is raised, but for other libraries' deprecation notices (module notes)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for category in (DeprecationWarning, PendingDeprecationWarning):
            warnings.filterwarnings("ignore", category=category)
            warnings.filterwarnings("always", category=category, module=r"causalpolicing(\.|$)")
        yield caught
