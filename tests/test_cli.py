"""The command line, run as a user would: through a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "causalpolicing", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )


def test_help_lists_commands_and_examples() -> None:
    res = run("--help")
    assert res.returncode == 0
    assert "validate" in res.stdout
    assert "datasets" in res.stdout
    assert "causalpolicing validate deaths.csv" in res.stdout


def test_validate_without_file_summarises_simulated_cantons() -> None:
    res = run("validate")
    assert res.returncode == 0, res.stderr
    assert "simulated_cantons" in res.stdout
    assert "SIMULATED" in res.stdout
    assert "26 units x 33 years" in res.stdout
    assert "Drop log" in res.stdout


def test_datasets_list_names_every_bundled_dataset() -> None:
    res = run("datasets", "list")
    assert res.returncode == 0, res.stderr
    for name in ("simulated_cantons", "simulated_crackdown", "nc_crime", "castle"):
        assert name in res.stdout


def test_datasets_show_prints_the_card() -> None:
    res = run("datasets", "show", "nc_crime")
    assert res.returncode == 0, res.stderr
    assert "Cornwell" in res.stdout


def test_unknown_dataset_is_exit_code_2_with_suggestion() -> None:
    res = run("datasets", "show", "simulated_canton")
    assert res.returncode == 2
    assert "simulated_cantons" in res.stderr
    assert "Traceback" not in res.stderr


def test_validate_file_reports_drops_and_writes_drop_log(tmp_path: Path) -> None:
    data = tmp_path / "deaths.csv"
    pd.DataFrame({
        "canton": ["ZH", "ZH", "BE", "BE", "GE", "GE", "VD", "VD", "TI", "TI"],
        "year": [2000, 2001] * 5,
        "deaths": [10, "", 5, 7, 3, 4, 6, 8, 2, 2],
        "offences": [3.1, 3.5, 2.0, 2.4, 1.0, 1.5, 2.2, 2.0, 0.9, 1.1],
    }).to_csv(data, index=False)
    out = tmp_path / "drops.csv"
    res = run("validate", str(data), "--unit", "canton", "--time", "year", "--outcome", "deaths",
              "--treatment", "offences", "--drop-log", str(out))
    assert res.returncode == 0, res.stderr
    assert "1 rows left out" in res.stdout
    log = pd.read_csv(out)
    assert log["source_row"].tolist() == [2]
    assert log["reason"].tolist() == ["missing outcome 'deaths'"]


def test_validate_bad_column_is_exit_code_2_naming_the_column(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("canton,year,deaths,offences\nZH,2000,1,2\n")
    res = run("validate", str(data), "--unit", "canton", "--time", "year", "--outcome", "death",
              "--treatment", "offences")
    assert res.returncode == 2
    assert "'death'" in res.stderr
    assert "did you mean 'deaths'" in res.stderr
    assert "Traceback" not in res.stderr


def test_validate_verbose_shows_traceback(tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    data.write_text("canton,year,deaths,offences\nZH,2000,1,2\n")
    res = run("--verbose", "validate", str(data), "--unit", "canton", "--time", "year",
              "--outcome", "death", "--treatment", "offences")
    assert res.returncode != 0
    assert "Traceback" in res.stderr


@pytest.mark.parametrize("args", [["bogus"], ["validate", "x.csv"]], ids=["unknown-command", "missing-roles"])
def test_usage_errors_are_exit_code_2(args: list[str], tmp_path: Path) -> None:
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2
