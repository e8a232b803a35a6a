"""Reproducing published estimates: the catalogue, the study-file schema, the expression language.

Reference values
----------------
* Published numbers: in the catalogue's study files (causalpolicing/studies/catalogue/*.toml)
  with their sources; each must be reproduced at the published rounding.
* Full precision (REPRODUCED below): the values this code produced when the catalogue was
  written (python -c "import causalpolicing.studies as st; print(st.reproduce(ID).table)"),
  kept to catch silent drift; tolerance 1e-9 relative.
* The castle recoding is checked against pandas (groupby shift) and the estimate against
  linearmodels PanelOLS; the Nordt & Stohler path on a simulated national series against
  statsmodels GLM(Binomial) and numpy's correlation, to 1e-8.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import DatasetError, SpecError
from causalpolicing.studies import list_studies, load_study, reproduce
from causalpolicing.studies.comparison import COLUMNS, matches_at_rounding
from causalpolicing.studies.expressions import ExpressionError, evaluate, parse_expression
from causalpolicing.studies.runner import catalogue_dir
from causalpolicing.studies.schema import StudyError, parse_study

REPRODUCED = {
    ("castle_mixtape", "twfe", "post_mixtape", "estimate"): 0.08181161587932123,
    ("wooldridge_13_9", "fd", "lprbarr", "estimate"): -0.32749418881093467,
    ("wooldridge_13_9", "fd", "lprbarr", "std_error"): 0.029980139017981848,
    ("wooldridge_13_9", "fd", "lpolpc", "estimate"): 0.39842636956118305,
    ("wooldridge_13_9", "fd", "lpolpc", "std_error"): 0.026882041662577346,
    ("wooldridge_13_9", "fd", "", "nobs"): 540.0,
    ("wooldridge_13_9", "fd", "", "r2"): 0.43251399502139765,
    ("cornwell_trumbull", "within", "lprbarr", "estimate"): -0.354829569295547,
    ("cornwell_trumbull", "within", "lprbarr", "std_error"): 0.032204862580717974,
    ("cornwell_trumbull", "within", "lpolpc", "estimate"): 0.41316201128184776,
    ("cornwell_trumbull", "within", "lpolpc", "std_error"): 0.026623186799049493,
    ("cornwell_trumbull", "between", "lprbarr", "estimate"): -0.6475094754546906,
    ("cornwell_trumbull", "between", "lprbarr", "std_error"): 0.08776541126826412,
    ("cornwell_trumbull", "fe2sls", "lprbarr", "estimate"): -0.575505752892056,
    ("cornwell_trumbull", "fe2sls", "lprbarr", "std_error"): 0.8021888227573485,
    ("cornwell_trumbull", "fe2sls", "lpolpc", "estimate"): 0.657526874847612,
    ("cornwell_trumbull", "fe2sls", "lpolpc", "std_error"): 0.8468725751673055,
    ("callaway_santanna_mpdta", "simple", "ATT", "estimate"): -0.039951275119418574,
    ("callaway_santanna_mpdta", "dynamic", "ATT", "estimate"): -0.07723982142390312,
    ("callaway_santanna_mpdta", "dynamic", "event_lead3", "estimate"): 0.030506655554707354,
    ("callaway_santanna_mpdta", "dynamic", "event_lead2", "estimate"): -0.0005630846369159055,
    ("callaway_santanna_mpdta", "dynamic", "event_lead1", "estimate"): -0.02445874498758492,
    ("callaway_santanna_mpdta", "dynamic", "event_lag0", "estimate"): -0.01993181675111402,
    ("callaway_santanna_mpdta", "dynamic", "event_lag1", "estimate"): -0.05095736703495144,
    ("callaway_santanna_mpdta", "dynamic", "event_lag2", "estimate"): -0.13725873885987055,
    ("callaway_santanna_mpdta", "dynamic", "event_lag3", "estimate"): -0.1008113630496765,
    ("callaway_santanna_mpdta", "group", "ATT", "estimate"): -0.031018282193869737,
    ("callaway_santanna_mpdta", "group", "cohort_2004", "estimate"): -0.07974912655517807,
    ("callaway_santanna_mpdta", "group", "cohort_2006", "estimate"): -0.022909539185275024,
    ("callaway_santanna_mpdta", "group", "cohort_2007", "estimate"): -0.026054410690950817,
    ("callaway_santanna_mpdta", "calendar", "ATT", "estimate"): -0.04170043210307624,
    ("callaway_santanna_mpdta", "calendar", "period_2004", "estimate"): -0.010503246216666793,
    ("callaway_santanna_mpdta", "calendar", "period_2005", "estimate"): -0.07042315809449848,
    ("callaway_santanna_mpdta", "calendar", "period_2006", "estimate"): -0.0488159841968716,
    ("callaway_santanna_mpdta", "calendar", "period_2007", "estimate"): -0.03705933990426808,
    ("callaway_santanna_mpdta", "simple", "ATT", "std_error"): 0.012034012773072773,
    ("callaway_santanna_mpdta", "dynamic", "ATT", "std_error"): 0.019964989065449808,
    ("callaway_santanna_mpdta", "dynamic", "event_lead3", "std_error"): 0.015033560281860115,
    ("callaway_santanna_mpdta", "dynamic", "event_lead2", "std_error"): 0.01329164473710569,
    ("callaway_santanna_mpdta", "dynamic", "event_lead1", "std_error"): 0.014236402211818162,
    ("callaway_santanna_mpdta", "dynamic", "event_lag0", "std_error"): 0.01182636405936122,
    ("callaway_santanna_mpdta", "dynamic", "event_lag1", "std_error"): 0.016893476272998358,
    ("callaway_santanna_mpdta", "dynamic", "event_lag2", "std_error"): 0.036435664300166336,
    ("callaway_santanna_mpdta", "dynamic", "event_lag3", "std_error"): 0.0343592258238176,
    ("callaway_santanna_mpdta", "group", "ATT", "std_error"): 0.012446059322195578,
    ("callaway_santanna_mpdta", "group", "cohort_2004", "std_error"): 0.026367799449778975,
    ("callaway_santanna_mpdta", "group", "cohort_2006", "std_error"): 0.01670333025853808,
    ("callaway_santanna_mpdta", "group", "cohort_2007", "std_error"): 0.01665543535108579,
    ("callaway_santanna_mpdta", "calendar", "ATT", "std_error"): 0.015971851899779857,
    ("callaway_santanna_mpdta", "calendar", "period_2004", "std_error"): 0.023251036392943535,
    ("callaway_santanna_mpdta", "calendar", "period_2005", "std_error"): 0.030984766798626835,
    ("callaway_santanna_mpdta", "calendar", "period_2006", "std_error"): 0.02012586126553003,
    ("callaway_santanna_mpdta", "calendar", "period_2007", "std_error"): 0.013747079140926925,
}
# Not matching at the published rounding, accepted within the tolerance the study file
# declares (single-precision public data + weak instruments; see the file's notes).
WITHIN_TOLERANCE = {("cornwell_trumbull", "fe2sls", "lprbarr", "std_error"),
                    ("cornwell_trumbull", "fe2sls", "lpolpc", "std_error")}
# R did prints bootstrap standard errors, reproduced with analytic ones: within 0.004 (the
# study's notes); cohort 2007's happens to round to the printed one.
WITHIN_TOLERANCE |= {k for k in REPRODUCED if k[0] == "callaway_santanna_mpdta"
                     and k[3] == "std_error" and k[2] != "cohort_2007"}
TOLERANCE = {"cornwell_trumbull": 1e-5, "callaway_santanna_mpdta": 0.004}
REPRODUCIBLE = ("callaway_santanna_mpdta", "castle_mixtape", "cornwell_trumbull",
                "wooldridge_13_9")


@pytest.fixture(scope="module")
def comparisons() -> dict[str, cp.studies.Comparison]:
    return {sid: reproduce(sid) for sid in REPRODUCIBLE}


def _row(comparisons, key):  # type: ignore[no-untyped-def]
    t = comparisons[key[0]].table
    sel = t[(t["model"] == key[1]) & (t["term"] == key[2]) & (t["quantity"] == key[3])]
    assert len(sel) == 1
    return sel.iloc[0]


# ============================================================== the catalogue
def test_catalogue_lists_every_file() -> None:
    files = sorted(p.stem for p in catalogue_dir().glob("*.toml"))
    table = list_studies()
    assert table["id"].tolist() == files == [
        "callaway_santanna_mpdta", "castle_mixtape", "cornwell_trumbull", "nordt_stohler_2010", "wooldridge_13_9"]
    assert table.set_index("id")["status"].to_dict() == {
        "callaway_santanna_mpdta": "reproducible", "castle_mixtape": "reproducible", "cornwell_trumbull": "reproducible",
        "nordt_stohler_2010": "needs data", "wooldridge_13_9": "reproducible"}
    assert table.set_index("id")["published"].to_dict() == {
        "callaway_santanna_mpdta": 36, "castle_mixtape": 1, "cornwell_trumbull": 10, "nordt_stohler_2010": 10,
        "wooldridge_13_9": 6}


def test_every_published_number_is_compared(comparisons) -> None:  # type: ignore[no-untyped-def]
    keys = {(r.study, r.model, r.term, r.quantity)
            for c in comparisons.values() for r in c.table.itertuples()}
    assert keys == set(REPRODUCED)


@pytest.mark.parametrize("key", list(REPRODUCED), ids=["/".join(k) for k in REPRODUCED])
def test_published_number_reproduced(comparisons, key) -> None:  # type: ignore[no-untyped-def]
    row = _row(comparisons, key)
    # full precision: what this code produced when the catalogue was written
    assert row["reproduced"] == pytest.approx(REPRODUCED[key], rel=1e-9)
    # at the published rounding (or, for the two declared cases, within the tolerance)
    assert bool(row["match"]) is (key not in WITHIN_TOLERANCE)
    assert bool(row["ok"]) is True
    # rounding both sides at 15 digits could itself flip a digit: compare with a tolerance
    assert row["difference"] == pytest.approx(row["reproduced"] - row["published"], abs=1e-14)
    if key in WITHIN_TOLERANCE:
        assert abs(row["difference"]) <= row["tolerance"] == TOLERANCE[key[0]]


@pytest.mark.parametrize("sid", REPRODUCIBLE)
def test_catalogue_study_is_reproduced(comparisons, sid: str) -> None:  # type: ignore[no-untyped-def]
    c = comparisons[sid]
    assert c.all_ok is True
    assert c.all_match is (sid not in ("cornwell_trumbull", "callaway_santanna_mpdta"))
    assert c.expected_to_match is True and c.user_data is False
    assert list(c.table.columns) == COLUMNS


def test_castle_recoding_equals_pandas_and_linearmodels(comparisons) -> None:  # type: ignore[no-untyped-def]
    from linearmodels import PanelOLS

    frame = pd.read_csv(cp.datasets.path("castle")).sort_values(["sid", "year"]).copy()
    lead = frame.groupby("sid")["post"].shift(-1).fillna(0)
    frame["post_mixtape"] = np.maximum(frame["post"], lead)
    fit = PanelOLS(frame.set_index(["sid", "year"])["l_homicide"],
                   frame.set_index(["sid", "year"])[["post_mixtape"]].astype(float),
                   entity_effects=True, time_effects=True).fit()
    ours = comparisons["castle_mixtape"].results("twfe")
    assert float(ours.params["post_mixtape"]) == pytest.approx(float(fit.params.iloc[0]),
                                                               rel=1e-9)
    assert ours.nobs == 550


def test_comparison_records_models_steps_and_messages(comparisons) -> None:  # type: ignore[no-untyped-def]
    c = comparisons["cornwell_trumbull"]
    assert [m.id for m in c.models] == ["within", "between", "fe2sls"]
    assert [m.nobs for m in c.models] == [630, 90, 630]
    # the study fits within and FE2SLS with ssc = "stata_xtreg": the label says so
    assert [m.cov_type for m in c.models] == ["iid (stata_xtreg)", "iid", "iid (stata_xtreg)"]
    assert len(c.steps) == 20 and c.steps[0] == "lcrmrte = log(crmrte)"
    assert any(w.startswith("within: Regressor(s) dropped: lpctmin") for w in c.warnings)
    assert any(w.startswith("fe2sls: Weak instruments") for w in c.warnings)
    assert c.data_source == "bundled dataset 'nc_crime'"


# ====================================================== needs data: Nordt & Stohler
def _swiss_series() -> pd.DataFrame:
    """A national series derived from the SIMULATED canton panel (known to differ from the paper)."""
    f = pd.read_csv(cp.datasets.path("simulated_cantons"))
    f["users"] = f["prevalence"] * f["population"] / 1000
    f["offences"] = f["offences_per_1000"] * f["population"] / 1000
    f["treated"] = f["substitution_coverage"] * f["users"]
    g = f.groupby("year")[["deaths", "users", "offences", "treated"]].sum().reset_index()
    g["users"] = g["users"].round()
    g["enforcement"] = g["offences"] / g["users"]
    g["substitution"] = g["treated"] / g["users"]
    return g.drop(columns="treated")


def test_needs_data_study_without_data_explains() -> None:
    with pytest.raises(DatasetError, match=r"are not public.*--data FILE.*Required columns: "
                                           r"year: .*deaths: .*users: .*offences: "):
        reproduce("nordt_stohler_2010")


def test_needs_data_study_on_simulated_series_equals_statsmodels(tmp_path: Path) -> None:
    import statsmodels.api as sm

    series = _swiss_series()
    path = tmp_path / "swiss.csv"
    series.to_csv(path, index=False)
    c = reproduce("nordt_stohler_2010", data=path)
    # reference: statsmodels binomial GLM on the same series, cos term built by hand
    cos14 = np.cos(2 * np.pi * (series["year"] - 1992) / 14)
    x = sm.add_constant(np.column_stack([series["enforcement"], series["substitution"], cos14]))
    ref = sm.GLM(np.column_stack([series["deaths"], series["users"] - series["deaths"]]), x,
                 family=sm.families.Binomial()).fit()
    ci = np.exp(ref.conf_int(0.05))
    t = c.table.set_index(["term", "quantity"])["reproduced"]
    for j, term in enumerate(["enforcement", "substitution", "cos14_1"], start=1):
        assert t[(term, "estimate")] == pytest.approx(np.exp(ref.params[j]), rel=1e-8)
        assert t[(term, "conf_low")] == pytest.approx(ci[j, 0], rel=1e-8)
        assert t[(term, "conf_high")] == pytest.approx(ci[j, 1], rel=1e-8)
    r_ref = np.corrcoef(series["deaths"].iloc[:-2], series["offences"].iloc[2:])[0, 1]
    assert t[("r", "estimate")] == pytest.approx(r_ref, rel=1e-10)
    assert c.results("deaths_to_offences").nobs == 31
    # simulated data are not the authors': a report, not a check
    assert c.user_data is True and c.expected_to_match is False
    assert c.all_match is False and "not expected to match" in c.verdict


def test_needs_data_study_names_missing_column() -> None:
    series = _swiss_series().drop(columns="offences")
    with pytest.raises(DatasetError, match=r"lack the column\(s\) offences \(heroin possession"):
        reproduce("nordt_stohler_2010", data=series)


# ================================================================ user files
def _write_study(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


USER_STUDY = """
[study]
id = "toy"
title = "A toy study"
citation = "Nobody (2024)"
status = "reproducible"

[data]
path = "toy.csv"

[data.roles]
unit = "unit"
time = "year"
outcome = "y"
treatment = "x"

[[data.transforms]]
name = "x_lag"
expr = "lag(x, 1)"

[[data.transforms]]
sample = "year >= 2001"

[[models]]
id = "ols"
estimator = "feols"
formula = "y ~ x + x_lag | unit"
vcov = "iid"

[[published]]
model = "ols"
table = "T1"
column = "(1)"
term = "x"
estimate = "{estimate}"
"""


@pytest.fixture()
def toy_dir(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"unit": np.repeat(list("abcdef"), 5), "year": np.tile(range(2000, 2005), 6),
                       "x": rng.normal(size=30)})
    df["y"] = 0.5 * df["x"] + rng.normal(size=30)
    df.to_csv(tmp_path / "toy.csv", index=False)
    return tmp_path


def test_user_study_file_runs_with_relative_path(toy_dir: Path) -> None:
    df = pd.read_csv(toy_dir / "toy.csv").sort_values(["unit", "year"])
    df["x_lag"] = df.groupby("unit")["x"].shift(1)
    ref = cp.feols("y ~ x + x_lag | unit", df[df["year"] >= 2001], vcov="iid")
    printed = f"{ref.params['x']:.4f}"
    c = reproduce(_write_study(toy_dir, USER_STUDY.format(estimate=printed)))
    row = c.table.iloc[0]
    assert row["reproduced"] == pytest.approx(ref.params["x"], rel=1e-12)
    assert row["match"] and row["decimals"] == 4 and c.all_match
    assert c.results("ols").nobs == 24


def test_user_study_wrong_number_is_a_mismatch(toy_dir: Path) -> None:
    c = reproduce(_write_study(toy_dir, USER_STUDY.format(estimate="9.99")))
    assert c.all_match is False and c.all_ok is False and c.n_mismatches == 1
    assert "1 MISMATCH" in c.verdict


def test_published_term_not_in_model_names_the_key(toy_dir: Path) -> None:
    text = USER_STUDY.format(estimate="0.5").replace('term = "x"', 'term = "xx"')
    with pytest.raises(StudyError, match=r"published\[0\]\.term: model 'ols' has no term 'xx'; "
                                         r"did you mean 'x'\?"):
        reproduce(_write_study(toy_dir, text))


def test_derived_column_may_not_overwrite_silently(toy_dir: Path) -> None:
    text = USER_STUDY.format(estimate="0.5").replace('name = "x_lag"', 'name = "y"')
    with pytest.raises(StudyError, match=r"data\.transforms\[0\]: y = lag\(x, 1\): column 'y' "
                                         r"already exists.*replace = true"):
        reproduce(_write_study(toy_dir, text))


def test_sample_must_be_a_condition(toy_dir: Path) -> None:
    text = USER_STUDY.format(estimate="0.5").replace('sample = "year >= 2001"', 'sample = "year"')
    with pytest.raises(StudyError, match=r"data\.transforms\[1\].*must be a condition"):
        reproduce(_write_study(toy_dir, text))


# ======================================================== malformed study files
BASE = {
    "study": {"id": "toy", "title": "Toy", "citation": "Nobody (2024)", "status": "reproducible"},
    "data": {"dataset": "castle"},
    "models": [{"id": "a", "estimator": "feols", "formula": "l_homicide ~ post | sid + year"},
               {"id": "b", "estimator": "febinomial", "formula": "homicide ~ post",
                "trials": "popwt"}],
    "published": [{"model": "a", "table": "T", "column": "(1)", "term": "post",
                   "estimate": "0.069398"}],
}


def _broken(path: tuple, value: object) -> dict:  # type: ignore[type-arg]
    raw = _copy(BASE)
    target = raw
    for p in path[:-1]:
        target = target[p]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


def _copy(obj):  # type: ignore[no-untyped-def]
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy(v) for v in obj]
    return obj


_DELETE = object()

MALFORMED = [
    ("unknown-key", ("study", "titel"), "x", r"study\.titel: unknown key; did you mean 'title'\?"),
    ("missing-key", ("study", "citation"), _DELETE, r"study: missing required key 'citation'"),
    ("bad-status", ("study", "status"), "done", r"study\.status: unknown value 'done'; valid: "
                                                r"'reproducible', 'needs data'"),
    ("bad-id", ("study", "id"), "My Study", r"study\.id: 'My Study': use lower-case"),
    ("unknown-estimator", ("models", 0, "estimator"), "ols",
     r"models\[0\] \(id 'a'\)\.estimator: unknown estimator 'ols'; valid: feols, fepois"),
    ("bad-vcov", ("models", 1, "vcov"), "CRV9",
     r"models\[1\] \(id 'b'\)\.vcov: Unknown covariance type vcov='CRV9'\. Valid: 'iid'"),
    ("bad-ssc", ("models", 0, "ssc"), "stata", r"models\[0\] \(id 'a'\)\.ssc: unknown small-sample "
                                               r"convention 'stata'; valid: 'fixest'"),
    ("bad-formula", ("models", 0, "formula"), "l_homicide ~ ", r"models\[0\] \(id 'a'\)\.formula: "),
    ("estimator-option", ("models", 0, "trials"), "popwt",
     r"models\[0\] \(id 'a'\): unknown key 'trials'; allowed keys: id, estimator, label, "
     r"sample, formula, vcov"),
    ("missing-option", ("models", 1, "trials"), _DELETE,
     r"models\[1\] \(id 'b'\): missing required key 'trials'"),
    ("unsafe-sample", ("models", 0, "sample"), "__import__('os').system('true')",
     r"models\[0\] \(id 'a'\)\.sample: expression .*attribute access"),
    ("unknown-dataset", ("data", "dataset"), "castel",
     r"data\.dataset: unknown bundled dataset 'castel'; valid: castle"),
    ("published-model", ("published", 0, "model"), "c",
     r"published\[0\]\.model: unknown model 'c'; the \[\[models\]\] ids are 'a', 'b'"),
    ("float-number", ("published", 0, "estimate"), 0.0694,
     r"published\[0\]\.estimate: 0\.0694 is a TOML float, which loses trailing zeros"),
    ("text-number", ("published", 0, "estimate"), "6.9e-2",
     r"published\[0\]\.estimate: '6\.9e-2' is not a number as printed"),
    ("scale-estimator", ("published", 0, "scale"), "odds_ratio",
     r"published\[0\]\.scale: scale 'odds_ratio' does not fit model 'a' \(feols\)"),
    ("tolerance-reason", ("published", 0, "tolerance"), 1e-3,
     r"published\[0\]: a tolerance needs a tolerance_reason"),
    ("term-and-statistic", ("published", 0, "statistic"), "nobs",
     r"published\[0\]: give exactly one of 'term'"),
]


@pytest.mark.parametrize(("path", "value", "message"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_study_names_the_key(path: tuple, value: object, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(StudyError, match=r"^<study>: " + message):
        parse_study(_broken(path, value))


def test_duplicate_model_id() -> None:
    raw = _copy(BASE)
    raw["models"][1]["id"] = "a"
    with pytest.raises(StudyError, match=r"models\[1\]\.id: duplicate model id 'a'"):
        parse_study(raw)


def test_std_error_on_ratio_scale_is_refused() -> None:
    raw = _copy(BASE)
    raw["published"].append({"model": "b", "table": "T", "column": "(2)", "term": "post",
                             "scale": "odds_ratio", "std_error": "0.1"})
    with pytest.raises(StudyError, match=r"published\[1\]\.std_error: a std_error on the "
                                         r"odds_ratio scale is ambiguous"):
        parse_study(raw)


def test_unsafe_transform_expression_names_step() -> None:
    raw = _copy(BASE)
    raw["data"]["transforms"] = [{"name": "z", "expr": "(lambda: 1)()"}]
    with pytest.raises(StudyError, match=r"data\.transforms\[0\]\.expr: expression .*lambda"):
        parse_study(raw)


def test_unknown_named_transform() -> None:
    raw = _copy(BASE)
    raw["data"]["transforms"] = [{"transform": "smooth", "column": "post"}]
    with pytest.raises(StudyError, match=r"data\.transforms\[0\]\.transform: unknown transform "
                                         r"'smooth'; valid: rate, per_capita"):
        parse_study(raw)


def test_path_study_needs_roles() -> None:
    raw = _copy(BASE)
    raw["data"] = {"path": "x.csv"}
    with pytest.raises(StudyError, match=r"data: a study that reads a file .* needs "
                                         r"\[data\.roles\]"):
        parse_study(raw)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = _write_study(tmp_path, "[study\nid = 1\n")
    with pytest.raises(StudyError, match=r"study\.toml: not valid TOML"):
        load_study(path)


def test_unknown_study_suggests_close_id() -> None:
    with pytest.raises(SpecError, match=r"No study 'castle_mixtap'.*Did you mean "
                                        r"'castle_mixtape'\?"):
        load_study("castle_mixtap")


def test_printed_decimals_are_read_from_the_string() -> None:
    s = parse_study(BASE)
    q = s.published[0].quantities[0]
    assert (q.quantity, q.printed, q.value, q.decimals) == ("estimate", "0.069398", 0.069398, 6)


# ======================================================== expression language
REFUSED = [
    ("import", "__import__('os')", "unknown function '__import__'"),
    ("attribute", "post.__class__", "attribute access"),
    ("method-call", "post.sum()", "attribute access"),
    ("subscript", "post[0]", "subscripts"),
    ("lambda", "lambda x: x", "lambda functions"),
    ("comprehension", "[p for p in post]", "comprehensions"),
    ("generator", "max(p for p in post)", "comprehensions"),
    ("unknown-function", "open('x')", "unknown function 'open'"),
    ("eval", "eval('1')", "unknown function 'eval'"),
    ("keyword", "log(post, base=2)", "keyword arguments"),
    ("starred", "max(*post)", "starred arguments"),
    ("dunder-name", "__builtins__", "names starting with '_'"),
    ("walrus", "(x := 1)", "assignment expressions"),
    ("fstring", "f'{post}'", "f-strings"),
    ("bitwise", "post & 1", "the operator '&'"),
    ("in", "post in 1", "the operator 'in'"),
    ("ifexp", "1 if post else 0", "conditional expressions"),
    ("none", "None", "the constant None"),
    ("syntax", "post +", "not a valid expression"),
    ("lag-order", "lag(post, 1.5)", "k must be a whole number"),
]


@pytest.mark.parametrize(("text", "construct"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_expression_refuses_construct(text: str, construct: str) -> None:
    with pytest.raises(ExpressionError, match=f"^expression .*: .*{_re(construct)}"):
        parse_expression(text)


def _re(text: str) -> str:
    import re

    return re.escape(text)


@pytest.fixture(scope="module")
def castle() -> cp.Panel:
    return cp.datasets.load("castle")


@pytest.fixture(scope="module")
def castle_frame(castle: cp.Panel) -> pd.DataFrame:
    return castle.to_frame()


def test_lead_and_lag_work_within_unit_by_period(castle: cp.Panel,
                                                  castle_frame: pd.DataFrame) -> None:
    f = castle_frame
    expected_lead = f.groupby("sid")["l_homicide"].shift(-2).to_numpy()
    expected_lag = f.groupby("sid")["l_homicide"].shift(1).to_numpy()
    np.testing.assert_array_equal(evaluate("lead(l_homicide, 2)", castle), expected_lead)
    np.testing.assert_array_equal(evaluate("lag(l_homicide)", castle), expected_lag)
    np.testing.assert_allclose(evaluate("diff(l_homicide, 1)", castle),
                               f["l_homicide"].to_numpy() - expected_lag, rtol=0, atol=0)


def test_lead_is_missing_in_the_last_year(castle: cp.Panel, castle_frame: pd.DataFrame) -> None:
    lead = evaluate("lead(post, 1)", castle)
    last = (castle_frame["year"].dt.year == 2010).to_numpy()
    assert np.isnan(lead[last]).all() and not np.isnan(lead[~last]).any()
    # max propagates the missing value; fillna makes the choice explicit
    assert np.isnan(evaluate("max(post, lead(post, 1))", castle)[last]).all()
    np.testing.assert_array_equal(evaluate("max(post, fillna(lead(post, 1), 0))", castle)[last],
                                  castle_frame["post"].to_numpy()[last])


def test_arithmetic_functions_and_conditions(castle: cp.Panel, castle_frame: pd.DataFrame) -> None:
    f = castle_frame
    got = evaluate("where(post > 0, exp(l_homicide) * 2, -abs(l_homicide)) + pi", castle)
    want = np.where(f["post"] > 0, np.exp(f["l_homicide"]) * 2, -np.abs(f["l_homicide"])) + np.pi
    np.testing.assert_allclose(got, want, rtol=1e-15)
    keep = evaluate("2005 <= year <= 2007 and isin(sid, '1', '2') and not isna(robbery_gun_r)",
                    castle)
    years = f["year"].dt.year
    want_keep = years.between(2005, 2007) & f["sid"].isin(["1", "2"]) & f["robbery_gun_r"].notna()
    np.testing.assert_array_equal(keep, want_keep.to_numpy())


def test_time_column_is_the_decimal_year_for_months() -> None:
    df = pd.DataFrame({"u": ["a"] * 3, "month": ["2020-01", "2020-07", "2021-01"],
                       "y": [1.0, 2.0, 3.0], "x": [1.0, 0.0, 1.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.exceptions.DataWarning)  # one unit, monthly gaps
        panel = cp.load_panel(df, unit="u", time="month", outcome="y", treatment="x")
    np.testing.assert_allclose(evaluate("month", panel), [2020.0, 2020 + 182 / 366, 2021.0])


@pytest.mark.parametrize(
    ("text", "message"),
    [("log(post)", r"log\(\) of values <= 0 in \d+ row\(s\)"),
     ("sqrt(post - 1)", r"sqrt\(\) of negative values"),
     ("l_homicid + 1", r"unknown column 'l_homicid'; did you mean 'l_homicide'"),
     ("sid == 5", r"cannot compare text with numbers"),
     ("sid + 1", r"arithmetic needs numbers, but got text"),
     ("where(post, 1, 0)", r"where\(\) needs a condition")],
    ids=["log-domain", "sqrt-domain", "unknown-column", "text-vs-number", "text-arithmetic",
         "where-condition"],
)
def test_expression_evaluation_errors(castle: cp.Panel, text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, castle)


def test_huge_powers_do_not_hang(castle: cp.Panel) -> None:
    assert np.isinf(evaluate("9 ** 9 ** 9 ** 9", castle)).all()


# ================================================================= comparison
@pytest.mark.parametrize(
    ("reproduced", "published", "decimals", "expected"),
    [(-0.35482957, -0.354830, 6, True), (0.8021888, 0.802184, 6, False),
     (0.0325, 0.033, 3, True), (0.0325, 0.032, 3, True), (0.03250001, 0.032, 3, False),
     (540.0, 540.0, 0, True), (np.nan, 1.0, 2, False)],
    ids=["rounds", "sixth-decimal-off", "halfway-up", "halfway-down", "past-halfway",
         "integer", "nan"],
)
def test_matches_at_rounding(reproduced: float, published: float, decimals: int,
                             expected: bool) -> None:
    assert matches_at_rounding(reproduced, published, decimals) is expected


def test_comparison_is_frozen_and_table_is_a_copy(comparisons) -> None:  # type: ignore[no-untyped-def]
    c = comparisons["castle_mixtape"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.user_data = True  # type: ignore[misc]
    t = c.table
    t.loc[0, "match"] = False
    assert c.all_match is True


def test_renderings_show_the_numbers_and_escape(comparisons) -> None:  # type: ignore[no-untyped-def]
    c = comparisons["castle_mixtape"]
    text, md, page = c.to_text(), c.to_markdown(), c.to_html()
    for out in (text, md, page):
        assert "0.081812" in out and "0.0818116159" in out
    assert "post\\_mixtape" in md and "| twfe |" in md
    assert "Cheng &amp; Hoekstra" in page and "<td>post_mixtape</td>" in page
    assert "1 of 1 published numbers reproduced at the published rounding: REPRODUCED." in text


# ============================================== ratio scales and other estimators
RATIO_STUDY = """
[study]
id = "sim"
title = "Simulated cantons"
citation = "none"
status = "reproducible"

[data]
dataset = "simulated_cantons"

[[models]]
id = "pois"
estimator = "fepois"
formula = "deaths ~ offences_per_1000 + substitution_coverage | canton + year"
vcov = { CRV1 = "canton" }

[[models]]
id = "dl"
estimator = "distributed_lag"
outcome = "deaths"
treatment = "offences_per_1000"
lags = 2
leads = 1
family = "fepois"

[[published]]
model = "pois"
table = "T"
column = "(1)"
term = "offences_per_1000"
scale = "rate_ratio"
per = 10
estimate = "1.71"
conf_low = "1.31"
conf_high = "2.21"

[[published]]
model = "dl"
table = "T"
column = "(2)"
term = "cumulative"
estimate = "0.036"
std_error = "0.028"
"""


@pytest.fixture(scope="module")
def ratio_comparison(tmp_path_factory: pytest.TempPathFactory) -> cp.studies.Comparison:
    path = tmp_path_factory.mktemp("ratio") / "sim.toml"
    path.write_text(RATIO_STUDY, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
        return reproduce(path)


def test_rate_ratio_per_stated_change_equals_fepois(ratio_comparison) -> None:  # type: ignore[no-untyped-def]
    panel = cp.datasets.load("simulated_cantons")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
        res = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
                        panel, vcov={"CRV1": "canton"})
    ci = res.conf_int().loc["offences_per_1000"]
    t = ratio_comparison.table.set_index(["model", "quantity"])["reproduced"]
    assert t[("pois", "estimate")] == pytest.approx(np.exp(10 * res.params["offences_per_1000"]),
                                                    rel=1e-12)
    assert t[("pois", "conf_low")] == pytest.approx(np.exp(10 * ci["conf_low"]), rel=1e-12)
    assert t[("pois", "conf_high")] == pytest.approx(np.exp(10 * ci["conf_high"]), rel=1e-12)


def test_distributed_lag_cumulative_equals_its_results(ratio_comparison) -> None:  # type: ignore[no-untyped-def]
    cum = ratio_comparison.results("dl").cumulative().iloc[0]
    t = ratio_comparison.table.set_index(["model", "quantity"])["reproduced"]
    assert t[("dl", "estimate")] == pytest.approx(float(cum["estimate"]), rel=1e-12)
    assert t[("dl", "std_error")] == pytest.approx(float(cum["std_error"]), rel=1e-12)
    assert ratio_comparison.all_match is True


def test_bundled_study_on_a_copy_of_its_data_as_dataframe() -> None:
    frame = pd.read_csv(cp.datasets.path("castle"))
    c = reproduce("castle_mixtape", data=frame)
    assert c.user_data is True and c.data_source == "a DataFrame you supplied"
    assert c.table.loc[0, "reproduced"] == pytest.approx(REPRODUCED[
        ("castle_mixtape", "twfe", "post_mixtape", "estimate")], rel=1e-9)


def test_model_naming_a_missing_column_names_the_model(toy_dir: Path) -> None:
    text = USER_STUDY.format(estimate="0.5").replace('formula = "y ~ x + x_lag | unit"',
                                                     'formula = "y ~ x + z | unit"')
    with pytest.raises(StudyError, match=r"models\[0\] \(id 'ols'\): .*'z'"):
        reproduce(_write_study(toy_dir, text))
