"""`causalpolicing analyze FILE --design NAME --cohort COL --never-treated VALUE` (typer runner)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from causalpolicing.cli import _design_names, _never_treated_values, _scalar, app, main

ROLES = ["--unit", "unit", "--time", "year", "--outcome", "y", "--treatment", "law",
         "--no-progress"]


@pytest.fixture(scope="module")
def csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(1)
    years = np.arange(2000, 2010)
    df = pd.DataFrame({"unit": np.repeat(np.arange(40), len(years)),
                       "year": np.tile(years, 40)})
    df["first"] = np.repeat(rng.choice([0, 2004, 2006], 40), len(years))
    df["law"] = ((df["first"] > 0) & (df["year"] >= df["first"])).astype(int)
    df["y"] = df["law"] + rng.normal(size=len(df))
    path = tmp_path_factory.mktemp("data") / "laws.csv"
    df.to_csv(path, index=False)
    return path


def _invoke(*args: str):
    return CliRunner().invoke(app, ["analyze", *args])


def test_design_fits_with_the_panels_timing_role(csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _invoke(str(csv), *ROLES, "--design", "event_study", "--cohort", "first",
                  "--never-treated", "0", "--design-option", "leads=2",
                  "--design-option", "lags=3", "--out", str(out))
    assert res.exit_code == 0, res.output
    saved = json.loads((out / "results" / "event-study.json").read_text())
    spec = saved["spec"]
    assert (spec["cohort"], spec["never_treated"], spec["leads"], spec["lags"]) == (
        "first", 0, 2, 3)
    assert (out / "results" / "feols.json").is_file()  # the default model stays
    assert "Event time 3" in res.output  # the event_lag3 term, labelled by cp.table


def test_design_options_can_give_the_timing_instead(csv: Path, tmp_path: Path) -> None:
    res = _invoke(str(csv), *ROLES, "--design", "event_study", "--design-option",
                  "cohort=first", "--design-option", "never_treated=0", "--estimator",
                  "feols", "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(("args", "message"), [
    (["--design", "feols"], "an estimator, not a design"),
    (["--design", "event_sudy"], "did you mean 'event_study'"),
    (["--design-option", "leads=2"], "give --design NAME"),
    (["--design", "event_study"], "needs cohort='column'"),
    (["--design", "event_study", "--cohort", "first"], "given together"),
    (["--design", "event_study", "--cohort", "first", "--never-treated", "0",
      "--design-option", "leedz=2"], "leedz"),
    (["--design", "event_study", "--design-option", "leads"], "expected KEY=VALUE"),
], ids=["estimator-as-design", "typo", "option-without-design", "no-timing",
        "cohort-without-never-treated", "unknown-option", "no-value"])
def test_refusals_exit_2_with_the_fix(args: list[str], message: str, csv: Path,
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", str(csv), *ROLES, *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert not (tmp_path / "out").exists()


def test_design_names_come_from_the_registry() -> None:
    assert "event_study" in _design_names()
    assert "feols" not in _design_names()


def test_values_are_parsed_as_data() -> None:
    assert [_scalar(v) for v in ["0", "2.5", "nan", "TRUE", '"0"', "never"]][1:] == [
        2.5, pytest.approx(float("nan"), nan_ok=True), True, "0", "never"]
    assert _never_treated_values(None) is None
    assert _never_treated_values(["0", "9999"]) == [0, 9999]
