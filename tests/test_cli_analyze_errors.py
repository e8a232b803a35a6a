"""`causalpolicing analyze` on panels nothing can be estimated from: exit code 2, one message.

Each case used to fail with a message about something else ("no rows are left after
dropping missing values and singletons" although nothing was missing; a constant
treatment failed while drawing a figure: "terms is empty").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def make(n_units: int, n_years: int, treatment: str = "random") -> pd.DataFrame:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"canton": np.repeat([f"c{i}" for i in range(n_units)], n_years),
                       "year": np.tile(np.arange(2000, 2000 + n_years), n_units)})
    df["deaths"] = rng.poisson(3, len(df))
    df["unemployment"] = rng.normal(size=len(df))
    if treatment == "constant":
        df["enforcement"] = 1.5
    elif treatment == "per-unit":
        df["enforcement"] = np.repeat(rng.normal(size=n_units), n_years)
    else:
        df["enforcement"] = rng.normal(size=len(df))
    return df


CASES = [
    pytest.param(make(1, 8), False,
                 "only one value of 'canton' ('c0') in the 8 rows used", id="one-unit"),
    pytest.param(make(8, 1), False,
                 "only one value of 'year' (2000) in the 8 rows used", id="one-period"),
    pytest.param(make(1, 1), False, "Only one row is used (source row 1)", id="one-row"),
    pytest.param(make(10, 6, "constant"), False,
                 "The treatment column 'enforcement' is constant (1.5 in all 60 rows",
                 id="constant-treatment"),
    pytest.param(make(10, 6, "constant"), True,
                 "The treatment column 'enforcement' is constant (1.5 in all 60 rows",
                 id="constant-treatment-with-covariate"),
    pytest.param(make(10, 6, "per-unit"), False,
                 "'enforcement' is absorbed by the fixed effects: it does not vary within "
                 "canton", id="time-invariant-treatment"),
    pytest.param(make(10, 6, "per-unit"), True,
                 "the treatment 'enforcement' was dropped as absorbed by the fixed effects: it "
                 "does not vary within canton, so its effect is not identified in this model. "
                 "To estimate it, use a treatment that changes over time",
                 id="time-invariant-with-covariate"),
]


@pytest.mark.parametrize(("frame", "covariate", "message"), CASES)
def test_analyze_names_the_problem(tmp_path: Path, frame: pd.DataFrame, covariate: bool,
                                   message: str) -> None:
    data = tmp_path / "panel.csv"
    frame.to_csv(data, index=False)
    extra = ["--covariate", "unemployment"] if covariate else []
    res = run("analyze", str(data), "--unit", "canton", "--time", "year", "--outcome", "deaths",
              "--treatment", "enforcement", *extra, "--out", str(tmp_path / "out"),
              "--no-progress")
    assert res.returncode == 2, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.stderr
    assert message in errors[0]
    assert "Traceback" not in res.stderr
    assert "missing" not in errors[0] and "terms is empty" not in errors[0]
