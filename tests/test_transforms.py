"""Tests for causalpolicing.data.transforms (and the Panel methods that wrap them).

Expected values are computed by hand in each test (or by an independent
row-by-row Python reference for the property-based tests).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import causalpolicing as cp
from causalpolicing.data import transforms as tr
from causalpolicing.data.panel import TransformRecord
from causalpolicing.exceptions import (
    ColumnNotFoundError,
    DataWarning,
    FewUnitsWarning,
    GapWarning,
    NonNumericError,
    NoWithinVariationWarning,
    TimeParseError,
    TransformError,
)

# Warnings that small hand-made test panels trigger on purpose; anything else still shows.
EXPECTED_LOAD_WARNINGS = (FewUnitsWarning, GapWarning, NoWithinVariationWarning)


def load(df: pd.DataFrame, **kwargs: Any) -> cp.Panel:
    """load_panel with the warnings that tiny test panels are expected to raise silenced."""
    kwargs.setdefault("unit", "unit")
    kwargs.setdefault("time", "year")
    kwargs.setdefault("outcome", "deaths")
    kwargs.setdefault("treatment", "x")
    with warnings.catch_warnings():
        for category in EXPECTED_LOAD_WARNINGS:
            warnings.simplefilter("ignore", category)
        return cp.load_panel(df, **kwargs)


@pytest.fixture
def annual() -> cp.Panel:
    """Two units; B lacks 2002 (a gap). Rows sorted: A2000..A2003, B2000, B2001, B2003."""
    df = pd.DataFrame({
        "unit": ["A", "A", "A", "A", "B", "B", "B"],
        "year": [2000, 2001, 2002, 2003, 2000, 2001, 2003],
        "deaths": [10, 0, 5, 8, 2, 4, 6],
        "x": [1.0, 2.0, 4.0, 7.0, 10.0, 20.0, 40.0],
        "population": [1e5, 2e5, 2e5, 4e5, 5e4, 5e4, 1e5],
        "price": [100.0, 110.0, 121.0, 133.1, 50.0, 60.0, 70.0],
        "cpi": [100.0, 110.0, 110.0, 121.0, 100.0, 125.0, 140.0],
        "purity": [0.5, 0.25, 0.4, 0.8, 1.0, 0.2, 0.7],
        "label": ["a0", "a1", "a2", "a3", "b0", "b1", "b3"],
    })
    return load(df, exposure="population", covariates=["price", "cpi", "purity"])


def frame_of(panel: cp.Panel, **assign: Any) -> pd.DataFrame:
    """The panel's data with time as text labels (as in a source file), plus new columns."""
    f = panel.to_frame().assign(**assign)
    f[panel.time] = f[panel.time].astype(str)
    return f


def frame_snapshot(panel: cp.Panel) -> tuple[pd.DataFrame, tuple, pd.DataFrame, np.ndarray]:
    return panel.to_frame(), panel.history, panel.drop_log, panel.source_rows


# ------------------------------------------------------------------------------- rate
def test_rate_default_name_and_values(annual):
    new = annual.rate("deaths")
    got = new.column("deaths_per_100k").to_numpy()
    expected = np.array([10.0, 0.0, 2.5, 2.0, 4.0, 8.0, 6.0])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert new.columns == (*annual.columns, "deaths_per_100k")


@pytest.mark.parametrize(
    ("per", "suffix"),
    [(1, "per_capita"), (1000, "per_1000"), (10_000, "per_10k"), (100_000, "per_100k"),
     (1_000_000, "per_1m"), (0.5, "per_0p5")],
    ids=["1", "1000", "10k", "100k", "1m", "half"],
)
def test_rate_naming_rule(annual, per, suffix):
    new = annual.rate("deaths", per=per)
    name = f"deaths_{suffix}"
    np.testing.assert_allclose(new.column(name).to_numpy(),
                               annual.column("deaths").to_numpy() / annual.column("population") * per,
                               rtol=1e-12)


def test_rate_explicit_name(annual):
    new = annual.rate("deaths", per=1000, name="mortality")
    np.testing.assert_allclose(new.column("mortality").to_numpy()[:2], [0.1, 0.0], rtol=1e-12)


def test_rate_without_exposure_raises():
    df = pd.DataFrame({"unit": ["A", "A"], "year": [2000, 2001], "deaths": [1, 2], "x": [1.0, 2.0]})
    panel = load(df)
    with pytest.raises(TransformError, match=r"has none\. Pass exposure='population'"):
        panel.rate("deaths")


def test_rate_zero_in_other_denominator_names_rows(annual):
    df = frame_of(annual, pop2=[1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    panel = load(df, exposure="population", covariates=["price", "cpi", "purity"])
    with pytest.raises(TransformError,
                       match=r"'pop2' is 0 in 2 rows: A 2001 \(source row 2.*B 2003 \(source row 7"):
        panel.rate("deaths", exposure="pop2")


def test_rate_negative_denominator_raises(annual):
    df = frame_of(annual, pop2=[1.0, -5.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"negative in 1 row: A 2001 \(source row 2, value -5.0\)"):
        panel.rate("deaths", exposure="pop2")


def test_rate_missing_denominator_gives_missing(annual):
    df = frame_of(annual, pop2=[1.0, None, 2.0, 1.0, 1.0, 1.0, 1.0])
    panel = load(df, exposure="population")
    got = panel.rate("deaths", per=1, exposure="pop2").column("deaths_per_capita").to_numpy()
    np.testing.assert_array_equal(got, [10.0, np.nan, 2.5, 8.0, 2.0, 4.0, 6.0])


@pytest.mark.parametrize("per", [0, -1, "100", float("nan"), float("inf"), True],
                         ids=["zero", "negative", "text", "nan", "inf", "bool"])
def test_rate_invalid_per_raises(annual, per):
    with pytest.raises(TransformError, match="per must be a positive"):
        annual.rate("deaths", per=per)


def test_rate_column_can_become_rate_outcome(annual):
    new = annual.rate("deaths").with_roles(outcome={"deaths_per_100k": "rate"})
    assert new.outcomes == ("deaths_per_100k",)
    assert dict(new.outcome_kinds) == {"deaths_per_100k": "rate"}
    assert [r.name for r in new.history] == ["rate", "with_roles"]


def test_per_capita_with_population_column(annual):
    df = frame_of(annual, residents=[1000.0, 2000.0, 500.0, 4000.0, 100.0, 200.0, 400.0])
    panel = load(df, exposure="population")
    new = panel.per_capita("x", per=1000, population="residents")
    np.testing.assert_allclose(new.column("x_per_1000").to_numpy(),
                               [1.0, 1.0, 8.0, 1.75, 100.0, 100.0, 100.0], rtol=1e-12)
    assert new.history[-1] == TransformRecord(
        "per_capita", {"column": "x", "per": 1000, "population": "residents",
                       "name": "x_per_1000"}, ("x_per_1000",))


def test_per_capita_defaults_to_exposure(annual):
    new = annual.per_capita("x")
    np.testing.assert_allclose(new.column("x_per_capita").to_numpy(),
                               annual.column("x").to_numpy() / annual.column("population").to_numpy(),
                               rtol=1e-15)
    assert new.history[-1].params["population"] == "population"


# -------------------------------------------------------------------------------- log
def test_log_values(annual):
    new = annual.log("x")
    np.testing.assert_allclose(new.column("log_x").to_numpy(),
                               np.log([1.0, 2.0, 4.0, 7.0, 10.0, 20.0, 40.0]), rtol=1e-15)


def test_log_zero_error_names_rows_and_alternatives(annual):
    with pytest.raises(TransformError) as info:
        annual.log("deaths")
    msg = str(info.value)
    assert "1 row: A 2001 (source row 2)" in msg
    for option in ("zero='missing'", "zero='log1p'", "offset=c", "Poisson"):
        assert option in msg


def test_log_zero_missing_keeps_row(annual):
    new = annual.log("deaths", zero="missing")
    expected = np.log([10.0, np.nan, 5.0, 8.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(new.column("log_deaths").to_numpy(), expected, rtol=1e-15)
    assert len(new) == len(annual)
    assert new.history[-1] == TransformRecord(
        "log", {"column": "deaths", "zero": "missing", "name": "log_deaths"}, ("log_deaths",))


def test_log_log1p(annual):
    new = annual.log("deaths", zero="log1p")
    np.testing.assert_allclose(new.column("log1p_deaths").to_numpy(),
                               np.log([11.0, 1.0, 6.0, 9.0, 3.0, 5.0, 7.0]), rtol=1e-15)


def test_log_offset_named_with_offset(annual):
    new = annual.log("deaths", offset=0.5)
    np.testing.assert_allclose(new.column("log_deaths_plus_0p5").to_numpy(),
                               np.log([10.5, 0.5, 5.5, 8.5, 2.5, 4.5, 6.5]), rtol=1e-15)
    assert new.history[-1].params == {"column": "deaths", "zero": "error", "offset": 0.5,
                                      "name": "log_deaths_plus_0p5"}


def test_log_missing_input_stays_missing(annual):
    df = frame_of(annual, v=[1.0, None, math.e, 1.0, 1.0, 1.0, 1.0])
    panel = load(df, exposure="population")
    np.testing.assert_allclose(panel.log("v").column("log_v").to_numpy(),
                               [0.0, np.nan, 1.0, 0.0, 0.0, 0.0, 0.0], atol=1e-15)


@pytest.mark.parametrize(
    "kwargs", [{}, {"zero": "log1p"}, {"zero": "missing"}, {"offset": 5.0}],
    ids=["error", "log1p", "missing", "offset"],
)
def test_log_negative_always_raises(annual, kwargs):
    df = frame_of(annual, v=[1.0, -0.5, 1.0, 1.0, 1.0, 1.0, 1.0])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"negative in 1 row: A 2001 \(source row 2, value -0.5\)"):
        panel.log("v", **kwargs)


def test_log_unknown_policy_raises(annual):
    with pytest.raises(TransformError, match=r"unknown zero policy zero='add1'.*'error', 'log1p', 'missing'"):
        annual.log("deaths", zero="add1")


def test_log_offset_and_policy_conflict(annual):
    with pytest.raises(TransformError, match="not both"):
        annual.log("deaths", zero="log1p", offset=1.0)


@pytest.mark.parametrize("offset", [0, -1.0], ids=["zero", "negative"])
def test_log_offset_must_be_positive(annual, offset):
    with pytest.raises(TransformError, match="offset must be a positive"):
        annual.log("deaths", offset=offset)


# ------------------------------------------------------------------------ lags/leads
def test_lag_respects_gap(annual):
    new = annual.lag("x")
    # A: 2000-2003 complete; B: 2000, 2001, 2003 (2002 missing, so B 2003 has no lag)
    np.testing.assert_array_equal(new.column("x_lag1").to_numpy(),
                                  [np.nan, 1.0, 2.0, 4.0, np.nan, 10.0, np.nan])


def test_lag_two_periods_spans_gap_by_calendar(annual):
    new = annual.lag("x", k=2)
    np.testing.assert_array_equal(new.column("x_lag2").to_numpy(),
                                  [np.nan, np.nan, 1.0, 2.0, np.nan, np.nan, 20.0])


def test_lead_values(annual):
    new = annual.lead("x", k=1)
    np.testing.assert_array_equal(new.column("x_lead1").to_numpy(),
                                  [2.0, 4.0, 7.0, np.nan, 20.0, np.nan, np.nan])
    assert new.history[-1] == TransformRecord("lead", {"column": "x", "k": 1, "name": "x_lead1"},
                                              ("x_lead1",))


def test_lag_monthly_crosses_year_boundary():
    df = pd.DataFrame({"unit": ["A"] * 3, "month": ["2000-11", "2000-12", "2001-01"],
                       "deaths": [1, 2, 3], "x": [1.0, 2.0, 3.0]})
    panel = load(df, time="month")
    np.testing.assert_array_equal(panel.lag("x").column("x_lag1").to_numpy(), [np.nan, 1.0, 2.0])


def test_lag_missing_value_propagates(annual):
    df = frame_of(annual, v=[1.0, None, 3.0, 4.0, 5.0, 6.0, 7.0])
    panel = load(df, exposure="population")
    np.testing.assert_array_equal(panel.lag("v").column("v_lag1").to_numpy(),
                                  [np.nan, 1.0, np.nan, 3.0, np.nan, 5.0, np.nan])


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "1"], ids=["zero", "negative", "float", "bool", "text"])
def test_lag_invalid_k_raises(annual, k):
    with pytest.raises(TransformError, match="k must be a positive whole number"):
        annual.lag("x", k=k)


def test_lags_creates_columns_in_one_record(annual):
    new = annual.lags("x", range(1, 3))
    expected = annual.lag("x", 1).lag("x", 2).to_frame()
    pd.testing.assert_frame_equal(new.to_frame(), expected)
    assert new.history[-1] == TransformRecord("lags", {"column": "x", "ks": (1, 2)},
                                              ("x_lag1", "x_lag2"))
    assert len(new.history) == 1


@pytest.mark.parametrize("ks", [[], [1, 1], [0, 1]], ids=["empty", "repeat", "zero"])
def test_lags_invalid_orders_raise(annual, ks):
    with pytest.raises(TransformError, match="lags()"):
        annual.lags("x", ks)


def test_diff_values_and_gap(annual):
    new = annual.diff("x")
    np.testing.assert_array_equal(new.column("x_diff1").to_numpy(),
                                  [np.nan, 1.0, 2.0, 3.0, np.nan, 10.0, np.nan])


def test_diff_k2(annual):
    new = annual.diff("x", k=2)
    np.testing.assert_array_equal(new.column("x_diff2").to_numpy(),
                                  [np.nan, np.nan, 3.0, 5.0, np.nan, np.nan, 20.0])


# ---------------------------------------------------- property tests on random panels
@st.composite
def random_panels(draw: Any) -> pd.DataFrame:
    n_units = draw(st.integers(1, 4))
    n_years = draw(st.integers(1, 10))
    rows = []
    for u in range(n_units):
        present = draw(st.lists(st.booleans(), min_size=n_years, max_size=n_years)
                       .filter(any))
        for t, here in enumerate(present):
            if here:
                value = draw(st.one_of(st.none(), st.integers(-1000, 1000).map(float)))
                rows.append({"unit": f"u{u}", "year": 2000 + t, "deaths": 1, "x": float(t),
                             "v": value})
    # shuffle the rows: transforms must not depend on the source order
    perm = draw(st.permutations(range(len(rows))))
    return pd.DataFrame([rows[i] for i in perm]).astype({"v": float})


def reference_shift(df: pd.DataFrame, k: int) -> dict[tuple[str, int], float]:
    """Row-by-row reference: value of v at (unit, year - k), NaN if absent."""
    values = {(r.unit, r.year): r.v for r in df.itertuples()}
    out = {}
    for (u, y) in values:
        prev = values.get((u, y - k))
        out[(u, y)] = np.nan if prev is None or pd.isna(prev) else prev
    return out


def keyed(panel: cp.Panel, column: str) -> dict[tuple[str, int], float]:
    f = panel.to_frame()
    return {(u, t.year): v for u, t, v in zip(f["unit"], f["year"], f[column], strict=True)}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        assert (np.isnan(x) and np.isnan(y)) or x == y, (key, x, y)


@settings(max_examples=50, deadline=None)
@given(df=random_panels(), k=st.integers(1, 4))
def test_lag_matches_row_by_row_reference(df, k):
    panel = load(df)
    assert_same(keyed(panel.lag("v", k), f"v_lag{k}"), reference_shift(df, k))


@settings(max_examples=50, deadline=None)
@given(df=random_panels(), k=st.integers(1, 4))
def test_lead_matches_row_by_row_reference(df, k):
    panel = load(df)
    assert_same(keyed(panel.lead("v", k), f"v_lead{k}"), reference_shift(df, -k))


@settings(max_examples=50, deadline=None)
@given(df=random_panels(), k=st.integers(1, 4))
def test_lead_of_lag_round_trip(df, k):
    panel = load(df).lag("v", k).lead(f"v_lag{k}", k, name="back")
    f = panel.to_frame()
    back, v = f["back"].to_numpy(), f["v"].to_numpy()
    defined = ~np.isnan(back)
    np.testing.assert_array_equal(back[defined], v[defined])
    # defined exactly where period t+k exists for the unit and v is present
    have = {(r.unit, r.year) for r in df.itertuples()}
    expect_defined = np.array([(u, t.year + k) in have and not np.isnan(val)
                               for u, t, val in zip(f["unit"], f["year"], v, strict=True)])
    np.testing.assert_array_equal(defined, expect_defined)


@settings(max_examples=50, deadline=None)
@given(df=random_panels(), k1=st.integers(1, 3), k2=st.integers(1, 3))
def test_lag_of_lag_is_lag_of_sum(df, k1, k2):
    # lag(lag(v, k1), k2) reads the k1-lag stored on row t - k2, so it equals lag(v, k1 + k2)
    # wherever period t - k2 exists for the unit, and is missing where it does not.
    panel = load(df)
    f = panel.lag("v", k1, name="a").lag("a", k2, name="b").lag("v", k1 + k2, name="c").to_frame()
    twice, once = f["b"].to_numpy(), f["c"].to_numpy()
    have = {(r.unit, r.year) for r in df.itertuples()}
    middle = np.array([(u, t.year - k2) in have for u, t in zip(f["unit"], f["year"], strict=True)],
                      dtype=bool)
    np.testing.assert_array_equal(twice[middle], once[middle])
    assert np.isnan(twice[~middle]).all()


@settings(max_examples=50, deadline=None)
@given(df=random_panels(), k=st.integers(1, 3))
def test_diff_equals_value_minus_lag(df, k):
    panel = load(df).diff("v", k).lag("v", k)
    f = panel.to_frame()
    np.testing.assert_array_equal(f[f"v_diff{k}"].to_numpy(),
                                  f["v"].to_numpy() - f[f"v_lag{k}"].to_numpy())


def test_sorted_lookup_agrees_with_dense_table(monkeypatch):
    """Big sparse panels use a sort-based lookup; it must give the same lags and neighbours."""
    rng = np.random.default_rng(7)
    units = [f"r{i}" for i in range(15)]
    rows = [{"unit": u, "year": y, "deaths": 1, "x": float(rng.normal()), "v": float(rng.normal())}
            for u in units for y in range(1990, 2010) if rng.random() > 0.3]
    nb = {u: [w for w in units if w != u and rng.random() < 0.3] or [units[0]] for u in units[1:]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)   # gaps, units without neighbours
        panel = cp.load_panel(pd.DataFrame(rows), unit="unit", time="year", outcome="deaths",
                              treatment="x", neighbours=nb)

    def run(p: cp.Panel) -> pd.DataFrame:
        return (p.lag("v", 2).lead("v", 1).diff("v", 3)
                .neighbour_mean("v", missing="available").neighbour_sum("v").to_frame())

    dense = run(panel)
    monkeypatch.setattr(tr._lookup, "_DENSE_ROWS_FACTOR", 0)
    monkeypatch.setattr(tr._lookup, "_DENSE_MIN_CELLS", 0)
    pd.testing.assert_frame_equal(run(panel), dense)
    assert dense["v_lag2"].notna().sum() > 20 and dense["v_nb_sum"].notna().sum() > 20


# ------------------------------------------------------------------------- neighbours
@pytest.fixture
def spatial() -> cp.Panel:
    """Units A, B, C, D over 2000-2001; D has no neighbours; C lacks 2001; B's v 2001 missing."""
    df = pd.DataFrame({
        "unit": ["A", "A", "B", "B", "C", "D", "D"],
        "year": [2000, 2001, 2000, 2001, 2000, 2000, 2001],
        "deaths": [1, 2, 3, 4, 5, 6, 7],
        "x": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        "v": [1.0, 2.0, 10.0, None, 100.0, 1000.0, 2000.0],
    })
    with pytest.warns(DataWarning, match="'D'"):
        return load(df, neighbours={"A": ["B", "C"], "B": ["A", "C"], "C": ["A"]})


def test_neighbour_mean_propagate(spatial):
    new = spatial.neighbour_mean("v")
    # A2000: (10+100)/2; A2001: B missing, C absent -> NaN; B2000: (1+100)/2; B2001: C absent
    # C2000: A=1; D: no neighbours
    np.testing.assert_array_equal(new.column("v_nb_mean").to_numpy(),
                                  [55.0, np.nan, 50.5, np.nan, 1.0, np.nan, np.nan])
    assert new.columns == (*spatial.columns, "v_nb_mean")


def test_neighbour_mean_available_with_count(spatial):
    new = spatial.neighbour_mean("v", missing="available")
    np.testing.assert_array_equal(new.column("v_nb_mean").to_numpy(),
                                  [55.0, np.nan, 50.5, 2.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(new.column("v_nb_mean_n").to_numpy(), [2, 0, 2, 1, 1, 0, 0])
    assert new.history[-1] == TransformRecord(
        "neighbour_mean", {"column": "v", "missing": "available", "name": "v_nb_mean"},
        ("v_nb_mean", "v_nb_mean_n"))


def test_neighbour_sum_propagate(spatial):
    new = spatial.neighbour_sum("v", name="nb")
    np.testing.assert_array_equal(new.column("nb").to_numpy(),
                                  [110.0, np.nan, 101.0, np.nan, 1.0, np.nan, np.nan])


def test_neighbour_sum_available(spatial):
    new = spatial.neighbour_sum("v", missing="available")
    np.testing.assert_array_equal(new.column("v_nb_sum").to_numpy(),
                                  [110.0, np.nan, 101.0, 2.0, 1.0, np.nan, np.nan])


def test_neighbour_with_no_rows_in_panel_is_missing():
    # C's only row is dropped at loading (missing outcome), so C counts as missing everywhere
    df = pd.DataFrame({"unit": ["A", "B", "C"], "year": [2000] * 3, "deaths": [1, 2, None],
                       "x": [0.0, 1.0, 1.0], "v": [1.0, 2.0, 3.0]})
    panel = load(df, neighbours={"A": ["B", "C"], "B": ["A"], "C": ["A"]})
    assert len(panel.drop_log) == 1
    np.testing.assert_array_equal(panel.neighbour_mean("v").column("v_nb_mean").to_numpy(),
                                  [np.nan, 1.0])
    np.testing.assert_array_equal(
        panel.neighbour_mean("v", missing="available").column("v_nb_mean").to_numpy(), [2.0, 1.0])


def test_neighbour_mean_without_adjacency_raises(annual):
    with pytest.raises(TransformError, match=r"no adjacency\. Pass neighbours= to load_panel"):
        annual.neighbour_mean("x")


def test_neighbour_unknown_missing_policy_raises(spatial):
    with pytest.raises(TransformError, match=r"missing='skip'.*'propagate'.*'available'"):
        spatial.neighbour_sum("v", missing="skip")


def test_neighbour_mean_matches_reference_on_random_panel():
    rng = np.random.default_rng(20261127)
    units = [f"r{i}" for i in range(12)]
    rows = [{"unit": u, "year": y, "deaths": 1, "x": float(rng.integers(0, 2)),
             "v": float(rng.normal()) if rng.random() > 0.1 else None}
            for u in units for y in range(2000, 2008) if rng.random() > 0.15]
    df = pd.DataFrame(rows)
    nb = {u: [w for w in units if w != u and rng.random() < 0.3] for u in units}
    nb = {u: ws for u, ws in nb.items() if ws}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)   # units without neighbours, gaps
        panel = cp.load_panel(df, unit="unit", time="year", outcome="deaths", treatment="x",
                              neighbours=nb)
    got = keyed(panel.neighbour_mean("v", missing="available"), "v_nb_mean")
    got_prop = keyed(panel.neighbour_mean("v", name="p"), "p")
    values = {(r.unit, r.year): r.v for r in df.itertuples()}
    n_checked = 0
    for (u, y) in values:
        vals = [values.get((w, y)) for w in nb.get(u, [])]
        present = [a for a in vals if a is not None and not pd.isna(a)]
        want = np.mean(present) if present else np.nan
        want_prop = np.mean(present) if present and len(present) == len(vals) else np.nan
        np.testing.assert_allclose(got[(u, y)], want, rtol=1e-12)
        np.testing.assert_allclose(got_prop[(u, y)], want_prop, rtol=1e-12)
        n_checked += not np.isnan(want_prop)
    assert n_checked > 5   # the reference really compares numbers, not only NaNs


# -------------------------------------------------------------------------- aggregate
@pytest.fixture
def monthly() -> cp.Panel:
    """Units A and B, 24 months each (2000-2001); simple closed-form values."""
    months = pd.period_range("2000-01", "2001-12", freq="M")
    rows = []
    for u, scale in (("A", 1.0), ("B", 2.0)):
        for i, m in enumerate(months):
            rows.append({"unit": u, "month": str(m), "deaths": i + 1, "x": scale * (i % 2),
                         "population": 100.0 * (i + 1), "rate": scale * i, "label": f"{u}{i}"})
    return load(pd.DataFrame(rows), time="month", outcome={"deaths": "count", "rate": "rate"},
                treatment={"x": "continuous"}, exposure="population")


MONTHLY_RULES = {"x": "mean", "label": "last"}


def test_aggregate_month_to_year_defaults_sum_and_mean(monthly):
    yearly = monthly.aggregate("Y", rules=MONTHLY_RULES)
    expected = pd.DataFrame({
        "unit": ["A", "A", "B", "B"],
        "month": pd.PeriodIndex(["2000", "2001", "2000", "2001"], freq="Y"),
        "deaths": [78.0, 222.0, 78.0, 222.0],             # sum(1..12), sum(13..24)
        "x": [0.5, 0.5, 1.0, 1.0],
        "population": [650.0, 1850.0, 650.0, 1850.0],      # mean(100..1200), mean(1300..2400)
        "rate": [5.5, 17.5, 11.0, 35.0],
        "label": ["A11", "A23", "B11", "B23"],
    })
    pd.testing.assert_frame_equal(yearly.to_frame(), expected, check_dtype=False)
    assert yearly.freq == "Y"
    assert yearly.history[-1] == TransformRecord(
        "aggregate",
        {"to": "Y", "from": "M",
         "rules": {"deaths": "sum", "x": "mean", "population": "mean", "rate": "mean",
                   "label": "last"},
         "incomplete": "error"}, ())
    np.testing.assert_array_equal(yearly.source_rows, [1, 13, 25, 37])
    assert dict(yearly.outcome_kinds) == {"deaths": "count", "rate": "rate"}


def test_aggregate_weighted_mean(monthly):
    yearly = monthly.aggregate("Y", rules={**MONTHLY_RULES,
                                           "rate": ("weighted_mean", "population")})
    # A 2000: sum(i * 100(i+1), i=0..11) / sum(100(i+1)) = 572/78
    a2000 = sum(i * (i + 1) for i in range(12)) / sum(i + 1 for i in range(12))
    a2001 = sum(i * (i + 1) for i in range(12, 24)) / sum(i + 1 for i in range(12, 24))
    np.testing.assert_allclose(yearly.column("rate").to_numpy(),
                               [a2000, a2001, 2 * a2000, 2 * a2001], rtol=1e-12)
    assert yearly.history[-1].params["rules"]["rate"] == ("weighted_mean", "population")


def test_aggregate_month_to_quarter(monthly):
    quarterly = monthly.aggregate("Q", rules={"x": "max", "label": "first", "rate": "min"})
    f = quarterly.to_frame()
    assert len(f) == 16
    assert [str(p) for p in f["month"][:3]] == ["2000Q1", "2000Q2", "2000Q3"]
    np.testing.assert_array_equal(f["deaths"].to_numpy()[:3], [6.0, 15.0, 24.0])
    np.testing.assert_array_equal(f["rate"].to_numpy()[:3], [0.0, 3.0, 6.0])
    np.testing.assert_array_equal(f["x"].to_numpy()[:3], [1.0, 1.0, 1.0])
    assert f["label"].tolist()[:3] == ["A0", "A3", "A6"]
    assert quarterly.freq == "Q"


def test_aggregate_quarter_to_year():
    df = pd.DataFrame({"unit": ["A"] * 8, "year": [f"{y}Q{q}" for y in (2000, 2001) for q in range(1, 5)],
                       "deaths": [1, 2, 3, 4, 5, 6, 7, 8], "x": [0.0, 0, 1, 1, 1, 1, 1, 1]})
    yearly = load(df, treatment={"x": "continuous"}).aggregate("Y", rules={"x": "mean"})
    np.testing.assert_array_equal(yearly.column("deaths").to_numpy(), [10.0, 26.0])
    np.testing.assert_array_equal(yearly.column("x").to_numpy(), [0.5, 1.0])
    assert [str(p) for p in yearly.column("year")] == ["2000", "2001"]


def test_aggregate_day_to_month_uses_calendar_month_lengths():
    days = pd.period_range("2001-02-01", "2001-03-31", freq="D")   # 28 + 31 days
    df = pd.DataFrame({"unit": "A", "day": [str(d) for d in days], "deaths": 1,
                       "x": np.linspace(0, 1, len(days))})
    monthly = load(df, time="day").aggregate("M", rules={"x": "first"})
    np.testing.assert_array_equal(monthly.column("deaths").to_numpy(), [28.0, 31.0])
    np.testing.assert_allclose(monthly.column("x").to_numpy(), [0.0, 28 / 58], rtol=1e-12)


def test_aggregate_incomplete_year_error_names_unit_period_and_count(monthly):
    df = frame_of(monthly)
    panel = load(df.drop(index=[5]), time="month", outcome={"deaths": "count", "rate": "rate"},
                 treatment={"x": "continuous"}, exposure="population")
    with pytest.raises(TransformError,
                       match=r"1 unit-period\(s\) lack some months: A 2000: 11 of 12 months\..*"
                             r"incomplete='drop'.*incomplete='keep'"):
        panel.aggregate("Y", rules=MONTHLY_RULES)


def test_aggregate_incomplete_drop_records_source_rows(monthly):
    df = frame_of(monthly)
    panel = load(df.drop(index=[5]), time="month", outcome={"deaths": "count", "rate": "rate"},
                 treatment={"x": "continuous"}, exposure="population")
    yearly = panel.aggregate("Y", rules=MONTHLY_RULES, incomplete="drop")
    f = yearly.to_frame()
    assert f["unit"].tolist() == ["A", "B", "B"]
    assert [str(p) for p in f["month"]] == ["2001", "2000", "2001"]
    np.testing.assert_array_equal(f["deaths"].to_numpy(), [222.0, 78.0, 222.0])
    log = yearly.drop_log
    assert len(log) == 11
    # the loaded frame had source row 6 removed, so A 2000 spans source rows 1-5 and 6-11
    assert log["source_row"].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert log["time"].tolist() == ["2000-01", "2000-02", "2000-03", "2000-04", "2000-05",
                                    "2000-07", "2000-08", "2000-09", "2000-10", "2000-11",
                                    "2000-12"]
    assert set(log["unit"]) == {"A"}
    assert set(log["column"]) == {"month"}
    assert set(log["stage"]) == {"aggregate"}
    assert set(log["reason"]) == {
        "incomplete period 2000 (11 of 12 months) when aggregating to years"}
    np.testing.assert_array_equal(yearly.source_rows, [12, 24, 36])
    # accounting: source rows = aggregated fine rows (36) + drop log (11)
    assert panel.metadata.n_source_rows == 47
    assert len(panel.drop_log) == 0


def test_aggregate_incomplete_keep_with_count(monthly):
    df = frame_of(monthly)
    panel = load(df.drop(index=[0, 23]), time="month", outcome={"deaths": "count", "rate": "rate"},
                 treatment={"x": "continuous"}, exposure="population")
    yearly = panel.aggregate("Y", rules=MONTHLY_RULES, incomplete="keep", count_name="n_months")
    np.testing.assert_array_equal(yearly.column("n_months").to_numpy(), [11, 11, 12, 12])
    np.testing.assert_array_equal(yearly.column("deaths").to_numpy(), [77.0, 198.0, 78.0, 222.0])
    assert yearly.history[-1].created == ("n_months",)
    assert len(yearly.drop_log) == 0


def test_aggregate_missing_value_makes_group_missing(monthly):
    df = frame_of(monthly, v=[np.nan] + [1.0] * 47)
    panel = load(df, time="month", outcome={"deaths": "count", "rate": "rate"},
                 treatment={"x": "continuous"}, exposure="population")
    yearly = panel.aggregate("Y", rules={**MONTHLY_RULES, "v": "sum"})
    np.testing.assert_array_equal(yearly.column("v").to_numpy(), [np.nan, 12.0, 12.0, 12.0])


def test_aggregate_rule_required_lists_columns(monthly):
    with pytest.raises(TransformError, match=r"column\(s\) 'x', 'label' have no aggregation rule"):
        monthly.aggregate("Y")


def test_aggregate_unknown_rule_raises(monthly):
    with pytest.raises(TransformError, match=r"unknown rule 'median' for column 'x'.*'sum', 'mean'"):
        monthly.aggregate("Y", rules={"x": "median", "label": "last"})


def test_aggregate_rule_for_unknown_column_suggests(monthly):
    with pytest.raises(ColumnNotFoundError, match=r"'lable'.*did you mean 'label'"):
        monthly.aggregate("Y", rules={"x": "mean", "lable": "last"})


def test_aggregate_numeric_rule_on_text_raises(monthly):
    with pytest.raises(NonNumericError, match=r"'label' holds"):
        monthly.aggregate("Y", rules={"x": "mean", "label": "sum"})


@pytest.mark.parametrize("to", ["M", "D"], ids=["same", "finer"])
def test_aggregate_must_be_coarser(monthly, to):
    with pytest.raises(TransformError, match="not coarser"):
        monthly.aggregate(to, rules=MONTHLY_RULES)


def test_aggregate_unknown_frequency(monthly):
    with pytest.raises(TimeParseError, match="Unknown time frequency 'decade'"):
        monthly.aggregate("decade", rules=MONTHLY_RULES)


def test_aggregate_weekly_panel_refused():
    df = pd.DataFrame({"unit": "A", "week": ["2001-01-01", "2001-01-08", "2001-01-15"],
                       "deaths": [1, 2, 3], "x": [0.0, 1.0, 0.0]})
    panel = load(df, time="week", freq="W")
    assert panel.freq == "W"
    with pytest.raises(TransformError, match="weekly periods do not nest"):
        panel.aggregate("M", rules={"x": "mean"})


def test_aggregate_count_with_mean_rule_raises(monthly):
    with pytest.raises(TransformError, match=r"turns outcome 'deaths' \(a count\).*use 'sum'"):
        monthly.aggregate("Y", rules={**MONTHLY_RULES, "deaths": "mean"})


def test_aggregate_binary_treatment_mean_raises():
    df = pd.DataFrame({"unit": ["A"] * 4, "year": [f"2000Q{q}" for q in range(1, 5)],
                       "deaths": [1, 2, 3, 4], "x": [0.0, 1.0, 1.0, 0.0]})
    panel = load(df)
    assert panel.treatment_kinds["x"] == "binary"
    with pytest.raises(TransformError, match=r"treatment 'x' \(a binary\).*use 'max'"):
        panel.aggregate("Y", rules={"x": "mean"})
    np.testing.assert_array_equal(panel.aggregate("Y", rules={"x": "max"}).column("x").to_numpy(),
                                  [1.0])


def test_aggregate_zero_weights_raise(monthly):
    df = frame_of(monthly, w=0.0)
    panel = load(df, time="month", outcome={"deaths": "count", "rate": "rate"},
                 treatment={"x": "continuous"}, exposure="population")
    with pytest.raises(TransformError, match=r"sum to 0 in 4 unit-period\(s\) \(A 2000, A 2001"):
        panel.aggregate("Y", rules={**MONTHLY_RULES, "w": "sum", "rate": ("weighted_mean", "w")})


def test_aggregate_count_name_clash_raises(monthly):
    with pytest.raises(TransformError, match=r"'label' already exist.*pass another count_name"):
        monthly.aggregate("Y", rules=MONTHLY_RULES, count_name="label")


def test_aggregate_keeps_neighbours_and_roles():
    df = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4, "year": [f"2000Q{q}" for q in range(1, 5)] * 2,
                       "deaths": [1, 2, 3, 4, 5, 6, 7, 8], "x": [0.0, 1, 0, 0, 0, 0, 0, 0]})
    panel = load(df, neighbours={"A": ["B"], "B": ["A"]})
    yearly = panel.aggregate("Y", rules={"x": "max"})
    assert dict(yearly.neighbours) == {"A": ("B",), "B": ("A",)}
    assert yearly.roles == panel.roles
    np.testing.assert_array_equal(yearly.neighbour_sum("deaths").column("deaths_nb_sum").to_numpy(),
                                  [26.0, 10.0])


# ----------------------------------------------------------------------------- prices
def test_deflate_default_base_100(annual):
    new = annual.deflate("price", "cpi")
    np.testing.assert_allclose(new.column("price_real").to_numpy(),
                               [100.0, 100.0, 110.0, 110.0, 50.0, 48.0, 50.0], rtol=1e-12)


def test_deflate_base_period_per_unit(annual):
    new = annual.deflate("price", "cpi", base=2001, name="p2001")
    # A: cpi 2001 = 110; B: cpi 2001 = 125
    np.testing.assert_allclose(new.column("p2001").to_numpy(),
                               [110.0, 110.0, 121.0, 121.0, 62.5, 60.0, 62.5], rtol=1e-12)
    assert new.history[-1] == TransformRecord(
        "deflate", {"price": "price", "index": "cpi", "base": 2001, "name": "p2001"}, ("p2001",))


def test_deflate_base_year_on_monthly_panel_uses_year_mean():
    df = pd.DataFrame({"unit": "A", "month": [f"2000-{m:02d}" for m in range(1, 13)] + ["2001-01"],
                       "deaths": 1, "x": [0.0, 1.0] * 6 + [0.0], "price": 10.0,
                       "cpi": [90.0 + m for m in range(1, 13)] + [110.0]})
    panel = load(df, time="month", covariates=["price", "cpi"])
    got = panel.deflate("price", "cpi", base=2000).column("price_real").to_numpy()
    mean_2000 = np.mean([90.0 + m for m in range(1, 13)])    # 96.5
    np.testing.assert_allclose(got[-1], 10.0 * mean_2000 / 110.0, rtol=1e-12)
    np.testing.assert_allclose(got[0], 10.0 * mean_2000 / 91.0, rtol=1e-12)


def test_deflate_missing_base_period_raises(annual):
    with pytest.raises(TransformError, match=r"base=2002 needs the index 'cpi'.*'B' has fewer"):
        annual.deflate("price", "cpi", base=2002)


@pytest.mark.parametrize("base", ["2001-06", "soon"], ids=["finer", "not-a-period"])
def test_deflate_bad_base_raises(annual, base):
    with pytest.raises(TransformError, match=rf"base={base!r}"):
        annual.deflate("price", "cpi", base=base)


def test_deflate_nonpositive_index_raises(annual):
    df = frame_of(annual, cpi=[100.0, 0.0, 110.0, 121.0, 100.0, 125.0, 140.0])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"zero or negative in 1 row: A 2001 \(source row 2"):
        panel.deflate("price", "cpi")


def test_pure_price_fraction(annual):
    new = annual.pure_price("price", "purity")
    np.testing.assert_allclose(new.column("price_pure").to_numpy(),
                               [200.0, 440.0, 302.5, 166.375, 50.0, 300.0, 100.0], rtol=1e-12)


def test_pure_price_percent(annual):
    df = frame_of(annual, pct=annual.column("purity") * 100)
    panel = load(df, exposure="population")
    new = panel.pure_price("price", "pct", scale="percent", name="pp")
    np.testing.assert_allclose(new.column("pp").to_numpy(),
                               [200.0, 440.0, 302.5, 166.375, 50.0, 300.0, 100.0], rtol=1e-12)


def test_pure_price_zero_purity_names_rows(annual):
    df = frame_of(annual, purity=[0.5, 0.0, 0.4, 0.8, 1.0, 0.2, 0.7])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"is 0 in 1 row: A 2001 \(source row 2\)"):
        panel.pure_price("price", "purity")


def test_pure_price_percent_values_with_fraction_scale_hint(annual):
    df = frame_of(annual, purity=[50.0, 25.0, 40.0, 80.0, 100.0, 20.0, 70.0])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"\[0, 1\].*7 rows.*pass scale='percent'"):
        panel.pure_price("price", "purity")


def test_pure_price_negative_percent_raises(annual):
    df = frame_of(annual, purity=[50.0, -1.0, 40.0, 80.0, 100.0, 20.0, 70.0])
    panel = load(df, exposure="population")
    with pytest.raises(TransformError, match=r"\[0, 100\].*1 row: A 2001"):
        panel.pure_price("price", "purity", scale="percent")


def test_pure_price_unknown_scale(annual):
    with pytest.raises(TransformError, match="unknown scale='ratio'"):
        annual.pure_price("price", "purity", scale="ratio")


# --------------------------------------------------------------------------- harmonic
def test_harmonic_values_and_names(annual):
    new = annual.harmonic(14, order=2)
    t = np.array([0, 1, 2, 3, 0, 1, 3], dtype=float)
    for k in (1, 2):
        np.testing.assert_allclose(new.column(f"sin14_{k}").to_numpy(),
                                   np.sin(2 * np.pi * k * t / 14), atol=1e-15)
        np.testing.assert_allclose(new.column(f"cos14_{k}").to_numpy(),
                                   np.cos(2 * np.pi * k * t / 14), atol=1e-15)
    assert new.history[-1].created == ("sin14_1", "cos14_1", "sin14_2", "cos14_2")


def test_harmonic_prefix_and_origin(annual):
    new = annual.harmonic(4, name="cycle", origin=1999)
    np.testing.assert_allclose(new.column("cycle_sin1").to_numpy(),
                               [1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(new.column("cycle_cos1").to_numpy(),
                               [0.0, -1.0, 0.0, 1.0, 0.0, -1.0, 1.0], atol=1e-12)


def test_harmonic_fractional_period_name(annual):
    new = annual.harmonic(2.5)
    np.testing.assert_allclose(new.column("sin2p5_1").to_numpy()[:2],
                               [0.0, math.sin(2 * math.pi / 2.5)], atol=1e-15)


def test_harmonic_monthly_seasonality():
    df = pd.DataFrame({"unit": "A", "month": [f"2000-{m:02d}" for m in range(1, 13)],
                       "deaths": 1, "x": [0.0, 1.0] * 6})
    new = load(df, time="month").harmonic(12)
    np.testing.assert_allclose(new.column("cos12_1").to_numpy()[[0, 3, 6]], [1.0, 0.0, -1.0],
                               atol=1e-12)


@pytest.mark.parametrize(("period", "order"), [(4, 2), (2, 1), (14, 7)],
                         ids=["4-2", "2-1", "14-7"])
def test_harmonic_order_too_high_raises(annual, period, order):
    with pytest.raises(TransformError, match="alias"):
        annual.harmonic(period, order=order)


# ------------------------------------------------------------------- shared behaviour
TRANSFORMS = {
    "rate": (lambda p, **kw: p.rate("deaths", **kw), "deaths_per_100k"),
    "per_capita": (lambda p, **kw: p.per_capita("x", **kw), "x_per_capita"),
    "log": (lambda p, **kw: p.log("x", **kw), "log_x"),
    "lag": (lambda p, **kw: p.lag("x", **kw), "x_lag1"),
    "lead": (lambda p, **kw: p.lead("x", **kw), "x_lead1"),
    "diff": (lambda p, **kw: p.diff("x", **kw), "x_diff1"),
    "deflate": (lambda p, **kw: p.deflate("price", "cpi", **kw), "price_real"),
    "pure_price": (lambda p, **kw: p.pure_price("price", "purity", **kw), "price_pure"),
}


@pytest.mark.parametrize("which", list(TRANSFORMS), ids=list(TRANSFORMS))
def test_default_name_clash_raises_and_name_fixes_it(annual, which):
    make, default = TRANSFORMS[which]
    once = make(annual)
    with pytest.raises(TransformError, match=rf"'{default}' already exist.*pass name="):
        make(once)
    twice = make(once, name="second")
    np.testing.assert_array_equal(twice.column("second").to_numpy(),
                                  once.column(default).to_numpy())


@pytest.mark.parametrize("which", list(TRANSFORMS), ids=list(TRANSFORMS))
def test_input_panel_unchanged(annual, which):
    make, default = TRANSFORMS[which]
    before = frame_snapshot(annual)
    new = make(annual)
    after = frame_snapshot(annual)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1] == ()
    pd.testing.assert_frame_equal(after[2], before[2])
    np.testing.assert_array_equal(after[3], before[3])
    assert default not in annual.columns
    assert new.history[-1].created == (default,)
    assert new.history[-1].name == which


def test_aggregate_leaves_input_unchanged(monthly):
    before = frame_snapshot(monthly)
    monthly.aggregate("Y", rules=MONTHLY_RULES)
    after = frame_snapshot(monthly)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1]
    pd.testing.assert_frame_equal(after[2], before[2])
    np.testing.assert_array_equal(after[3], before[3])
    assert monthly.freq == "M"


def test_neighbour_leaves_input_unchanged(spatial):
    before = frame_snapshot(spatial)
    spatial.neighbour_mean("v", missing="available")
    after = frame_snapshot(spatial)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1]


def test_unknown_column_suggests_close_match(annual):
    with pytest.raises(ColumnNotFoundError, match=r"column='deahts'.*did you mean 'deaths'"):
        annual.lag("deahts")


@pytest.mark.parametrize("column", ["unit", "year"], ids=["unit", "time"])
def test_key_columns_refused(annual, column):
    with pytest.raises(TransformError, match="key; transforms apply to value columns"):
        annual.lag(column)


def test_text_column_refused(annual):
    with pytest.raises(NonNumericError, match=r"column 'label' holds .* \(e.g. 'a0'\)"):
        annual.lag("label")


def test_function_and_method_agree(annual):
    pd.testing.assert_frame_equal(tr.rate(annual, "deaths", per=1000).to_frame(),
                                  annual.rate("deaths", per=1000).to_frame())


def test_function_refuses_dataframe(annual):
    with pytest.raises(TransformError, match="needs a causalpolicing Panel"):
        tr.lag(annual.to_frame(), "x")


def test_history_chain_and_roles_on_transformed_column(annual):
    new = annual.lag("x").diff("x").with_roles(treatment="x_lag1", covariates=["x_diff1"])
    assert [r.name for r in new.history] == ["lag", "diff", "with_roles"]
    assert new.treatment == "x_lag1"
    assert dict(new.treatment_kinds) == {"x_lag1": "continuous"}
    assert new.covariates == ("x_diff1",)


def test_with_roles_rejects_unknown_transformed_column(annual):
    with pytest.raises(ColumnNotFoundError, match="'x_lag1' not in the panel"):
        annual.with_roles(treatment="x_lag1")


def test_summary_of_aggregated_panel_states_the_aggregation() -> None:
    monthly = cp.datasets.load("simulated_crackdown")
    yearly = monthly.aggregate(to="Y", rules={
        "row": "first", "col": "first", "crackdown": "max", "neighbour_of_target": "max",
        "police_hours": "sum", "public_consumption": "sum"})
    summary = yearly.summary()
    assert summary.aggregated_from == "M"
    assert f"aggregated from M to years: {len(yearly)} rows in panel" in str(summary)
    assert monthly.summary().aggregated_from is None


def test_with_roles_rejects_unknown_covariate_with_column_not_found() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with pytest.raises(cp.exceptions.ColumnNotFoundError, match="unemploymnet"):
        panel.with_roles(covariates=["unemploymnet"])


def test_with_roles_rejects_text_covariate() -> None:
    panel = cp.datasets.load("simulated_cantons")
    with pytest.raises(cp.exceptions.NonNumericError, match="canton_name"):
        panel.with_roles(covariates=["canton_name"])
