"""Small helpers that format rows and values for error messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .._hints import close_matches  # re-exported: one cutoff for every hint

__all__ = [
    "describe_rows", "close_matches", "quote_list", "show_value", "read_options_hint",
    "time_format_hint", "format_hint",
]


def show_value(value: object) -> str:
    """A value as users wrote it: strings quoted, numpy scalars as plain numbers.

    Examples
    --------
    >>> import numpy as np
    >>> show_value(np.float64(2.0)), show_value("abc"), show_value(np.int64(3)), show_value(None)
    ('2.0', "'abc'", '3', 'None')
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def describe_rows(rows: Sequence[int] | np.ndarray, values: Sequence[object] | None = None,
                  *, limit: int = 8) -> str:
    """Describe source rows (and optionally their values) compactly.

    Parameters
    ----------
    rows
        Source row numbers (1-based data rows, the first row below the header is 1).
    values
        The offending value of each row, shown in parentheses.
    limit
        At most this many rows are listed; the rest are counted.

    Examples
    --------
    >>> describe_rows([3, 17], ["abc", "x"])
    "rows 3 ('abc') and 17 ('x')"
    >>> describe_rows(list(range(1, 12)))
    'rows 1, 2, 3, 4, 5, 6, 7, 8 and 3 more'
    """
    rows = [int(r) for r in rows]
    n = len(rows)
    shown = []
    for i, r in enumerate(rows[:limit]):
        if values is not None:
            shown.append(f"{r} ({show_value(values[i])})")
        else:
            shown.append(str(r))
    word = "row" if n == 1 else "rows"
    if n <= limit:
        if n == 1:
            return f"{word} {shown[0]}"
        return f"{word} {', '.join(shown[:-1])} and {shown[-1]}"
    return f"{word} {', '.join(shown)} and {n - limit} more"


def quote_list(items: Iterable[object], limit: int = 12) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items, then a count."""
    items = list(items)
    shown = ", ".join(repr(str(i)) for i in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


# ------------------------------------------------- hints that name every door
# A fix suggested by a message must be reachable from where the user is: Python
# (load_panel keywords), the command line (flags of `causalpolicing validate` /
# `analyze`) and a spec file ([data] keys). Every loader hint goes through these.
_SHELL_SAFE = re.compile(r"^[A-Za-z0-9_.,:/%+=@^-]*$")


def _shell(word: str) -> str:
    """``word`` as typed in a POSIX shell (single-quoted when needed)."""
    if word and _SHELL_SAFE.match(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def _cli_value(value: object) -> str:
    """A reader option's value as ``--read-option KEY=VALUE`` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if text == "\t":
        return "\\t"
    if re.fullmatch(r"\s*([+-]?[0-9]+|true|false|True|False)\s*", text) or (
        len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    ):
        return f'"{text}"'  # quoted: read back as text, not as a number
    return text


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def read_options_hint(options: Mapping[str, object]) -> str:
    """How to pass reader options: in Python, on the command line and in a spec.

    Examples
    --------
    >>> print(read_options_hint({"decimal": ","}))
    pass read_options={'decimal': ','} (command line: --read-option decimal=, ; spec [data]: read_options = {decimal = ","})
    >>> print(read_options_hint({"delimiter": ";", "skiprows": 2}))
    pass read_options={'delimiter': ';', 'skiprows': 2} (command line: --read-option 'delimiter=;' --read-option skiprows=2 ; spec [data]: read_options = {delimiter = ";", skiprows = 2})
    """
    python = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in options.items()) + "}"
    cli = " ".join(f"--read-option {_shell(f'{k}={_cli_value(v)}')}" for k, v in options.items())
    toml = "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in options.items()) + "}"
    return (f"pass read_options={python} (command line: {cli} ; spec [data]: "
            f"read_options = {toml})")


def time_format_hint(time_format: str = "%d.%m.%Y") -> str:
    """How to pass a ``strptime`` format for the time column, from everywhere.

    Examples
    --------
    >>> print(time_format_hint())
    pass time_format='%d.%m.%Y' (command line: --time-format %d.%m.%Y ; spec [data]: time_format = "%d.%m.%Y")
    """
    return (f"pass time_format={time_format!r} (command line: --time-format "
            f"{_shell(time_format)} ; spec [data]: time_format = {_toml_value(time_format)})")


def format_hint(name: str = "<reader>") -> str:
    """How to choose the reader yourself, from everywhere.

    Examples
    --------
    >>> print(format_hint("excel"))
    pass format='excel' (command line: --format excel ; spec [data]: format = "excel")
    """
    return (f"pass format={name!r} (command line: --format {_shell(name)} ; spec [data]: "
            f"format = {_toml_value(name)})")
