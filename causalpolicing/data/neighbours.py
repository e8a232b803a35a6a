"""Adjacency between units (for neighbour transforms): parsed and checked against the data."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import DataWarning, PanelError
from ._messages import describe_rows, quote_list
from .readers import read_table

__all__ = ["parse_neighbours"]


def parse_neighbours(
    spec: Mapping[Any, Iterable[Any]] | str | Path, source_units: pd.Series, panel_units: pd.Series
) -> dict[Any, tuple[Any, ...]]:
    """Validate an adjacency (mapping or two-column edge-list file) against the units.

    Units named in the adjacency must exist in the source (a unit whose rows were
    all dropped may still be named); a unit may not neighbour itself. Labels are
    matched as given or as text, so an edge-list file with ``1001`` matches
    integer unit codes. The adjacency is taken as given (not made symmetric).
    Units of the panel without an entry get no neighbours (a
    :class:`~causalpolicing.exceptions.DataWarning` lists them).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> units = pd.Series(["A", "B", "C"])
    >>> parse_neighbours({"A": ["B"], "B": ["A", "C"]}, units, units)
    {'A': ('B',), 'B': ('A', 'C')}
    """
    known = pd.unique(source_units)
    known_set = set(known)
    by_str = {str(u): u for u in known}
    if isinstance(spec, str | Path):
        edges = read_table(spec)
        frame = edges.frame
        if frame.shape[1] < 2:
            raise PanelError(
                f"Neighbour file {str(spec)!r} needs two columns (unit, neighbour) below a "
                f"header row; it has {frame.shape[1]}: {quote_list(frame.columns)}."
            )
        a, b = frame.columns[:2]
        empty = (frame[a].isna() | frame[b].isna()).to_numpy()
        if empty.any():
            raise PanelError(
                f"Neighbour file {str(spec)!r} has an empty unit or neighbour in "
                f"{describe_rows(edges.source_rows[empty])}. Every row is one edge "
                "(unit, neighbour): fill in or remove those rows."
            )
        mapping: dict[Any, list[Any]] = {}
        for x, y in zip(frame[a].astype(str).str.strip(), frame[b].astype(str).str.strip(),
                        strict=True):
            mapping.setdefault(x, []).append(y)
        raw: Mapping[Any, Iterable[Any]] = mapping
    elif isinstance(spec, Mapping):
        raw = spec
    else:
        raise PanelError(
            f"neighbours must be a mapping unit -> neighbours or an edge-list file path; got "
            f"{type(spec).__name__}."
        )
    unknown: list[str] = []
    out: dict[Any, list[Any]] = {}

    def lookup(u: Any) -> Any:
        try:
            if u in known_set:
                return u
        except TypeError:  # unhashable label
            pass
        if str(u).strip() in by_str:
            return by_str[str(u).strip()]
        unknown.append(str(u))
        return None

    for u, nbs in raw.items():
        key = lookup(u)
        if isinstance(nbs, str) or not isinstance(nbs, Iterable):
            nbs = [nbs]
        vals = [lookup(v) for v in nbs]
        if key is None:
            continue
        vals = [v for v in vals if v is not None]
        if key in vals:
            raise PanelError(
                f"Unit {key!r} is listed as its own neighbour; remove that entry from the "
                "adjacency."
            )
        out.setdefault(key, [])
        out[key].extend(v for v in dict.fromkeys(vals) if v not in out[key])
    if unknown:
        raise PanelError(
            f"The neighbour list names unit(s) not in the data: "
            f"{quote_list(sorted(set(unknown)))}. Known units: {quote_list(sorted(by_str), 20)}. "
            "Check the spelling and the codes (e.g. leading zeros) of those units."
        )
    lonely = [u for u in pd.unique(panel_units) if u not in out]
    if lonely:
        warnings.warn(
            f"{len(lonely)} unit(s) have no neighbours in the adjacency: {quote_list(lonely)}. "
            "Their neighbour averages will be missing; add them if that is a mistake.",
            DataWarning, stacklevel=3,
        )
    return {k: tuple(v) for k, v in out.items()}
