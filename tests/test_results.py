"""Tests of the results contract (causalpolicing.results) and FEOLSResults extras."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.results import TIDY_COLUMNS, BaseResults, EstimationResults


def simple_results(df_inference: int | None = 98) -> BaseResults:
    names = ["x", "w"]
    return BaseResults(
        params=pd.Series([2.0, -1.0], index=names),
        cov=pd.DataFrame([[0.25, 0.01], [0.01, 0.04]], index=names, columns=names),
        nobs=100, df_inference=df_inference, cov_type="iid", estimator="OLS",
        spec={"formula": "y ~ x + w", "options": {"a": [1, 2]}}, n_clusters=None,
        fit_stats={"r2": 0.5}, warnings=("note",),
    )


@pytest.fixture(scope="module")
def fitted() -> cp.estimators.FEOLSResults:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"unit": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(6), 50)})
    df["x"] = rng.normal(size=300)
    df["y"] = 0.5 * df["x"] + rng.normal(size=300)
    df.loc[4, "x"] = np.nan
    return cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})


def test_base_results_satisfy_protocol() -> None:
    assert isinstance(simple_results(), EstimationResults)


def test_feols_results_satisfy_protocol(fitted: cp.estimators.FEOLSResults) -> None:
    assert isinstance(fitted, EstimationResults)


def test_std_errors_tstats_pvalues_t_distribution() -> None:
    res = simple_results()
    np.testing.assert_allclose(res.std_errors, [0.5, 0.2])
    np.testing.assert_allclose(res.tstats, [4.0, -5.0])
    np.testing.assert_allclose(res.pvalues, 2 * stats.t(98).sf([4.0, 5.0]))
    assert res.df_inference == 98


def test_normal_distribution_when_df_is_none() -> None:
    res = simple_results(df_inference=None)
    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf([4.0, 5.0]))
    ci = res.conf_int(0.9)
    np.testing.assert_allclose(ci["conf_low"], [2.0 - 1.6448536269514722 * 0.5,
                                                -1.0 - 1.6448536269514722 * 0.2])


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99], ids=["90", "95", "99"])
def test_conf_int_levels(level: float) -> None:
    res = simple_results()
    q = stats.t(98).ppf(0.5 + level / 2)
    ci = res.conf_int(level)
    assert list(ci.columns) == ["conf_low", "conf_high"]
    np.testing.assert_allclose(ci["conf_low"], [2.0 - q * 0.5, -1.0 - q * 0.2])
    np.testing.assert_allclose(ci["conf_high"], [2.0 + q * 0.5, -1.0 + q * 0.2])


@pytest.mark.parametrize("level", [0, 1, 95, -0.1, "0.95"], ids=["0", "1", "95", "neg", "str"])
def test_conf_int_rejects_bad_level(level) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match="level must be a number strictly between 0 and 1"):
        simple_results().conf_int(level)


def test_tidy_columns_and_values() -> None:
    res = simple_results()
    tidy = res.tidy()
    assert list(tidy.columns) == TIDY_COLUMNS
    assert tidy["term"].tolist() == ["x", "w"]
    np.testing.assert_allclose(tidy["estimate"], [2.0, -1.0])
    np.testing.assert_allclose(tidy["std_error"], [0.5, 0.2])
    np.testing.assert_allclose(tidy["statistic"], [4.0, -5.0])
    np.testing.assert_allclose(tidy["p_value"], res.pvalues)
    np.testing.assert_allclose(tidy["conf_low"], res.conf_int()["conf_low"])
    np.testing.assert_allclose(tidy["conf_high"], res.conf_int()["conf_high"])


def test_glance_one_row() -> None:
    g = simple_results().glance()
    assert len(g) == 1
    assert g.iloc[0].to_dict() == {"estimator": "OLS", "nobs": 100, "r2": 0.5,
                                   "n_clusters": None, "cov_type": "iid"}


def test_immutable_attributes() -> None:
    res = simple_results()
    with pytest.raises(AttributeError, match="immutable"):
        res._params = pd.Series(dtype=float)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        res.nobs = 3  # type: ignore[misc]


def test_accessors_return_copies() -> None:
    res = simple_results()
    params = res.params
    params.iloc[0] = 99.0
    cov = res.cov
    cov.iloc[0, 0] = 99.0
    spec = res.spec
    spec["formula"] = "changed"
    spec["options"]["a"].append(3)
    assert res.params.iloc[0] == 2.0
    assert res.cov.iloc[0, 0] == 0.25
    assert res.spec == {"formula": "y ~ x + w", "options": {"a": [1, 2]}}


def test_cov_must_match_params() -> None:
    with pytest.raises(SpecError, match="indexed by the parameter names"):
        BaseResults(params=pd.Series([1.0], index=["x"]),
                    cov=pd.DataFrame([[1.0]], index=["z"], columns=["z"]), nobs=3,
                    df_inference=1, cov_type="iid", estimator="OLS", spec={})


def test_repr_is_concise() -> None:
    assert repr(simple_results()) == "<BaseResults: OLS, 100 obs, iid; x=2, w=-1>"


def test_feols_results_fields(fitted: cp.estimators.FEOLSResults) -> None:
    assert fitted.nobs == 299
    assert fitted.n_clusters == 50
    assert fitted.cov_type == "CRV1 by unit"
    assert fitted.estimator == "FEOLS"
    assert fitted.df_inference == 49
    assert fitted.spec == {
        "formula": "y ~ x | unit + year", "vcov": {"CRV1": "unit"}, "vcov_source": "user",
        "ssc": "fixest", "weights": None, "singletons": "keep", "tol": 1e-12,
        "collin_tol": 1e-10, "fixed_effects": ["unit", "year"], "depvar": "y",
    }
    assert fitted.fixed_effects.to_dict("list") == {"name": ["unit", "year"], "levels": [50, 6]}
    assert fitted.first_stage is None
    assert fitted.collinear == {}
    assert fitted.dropped[["row", "column", "reason"]].to_records(index=False).tolist() == [
        (4, "x", "missing value")]


def test_feols_glance_columns(fitted: cp.estimators.FEOLSResults) -> None:
    g = fitted.glance()
    assert list(g.columns) == ["estimator", "nobs", "r2", "adj_r2", "within_r2", "rmse", "rss",
                               "df_resid", "fixed_effects", "demean_iterations", "n_dropped",
                               "n_singletons", "n_clusters", "cov_type"]
    row = g.iloc[0]
    assert row["nobs"] == 299
    assert row["df_resid"] == 299 - 1 - (50 + 6 - 1)
    assert row["fixed_effects"] == "unit + year"
    assert (row["n_dropped"], row["n_singletons"]) == (1, 0)
    assert row["n_clusters"] == 50
    assert 0 < row["within_r2"] < 1
    assert row["r2"] == pytest.approx(fitted.r2)
    assert row["within_r2"] == pytest.approx(fitted.within_r2)
    rss = row["rss"]
    assert row["rmse"] == pytest.approx(np.sqrt(rss / 299))
    assert row["adj_r2"] == pytest.approx(1 - (1 - row["r2"]) * 298 / row["df_resid"])


def test_r2_matches_pyfixest() -> None:
    import pyfixest as pf
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"unit": np.repeat(np.arange(40), 5), "year": np.tile(np.arange(5), 40)})
    df["x"] = rng.normal(size=200)
    df["y"] = df["x"] + 0.1 * df["unit"] + rng.normal(size=200)
    ours = cp.feols("y ~ x | unit + year", df, vcov="iid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ x | unit + year", df, vcov="iid")
    assert ours.r2 == pytest.approx(ref._r2, rel=1e-10)
    assert ours.within_r2 == pytest.approx(ref._r2_within, rel=1e-10)
    assert ours.glance()["adj_r2"].iloc[0] == pytest.approx(ref._adj_r2, rel=1e-10)
    assert ours.glance()["rmse"].iloc[0] == pytest.approx(ref._rmse, rel=1e-10)
