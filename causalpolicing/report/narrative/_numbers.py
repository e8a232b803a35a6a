"""Number formatting for sentences: a few significant digits, thousands separators, no signs.

The sentences state directions in words ("more", "fewer", "an increase of"), so
the numbers they print are magnitudes. All numbers of one sentence (the
estimate and its interval) share one number of decimals, chosen from the
estimate and raised until the three numbers are told apart.

Examples
--------
>>> shared_decimals([7.43, 2.11, 12.96], percent=True)
1
>>> [format_magnitude(x, 1) for x in (7.43, 2.11, 12.96)]
['7.4', '2.1', '13.0']
>>> format_magnitude(-12345.678, 0)
'12,346'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["format_magnitude", "shared_decimals", "format_count"]

_MAX_DECIMALS = 6


def shared_decimals(values: Sequence[float], *, percent: bool = False, ratio: bool = False,
                    significant: int = 2) -> int:
    """Decimals for a group of numbers: ``significant`` digits of the first (the estimate).

    Percentages below 100 get at least one decimal (``7.4%``, ``13.0%``) and ratios at
    least two (``1.32``). The count is raised (up to 6) until the numbers, once rounded,
    are distinct wherever they differ.
    """
    finite = [abs(float(v)) for v in values if math.isfinite(float(v))]
    ref = abs(float(values[0])) if values and math.isfinite(float(values[0])) else 0.0
    if ref == 0.0:
        ref = max((v for v in finite if v > 0), default=0.0)
    if ref == 0.0:
        return 1 if percent else (2 if ratio else 0)
    d = significant - 1 - math.floor(math.log10(ref))
    if percent and ref < 100:
        d = max(d, 1)
    if ratio:
        d = max(d, 2)
    d = min(max(d, 0), _MAX_DECIMALS)
    while d < _MAX_DECIMALS:
        shown = [round(v, d) for v in finite]
        clash = any(shown[i] == shown[j] and finite[i] != finite[j]
                    for i in range(len(finite)) for j in range(i + 1, len(finite)))
        if not clash:
            break
        d += 1
    return d


def format_magnitude(x: float, decimals: int) -> str:
    """``|x|`` with ``decimals`` decimals and thousands separators (``nan`` -> ``"n/a"``)."""
    if not math.isfinite(float(x)):
        return "n/a"
    return f"{abs(float(x)):,.{decimals}f}"


def format_count(n: int) -> str:
    """An integer with thousands separators: ``format_count(12345) == '12,345'``."""
    return f"{int(n):,}"
