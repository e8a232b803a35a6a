"""Reference fits, written bit for bit: the check that a refactor changed no number.

Fits every estimator under every covariance type it takes on the bundled
datasets, runs the seeded bootstraps, reproduces the study catalogue, and writes
each number as an exact hexadecimal float (``float.hex``). Run it before and
after a change on the same machine and compare::

    python benchmarks/reference_fits.py --out before.json      # on the old commit
    python benchmarks/reference_fits.py --check before.json    # on the new one

``--check`` exits 1 and lists every number that differs in any bit. The
comparison is exact on purpose and meant for one machine and one environment:
across machines or library versions, floating-point results may differ in the
last bits, and the test suite compares with stated tolerances instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def _hex(x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return float(x).hex()
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, (str, bool)) or x is None:
        return x
    return str(x)


def _frame(df: pd.DataFrame) -> dict[str, Any]:
    return {f"{r}|{c}": _hex(v) for r, row in df.iterrows() for c, v in row.items()}


def _results(res: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update({f"params|{k}": _hex(v) for k, v in res.params.items()})
    out.update({f"se|{k}": _hex(v) for k, v in res.std_errors.items()})
    out.update({f"p|{k}": _hex(v) for k, v in res.pvalues.items()})
    out.update({f"ci|{k}": v for k, v in _frame(res.conf_int(0.9)).items()})
    out.update({f"vcov|{k}": v for k, v in _frame(res.cov).items()})
    g = res.glance()
    out.update({f"glance|{c}": _hex(g[c].iloc[0]) for c in g.columns})
    out["cov_type"] = res.cov_type
    out["warnings"] = " | ".join(res.warnings)
    return out


def cases() -> dict[str, Callable[[], Any]]:
    import causalpolicing as cp

    cantons = cp.datasets.load("simulated_cantons")
    crack = cp.datasets.load("simulated_crackdown")
    nc = cp.datasets.load("nc_crime")
    rate = "deaths_per_100k ~ offences_per_1000 + unemployment | canton + year"
    pois = "deaths ~ offences_per_1000 + unemployment | canton + year"
    df = cantons.to_frame()
    df["deaths_per_100k"] = df["deaths"] / df["population"] * 1e5
    df["users"] = (df["population"] * 0.01).round()
    c: dict[str, Callable[[], Any]] = {}
    linear_v = ["iid", "hetero", "HC3", {"CRV1": "canton"}, {"CRV1": "canton+year"},
                {"CRV3": "canton"}, {"DK": "year"}]
    for v in linear_v:
        if v == "HC3":
            c[f"feols nofe {v}"] = lambda v=v: cp.feols(rate.split("|")[0], df, vcov=v)
            continue
        c[f"feols {v}"] = lambda v=v: cp.feols(rate, df, vcov=v)
        for ssc in ("stata_xtreg", "stata_areg", "linearmodels", "none"):
            c[f"feols {v} {ssc}"] = lambda v=v, ssc=ssc: cp.feols(rate, df, vcov=v, ssc=ssc)
    c["feols weights"] = lambda: cp.feols(rate, df, vcov={"CRV1": "canton"}, weights="population")
    c["feols iv"] = lambda: cp.feols("deaths_per_100k ~ unemployment | canton + year | "
                                     "offences_per_1000 ~ neighbour_offences_per_1000", df,
                                     vcov={"CRV1": "canton"})
    for v in ["iid", "hetero", {"CRV1": "canton"}, {"CRV3": "canton"}, {"DK": "year"}]:
        c[f"fepois {v}"] = lambda v=v: cp.fepois(pois, df, exposure="population", vcov=v)
    c["fepois ssc none"] = lambda: cp.fepois(pois, df, exposure="population",
                                             vcov={"CRV1": "canton"}, ssc="none")
    for v in ["iid", "hetero", "HC0", {"CRV1": "canton"}]:
        c[f"fenegbin {v}"] = lambda v=v: cp.fenegbin(pois, df, exposure="population", vcov=v)
        c[f"febinomial {v}"] = lambda v=v: cp.febinomial(
            "deaths ~ offences_per_1000 | canton + year", df, trials="users", vcov=v)
    c["between"] = lambda: cp.between("deaths_per_100k ~ offences_per_1000", df.assign(
        canton=df["canton"]), unit="canton")
    c["first_difference"] = lambda: cp.first_difference(
        "deaths_per_100k ~ offences_per_1000", df, unit="canton", time="year",
        vcov={"CRV1": "canton"})
    c["distributed_lag fepois"] = lambda: cp.distributed_lag(
        cantons, outcome="deaths", treatment="offences_per_1000", lags=2, leads=1,
        estimator="fepois", exposure="population", vcov={"CRV1": "canton"})
    c["nc feols"] = lambda: cp.feols("lcrmrte ~ lprbarr + lprbconv | county + year",
                                     nc.to_frame(), vcov={"CRV1": "county"})
    c["crackdown feols"] = lambda: cp.feols(
        f"{crack.outcome} ~ {crack.treatment} | {crack.unit} + {crack.time}", crack,
        vcov={"CRV1": crack.unit})
    return c


def bootstraps() -> dict[str, Callable[[], Any]]:
    import causalpolicing as cp

    df = cp.datasets.load("simulated_cantons").to_frame()
    df["deaths_per_100k"] = df["deaths"] / df["population"] * 1e5
    lin = cp.feols("deaths_per_100k ~ offences_per_1000 | canton + year", df,
                   vcov={"CRV1": "canton"})
    poi = cp.fepois("deaths ~ offences_per_1000 | canton + year", df, exposure="population",
                    vcov={"CRV1": "canton"})
    return {
        "wild": lambda: cp.inference.wild_bootstrap(lin, "offences_per_1000", reps=199, seed=1,
                                                    data=df),
        "score": lambda: cp.inference.poisson_bootstrap(poi, "offences_per_1000", reps=199,
                                                        seed=1, data=df),
    }


def collect() -> dict[str, Any]:
    import causalpolicing as cp

    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fit in cases().items():
            try:
                out[name] = _results(fit())
            except Exception as exc:  # a refusal is a result too
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        for name, run in bootstraps().items():
            b = run()
            out[f"bootstrap {name}"] = {
                a: _hex(getattr(b, a)) for a in dir(b) if not a.startswith("_")
                and isinstance(getattr(b, a), (float, int, np.floating, np.integer, str))}
        studies = cp.studies.list_studies()
        for sid in studies.loc[studies["status"] != "needs data", "id"]:
            out[f"study {sid}"] = _frame(cp.reproduce(sid).table.reset_index(drop=True))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="write the reference numbers to this JSON file")
    ap.add_argument("--check", help="compare with this JSON file, bit for bit")
    args = ap.parse_args(argv)
    now = collect()
    n = sum(len(v) for v in now.values())
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(now, fh, indent=1, sort_keys=True)
        print(f"wrote {n} numbers from {len(now)} fits to {args.out}")
    if args.check:
        with open(args.check) as fh:
            before = json.load(fh)
        diffs = []
        for case in sorted(set(before) | set(now)):
            b, a = before.get(case, {}), now.get(case, {})
            for key in sorted(set(b) | set(a)):
                if b.get(key) != a.get(key):
                    diffs.append(f"{case} | {key}: {b.get(key)!r} -> {a.get(key)!r}")
        for d in diffs[:50]:
            print(d)
        print(f"{n} numbers from {len(now)} fits compared: {len(diffs)} differ")
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
