"""The de Chaisemartin-D'Haultfœuille weights (twfe_weights) against R and the Python port.

References
----------
R ``TwoWayFEWeights`` (chaisemartinPackages/twowayfeweights, commit 74fb015,
2024-07-23), ``R/inst/tinytest/test_wagepan.R``: ``est_fetr_known`` for
``twowayfeweights(wagepan, "lwage", "nr", "year", "union", type = "feTR")`` on the
repository's ``wagepan_twfeweights`` data (columns vendored in
``tests/golden/staggered/wagepan_twfeweights.csv``). The R values are printed to
about seven digits; the beta printed there (0.10662746641838491) differs from the
exact one on the CSV by 8e-9 relative (the .dta's float storage).
``twfe_weights_port.json``: the Python port ``twowayfeweights`` 0.1.0 (a line-by-line
port of the Stata command), written by ``make_twfe_weights.py`` in the peers venv.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.diagnostics import TWFEWeights, twfe_weights
from causalpolicing.exceptions import SpecError

GOLDEN = Path(__file__).parent / "golden" / "staggered"


@pytest.fixture(scope="module")
def wagepan() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "wagepan_twfeweights.csv")


@pytest.fixture(scope="module")
def port() -> dict:
    return json.loads((GOLDEN / "twfe_weights_port.json").read_text())


@pytest.fixture(scope="module")
def wage_fit(wagepan) -> TWFEWeights:
    return twfe_weights(wagepan, outcome="lwage", treatment="union", unit="nr", time="year")


def test_wagepan_matches_r(wage_fit) -> None:
    # R est_fetr_known; counts exact, sums/sigmas as printed (7 digits: 1e-6 relative)
    assert (wage_fit.n_positive, wage_fit.n_negative, wage_fit.n_weights) == (820, 147, 967)
    assert len(wage_fit.weights) == 1016  # tot_cells: treated cells
    assert wage_fit.sum_positive == pytest.approx(1.010529, rel=1e-6)
    assert wage_fit.sum_negative == pytest.approx(-0.01052899, rel=1e-6)
    assert wage_fit.beta == pytest.approx(0.10662746641838491, rel=1e-7)
    assert wage_fit.sigma_zero == pytest.approx(0.0968691, rel=1e-6)
    assert wage_fit.sigma_sign == pytest.approx(3.175859, rel=1e-6)


@pytest.mark.parametrize("case", ["wagepan", "wagepan_educ_control", "mpdta"])
def test_matches_python_port(case, port, wagepan) -> None:
    ref = port[case]
    if case == "mpdta":
        d = pd.read_csv(GOLDEN / "mpdta.csv")
        d["post"] = ((d["first.treat"] > 0) & (d["year"] >= d["first.treat"])).astype(float)
        w = twfe_weights(d, outcome="lemp", treatment="post", unit="countyreal", time="year")
    else:
        controls = ["ex"] if case.endswith("control") else []
        d = wagepan.assign(ex=wagepan.educ * (wagepan.year - 1980))
        w = twfe_weights(d, outcome="lwage", treatment="union", unit="nr", time="year",
                         controls=controls)
    assert (w.n_positive, w.n_negative) == (ref["nr_plus"], ref["nr_minus"])
    # estimates 1e-6 relative (issue #12 tolerance for point estimates)
    for ours, theirs in [(w.beta, "beta"), (w.sum_positive, "sum_plus"),
                         (w.sum_negative, "sum_minus"), (w.sigma_zero, "sensibility"),
                         (w.sigma_sign, "sensibility2")]:
        assert ours == pytest.approx(ref[theirs], rel=1e-6)
    got = {f"{a}_{b}": v for a, b, v in w.weights.iloc[:, [0, 1, 4]].itertuples(index=False)}
    got = {k: v for k, v in got.items() if v != 0}
    assert got.keys() == ref["weights"].keys()
    for k, v in ref["weights"].items():  # per-cell weights: 1e-6 relative, 1e-12 absolute
        assert got[k] == pytest.approx(v, rel=1e-6, abs=1e-12)


def test_beta_is_the_twfe_coefficient(wagepan, wage_fit) -> None:
    fit = cp.feols("lwage ~ union | nr + year", wagepan)
    assert wage_fit.beta == pytest.approx(float(fit.params["union"]), rel=1e-9)


def test_weights_sum_to_one(wage_fit) -> None:
    assert float(wage_fit.weights["weight"].sum()) == pytest.approx(1.0, abs=1e-10)


def test_no_negative_weights_with_one_cohort() -> None:
    # a single adoption date and never-treated units: the 2x2 DiD, every weight equal
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": np.repeat(np.arange(20), 6), "t": np.tile(np.arange(6), 20)})
    df["d"] = ((df.u < 8) & (df.t >= 3)).astype(float)
    df["y"] = df.d + rng.normal(size=len(df))
    w = twfe_weights(df, outcome="y", treatment="d", unit="u", time="t")
    assert w.n_negative == 0 and w.sigma_sign is None
    assert np.allclose(w.weights["weight"], 1 / 24)
    assert w.narrative().startswith("All 24 weights")


def test_summary_tidy_narrative(wage_fit) -> None:
    s = wage_fit.summary()
    assert s["n"].tolist() == [820, 147, 967]
    assert wage_fit.tidy().loc[0, "n_negative"] == 147
    assert wage_fit.narrative().startswith("147 of 967 weights")


@pytest.mark.parametrize(("kw", "match"), [
    ({"type": "fdTR"}, "type='feTR'"),
    ({"treatment": "unionn"}, "treatment='unionn' is not a column"),
    ({"controls": ["nope"]}, "controls='nope'"),
])
def test_refusals(wagepan, kw, match) -> None:
    opts = {"outcome": "lwage", "treatment": "union", "unit": "nr", "time": "year"}
    with pytest.raises(SpecError, match=match):
        twfe_weights(wagepan, **{**opts, **kw})


def test_refuses_treatment_absorbed_by_fixed_effects(wagepan) -> None:
    with pytest.raises(SpecError, match="no variation left"):
        twfe_weights(wagepan, outcome="lwage", treatment="educ", unit="nr", time="year")


def test_the_docs_example_runs() -> None:
    import re

    text = (Path(__file__).parents[1] / "docs" / "analysis.md").read_text(encoding="utf-8")
    section = text.split("## Diagnostics from Python: the de Chaisemartin")[1].split("\n## ")[0]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    scope: dict = {}
    exec(compile(block, "docs/analysis.md", "exec"), scope)  # noqa: S102 - our own docs
    # the same TWFE coefficient as the Goodman-Bacon decomposition of the castle panel
    assert scope["w"].beta == pytest.approx(0.069398, abs=5e-7)
