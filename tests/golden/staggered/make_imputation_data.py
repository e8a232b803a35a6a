"""Vendor the data behind R ``didimputation``'s published outputs (run once, by hand).

Run with the peers' venv: ``/work/venv-peers/bin/python tests/golden/staggered/make_imputation_data.py
DIDIMPUTATION_REPO DID2S_REPO`` (two git directories of github.com/kylebutts/didimputation at
906648e192e0efec9939082cbfcb099dc2d94138 and github.com/kylebutts/did2s at
8228c158ef39201cf7c6617201efdec2582f210f; Python package ``rdata`` 1.1.0 reads the ``.rda``).

Writes
- ``didimputation_df_het.csv.gz``: ``data/df_het.rda`` of didimputation (NOT pyfixest's df_het,
  a different draw), columns unit, year, g, dep_var: the data of didimputation's README
  (static ATT 2.262952 and the event study).
- ``castle.csv``: ``data-raw/castle.dta`` of did2s (Cheng and Hoekstra 2013), columns sid,
  year, effyear, l_homicide, l_assault: the data of the example in didimputation's
  ``man/did_imputation.Rd``.
"""

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import rdata

HERE = Path(__file__).resolve().parent


def show(repo: str, path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={repo}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def main(imp_repo: str, did2s_repo: str) -> None:
    raw = show(imp_repo, "data/df_het.rda")
    tmp = HERE / "_df_het.rda"
    tmp.write_bytes(raw)
    try:
        het = rdata.read_rda(str(tmp))["df_het"]
    finally:
        tmp.unlink()
    het = het[["unit", "year", "g", "dep_var"]].astype({"unit": int, "year": int, "g": int})
    het.sort_values(["unit", "year"]).to_csv(HERE / "didimputation_df_het.csv.gz", index=False,
                                             compression={"method": "gzip", "mtime": 0},
                                             float_format="%.15g")
    castle = pd.read_stata(io.BytesIO(show(did2s_repo, "data-raw/castle.dta")))
    castle = castle[["sid", "year", "effyear", "l_homicide", "l_assault"]].astype(
        {"sid": int, "year": int})
    castle.sort_values(["sid", "year"]).to_csv(HERE / "castle.csv", index=False,
                                               float_format="%.15g")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
