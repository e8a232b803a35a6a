"""Write the HonestDiD inputs and the Python ports' outputs for tests/test_honest_did.py.

Run with the peers venv (it has the ports; the project's tests never import them):

    /work/venv-peers/bin/python tests/golden/staggered/make_honest_did.py

Versions used: moderndid 0.2.0 (didhonest), honestdid 0.1.1, pyfixest 0.60.0, rdata 1.1.0,
numpy 2.4.6, scipy 1.17.1.

Inputs (``honest_did_inputs.json``):

* ``medicaid``: the event study of R HonestDiD's README ("Example usage -- Medicaid
  expansions"): ``fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year,
  cluster = "stfips")`` on the ACS/Medicaid panel ``ehec_data`` (Mixtape-Sessions
  Advanced-DID), years < 2016, the 2015 cohort dropped, ``D = (yexp2 == 2014)``. The panel
  is read from moderndid's bundled copy and refitted with pyfixest (CRV1 by state, fixest's
  small-sample defaults); the nonstaggered panel itself is written to
  ``ehec_nonstaggered.csv`` for the end-to-end test with ``cp.event_study``.
* ``bc``: ``BCdata_EventStudy`` (Benzarti & Carloni 2019, profits; Rambachan & Roth 2023,
  Section 6.1), read from the R package's ``data/BCdata_EventStudy.rda``
  (github.com/asheshrambachan/HonestDiD, commit 6813f02).

R's own results (``honest_did_r_readme.json``): the README of R HonestDiD is rendered by knitr
with a cache, and the cache (``README_cache/gfm/*.rdb``, commit 6813f02) holds the objects the
README printed at full precision; they are read with rdata (``python make_honest_did.py r``
rewrites only this file). Chunk 4 is the table printed in the README (relative magnitudes,
Mbar 0.5-2), chunk 5 an earlier rendering of the same call with Mbar 0-2, chunk 6 the
smoothness table and chunk 7 the relative magnitudes for the average of the two post-periods.

Port outputs (``honest_did_ports.json``): moderndid's ``create_sensitivity_results_sm`` /
``_rm`` and honestdid's ``createSensitivityResults`` / ``_relativeMagnitudes`` on the
same inputs (honestdid's entry holds the error message if it fails).
"""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
MIRROR = "/work/.mirror/asheshrambachan+HonestDiD/repo"


def medicaid() -> tuple[dict, pd.DataFrame]:
    import moderndid
    import pyfixest as pf

    path = Path(moderndid.__file__).parent / "core" / "datasets" / "ehec_data.pkl.gz"
    df = pd.read_pickle(path)  # noqa: S301 (the file bundled with the installed moderndid)
    d = df[(df["year"] < 2016) & (df["yexp2"].isna() | (df["yexp2"] != 2015))].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    fit = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", data=d,
                   vcov={"CRV1": "stfips"})
    beta = fit.coef()
    panel = d[["stfips", "year", "dins", "yexp2"]].sort_values(["stfips", "year"])
    return ({"terms": list(beta.index), "betahat": beta.tolist(),
             "sigma": np.asarray(fit._vcov).tolist(), "num_pre": 5, "num_post": 2}, panel)


def bc() -> dict:
    import rdata

    raw = subprocess.run(["git", f"--git-dir={MIRROR}", "show",
                          "HEAD:data/BCdata_EventStudy.rda"], capture_output=True,
                         check=True).stdout
    tmp = HERE / "_bc.rda"
    tmp.write_bytes(raw)
    try:
        bcd = rdata.conversion.convert(rdata.parser.parse_file(tmp))["BCdata_EventStudy"]
    finally:
        tmp.unlink()
    return {"betahat": np.asarray(bcd["betahat"], float).tolist(),
            "sigma": np.asarray(bcd["sigma"], float).tolist(),
            "time": np.asarray(bcd["timeVec"], float).tolist(),
            "num_pre": 4, "num_post": 4}


CASES = {  # name: (input, method, grid, l_vec)
    "medicaid_rm": ("medicaid", "rm", [0.5, 1.0, 1.5, 2.0], None),
    "medicaid_rm_avg": ("medicaid", "rm", [0.0, 0.5, 1.0, 1.5, 2.0], [0.5, 0.5]),
    "medicaid_sd": ("medicaid", "sd", [0.0, 0.01, 0.02, 0.03, 0.04, 0.05], None),
    "medicaid_sd_avg": ("medicaid", "sd", [0.0, 0.01, 0.02, 0.03], [0.5, 0.5]),
    "bc_sd": ("bc", "sd", [0.0, 0.1, 0.2, 0.3], None),
    "bc_rm": ("bc", "rm", [0.0, 0.5, 1.0], None),
    "medicaid1_rm": ("medicaid1", "rm", [0.0, 0.5, 1.0, 2.0], None),
    "medicaid1_sd": ("medicaid1", "sd", [0.0, 0.01, 0.02], None),
}


def run_moderndid(inp: dict, method: str, grid: list, l_vec: list | None) -> dict:
    try:
        return _run_moderndid(inp, method, grid, l_vec)
    except Exception as exc:  # the port is recorded as failing, with the reason
        return {"error": f"{type(exc).__name__}: {exc}",
                "traceback_tail": traceback.format_exc().strip().splitlines()[-3:]}


def _run_moderndid(inp: dict, method: str, grid: list, l_vec: list | None) -> dict:
    import moderndid.didhonest as mh

    kw = {"betahat": np.asarray(inp["betahat"]), "sigma": np.asarray(inp["sigma"]),
          "num_pre_periods": inp["num_pre"], "num_post_periods": inp["num_post"]}
    if l_vec is not None:
        kw["l_vec"] = np.asarray(l_vec)
    if method == "rm":
        out = mh.create_sensitivity_results_rm(m_bar_vec=grid, **kw)
    else:
        out = mh.create_sensitivity_results_sm(m_vec=grid, **kw)
    return {"lb": [float(x) for x in out["lb"]], "ub": [float(x) for x in out["ub"]]}


def run_honestdid(inp: dict, method: str, grid: list, l_vec: list | None) -> dict:
    try:
        import honestdid as hd

        kw = {"betahat": np.asarray(inp["betahat"]), "sigma": np.asarray(inp["sigma"]),
              "numPrePeriods": inp["num_pre"], "numPostPeriods": inp["num_post"]}
        if l_vec is not None:
            kw["l_vec"] = np.asarray(l_vec)
        if method == "rm":
            out = hd.createSensitivityResults_relativeMagnitudes(Mbarvec=grid, **kw)
        else:
            out = hd.createSensitivityResults(Mvec=grid, **kw)
        return {"lb": [float(x) for x in out["lb"]], "ub": [float(x) for x in out["ub"]]}
    except Exception as exc:  # the port is recorded as failing, with the reason
        return {"error": f"{type(exc).__name__}: {exc}",
                "traceback_tail": traceback.format_exc().strip().splitlines()[-3:]}


def r_readme() -> dict:
    import gzip
    import warnings
    import zlib

    import rdata

    git = ["git", f"--git-dir={MIRROR}"]
    names = subprocess.run(git + ["ls-tree", "--name-only", "HEAD", "README_cache/gfm/"],
                           capture_output=True, text=True, check=True).stdout.split()
    wanted = {4: "delta_rm_results", 5: "delta_rm_results", 6: "delta_sd_results",
              7: "delta_rm_results_avg"}
    out = {"source": "github.com/asheshrambachan/HonestDiD@6813f02 README_cache/gfm"}
    for chunk, var in wanted.items():
        rdx = next(n for n in names if f"unnamed-chunk-{chunk}_" in n and n.endswith(".rdx"))
        show = lambda path: subprocess.run(git + ["show", f"HEAD:{path}"],  # noqa: E731
                                           capture_output=True, check=True).stdout
        index = rdata.conversion.convert(rdata.parser.parse_data(gzip.decompress(show(rdx))))
        off, length = (int(x) for x in index["variables"][var])
        blob = show(rdx[:-4] + ".rdb")[off:off + length]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = rdata.conversion.convert(rdata.parser.parse_data(zlib.decompress(blob[4:])))
        m = "M" if "M" in frame.columns else "Mbar"
        out[f"chunk{chunk}"] = {"object": var, "file": rdx[:-4].split("/")[-1],
                                m: frame[m].astype(float).tolist(),
                                "lb": frame["lb"].astype(float).tolist(),
                                "ub": frame["ub"].astype(float).tolist()}
    return out


def main() -> None:
    (HERE / "honest_did_r_readme.json").write_text(json.dumps(r_readme(), indent=1) + "\n")
    if sys.argv[1:] == ["r"]:
        return
    med, panel = medicaid()
    # one post-period (2014 only): the no-nuisance-parameter path
    med1 = {"betahat": med["betahat"][:6], "sigma": [r[:6] for r in med["sigma"][:6]],
            "num_pre": 5, "num_post": 1}
    inputs = {"medicaid": med, "bc": bc(), "medicaid1": med1}
    (HERE / "honest_did_inputs.json").write_text(
        json.dumps({k: v for k, v in inputs.items() if k != "medicaid1"}, indent=1) + "\n")
    panel.to_csv(HERE / "ehec_nonstaggered.csv", index=False)  # full precision (repr)
    ports: dict = {"versions": {}, "cases": {}}
    import moderndid

    ports["versions"]["moderndid"] = moderndid.__version__
    try:
        import honestdid

        ports["versions"]["honestdid"] = honestdid.__version__
    except Exception as exc:
        ports["versions"]["honestdid"] = f"import failed: {exc}"
    ports["versions"]["numpy"] = np.__version__
    for name, (which, method, grid, l_vec) in CASES.items():
        inp = inputs[which]
        print(name, file=sys.stderr)
        ports["cases"][name] = {"input": which, "method": method, "grid": grid, "l_vec": l_vec,
                                "moderndid": run_moderndid(inp, method, grid, l_vec),
                                "honestdid": run_honestdid(inp, method, grid, l_vec)}
    (HERE / "honest_did_ports.json").write_text(json.dumps(ports, indent=1) + "\n")


if __name__ == "__main__":
    main()
