"""Time parsing: every accepted layout, frequency coarsening, and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalpolicing.data.timeparse import normalise_freq, parse_time
from causalpolicing.exceptions import TimeParseError


def labels(per: pd.Series) -> list[str]:
    return [str(p) for p in per]


@pytest.mark.parametrize(
    ("values", "freq", "expected"),
    [
        (pd.Series([1990, 1991]), "Y", ["1990", "1991"]),
        (pd.Series(["1990", " 1991 "]), "Y", ["1990", "1991"]),
        (pd.Series([1990.0, 1991.0]), "Y", ["1990", "1991"]),
        (pd.Series(["1990.0", "1991.0"]), "Y", ["1990", "1991"]),
        (pd.Series([1990, "1991"], dtype=object), "Y", ["1990", "1991"]),
        (pd.Series(pd.array([1990, 1991], dtype="Int64")), "Y", ["1990", "1991"]),
        (pd.Series(["2017/01", "2017/12"]), "M", ["2017-01", "2017-12"]),
        (pd.Series(["2017-01", "2017-2"]), "M", ["2017-01", "2017-02"]),
        (pd.Series(["2017M01", "2017m2"]), "M", ["2017-01", "2017-02"]),
        (pd.Series(["201701", "201712"]), "M", ["2017-01", "2017-12"]),
        (pd.Series([201701, 201712]), "M", ["2017-01", "2017-12"]),
        (pd.Series(["2017Q1", "2017-Q2", "2017 Q3", "2017q4"]), "Q",
         ["2017Q1", "2017Q2", "2017Q3", "2017Q4"]),
        (pd.Series(["Q1 2017", "Q2-2017", "q3 2017"]), "Q", ["2017Q1", "2017Q2", "2017Q3"]),
        (pd.Series(["2017-01-31", "2017-02-15"]), "D", ["2017-01-31", "2017-02-15"]),
        (pd.Series(["2017-01-01", "2017-02-01"]), "M", ["2017-01", "2017-02"]),
        (pd.Series(["2017-01-01", "2018-01-01"]), "Y", ["2017", "2018"]),
        (pd.Series(["2017-01-31 00:00:00", "2017-02-15 00:00"]), "D",
         ["2017-01-31", "2017-02-15"]),
        (pd.Series(["2017-01-31T12:30:00", "2017-02-15T08:00:00"]), "D",
         ["2017-01-31", "2017-02-15"]),
        (pd.Series(pd.to_datetime(["2017-01-31", "2017-03-02"])), "D",
         ["2017-01-31", "2017-03-02"]),
        (pd.Series(pd.to_datetime(["2017-01-01", "2017-03-01"])), "M", ["2017-01", "2017-03"]),
        (pd.Series(pd.to_datetime(["2017-01-01", "2019-01-01"])), "Y", ["2017", "2019"]),
        (pd.Series(pd.to_datetime(["2017-01-01", "2018-01-01"]).tz_localize("Europe/Zurich")),
         "Y", ["2017", "2018"]),
        (pd.Series(pd.period_range("2017Q3", periods=2, freq="Q")), "Q", ["2017Q3", "2017Q4"]),
        (pd.Series(pd.period_range("2017-11", periods=2, freq="M")), "M",
         ["2017-11", "2017-12"]),
        (pd.Series(pd.period_range("2017-01-02", periods=2, freq="W")), "W",
         ["2017-01-02/2017-01-08", "2017-01-09/2017-01-15"]),
        (pd.Series(pd.Categorical(["2001", "2000", "2001"])), "Y", ["2001", "2000", "2001"]),
    ],
    ids=[
        "int-years", "str-years-padded", "float-years", "str-float-years", "mixed-int-str-years",
        "nullable-int-years", "slash-months", "dash-months", "pcaxis-months", "yyyymm-text",
        "yyyymm-ints", "year-first-quarters", "quarter-first-quarters", "iso-dates",
        "iso-dates-first-of-month", "iso-dates-first-of-year", "dates-with-midnight",
        "iso-timestamps", "datetime64-days", "datetime64-months", "datetime64-years",
        "datetime64-tz", "period-quarters", "period-months", "period-weeks", "categorical-years",
    ],
)
def test_layouts(values: pd.Series, freq: str, expected: list[str]) -> None:
    per, found = parse_time(values, column="t")
    assert found == freq
    assert isinstance(per.dtype, pd.PeriodDtype)
    assert labels(per) == expected
    assert per.index.equals(pd.RangeIndex(len(values)))


def test_result_is_aligned_with_a_shuffled_index() -> None:
    values = pd.Series(["2017-03", "2017-01", "2017-03"], index=[10, 3, 7])
    per, found = parse_time(values, column="t")
    assert found == "M"
    assert labels(per) == ["2017-03", "2017-01", "2017-03"]
    assert per.index.tolist() == [0, 1, 2]


def test_time_format() -> None:
    per, found = parse_time(pd.Series(["31.01.2017", "15.02.2017"]), column="t",
                            time_format="%d.%m.%Y")
    assert (found, labels(per)) == ("D", ["2017-01-31", "2017-02-15"])


def test_time_format_with_freq() -> None:
    per, found = parse_time(pd.Series(["31.01.2017", "15.02.2017"]), column="t",
                            time_format="%d.%m.%Y", freq="M")
    assert (found, labels(per)) == ("M", ["2017-01", "2017-02"])


def test_time_format_applies_to_numbers_as_text() -> None:
    per, found = parse_time(pd.Series([20170131, 20170215]), column="t", time_format="%Y%m%d")
    assert (found, labels(per)) == ("D", ["2017-01-31", "2017-02-15"])


@pytest.mark.parametrize(
    ("values", "freq", "found", "expected"),
    [
        (pd.Series(["2017-01-31", "2017-02-15"]), "M", "M", ["2017-01", "2017-02"]),
        (pd.Series(pd.to_datetime(["2017-01-31", "2017-05-15"])), "Q", "Q", ["2017Q1", "2017Q2"]),
        (pd.Series(["2017-01", "2017-12"]), "Y", "Y", ["2017", "2017"]),
        (pd.Series(["2017-01", "2017-05"]), "Q", "Q", ["2017Q1", "2017Q2"]),
        (pd.Series(["2017Q1", "2018Q4"]), "annual", "Y", ["2017", "2018"]),
        (pd.Series(pd.period_range("2017-11", periods=3, freq="M")), "Y", "Y",
         ["2017", "2017", "2018"]),
        (pd.Series([201701, 201802]), "Y-DEC", "Y", ["2017", "2018"]),
        (pd.Series([1990, 1991]), "Y", "Y", ["1990", "1991"]),
    ],
    ids=["dates-to-months", "datetimes-to-quarters", "months-to-years", "months-to-quarters",
         "quarters-to-years-alias", "periods-to-years", "yyyymm-to-years", "same-freq"],
)
def test_freq_coarsens(values: pd.Series, freq: str, found: str, expected: list[str]) -> None:
    per, got = parse_time(values, column="t", freq=freq)
    assert got == found
    assert labels(per) == expected


@pytest.mark.parametrize(
    ("values", "freq", "text"),
    [
        (pd.Series([1990, 1991]), "M", "holds years, but freq='M' (months)"),
        (pd.Series(["2017Q1"]), "M", "holds quarters, but freq='M' (months)"),
        (pd.Series(["2017-01"]), "D", "holds months, but freq='D' (days)"),
        (pd.Series(pd.period_range("2017", periods=2, freq="Y")), "Q",
         "holds years, but freq='Q' (quarters)"),
    ],
    ids=["years-to-months", "quarters-to-months", "months-to-days", "period-years-to-quarters"],
)
def test_freq_refuses_to_refine(values: pd.Series, freq: str, text: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time(values, column="period", freq=freq)
    assert type(info.value) is TimeParseError
    assert "Column 'period' (time)" in str(info.value)
    assert text in str(info.value)
    assert "coarsened" in str(info.value)


@pytest.mark.parametrize(
    ("values", "texts"),
    [
        (pd.Series([2000, "2001Q1"], dtype=object),
         ["mixes period types", "quarters like '2001Q1' (row 11)", "years like 2000 (row 10)"]),
        (pd.Series(["2017-01", "2017-01-15"]),
         ["mixes period types", "days like '2017-01-15' (row 11)",
          "months like '2017-01' (row 10)"]),
        (pd.Series([2017, 201701]), ["mix years", "row 11 (201701)"]),
        (pd.Series(["2017", "next year"]), ["not recognisable", "row 11 ('next year')"]),
        (pd.Series(["2017-00"]), ["month numbers must be 1-12", "row 10 ('2017-00')"]),
        (pd.Series(["2017-13-01"]), ["not valid calendar dates", "row 10 ('2017-13-01')"]),
        (pd.Series([np.inf, 2000.0]), ["non-integer", "row 10 (inf)"]),
        (pd.Series([True, False]), ["True/False", "rows 10 (True) and 11 (False)"]),
    ],
    ids=["years-and-quarters", "months-and-days", "years-and-yyyymm", "text",
         "month-zero", "month-13-date", "infinite", "booleans"],
)
def test_errors_name_the_rows(values: pd.Series, texts: list[str]) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time(values, column="t", rows=np.array([10, 11])[: len(values)])
    assert type(info.value) is TimeParseError
    for text in texts:
        assert text in str(info.value)


def test_bad_time_format_names_the_format() -> None:
    with pytest.raises(TimeParseError) as info:
        parse_time(pd.Series(["31.01.2017", "2017-02-15"]), column="t", time_format="%d.%m.%Y")
    assert type(info.value) is TimeParseError
    assert "do not match time_format='%d.%m.%Y'" in str(info.value)
    assert "row 2 ('2017-02-15')" in str(info.value)


@pytest.mark.parametrize(
    ("name", "code"),
    [("Y", "Y"), ("A", "Y"), ("annual", "Y"), ("YE-DEC", "Y"), ("Q", "Q"), ("QS", "Q"),
     ("month", "M"), ("MS", "M"), ("W-SUN", "W"), ("daily", "D")],
    ids=lambda v: str(v),
)
def test_normalise_freq(name: str, code: str) -> None:
    assert normalise_freq(name) == code


def test_normalise_freq_unknown() -> None:
    with pytest.raises(TimeParseError) as info:
        normalise_freq("hourly")
    assert type(info.value) is TimeParseError
    assert "Unknown time frequency 'hourly'" in str(info.value)
    assert "'M' (months)" in str(info.value)


def test_many_rows_parse_by_distinct_value() -> None:
    rng = np.random.default_rng(0)
    years = rng.integers(1990, 2020, size=200_000).astype(str)
    per, found = parse_time(pd.Series(years), column="t")
    assert found == "Y"
    np.testing.assert_array_equal(per.array.asi8, years.astype(np.int64) - 1970)
