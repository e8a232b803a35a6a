"""Golden values of the de Chaisemartin-D'Haultfoeuille weights from the Python port.

Run with the peers venv (not a dependency of causalpolicing):
    /work/venv-peers/bin/python tests/golden/staggered/make_twfe_weights.py
Versions: twowayfeweights 0.1.0 (Credible-Answers/py_twowayfeweights, a port of the
Stata command), pandas 3.x. Writes twfe_weights_port.json next to this file.
"""

import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def run(df, y, g, t, d, controls=None):
    from twowayfeweights import twowayfeweights  # the peers venv only

    r = twowayfeweights(df, y, g, t, d, type="feTR", controls=controls)
    w = r.weights
    w = w[w["weight"] != 0]
    return {"beta": r.beta, "nr_plus": r.nr_plus, "nr_minus": r.nr_minus,
            "sum_plus": r.sum_plus, "sum_minus": r.sum_minus, "tot_cells": r.tot_cells,
            "sensibility": r.sensibility, "sensibility2": r.sensibility2,
            "weights": {f"{a}_{b}": float(c) for a, b, c in
                        zip(w.iloc[:, 0], w.iloc[:, 1], w["weight"], strict=True)}}


def main() -> None:
    # nr, year, lwage, union, educ of the R repository's wagepan_twfeweights.csv
    wage = pd.read_csv(HERE / "wagepan_twfeweights.csv")
    mp = pd.read_csv(HERE / "mpdta.csv")
    mp["post"] = ((mp["first.treat"] > 0) & (mp["year"] >= mp["first.treat"])).astype(float)
    out = {"wagepan": run(wage, "lwage", "nr", "year", "union"),
           "wagepan_educ_control": run(wage.assign(ex=wage.educ * (wage.year - 1980)), "lwage",
                                       "nr", "year", "union", controls=["ex"]),
           "mpdta": run(mp, "lemp", "countyreal", "year", "post")}
    (HERE / "twfe_weights_port.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
