"""Command-line options that reach the model and the loader.

``analyze --vcov/--cluster/--ssc/--formula/--fe/--bootstrap`` (for a FILE and over a
``--config`` spec), ``--read-option``, ``--time-format`` (``validate`` and ``analyze``)
and the spec keys behind them (``[data] read_options``/``time_format``,
``[[models]] fe``). Every fix a message suggests must be reachable from the command
line and from a spec.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.analysis.overrides import override_models
from causalpolicing.exceptions import FewClustersWarning, SpecError
from causalpolicing.spec import AnalysisSpec, ModelSpec

ROLES = ("--unit", "canton", "--time", "year", "--outcome", "deaths", "--treatment", "x")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", *args],
                          capture_output=True, text=True, timeout=600)


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261207)
    rows = []
    for u in range(12):
        for t in range(2001, 2009):
            x = rng.normal()
            rows.append({"canton": f"C{u:02d}", "year": t, "region": f"R{u % 4}",
                         "deaths": round(2 + 0.5 * x + rng.normal(), 3), "x": round(x, 3)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "panel.csv"
    _frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def decimal_comma_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Semicolon-separated, decimal commas (2,994 is two point nine nine four)."""
    frame = _frame()
    for col in ("deaths", "x"):
        frame[col] = frame[col].map(lambda v: f"{v:.3f}".replace(".", ","))
    path = tmp_path_factory.mktemp("data") / "eu.csv"
    frame.to_csv(path, sep=";", index=False)
    return path


def _cov_types(out: Path) -> dict[str, str]:
    found = {}
    for p in (out / "results").glob("*.json"):
        if p.stem != "tidy":
            found[p.stem] = cp.load_results(p).cov_type
    return found


# ------------------------------------------------------------ model options, FILE
def test_vcov_crv3_reaches_the_model(panel_csv: Path, tmp_path: Path) -> None:
    res = run("analyze", str(panel_csv), *ROLES, "--vcov", "CRV3", "--out", str(tmp_path / "o"),
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "feols: 96 observations, CRV3 by canton" in res.stdout
    assert _cov_types(tmp_path / "o") == {"feols": "CRV3 by canton"}


def test_cluster_and_ssc_reach_the_model(panel_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = run("analyze", str(panel_csv), *ROLES, "--cluster", "region", "--ssc", "stata_xtreg",
              "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "CRV1 by region" in res.stdout
    spec = AnalysisSpec.from_toml(out / "spec.toml")
    assert spec.models[0].ssc == "stata_xtreg"
    data = cp.load_panel(panel_csv, unit="canton", time="year", outcome="deaths",
                         treatment="x")
    with pytest.warns(FewClustersWarning):  # 4 regions
        direct = cp.feols("deaths ~ x | canton + year", data, vcov={"CRV1": "region"},
                          ssc="stata_xtreg")
    saved = cp.load_results(out / "results" / "feols.json")
    assert saved.std_errors["x"] == pytest.approx(direct.std_errors["x"], rel=1e-6)


def test_formula_and_fe_reach_the_model(panel_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    res = run("analyze", str(panel_csv), *ROLES, "--formula", "deaths ~ x", "--fe", "canton",
              "--vcov", "hetero", "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    spec = AnalysisSpec.from_toml(out / "spec.toml")
    assert spec.models[0].formula == "deaths ~ x | canton"
    data = cp.load_panel(panel_csv, unit="canton", time="year", outcome="deaths",
                         treatment="x")
    direct = cp.feols("deaths ~ x | canton", data, vcov="hetero")
    saved = cp.load_results(out / "results" / "feols.json")
    assert saved.cov_type == direct.cov_type
    assert saved.params["x"] == pytest.approx(direct.params["x"], rel=1e-9)


BAD_OPTIONS = [
    ("vcov", ("--vcov", "CRV9"), "CRV1, CRV3, DK"),
    ("vcov-column", ("--vcov", "hetero=canton"), "takes no column"),
    ("ssc", ("--ssc", "stata"), "'fixest', 'stata_xtreg', 'stata_areg', 'linearmodels', 'none'"),
    ("formula", ("--formula", "deaths ~ x +"), "--formula: In formula"),
    ("formula-code", ("--formula", "deaths ~ __import__('os').getcwd()"),
     "unknown function '__import__'"),  # quoted text is a token now (i(g, ref="a")), still refused
    ("fe", ("--fe", "canton ++ year"), "--fe[0]: expected column names joined by '+' or '^'"),
    ("fe-between", ("--estimator", "between", "--fe", "canton"),
     "models that do: feols, fepois, fenegbin, febinomial"),
    ("read-option", ("--read-option", "thousands"), "expected KEY=VALUE"),
    ("read-option-name", ("--read-option", "sep=;"), "'delimiter'"),
]


@pytest.mark.parametrize(("args", "message"), [(a, m) for _, a, m in BAD_OPTIONS],
                         ids=[i for i, _, _ in BAD_OPTIONS])
def test_bad_option_value_is_exit_2_listing_valid_values(
        panel_csv: Path, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    res = run("analyze", str(panel_csv), *ROLES, *args, "--out", str(tmp_path / "o"),
              "--no-progress")
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------- model options over --config
def _nc_spec(tmp_path: Path, models: str) -> Path:
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\ndataset = "nc_crime"\n' + models +
                    '[diagnostics]\nfeedback = false\n[report]\nfigures = []\n'
                    'tables = ["text"]\n', encoding="utf-8")
    return spec


def test_vcov_overrides_the_models_of_a_config(tmp_path: Path) -> None:
    spec = _nc_spec(tmp_path, '[[models]]\nname = "within"\nestimator = "feols"\n'
                              'formula = "lcrmrte ~ lprbarr | county + year"\nvcov = "iid"\n')
    res = run("analyze", "--config", str(spec), "--vcov", "CRV3", "--out", str(tmp_path / "o"),
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "within: 630 observations, CRV3 by county" in res.stdout


def test_options_reach_the_default_models_of_a_config_without_models(tmp_path: Path) -> None:
    spec = _nc_spec(tmp_path, "")
    out = tmp_path / "o"
    res = run("analyze", "--config", str(spec), "--vcov", "DK", "--fe", "county",
              "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "Linear FE: 630 observations, DK by year" in res.stdout
    written = AnalysisSpec.from_toml(out / "spec.toml")
    assert [(m.vcov, m.fe) for m in written.models] == [({"DK": "year"}, ("county",))]


def test_file_roles_with_a_config_are_exit_2(tmp_path: Path) -> None:
    spec = _nc_spec(tmp_path, "")
    res = run("analyze", "--config", str(spec), "--estimator", "fepois", "--unit", "county",
              "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 2, res.stderr
    assert "--unit, --estimator describe a data FILE" in res.stderr


def test_config_option_no_model_takes_is_exit_2(tmp_path: Path) -> None:
    spec = _nc_spec(tmp_path, '[[models]]\nestimator = "distributed_lag"\n')
    res = run("analyze", "--config", str(spec), "--formula", "lcrmrte ~ lprbarr",
              "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 2, res.stderr
    assert "--formula: no model of the spec takes it" in res.stderr


# ------------------------------------------------------------------- loader options
def test_read_option_decimal_comma_loads_the_file(decimal_comma_csv: Path) -> None:
    args = ("validate", str(decimal_comma_csv), *ROLES)
    failed = run(*args)
    assert failed.returncode == 2
    assert "--read-option" in failed.stderr or "read_options" in failed.stderr
    res = run(*args, "--read-option", "decimal=,", "--read-option", "delimiter=;")
    assert res.returncode == 0, res.stderr
    assert "12 units x 8 years" in res.stdout


def test_time_format_parses_the_time_column(tmp_path: Path) -> None:
    frame = _frame()
    frame["period"] = [f"07.{y}" for y in frame.pop("year")]
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    args = ("validate", str(path), "--unit", "canton", "--time", "period", "--outcome", "deaths",
            "--treatment", "x")
    assert run(*args).returncode == 2
    res = run(*args, "--time-format", "%m.%Y")
    assert res.returncode == 0, res.stderr
    assert "12 units x 8" in res.stdout


def test_analyze_passes_loader_options(decimal_comma_csv: Path, tmp_path: Path) -> None:
    res = run("analyze", str(decimal_comma_csv), *ROLES, "--read-option", "decimal=,",
              "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 0, res.stderr
    written = AnalysisSpec.from_toml(tmp_path / "o" / "spec.toml")
    assert written.data.read_options == {"decimal": ","}


def test_loader_options_without_a_file_are_exit_2() -> None:
    res = run("validate", "--read-option", "decimal=,")
    assert res.returncode == 2
    assert "give the FILE" in res.stderr


# ---------------------------------------------------------------------- spec keys
def test_spec_read_options_and_time_format_reach_the_loader(decimal_comma_csv: Path) -> None:
    from causalpolicing.analysis.run import load_spec_data

    frame = pd.read_csv(decimal_comma_csv, sep=";", dtype=str)
    frame["day"] = [f"01.01.{y}" for y in frame.pop("year")]
    path = decimal_comma_csv.with_name("eu_days.csv")
    frame.to_csv(path, sep=";", index=False)
    spec = AnalysisSpec.from_toml(
        f'[data]\npath = "{path.as_posix()}"\nunit = "canton"\ntime = "day"\n'
        'outcome = "deaths"\ntreatment = "x"\nread_options = {decimal = ",", delimiter = ";"}\n'
        'time_format = "%d.%m.%Y"\n')
    panel = load_spec_data(spec)
    assert (panel.n_units, panel.n_periods, len(panel)) == (12, 8, 96)
    assert panel.to_frame()["x"].dtype.kind == "f"
    assert AnalysisSpec.from_toml(spec.to_toml()) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("read_options = 3", "data.read_options: expected a table of reader options"),
    ("read_options = {thousands = [1]}", "data.read_options.thousands: expected a string"),
    ('time_format = "dd.mm.yyyy"', 'data.time_format: expected a strptime format'),
], ids=["not-a-table", "bad-value", "no-directive"])
def test_spec_loader_keys_are_validated(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        AnalysisSpec.from_toml('[data]\npath = "d.csv"\nunit = "u"\ntime = "t"\noutcome = "y"\n'
                               f'treatment = "x"\n{text}\n')
    assert message in str(err.value)


def test_override_models_rule() -> None:
    models = (ModelSpec("a", "feols", formula="y ~ x | u + t", vcov={"CRV1": "u"}),
              ModelSpec("b", "between", vcov="iid"),
              ModelSpec("c", "fepois"))
    new = override_models(models, cluster="r", ssc="stata_xtreg", fe=["u^t"])
    assert [m.vcov for m in new] == [{"CRV1": "r"}, "iid", None]
    assert [m.ssc for m in new] == ["stata_xtreg", "stata_xtreg", "stata_xtreg"]
    assert [m.formula for m in new] == ["y ~ x | u^t", None, None]
    assert [m.fe for m in new] == [None, None, ("u^t",)]
    with pytest.raises(SpecError, match="--bootstrap: no model of the spec takes it"):
        override_models(models[1:2], bootstrap=999)


def test_model_fe_with_a_formula_is_an_error() -> None:
    with pytest.raises(SpecError, match=r"models\[0\].fe: give the fixed effects in the formula"):
        AnalysisSpec.from_dict({"data": {"dataset": "nc_crime"}, "models": [
            {"estimator": "feols", "formula": "y ~ x", "fe": "county"}]})


def test_few_clusters_warning_names_the_cli_and_spec_forms() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cp.feols("unemployment ~ offences_per_1000 | canton + year", panel,
                 vcov={"CRV1": "canton"})
    text = " ".join(str(w.message) for w in caught if issubclass(w.category, FewClustersWarning))
    assert "--vcov CRV3" in text
    assert "--bootstrap 9999" in text
    assert 'vcov = {CRV3 = "canton"}' in text
    assert "bootstrap = 9999" in text
    json.dumps(text)  # plain text, printable by the CLI


@pytest.mark.parametrize(("text", "expected"), [
    ("HAC", "HAC"), ("hac=2", {"HAC": 2}), ("newey-west", "HAC"),
    ("DK", {"DK": "year"}), ("CRV1", {"CRV1": "canton"}), ("hetero", "hetero"),
])
def test_vcov_option_spellings(text: str, expected: object) -> None:
    from causalpolicing.cli import _vcov_option

    assert _vcov_option(text, cluster=None, unit="canton", time="year") == expected


def test_vcov_hac_lags_must_be_a_number() -> None:
    from causalpolicing.cli import _vcov_option

    with pytest.raises(SpecError, match="HAC=LAGS takes a whole number"):
        _vcov_option("HAC=year", cluster=None, unit="canton", time="year")


def test_vcov_hac_reaches_a_negative_binomial_model(tmp_path: Path) -> None:
    csv = tmp_path / "cantons.csv"
    cp.datasets.load("simulated_cantons").to_frame().to_csv(csv, index=False)
    res = run("analyze", str(csv), "--unit", "canton", "--time", "year", "--outcome", "deaths",
              "--treatment", "offences_per_1000", "--exposure", "population",
              "--estimator", "fenegbin", "--vcov", "HAC=1", "--out", str(tmp_path / "o"),
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert set(_cov_types(tmp_path / "o").values()) == {"HAC (Newey-West, 1 lags)"}
