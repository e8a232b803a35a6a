"""Tests of ``cp.table`` (causalpolicing/report/tables).

What is checked against what:

* **Golden files** (``tests/golden/tables/<config>.<ext>``): every renderer (text,
  Markdown, HTML, LaTeX, LaTeX with threeparttable, CSV, tidy frame as CSV) for
  three table configurations (``cantons``: FEOLS + FEPoisson on
  ``simulated_cantons`` with stars, title and notes; ``nc_crime``: the Baltagi
  (2006) within estimator with conventional and clustered SEs; ``synthetic``:
  hand-made results with exponentiation, intervals, custom stars and missing
  terms). Exact string equality. To regenerate after an intended change, run::

      CAUSALPOLICING_REGEN_GOLDEN=1 python -m pytest tests/test_tables.py

  then review the diff of ``tests/golden/tables/`` before committing.
* **Numbers**: every estimate and standard error shown is parsed back and must be
  within half a unit of the last shown digit (5e-4 at ``digits=3``) of the results'
  own ``tidy()`` value, and equal to Python's rounding of it.
* **Published numbers**: the North Carolina crime within estimator (Baltagi 2006,
  Table 1; ``ssc="stata_xtreg"``, ``vcov="iid"``) shows lprbarr -0.354830 (0.032205)
  as ``-0.355`` and ``(0.032)``.
* **Exponentiation** equals ``cp.rate_ratios(res, per=1)`` (estimate and interval,
  relative tolerance 1e-12) and ``cp.odds_ratios(res, per=1)``; the standard error
  is the delta method ``exp(b) * se``.
* **Stars** at and around the thresholds (strictly below gets the star).
* **Errors**: every bad argument raises ``SpecError`` naming the argument.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import CausalPolicingWarning, SpecError
from causalpolicing.report.tables import Table
from causalpolicing.report.tables.format import format_number, stars_for
from causalpolicing.results import BaseResults

GOLDEN = Path(__file__).parent / "golden" / "tables"
REGEN = os.environ.get("CAUSALPOLICING_REGEN_GOLDEN") == "1"

NC_X = ("lprbarr lprbconv lprbpris lavgsen lpolpc ldensity lwcon lwtuc lwtrd lwfir lwser "
        "lwmfg lwfed lwsta lwloc lpctymle").split()


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name`` (or rewrite it when regenerating)."""
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; create it with "
                    "CAUSALPOLICING_REGEN_GOLDEN=1 python -m pytest tests/test_tables.py")
    assert text == path.read_text(encoding="utf-8")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CausalPolicingWarning)
        return fn(*args, **kwargs)


def make(params: dict[str, float], ses: dict[str, float] | None = None, *, nobs: int = 100,
         spec: dict | None = None, estimator: str = "OLS", cov_type: str = "iid",
         n_clusters=None, fit_stats=None) -> BaseResults:
    """Results with normal-reference inference: p-values follow from estimate / se."""
    ses = ses or dict.fromkeys(params, 1.0)
    names = list(params)
    return BaseResults(params=pd.Series(params, dtype=float),
                       cov=pd.DataFrame(np.diag([ses[n] ** 2 for n in names]), names, names),
                       nobs=nobs, df_inference=None, cov_type=cov_type, estimator=estimator,
                       spec=spec or {}, n_clusters=n_clusters, fit_stats=fit_stats)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cantons() -> dict[str, object]:
    panel = cp.datasets.load("simulated_cantons")
    ols = quiet(cp.feols, "deaths ~ offences_per_1000 + unemployment | canton + year", panel)
    pois = quiet(cp.fepois, "deaths ~ offences_per_1000 | canton + year", panel)
    return {"OLS": ols, "Poisson": pois}


@pytest.fixture(scope="module")
def nc_crime() -> dict[str, object]:
    panel = cp.datasets.load("nc_crime")
    f = f"lcrmrte ~ {' + '.join(NC_X)} | county + year"
    within = quiet(cp.feols, f, panel, vcov="iid", ssc="stata_xtreg")
    clustered = quiet(cp.feols, f, panel, vcov={"CRV1": "county"})
    return {"Within": within, "Within, clustered": clustered}


@pytest.fixture(scope="module")
def synthetic() -> dict[str, object]:
    spec_p = {"depvar": "deaths", "fixed_effects": ["unit", "year"], "link": "log",
              "family": "poisson"}
    a = make({"enforcement": 0.05, "log(price)": -0.4}, {"enforcement": 0.02, "log(price)": 0.3},
             nobs=12345, spec=spec_p, estimator="FEPoisson", cov_type="CRV1 by unit",
             n_clusters=40, fit_stats={"pseudo_r2": 0.31})
    b = make({"enforcement": 0.08, "treatment_x": 0.2}, {"enforcement": 0.03, "treatment_x": 0.1},
             nobs=1234567, spec={**spec_p, "fixed_effects": ["unit"]}, estimator="FEPoisson",
             cov_type="CRV1 by unit & year", n_clusters=(40, 12),
             fit_stats={"pseudo_r2": 0.28})
    return {"Main": a, "Robustness #2": b}


CONFIGS = {
    "cantons": ("cantons", dict(stars=True, title="Drug deaths & enforcement (100% simulated)",
                                rename={"offences_per_1000": "Offences per 1,000"},
                                notes=["Simulated data; see cp.datasets.load(\"simulated_cantons\")."])),
    "nc_crime": ("nc_crime", dict(keep=["lprbarr", "lpolpc", "lprb*"], digits=3,
                                  gof=["nobs", "fixed_effects", "cov_type", "within_r2"])),
    "synthetic": ("synthetic", dict(exponentiate=True, uncertainty="ci", level=0.9,
                                    stars={"+": 0.1, "*": 0.05}, digits=2,
                                    rename={"log(price)": "Price (log)",
                                            "treatment_x": "Treatment_x"},
                                    order=["treatment_x"], gof=["nobs", "n_clusters",
                                                                "fixed_effects", "cov_type",
                                                                "pseudo_r2"],
                                    title="Rate ratios")),
}


@pytest.fixture
def build(request):
    def _build(config: str) -> Table:
        fixture, kwargs = CONFIGS[config]
        return cp.table(request.getfixturevalue(fixture), **kwargs)
    return _build


RENDERERS = {
    "txt": lambda t: t.to_text(),
    "md": lambda t: t.to_markdown(),
    "html": lambda t: t.to_html(),
    "tex": lambda t: t.to_latex(),
    "3pt.tex": lambda t: t.to_latex(threeparttable=True),
    "csv": lambda t: t.to_csv(),
    "frame.csv": lambda t: t.to_frame().to_csv(index=False, float_format="%.6f",
                                                lineterminator="\n"),
}


# --------------------------------------------------------------------------- golden files
@pytest.mark.parametrize("ext", list(RENDERERS))
@pytest.mark.parametrize("config", list(CONFIGS))
def test_golden(build, config: str, ext: str) -> None:
    check_golden(f"{config}.{ext}", RENDERERS[ext](build(config)))


@pytest.mark.parametrize("config", ["cantons", "nc_crime"])
def test_golden_numbers_are_far_from_a_rounding_edge(build, config: str) -> None:
    # The golden files are compared byte for byte, but they print fitted numbers rounded
    # (3 digits in the tables, 6 in frame.csv). A different BLAS, CPU or dependency
    # version moves a fitted number by ~1e-15 relative (1e-12 for the iterative Poisson
    # fit), which can change a printed digit only when the number sits that close to a
    # half-way point. Guard: every printed number is at least 1e-6 of a last-digit unit
    # (1e-9 absolute at 3 digits, 1e-12 at 6) away from one; measured minimum 3e-3.
    frame = build(config).to_frame()
    vals = frame.select_dtypes("number").to_numpy(dtype=float).ravel()
    vals = vals[np.isfinite(vals)]
    for digits in (3, 6):
        scaled = np.abs(vals) * 10**digits
        assert np.min(np.abs(scaled - np.floor(scaled) - 0.5)) > 1e-6, digits


# ------------------------------------------------------------------------------ numbers
def _parse(s: str) -> float:
    return float(s.strip("()*+").replace(",", ""))


@pytest.mark.parametrize("config", ["cantons", "nc_crime"])
def test_shown_numbers_equal_tidy_rounded(build, request, config: str) -> None:
    fixture, kwargs = CONFIGS[config]
    models = request.getfixturevalue(fixture)
    tab = build(config)
    grid = tab.to_frame(formatted=True)
    inverse = {v: k for k, v in kwargs.get("rename", {}).items()}
    est_rows = grid.index[grid["part"] == "estimate"]
    checked = 0
    for i in est_rows:
        term = inverse.get(grid.at[i, "label"], grid.at[i, "label"])
        for name, res in models.items():
            tidy = res.tidy().set_index("term")
            est, se = grid.at[i, name], grid.at[i + 1, name]
            if term not in tidy.index:
                assert (est, se) == ("", "")
                continue
            b, s = tidy.at[term, "estimate"], tidy.at[term, "std_error"]
            assert abs(_parse(est) - b) <= 5e-4 + 1e-12
            assert abs(_parse(se) - s) <= 5e-4 + 1e-12
            assert est.rstrip("*") == f"{b:.3f}"
            assert se == f"({s:.3f})"
            checked += 1
    assert checked == {"cantons": 3, "nc_crime": 8}[config]


@pytest.mark.parametrize("render", ["to_text", "to_markdown", "to_html", "to_latex", "to_csv"])
def test_nc_crime_published_within_estimate_shown(nc_crime, render: str) -> None:
    within = nc_crime["Within"]
    assert within.params["lprbarr"] == pytest.approx(-0.354830, abs=5e-7)
    assert within.std_errors["lprbarr"] == pytest.approx(0.032205, abs=5e-7)
    tab = cp.table(within, keep="lprbarr", digits=3)
    grid = tab.to_frame(formatted=True)
    assert grid.loc[grid["part"] == "estimate", "(1)"].tolist() == ["-0.355"]
    assert grid.loc[grid["part"] == "uncertainty", "(1)"].tolist() == ["(0.032)"]
    out = getattr(tab, render)()
    assert "-0.355" in out and "(0.032)" in out


def test_tidy_frame_values_are_unrounded(cantons) -> None:
    frame = cp.table(cantons).to_frame()
    tidy = cantons["Poisson"].tidy()
    row = frame[frame["model"] == "Poisson"].iloc[0]
    assert list(frame.columns) == ["model", "term", "original_term", "estimate", "std_error",
                                   "statistic", "p_value", "conf_low", "conf_high", "stars",
                                   "exponentiated"]
    assert len(frame) == 3
    assert row["term"] == "offences_per_1000"
    for col in ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"):
        assert row[col] == tidy.loc[0, col]
    assert row["stars"] == ""
    assert not row["exponentiated"]


# --------------------------------------------------------------------------------- stars
@pytest.mark.parametrize(
    ("p", "expected"),
    [pytest.param(0.2, "", id="p=0.2"), pytest.param(0.1, "", id="p=0.1-at"),
     pytest.param(0.0999, "*", id="p=0.0999"), pytest.param(0.05, "*", id="p=0.05-at"),
     pytest.param(0.0499, "**", id="p=0.0499"), pytest.param(0.01, "**", id="p=0.01-at"),
     pytest.param(0.0099, "***", id="p=0.0099"), pytest.param(float("nan"), "", id="nan")],
)
def test_stars_for_thresholds(p: float, expected: str) -> None:
    assert stars_for(p, (("*", 0.1), ("**", 0.05), ("***", 0.01))) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [pytest.param(0.1 * (1 + 1e-6), "", id="above-0.1"),
     pytest.param(0.1 * (1 - 1e-6), "*", id="below-0.1"),
     pytest.param(0.05 * (1 + 1e-6), "*", id="above-0.05"),
     pytest.param(0.05 * (1 - 1e-6), "**", id="below-0.05"),
     pytest.param(0.01 * (1 + 1e-6), "**", id="above-0.01"),
     pytest.param(0.01 * (1 - 1e-6), "***", id="below-0.01")],
)
def test_table_stars_from_known_p_values(p: float, expected: str) -> None:
    from scipy import special

    z = float(-special.ndtri(p / 2))  # normal reference: p = 2 * (1 - Phi(z))
    res = make({"x": z})
    assert res.pvalues["x"] == pytest.approx(p, rel=1e-9)
    tab = cp.table(res, stars=True, gof=[])
    assert tab.to_frame()["stars"].tolist() == [expected]
    grid = tab.to_frame(formatted=True)
    assert grid.loc[grid["part"] == "estimate", "(1)"].item() == f"{z:.3f}{expected}"
    assert "* p < 0.1, ** p < 0.05, *** p < 0.01." in tab.to_text()


def test_custom_stars_mapping_and_note() -> None:
    tab = cp.table(make({"x": 3.0}), stars={"†": 0.1, "‡": 0.001}, gof=[])
    assert tab.to_frame()["stars"].tolist() == ["†"]
    assert "† p < 0.1, ‡ p < 0.001." in tab.to_text()


def test_no_stars_no_star_note() -> None:
    text = cp.table(make({"x": 3.0}), gof=[]).to_text()
    assert "*" not in text
    assert text.endswith("Standard errors in parentheses.\n")


# ------------------------------------------------------------------------ exponentiation
def test_exponentiate_equals_rate_ratios(cantons) -> None:
    pois = cantons["Poisson"]
    rr = cp.rate_ratios(pois, per=1).set_index("term")
    row = cp.table(pois, exponentiate=True).to_frame().set_index("original_term").loc[
        "offences_per_1000"]
    assert row["estimate"] == pytest.approx(rr.at["offences_per_1000", "rate_ratio"], rel=1e-12)
    assert row["conf_low"] == pytest.approx(rr.at["offences_per_1000", "conf_low"], rel=1e-12)
    assert row["conf_high"] == pytest.approx(rr.at["offences_per_1000", "conf_high"], rel=1e-12)
    assert row["std_error"] == pytest.approx(
        np.exp(pois.params["offences_per_1000"]) * pois.std_errors["offences_per_1000"],
        rel=1e-12)
    assert row["p_value"] == pois.pvalues["offences_per_1000"]
    assert row["exponentiated"]


def test_exponentiate_equals_odds_ratios() -> None:
    rng = np.random.default_rng(20261127)
    df = pd.DataFrame({"x": rng.normal(size=300), "n": 40})
    df["d"] = rng.binomial(40, 1 / (1 + np.exp(-(-1.0 + 0.4 * df["x"]))))
    res = quiet(cp.febinomial, "d ~ x", df, trials="n")
    odds = cp.odds_ratios(res, per=1).set_index("term")
    row = cp.table(res, exponentiate=True).to_frame().set_index("original_term").loc["x"]
    assert row["estimate"] == pytest.approx(odds.at["x", "odds_ratio"], rel=1e-12)
    assert row["conf_low"] == pytest.approx(odds.at["x", "conf_low"], rel=1e-12)
    assert row["conf_high"] == pytest.approx(odds.at["x", "conf_high"], rel=1e-12)
    assert row["std_error"] == pytest.approx(np.exp(res.params["x"]) * res.std_errors["x"],
                                             rel=1e-12)


def test_exponentiate_some_models_only(cantons) -> None:
    tab = cp.table(cantons, exponentiate=[False, True])
    frame = tab.to_frame()
    assert frame["exponentiated"].tolist() == [False, False, True]
    assert frame["estimate"].iloc[2] == pytest.approx(
        np.exp(cantons["Poisson"].params["offences_per_1000"]), rel=1e-12)
    assert "Models Poisson: exponentiated coefficients" in tab.to_text()


def test_exponentiate_rejects_linear_model(cantons) -> None:
    with pytest.raises(SpecError, match=r"exponentiate: model OLS \(FEOLS\) is not a count"):
        cp.table(cantons, exponentiate=True)


# -------------------------------------------------------------------------- alignment
def test_models_with_different_terms_align() -> None:
    a = make({"x": 1.0, "w": 2.0})
    b = make({"z": 3.0, "x": 4.0})
    grid = cp.table([a, b], gof=[]).to_frame(formatted=True)
    assert grid["label"].tolist() == ["Estimator", "x", "", "w", "", "z", ""]
    assert grid["(1)"].tolist() == ["OLS", "1.000", "(1.000)", "2.000", "(1.000)", "", ""]
    assert grid["(2)"].tolist() == ["OLS", "4.000", "(1.000)", "", "", "3.000", "(1.000)"]


def test_rename_to_same_label_shares_a_row() -> None:
    a = make({"x_a": 1.0})
    b = make({"x_b": 2.0})
    grid = cp.table([a, b], rename={"x_a": "Treatment", "x_b": "Treatment"},
                    gof=[]).to_frame(formatted=True)
    assert grid.loc[grid["part"] == "estimate", ["label", "(1)", "(2)"]].values.tolist() == [
        ["Treatment", "1.000", "2.000"]]


def test_rename_two_terms_of_one_model_to_one_label_is_an_error() -> None:
    with pytest.raises(SpecError, match=r"rename: terms \['a', 'b'\] of model \(1\)"):
        cp.table(make({"a": 1.0, "b": 2.0}), rename={"a": "T", "b": "T"})


@pytest.mark.parametrize(
    ("kwargs", "terms"),
    [pytest.param({"keep": "x*"}, ["x1", "x2"], id="keep-glob"),
     pytest.param({"keep": ["w", "x1"]}, ["w", "x1"], id="keep-orders"),
     pytest.param({"drop": "*1"}, ["x2", "w", "C(g)[T.b]"], id="drop-glob"),
     pytest.param({"keep": "C(g)[T.b]"}, ["C(g)[T.b]"], id="keep-literal-brackets"),
     pytest.param({"order": ["w"]}, ["w", "x1", "x2", "C(g)[T.b]"], id="order"),
     pytest.param({"order": ["w"], "drop": "x2"}, ["w", "x1", "C(g)[T.b]"], id="order-drop")],
)
def test_term_selection(kwargs: dict, terms: list[str]) -> None:
    res = make({"x1": 1.0, "x2": 2.0, "w": 3.0, "C(g)[T.b]": 4.0})
    assert list(cp.table(res, **kwargs).model.terms) == terms


def test_keep_is_not_a_regex() -> None:
    with pytest.raises(SpecError, match="keep: term 'x.' is not in any model"):
        cp.table(make({"x1": 1.0}), keep="x.")


# ----------------------------------------------------------------------------- gof rows
def test_gof_rows_blank_when_missing_and_fe_yes_no() -> None:
    a = make({"x": 1.0}, nobs=1500, spec={"fixed_effects": ["unit", "year"]},
             fit_stats={"r2": 0.5}, cov_type="CRV1 by unit", n_clusters=30)
    b = make({"x": 1.0}, nobs=90, spec={"fe": "unit"}, n_clusters=(30, 7),
             cov_type="CRV1 by unit & year")
    grid = cp.table([a, b]).to_frame(formatted=True)
    gof = grid[grid["part"] == "gof"]
    assert gof[["label", "(1)", "(2)"]].values.tolist() == [
        ["Observations", "1,500", "90"],
        ["Clusters", "30", "30, 7"],
        ["unit FE", "Yes", "Yes"],
        ["year FE", "Yes", "No"],
        ["Std. errors", "CRV1 by unit", "CRV1 by unit & year"],
        ["R2", "0.500", ""],
    ]


def test_gof_mapping_sets_labels() -> None:
    res = make({"x": 1.0}, fit_stats={"rmse": 2.25})
    grid = cp.table(res, gof={"rmse": "Root MSE", "nobs": "N"}).to_frame(formatted=True)
    assert grid.loc[grid["part"] == "gof", ["label", "(1)"]].values.tolist() == [
        ["Root MSE", "2.250"], ["N", "100"]]


def test_feols_fixed_effects_rows_from_spec(cantons) -> None:
    grid = cp.table(cantons, gof=["fixed_effects"]).to_frame(formatted=True)
    assert grid.loc[grid["part"] == "gof", ["label", "OLS", "Poisson"]].values.tolist() == [
        ["canton FE", "Yes", "Yes"], ["year FE", "Yes", "Yes"]]


# --------------------------------------------------------------------- uncertainty kinds
@pytest.mark.parametrize(
    ("uncertainty", "shown", "note"),
    [pytest.param("se", "(0.500)", "Standard errors in parentheses.", id="se"),
     pytest.param("t", "(4.000)", "t statistics in parentheses.", id="t"),
     pytest.param("p", "(<0.001)", "p-values in parentheses.", id="p"),
     pytest.param("ci", "[1.020, 2.980]", "95% confidence intervals in brackets.", id="ci")],
)
def test_uncertainty_kinds(uncertainty: str, shown: str, note: str) -> None:
    tab = cp.table(make({"x": 2.0}, {"x": 0.5}), uncertainty=uncertainty, gof=[])
    grid = tab.to_frame(formatted=True)
    assert grid.loc[grid["part"] == "uncertainty", "(1)"].item() == shown
    assert note in tab.to_text()


@pytest.mark.parametrize(
    ("x", "digits", "expected"),
    [pytest.param(-0.354830, 3, "-0.355", id="negative"),
     pytest.param(1234567.891, 2, "1,234,567.89", id="thousands"),
     pytest.param(2.5, 0, "2", id="digits0-half-even"),
     pytest.param(-0.0004, 3, "0.000", id="negative-zero"),
     pytest.param(float("inf"), 3, "Inf", id="inf")],
)
def test_format_number(x: float, digits: int, expected: str) -> None:
    assert format_number(x, digits) == expected


# -------------------------------------------------------------------------- renderers
def test_latex_escapes_special_characters() -> None:
    tab = cp.table(make({"a_b": 1.0}), title="50% & #1_x", notes="x_y", gof=[])
    tex = tab.to_latex()
    assert r"\caption{50\% \& \#1\_x}" in tex
    assert r"a\_b & 1.000 \\" in tex
    assert r"\multicolumn{2}{@{}l}{\footnotesize x\_y} \\" in tex
    assert tex.startswith("\\begin{table}[htbp]\n\\centering\n")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex


def test_html_escapes_text() -> None:
    tab = cp.table(make({"x": 1.0}), rename={"x": "<b>x & y</b>"}, title="A<B", gof=[])
    html = tab.to_html()
    assert "&lt;b&gt;x &amp; y&lt;/b&gt;" in html
    assert "<caption" in html and "A&lt;B</caption>" in html
    assert "<b>" not in html
    assert "width:" not in html and "width=" not in html


def test_csv_parses_back(cantons) -> None:
    rows = list(csv.reader(io.StringIO(cp.table(cantons).to_csv())))
    assert rows[0] == ["", "OLS", "Poisson"]
    assert rows[1] == ["Dependent variable", "deaths", "deaths"]
    assert all(len(r) == 3 for r in rows)


def test_repr_html_and_str(cantons) -> None:
    tab = cp.table(cantons)
    assert tab._repr_html_() == tab.to_html()
    assert str(tab) == tab.to_text()
    assert repr(tab) == ("<Table: 2 models, 2 terms; print() it or call "
                         "to_latex()/to_html()/to_markdown()>")


@pytest.mark.parametrize("ext", [".md", ".html", ".tex", ".txt", ".csv"])
def test_save_chooses_by_extension(tmp_path: Path, ext: str) -> None:
    tab = cp.table(make({"x": 1.0}))
    method = {".md": "to_markdown", ".html": "to_html", ".tex": "to_latex", ".txt": "to_text",
              ".csv": "to_csv"}[ext]
    out = tab.save(tmp_path / f"t{ext}")
    assert out == tmp_path / f"t{ext}"
    assert out.read_text(encoding="utf-8") == getattr(tab, method)()


def test_table_is_immutable() -> None:
    tab = cp.table(make({"x": 1.0}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        tab.model = None  # type: ignore[misc]


def test_input_results_not_changed(cantons) -> None:
    before = cantons["Poisson"].tidy()
    cp.table(cantons["Poisson"], exponentiate=True, rename={"offences_per_1000": "x"})
    pd.testing.assert_frame_equal(cantons["Poisson"].tidy(), before)


def test_report_package_does_not_import_plotting() -> None:
    code = ("import sys, causalpolicing as cp, causalpolicing.report, "
            "causalpolicing.report.tables; "
            "print(sorted(m for m in ('matplotlib', 'seaborn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_top_level_table_is_report_table() -> None:
    from causalpolicing.report.tables import table

    assert cp.table is table
    assert cp.report.table is table


# ------------------------------------------------------------------------------- errors
BAD = [
    pytest.param({"uncertainty": "sd"}, r"uncertainty must be one of 'se', 'ci', 't', 'p'",
                 id="uncertainty"),
    pytest.param({"level": 1.5}, r"level must be a number strictly between 0 and 1.*1\.5",
                 id="level"),
    pytest.param({"level": True}, r"level must be a number strictly between 0 and 1",
                 id="level-bool"),
    pytest.param({"stars": "yes"}, r"stars must be False, True", id="stars-str"),
    pytest.param({"stars": {"*": 2}}, r"stars: the threshold of '\*' must be", id="stars-thr"),
    pytest.param({"stars": {"*": 0.1, "+": 0.1}}, r"stars: two symbols share", id="stars-dup"),
    pytest.param({"digits": -1}, r"digits must be an integer from 0 to 15.*-1", id="digits-neg"),
    pytest.param({"digits": 2.5}, r"digits must be an integer", id="digits-float"),
    pytest.param({"names": ["a"]}, r"names: got 1 names for 2 models", id="names-length"),
    pytest.param({"names": ["a", "a"]}, r"names: model names must be unique", id="names-dup"),
    pytest.param({"names": [1, 2]}, r"names must be a string or a list of strings \(model names\)", id="names-type"),
    pytest.param({"rename": {"treatmnt": "T"}},
                 r"rename: term 'treatmnt' is not in any model\. Did you mean 'treatment'\?"
                 r" Available terms: 'treatment', 'w'", id="rename-unknown"),
    pytest.param({"rename": ["x"]}, r"rename must be a dict", id="rename-type"),
    pytest.param({"rename": {"w": 1}}, r"rename: the label of 'w' must be a string",
                 id="rename-label"),
    pytest.param({"order": ["v"]}, r"order: term 'v' is not in any model", id="order-unknown"),
    pytest.param({"keep": ["trt*"]}, r"keep: term 'trt\*' is not in any model", id="keep-unknown"),
    pytest.param({"drop": "z"}, r"drop: term 'z' is not in any model", id="drop-unknown"),
    pytest.param({"keep": [1]}, r"keep must be a string or a list of strings", id="keep-type"),
    pytest.param({"gof": ["r22"]}, r"gof: no model reports 'r22'\. Did you mean 'r2'\?",
                 id="gof-unknown"),
    pytest.param({"gof": 3}, r"gof must be a list of statistic names", id="gof-type"),
    pytest.param({"exponentiate": [True]}, r"exponentiate must be True, False or a list of 2",
                 id="exponentiate-length"),
    pytest.param({"exponentiate": "yes"}, r"exponentiate must be True, False", id="exp-type"),
    pytest.param({"title": 3}, r"title must be a string or None", id="title"),
    pytest.param({"notes": [1]}, r"notes must be a string or a list of strings", id="notes"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    models = [make({"treatment": 1.0, "w": 2.0}, fit_stats={"r2": 0.1}),
              make({"treatment": 1.0}, spec={"link": "log"})]
    with pytest.raises(SpecError, match=match):
        cp.table(models, **kwargs)


@pytest.mark.parametrize(
    ("results", "kwargs", "match"),
    [pytest.param([], {}, r"results: no models given", id="empty"),
     pytest.param("res", {}, r"results must be a results object", id="string"),
     pytest.param([1], {}, r"results: item 0 is a int, not a results object", id="not-results"),
     pytest.param({"a": None}, {}, r"results: item 0 is a NoneType", id="dict-none"),
     pytest.param({1: "x"}, {}, r"results: dict keys must be strings", id="dict-keys"),
     pytest.param("dict", {"names": ["b"]}, r"names: the results are a dict", id="dict-names")],
)
def test_bad_results(results, kwargs: dict, match: str) -> None:
    if results == "dict":
        results = {"a": make({"x": 1.0})}
    with pytest.raises(SpecError, match=match):
        cp.table(results, **kwargs)


@pytest.mark.parametrize(
    ("call", "match"),
    [pytest.param(lambda t: t.save("t.docx"), r"save: cannot tell the format of 't\.docx'.*"
                  r"\.csv, \.htm, \.html", id="save-ext"),
     pytest.param(lambda t: t.to_latex(threeparttable="yes"), r"threeparttable must be True",
                  id="threeparttable"),
     pytest.param(lambda t: t.to_latex(float=1), r"float must be True, False or None",
                  id="float"),
     pytest.param(lambda t: t.to_frame(formatted=1), r"formatted must be True or False",
                  id="formatted")],
)
def test_bad_render_arguments(call, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        call(cp.table(make({"x": 1.0})))


def test_latex_merges_equal_header_cells() -> None:
    a = make({"x": 1.0}, spec={"depvar": "deaths"})
    b = make({"x": 1.0}, spec={"depvar": "deaths"})
    c = make({"x": 1.0}, spec={"depvar": "rate_x"})
    tex = cp.table([a, b, c], gof=[]).to_latex()
    assert r"Dependent variable & \multicolumn{2}{c}{deaths} & rate\_x \\" in tex
    assert r"Estimator & \multicolumn{3}{c}{OLS} \\" in tex


def test_first_difference_shows_unit_effects_as_differenced() -> None:
    panel = cp.datasets.load("nc_crime")
    fd = cp.first_difference("lcrmrte ~ lprbarr + lpolpc | year", panel, vcov="iid")
    within = cp.feols("lcrmrte ~ lprbarr + lpolpc | county + year", panel, vcov="iid")
    frame = cp.table({"FD": fd, "FE": within}).to_frame(formatted=True)
    text = cp.table({"FD": fd, "FE": within}).to_text()
    assert "county FE" in text
    row = [line for line in text.splitlines() if line.startswith("county FE")][0]
    assert row.split()[2:] == ["Differenced", "Yes"]
    assert len(frame) > 0


def test_between_table_names_the_real_dependent_variable() -> None:
    panel = cp.datasets.load("nc_crime")
    text = cp.table(cp.between("lcrmrte ~ lprbarr", panel)).to_text()
    assert "lcrmrte" in text
    assert "__y__" not in text


# ------------------------------------------------ the options are declared once (TableOptions)
def test_table_and_extract_show_the_same_keyword_options() -> None:
    import inspect

    from causalpolicing.report.tables.extract import extract
    from causalpolicing.report.tables.options import TableOptions

    def keyword_only(func) -> dict[str, object]:
        return {n: p.default for n, p in inspect.signature(func).parameters.items()
                if p.kind is p.KEYWORD_ONLY}

    fields = {f.name: f.default for f in dataclasses.fields(TableOptions)}
    assert len(fields) == 13
    assert keyword_only(cp.table) == keyword_only(extract) == fields
    assert all(f"\n    {name}\n" in cp.table.__doc__ for name in fields if name not in
               ("keep", "drop"))
    assert "{options}" not in cp.table.__doc__ + extract.__doc__ + TableOptions.__doc__


def test_unknown_table_option_names_the_close_one() -> None:
    with pytest.raises(SpecError, match=r"Unknown table option 'star' \(did you mean 'stars'\?\)"):
        cp.table(make({"x": 1.0}), star=True)


def test_extract_takes_options_as_one_object_or_keywords_not_both() -> None:
    from causalpolicing.report.tables.extract import extract
    from causalpolicing.report.tables.options import TableOptions

    res = make({"x": 1.0})
    assert extract(res, TableOptions(stars=True)) == extract(res, stars=True)
    with pytest.raises(SpecError, match="not both"):
        extract(res, TableOptions(), stars=True)
