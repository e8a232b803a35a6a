"""Markdown outputs carry no raw HTML from user text (issue 10, item 3).

report.md, the Markdown estimates table and ``reproduce --format markdown`` all
escape with :mod:`causalpolicing.report.markdown_escape`: HTML entities for
``& < >`` and backslashes before Markdown's metacharacters (``|`` in cells).
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.report.markdown_escape import md_cell, md_escape

HOSTILE = "<script>alert(1)</script>|x"
ESCAPED = r"&lt;script&gt;alert(1)&lt;/script&gt;\|x"


def _cells(line: str) -> list[str]:
    """The cells of a pipe-table row, split on unescaped pipes."""
    return re.split(r"(?<!\\)\|", line.strip().strip("|"))


@pytest.fixture(scope="module")
def fit():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.feols("lcrmrte ~ lprbarr | county + year", cp.datasets.load("nc_crime"),
                        vcov="iid")


@pytest.mark.parametrize(("text", "expected"), [
    ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
    ("R&D", "R&amp;D"),
    ("&lt;", "&amp;lt;"),
    ("a|b", r"a\|b"),
    ("a_b*c*", r"a\_b\*c\*"),
    ("[link](javascript:x)", r"\[link\](javascript:x)"),
], ids=["tag", "ampersand", "entity-kept-literal", "pipe", "emphasis", "link"])
def test_md_escape(text: str, expected: str) -> None:
    assert md_escape(text) == expected


def test_md_cell_joins_lines() -> None:
    assert md_cell("a\r\nb\nc|d") == r"a b c\|d"


def test_table_markdown_escapes_a_hostile_model_name(fit) -> None:  # type: ignore[no-untyped-def]
    md = cp.table({HOSTILE: fit}).to_markdown()
    assert "<script" not in md and "</script" not in md
    assert ESCAPED in md
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len({len(_cells(line)) for line in rows}) == 1  # the pipe split no cell


def test_table_markdown_escapes_the_title(fit) -> None:  # type: ignore[no-untyped-def]
    md = cp.table({"m": fit}, title="<img src=x onerror=alert(1)>").to_markdown()
    assert "<img" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md


def test_report_markdown_escapes_model_names_and_title(fit) -> None:  # type: ignore[no-untyped-def]
    report = cp.build_report({HOSTILE: fit}, title="<b>Deaths</b> & <script>x</script>")
    md = report.markdown
    assert "<script" not in md and "<b>" not in md
    assert ESCAPED in md
    assert md.startswith("# &lt;b&gt;Deaths&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;")
    # the HTML twin escapes the same text (the reference behaviour)
    assert "<script" not in report.html.split("<style", 1)[0]


STUDY = """
[study]
id = "toy"
title = "<script>alert('t')</script> A | B & C"
citation = "Nobody <nobody@example.org> (2024)"
status = "reproducible"

[data]
path = "toy.csv"

[data.roles]
unit = "unit"
time = "year"
outcome = "y"
treatment = "x"

[[models]]
id = "ols"
estimator = "feols"
formula = "y ~ x | unit"
vcov = "iid"

[[published]]
model = "ols"
table = "T1"
column = "(1)"
term = "x"
estimate = "0.50"
"""


@pytest.fixture()
def study_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"unit": np.repeat(list("abcdef"), 5),
                       "year": np.tile(range(2000, 2005), 6), "x": rng.normal(size=30)})
    df["y"] = 0.5 * df["x"] + rng.normal(size=30)
    df.to_csv(tmp_path / "toy.csv", index=False)
    path = tmp_path / "study.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def test_reproduce_markdown_escapes_the_study_title(study_file: Path) -> None:
    md = cp.reproduce(study_file).to_markdown()
    assert "<script" not in md and "<nobody" not in md
    assert md.startswith(r"### &lt;script&gt;alert('t')&lt;/script&gt; A \| B &amp; C")
    assert "Nobody &lt;nobody@example.org&gt; (2024)" in md


def test_reproduce_cli_markdown_escapes_the_study_title(study_file: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "causalpolicing", "reproduce", "--study",
                          str(study_file), "--format", "markdown"],
                         capture_output=True, text=True, timeout=300)
    assert "<script" not in res.stdout, res.stderr
    assert "&lt;script&gt;" in res.stdout


@pytest.mark.parametrize("text", ["[x](javascript:alert(1))", "[x] [y]", "[x]: http://e.org",
                                  "a ] (b"])
def test_link_shaped_text_gets_its_brackets_escaped(text: str) -> None:
    from causalpolicing.report.markdown_escape import md_escape

    out = md_escape(text)
    assert "\\[" in out or "\\]" in out
    assert "](" not in out.replace("\\]", "")


def test_an_interval_keeps_its_brackets() -> None:
    from causalpolicing.report.markdown_escape import md_cell

    assert md_cell("[1.027, 1.085]") == "[1.027, 1.085]"
