"""Saved results read back give the same numbers, tables and contract; bad files are refused."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.results import EstimationResults
from causalpolicing.results_io import FORMAT, load_results, results_to_dict, save_results


@pytest.fixture(scope="module")
def fits() -> dict[str, object]:
    panel = cp.datasets.load("simulated_cantons")
    nc = cp.datasets.load("nc_crime").to_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "feols-crv1": cp.feols("offences_per_1000 ~ unemployment + budget_shock | canton + year",
                                   panel, vcov={"CRV1": "canton"}),
            "feols-xtreg": cp.feols("offences_per_1000 ~ unemployment | canton + year", panel,
                                    vcov={"CRV1": "canton"}, ssc="stata_xtreg"),
            "fepois": cp.fepois("deaths ~ offences_per_1000 | canton + year", panel,
                                vcov={"CRV1": "canton"}),
            "twoway": cp.feols("lcrmrte ~ lprbarr + lpolpc | county + year", nc,
                               vcov={"CRV1": ["county", "year"]}),
            "iv": cp.feols("lcrmrte ~ 1 | county + year | lprbarr + lpolpc ~ ltaxpc + lmix", nc,
                           vcov="iid"),
        }


@pytest.mark.parametrize("key", ["feols-crv1", "feols-xtreg", "fepois", "twoway", "iv"])
def test_round_trip_keeps_the_contract(fits: dict[str, object], key: str, tmp_path: Path) -> None:
    res = fits[key]
    back = load_results(save_results(res, tmp_path / "r.json", name=key))
    assert isinstance(back, EstimationResults)
    assert back.name == key
    # deliberate exact equality: our own numbers written as JSON (shortest round-trip
    # repr) and read back on the same machine must be bit-identical
    pd.testing.assert_series_equal(back.params, res.params, check_names=False, rtol=0, atol=0)
    pd.testing.assert_frame_equal(back.cov, res.cov, rtol=0, atol=0)
    pd.testing.assert_frame_equal(back.tidy(), res.tidy(), rtol=1e-15)
    pd.testing.assert_frame_equal(back.conf_int(0.9), res.conf_int(0.9), rtol=1e-15)
    assert (back.nobs, back.n_clusters, back.cov_type, back.estimator, back.df_inference) == (
        res.nobs, res.n_clusters, res.cov_type, res.estimator, res.df_inference)
    assert back.spec["formula"] == res.spec["formula"]
    assert back.warnings == res.warnings


@pytest.mark.parametrize("key", ["feols-crv1", "feols-xtreg", "fepois", "twoway"])
def test_table_from_saved_results_equals_the_original(fits: dict[str, object], key: str,
                                                      tmp_path: Path) -> None:
    res = fits[key]
    back = load_results(save_results(res, tmp_path / "r.json"))
    assert cp.table(back).to_markdown() == cp.table(res).to_markdown()
    if key == "feols-xtreg":  # the label names the non-default small-sample convention
        assert back.cov_type == "CRV1 by canton (stata_xtreg)"
        assert "CRV1 by canton (stata_xtreg)" in str(cp.table(back))


def test_non_finite_values_survive(tmp_path: Path) -> None:
    from causalpolicing.results import BaseResults

    res = BaseResults(params=pd.Series({"x": 1.0, "z": np.nan}),
                      cov=pd.DataFrame([[1.0, np.nan], [np.nan, np.nan]], ["x", "z"], ["x", "z"]),
                      nobs=10, df_inference=None, cov_type="iid", estimator="OLS", spec={},
                      fit_stats={"r2": np.inf})
    back = load_results(save_results(res, tmp_path / "r.json"))
    assert np.isnan(back.params["z"]) and back.params["x"] == 1.0
    assert back.glance()["r2"].isna().all()


BAD = [
    ("not-json", "{", "not valid JSON"),
    ("other-format", json.dumps({"format": "x"}), "not a causalpolicing results file"),
    ("list", "[1, 2]", "not a causalpolicing results file"),
    ("missing-key", json.dumps({"format": FORMAT, "terms": ["x"]}), "malformed results file"),
    ("shape", json.dumps({"format": FORMAT, "terms": ["x"], "params": [1.0], "cov": [[1, 2]],
                          "nobs": 3, "cov_type": "iid", "estimator": "OLS"}),
     "malformed results file"),
]


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in BAD],
                         ids=[i for i, _, _ in BAD])
def test_bad_results_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=message):
        load_results(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_results(tmp_path / "nope.json")


def test_object_without_the_contract() -> None:
    with pytest.raises(SpecError, match="lacks 'params'"):
        results_to_dict(object())
