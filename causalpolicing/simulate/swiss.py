"""The 26 Swiss cantons: codes, names, populations and land/lake-border adjacency.

These are the constants the simulated canton panel is built on. They are real
(as far as a short table can be), so a user can reuse them for their own
cantonal data.

* ``CANTONS``: the official two-letter codes in the Federal constitution's order.
* ``CANTON_NAMES``: English/German short names.
* ``POPULATION_2000``: resident population at the Federal Population Census of
  5 December 2000, as declared valid by the Federal Council on 3 July 2002
  (Bundesratsbeschluss über die Erwahrung der Hauptergebnisse der Volkszählung
  vom 5. Dezember 2000, BBl 2002 5348); total 7,288,010.
* ``ADJACENCY``: the standard canton adjacency: two cantons are neighbours when
  they share a boundary on land or across a lake (Lake Lucerne, Lake Neuchâtel),
  with the borders as they stood before 2026 (Moutier moved from Bern to Jura
  on 1 January 2026, which added no new pair). Borders with other countries are
  ignored. Jura became a canton in 1979; a panel that starts earlier and keeps
  all 26 cantons treats it as if it had existed throughout.

Examples
--------
>>> from causalpolicing.simulate.swiss import ADJACENCY, CANTONS, neighbour_pairs
>>> len(CANTONS), len(neighbour_pairs())
(26, 57)
>>> ADJACENCY["BS"], ADJACENCY["GE"]
(('BL',), ('VD',))
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "CANTONS",
    "CANTON_NAMES",
    "POPULATION_2000",
    "ADJACENCY",
    "URBAN_CANTONS",
    "neighbour_pairs",
]

#: Official canton codes, in the order of the Federal Constitution (art. 1).
CANTONS: tuple[str, ...] = (
    "ZH", "BE", "LU", "UR", "SZ", "OW", "NW", "GL", "ZG", "FR", "SO", "BS", "BL",
    "SH", "AR", "AI", "SG", "GR", "AG", "TG", "TI", "VD", "VS", "NE", "GE", "JU",
)

#: Short names (German/French/Italian official names in their usual English spelling).
CANTON_NAMES: Mapping[str, str] = MappingProxyType({
    "ZH": "Zürich", "BE": "Bern", "LU": "Lucerne", "UR": "Uri", "SZ": "Schwyz",
    "OW": "Obwalden", "NW": "Nidwalden", "GL": "Glarus", "ZG": "Zug", "FR": "Fribourg",
    "SO": "Solothurn", "BS": "Basel-Stadt", "BL": "Basel-Landschaft", "SH": "Schaffhausen",
    "AR": "Appenzell Ausserrhoden", "AI": "Appenzell Innerrhoden", "SG": "St. Gallen",
    "GR": "Graubünden", "AG": "Aargau", "TG": "Thurgau", "TI": "Ticino", "VD": "Vaud",
    "VS": "Valais", "NE": "Neuchâtel", "GE": "Geneva", "JU": "Jura",
})

#: Resident population at the Federal Population Census 2000 (5 December 2000).
POPULATION_2000: Mapping[str, int] = MappingProxyType({
    "ZH": 1_247_906, "BE": 957_197, "LU": 350_504, "UR": 34_777, "SZ": 128_704,
    "OW": 32_427, "NW": 37_235, "GL": 38_183, "ZG": 100_052, "FR": 241_706,
    "SO": 244_341, "BS": 188_079, "BL": 259_374, "SH": 73_392, "AR": 53_504,
    "AI": 14_618, "SG": 452_837, "GR": 187_058, "AG": 547_493, "TG": 228_875,
    "TI": 306_846, "VD": 640_657, "VS": 272_399, "NE": 167_949, "GE": 413_673,
    "JU": 68_224,
})

#: Cantons with a large city and an open drug scene in the 1980s-90s.
URBAN_CANTONS: tuple[str, ...] = ("ZH", "BS", "GE", "BE", "VD")

# Each pair once; ADJACENCY is built from these so it is symmetric by construction.
# Lake-only boundaries: FR-NE (Lake Neuchâtel), NW-SZ (Lake Lucerne).
_PAIRS: tuple[tuple[str, str], ...] = (
    ("ZH", "SH"), ("ZH", "TG"), ("ZH", "SG"), ("ZH", "SZ"), ("ZH", "ZG"), ("ZH", "AG"),
    ("BE", "JU"), ("BE", "SO"), ("BE", "AG"), ("BE", "LU"), ("BE", "OW"), ("BE", "NW"),
    ("BE", "UR"), ("BE", "VS"), ("BE", "VD"), ("BE", "FR"), ("BE", "NE"),
    ("LU", "AG"), ("LU", "ZG"), ("LU", "SZ"), ("LU", "NW"), ("LU", "OW"),
    ("UR", "SZ"), ("UR", "NW"), ("UR", "OW"), ("UR", "GL"), ("UR", "GR"), ("UR", "TI"),
    ("UR", "VS"),
    ("SZ", "ZG"), ("SZ", "NW"), ("SZ", "GL"), ("SZ", "SG"),
    ("OW", "NW"),
    ("GL", "SG"), ("GL", "GR"),
    ("ZG", "AG"),
    ("FR", "VD"), ("FR", "NE"),
    ("SO", "BL"), ("SO", "AG"), ("SO", "JU"),
    ("BS", "BL"),
    ("BL", "AG"), ("BL", "JU"),
    ("SH", "TG"),
    ("AR", "AI"), ("AR", "SG"),
    ("AI", "SG"),
    ("SG", "TG"), ("SG", "GR"),
    ("GR", "TI"),
    ("TI", "VS"),
    ("VD", "VS"), ("VD", "NE"), ("VD", "GE"),
    ("NE", "JU"),
)


def _build_adjacency() -> Mapping[str, tuple[str, ...]]:
    nb: dict[str, list[str]] = {c: [] for c in CANTONS}
    for a, b in _PAIRS:
        nb[a].append(b)
        nb[b].append(a)
    order = {c: i for i, c in enumerate(CANTONS)}
    return MappingProxyType({c: tuple(sorted(v, key=order.__getitem__)) for c, v in nb.items()})


#: Canton -> neighbouring cantons (symmetric; each tuple in constitutional order).
ADJACENCY: Mapping[str, tuple[str, ...]] = _build_adjacency()


def neighbour_pairs() -> list[tuple[str, str]]:
    """Every neighbouring pair once, ``(a, b)`` with ``a`` before ``b`` in ``CANTONS``.

    Examples
    --------
    >>> neighbour_pairs()[:3]
    [('ZH', 'SZ'), ('ZH', 'ZG'), ('ZH', 'SH')]
    """
    order = {c: i for i, c in enumerate(CANTONS)}
    out = []
    for a in CANTONS:
        for b in ADJACENCY[a]:
            if order[a] < order[b]:
                out.append((a, b))
    return out
