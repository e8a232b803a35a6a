"""load_panel: roles, kinds, drop log, metadata, summary, warnings and neighbours."""

from __future__ import annotations

import hashlib
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.data import Panel
from causalpolicing.data.readers import DROP_LOG_COLUMNS
from causalpolicing.exceptions import (
    DataWarning,
    FewUnitsWarning,
    GapWarning,
    NoWithinVariationWarning,
    PanelError,
)

ROLES = {"unit": "u", "time": "t", "outcome": "y", "treatment": "x"}


def balanced(n_units: int = 5, n_years: int = 3, seed: int = 0) -> pd.DataFrame:
    """A balanced panel with a time-varying treatment (no warnings expected)."""
    rng = np.random.default_rng(seed)
    n = n_units * n_years
    return pd.DataFrame({
        "u": np.repeat([f"U{i}" for i in range(n_units)], n_years),
        "t": np.tile(np.arange(2000, 2000 + n_years), n_units),
        "y": rng.poisson(5, n).astype(float),
        "x": rng.normal(size=n),
        "pop": rng.integers(1000, 2000, n).astype(float),
        "z": rng.normal(size=n),
    })


def load_quietly(source, **kwargs) -> Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(source, **{**ROLES, **kwargs})


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------ the frame
def test_frame_is_sorted_typed_and_complete() -> None:
    df = pd.DataFrame({
        "u": ["ZH", "BE", "ZH", "BE"], "t": ["2001", "2001", "2000", "2000"],
        "y": [3, 4, 1, 2], "x": [0.5, 0.1, 0.2, 0.3], "note": ["a", "b", "c", "d"],
    })
    panel = load_quietly(df)
    out = panel.to_frame()
    assert out["u"].tolist() == ["BE", "BE", "ZH", "ZH"]
    assert [str(p) for p in out["t"]] == ["2000", "2001", "2000", "2001"]
    assert out["y"].tolist() == [2.0, 4.0, 1.0, 3.0]
    assert out["x"].tolist() == [0.3, 0.1, 0.2, 0.5]
    assert out["note"].tolist() == ["d", "b", "c", "a"]  # other columns come along untouched
    assert str(out["t"].dtype) == "period[Y-DEC]"
    assert out["y"].dtype == np.float64 and out["x"].dtype == np.float64
    assert panel.source_rows.tolist() == [4, 2, 3, 1]
    assert panel.to_frame(source_row=True)["source_row"].tolist() == [4, 2, 3, 1]
    assert (panel.unit, panel.time, panel.freq) == ("u", "t", "Y")
    assert len(panel) == 4 and len(panel.drop_log) == 0


def test_input_frame_is_not_mutated() -> None:
    df = balanced()
    df.loc[3, "y"] = np.nan
    before = df.copy()
    load_quietly(df, exposure="pop", covariates=["z"])
    pd.testing.assert_frame_equal(df, before)


def test_panel_is_immutable_and_to_frame_is_a_copy() -> None:
    panel = load_quietly(balanced())
    with pytest.raises(AttributeError):
        panel.freq = "M"  # type: ignore[misc]
    out = panel.to_frame()
    out.loc[0, "y"] = -99.0
    assert panel.to_frame().loc[0, "y"] != -99.0
    log = panel.drop_log
    log.loc[0] = [1, "A", "2000", "y", "x", "load"]
    assert len(panel.drop_log) == 0


@pytest.mark.parametrize(
    ("outcome", "values", "kind"),
    [
        ("y", [0, 3, 7, 2, 1, 4], "count"),
        ("y", [0.5, 3, 7, 2, 1, 4], "continuous"),
        ("y", [-1, 3, 7, 2, 1, 4], "continuous"),
        ({"y": "rate"}, [0.5, 3, 7, 2, 1, 4], "rate"),
        ({"y": "continuous"}, [0, 3, 7, 2, 1, 4], "continuous"),
        ({"y": "binary"}, [0, 1, 1, 0, 1, 0], "binary"),
        ({"y": None}, [0, 3, 7, 2, 1, 4], "count"),
        ({"y": "auto"}, [0, 3, 7, 2, 1, 4], "count"),
    ],
    ids=["inferred-count", "inferred-continuous", "negative-is-continuous", "declared-rate",
         "declared-continuous", "declared-binary", "none-infers", "auto-infers"],
)
def test_outcome_kinds(outcome, values, kind) -> None:
    df = pd.DataFrame({"u": list("AABBCC"), "t": [1, 2] * 3, "y": values,
                       "x": [0.1, 0.2, 0.3, 0.5, 0.4, 0.1]})
    df["t"] += 1999
    panel = load_quietly(df, outcome=outcome)
    assert dict(panel.outcome_kinds) == {"y": kind}


@pytest.mark.parametrize(
    ("values", "kind"),
    [([0, 1, 1, 0, 0, 1], "binary"), ([0, 1, 2, 0, 0, 1], "continuous"),
     ([0.5, 1, 1, 0, 0, 1], "continuous"), ([True, False, True, True, False, False], "binary")],
    ids=["zero-one", "counts", "fractions", "booleans"],
)
def test_treatment_kinds(values, kind) -> None:
    df = pd.DataFrame({"u": list("AABBCC"), "t": [2000, 2001] * 3, "y": [1, 2, 3, 4, 5, 6],
                       "x": values})
    assert dict(load_quietly(df).treatment_kinds) == {"x": kind}


def test_several_outcomes_treatments_covariates_and_clusters() -> None:
    df = balanced()
    df["y2"] = df["y"] / 2
    df["region"] = np.where(df["u"].isin(["U0", "U1"]), "east", "west")
    df["x2"] = (df["x"] > 0).astype(int)
    panel = load_quietly(df, outcome={"y": "count", "y2": "rate"}, treatment=["x", "x2"],
                         exposure="pop", covariates=["z"], cluster=["region", "u"])
    assert panel.outcomes == ("y", "y2")
    assert dict(panel.outcome_kinds) == {"y": "count", "y2": "rate"}
    assert panel.treatments == ("x", "x2")
    assert dict(panel.treatment_kinds) == {"x": "continuous", "x2": "binary"}
    assert panel.exposure == "pop"
    assert panel.covariates == ("z",)
    assert panel.clusters == ("region", "u")
    assert panel.roles.as_dict() == {
        "unit": "u", "time": "t", "outcomes": {"y": "count", "y2": "rate"},
        "treatments": {"x": "continuous", "x2": "binary"}, "exposure": "pop",
        "covariates": ["z"], "clusters": ["region", "u"],
    }


def test_integral_float_unit_codes_become_integers() -> None:
    df = balanced()
    df["u"] = df["u"].str[1:].astype(float) + 1001.0
    panel = load_quietly(df)
    assert panel.to_frame()["u"].tolist()[:3] == [1001, 1001, 1001]
    assert panel.to_frame()["u"].dtype == np.int64


def test_unit_labels_are_stripped_text() -> None:
    df = balanced(n_units=2, n_years=2)
    df["u"] = [" ZH", "ZH ", "BE", " BE "]
    panel = load_quietly(df)
    assert panel.to_frame()["u"].tolist() == ["BE", "BE", "ZH", "ZH"]


# -------------------------------------------------------------------- drop log
def test_drop_log_records_every_excluded_row_with_its_reasons() -> None:
    df = balanced()
    df.loc[1, "y"] = np.nan
    df.loc[4, ["x", "z"]] = np.nan
    df.loc[7, "pop"] = 0.0
    df.loc[7, "y"] = 0.0
    df["region"] = ["r"] * len(df)
    df.loc[9, "region"] = None
    panel = load_quietly(df, exposure="pop", covariates=["z"], cluster="region")
    log = panel.drop_log
    assert list(log.columns) == DROP_LOG_COLUMNS
    assert log.to_dict("records") == [
        {"source_row": 2, "unit": "U0", "time": "2001", "column": "y",
         "reason": "missing outcome 'y'", "stage": "load"},
        {"source_row": 5, "unit": "U1", "time": "2001", "column": "x, z",
         "reason": "missing treatment 'x'; missing covariate 'z'", "stage": "load"},
        {"source_row": 8, "unit": "U2", "time": "2001", "column": "pop",
         "reason": "zero exposure 'pop' (nobody at risk)", "stage": "load"},
        {"source_row": 10, "unit": "U3", "time": "2000", "column": "region",
         "reason": "missing cluster 'region'", "stage": "load"},
    ]
    assert len(panel) + len(log) == len(df)
    assert sorted([*panel.source_rows, *log["source_row"]]) == list(range(1, len(df) + 1))


def test_drop_log_combines_reader_and_load_stages(tmp_path: Path) -> None:
    text = "u,t,y,x\nA,2000,1,1\n\nA,2001,,2\nB,2000,3,3\n,,,\nB,2001,4,NA\nC,2000,1,1\nC,2001,2,2\n"
    panel = load_quietly(write(tmp_path / "p.csv", text))
    log = panel.drop_log
    assert log["source_row"].tolist() == [2, 3, 5, 6]
    assert log["stage"].tolist() == ["reader", "load", "reader", "load"]
    assert log["reason"].tolist() == ["blank row: every cell is empty", "missing outcome 'y'",
                                      "blank row: every cell is empty",
                                      "missing treatment 'x'"]
    assert panel.metadata.n_source_rows == 8 == len(panel) + len(log)
    assert panel.source_rows.tolist() == [1, 4, 7, 8]


def test_na_values_are_read_as_missing_and_dropped() -> None:
    df = balanced()
    df["y"] = df["y"].astype(str)
    df.loc[2, "y"] = "."
    df.loc[5, "y"] = "NA"
    panel = load_quietly(df, na_values=["."])
    assert panel.drop_log["source_row"].tolist() == [3, 6]
    assert len(panel) == len(df) - 2


def test_many_dropped_rows_are_logged_quickly() -> None:
    rng = np.random.default_rng(1)
    df = balanced(n_units=2000, n_years=50, seed=1)
    miss = rng.random(len(df)) < 0.3
    df.loc[miss, "y"] = np.nan
    df.loc[rng.random(len(df)) < 0.1, "z"] = np.nan
    start = time.perf_counter()
    panel = load_quietly(df, covariates=["z"])
    elapsed = time.perf_counter() - start
    log = panel.drop_log
    expected = miss | df["z"].isna().to_numpy()
    assert log["source_row"].tolist() == (np.flatnonzero(expected) + 1).tolist()
    both = miss & df["z"].isna().to_numpy()
    assert (log["reason"] == "missing outcome 'y'; missing covariate 'z'").sum() == both.sum()
    assert elapsed < 20  # was Python-level per dropped row; now vectorised (~0.3 s here)


# -------------------------------------------------------------------- readers
def test_csv_with_decimal_comma_and_fips_codes(tmp_path: Path) -> None:
    text = "fips;year;deaths;rate\n01001;2000;3;1,5\n01001;2001;4;2,25\n06037;2000;5;0,5\n"
    panel = load_quietly(write(tmp_path / "d.csv", text), unit="fips", time="year",
                         outcome="deaths", treatment="rate", read_options={"decimal": ","})
    out = panel.to_frame()
    assert out["fips"].tolist() == ["01001", "01001", "06037"]
    assert out["rate"].tolist() == [1.5, 2.25, 0.5]
    assert panel.metadata.reader_info["decimal"] == ","


def test_csv_with_thousands_separator(tmp_path: Path) -> None:
    text = 'u,t,y,x\nA,2000,"1,234",1\nA,2001,"12,000",2\nB,2000,5,1\n'
    panel = load_quietly(write(tmp_path / "t.csv", text), read_options={"thousands": ","})
    assert panel.to_frame()["y"].tolist() == [1234.0, 12000.0, 5.0]


def test_latin1_canton_names_survive(tmp_path: Path) -> None:
    text = "canton;year;deaths;offences\nZürich;2000;3;1.5\nGenève;2000;4;2\n"
    panel = load_quietly(write(tmp_path / "l.csv", text, "latin-1"), unit="canton",
                         time="year", outcome="deaths", treatment="offences")
    assert panel.to_frame()["canton"].tolist() == ["Genève", "Zürich"]


def test_excel_source_with_sheet_and_title_rows(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["UNODC drug seizures"])
    sheet.append(["u", "t", "y", "x"])
    sheet.append(["CH", "2017-01-31", 3, 1.5])
    sheet.append(["CH", "2017-02-28", 4, 2.0])
    path = tmp_path / "x.xlsx"
    book.save(path)
    panel = load_quietly(path, read_options={"sheet": "Data", "skiprows": 1}, freq="M")
    assert [str(p) for p in panel.to_frame()["t"]] == ["2017-01", "2017-02"]
    assert panel.metadata.reader == "excel"
    assert panel.metadata.reader_info["sheet"] == "Data"


def test_stata_and_parquet_sources_give_the_same_panel(tmp_path: Path) -> None:
    df = balanced()
    df.to_stata(tmp_path / "b.dta", write_index=False)
    df.to_parquet(tmp_path / "b.parquet")
    a = load_quietly(tmp_path / "b.dta").to_frame()
    b = load_quietly(tmp_path / "b.parquet").to_frame()
    c = load_quietly(df).to_frame()
    pd.testing.assert_frame_equal(a[["u", "t", "y", "x"]], c[["u", "t", "y", "x"]])
    pd.testing.assert_frame_equal(b[["u", "t", "y", "x"]], c[["u", "t", "y", "x"]])


def test_csv_file_and_frame_give_the_same_panel(tmp_path: Path) -> None:
    df = balanced()
    df.to_csv(tmp_path / "b.csv", index=False)
    a = load_quietly(tmp_path / "b.csv").to_frame()
    c = load_quietly(df).to_frame()
    pd.testing.assert_frame_equal(a[["u", "t", "y", "x"]], c[["u", "t", "y", "x"]])


# ------------------------------------------------------------------- metadata
def test_metadata_of_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", "u;t;y;x\nA;2000;1;1\nA;2001;2;3\n")
    before = datetime.now(UTC).replace(microsecond=0)
    panel = load_quietly(path)
    meta = panel.metadata
    assert meta.source == str(path)
    assert meta.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta.reader == "csv"
    assert meta.n_source_rows == 2
    assert before <= datetime.fromisoformat(meta.loaded_at) <= datetime.now(UTC)
    assert meta.reader_info == {"delimiter": ";", "encoding": "utf-8", "engine": "pyarrow",
                                "decimal": ".",
                                "thousands": None, "dropped_empty_columns": ()}
    with pytest.raises(TypeError):
        meta.reader_info["delimiter"] = ","  # type: ignore[index]
    assert meta.as_dict()["sha256"] == meta.sha256


def test_metadata_of_a_frame() -> None:
    df = balanced()
    meta = load_quietly(df).metadata
    assert (meta.source, meta.reader, meta.n_source_rows) == ("<DataFrame>", "dataframe", 15)
    assert meta.sha256 == load_quietly(df.copy()).metadata.sha256
    changed = df.copy()
    changed.loc[0, "z"] = 99.0
    assert load_quietly(changed).metadata.sha256 != meta.sha256
    assert len(meta.sha256) == 64


# --------------------------------------------------------------------- summary
def test_summary_fields() -> None:
    df = balanced(n_units=5, n_years=4)
    df = df.drop(index=[1, 2]).reset_index(drop=True)  # U0 misses 2001 and 2002
    df.loc[5, "y"] = np.nan  # one dropped row (U1 2003): U1 then has no gap (end of span)
    df["const"] = df["u"].map({f"U{i}": float(i) for i in range(5)})
    panel = load_quietly(df, treatment=["x", "const"], covariates=["z"])
    s = panel.summary()
    assert (s.n_rows, s.n_units, s.n_periods) == (17, 5, 4)
    assert (s.first_period, s.last_period, s.freq) == ("2000", "2003", "Y")
    assert s.balanced is False
    assert (s.n_source_rows, s.n_dropped) == (18, 1)
    assert s.gaps.to_dict("records") == [
        {"unit": "U0", "n_missing": 2, "missing_periods": "2001, 2002"}]
    assert s.missingness.to_dict("records") == [
        {"column": "y", "role": "outcome (count)", "missing_in_panel": 0, "dropped_for": 1},
        {"column": "x", "role": "treatment (continuous)", "missing_in_panel": 0,
         "dropped_for": 0},
        {"column": "const", "role": "treatment (continuous)", "missing_in_panel": 0,
         "dropped_for": 0},
        {"column": "z", "role": "covariate", "missing_in_panel": 0, "dropped_for": 0},
        {"column": "pop", "role": "-", "missing_in_panel": 0, "dropped_for": 0},
    ]
    var = s.variation.set_index("column")
    assert list(var.index) == ["x", "const"]
    assert var.loc["const", "units_constant"] == 5
    assert var.loc["const", "sd_within"] == 0.0
    assert var.loc["const", "share_within"] == 0.0
    assert var.loc["x", "units_constant"] == 0
    frame = panel.to_frame()
    x = frame["x"]
    within = x - x.groupby(frame["u"]).transform("mean")
    assert var.loc["x", "sd_within"] == pytest.approx(within.std(ddof=1), rel=1e-12)
    assert var.loc["x", "sd_overall"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    assert var.loc["x", "sd_between"] == pytest.approx(
        x.groupby(frame["u"]).mean().std(ddof=1), rel=1e-12)
    assert var.loc["x", "mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert s.drop_reasons.to_dict("records") == [{"reason": "missing outcome 'y'", "n_rows": 1}]
    assert s.source == "<DataFrame>"
    text = str(s)
    assert "5 units x 4 years (2000 to 2003), 17 rows; unbalanced" in text
    assert "source rows: 18 = 17 in panel + 1 dropped" in text
    assert "U0: 2001, 2002" in text
    assert s.to_dict()["gaps"] == [{"unit": "U0", "n_missing": "2", "missing_periods": "2001, 2002"}]


def test_summary_of_a_balanced_panel() -> None:
    s = load_quietly(balanced()).summary()
    assert s.balanced is True
    assert len(s.gaps) == 0
    assert list(s.gaps.columns) == ["unit", "n_missing", "missing_periods"]
    assert len(s.drop_reasons) == 0
    assert "gaps: none" in str(s)


def test_gaps_list_at_most_twelve_periods() -> None:
    df = pd.DataFrame({"u": ["A"] * 2 + ["B"] * 2 + ["C"] * 2 + ["D"] * 2 + ["E"] * 2,
                       "t": ["2000-01", "2002-01"] * 5, "y": range(10), "x": range(10)})
    s = load_quietly(df).summary()
    assert s.gaps["n_missing"].tolist() == [23] * 5
    assert s.gaps["missing_periods"].iloc[0] == (
        "2000-02, 2000-03, 2000-04, 2000-05, 2000-06, 2000-07, 2000-08, 2000-09, 2000-10, "
        "2000-11, 2000-12, 2001-01 and 11 more")


# -------------------------------------------------------------------- warnings
def caught(df: pd.DataFrame, **kwargs) -> list[type[Warning]]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cp.load_panel(df, **{**ROLES, **kwargs})
    return [w.category for w in record]


def test_no_warning_for_a_clean_panel() -> None:
    assert caught(balanced()) == []


def test_few_units_warning_only_below_five_units() -> None:
    assert caught(balanced(n_units=4)) == [FewUnitsWarning]
    assert caught(balanced(n_units=5)) == []


def test_gap_warning_only_with_gaps() -> None:
    df = balanced(n_years=4).drop(index=[1]).reset_index(drop=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cp.load_panel(df, **ROLES)
    assert [w.category for w in record] == [GapWarning]
    assert record[0].filename == __file__  # the warning points at the caller
    assert "1 unit(s) have gaps" in str(record[0].message)
    assert "'U0': 2001" in str(record[0].message)
    # a missing first or last period is not a gap
    assert caught(balanced(n_years=4).drop(index=[0, 7]).reset_index(drop=True)) == []


def test_gap_warning_when_a_dropped_row_opens_a_gap() -> None:
    df = balanced(n_years=4)
    df.loc[1, "y"] = np.nan
    assert caught(df) == [GapWarning]


def test_no_within_variation_warning_only_when_constant_in_every_unit() -> None:
    df = balanced()
    df["x"] = df["u"].map({f"U{i}": float(i) for i in range(5)})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cp.load_panel(df, **ROLES)
    assert [w.category for w in record] == [NoWithinVariationWarning]
    assert "Treatment 'x' never changes within any unit" in str(record[0].message)
    df.loc[0, "x"] = 99.0  # one unit varies: no warning
    assert caught(df) == []


def test_warnings_are_data_warnings() -> None:
    for w in (FewUnitsWarning, GapWarning, NoWithinVariationWarning):
        assert issubclass(w, DataWarning)


# ------------------------------------------------------------------ neighbours
def test_neighbours_from_a_mapping() -> None:
    panel = load_quietly(balanced(), neighbours={
        "U0": ["U1"], "U1": ["U0", "U2"], "U2": "U1", "U3": ["U4"], "U4": ["U3"]})
    assert dict(panel.neighbours) == {"U0": ("U1",), "U1": ("U0", "U2"), "U2": ("U1",),
                                      "U3": ("U4",), "U4": ("U3",)}


def test_neighbours_from_an_edge_list_file(tmp_path: Path) -> None:
    df = balanced()
    df["u"] = df["u"].str[1:].astype(int) + 1001  # integer unit codes
    path = write(tmp_path / "edges.csv",
                 "unit,neighbour\n1001,1002\n1002,1001\n1002,1003\n1003,1002\n"
                 "1004,1005\n1005,1004\n")
    panel = load_quietly(df, neighbours=path)
    assert dict(panel.neighbours) == {1001: (1002,), 1002: (1001, 1003), 1003: (1002,),
                                      1004: (1005,), 1005: (1004,)}


def test_units_without_neighbours_warn() -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        panel = cp.load_panel(balanced(), **ROLES, neighbours={"U0": ["U1"], "U1": ["U0"]})
    assert [w.category for w in record] == [DataWarning]
    assert record[0].filename == __file__  # the warning points at the caller
    assert "3 unit(s) have no neighbours" in str(record[0].message)
    assert "'U2', 'U3', 'U4'" in str(record[0].message)
    assert dict(panel.neighbours) == {"U0": ("U1",), "U1": ("U0",)}


def test_edge_list_with_unknown_unit(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "a,b\nU0,U1\nU1,U9\n")
    with pytest.raises(PanelError) as info:
        load_quietly(balanced(), neighbours=path)
    assert type(info.value) is PanelError
    assert "'U9'" in str(info.value)


def test_edge_list_with_missing_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "a,b\nU0,U1\nU1,\n")
    with pytest.raises(PanelError) as info:
        load_quietly(balanced(), neighbours=path)
    assert type(info.value) is PanelError
    assert "row 2" in str(info.value)


def test_no_neighbours_given() -> None:
    assert load_quietly(balanced()).neighbours is None


# ------------------------------------------------------------------ big data
@pytest.mark.slow
@pytest.mark.parametrize("as_csv", [False, True], ids=["frame", "csv"])
def test_a_million_rows_load_in_seconds(tmp_path: Path, as_csv: bool) -> None:
    rng = np.random.default_rng(3)
    n_units, n_years = 10_000, 100
    n = n_units * n_years
    df = pd.DataFrame({
        "u": np.repeat([f"{i:05d}" for i in range(n_units)], n_years),
        "t": np.tile(np.arange(1900, 1900 + n_years), n_units),
        "y": rng.poisson(5, n).astype(float), "x": rng.normal(size=n),
        "pop": rng.integers(1000, 10000, n),
    })
    df.loc[rng.random(n) < 0.1, "y"] = np.nan
    source = df
    if as_csv:
        source = tmp_path / "big.csv"
        df.to_csv(source, index=False)
    start = time.perf_counter()
    panel = load_quietly(source, exposure="pop")
    elapsed = time.perf_counter() - start
    assert len(panel) + len(panel.drop_log) == n
    assert len(panel.drop_log) == int(df["y"].isna().sum())
    assert elapsed < 60


# ------------------------------------------------------- roles after loading
def test_changing_roles_to_a_text_column_names_the_rows() -> None:
    from causalpolicing.exceptions import NonNumericError

    df = balanced()
    df["note"] = ["ok"] * len(df)
    panel = load_quietly(df)
    with pytest.raises(NonNumericError) as info:
        panel.with_roles(outcome="note")
    assert type(info.value) is NonNumericError
    assert "Outcome 'note' must be numeric" in str(info.value)
    assert "rows 1 ('ok'), 2 ('ok')" in str(info.value)


def test_changing_roles_to_an_unknown_column_suggests_a_match() -> None:
    from causalpolicing.exceptions import ColumnNotFoundError

    panel = load_quietly(balanced())
    with pytest.raises(ColumnNotFoundError) as info:
        panel.with_roles(treatment="X")
    assert type(info.value) is ColumnNotFoundError
    assert "Treatment column(s) 'X' not in the panel (did you mean 'x'?)" in str(info.value)


def test_changing_roles_infers_the_new_kind() -> None:
    df = balanced()
    df["d"] = (df["x"] > 0).astype(float)
    panel = load_quietly(df, covariates=["d"]).with_roles(treatment="d", covariates=[])
    assert dict(panel.treatment_kinds) == {"d": "binary"}


def _csv_with_extra(tmp_path, extra: list[str]):
    path = tmp_path / "extra.csv"
    lines = ["unit,year,y,x,extra"] + [
        f"{u},{2000 + t},{t + 1},{0.5 * t},{extra[i]}"
        for i, (u, t) in enumerate([(u, t) for u in "ABCDEF" for t in range(2)])
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("cells", "expected_numeric"),
    [
        (["1.5", "2", "", "-3", "4e2", "NA", "7", "8", "9", "10", "11", "12"], True),
        (["01001", "01003", "01005", "01007", "01009", "01011"] * 2, False),
        (["3", "n.a.", "4", "5", "6", "7", "8", "9", "1", "2", "3", "4"], False),
        (["a", "b", "c", "d", "e", "f"] * 2, False),
    ],
    ids=["numbers-and-markers", "codes-with-leading-zeros", "stray-text", "labels"],
)
def test_columns_without_role_become_numeric_only_when_lossless(
    tmp_path, cells: list[str], expected_numeric: bool
) -> None:
    panel = cp.load_panel(_csv_with_extra(tmp_path, cells), unit="unit", time="year",
                          outcome="y", treatment="x")
    col = panel.to_frame()["extra"]
    assert pd.api.types.is_float_dtype(col) is expected_numeric
    if not expected_numeric:
        assert sorted(col.astype(str).unique()) == sorted(set(cells))
