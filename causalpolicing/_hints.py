"""One way to validate common arguments and to suggest a fix: "did you mean", levels.

Every module that rejects a name (a column, an estimator, an option key) words
the suggestion through :func:`did_you_mean`, with one similarity cutoff, and
every function that takes a confidence level checks it with :func:`check_level`,
so a message means the same wherever it comes from.

Examples
--------
>>> did_you_mean("fepios", ["feols", "fepois"])
" (did you mean 'fepois'?)"
>>> did_you_mean("zzz", ["feols", "fepois"])
''
>>> check_level(0.9)
0.9
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from .exceptions import SpecError

__all__ = ["CUTOFF", "check_level", "close_matches", "did_you_mean"]

#: The similarity (:class:`difflib.SequenceMatcher` ratio) above which a name is suggested.
CUTOFF = 0.6


def close_matches(name: str, candidates: Iterable[Any], n: int = 3) -> list[str]:
    """Candidates that look like ``name`` (case-insensitive), best first.

    An exact match up to case comes first; then :func:`difflib.get_close_matches`
    at :data:`CUTOFF`.

    >>> close_matches("Year", ["year", "yaer", "unit"])
    ['year', 'yaer']
    """
    cands = [str(c) for c in candidates]
    lowered: dict[str, str] = {}
    for c in cands:
        lowered.setdefault(c.lower(), c)
    key = str(name).lower()
    hits = difflib.get_close_matches(key, list(lowered), n=n, cutoff=CUTOFF)
    exact = [lowered[key]] if key in lowered else []
    out = exact + [lowered[h] for h in hits if lowered[h] not in exact]
    return out[:n]


def did_you_mean(name: str, candidates: Iterable[Any], *, style: str = "paren",
                 n: int = 1) -> str:
    """The hint to append to an error about ``name``, or ``""`` when nothing is close.

    ``style="paren"`` gives ``" (did you mean 'x'?)"``; ``style="sentence"`` gives
    ``" Did you mean 'x'?"``. ``n`` names up to that many candidates, best first.

    >>> did_you_mean("yaer", ["year", "unit"], style="sentence")
    " Did you mean 'year'?"
    >>> did_you_mean("deaths", ["death", "deaths_rate", "births"], n=3)
    " (did you mean 'death', 'deaths_rate'?)"
    """
    near = [c for c in close_matches(name, candidates, n=n) if c != name]
    if not near:
        return ""
    shown = ", ".join(map(repr, near))
    if style == "sentence":
        return f" Did you mean {shown}?"
    return f" (did you mean {shown}?)"


def check_level(level: Any, name: str = "level") -> float:
    """A confidence level strictly between 0 and 1, as a float; else a :class:`SpecError`.

    Integers are refused too (``level=1`` is a mistake for 0.99 or 95%), and so
    are booleans and strings.

    >>> check_level(0.95)
    0.95
    >>> check_level(95)
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.SpecError: level must be a number strictly between 0 and 1 (e.g. 0.95); got 95.
    """
    import numbers

    if (isinstance(level, bool) or not isinstance(level, numbers.Real)
            or not 0 < float(level) < 1):
        raise SpecError(f"{name} must be a number strictly between 0 and 1 (e.g. 0.95); "
                        f"got {level!r}.")
    return float(level)
