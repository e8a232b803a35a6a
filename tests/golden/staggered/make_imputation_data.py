"""Vendor the data behind R ``didimputation``'s published outputs (run once, by hand).

Run with the peers' venv: ``/work/venv-peers/bin/python tests/golden/staggered/make_imputation_data.py
DIDIMPUTATION_REPO DID2S_REPO`` (two git directories of github.com/kylebutts/didimputation at
906648e192e0efec9939082cbfcb099dc2d94138 and github.com/kylebutts/did2s at
8228c158ef39201cf7c6617201efdec2582f210f; Python package ``rdata`` 1.1.0 reads the ``.rda``).

Writes
- ``didimputation_df_het.csv.gz``: ``data/df_het.rda`` of didimputation (NOT pyfixest's df_het,
  a different draw), columns unit, year, g, dep_var: the data of didimputation's README
  (static ATT 2.262952 and the event study).
- ``did2s_df_het.csv.gz``: ``data/df_het.rda`` of did2s (46,500 rows; yet another draw),
  columns unit, state, year, g, dep_var: the data of did2s's README (static 2.152 (0.0476)).
- ``castle.csv``: ``data-raw/castle.dta`` of did2s (Cheng and Hoekstra 2013), columns sid,
  year, effyear, l_homicide, l_assault: the data of the example in didimputation's
  ``man/did_imputation.Rd``.
"""

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def show(repo: str, path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={repo}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def read_rda(repo: str, path: str, name: str) -> pd.DataFrame:
    import rdata  # the peers' venv only (the test collection imports this script)

    tmp = HERE / "_tmp.rda"
    tmp.write_bytes(show(repo, path))
    try:
        return rdata.read_rda(str(tmp))[name]
    finally:
        tmp.unlink()


def main(imp_repo: str, did2s_repo: str) -> None:
    het = read_rda(imp_repo, "data/df_het.rda", "df_het")
    het = het[["unit", "year", "g", "dep_var"]].astype({"unit": int, "year": int, "g": int})
    het.sort_values(["unit", "year"]).to_csv(HERE / "didimputation_df_het.csv.gz", index=False,
                                             compression={"method": "gzip", "mtime": 0},
                                             float_format="%.15g")
    het2 = read_rda(did2s_repo, "data/df_het.rda", "df_het")
    het2 = het2[["unit", "state", "year", "g", "dep_var"]].astype(
        {"unit": int, "state": int, "year": int, "g": int})
    het2.sort_values(["unit", "year"]).to_csv(HERE / "did2s_df_het.csv.gz", index=False,
                                              compression={"method": "gzip", "mtime": 0},
                                              float_format="%.15g")
    castle = pd.read_stata(io.BytesIO(show(did2s_repo, "data-raw/castle.dta")))
    castle = castle[["sid", "year", "effyear", "l_homicide", "l_assault"]].astype(
        {"sid": int, "year": int})
    castle.sort_values(["sid", "year"]).to_csv(HERE / "castle.csv", index=False,
                                               float_format="%.15g")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
