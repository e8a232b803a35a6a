"""The fast CSV path (pyarrow), wide files, nested Parquet columns and the hints' three doors."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.data import _csv_arrow, readers
from causalpolicing.data._messages import read_options_hint, time_format_hint
from causalpolicing.data.readers import read_table
from causalpolicing.exceptions import DataWarning, NonNumericError, RoleError


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def load_quietly(source, **kwargs):
    roles = dict(unit="u", time="t", outcome="y", treatment="x")
    roles.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(source, **roles)


# ------------------------------------------------------------ the pyarrow path
def test_plain_csv_is_read_by_pyarrow_not_pandas(tmp_path: Path, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("pandas.read_csv was called for a plain UTF-8 CSV")

    monkeypatch.setattr(pd, "read_csv", refuse)
    path = write(tmp_path / "p.csv", "fips,year,y\n01001,2000,3\n06037,2000,4\n")
    res = read_table(path)
    assert res.info["engine"] == "pyarrow"
    assert res.frame["fips"].tolist() == ["01001", "06037"]  # leading zeros kept
    assert res.frame["y"].tolist() == ["3", "4"]  # text: numbers are parsed by load_panel


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("u;t;y\n# note\nA;2000;1\n", {"comment": "#"}),
        ("u;t;y\nZ\xfcrich;2000;1\n", {"encoding": "latin-1"}),
        ("u;t;y\nA;2000;1\n   \nB;2000;2\n", {}),
        ("u;t;y\nA;2000;1;\nB;2000;2;\n", {}),
    ],
    ids=["comment", "latin-1", "line-of-spaces-inside", "extra-field-on-data-rows"],
)
def test_cases_pyarrow_cannot_take_use_the_pandas_path(tmp_path: Path, text: str,
                                                       options: dict) -> None:
    encoding = options.get("encoding", "utf-8")
    res = read_table(write(tmp_path / "f.csv", text, encoding), **options)
    assert res.info["engine"] == "pandas"


CASES = {
    "semicolon-bom-crlf": "\ufeffu;t;y\r\nA;2000;1,5\r\nA;2001;\r\n",
    "quoted-newline-and-quotes": 'u,t,note\nA,2000,"two\nlines"\nB,2000,"say ""hi"""\n',
    "blank-rows-of-separators": "u;t;y\nA;2000;1\n;;\n   ;;\nB;2000;2\n",
    "trailing-separator-everywhere": "u;t;y;\nA;2000;1;\nB;2000;2;\n",
    "tabs-and-trailing-blank-lines": "u\tt\ty\nA\t2000\t1\nB\t2000\t2\n\n  \n",
    "spaces-kept-in-cells": "u,t,y\n A ,2000, 1\nB,2000,\n",
    "one-column": "u\nA\n   \nB\n",
    "empty-lines-inside": "u;t;y\nA;2000;1\n\nB;2000;2\r\n\r\nC;2000;3\n",
    "empty-line-in-one-column": "u\nA\n\nB\n",
    "empty-header-cell": "u,,y\nA,1,2\nB,3,4\n",
}


@pytest.mark.parametrize("via", ["file", "bytes"])
@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_pyarrow_and_pandas_paths_read_the_same(tmp_path: Path, monkeypatch,
                                                text: str, via: str) -> None:
    path = write(tmp_path / "f.csv", text)
    with monkeypatch.context() as patch:
        if via == "bytes":  # pyarrow on the bytes in memory (as for .gz files, skiprows)
            patch.setattr(readers, "arrow_csv_file", lambda *a, **k: None)
        fast = read_table(path)
    assert fast.info["engine"] == "pyarrow"
    monkeypatch.setattr(readers, "arrow_csv_frame", lambda *a, **k: None)
    monkeypatch.setattr(readers, "arrow_csv_file", lambda *a, **k: None)
    slow = read_table(path)
    assert slow.info["engine"] == "pandas"
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.source_rows.tolist() == slow.source_rows.tolist()
    pd.testing.assert_frame_equal(fast.drops, slow.drops)
    assert {k: v for k, v in fast.info.items() if k != "engine"} == {
        k: v for k, v in slow.info.items() if k != "engine"}


def test_skiprows_on_the_pyarrow_path(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "Title line\nsource: somewhere\nu;t;y\nA;2000;1\n")
    res = read_table(path, skiprows=2)
    assert res.info["engine"] == "pyarrow"
    assert list(res.frame.columns) == ["u", "t", "y"]
    assert res.source_rows.tolist() == [1]


def test_pyarrow_never_infers_types(tmp_path: Path, monkeypatch) -> None:
    # if pyarrow saw another header than ours, columns could be inferred as numbers
    path = write(tmp_path / "f.csv", "fips,y\n01001,1\n")
    monkeypatch.setattr(_csv_arrow, "raw_header", lambda head, sep: ["other", "names"])
    res = read_table(path)
    assert res.info["engine"] == "pandas"
    assert res.frame["fips"].tolist() == ["01001"]


# ------------------------------------------------------------------ wide files
def test_wide_file_loads_with_correct_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n, k = 60, 2500
    data = {"u": [f"{i:05d}" for i in np.repeat(np.arange(1, 13), 5)],
            "t": np.tile(np.arange(2000, 2005), 12),
            "y": rng.poisson(5, n), "x": rng.normal(size=n).round(6)}
    values = rng.normal(size=(n, k)).round(4)
    data |= {f"v{j}": values[:, j] for j in range(k)}
    data["code"] = [f"{i:03d}" for i in range(n)]  # a code column: stays text
    path = tmp_path / "wide.csv"
    pd.DataFrame(data).to_csv(path, index=False)
    panel = load_quietly(path)
    out = panel.to_frame()
    assert out.shape == (n, k + 5)
    assert panel.metadata.reader_info["engine"] == "pyarrow"
    expected = pd.DataFrame(data).sort_values(["u", "t"]).reset_index(drop=True)
    np.testing.assert_allclose(out[[f"v{j}" for j in range(k)]].to_numpy(),
                               expected[[f"v{j}" for j in range(k)]].to_numpy(),
                               rtol=1e-12, atol=0)
    assert out["code"].tolist() == expected["code"].tolist()
    assert out["u"].tolist() == expected["u"].tolist()


def test_columns_without_role_on_the_fast_path(tmp_path: Path) -> None:
    text = ("u,t,y,x,fips,rate,label,mixed\n"
            "A,2000,1,0,01001,1.5,a,1\nA,2001,2,1,01003,NA,b,n.a.\n"
            "B,2000,3,0,06037, 2.25 ,c,3\n")
    out = load_quietly(write(tmp_path / "f.csv", text)).to_frame()
    assert out["fips"].tolist() == ["01001", "01003", "06037"]
    assert out["rate"].tolist()[0] == 1.5 and np.isnan(out["rate"].tolist()[1])
    assert out["rate"].tolist()[2] == 2.25
    assert out["label"].tolist() == ["a", "b", "c"]
    assert out["mixed"].tolist() == ["1", "n.a.", "3"]


def test_text_in_outcome_is_still_named_on_the_fast_path(tmp_path: Path) -> None:
    text = "u,t,y,x\nA,2000,1,0\nA,2001,NAN,1\nB,2000,three,0\n"
    with pytest.raises(NonNumericError) as info:
        load_quietly(write(tmp_path / "f.csv", text))
    assert "rows 2 ('NAN') and 3 ('three')" in str(info.value)


# ------------------------------------------------- decimal comma or thousands
def column_file(tmp_path: Path, values: list[str]) -> Path:
    rows = "".join(f'U{i},2000,"{v}",1\n' for i, v in enumerate(values))
    return write(tmp_path / "c.csv", "u,t,y,x\n" + rows)


def hint_for(tmp_path: Path, values: list[str], **kwargs) -> str:
    with pytest.raises(NonNumericError) as info:
        load_quietly(column_file(tmp_path, values), **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    "values",
    [["5,346", "0,5", "12,75"], ["5,346", "1,2345"], ["5,346", "1234,5"]],
    ids=["short-decimals", "long-decimals", "four-digit-integer-part"],
)
def test_decimal_comma_offered_when_the_column_supports_it(tmp_path: Path,
                                                           values: list[str]) -> None:
    msg = hint_for(tmp_path, values)
    decimal = msg.index("read_options={'decimal': ','}")
    assert "decimal commas" in msg
    assert "thousands" not in msg[:decimal]
    assert "'5,346' then read as 5.346" in msg


@pytest.mark.parametrize(
    "values", [["1,234,567", "5,346"], ["1,234.5", "5,346"]], ids=["groups", "with-decimals"]
)
def test_thousands_offered_when_the_column_supports_it(tmp_path: Path,
                                                       values: list[str]) -> None:
    msg = hint_for(tmp_path, values)
    assert "thousands separators" in msg
    assert "read_options={'thousands': ','}" in msg
    assert "'decimal'" not in msg


def test_only_three_digit_groups_names_both_and_what_decides(tmp_path: Path) -> None:
    msg = hint_for(tmp_path, ["5,346", "12,000"])
    assert "reads as 5346 with a thousands separator or as 5.346 with a decimal comma" in msg
    assert "read_options={'thousands': ','}" in msg
    assert "read_options={'decimal': ','}" in msg
    assert "'0,5'" in msg and "'1,234,567'" in msg  # the values that would decide


def test_mixed_separators_name_both(tmp_path: Path) -> None:
    msg = hint_for(tmp_path, ["0,5", "1,234,567"])
    assert "mixes decimal commas (e.g. '0,5') and thousands separators (e.g. '1,234,567')" in msg


def test_thousands_option_refuses_a_decimal_comma(tmp_path: Path) -> None:
    # following the wrong fix must not read '0,5' as 5
    msg = hint_for(tmp_path, ["5,346", "0,5"], read_options={"thousands": ","})
    assert "row 2 ('0,5')" in msg
    assert "groups of three digits" in msg
    assert "read_options={'decimal': ','}" in msg


def test_decimal_comma_fix_reads_the_column(tmp_path: Path) -> None:
    panel = load_quietly(column_file(tmp_path, ["5,346", "0,5", "12,75"]),
                         read_options={"decimal": ","})
    assert panel.to_frame()["y"].tolist() == [5.346, 0.5, 12.75]


# ------------------------------------------------------------ the three doors
def test_hints_name_python_command_line_and_spec() -> None:
    assert read_options_hint({"thousands": ","}) == (
        "pass read_options={'thousands': ','} (command line: --read-option thousands=, ; "
        'spec [data]: read_options = {thousands = ","})'
    )
    assert "--read-option 'delimiter=;'" in read_options_hint({"delimiter": ";"})
    assert "--read-option skiprows=2" in read_options_hint({"skiprows": 2})
    assert "--read-option 'sheet=\"2019\"'" in read_options_hint({"sheet": "2019"})
    assert time_format_hint("%d %b %Y") == (
        "pass time_format='%d %b %Y' (command line: --time-format '%d %b %Y' ; "
        'spec [data]: time_format = "%d %b %Y")'
    )


def test_time_hint_guesses_the_layout(tmp_path: Path) -> None:
    text = "u,t,y,x\nA,31/01/2017,1,0\nB,31/01/2017,2,1\n"
    with pytest.raises(cp.exceptions.TimeParseError) as info:
        load_quietly(write(tmp_path / "d.csv", text))
    assert "--time-format %d/%m/%Y" in str(info.value)


# -------------------------------------------------------------- nested Parquet
@pytest.fixture
def nested_parquet(tmp_path: Path) -> Path:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({
        "u": ["A", "A", "B", "B"], "t": [2000, 2001, 2000, 2001],
        "y": [1.0, 2.0, 3.0, 4.0], "x": [0.0, 1.0, 0.0, 1.0],
        "tags": [[1, 2], [3], [], None], "meta": [{"a": 1}, {"a": 2}, None, {"a": 3}],
    })
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    return path


def test_unused_nested_parquet_column_does_not_break_loading(nested_parquet: Path) -> None:
    with pytest.warns(DataWarning, match="nested column"):
        panel = cp.load_panel(nested_parquet, unit="u", time="t", outcome="y", treatment="x")
    out = panel.to_frame()
    assert len(out) == 4
    assert list(out["tags"].iloc[0]) == [1, 2]


def test_nested_parquet_column_in_a_role_is_named(nested_parquet: Path) -> None:
    with pytest.raises(RoleError) as info:
        load_quietly(nested_parquet, covariates=["tags"])
    assert "Column 'tags' of 'nested.parquet' is nested" in str(info.value)
    assert "covariate" in str(info.value)


# ------------------------------------------------------------ the command line
def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "causalpolicing", "validate", *args,
         "--unit", "u", "--time", "t", "--outcome", "y", "--treatment", "x"],
        capture_output=True, text=True, timeout=120,
    )


def test_cli_refuses_binary_csv_and_fake_xlsx_with_exit_2(tmp_path: Path) -> None:
    png = tmp_path / "image.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    res = validate(str(png))
    assert res.returncode == 2, res.stderr
    assert "'image.csv' does not look like CSV text (binary content at byte 0: a PNG image)" in (
        res.stderr + res.stdout)
    fake = write(tmp_path / "fake.xlsx", "u,t,y,x\nA,2000,1,2\n")
    res = validate(str(fake))
    assert res.returncode == 2, res.stderr
    assert "'fake.xlsx' is not an Excel workbook (zip signature missing)" in (
        res.stderr + res.stdout)


def test_cli_nested_parquet(nested_parquet: Path) -> None:
    res = validate(str(nested_parquet))
    assert res.returncode == 0, res.stderr
    assert "nested column(s) 'tags', 'meta'" in res.stdout + res.stderr
    res = validate(str(nested_parquet), "--covariate", "meta")
    assert res.returncode == 2
    assert "Column 'meta' of 'nested.parquet' is nested" in res.stderr + res.stdout
    assert "Traceback" not in res.stderr
