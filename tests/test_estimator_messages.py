"""Estimator-side messages that name the real problem (issue 10, items 2 and 4).

Rows are named by their 1-based source rows on a Panel (as the loader names them)
and by their index labels on a DataFrame; zero or missing weights warn; one unit,
one period or one row say so instead of blaming missing values; a regressor the
fixed effects absorb is named with the variation it lacks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import DataWarning, EstimationError, SpecError


def frame(n_units: int = 20, n_years: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n_units)], n_years),
                       "year": np.tile(np.arange(2001, 2001 + n_years), n_units)})
    df["x"] = rng.normal(size=len(df))
    df["y"] = rng.poisson(np.exp(1 + 0.3 * df["x"])).astype(float)
    df["wt"] = rng.uniform(1.0, 2.0, len(df))
    return df


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def panel_of(df: pd.DataFrame, **kw: object) -> cp.Panel:
    return quiet(cp.load_panel, df, unit="unit", time="year", outcome="y", treatment="x", **kw)


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("fit", [cp.feols, cp.fepois], ids=["feols", "fepois"])
def test_zero_and_missing_weights_on_a_dataframe_warn_and_are_recorded(fit) -> None:  # type: ignore[no-untyped-def]
    df = frame()
    df.index = [f"r{i}" for i in range(len(df))]
    df.loc["r3", "wt"] = 0.0
    df.loc["r7", "wt"] = np.nan
    with pytest.warns(DataWarning, match=r"weights column 'wt': 1 with a missing weight "
                      r"\(index label r7\); 1 with a zero weight \(index label r3\)"):
        res = fit("y ~ x | unit + year", df, weights="wt", vcov="hetero")
    assert res.nobs == len(df) - 2
    log = res.dropped.set_index("row")
    assert log.loc["r3", "reason"] == "zero weight" and log.loc["r7", "reason"] == "missing weight"
    assert any("zero weight" in w for w in res.warnings)
    assert res.glance()["n_dropped"].iloc[0] == 2


def test_zero_weight_on_a_panel_names_the_source_row() -> None:
    df = frame()
    df.loc[4, "wt"] = 0.0  # the 5th data row of the source
    panel = panel_of(df, covariates=["wt"])
    with pytest.warns(DataWarning, match=r"1 with a zero weight \(source row 5\)"):
        res = cp.feols("y ~ x | unit + year", panel, weights="wt", vcov="hetero")
    assert res.dropped["source_row"].tolist() == [5]


def test_negative_weights_name_source_rows_on_a_panel_and_labels_on_a_frame() -> None:
    df = frame()
    df.loc[[2, 9], "wt"] = -1.0
    with pytest.raises(SpecError, match=r"2 negative or infinite value\(s\) \(source rows 3, 10\)"):
        quiet(cp.feols, "y ~ x | unit + year", panel_of(df, covariates=["wt"]), weights="wt")
    with pytest.raises(SpecError, match=r"\(index labels 2, 9\)"):
        quiet(cp.feols, "y ~ x | unit + year", df, weights="wt")


def test_poisson_negative_outcome_names_source_rows_not_positions() -> None:
    df = frame()
    panel = panel_of(df)
    sub = panel.to_frame().assign(y=lambda d: d["y"].where(d.index != 0, -1.0))
    # the same rows, fitted as a DataFrame with a shifted index: labels, not positions
    sub.index = sub.index + 100
    with pytest.raises(cp.exceptions.NegativeValueError, match=r"\(index label 100\)"):
        quiet(cp.fepois, "y ~ x | unit + year", sub)


def test_separated_rows_are_named_by_source_row_on_a_panel() -> None:
    df = frame()
    df["sep"] = 0.0
    df.loc[df["unit"] == "u03", "sep"] = 1.0
    df.loc[(df["unit"] == "u03") & (df["year"] == 2002), "sep"] = 2.0
    df.loc[(df["unit"] == "u03") & (df["year"] == 2002), "y"] = 0.0
    # y is zero exactly where sep is at its maximum within u03: separated
    panel = panel_of(df, covariates=["sep"])
    with pytest.raises(EstimationError, match=r"separated \(source row \d+\)"):
        quiet(cp.fepois, "y ~ x + sep | unit + year", panel, separation="error")


# ------------------------------------------------- one unit / period / row
@pytest.mark.parametrize("fit", [cp.feols, cp.fepois], ids=["feols", "fepois"])
@pytest.mark.parametrize("as_panel", [False, True], ids=["frame", "panel"])
@pytest.mark.parametrize(("n_units", "n_years", "message"), [
    (1, 6, r"only one value of 'unit' \('u00'\) in the 6 rows used.*At least 2 values of "
           r"'unit' are needed"),
    (6, 1, r"only one value of 'year' \(2001\) in the 6 rows used.*At least 2 values of "
           r"'year' are needed"),
    (1, 1, r"Only one row is used \((source row 1|index label 0)\)"),
], ids=["one-unit", "one-period", "one-row"])
def test_too_small_panels_say_what_is_wrong(fit, as_panel: bool, n_units: int,  # type: ignore[no-untyped-def]
                                            n_years: int, message: str) -> None:
    df = frame(n_units, n_years)
    data = panel_of(df) if as_panel else df
    with pytest.raises(EstimationError, match=message) as err:
        quiet(fit, "y ~ x | unit + year", data)
    assert "missing" not in str(err.value)


def test_a_cross_section_with_unit_effects_says_every_row_is_alone() -> None:
    df = frame(8, 1)
    with pytest.raises(EstimationError, match=r"Every row used is alone in its 'unit' level"):
        quiet(cp.feols, "y ~ x | unit", df)


def test_all_rows_dropped_lists_why() -> None:
    df = frame().assign(x=np.nan)
    with pytest.raises(SpecError, match=r"All 100 rows were dropped \(100 rows: missing value "
                       r"in 'x'\)"):
        quiet(cp.feols, "y ~ x | unit + year", df)


# ------------------------------------------------ absorbed regressors
@pytest.mark.parametrize("fit", [cp.feols, cp.fepois, cp.fenegbin],
                         ids=["feols", "fepois", "fenegbin"])
def test_a_constant_regressor_is_absorbed_not_estimated(fit) -> None:  # type: ignore[no-untyped-def]
    # fepois used to keep it (raw sum of squares 0 against rounding noise in the
    # demeaned column) and report a coefficient of -5e30, or crash with LinAlgError
    df = frame().assign(c=0.1)
    res = quiet(fit, "y ~ x + c | unit + year", df)
    assert list(res.params.index) == ["x"]
    assert res.collinear == {"c": "absorbed by the fixed effects"}


@pytest.mark.parametrize(("column", "detail"), [
    ("const", r"'c' is absorbed by the fixed effects: it is constant \(0.1 in every row used\)"),
    ("unit", r"'c' is absorbed by the fixed effects: it does not vary within unit"),
], ids=["constant", "time-invariant"])
@pytest.mark.parametrize("fit", [cp.feols, cp.fenegbin], ids=["feols", "fenegbin"])
def test_no_regressor_left_names_it_and_why(fit, column: str, detail: str) -> None:  # type: ignore[no-untyped-def]
    df = frame()
    df["c"] = 0.1 if column == "const" else df["unit"].str[1:].astype(float)
    with pytest.raises(EstimationError, match=detail):
        quiet(fit, "y ~ c | unit + year", df)


# ------------------------------------------------------------ singletons
@pytest.mark.parametrize(("fit", "kw"), [
    (cp.feols, {}), (cp.fepois, {}), (cp.fenegbin, {}),
    (cp.febinomial, {"trials": "n"}),
], ids=["feols", "fepois", "fenegbin", "febinomial"])
def test_singletons_are_kept_by_default_and_counted(fit, kw) -> None:  # type: ignore[no-untyped-def]
    df = frame()
    df["n"] = df["y"] + 50.0
    extra = df.iloc[[0]].assign(unit="lonely", y=2.0, n=52.0)  # one unit observed once
    df = pd.concat([df, extra], ignore_index=True)
    kept = quiet(fit, "y ~ x | unit + year", df, vcov="hetero", **kw)
    assert kept.nobs == len(df) and kept.spec["singletons"] == "keep"
    assert kept.glance()["n_singletons"].iloc[0] == 1
    dropped = quiet(fit, "y ~ x | unit + year", df, vcov="hetero", singletons="drop", **kw)
    assert dropped.nobs == len(df) - 1
    assert dropped.dropped["reason"].tolist() == ["fixed-effect singleton"]
    g = dropped.glance().iloc[0]
    assert (g["n_singletons"], g["n_dropped"]) == (1, 1)
    # the singleton does not move the slope
    np.testing.assert_allclose(kept.params["x"], dropped.params["x"], rtol=1e-6)
