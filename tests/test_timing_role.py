"""The Panel's treatment-timing role (cohort, never_treated) and the designs that read it."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.estimators import registry
from causalpolicing.exceptions import PanelError, RoleError, SpecError


def _frame(seed: int = 1, n_units: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2010)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), len(years)),
                       "year": np.tile(years, n_units)})
    df["first"] = np.repeat(rng.choice([0, 2004, 2006], n_units), len(years))
    df["law"] = ((df["first"] > 0) & (df["year"] >= df["first"])).astype(int)
    df["y"] = df["law"] + rng.normal(size=len(df))
    return df


def _load(df: pd.DataFrame, **kw) -> cp.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(df, unit="unit", time="year", outcome="y", treatment="law", **kw)


def test_load_panel_declares_the_timing_role() -> None:
    panel = _load(_frame(), cohort="first", never_treated=0)
    assert (panel.cohort, panel.never_treated) == ("first", 0)
    assert panel.roles.as_dict()["cohort"] == "first"
    assert panel.roles.as_dict()["never_treated"] == 0


def test_panels_without_a_timing_role_describe_as_before() -> None:
    panel = _load(_frame())
    assert panel.cohort is None and panel.never_treated is None
    assert "cohort" not in panel.roles.as_dict()


def test_several_never_treated_markers_are_kept_as_a_tuple() -> None:
    df = _frame()
    df.loc[(df["first"] == 0) & (df["unit"] % 2 == 0), "first"] = 9999
    panel = _load(df, cohort="first", never_treated=[0, 9999])
    assert panel.never_treated == (0, 9999)


def test_timing_role_survives_transforms() -> None:
    panel = _load(_frame(), cohort="first", never_treated=0)
    new = panel.lag("y").diff("y").with_roles(covariates=["y_lag1"])
    assert (new.cohort, new.never_treated) == ("first", 0)


def test_with_roles_declares_changes_and_removes_it() -> None:
    panel = _load(_frame())
    timed = panel.with_roles(cohort="first", never_treated=0)
    assert (timed.cohort, timed.never_treated) == ("first", 0)
    assert timed.history[-1].params == {"cohort": "first", "never_treated": 0}
    assert timed.with_roles(never_treated=[0]).never_treated == (0,)
    untimed = timed.with_roles(cohort=False)
    assert untimed.cohort is None and untimed.never_treated is None


def test_cohort_read_from_a_csv_is_numeric(tmp_path) -> None:
    path = tmp_path / "p.csv"
    _frame().to_csv(path, index=False)
    panel = _load(path, cohort="first", never_treated=0)  # type: ignore[arg-type]
    assert pd.api.types.is_numeric_dtype(panel.column("first"))


@pytest.mark.parametrize(("kw", "match"), [
    ({"cohort": "first"}, "needs never_treated"),
    ({"never_treated": 0}, "never_treated was given without cohort"),
    ({"cohort": "firts", "never_treated": 0}, "firts"),
    ({"cohort": "year", "never_treated": 0}, "two roles|time column"),
], ids=["no-never-treated", "no-cohort", "unknown-column", "key-column"])
def test_load_refuses_an_incomplete_timing_role(kw, match) -> None:
    with pytest.raises(PanelError, match=match):  # RoleError, ColumnNotFoundError
        _load(_frame(), **kw)


def test_load_refuses_a_cohort_that_varies_within_a_unit() -> None:
    df = _frame()
    df.loc[3, "first"] = 2007
    with pytest.raises(RoleError, match="not constant within unit"):
        _load(df, cohort="first", never_treated=0)


def test_load_refuses_missing_cohorts_not_marked_never_treated() -> None:
    df = _frame()
    df["first"] = df["first"].astype(float)
    df.loc[df["unit"] == 0, "first"] = np.nan
    with pytest.raises(RoleError, match="missing for 10 row"):
        _load(df, cohort="first", never_treated=0)
    assert _load(df, cohort="first", never_treated=[0, float("nan")]).cohort == "first"


def test_load_refuses_non_period_cohorts() -> None:
    df = _frame()
    df["first"] = df["first"] + 0.5
    with pytest.raises(RoleError, match="not whole periods"):
        _load(df, cohort="first", never_treated=0.5)
    df = _frame().assign(first=lambda d: np.where(d["first"] > 0, "soon", "never"))
    with pytest.raises(RoleError, match="not periods"):
        _load(df, cohort="first", never_treated="never")


def test_with_roles_refuses_what_loading_refuses() -> None:
    panel = _load(_frame())
    with pytest.raises(RoleError, match="needs never_treated"):
        panel.with_roles(cohort="first")
    with pytest.raises(RoleError, match="removes the timing role"):
        panel.with_roles(cohort=False, never_treated=0)


# ------------------------------------------------------------------ the designs read it
def test_event_study_reads_the_panels_timing_role() -> None:
    df = _frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_panel = cp.event_study(_load(df, cohort="first", never_treated=0), outcome="y",
                                    leads=2, lags=2)
        given = cp.event_study(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                               time="year", leads=2, lags=2)
    np.testing.assert_allclose(from_panel.params, given.params, atol=1e-12)
    assert from_panel.spec["cohort"] == "first" and from_panel.spec["never_treated"] == 0


def test_event_study_arguments_win_over_the_panels_role() -> None:
    df = _frame().assign(other=lambda d: d["first"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cp.event_study(_load(df, cohort="first", never_treated=0), outcome="y",
                             cohort="other", leads=1, lags=1)
    assert res.spec["cohort"] == "other"


def test_event_study_without_any_timing_says_what_to_pass() -> None:
    with pytest.raises(SpecError, match="needs cohort='column'"):
        cp.event_study(_load(_frame()), outcome="y")


def test_registry_no_longer_requires_cohort() -> None:
    entry = registry.get("event_study")
    assert not entry.option("cohort").required
    assert not entry.option("never_treated").required
    assert entry.is_design and not registry.get("feols").is_design


def test_analysis_spec_declares_the_timing_role(tmp_path) -> None:
    path = tmp_path / "panel.csv"
    _frame().to_csv(path, index=False)
    spec = {"data": {"path": str(path), "unit": "unit", "time": "year", "outcome": "y",
                     "treatment": "law", "cohort": "first", "never_treated": 0},
            "models": [{"name": "ES", "estimator": "event_study", "leads": 2, "lags": 2}],
            "diagnostics": {"feedback": False}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = cp.analyze(spec)
    assert analysis.results["ES"].spec["cohort"] == "first"
    assert cp.AnalysisSpec.from_dict(spec).to_dict()["data"]["never_treated"] == 0


def test_analysis_spec_refuses_cohort_without_never_treated(tmp_path) -> None:
    spec = {"data": {"path": "x.csv", "unit": "unit", "time": "year", "outcome": "y",
                     "treatment": "law", "cohort": "first"}}
    with pytest.raises(SpecError, match="given together"):
        cp.AnalysisSpec.from_dict(spec)
