"""The estimator registry: one table that the spec, the study files, the runners, the CLI
and the docs read (issue #11).

Run ``python tests/test_registry.py --write`` to regenerate the docs' option tables.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
import causalpolicing.studies.schema
from causalpolicing.estimators import registry
from causalpolicing.exceptions import SpecError
from causalpolicing.results import BaseResults
from causalpolicing.spec import AnalysisSpec
from causalpolicing.studies import reproduce
from causalpolicing.studies.schema import StudyError, parse_study

ROOT = Path(__file__).resolve().parents[1]
DOCS = {"analysis": (ROOT / "docs" / "analysis.md", False),
        "study": (ROOT / "docs" / "studies.md", True)}
FORMULA = "deaths ~ offences_per_1000 | canton + year"


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- registry:{name} -->\n)(.*?)(<!-- /registry:{name} -->)", re.S)


# ------------------------------------------------------------------- the docs
@pytest.mark.parametrize("name", sorted(DOCS))
def test_docs_option_table_is_what_the_registry_renders(name: str) -> None:
    path, study = DOCS[name]
    found = _block(name).search(path.read_text(encoding="utf-8"))
    assert found, f"{path} lacks the <!-- registry:{name} --> block"
    assert found.group(2) == registry.render_table(study=study), (
        f"{path.name} is out of date: run `python tests/test_registry.py --write`")


def test_importing_the_registry_loads_no_numerical_library() -> None:
    code = ("import sys, causalpolicing.estimators.registry as r; r.names(); "
            "print(','.join(m for m in ('numpy', 'pandas', 'scipy', 'statsmodels') "
            "if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


# ------------------------------------------------------------ the three doors
def _spec(vcov: Any) -> dict[str, Any]:
    return {"data": {"dataset": "simulated_cantons"},
            "models": [{"name": "nb", "estimator": "fenegbin", "formula": FORMULA,
                        "vcov": vcov}],
            "diagnostics": {"feedback": False}, "report": {"figures": []}}


def _study(vcov: Any) -> dict[str, Any]:
    return {"study": {"id": "nb", "title": "NB", "citation": "Nobody (2026)",
                      "status": "reproducible"},
            "data": {"dataset": "simulated_cantons"},
            "models": [{"id": "nb", "estimator": "fenegbin", "formula": FORMULA,
                        "vcov": vcov}],
            "published": [{"model": "nb", "table": "T", "column": "1",
                           "term": "offences_per_1000", "estimate": "0.0"}]}


def test_fenegbin_hac_is_accepted_by_every_door() -> None:
    panel = cp.datasets.load("simulated_cantons")
    direct = cp.fenegbin(FORMULA, panel, vcov="HAC")
    spec = AnalysisSpec.from_dict(_spec("HAC"))
    assert spec.models[0].vcov == "HAC"
    analysis = cp.analyze(spec)
    study = reproduce(parse_study(_study("HAC")))
    for res in (analysis.results["nb"], study.results("nb")):
        assert res.cov_type == direct.cov_type
        assert np.array_equal(res.std_errors.to_numpy(), direct.std_errors.to_numpy())


def test_fenegbin_dk_is_refused_by_every_door_before_data_are_read() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with pytest.raises(SpecError) as python:
        cp.fenegbin(FORMULA, panel, vcov={"DK": "year"})
    with pytest.raises(registry.OptionError) as checked:
        registry.validate_options("fenegbin", {"formula": FORMULA, "vcov": {"DK": "year"}})
    with pytest.raises(SpecError) as spec:
        AnalysisSpec.from_dict(_spec({"DK": "year"}))
    with pytest.raises(StudyError) as study:
        parse_study(_study({"DK": "year"}))
    core = checked.value.detail
    assert str(spec.value) == f"models[0].vcov: {core}"
    assert str(study.value) == f"<study>: models[0] (id 'nb').vcov: {core}"
    # the function refuses it with the same words (both come from check_vcov)
    assert str(python.value) == core
    assert core == ("vcov={'DK': 'year'} (DK) is not available for fenegbin; it takes iid, "
                    "HC0, HC1, CRV1, HAC.")


# ------------------------------------------------------------- a toy estimator
class _ToyResults(BaseResults):
    pass


def difference_of_means(data: Any, outcome: str | None = None,
                        group: str | None = None) -> _ToyResults:
    """Mean of ``outcome`` where ``group`` > its median minus the mean elsewhere.

    Defaults: the Panel's outcome and treatment.
    """
    outcome = outcome or data.outcome
    group = group or data.treatment
    frame = data.to_frame() if hasattr(data, "to_frame") else data
    high = frame[group] > frame[group].median()
    a, b = frame.loc[high, outcome], frame.loc[~high, outcome]
    diff = float(a.mean() - b.mean())
    var = float(a.var() / len(a) + b.var() / len(b))
    return _ToyResults(params=pd.Series({"difference": diff}),
                       cov=pd.DataFrame([[var]], index=["difference"], columns=["difference"]),
                       nobs=len(frame), df_inference=None, cov_type="unequal variances",
                       estimator="difference of means", spec={"outcome": outcome, "group": group})


TOY = registry.EstimatorEntry(
    "toy_difference", f"{__name__}:difference_of_means",
    (registry.Option("outcome", registry.column, "outcome column", kind="column"),
     registry.Option("group", registry.column, "column split at its median", kind="column")),
    None, False, False, False, None, "BaseResults", ("coef",), "difference of means (a toy)")


@pytest.fixture
def toy() -> Any:
    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)


def test_a_registered_estimator_is_known_to_every_door(toy: Any, tmp_path: Path) -> None:
    # the spec validator, and analyze runs it
    spec = AnalysisSpec.from_dict({
        "data": {"dataset": "simulated_cantons"},
        "models": [{"name": "toy", "estimator": "toy_difference", "outcome": "deaths",
                    "group": "offences_per_1000"}],
        "diagnostics": {"feedback": False}, "report": {"figures": []}})
    expected = difference_of_means(cp.datasets.load("simulated_cantons"), "deaths",
                                   "offences_per_1000")
    got = cp.analyze(spec).results["toy"]
    assert got.params["difference"] == expected.params["difference"]
    with pytest.raises(SpecError, match=r"models\[0\]\.group: must be a column name"):
        AnalysisSpec.from_dict({"data": {"dataset": "simulated_cantons"}, "models": [
            {"estimator": "toy_difference", "group": 3}]})
    # the command line: --estimator is checked by the registry, not a list of its own
    from typer.testing import CliRunner

    from causalpolicing.cli import app

    csv = tmp_path / "panel.csv"
    cp.datasets.load("simulated_cantons").to_frame().to_csv(csv, index=False)
    res = CliRunner().invoke(app, [
        "analyze", str(csv), "--unit", "canton", "--time", "year", "--outcome", "deaths",
        "--treatment", "offences_per_1000", "--estimator", "toy_difference",
        "--out", str(tmp_path / "out"), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "report.html").is_file()
    # a study file, reproduced
    raw = _study("iid")
    raw["models"] = [{"id": "nb", "estimator": "toy_difference", "outcome": "deaths",
                      "group": "offences_per_1000"}]
    raw["published"][0].update(term="difference",
                               estimate=f"{expected.params['difference']:.6f}")
    assert reproduce(parse_study(raw)).all_match
    # the docs table
    assert "| `toy_difference` | difference of means (a toy) | – | `outcome`, `group` |" in (
        registry.render_table())


def test_unregistered_estimator_is_gone() -> None:
    assert TOY.name not in registry.names()
    with pytest.raises(registry.OptionError, match="unknown estimator 'toy_difference'"):
        registry.get(TOY.name)


def test_study_only_estimator_is_refused_in_an_analysis_spec() -> None:
    with pytest.raises(SpecError, match=r"models\[0\]\.estimator: 'correlation' is available "
                                        r"in study files only"):
        AnalysisSpec.from_dict({"data": {"dataset": "simulated_cantons"},
                                "models": [{"estimator": "correlation", "x": "a", "y": "b"}]})


def test_registering_a_taken_name_is_an_error() -> None:
    with pytest.raises(SpecError, match="registered already"):
        registry.register(registry.get("feols"))


def _write() -> None:
    for name, (path, study) in DOCS.items():
        text = path.read_text(encoding="utf-8")
        table = registry.render_table(study=study)
        text = _block(name).sub(lambda m, t=table: m.group(1) + t + m.group(3), text)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    _write()
