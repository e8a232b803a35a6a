"""The ``reproduce`` command: through a subprocess as a user would run it (the exit codes
that scripts rely on), and in-process through ``causalpolicing.cli.main`` for the rest
(faster; the same code path after argument parsing).

Exit codes (causalpolicing/studies/_cli.py): 0 reproduced, 1 mismatch, 2 error in the
study file, the data or the options.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import causalpolicing as cp


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", "reproduce", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def run_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from causalpolicing.cli import main

    code = main(["reproduce", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_shows_the_catalogue() -> None:
    res = run("--list")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "status", "published"]
    assert [ln.split()[0] for ln in lines[1:]] == [
        "callaway_santanna_mpdta", "castle_mixtape", "cornwell_trumbull", "nordt_stohler_2010",
        "wooldridge_13_9"]
    assert "needs data" in lines[4]


def test_all_reproduces_the_catalogue_and_skips_needs_data() -> None:
    res = run("--all")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count(": REPRODUCED.") == 4
    assert "skipped nordt_stohler_2010: its data are not public" in res.stdout
    assert res.stdout.rstrip().endswith(
        "4 reproduced, 0 with mismatches, 1 skipped (needs data: nordt_stohler_2010).")


def test_one_study_as_markdown_to_a_file(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "castle.md"
    code, stdout, stderr = run_here(capsys, "castle_mixtape", "--format", "markdown",
                                    "--out", str(out))
    assert code == 0, stderr
    assert stdout.strip() == f"written to {out}"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("### Castle-doctrine laws") and "| 0.081812 | 0.0818116159 |" in text


STUDY = """
[study]
id = "mine"
title = "My reading of the castle paper"
citation = "Me (2025)"
status = "reproducible"

[data]
dataset = "castle"

[[models]]
id = "twfe"
estimator = "feols"
formula = "l_homicide ~ post | sid + year"
vcov = {{ CRV1 = "sid" }}

[[published]]
model = "twfe"
table = "T1"
column = "(1)"
term = "post"
estimate = "{estimate}"
"""


def test_user_study_file_with_a_wrong_number_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(STUDY.format(estimate="0.0818"), encoding="utf-8")
    res = run("--study", str(path))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "0 of 1 published numbers reproduced at the published rounding: 1 MISMATCH(ES)." \
        in res.stdout


def test_user_study_file_with_the_right_number_exits_0(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(STUDY.format(estimate="0.069398"), encoding="utf-8")
    code, stdout, stderr = run_here(capsys, "--study", str(path))
    assert code == 0, stderr
    assert "1 of 1 published numbers reproduced at the published rounding: REPRODUCED." in stdout


def test_malformed_study_file_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(STUDY.format(estimate="0.069398").replace('vcov = { CRV1 = "sid" }',
                                                              'vcov = "CRV9"'), encoding="utf-8")
    res = run("--study", str(path))
    assert res.returncode == 2
    assert res.stdout == ""
    assert f"error: {path}: models[0] (id 'twfe').vcov: Unknown covariance type vcov='CRV9'" in res.stderr


def test_needs_data_without_data_exits_2_with_instructions(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run_here(capsys, "nordt_stohler_2010")
    assert code == 2
    assert "are not public" in stderr and "--data FILE" in stderr
    assert "offences: heroin possession offences" in stderr


@pytest.fixture(scope="module")
def swiss_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = pd.read_csv(cp.datasets.path("simulated_cantons"))
    f["users"] = f["prevalence"] * f["population"] / 1000
    f["offences"] = f["offences_per_1000"] * f["population"] / 1000
    f["treated"] = f["substitution_coverage"] * f["users"]
    g = f.groupby("year")[["deaths", "users", "offences", "treated"]].sum().reset_index()
    g["users"] = g["users"].round()
    g["enforcement"] = g["offences"] / g["users"]
    g["substitution"] = g["treated"] / g["users"]
    path = tmp_path_factory.mktemp("swiss") / "swiss.csv"
    g.drop(columns="treated").to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("extra", "code"), [((), 0), (("--strict",), 1)],
                         ids=["report", "strict"])
def test_needs_data_with_user_data(swiss_file: Path, extra: tuple[str, ...], code: int,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    got, stdout, stderr = run_here(capsys, "nordt_stohler_2010", "--data", str(swiss_file), *extra)
    assert got == code, stderr
    assert "0 of 10 published numbers reproduced" in stdout
    assert "not expected to match" in stdout


def test_conflicting_options_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run_here(capsys, "castle_mixtape", "--all")
    assert code == 2
    assert "Give exactly one of STUDY" in stderr and "got STUDY, --all" in stderr


def test_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run_here(capsys, "castle_mixtape", "--format", "pdf")
    assert code == 2
    assert "--format 'pdf' is not a format; valid: text, markdown, html." in stderr
