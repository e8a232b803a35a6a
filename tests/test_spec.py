"""The analysis spec: validation before anything runs, TOML round trip, no code execution."""

from __future__ import annotations

from pathlib import Path

import pytest

from causalpolicing.exceptions import SpecError
from causalpolicing.spec import (
    AnalysisSpec,
    CausalSpec,
    DataSpec,
    ModelSpec,
    ReportSpec,
    default_spec,
    spec_from_options,
)

GOOD = """
[data]
dataset = "simulated_cantons"
rates = ["deaths"]

[[models]]
name = "Poisson"
estimator = "fepois"
formula = "deaths ~ offences_per_1000 | canton + year"
vcov = { CRV1 = "canton" }
bootstrap = 199

[[models]]
estimator = "distributed_lag"
lags = 3
leads = 1

[diagnostics]
feedback = false

[causal]
graph = "template:enforcement_mortality_minimal"
columns = { enforcement = "offences_per_1000" }
latent = ["market_size"]
refute = ["placebo_permutation", "placebo_lead"]
reps = 50

[report]
title = "T"
level = 0.9
change = "sd"
figures = ["coefficients"]
tables = ["latex", "csv"]
seed = 7
"""


def test_full_spec_is_parsed() -> None:
    spec = AnalysisSpec.from_toml(GOOD)
    assert spec.data == DataSpec(dataset="simulated_cantons", rates=("deaths",))
    assert spec.models[0] == ModelSpec(
        name="Poisson", estimator="fepois", formula="deaths ~ offences_per_1000 | canton + year",
        vcov={"CRV1": "canton"}, bootstrap=199)
    assert spec.models[1].name == "distributed_lag 2"
    assert (spec.models[1].lags, spec.models[1].leads) == (3, 1)
    assert spec.diagnostics.feedback is False
    assert spec.causal == CausalSpec(
        graph="template:enforcement_mortality_minimal", columns={"enforcement": "offences_per_1000"},
        latent=("market_size",), refute=("placebo_permutation", "placebo_lead"), reps=50)
    assert spec.report == ReportSpec(title="T", level=0.9, change="sd", figures=("coefficients",),
                                     tables=("latex", "csv"), seed=7)


def test_toml_round_trip() -> None:
    spec = AnalysisSpec.from_toml(GOOD)
    assert AnalysisSpec.from_toml(spec.to_toml()) == spec


def test_default_spec_round_trips() -> None:
    spec = default_spec()
    assert AnalysisSpec.from_toml(spec.to_toml()) == spec


def test_spec_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert AnalysisSpec.from_toml(path) == AnalysisSpec.from_toml(GOOD)
    assert AnalysisSpec.from_toml(str(path)) == AnalysisSpec.from_toml(GOOD)


BAD = [
    ("unknown-top", '[data]\ndataset = "x"\n[modles]\n',
     "spec: unknown key 'modles' (did you mean 'models'?)"),
    ("no-data", '[report]\ntitle = "x"\n', "the [data] table is required"),
    ("both-sources", '[data]\ndataset = "a"\npath = "b.csv"\n', "give exactly one of"),
    ("file-without-roles", '[data]\npath = "b.csv"\nunit = "u"\n',
     "data: a data file needs the roles time, outcome, treatment"),
    ("unknown-estimator", '[data]\ndataset = "a"\n[[models]]\nestimator = "ols"\n',
     "models[0].estimator: unknown estimator 'ols'; valid: feols"),
    ("unknown-model-key", '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\nfixef = 1\n',
     "models[0]: unknown key 'fixef'"),
    ("bad-vcov-name", '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\nvcov = "CRV9"\n',
     "models[0].vcov: Unknown covariance type vcov='CRV9'"),
    ("bad-vcov-table",
     '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\nvcov = {CRV1 = "a", HC1 = "b"}\n',
     "models[0].vcov: vcov as a dict must have exactly one entry"),
    ("bad-formula", '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\nformula = "y ~"\n',
     "models[0].formula:"),
    ("code-in-formula",
     '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\n'
     'formula = "y ~ __import__(\'os\').system(\'echo hi\')"\n',
     "models[0].formula:"),
    ("binomial-needs-trials", '[data]\ndataset = "a"\n[[models]]\nestimator = "febinomial"\n',
     "models[0]: missing required key 'trials' (febinomial needs it"),
    ("few-draws", '[data]\ndataset = "a"\n[[models]]\nestimator = "feols"\nbootstrap = 10\n',
     "models[0].bootstrap: use at least 99 draws"),
    ("negative-lags",
     '[data]\ndataset = "a"\n[[models]]\nestimator = "distributed_lag"\nlags = -1\n',
     "models[0].lags: must be a whole number 0, 1, 2, ...; got -1"),
    ("lag-formula",
     '[data]\ndataset = "a"\n[[models]]\nestimator = "distributed_lag"\nformula = "y ~ x"\n',
     "models[0]: distributed_lag takes no formula"),
    ("duplicate-names",
     '[data]\ndataset = "a"\n[[models]]\nname = "m"\nestimator = "feols"\n'
     '[[models]]\nname = "m"\nestimator = "fepois"\n', "model names must be unique; repeated: m"),
    ("bad-level", '[data]\ndataset = "a"\n[report]\nlevel = 95\n', "report.level: expected a number"),
    ("bad-change", '[data]\ndataset = "a"\n[report]\nchange = "lots"\n', "report.change:"),
    ("bad-figure", '[data]\ndataset = "a"\n[report]\nfigures = ["pie"]\n',
     "report.figures[0]: 'pie' is not allowed"),
    ("bad-refuter", '[data]\ndataset = "a"\n[causal]\nrefute = ["magic"]\n',
     "causal.refute[0]: 'magic' is not allowed"),
    ("unknown-template", '[data]\ndataset = "a"\n[causal]\ngraph = "template:enforcement"\n',
     "causal.graph: unknown template 'enforcement'"),
    ("columns-without-graph", '[data]\ndataset = "a"\n[causal]\ncolumns = { a = "b" }\n',
     "causal: 'columns' and 'latent' describe a graph"),
    ("causal-estimator", '[data]\ndataset = "a"\n[causal]\nestimator = "ols"\n',
     "causal.estimator: 'ols' is not allowed"),
    ("placebo-outcome-needed", '[data]\ndataset = "a"\n[causal]\nrefute = ["placebo_outcome"]\n',
     "causal.placebo_outcome: the 'placebo_outcome' refuter needs"),
    ("bool-as-int", '[data]\ndataset = "a"\n[report]\nseed = true\n', "report.seed: expected an integer"),
    ("models-not-array", '[data]\ndataset = "a"\nmodels = 3\n', "data: unknown key 'models'"),
    ("not-toml", '[data\n', "the spec is not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in BAD],
                         ids=[i for i, _, _ in BAD])
def test_bad_spec_names_the_key(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        AnalysisSpec.from_toml(text)
    assert message in str(err.value)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file .* not found"):
        AnalysisSpec.from_toml(tmp_path / "nope.toml")


def test_spec_from_command_line_options() -> None:
    spec = spec_from_options(path="d.csv", unit="u", time="t", outcome=["y"], treatment=["x"],
                             exposure="pop", cluster="region", bootstrap=999)
    assert spec.data == DataSpec(path="d.csv", unit="u", time="t", outcome=("y",),
                                 treatment=("x",), exposure="pop", cluster="region")
    assert [(m.estimator, m.bootstrap) for m in spec.models] == [("feols", 999), ("fepois", 999)]


def test_spec_from_options_validates_estimators() -> None:
    with pytest.raises(SpecError, match=r"models\[0\].estimator: unknown estimator 'ols'; valid: feols"):
        spec_from_options(path="d.csv", unit="u", time="t", outcome=["y"], treatment=["x"],
                          estimators=["ols"])


def test_specs_are_frozen() -> None:
    spec = default_spec()
    with pytest.raises(AttributeError):
        spec.models = ()  # type: ignore[misc]


def test_example_spec_file_is_the_default_analysis() -> None:
    example = Path(__file__).parents[1] / "docs" / "examples" / "simulated_cantons.toml"
    assert AnalysisSpec.from_toml(example) == default_spec()


def test_binary_spec_file_is_a_spec_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    with pytest.raises(SpecError, match=r"not UTF-8 text \(byte 0\)"):
        AnalysisSpec.from_toml(path)


def test_binary_spec_file_on_the_command_line_is_exit_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from causalpolicing.cli import main

    path = tmp_path / "spec.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    assert main(["analyze", "--config", str(path), "--out", str(tmp_path / "o")]) == 2
