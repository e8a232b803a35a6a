"""Column names that are not Python identifiers, end to end (issue 10, item 3).

A small panel whose unit, time, outcome, treatment and covariate columns are
``Kanton name``, ``Jahr``, ``Todesfälle (n)``, ``C(x)`` and ``log(y)`` (plus a
mediator ``Anteil m (%)``) goes through ``causalpolicing validate``,
``causalpolicing analyze`` (default models from the roles; a spec with a
``[causal]`` graph, refutations and mediation) and the Python API with a user
formula in back-ticks. Every formula the toolkit builds for the user must quote
the names; tables and reports show them as the user wrote them.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.graph import CausalGraph

UNIT, TIME, Y, X, W, M = "Kanton name", "Jahr", "Todesfälle (n)", "C(x)", "log(y)", "Anteil m (%)"
ROLES = ["--unit", UNIT, "--time", TIME, "--outcome", Y, "--treatment", X, "--covariate", W]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    rows = []
    for u in range(8):
        for t in range(2000, 2010):
            x, w = rng.normal(), rng.normal()
            m = 0.5 * x + rng.normal()
            rows.append({UNIT: f"K {u}", TIME: t, X: x, W: w, M: m,
                         Y: int(rng.poisson(np.exp(1 + 0.2 * x + 0.1 * w + 0.1 * m)))})
    path = tmp_path_factory.mktemp("names") / "daten.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8")
    return path


def test_validate_accepts_the_names(data: Path) -> None:
    res = run("validate", str(data), *ROLES)
    assert res.returncode == 0, res.stderr
    assert X in res.stdout


def test_analyze_with_roles_quotes_the_default_formulas(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run("analyze", str(data), *ROLES, "--out", str(out), "--bootstrap", "0",
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert (out / "report.html").is_file()
    tidy = pd.read_csv(next(out.rglob("tidy.csv")))
    assert set(tidy["term"]) == {X, W}  # coefficient names are the user's column names
    table = (out / "tables" / "estimates.md").read_text(encoding="utf-8")
    for name in (X, W, Y, f"{UNIT} FE", f"{TIME} FE"):
        assert name in table
    assert "`" not in table
    saved = cp.load_results(out / "results" / "feols.json")
    # the formula written for the user is the one a user would write
    assert saved.spec["formula"] == "`Todesfälle (n)` ~ `C(x)` + `log(y)` | `Kanton name` + Jahr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clusters
        direct = cp.feols("`Todesfälle (n)` ~ `C(x)` + `log(y)` | `Kanton name` + Jahr",
                          pd.read_csv(data), vcov={"CRV1": UNIT})
    assert f"{direct.params[X]:.3f}" in table


def test_analyze_with_a_causal_graph(data: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(f"""
[data]
path = {str(data)!r}
unit = "{UNIT}"
time = "{TIME}"
outcome = ["{Y}"]
treatment = ["{X}"]
covariates = ["{W}"]

[causal]
graph = 'digraph {{ "{W}" -> "{X}"; "{W}" -> "{Y}"; "{X}" -> "{M}" -> "{Y}"; "{X}" -> "{Y}"; }}'
refute = ["placebo_permutation", "placebo_lead", "leave_one_unit_out", "random_common_cause"]
reps = 3
mediator = "{M}"
""", encoding="utf-8")
    out = tmp_path / "out"
    res = run("analyze", "--config", str(spec), "--out", str(out), "--bootstrap", "0",
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    refutations = pd.read_csv(out / "diagnostics" / "refutations.csv")
    assert set(refutations["term"]) == {X}
    assert refutations["estimate"].notna().all()
    implications = pd.read_csv(out / "diagnostics" / "implications.csv")
    assert {W, M} <= set(implications["x"]) | set(implications["y"])
    assert pd.read_csv(out / "diagnostics" / "sensitivity.csv")["term"].tolist() == [X]
    assert (out / "diagnostics" / "mediation.csv").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"The effect of '{X}' on '{Y}'" in report  # the causal section, names as written
    assert f"through {M}" in report


def test_api_with_a_backticked_formula_and_graph(data: Path) -> None:
    panel = cp.load_panel(data, unit=UNIT, time=TIME, outcome=Y, treatment=X, covariates=[W])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.fepois("`Todesfälle (n)` ~ `C(x)` + `log(y)` | `Kanton name` + Jahr", panel)
        graph = CausalGraph.from_dot(
            f'digraph {{ "{W}" -> "{X}"; "{W}" -> "{Y}"; "{X}" -> "{Y}"; }}')
        ge = cp.graph.estimate(panel, graph, treatment=X, outcome=Y)
        dowhy = cp.graph.dowhy_model(panel, graph, X, Y)
        dowhy_linear = dowhy.estimate_effect(dowhy.identify_effect(), "backdoor.linear_regression")
    assert CausalGraph.from_dot(graph.to_dot()) == graph
    assert ge.identification.minimal == (W,)
    assert f"E[{Y}|{W}]" in ge.identification.estimand  # DoWhy's estimand, names as written
    assert np.isfinite(dowhy_linear.value)
    assert list(res.params.index) == [X, W]
    assert res.spec["depvar"] == Y
    assert ge.formula == "`Todesfälle (n)` ~ `C(x)` + `log(y)` | `Kanton name` + Jahr"
    assert ge.term == X
    assert ge.effect == pytest.approx(float(ge.results.params[X]), rel=1e-12)
    assert np.isfinite(ge.std_error)
