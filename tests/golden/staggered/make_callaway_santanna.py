"""Golden values for tests/test_callaway_santanna.py from moderndid and csdid (ports of R ``did``).

Run with the peers' venv (not a project dependency)::

    /work/venv-peers/bin/python tests/golden/staggered/make_callaway_santanna.py

Versions used: moderndid 0.2.0, csdid 0.4.3 (+ drdid 1.1.7), numpy 2.4, pandas 3.1,
Python 3.11. Every case is R ``did::att_gt`` / ``aggte`` with ``bstrap=FALSE``
(analytic standard errors from the influence functions) on R's ``mpdta``
(``mpdta.csv`` here, from moderndid's copy). Writes ``callaway_santanna.json``: per
case the ATT(g,t) table and the four aggregations (overall and per group / event
time / period) with analytic SEs, and which port produced it.

moderndid 0.2.0 computes the balanced-panel cases; it fails on unbalanced panels
(``allow_unbalanced_panel=True`` crashes in ``run_att_gt_estimation``) and does
not cluster analytically (it warns and ignores ``clustervars`` without the
bootstrap), and with sampling weights its aggregations differ from R's (its
ATT(g,t) agree; R ``did``'s ``compute.aggte`` weights the cohorts by
``pg = mean(.w * (G == g))``, the sampling-weighted shares, which csdid and
causalpolicing reproduce), so those cases come from csdid 0.4.3, which follows R ``did`` 2.5
(analytic cluster-robust SEs from cluster sums of the influence function; the
unbalanced panel through the repeated-cross-section estimators). Every balanced
case is also run through csdid; the largest differences between the two ports are
printed (they agree to ~1e-12 here).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def mpdta() -> pd.DataFrame:
    df = pd.read_csv(HERE / "mpdta.csv")
    df["state"] = df["countyreal"] // 1000          # FIPS state code (clusters)
    # a time-invariant sampling weight per county, deterministic
    df["w"] = 0.5 + (df["countyreal"] * 7919 % 1000) / 1000.0
    return df


def unbalanced() -> pd.DataFrame:
    """mpdta with ~8% of rows dropped deterministically (every county keeps >= 3 years)."""
    df = mpdta()
    drop = ((df["countyreal"] * 31 + df["year"] * 17) % 13 == 0) & (df["year"] != 2003)
    return df.loc[~drop].reset_index(drop=True)


CASES = {
    "dr": {},
    "reg": {"est_method": "reg"},
    "ipw": {"est_method": "ipw"},
    "dr_lpop": {"xformla": "~lpop"},
    "ipw_lpop": {"xformla": "~lpop", "est_method": "ipw"},
    "reg_lpop": {"xformla": "~lpop", "est_method": "reg"},
    "nyt": {"control_group": "notyettreated"},
    "nyt_lpop": {"control_group": "notyettreated", "xformla": "~lpop"},
    "antic1": {"anticipation": 1},
    "universal": {"base_period": "universal"},
    "universal_nyt_lpop": {"base_period": "universal", "control_group": "notyettreated",
                           "xformla": "~lpop"},
    "weights": {"weightsname": "w", "xformla": "~lpop"},
    "cluster": {"clustervars": ["countyreal", "state"]},
    "unbal_dr": {"allow_unbalanced_panel": True, "data": "unbalanced"},
    "unbal_dr_lpop": {"allow_unbalanced_panel": True, "data": "unbalanced", "xformla": "~lpop"},
    "unbal_ipw_lpop": {"allow_unbalanced_panel": True, "data": "unbalanced", "xformla": "~lpop",
                       "est_method": "ipw"},
    "unbal_reg_lpop": {"allow_unbalanced_panel": True, "data": "unbalanced", "xformla": "~lpop",
                       "est_method": "reg"},
    "unbal_nyt": {"allow_unbalanced_panel": True, "data": "unbalanced",
                  "control_group": "notyettreated"},
}


def floats(x) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(x, dtype=float).ravel()]


def nan(x: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def run_csdid(case: dict) -> dict:
    from csdid.att_gt import ATTgt

    case = dict(case)
    data = unbalanced() if case.pop("data", None) == "unbalanced" else mpdta()
    cluster = [c for c in case.pop("clustervars", []) if c != "countyreal"]
    m = ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first.treat", data=data,
              control_group=[case.pop("control_group", "nevertreated")],
              xformla=case.pop("xformla", None), anticipation=case.pop("anticipation", 0),
              allow_unbalanced_panel=case.pop("allow_unbalanced_panel", False),
              weights_name=case.pop("weightsname", None),
              clustervar=cluster[0] if cluster else None)
    m.fit(est_method=case.pop("est_method", "dr"), base_period=case.pop("base_period", "varying"),
          bstrap=False)
    assert not case, case
    out = {"att_gt": {"group": floats(m.MP["group"]), "time": floats(m.MP["t"]),
                      "att": floats(m.results["att"]), "se": floats(m.results["se"])},
           "wald_pvalue": None if m.MP["Wpval"] is None else float(m.MP["Wpval"]),
           "n_units": int(m.MP["n"]), "port": "csdid 0.4.3"}
    for kind in ("simple", "dynamic", "group", "calendar"):
        m.aggte(typec=kind, bstrap=False, cband=False)
        a = m.atte
        entry = {"att": float(a["overall_att"]), "se": float(a["overall_se"])}
        if kind != "simple":
            entry.update({"egt": floats(a["egt"]), "att_egt": floats(a["att_egt"]),
                          "se_egt": floats(a["se_egt"])})
        out[kind] = entry
    return out


def run(case: dict) -> dict:
    import moderndid as md  # the port is imported here only, so the test collection can import

    case = dict(case)
    data = unbalanced() if case.pop("data", None) == "unbalanced" else mpdta()
    r = md.att_gt(data, yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                  boot=False, cband=False, **case)
    out = {"att_gt": {"group": floats(r.groups), "time": floats(r.times),
                      "att": floats(r.att_gt), "se": floats(r.se_gt)},
           "wald_pvalue": None if r.wald_pvalue is None else float(r.wald_pvalue),
           "n_units": int(r.n_units), "port": "moderndid 0.2.0"}
    for kind in ("simple", "dynamic", "group", "calendar"):
        a = md.aggte(r, type=kind)
        entry = {"att": float(a.overall_att), "se": float(a.overall_se)}
        if kind != "simple":
            entry.update({"egt": floats(a.event_times), "att_egt": floats(a.att_by_event),
                          "se_egt": floats(a.se_by_event)})
        out[kind] = entry
    return out


def main() -> None:
    result = {"_source": "moderndid 0.2.0 / csdid 0.4.3 att_gt+aggte (bstrap=FALSE), see "
                         "make_callaway_santanna.py"}
    for name, case in CASES.items():
        with contextlib.redirect_stdout(io.StringIO()):  # csdid prints its summaries
            csd = run_csdid(case)
        if case.get("data") == "unbalanced" or "clustervars" in case or "weightsname" in case:
            result[name] = csd
        else:
            result[name] = run(case)
            a, b = result[name], csd
            diff = max(np.nanmax(np.abs(nan(a["att_gt"][k]) - nan(b["att_gt"][k])))
                       for k in ("att", "se"))
            diff = max(diff, *(abs(a[k]["se"] - b[k]["se"]) for k in ("simple", "dynamic",
                                                                      "group", "calendar")))
            print(f"{name}: moderndid vs csdid max |diff| {diff:.2e}")
        print(name, result[name]["port"], result[name]["simple"])
    (HERE / "callaway_santanna.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
