"""The bundled staggered-adoption dataset simulated_overdose_laws: truth, roles, the TWFE sign trap."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import DatasetError
from causalpolicing.simulate import STAGGERED_DEFAULTS, simulate_staggered_laws, staggered_truth

NAME = "simulated_overdose_laws"
FOLDER = Path(__file__).resolve().parents[1] / "datasets" / NAME


@pytest.fixture(scope="module")
def panel() -> cp.Panel:
    return cp.datasets.load(NAME)


@pytest.fixture(scope="module")
def truth() -> dict:
    return staggered_truth()


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def test_loader_declares_the_timing_role(panel: cp.Panel) -> None:
    assert (panel.cohort, panel.never_treated) == ("adopt_year", 0)
    assert (panel.outcome, panel.treatment, panel.exposure) == ("deaths", "law", "population")
    assert "cohort: adopt_year" in str(panel.card)


def test_law_follows_the_adoption_year(panel: cp.Panel) -> None:
    df = panel.to_frame()
    year = df["year"].dt.year
    expected = ((df["adopt_year"] > 0) & (year >= df["adopt_year"])).astype(int)
    assert df["law"].tolist() == expected.tolist()
    sizes = df.groupby("adopt_year")["state"].nunique().to_dict()
    assert sizes == {0: 3, 2003: 12, 2006: 7, 2009: 7, 2012: 7, 2015: 7, 2018: 7}


@pytest.mark.parametrize(("fit", "label"), [
    (lambda p: cp.fepois("deaths ~ law | state + year", p, vcov={"CRV1": "state"}), "poisson"),
    (lambda p: cp.feols("deaths_per_100k ~ law | state + year", p.rate("deaths"),
                        vcov={"CRV1": "state"}), "linear-rate"),
    (lambda p: cp.feols("deaths ~ law | state + year", p, vcov={"CRV1": "state"}),
     "linear-deaths"),
], ids=["poisson", "linear-rate", "linear-deaths"])
def test_twfe_gets_the_wrong_sign(fit, label: str, panel: cp.Panel, truth: dict) -> None:
    res = _quiet(fit, panel)
    assert truth["overall"]["att_deaths"] < 0 and truth["overall"]["rate_ratio"] < 1
    assert res.params["law"] > 0, label  # the law looks harmful; in truth it averts deaths


def test_twfe_numbers_quoted_in_the_card(panel: cp.Panel) -> None:
    res = _quiet(cp.fepois, "deaths ~ law | state + year", panel, vcov={"CRV1": "state"})
    # the card quotes 3 decimals
    assert round(float(res.params["law"]), 3) == 0.164
    assert round(float(res.std_errors["law"]), 3) == 0.052
    assert "+0.164 (s.e. 0.052" in " ".join(cp.datasets.card(NAME).notes)


def test_event_study_on_the_panel_sees_growing_averted_deaths(panel: cp.Panel) -> None:
    es = _quiet(cp.event_study, panel, outcome="deaths", estimator="fepois", leads=3, lags=5)
    assert es.spec["cohort"] == "adopt_year"
    assert es.params["event_lag5"] < es.params["event_lag0"]


def test_att_gt_rate_ratios_are_the_model(truth: dict) -> None:
    gt = truth["att_gt"]
    slope = dict(zip(STAGGERED_DEFAULTS["cohorts"], STAGGERED_DEFAULTS["cohort_slopes"],
                     strict=True))
    expected = np.exp(-gt["cohort"].map(slope) * (gt["event_time"] + 1))
    np.testing.assert_allclose(gt["rate_ratio"], expected, rtol=1e-12)
    assert len(gt) == 75 and (gt["att_deaths"] < 0).all()
    assert int((gt["n_states"] * 1).sum()) == truth["overall"]["n_treated_state_years"] == 625


def test_aggregates_are_consistent(truth: dict) -> None:
    gt, by_e, overall = truth["att_gt"], truth["event_time"], truth["overall"]
    weighted = (gt["att_deaths"] * gt["n_states"]).sum() / gt["n_states"].sum()
    assert overall["att_deaths"] == pytest.approx(weighted, rel=1e-12)
    assert overall["rate_ratio"] == pytest.approx(
        gt["deaths_with"].sum() / gt["deaths_without"].sum(), rel=1e-12)
    assert overall["deaths_averted"] == pytest.approx(
        -(gt["att_deaths"] * gt["n_states"]).sum(), rel=1e-12)
    e3 = gt[gt["event_time"] == 3]
    assert by_e.set_index("event_time").loc[3, "att_deaths"] == pytest.approx(
        (e3["att_deaths"] * e3["n_states"]).sum() / e3["n_states"].sum(), rel=1e-12)


def test_card_parameters_are_the_simulators(truth: dict) -> None:
    params = cp.datasets.card(NAME).true_parameters
    assert (params["seed"], params["n_never"], params["base_rate"]) == (
        3, STAGGERED_DEFAULTS["n_never"], STAGGERED_DEFAULTS["base_rate"])
    for c, s in zip(STAGGERED_DEFAULTS["cohorts"], STAGGERED_DEFAULTS["cohort_slopes"],
                    strict=True):
        assert params[f"slope_{c}"] == s
    # the card writes 10 significant digits
    assert params["att_deaths"] == pytest.approx(truth["overall"]["att_deaths"], rel=1e-9)
    assert params["att_rate_ratio"] == pytest.approx(truth["overall"]["rate_ratio"], rel=1e-9)
    assert params["deaths_averted"] == pytest.approx(truth["overall"]["deaths_averted"],
                                                     rel=1e-9)


def test_truth_files_hold_the_truth(truth: dict) -> None:
    gt = pd.read_csv(FOLDER / "truth_att_gt.csv")
    by_e = pd.read_csv(FOLDER / "truth_event_time.csv")
    # written with %.10g: 10 significant digits
    pd.testing.assert_frame_equal(gt, truth["att_gt"].reset_index(drop=True), rtol=1e-9,
                                  check_dtype=False)
    pd.testing.assert_frame_equal(by_e, truth["event_time"].reset_index(drop=True), rtol=1e-9,
                                  check_dtype=False)


def test_generating_script_reproduces_the_files_byte_for_byte() -> None:
    spec = importlib.util.spec_from_file_location("_build_laws", FOLDER.parent / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = module.simulated_overdose_laws(), module.simulated_overdose_laws()
    assert first == second
    for file_name, text in first.items():
        assert (FOLDER / file_name).read_text(encoding="utf-8") == text, file_name


def test_other_seeds_and_refusals() -> None:
    assert not simulate_staggered_laws(4).equals(simulate_staggered_laws(3))
    with pytest.raises(DatasetError, match="same"):
        simulate_staggered_laws(cohorts=(2005, 2010), cohort_slopes=(0.1,))
    with pytest.raises(DatasetError, match="distinct years"):
        simulate_staggered_laws(cohorts=(1999,), cohort_slopes=(0.1,))
    with pytest.raises(DatasetError, match="n_never"):
        simulate_staggered_laws(n_never=50)
