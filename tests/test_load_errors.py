"""A corpus of malformed inputs: each raises one exact error class with a useful message.

Every case builds its own source (a DataFrame, or a file written into ``tmp_path``),
calls :func:`causalpolicing.load_panel`, and checks

* the exact class of the error (``type(exc) is X``, not a parent class), and
* that the message names the column and/or the rows and, where there is one, the fix.
"""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import (
    AllMissingError,
    CausalPolicingError,
    ColumnNotFoundError,
    DuplicateKeyError,
    EmptySourceError,
    InfiniteValueError,
    MissingKeyError,
    NegativeValueError,
    NonIntegerCountError,
    NonNumericError,
    PanelError,
    ReaderError,
    RoleError,
    TimeParseError,
    UnsupportedFormatError,
    ZeroExposureError,
)

ROLES = {"unit": "u", "time": "t", "outcome": "y", "treatment": "x"}


def frame(**changes: Any) -> pd.DataFrame:
    """A valid 3-unit x 2-year frame; keyword arguments replace whole columns."""
    df = pd.DataFrame({
        "u": ["A", "A", "B", "B", "C", "C"],
        "t": [2000, 2001, 2000, 2001, 2000, 2001],
        "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "x": [0.1, 0.5, 0.2, 0.3, 0.9, 0.4],
        "pop": [100.0, 100.0, 200.0, 200.0, 300.0, 300.0],
        "z": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })
    for col, values in changes.items():
        df[col] = values
    return df


def text_file(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(text.encode(encoding))
        return path

    return make


def excel_with_title(tmp: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["Drug-related deaths by canton"])
    sheet.append(["u", "t", "y", "x"])
    for row in [["ZH", 2000, 1, 0.5], ["ZH", 2001, 2, 0.6]]:
        sheet.append(row)
    path = tmp / "titled.xlsx"
    book.save(path)
    return path


def stata_labelled(tmp: Path) -> Path:
    df = pd.DataFrame({
        "u": ["A", "A", "B", "B"], "t": [2000, 2001, 2000, 2001],
        "y": pd.Categorical(["low", "high", "low", "high"]), "x": [0.1, 0.2, 0.3, 0.4],
    })
    path = tmp / "labelled.dta"
    df.to_stata(path, write_index=False)
    return path


def gz_file(tmp: Path) -> Path:
    path = tmp / "dups.csv.gz"
    path.write_bytes(gzip.compress(b"u,t,y,x\n01001,2000,1,1\n01001,2000,2,2\n"))
    return path


# (id, source, load_panel keywords, exact error class, texts the message must contain)
CASES: list[tuple[str, Any, dict[str, Any], type[Exception], list[str]]] = [
    # ---------------------------------------------------------------- keys
    ("duplicate-unit-time-frame", frame(t=[2000, 2000, 2000, 2001, 2000, 2001]), {},
     DuplicateKeyError, ["('u', 't')", "'A' 2000 (rows 1, 2)", "remove duplicates"]),
    ("duplicate-after-freq-coarsening",
     frame(t=pd.to_datetime(["2000-01-03", "2000-01-20", "2000-01-01", "2000-02-01",
                             "2000-01-01", "2000-02-01"])), {"freq": "M"},
     DuplicateKeyError, ["'A' 2000-01 (rows 1, 2)", "aggregate"]),
    ("duplicate-fips-in-gzip-csv", gz_file, {},
     DuplicateKeyError, ["'01001' 2000 (rows 1, 2)"]),
    ("missing-unit-none", frame(u=["A", None, "B", "B", "C", "C"]), {},
     MissingKeyError, ["column 'u' is empty in row 2", "fill them in"]),
    ("missing-unit-blank-text", frame(u=["A", "A", "B", "  ", "C", "C"]), {},
     MissingKeyError, ["column 'u' is empty in row 4"]),
    ("missing-time-nan", frame(t=[2000, 2001, np.nan, 2001, 2000, 2001]), {},
     MissingKeyError, ["column 't' is empty in row 3"]),
    ("missing-unit-and-time-csv",
     text_file("keys.csv", "u,t,y,x\nA,2000,1,1\n,2001,2,2\nB,,3,3\n"), {},
     MissingKeyError, ["Unit column 'u' is empty in row 2", "time column 't' is empty in row 3"]),
    # ---------------------------------------------------------------- time
    ("time-unparseable-text", frame(t=["2000", "soon", "2000", "2001", "2000", "2001"]), {},
     TimeParseError, ["'t'", "row 2 ('soon')", "time_format=", "--time-format",
                      'spec [data]: time_format = "']),
    ("time-month-13", frame(t=["2017-01", "2017-13", "2017-01", "2017-02", "2017-01", "2017-02"]),
     {}, TimeParseError, ["month numbers must be 1-12", "row 2 ('2017-13')"]),
    ("time-invalid-calendar-date",
     frame(t=["2017-02-28", "2017-02-30", "2017-02-28", "2017-03-01", "2017-02-28", "2017-03-01"]),
     {}, TimeParseError, ["not valid calendar dates", "row 2 ('2017-02-30')"]),
    ("time-non-integer-number", frame(t=[2000.5, 2001, 2000, 2001, 2000, 2001]), {},
     TimeParseError, ["non-integer", "row 1 (2000.5)"]),
    ("time-small-integers", frame(t=[1, 2, 1, 2, 1, 2]), {},
     TimeParseError, ["years (1000-2999) or YYYYMM", "rows 1 (1), 2 (2)"]),
    ("time-mixed-years-and-quarters",
     frame(t=[2000, "2001Q1", 2000, "2001Q1", 2000, "2001Q1"]), {},
     TimeParseError, ["mixes period types", "quarters like '2001Q1' (row 2)",
                      "years like 2000 (row 1)"]),
    ("time-format-mismatch",
     frame(t=["01.02.2000", "2000-03-01", "01.02.2000", "01.03.2000", "01.02.2000",
              "01.03.2000"]), {"time_format": "%d.%m.%Y"},
     TimeParseError, ["time_format='%d.%m.%Y'", "row 2 ('2000-03-01')"]),
    ("time-freq-refine", frame(), {"freq": "M"},
     TimeParseError, ["holds years", "freq='M'", "not refined"]),
    ("time-unknown-freq", frame(), {"freq": "fortnight"},
     TimeParseError, ["'fortnight'", "'Y' (years)"]),
    ("time-booleans", frame(t=[True, False, True, False, True, False]), {},
     TimeParseError, ["True/False", "rows 1 (True), 2 (False)"]),
    # ------------------------------------------------------------- columns
    ("column-missing-close-match", frame(), {"outcome": "Y"},
     ColumnNotFoundError, ["outcome 'Y'", "did you mean 'y'", "Available columns"]),
    ("column-missing-wrong-delimiter",
     text_file("semi.csv", "u;t;y;x\nA;2000;1;1\n"), {"read_options": {"delimiter": ","}},
     ColumnNotFoundError, ["unit 'u'", "delimiter is probably wrong", "{'delimiter': ';'}",
                           "--read-option 'delimiter=;'", 'read_options = {delimiter = ";"}']),
    ("column-missing-title-row-excel", excel_with_title, {},
     ColumnNotFoundError, ["unit 'u'", "title", "'skiprows'"]),
    ("column-in-the-index", frame().set_index(["u", "t"]), {},
     ColumnNotFoundError, ["unit 'u'", "time 't'", "'u', 't' are in the DataFrame's index",
                           "df.reset_index()"]),
    ("column-missing-covariate", frame(), {"covariates": ["unemployment"]},
     ColumnNotFoundError, ["covariate 'unemployment'"]),
    ("column-missing-cluster", frame(), {"cluster": "canton_group"},
     ColumnNotFoundError, ["cluster 'canton_group'"]),
    # ------------------------------------------------------------- numbers
    ("text-in-outcome-frame", frame(y=["1", "2", "three", "4", "5", "6"]), {},
     NonNumericError, ["Outcome 'y'", "row 3 ('three')", "na_values"]),
    ("decimal-comma-csv",
     text_file("dec.csv", "u;t;y;x\nA;2000;1;0,5\nA;2001;2;0,7\nB;2000;1;0,1\n"), {},
     NonNumericError, ["Treatment 'x'", "rows 1 ('0,5')", "read_options={'decimal': ','}",
                       "--read-option decimal=,", 'read_options = {decimal = ","}']),
    ("thousands-separator-csv",
     text_file("thou.csv", 'u,t,y,x\nA,2000,"1,234",1\nA,2001,"12,000",2\nB,2000,5,1\n'), {},
     NonNumericError, ["Outcome 'y'", "rows 1 ('1,234') and 2 ('12,000')",
                       "read_options={'thousands': ','}", "--read-option thousands=,",
                       'read_options = {thousands = ","}']),
    ("cdc-suppressed-csv",
     text_file("cdc.txt", "u\tt\ty\tx\n01001\t2000\tSuppressed\t1\n01001\t2001\t12\t2\n"), {},
     NonNumericError, ["Outcome 'y'", "row 1 ('Suppressed')", "counts of 1-9", "censored"]),
    ("dot-marker-in-covariate", frame(z=["1", ".", "3", "4", "5", "6"]),
     {"covariates": ["z"]},
     NonNumericError, ["Covariate 'z'", "row 2 ('.')", "na_values=[...]"]),
    ("labelled-categories-stata", stata_labelled, {},
     NonNumericError, ["Outcome 'y'", "labelled categories", "'convert_categoricals': False"]),
    ("durations-in-outcome", frame(y=pd.to_timedelta([1, 2, 3, 4, 5, 6], unit="D")), {},
     NonNumericError, ["Outcome 'y'", "dates or durations", ".dt.days"]),
    ("negative-declared-count", frame(y=[1.0, -2.0, 3.0, 4.0, 5.0, 6.0]),
     {"outcome": {"y": "count"}},
     NegativeValueError, ["Outcome 'y'", "row 2 (-2.0)", "'continuous'"]),
    ("negative-declared-rate", frame(y=[1.5, -2.5, 3.0, 4.0, 5.0, 6.0]),
     {"outcome": {"y": "rate"}},
     NegativeValueError, ["Outcome 'y' is declared a rate", "row 2 (-2.5)"]),
    ("negative-exposure", frame(pop=[100.0, -5.0, 200.0, 200.0, 300.0, 300.0]),
     {"exposure": "pop"},
     NegativeValueError, ["Exposure 'pop'", "row 2 (-5.0)", "fix the values"]),
    ("non-integer-declared-count", frame(y=[1.0, 2.5, 3.0, 4.0, 5.0, 6.0]),
     {"outcome": {"y": "count"}},
     NonIntegerCountError, ["Outcome 'y'", "row 2 (2.5)", "'rate'"]),
    ("zero-exposure-positive-count", frame(pop=[100.0, 0.0, 200.0, 200.0, 300.0, 300.0]),
     {"exposure": "pop"},
     ZeroExposureError, ["Exposure 'pop' is 0", "outcome 'y'", "row 2 (2.0)"]),
    ("infinite-treatment", frame(x=[0.1, np.inf, 0.2, 0.3, 0.9, 0.4]), {},
     InfiniteValueError, ["Treatment 'x'", "row 2 (inf)", "dividing by zero"]),
    ("infinite-text-in-csv",
     text_file("inf.csv", "u,t,y,x\nA,2000,1,1\nA,2001,-inf,2\n"), {},
     InfiniteValueError, ["Outcome 'y'", "row 2 (-inf)"]),
    ("outcome-all-missing", frame(y=[np.nan] * 6), {},
     AllMissingError, ["Outcome 'y'", "6 rows", "missing markers"]),
    ("treatment-all-na-text-csv",
     text_file("na.csv", "u,t,y,x\nA,2000,1,NA\nA,2001,2,n/a\n"), {},
     AllMissingError, ["Treatment 'x'", "2 rows"]),
    # ---------------------------------------------------------- empty data
    ("empty-file", text_file("empty.csv", ""), {},
     EmptySourceError, ["'empty.csv'", "empty (0 bytes)"]),
    ("whitespace-only-file", text_file("blank.csv", "\n\n   \n"), {},
     EmptySourceError, ["'blank.csv'", "blank space"]),
    ("header-without-rows", text_file("header.csv", "u,t,y,x\n"), {},
     EmptySourceError, ["'header.csv'", "header", "no data rows"]),
    ("header-with-only-blank-lines", text_file("header2.csv", "u,t,y,x\n\n\n"), {},
     EmptySourceError, ["'header2.csv'", "no data rows"]),
    ("only-blank-rows", text_file("blanks.csv", "u,t,y,x\n,,,\n\n,,,\n"), {},
     EmptySourceError, ["'blanks.csv'", "3 row(s) are all blank"]),
    ("empty-dataframe", frame().iloc[:0], {},
     EmptySourceError, ["DataFrame", "no rows"]),
    ("every-row-dropped", frame(y=[1.0, np.nan, np.nan, np.nan, np.nan, np.nan],
                                x=[np.nan, 0.5, 0.2, 0.3, 0.9, 0.4]), {},
     EmptySourceError, ["6 rows", "missing outcome 'y'", "drop_log"]),
    # ------------------------------------------------------------- readers
    ("unsupported-extension", text_file("data.foo", "u,t,y,x\nA,2000,1,1\n"), {},
     UnsupportedFormatError, ["'data.foo'", "'.foo'", "format="]),
    ("unknown-format-name", text_file("data2.csv", "u,t,y,x\nA,2000,1,1\n"),
     {"format": "spss"}, UnsupportedFormatError, ["'spss'", "'csv'", "'excel'"]),
    ("unknown-read-option", text_file("data3.csv", "u,t,y,x\nA,2000,1,1\n"),
     {"read_options": {"sep": ";"}},
     ReaderError, ["'sep'", "It accepts", "'delimiter'"]),
    ("duplicate-header-names", text_file("dup.csv", "u,t,y,y,x\nA,2000,1,2,1\n"), {},
     ReaderError, ["duplicate column names", "'y'", "Rename"]),
    ("more-values-than-header", text_file("extra.csv", "u;t;y;x\nA;2000;1;1;\nA;2001;2;2;9\n"),
     {}, ReaderError, ["row 2", "5 values", "4 columns"]),
    ("wrong-encoding-given", text_file("latin.csv", "u,t,y,x\nZürich,2000,1,1\n", "latin-1"),
     {"read_options": {"encoding": "utf-8"}},
     ReaderError, ["not valid utf-8", "Leave encoding unset"]),
    ("multi-char-delimiter", text_file("d.csv", "u,t,y,x\nA,2000,1,1\n"),
     {"read_options": {"delimiter": ";;"}},
     ReaderError, ["delimiter must be a single character", "';;'"]),
    # --------------------------------------------------------------- roles
    ("column-in-two-roles", frame(), {"treatment": "y"},
     RoleError, ["'y'", "two roles (outcome and treatment)"]),
    ("unknown-outcome-kind", frame(), {"outcome": {"y": "counts"}},
     RoleError, ["'counts'", "'count', 'rate', 'continuous', 'binary'"]),
    ("declared-binary-not-binary", frame(), {"treatment": {"x": "binary"}},
     RoleError, ["Treatment 'x'", "rows 1 (0.1)", "'continuous'"]),
    ("boolean-unit-labels", frame(u=[True, True, False, False, True, False]), {},
     RoleError, ["Unit column 'u'", "True/False"]),
    ("no-outcome-given", frame(), {"outcome": []},
     RoleError, ["outcome"]),
    ("neighbour-unknown-unit", frame(), {"neighbours": {"A": ["B", "Q"], "B": ["A"]}},
     PanelError, ["'Q'", "Known units: 'A', 'B', 'C'"]),
    ("neighbour-self", frame(), {"neighbours": {"A": ["A", "B"], "B": ["A"]}},
     PanelError, ["'A'", "its own neighbour"]),
    ("read-options-with-dataframe", frame(), {"read_options": {"delimiter": ";"}},
     PanelError, ["read_options=", "files, not DataFrames"]),
    ("duplicate-dataframe-columns", frame().rename(columns={"z": "pop"}), {},
     PanelError, ["duplicate column names", "'pop'", "Rename"]),
    ("column-names-clash-as-text", frame().rename(columns={"z": 1, "pop": "1"}), {},
     PanelError, ["clash once written as text", "'1'"]),
]


@pytest.mark.parametrize(
    ("source", "kwargs", "error", "texts"),
    [pytest.param(src, kw, err, txt, id=name) for name, src, kw, err, txt in CASES],
)
def test_malformed_input_raises_exact_error(
    tmp_path: Path, source: Any, kwargs: dict[str, Any], error: type[Exception],
    texts: list[str],
) -> None:
    src = source(tmp_path) if callable(source) else source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CausalPolicingError) as info:
            cp.load_panel(src, **{**ROLES, **kwargs})
    assert type(info.value) is error, f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for text in texts:
        assert text in message, f"{text!r} not in message: {message}"


def test_corpus_is_large_and_ids_are_unique() -> None:
    names = [c[0] for c in CASES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


def test_errors_are_value_errors() -> None:
    for _, _, _, error, _ in CASES:
        assert issubclass(error, ValueError)
        assert issubclass(error, CausalPolicingError)


def test_every_row_dropped_error_carries_the_drop_log() -> None:
    df = frame(y=[np.nan] * 5 + [1.0], x=[0.1, 0.2, 0.3, 0.4, 0.5, np.nan])
    with pytest.raises(EmptySourceError) as info:
        cp.load_panel(df, **ROLES)
    log = info.value.drop_log
    assert log["source_row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert log["reason"].tolist() == ["missing outcome 'y'"] * 5 + ["missing treatment 'x'"]


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        cp.load_panel(tmp_path / "nope.csv", **ROLES)
    assert type(info.value) is FileNotFoundError
    assert "nope.csv" in str(info.value)


def test_text_is_never_coerced_to_missing() -> None:
    df = frame(x=["0.1", "0.5", "-", "0.3", "0.9", "0.4"])
    with pytest.raises(NonNumericError) as info:
        cp.load_panel(df, **ROLES)
    assert "row 3 ('-')" in str(info.value)
