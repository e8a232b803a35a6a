"""Readers: CSV/TSV (delimiters, encodings, blank rows), Excel, Parquet, Stata, the registry."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalpolicing.data import readers
from causalpolicing.data.readers import (
    DROP_LOG_COLUMNS,
    ReadResult,
    available_readers,
    detect_encoding,
    get_reader,
    read_table,
    register_reader,
)
from causalpolicing.exceptions import EmptySourceError, ReaderError, UnsupportedFormatError


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ------------------------------------------------------------------------ CSV
@pytest.mark.parametrize(
    "delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"]
)
def test_csv_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(delimiter.join(r) for r in [
        ["canton", "year", "deaths"], ["ZH", "2000", "10"], ["BE", "2000", "7"]]) + "\n"
    res = read_table(write(tmp_path / "d.csv", text))
    assert res.reader == "csv"
    assert res.info["delimiter"] == delimiter
    assert list(res.frame.columns) == ["canton", "year", "deaths"]
    assert res.frame.to_dict("list") == {
        "canton": ["ZH", "BE"], "year": ["2000", "2000"], "deaths": ["10", "7"]}
    assert res.source_rows.tolist() == [1, 2]
    assert res.n_source_rows == 2
    assert len(res.drops) == 0


@pytest.mark.parametrize(
    ("encoding", "prefix", "detected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("latin-1", b"", "cp1252"),
        ("cp1252", b"", "cp1252"),
    ],
    ids=["utf8", "utf8-bom", "latin1", "cp1252"],
)
def test_csv_encoding_is_detected_and_names_survive(
    tmp_path: Path, encoding: str, prefix: bytes, detected: str
) -> None:
    text = "canton;year;deaths\nZürich;2000;10\nGenève;2000;7\nNeuchâtel;2000;3\n"
    path = tmp_path / "enc.csv"
    path.write_bytes(prefix + text.encode(encoding))
    res = read_table(path)
    assert res.info["encoding"] == detected
    assert list(res.frame.columns) == ["canton", "year", "deaths"]  # no BOM in the first name
    assert res.frame["canton"].tolist() == ["Zürich", "Genève", "Neuchâtel"]


def test_csv_cp1252_only_characters_survive(tmp_path: Path) -> None:
    path = tmp_path / "euro.csv"
    path.write_bytes("unit,note\nZH,5 €\u2013 fine\n".encode("cp1252"))
    res = read_table(path)
    assert res.info["encoding"] == "cp1252"
    assert res.frame["note"].tolist() == ["5 €\u2013 fine"]


def test_csv_latin1_byte_after_the_sampled_head_falls_back(tmp_path: Path) -> None:
    rows = "".join(f"U{i:06d},2000,{i}\n" for i in range(30000))  # ~450 KB of ASCII
    path = tmp_path / "late.csv"
    path.write_bytes(("unit,year,y\n" + rows + "Genève,2000,1\n").encode("latin-1"))
    res = read_table(path)
    assert res.info["encoding"] == "cp1252"
    assert res.frame["unit"].iloc[-1] == "Genève"
    assert len(res.frame) == 30001


def test_explicit_encoding_is_used(tmp_path: Path) -> None:
    path = write(tmp_path / "l.csv", "unit,y\nZürich,1\n", "latin-1")
    res = read_table(path, encoding="latin-1")
    assert res.info["encoding"] == "latin-1"
    assert res.frame["unit"].tolist() == ["Zürich"]


def test_fips_codes_keep_leading_zeros(tmp_path: Path) -> None:
    res = read_table(write(tmp_path / "f.csv", "fips,year,y\n01001,2000,3\n06037,2000,4\n"))
    assert res.frame["fips"].tolist() == ["01001", "06037"]
    assert res.frame["y"].tolist() == ["3", "4"]  # numbers are parsed later, by load_panel


def test_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "g.csv.gz"
    path.write_bytes(gzip.compress(b"fips;year;y\n01001;2000;3\n"))
    res = read_table(path)
    assert res.reader == "csv"
    assert res.info["delimiter"] == ";"
    assert res.frame.to_dict("list") == {"fips": ["01001"], "year": ["2000"], "y": ["3"]}


def test_corrupt_gzip_is_a_reader_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    with pytest.raises(ReaderError) as info:
        read_table(path)
    assert type(info.value) is ReaderError
    assert "'bad.csv.gz' cannot be read" in str(info.value)


def test_decimal_and_thousands_are_recorded_not_applied(tmp_path: Path) -> None:
    path = write(tmp_path / "n.csv", "u;y\nA;1.234,5\n")
    res = read_table(path, decimal=",", thousands=".")
    assert res.info["decimal"] == ","
    assert res.info["thousands"] == "."
    assert res.frame["y"].tolist() == ["1.234,5"]


def test_trailing_separator_makes_no_phantom_column(tmp_path: Path) -> None:
    text = "Country;2019;2018;\nAustria;191;154;\nBelgium;;105;\n"  # EMCDDA style
    res = read_table(write(tmp_path / "e.csv", text))
    assert list(res.frame.columns) == ["Country", "2019", "2018"]
    # missing as a marker: NaN compares unequal to itself (dict equality only passed when
    # the reader happened to return the np.nan singleton)
    assert res.frame.fillna("<missing>").to_dict("list") == {
        "Country": ["Austria", "Belgium"], "2019": ["191", "<missing>"], "2018": ["154", "105"]}
    assert res.info["dropped_empty_columns"] == ["Unnamed: 3"]


def test_trailing_separator_on_data_rows_only(tmp_path: Path) -> None:
    res = read_table(write(tmp_path / "t.csv", "a;b\n1;2;\n3;4;\n"))
    assert list(res.frame.columns) == ["a", "b"]
    assert res.frame.to_dict("list") == {"a": ["1", "3"], "b": ["2", "4"]}
    assert isinstance(res.frame.index, pd.RangeIndex)


def test_blank_rows_are_dropped_and_logged(tmp_path: Path) -> None:
    text = "u,t,y\nA,2000,1\n\nA,2001,2\n,,\n   \nB,2000,3\n\n\n"
    res = read_table(write(tmp_path / "b.csv", text))
    assert res.frame["u"].tolist() == ["A", "A", "B"]
    assert res.source_rows.tolist() == [1, 3, 6]
    assert res.n_source_rows == 6  # the two blank lines at the end are not rows
    assert list(res.drops.columns) == DROP_LOG_COLUMNS
    assert res.drops["source_row"].tolist() == [2, 4, 5]
    assert res.drops["stage"].tolist() == ["reader"] * 3
    assert res.drops["column"].tolist() == ["(all)"] * 3
    assert res.drops["reason"].tolist() == ["blank row: every cell is empty"] * 3
    assert res.drops["unit"].isna().all() and res.drops["time"].isna().all()


def test_crlf_line_ends(tmp_path: Path) -> None:
    res = read_table(write(tmp_path / "w.csv", "u,y\r\nA,1\r\n\r\nB,2\r\n\r\n"))
    assert res.frame.to_dict("list") == {"u": ["A", "B"], "y": ["1", "2"]}
    assert res.source_rows.tolist() == [1, 3]
    assert res.drops["source_row"].tolist() == [2]


def test_skiprows_skips_title_lines(tmp_path: Path) -> None:
    text = "Overdose deaths > Trends\n\nu;y\nA;1\n"
    res = read_table(write(tmp_path / "s.csv", text), skiprows=2)
    assert res.frame.to_dict("list") == {"u": ["A"], "y": ["1"]}
    assert res.source_rows.tolist() == [1]


def test_skiprows_past_the_end(tmp_path: Path) -> None:
    with pytest.raises(EmptySourceError) as info:
        read_table(write(tmp_path / "s.csv", "title\nu;y\nA;1\n"), skiprows=5)
    assert type(info.value) is EmptySourceError
    assert "'s.csv' holds no data after skipping 5 rows" in str(info.value)


def test_comment_lines_are_not_rows(tmp_path: Path) -> None:
    text = "# exported 2024\nu,y\nA,1\n# note\nB,2\n"
    res = read_table(write(tmp_path / "c.csv", text), comment="#")
    assert res.frame.to_dict("list") == {"u": ["A", "B"], "y": ["1", "2"]}
    assert res.source_rows.tolist() == [1, 2]


def test_header_names_are_stripped(tmp_path: Path) -> None:
    res = read_table(write(tmp_path / "h.csv", " u , y \nA,1\n"))
    assert list(res.frame.columns) == ["u", "y"]


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"skiprows": -1}, "skiprows must be a whole number"),
        ({"skiprows": 1.5}, "skiprows must be a whole number"),
        ({"decimal": ""}, "decimal must be a single character"),
        ({"delimiter": "ab"}, "delimiter must be a single character"),
        ({"decimal": ",", "thousands": ","}, "must differ"),
        ({"encoding": "klingon"}, "Unknown encoding 'klingon'"),
    ],
    ids=["negative-skiprows", "float-skiprows", "empty-decimal", "long-delimiter",
         "same-decimal-thousands", "unknown-encoding"],
)
def test_csv_option_values_are_validated(tmp_path: Path, options: dict, text: str) -> None:
    path = write(tmp_path / "o.csv", "u,y\nA,1\n")
    with pytest.raises(ReaderError) as info:
        read_table(path, **options)
    assert type(info.value) is ReaderError
    assert text in str(info.value)


def test_unbalanced_quote_is_a_reader_error(tmp_path: Path) -> None:
    path = write(tmp_path / "q.csv", 'u,y\nA,1\nB,2,3,4\n')
    with pytest.raises(ReaderError) as info:
        read_table(path)
    assert type(info.value) is ReaderError
    assert "'q.csv' could not be parsed" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zürich".encode(), "utf-8"),
        (b"\xef\xbb\xbfZ\xc3\xbcrich", "utf-8-sig"),
        ("Zürich".encode("latin-1"), "cp1252"),
        (b"\xff\xfeZ\x00", "utf-16"),
        ("abc é".encode()[:-1], "utf-8"),  # a character cut at the end of the sample
        (b"caf\x81", "latin-1"),  # 0x81 is undefined in cp1252
    ],
    ids=["utf8", "bom", "latin1", "utf16", "cut-multibyte", "not-cp1252"],
)
def test_detect_encoding(raw: bytes, expected: str) -> None:
    assert detect_encoding(raw) == expected


# ---------------------------------------------------------------------- Excel
def _workbook(tmp_path: Path, name: str = "book.xlsx") -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Notes"
    sheet.append(["note"])
    sheet.append(["read me"])
    data = book.create_sheet("Data")
    data.append(["Drug-law offences by canton"])  # title row
    data.append([])
    data.append(["canton", "fips", "year", "offences"])
    data.append(["Zürich", "01001", 2000, 1.5])
    data.append([None, None, None, None])  # blank row inside the table
    data.append(["Genève", "06037", 2001, 2])
    path = tmp_path / name
    book.save(path)
    return path


def test_excel_sheet_by_name_with_title_rows_skipped(tmp_path: Path) -> None:
    res = read_table(_workbook(tmp_path), sheet="Data", skiprows=2)
    assert res.reader == "excel"
    assert res.info["sheet"] == "Data"
    assert res.info["skiprows"] == 2
    assert list(res.frame.columns) == ["canton", "fips", "year", "offences"]
    assert res.frame["canton"].tolist() == ["Zürich", "Genève"]
    assert res.frame["fips"].tolist() == ["01001", "06037"]  # text cells stay text
    assert res.frame["year"].tolist() == [2000, 2001]  # number cells stay numbers
    assert res.frame["offences"].tolist() == [1.5, 2.0]
    assert res.source_rows.tolist() == [1, 3]
    assert res.drops["source_row"].tolist() == [2]
    assert res.drops["stage"].tolist() == ["reader"]


def test_excel_sheet_by_position(tmp_path: Path) -> None:
    res = read_table(_workbook(tmp_path), sheet=1, skiprows=2)
    assert res.info["sheet"] == "Data"
    assert len(res.frame) == 2


def test_excel_first_sheet_by_default(tmp_path: Path) -> None:
    res = read_table(_workbook(tmp_path))
    assert res.info["sheet"] == "Notes"
    assert res.frame.to_dict("list") == {"note": ["read me"]}


@pytest.mark.parametrize(
    ("sheet", "texts"),
    [
        ("Dta", ["no sheet 'Dta'", "did you mean 'Data'", "'Notes', 'Data'"]),
        (5, ["2 sheet(s)", "sheet=5 is out of range", "0 to 1"]),
        (1.0, ["sheet must be a sheet name or a 0-based position", "'Notes', 'Data'"]),
    ],
    ids=["unknown-name", "position-out-of-range", "float-position"],
)
def test_excel_bad_sheet(tmp_path: Path, sheet: object, texts: list[str]) -> None:
    with pytest.raises(ReaderError) as info:
        read_table(_workbook(tmp_path), sheet=sheet)
    assert type(info.value) is ReaderError
    for text in texts:
        assert text in str(info.value)


def test_excel_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip archive" * 10)
    with pytest.raises(ReaderError) as info:
        read_table(path)
    assert type(info.value) is ReaderError
    assert "'bad.xlsx' is not a readable Excel workbook" in str(info.value)


def test_fake_xlsx_holding_text_names_the_real_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.xlsx", "u,t,y,x\nA,2000,1,2\n")
    with pytest.raises(ReaderError) as info:
        read_table(path)
    msg = str(info.value)
    assert "'fake.xlsx' is not an Excel workbook (zip signature missing)" in msg
    assert "pass format='csv'" in msg and "--format csv" in msg


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100), "byte 0: a PNG image"),
        (b"\x1f\x8b\x08\x00" + bytes(range(256)), "byte 0: a gzip-compressed file"),
        (bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8)), "binary content"),
        (b"u,t,y\nA,2000,1\n" + b"\x00\x01" * 50, "byte 15: a NUL byte"),
    ],
    ids=["png", "gzip-without-gz", "random-bytes", "nul-bytes"],
)
def test_binary_file_named_csv_is_refused(tmp_path: Path, content: bytes, found: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(ReaderError) as info:
        read_table(path)
    msg = str(info.value)
    assert "'data.csv' does not look like CSV text" in msg
    assert found in msg
    assert "compressed or another format" in msg


# -------------------------------------------------------------- Parquet, Stata
def test_parquet_round_trip(tmp_path: Path) -> None:
    df = pd.DataFrame({"fips": ["01001", "06037"], "year": [2000, 2001], "y": [1.5, np.nan]})
    df.to_parquet(tmp_path / "p.parquet")
    res = read_table(tmp_path / "p.parquet")
    assert res.reader == "parquet"
    pd.testing.assert_frame_equal(res.frame, df, check_dtype=False)
    assert res.frame["year"].dtype == np.int64
    assert res.source_rows.tolist() == [1, 2]


def test_parquet_columns_option(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1], "b": [2]}).to_parquet(tmp_path / "p.pq")
    res = read_table(tmp_path / "p.pq", columns=["b"])
    assert list(res.frame.columns) == ["b"]


def test_parquet_corrupt_file(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.parquet", "not parquet")
    with pytest.raises(ReaderError) as info:
        read_table(path)
    assert type(info.value) is ReaderError
    assert "'bad.parquet' is not a readable Parquet file" in str(info.value)


def test_stata_round_trip(tmp_path: Path) -> None:
    df = pd.DataFrame({"canton": ["Zürich", "Genève"], "year": [2000, 2001], "y": [1.5, 2.0]})
    df.to_stata(tmp_path / "s.dta", write_index=False)
    res = read_table(tmp_path / "s.dta")
    assert res.reader == "stata"
    assert res.frame["canton"].tolist() == ["Zürich", "Genève"]
    assert res.frame["year"].tolist() == [2000, 2001]
    assert res.frame["y"].tolist() == [1.5, 2.0]


def test_stata_value_labels(tmp_path: Path) -> None:
    df = pd.DataFrame({"u": ["A", "B"], "g": pd.Categorical(["low", "high"])})
    df.to_stata(tmp_path / "l.dta", write_index=False)
    labelled = read_table(tmp_path / "l.dta")
    assert isinstance(labelled.frame["g"].dtype, pd.CategoricalDtype)
    assert labelled.frame["g"].astype(str).tolist() == ["low", "high"]
    codes = read_table(tmp_path / "l.dta", convert_categoricals=False)
    assert pd.api.types.is_integer_dtype(codes.frame["g"])


# -------------------------------------------------------------------- registry
def test_available_readers_lists_the_builtin_formats() -> None:
    names = available_readers()
    assert {"csv", "excel", "parquet", "stata"} <= set(names)
    assert names["csv"].options == frozenset(
        {"delimiter", "encoding", "skiprows", "comment", "decimal", "thousands"})
    assert ".csv.gz" in names["csv"].extensions
    assert names["excel"].options == frozenset({"sheet", "skiprows", "header"})


def test_unknown_option_lists_the_accepted_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "u,y\nA,1\n")
    with pytest.raises(ReaderError) as info:
        read_table(path, sheet="Data")
    assert type(info.value) is ReaderError
    assert str(info.value) == (
        "Reader 'csv' does not accept option(s) 'sheet'. It accepts: 'comment', 'decimal', "
        "'delimiter', 'encoding', 'skiprows', 'thousands'."
    )


def test_unsupported_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "data.sav", "x")
    with pytest.raises(UnsupportedFormatError) as info:
        read_table(path)
    assert type(info.value) is UnsupportedFormatError
    assert "No reader for 'data.sav' (extension '.sav')" in str(info.value)
    assert ".parquet" in str(info.value)


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    res = read_table(write(tmp_path / "data.dat", "u|y\nA|1\n"), format="csv")
    assert res.frame.to_dict("list") == {"u": ["A"], "y": ["1"]}


def test_get_reader_unknown_name() -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        get_reader("spss")
    assert type(info.value) is UnsupportedFormatError
    assert "Unknown format 'spss'" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        read_table(tmp_path / "nope.csv")
    assert type(info.value) is FileNotFoundError
    assert "nope.csv" in str(info.value)


def test_folder_is_a_reader_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderError) as info:
        read_table(tmp_path)
    assert type(info.value) is ReaderError
    assert "is a folder" in str(info.value)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(EmptySourceError) as info:
        read_table(write(tmp_path / "e.csv", ""))
    assert type(info.value) is EmptySourceError


@pytest.fixture
def demo_reader():
    """Register a sniffing domain reader for '.txt' files starting with 'DEMO', then remove it."""

    @register_reader("demo_domain", extensions=(".txt",), options=("scale",),
                     description="demo", sniff=lambda head: head.startswith(b"DEMO"))
    def _read(path: Path, *, scale: int = 1) -> ReadResult:
        lines = path.read_text().splitlines()[1:]
        frame = pd.DataFrame({"value": [int(v) * scale for v in lines]})
        return ReadResult(frame, np.arange(1, len(frame) + 1), len(frame), "demo_domain",
                          info={"scale": scale})

    yield
    readers._READERS.pop("demo_domain")


def test_registered_sniffer_claims_its_files(tmp_path: Path, demo_reader: None) -> None:
    res = read_table(write(tmp_path / "x.txt", "DEMO\n1\n2\n"), scale=10)
    assert res.reader == "demo_domain"
    assert res.frame["value"].tolist() == [10, 20]
    assert res.info == {"scale": 10}


def test_sniffer_leaves_other_files_to_the_generic_reader(tmp_path: Path, demo_reader: None) -> None:
    res = read_table(write(tmp_path / "y.txt", "a\tb\n1\t2\n"))
    assert res.reader == "csv"
    assert res.info["delimiter"] == "\t"


def test_a_reader_that_loses_rows_is_caught(tmp_path: Path) -> None:
    @register_reader("leaky_demo", extensions=(".leaky",))
    def _read(path: Path) -> ReadResult:
        frame = pd.DataFrame({"a": [1, 2]})
        return ReadResult(frame, np.array([1, 2]), 3, "leaky_demo")  # one row unaccounted for

    try:
        with pytest.raises(ReaderError) as info:
            read_table(write(tmp_path / "x.leaky", "x"))
    finally:
        readers._READERS.pop("leaky_demo")
    assert type(info.value) is ReaderError
    assert "Reader 'leaky_demo' lost track of rows: 2 rows in the frame" in str(info.value)
    assert "n_source_rows=3" in str(info.value)


def test_read_result_is_frozen() -> None:
    res = ReadResult(pd.DataFrame({"a": [1]}), np.array([1]), 1, "demo")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.reader = "other"  # type: ignore[misc]
    assert list(res.drops.columns) == DROP_LOG_COLUMNS


def test_excel_duplicate_header_names(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["u", "y", "y"])
    book.active.append(["A", 1, 2])
    book.save(tmp_path / "d.xlsx")
    with pytest.raises(ReaderError) as info:
        read_table(tmp_path / "d.xlsx")
    assert type(info.value) is ReaderError
    assert "duplicate column names in its header: 'y'" in str(info.value)


def test_excel_dotted_names_are_not_duplicates(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["u", "y", "y.1"])
    book.active.append(["A", 1, 2])
    book.save(tmp_path / "n.xlsx")
    assert list(read_table(tmp_path / "n.xlsx").frame.columns) == ["u", "y", "y.1"]


def test_a_reader_with_duplicate_columns_is_caught(tmp_path: Path) -> None:
    @register_reader("dup_demo", extensions=(".dupdemo",))
    def _read(path: Path) -> ReadResult:
        frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
        return ReadResult(frame, np.array([1]), 1, "dup_demo")

    try:
        with pytest.raises(ReaderError) as info:
            read_table(write(tmp_path / "x.dupdemo", "x"))
    finally:
        readers._READERS.pop("dup_demo")
    assert type(info.value) is ReaderError
    assert "Reader 'dup_demo' produced duplicate column names: 'a'" in str(info.value)
