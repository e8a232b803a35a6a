"""`causalpolicing analyze` and `causalpolicing table`, run through a subprocess.

The default analysis (bundled simulated_cantons) runs once per module; the
report it writes is parsed: every figure embedded, no external references,
provenance present.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        d = dict(attrs)
        if tag == "img":
            self.imgs.append(d.get("src") or "")
        for key in ("src", "href"):
            if d.get(key) and tag in ("img", "script", "link", "iframe", "source"):
                self.refs.append(d[key] or "")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("analysis") / "report"
    res = run("analyze", "--out", str(out))  # default progress; stderr is a pipe, not a tty
    return res, out


def test_default_analysis_succeeds(default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    res, out = default_run
    assert res.returncode == 0, res.stderr
    assert "simulated_cantons" in res.stdout
    assert "SIMULATED" in res.stdout
    assert "Wrote" in res.stdout and "report.html" in res.stdout


FAST_SPEC = ('[data]\ndataset = "nc_crime"\n[[models]]\nname = "within"\n'
             'estimator = "feols"\nformula = "lcrmrte ~ lprbarr | county + year"\n'
             '[diagnostics]\nfeedback = false\n[report]\nfigures = []\n')


EXPECTED_FILES = ["report.html", "report.md", "spec.toml", "drop_log.csv", "tidy.csv",
                  "tidy.json", "tables/estimates.md", "tables/estimates.html",
                  "tables/estimates.tex", "tables/estimates.txt", "tables/estimates.csv",
                  "diagnostics/feedback.csv", "diagnostics/bootstrap.csv",
                  "diagnostics/implications.csv", "diagnostics/refutations.csv",
                  "diagnostics/sensitivity.csv", "diagnostics/evalues.csv",
                  "figures/07-the-causal-graph.svg"]


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_default_analysis_writes(default_run: tuple[subprocess.CompletedProcess[str], Path],
                                 name: str) -> None:
    _, out = default_run
    assert (out / name).is_file()
    assert (out / name).stat().st_size > 0


def test_html_report_is_self_contained(default_run: tuple[subprocess.CompletedProcess[str], Path]
                                       ) -> None:
    _, out = default_run
    html = (out / "report.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(html)
    assert len(parser.imgs) == 8  # coefficients x2, dose-response, event study, panel,
    #                               missingness, the DAG, the refutation draws
    assert all(src.startswith("data:image/") for src in parser.imgs)
    assert [r for r in parser.refs if not r.startswith(("data:", "#"))] == []
    assert "script" not in parser.tags
    assert 'name="viewport"' in html


def test_html_report_has_provenance(default_run: tuple[subprocess.CompletedProcess[str], Path]
                                    ) -> None:
    _, out = default_run
    html = (out / "report.html").read_text(encoding="utf-8")
    sha = cp.datasets.load("simulated_cantons").metadata.sha256
    assert sha in html
    assert "causalpolicing analyze --out" in html          # the command line
    assert "20261127" in html                              # the seed
    assert "distributed_lag" in html                       # the spec
    assert cp.__version__ in html


def test_markdown_report_figures_exist(default_run: tuple[subprocess.CompletedProcess[str], Path]
                                       ) -> None:
    _, out = default_run
    md = (out / "report.md").read_text(encoding="utf-8")

    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(refs) >= 5
    assert all((out / r).is_file() for r in refs)


def test_causal_section_of_the_default_run(
        default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = default_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Causal graph" in html
    assert "deaths_per_100k_lag2" in html          # the adjustment set: the feedback
    refs = pd.read_csv(out / "diagnostics" / "refutations.csv")
    assert list(refs["refuter"]) == ["placebo_permutation", "placebo_time_shift", "placebo_lead",
                                     "leave_one_unit_out", "random_common_cause"]
    graph_fit = cp.feols("deaths_per_100k ~ offences_per_1000 + deaths_per_100k_lag2 | "
                         "canton + year",
                         cp.datasets.load("simulated_cantons").rate("deaths")
                         .lag("deaths_per_100k", k=2), vcov={"CRV1": "canton"})
    np.testing.assert_allclose(refs["estimate"], graph_fit.params["offences_per_1000"],
                               rtol=1e-12)
    imp = pd.read_csv(out / "diagnostics" / "implications.csv")
    assert len(imp) == 15
    assert not imp["rejected"].any()


def test_tidy_results_match_a_refit(default_run: tuple[subprocess.CompletedProcess[str], Path]
                                    ) -> None:
    _, out = default_run
    tidy = pd.read_csv(out / "tidy.csv")
    pois = tidy[tidy["model"] == "Poisson FE (deaths, exposure population)"].set_index("term")
    ref = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage + "
                    "neighbour_offences_per_1000 | canton + year",
                    cp.datasets.load("simulated_cantons"), vcov={"CRV1": "canton"})
    np.testing.assert_allclose(pois.loc[ref.params.index, "estimate"], ref.params, rtol=1e-12)
    np.testing.assert_allclose(pois.loc[ref.params.index, "std_error"], ref.std_errors,
                               rtol=1e-12)
    records = json.loads((out / "tidy.json").read_text())
    assert len(records) == len(tidy)


def test_spec_written_is_the_spec_run(default_run: tuple[subprocess.CompletedProcess[str], Path]
                                      ) -> None:
    _, out = default_run
    from causalpolicing.spec import AnalysisSpec, default_spec

    assert AnalysisSpec.from_toml(out / "spec.toml") == default_spec()


@pytest.mark.parametrize("fmt,needle", [("latex", r"\toprule"), ("html", "<table"),
                                        ("markdown", "|"), ("text", "Observations"),
                                        ("csv", "Observations")])
def test_table_from_saved_results(default_run: tuple[subprocess.CompletedProcess[str], Path],
                                  fmt: str, needle: str, tmp_path: Path) -> None:
    _, out = default_run
    target = tmp_path / f"t.{fmt}"
    # the README's command, with the glob expanded by a shell
    res = subprocess.run(f"{shlex.quote(sys.executable)} -m causalpolicing table "
                         f"{shlex.quote(str(out))}/results/*.json --format {fmt} "
                         f"--out {shlex.quote(str(target))}",
                         shell=True, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    text = target.read_text(encoding="utf-8")
    assert needle in text
    assert "Poisson FE" in text


def test_table_rate_ratios(default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = default_run
    files = [str(p) for p in (out / "results").glob("poisson*.json")]
    res = run("table", *files, "--format", "csv", "--rate-ratios")
    assert res.returncode == 0, res.stderr
    ref = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage + "
                    "neighbour_offences_per_1000 | canton + year",
                    cp.datasets.load("simulated_cantons"), vcov={"CRV1": "canton"})
    assert f"{np.exp(ref.params['offences_per_1000']):.3f}" in res.stdout


def test_analyze_a_file_with_roles(tmp_path: Path) -> None:
    frame = cp.datasets.load("simulated_cantons").to_frame()
    data = tmp_path / "deaths.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out"
    res = run("analyze", str(data), "--unit", "canton", "--time", "year", "--outcome", "deaths",
              "--treatment", "offences_per_1000", "--exposure", "population", "--out", str(out),
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert (out / "report.html").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert hashlib.sha256(data.read_bytes()).hexdigest() in html
    assert {p.stem for p in (out / "results").glob("*.json")} >= {"feols", "fepois"}


def test_analyze_with_a_config(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\ndataset = "nc_crime"\n[[models]]\nname = "within"\n'
                    'estimator = "feols"\nformula = "lcrmrte ~ lprbarr + lpolpc | county + year"\n'
                    'vcov = "iid"\n[diagnostics]\nfeedback = false\n'
                    '[report]\nfigures = ["coefficients"]\ntables = ["latex"]\n', encoding="utf-8")
    out = tmp_path / "out"
    res = run("analyze", "--config", str(spec), "--out", str(out), "--no-progress")
    assert res.returncode == 0, res.stderr
    tex = (out / "tables" / "estimates.tex").read_text(encoding="utf-8")
    direct = cp.feols("lcrmrte ~ lprbarr + lpolpc | county + year",
                      cp.datasets.load("nc_crime"), vcov="iid")
    assert f"{direct.params['lprbarr']:.3f}" in tex
    assert f"({direct.std_errors['lprbarr']:.3f})" in tex
    assert not (out / "tables" / "estimates.html").exists()


BAD_SPECS = [
    ("unknown-key", '[data]\ndataset = "nc_crime"\n[[models]]\nestimator = "feols"\nvcv = "iid"\n',
     "models[0]: unknown key 'vcv'"),
    ("bad-estimator", '[data]\ndataset = "nc_crime"\n[[models]]\nestimator = "ols"\n',
     "models[0].estimator: unknown estimator 'ols'; valid: feols"),
    ("unknown-dataset", '[data]\ndataset = "nc_crim"\n', "nc_crime"),
    ("unknown-column", '[data]\ndataset = "nc_crime"\n[[models]]\nestimator = "feols"\n'
                       'formula = "lcrmrte ~ nope | county + year"\n', "nope"),
]


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in BAD_SPECS],
                         ids=[i for i, _, _ in BAD_SPECS])
def test_bad_spec_is_exit_code_2(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(text, encoding="utf-8")
    res = run("analyze", "--config", str(spec), "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_data_file_is_exit_code_2(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("canton,year,deaths,x\nZH,2000,1,0.5\nZH,2000,2,0.7\n", encoding="utf-8")
    res = run("analyze", str(data), "--unit", "canton", "--time", "year", "--outcome", "deaths",
              "--treatment", "x", "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 2
    assert "duplicate" in res.stderr.lower()
    assert "Traceback" not in res.stderr


def test_table_refuses_a_non_results_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{}", encoding="utf-8")
    res = run("table", str(bad))
    assert res.returncode == 2
    assert "not a causalpolicing results file" in res.stderr


def test_results_folder_holds_only_results_files(
        default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = default_run
    files = sorted((out / "results").glob("*.json"))
    assert len(files) == 3
    from causalpolicing.results_io import load_results

    assert all(load_results(p).name for p in files)  # every file the glob matches loads


def test_table_names_a_tidy_file_it_cannot_read(
        default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = default_run
    res = run("table", str(out / "results" / "linear-fe-deaths-per-100-000.json"),
              str(out / "tidy.json"))
    assert res.returncode == 2
    assert str(out / "tidy.json") in res.stderr
    assert "tidy rows" in res.stderr and "OUT/tidy.json" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_table_refuses_an_unknown_format(tmp_path: Path) -> None:
    res = run("table", str(tmp_path / "x.json"), "--format", "docx")
    assert res.returncode == 2
    assert "docx" in res.stderr


def test_progress_lines_by_default_when_not_a_terminal(
        default_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    res, out = default_run
    lines = res.stderr.splitlines()
    steps = [line for line in lines if line.startswith("[")]
    # every step closes with its duration, on its own line when sub-steps came in between
    closed = [line for line in steps if re.search(r" \.\.\. done in \d+\.\d s$", line)]
    names = [re.sub(r"^\[\d/9\] | \.\.\. done in .*$", "", line) for line in closed]
    assert names == [
        f"loaded 858 rows from {cp.datasets.load('simulated_cantons').metadata.source}",
        "fitting Linear FE (deaths per 100,000)",
        "fitting Poisson FE (deaths, exposure population)",
        "fitting Leads and lags (linear, deaths per 100,000)",
        "feedback diagnostics", "causal checks", "figures", "report",
        f"writing outputs to {out}"]
    assert [line[:5] for line in closed] == [f"[{k}/9]" for k in range(1, 10)]
    subs = [line.strip() for line in lines if line.startswith("      ")]

    def inside(step: str) -> list[str]:
        i = next(k for k, line in enumerate(lines) if line.startswith(step))
        j = next(k for k, line in enumerate(lines) if k > i and line.startswith(step))
        return [line.strip() for line in lines[i + 1:j]]

    causal = inside("[6/9] causal checks")
    assert [s.split(" ...")[0] for s in causal if s.startswith("refuter")] == [
        "refuter placebo_permutation", "refuter placebo_time_shift", "refuter placebo_lead",
        "refuter leave_one_unit_out", "refuter random_common_cause"]
    assert any(s.startswith("testable implications ... done in") for s in causal)
    report = inside("[8/9] report")
    assert sum(s.startswith("rendering figure: ") for s in report) == 8
    written = inside("[9/9] writing outputs")
    assert any(s.startswith("report.html and report.md ... done in") for s in written)
    assert sum(s.startswith("figures/") for s in written) == 8
    assert all(s.endswith(" s") for s in subs)
    assert "[1/9]" not in res.stdout


def test_no_progress_is_silent(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(FAST_SPEC, encoding="utf-8")
    res = run("analyze", "--config", str(spec), "--out", str(tmp_path / "o"), "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "[1/" not in res.stderr and "done in" not in res.stderr


def test_progress_lines_go_to_stderr(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('[data]\ndataset = "nc_crime"\n[[models]]\nname = "within"\n'
                    'estimator = "feols"\nformula = "lcrmrte ~ lprbarr | county + year"\n'
                    '[diagnostics]\nfeedback = false\n[report]\nfigures = []\n', encoding="utf-8")
    res = run("analyze", "--config", str(spec), "--out", str(tmp_path / "o"), "--progress")
    assert res.returncode == 0, res.stderr
    steps = [re.sub(r" \.\.\. done in \d+\.\d s$", "", line)
             for line in res.stderr.splitlines() if line.startswith("[") and "done in" in line]
    assert steps[0].startswith("[1/7] loaded 630 rows from ")
    assert steps[1:] == ["[2/7] fitting within", "[3/7] feedback diagnostics",
                         "[4/7] causal checks", "[5/7] figures", "[6/7] report",
                         f"[7/7] writing outputs to {tmp_path / 'o'}"]
    assert "[1/7]" not in res.stdout
