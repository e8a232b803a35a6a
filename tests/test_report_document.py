"""The self-contained report: HTML parsed with the stdlib parser (embedded figures, no
external references, viewport, sections, provenance), the Markdown twin and its files."""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import re
import warnings
from dataclasses import FrozenInstanceError
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.report.document import PROVENANCE_PACKAGES, Report, build_report
from causalpolicing.report.narrative import describe_results

TIMESTAMP = "2026-01-02T03:04:05+00:00"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SECTIONS = ["title", "summary", "data", "estimates", "figures", "diagnostics", "causal-graph",
            "caveats", "provenance"]


_BLOCKS = {"p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "pre", "figcaption", "section",
           "header", "main", "title", "ul", "table"}


class Page(HTMLParser):
    """Every start tag with its attributes, the ids, and the visible text (block elements
    separated by a space; <style> left out)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if tag in _BLOCKS:
            self.text.append(" ")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        if tag in _BLOCKS:
            self.text.append(" ")

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if not self._in_style:
            self.text.append(data)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if a.get("id")]

    @property
    def plain(self) -> str:
        return " ".join("".join(self.text).split())


class Refutation:
    def __init__(self, name: str, passed: bool, p_value: float, reading: str) -> None:
        self.name, self.passed, self.p_value, self.reading = name, passed, p_value, reading


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def cantons():
    return cp.datasets.load("simulated_cantons")


@pytest.fixture(scope="module")
def fits(cantons):
    pois = quiet(cp.fepois, "deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                 cantons)
    ols = quiet(cp.feols, "deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                cantons)
    return {"Poisson": pois, "OLS": ols}


@pytest.fixture(scope="module")
def figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([1975, 1990, 2007], [1.0, 3.0, 2.0])
    yield fig
    plt.close(fig)


@pytest.fixture(scope="module")
def full_inputs(cantons, fits, figure):
    diag = quiet(cp.diagnostics.leads_test, cantons, leads=2, treatment="offences_per_1000")
    imp = pd.DataFrame({"implication": ["unemployment _||_ deaths | canton", "a _||_ b"],
                        "p_value": [0.4, 0.0004], "p_adjusted": [0.8, 0.0008],
                        "rejected": [False, True]})
    refs = [Refutation("placebo treatment", True, 0.62, "The effect vanishes under placebo."),
            Refutation("data subset", False, 0.01, "The estimate moves <a lot>.")]
    return dict(
        panel=cantons, figures={"Deaths over time": figure}, diagnostics=diag,
        refutations=refs, implications=imp,
        graph_summary={"estimand": "E[deaths | do(offences_per_1000)]",
                       "adjustment_sets": [["canton", "year"]],
                       "dot": "digraph {\n  offences -> deaths\n}",
                       "backdoor_paths": pd.DataFrame({"path": ["offences <- prevalence -> deaths"],
                                                       "blocked_by": ["canton"]})},
        provenance={"timestamp": TIMESTAMP, "seed": 1992,
                    "spec": '[data]\ndataset = "simulated_cantons"\n',
                    "command": ["causalpolicing", "analyze", "--out", "my out"]},
        title="Enforcement & deaths <in> the cantons")


@pytest.fixture(scope="module")
def report(fits, full_inputs):
    return build_report(fits, **full_inputs)


@pytest.fixture(scope="module")
def page(report):
    return Page(report.html)


# ================================================================ HTML checks
def test_every_img_is_an_embedded_data_uri(page, report) -> None:
    imgs = page.attrs("img")
    assert len(imgs) == 1
    src = imgs[0]["src"]
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == report.figures[0].data
    assert report.figures[0].data.startswith(PNG_MAGIC)


def test_no_external_references_scripts_or_stylesheets(page) -> None:
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is None:
                continue
            assert not re.match(r"^\s*(https?:)?//", value, re.IGNORECASE), (tag, name, value)
            if name == "href":
                assert value.startswith("#"), value  # only links inside the page
                assert value[1:] in page.ids


def test_viewport_meta_and_charset(page) -> None:
    metas = page.attrs("meta")
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert {"charset": "utf-8"} in metas


def test_sections_present_in_order(page) -> None:
    found = [i for i in page.ids if i in SECTIONS]
    assert found == SECTIONS


def test_simulated_notice_for_simulated_cantons(page) -> None:
    assert "simulated-notice" in page.ids
    assert "Simulated data. SIMULATED drug deaths and drug-law enforcement" in page.plain


def test_provenance_sha256_matches_input_file(cantons, page) -> None:
    digest = hashlib.sha256(Path(cantons.metadata.source).read_bytes()).hexdigest()
    assert digest == cantons.metadata.sha256
    assert f"SHA-256 {digest}" in page.plain


def test_provenance_versions_seed_spec_command_and_time(page) -> None:
    text = page.plain
    for name in PROVENANCE_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        assert f"{name} {version}" in text
    assert "Random seed 1992" in text
    assert f"Generated (UTC) {TIMESTAMP}" in text
    assert "causalpolicing analyze --out 'my out'" in text
    assert 'Analysis spec (TOML) [data] dataset = "simulated_cantons"' in text


def test_title_and_user_text_are_escaped(report, page) -> None:
    assert "<title>Enforcement &amp; deaths &lt;in&gt; the cantons</title>" in report.html
    assert "moves &lt;a lot&gt;." in report.html
    assert "Enforcement & deaths <in> the cantons" in page.plain


def test_summary_has_one_sentence_per_treatment_and_model(report, fits, cantons, page) -> None:
    expected = [s for r in fits.values() for s in describe_results(r, data=cantons)]
    assert report.narrative == tuple(expected)
    assert len(expected) == 4
    for s in expected:
        assert s in page.plain


def test_estimates_table_is_cp_table(report, fits) -> None:
    assert cp.table(fits).to_html() in report.html
    assert cp.table(fits).to_markdown().rstrip("\n") in report.markdown


def test_caveats_section_lists_every_caveat(report, page) -> None:
    kinds = [c.kind for c in report.caveats]
    assert kinds == ["failed_refutation", "failed_implication", "few_clusters"]
    items = [a for a in page.attrs("li") if (a.get("class") or "").startswith("cp-")]
    assert [a["class"] for a in items] == ["cp-high", "cp-high", "cp-medium"]
    assert "3 caveats (2 serious)" in page.plain


def test_graph_section_shows_summary_implications_and_refutations(page) -> None:
    text = page.plain
    assert "Estimand E[deaths | do(offences_per_1000)]" in text
    assert "Adjustment sets {canton, year}" in text
    assert "digraph { offences -> deaths }" in text
    assert "Backdoor paths path blocked_by offences <- prevalence -> deaths canton" in text
    assert "a _||_ b < 0.001 < 0.001 Yes" in text
    assert "data subset No 0.010 The estimate moves <a lot>." in text


def test_diagnostics_section_shows_the_leads_test(page, full_inputs) -> None:
    lt = full_inputs["diagnostics"]
    assert f"leads test {lt.statistic:.4g} {lt.p_value:.3f} no evidence of feedback" in page.plain


def test_data_section_structure(page) -> None:
    text = page.plain
    assert "Units 26 Periods 33 years (1975 to 2007) Rows in the panel 858" in text
    assert "No rows were dropped while loading." in text


# ============================================================ Markdown + save
def test_save_writes_html_markdown_and_referenced_figures(report, tmp_path) -> None:
    written = report.save(tmp_path / "out")
    assert sorted(written) == ["figures/01-deaths-over-time.png", "report.html", "report.md"]
    md = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert md == report.markdown
    assert (tmp_path / "out" / "report.html").read_text(encoding="utf-8") == report.html
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert refs == ["figures/01-deaths-over-time.png"]
    for ref in refs:
        assert (tmp_path / "out" / ref).read_bytes().startswith(PNG_MAGIC)


def test_markdown_has_the_same_sections_and_notice(report) -> None:
    heads = re.findall(r"^## (.+)$", report.markdown, re.MULTILINE)
    assert heads == ["Summary", "Data", "Estimates", "Figures", "Diagnostics", "Causal graph",
                     "Caveats", "Provenance"]
    assert report.markdown.startswith("# Enforcement &amp; deaths &lt;in&gt; the cantons")
    assert "> **Simulated data.**" in report.markdown
    assert "```toml\n[data]\ndataset = \"simulated_cantons\"\n```" in report.markdown
    assert "| offences &lt;- prevalence -&gt; deaths | canton |" in report.markdown


def test_output_is_deterministic_with_fixed_timestamp(fits, full_inputs, report) -> None:
    again = build_report(fits, **full_inputs)
    assert again.html == report.html
    assert again.markdown == report.markdown
    assert again == report


def test_svg_figures_are_embedded_and_deterministic(fits, cantons, figure) -> None:
    kw = dict(panel=cantons, figures={"A figure": figure}, figure_format="svg",
              provenance={"timestamp": TIMESTAMP})
    a, b = build_report(fits, **kw), build_report(fits, **kw)
    src = Page(a.html).attrs("img")[0]["src"]
    assert src.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(src.split(",", 1)[1])
    assert a.figures[0].filename == "figures/01-a-figure.svg"
    assert a.html == b.html


def test_drop_log_shown_and_saved_as_csv(tmp_path) -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"u": np.repeat(np.arange(30), 6), "t": np.tile(np.arange(2000, 2006), 30),
                       "y": rng.poisson(4, 180).astype(float), "x": rng.normal(size=180)})
    df.loc[:24, "y"] = np.nan
    panel = quiet(cp.load_panel, df, unit="u", time="t", outcome="y", treatment="x")
    res = quiet(cp.fepois, "y ~ x | u + t", panel)
    rep = build_report(res, panel=panel, drop_log_rows=5, provenance={"timestamp": TIMESTAMP})
    text = Page(rep.html).plain
    assert "25 source rows left out while loading, by reason:" in text
    assert "The first 5 of 25 rows of the drop log (the full log is saved next to this report " \
           "as drop_log.csv)" in text
    assert "simulated-notice" not in Page(rep.html).ids
    written = rep.save(tmp_path)
    assert sorted(written) == ["drop_log.csv", "report.html", "report.md"]
    saved = pd.read_csv(written["drop_log.csv"])
    assert len(saved) == 25
    assert saved["source_row"].tolist() == panel.drop_log["source_row"].tolist()
    assert [c.kind for c in rep.caveats] == ["few_clusters", "dropped_rows"]


def test_sections_left_out_without_their_inputs(fits) -> None:
    rep = build_report(fits["OLS"], provenance={"timestamp": TIMESTAMP})
    ids = Page(rep.html).ids
    assert [i for i in ids if i in SECTIONS] == ["title", "summary", "estimates", "caveats",
                                                 "provenance"]
    assert "Not checked in this report: the data (no panel given" in Page(rep.html).plain


def test_narrative_options_and_own_sentences(fits, cantons) -> None:
    rep = build_report(fits["Poisson"], panel=cantons, provenance={"timestamp": TIMESTAMP},
                       narrative={"terms": ["offences_per_1000"], "outcome_label": "deaths",
                                  "causal": True})
    assert rep.narrative == ("An increase of 1 unit in offences_per_1000 leads to 5.5% more "
                             "deaths (95% CI 2.8% to 8.3%).",)
    own = build_report(fits["Poisson"], narrative="My own words.",
                       provenance={"timestamp": TIMESTAMP})
    assert own.narrative == ("My own words.",)
    none = build_report(fits["Poisson"], narrative={"terms": ["unemployment"]},
                        provenance={"timestamp": TIMESTAMP})
    assert none.narrative == ()
    assert "Summary No effect to describe." in Page(none.html).plain


def test_table_options_reach_cp_table(fits) -> None:
    rep = build_report(fits["Poisson"], table_options={"exponentiate": True, "uncertainty": "ci"},
                       provenance={"timestamp": TIMESTAMP})
    assert cp.table(fits["Poisson"], exponentiate=True, uncertainty="ci").to_html() in rep.html


def test_repr_html_is_a_fragment(report) -> None:
    frag = report._repr_html_()
    assert "<html" not in frag and "<!DOCTYPE" not in frag
    assert '<main class="cp-report">' in frag and "<style>" in frag
    assert report.figures[0].data_uri in frag


def test_report_is_frozen(report) -> None:
    with pytest.raises(FrozenInstanceError):
        report.html = ""  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.provenance["seed"] = "1"  # type: ignore[index]
    assert isinstance(report, Report)


def test_templates_are_package_data() -> None:
    folder = importlib.resources.files("causalpolicing.report") / "templates"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["report.css", "report.html.j2", "report.md.j2"]


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(figures=[1]), "figures must be a mapping"),
    (dict(figures={"x": "not a figure"}), "must be a matplotlib Figure"),
    (dict(figure_format="jpg"), "figure_format must be one of"),
    (dict(narrative={"colour": "red"}), r"Unknown narrative option\(s\) \['colour'\]"),
    (dict(table_options=["se"]), "table_options must be a dict"),
    (dict(table_options={"uncertainty": "sd"}), "uncertainty"),
    (dict(provenance={"seed": 1.5}), "seed"),
    (dict(provenance={"spec": 3}), "spec"),
    (dict(provenance={"command": [1, 2]}), "command"),
    (dict(panel=pd.DataFrame()), "panel must be a Panel"),
    (dict(title=""), "title must be a non-empty string"),
    (dict(drop_log_rows=-1), "drop_log_rows"),
    (dict(graph_summary="a -> b"), "graph_summary must be a mapping"),
])
def test_build_report_rejects_bad_arguments(fits, kwargs, match) -> None:
    with pytest.raises(SpecError, match=match):
        build_report(fits["OLS"], **kwargs)


def test_build_report_rejects_non_results() -> None:
    with pytest.raises(SpecError, match="results must be a results object"):
        build_report("model")
    with pytest.raises(SpecError, match="empty"):
        build_report([])


def test_save_refuses_a_file_path(report, tmp_path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(SpecError, match="is not a directory"):
        report.save(target)


class ImplicationTests:
    """Stands for causalpolicing.graph's implication tests: a .table DataFrame."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table


def test_runner_style_inputs(cantons, fits) -> None:
    """What causalpolicing.analysis passes: a dict of diagnostics (feedback and bootstrap
    results), refutations without a test (passed None), implication tests with .table and
    provenance with spec_toml / command_line."""
    lt = quiet(cp.diagnostics.leads_test, cantons, leads=2, treatment="offences_per_1000")
    boot = quiet(cp.inference.wild_bootstrap, fits["OLS"], "offences_per_1000", reps=199, seed=1)
    refs = {"offences_per_1000": [
        Refutation("data_subset", None, None, "Re-estimates on 80% subsets (no test)."),
        Refutation("placebo_permutation", True, 0.4, "Placebo estimates centre on zero.")]}
    imp = ImplicationTests(pd.DataFrame({
        "implication": ["u _||_ y"], "x": ["u"], "y": ["y"], "p_value": [0.5],
        "p_adjusted": [0.5], "rejected": [False]}))
    rep = build_report(
        fits, panel=cantons, diagnostics={"feedback": lt, "bootstrap: OLS": boot},
        refutations=refs, implications=imp,
        provenance={"timestamp": TIMESTAMP, "spec_toml": "[report]\nseed = 7\n",
                    "command_line": "causalpolicing analyze --out x", "started": "then",
                    "sha256": cantons.metadata.sha256})
    page = Page(rep.html)
    text = page.plain
    assert "bootstrap: OLS" in text
    ci = boot.conf_int
    row = (f"offences_per_1000 {boot.estimate:.4g} {boot.std_error:.4g} {boot.t_stat:.4g} "
           f"{boot.p_value:.3f} {ci[0]:.4g} {ci[1]:.4g}")
    assert row in text
    assert "data_subset n/a Re-estimates on 80% subsets (no test)." in text
    assert [c.kind for c in rep.caveats] == ["few_clusters"]  # nothing failed
    assert "Analysis spec (TOML) [report] seed = 7" in text
    assert "Command line causalpolicing analyze --out x" in text
    assert "Other started then" in text
    assert text.count(cantons.metadata.sha256) == 1
