"""Tests of cp.fenegbin (NB2 with fixed effects as dummies; statsmodels is the engine).

References
----------
* R 2.15.1, MASS 7.3-22 ``glm.nb(mdvis ~ ., data = randhie)`` (alpha and its
  standard error from Stata ``nbreg``), as stored in statsmodels'
  ``statsmodels/discrete/tests/results/results_discrete.py``
  (``RandHIE.negativebinomial_nb2_bfgs``); data ``statsmodels.datasets.randhie``.
* statsmodels ``NegativeBinomial(loglike_method="nb2")`` fitted directly on the
  same dummy design (same engine: numbers agree to optimiser precision).
* pyfixest 0.60 has no ``fenegbin`` (``pf.feglm`` offers gaussian, logit and
  probit only), so there is no pyfixest comparison.

Timing (2 shared cores, 2026-11-27; results in the negbin module docstring:
26 x 33: 0.6 s, 500 x 20: 13 s, 3,000 x 30: 974 s and 11 GB peak RSS), with
``python time_nb.py N T`` where ``time_nb.py`` is::

    import sys, time, numpy as np, pandas as pd, causalpolicing as cp
    import statsmodels.api, statsmodels.discrete.discrete_model  # warm imports
    N, T = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unit": np.repeat(np.arange(N), T), "year": np.tile(np.arange(T), N)})
    df["x"] = rng.normal(size=len(df)); df["pop"] = 1e5
    mu = np.exp(np.log(1e-4) + 0.2 * df["x"] + rng.normal(0, .3, N)[df["unit"]]
                + rng.normal(0, .2, T)[df["year"]]) * 1e5
    df["y"] = rng.poisson(rng.gamma(2.0, mu / 2.0))
    t = time.perf_counter()
    cp.fenegbin("y ~ x | unit + year", df, exposure="pop", vcov={"CRV1": "unit"})
    print(time.perf_counter() - t)
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomial

import causalpolicing as cp
from causalpolicing.exceptions import AssumptionWarning, FewClustersWarning, SpecError

# R MASS::glm.nb on randhie (statsmodels results_discrete.py); order: 9 slopes, const
R_GLMNB_PARAMS = [-0.0579469537244314, -0.267787718814838, 0.0412060770911646,
                  -0.0381376804392121, 0.268915772213171, 0.0381637446219235,
                  -0.0441338846217674, 0.0172521803400544, 0.177960787443151,
                  0.663556087183864]
R_GLMNB_BSE = [0.00607085853920512, 0.0226125368090765, 0.00405542008282773,
               0.00344455937127785, 0.0298855063286547, 0.00142421904710063,
               0.0199374393307107, 0.0358416931939136, 0.0741013728607101,
               0.0250354082637892]
STATA_ALPHA = 1.292953339909746
STATA_ALPHA_SE = 0.0186098
RANDHIE_TERMS = ["lncoins", "idp", "lpi", "fmde", "physlm", "disea", "hlthg", "hlthf", "hlthp"]

pytestmark = pytest.mark.filterwarnings(
    "ignore::causalpolicing.exceptions.FewClustersWarning")


def nb_panel(seed: int, n_units: int = 26, n_periods: int = 33, alpha: float = 0.5,
             beta: float = np.log(1.2)) -> pd.DataFrame:
    """An NB2 panel with unit and year effects, exposure and one regressor."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods),
                       "year": np.tile(np.arange(2000, 2000 + n_periods), n_units)})
    df["x"] = rng.normal(size=len(df))
    df["pop"] = rng.integers(50_000, 500_000, n_units)[df["unit"]].astype(float)
    a = rng.normal(0, 0.3, n_units)[df["unit"]]
    g = rng.normal(0, 0.2, n_periods)[df["year"] - 2000]
    mu = df["pop"] * 1e-4 * np.exp(beta * df["x"] + a + g)
    df["y"] = rng.poisson(rng.gamma(1 / alpha, alpha * mu))
    return df


def dummy_design(df: pd.DataFrame) -> np.ndarray:
    u = pd.get_dummies(df["unit"]).to_numpy(float)
    t = pd.get_dummies(df["year"]).to_numpy(float)[:, 1:]
    return np.column_stack([df["x"].to_numpy(), u, t])


@pytest.fixture(scope="module")
def randhie() -> pd.DataFrame:
    return sm.datasets.randhie.load_pandas().data


@pytest.fixture(scope="module")
def randhie_fit(randhie: pd.DataFrame) -> cp.estimators.negbin.GLMFEResults:
    return cp.fenegbin("mdvis ~ " + " + ".join(RANDHIE_TERMS), randhie, vcov="iid")


@pytest.fixture(scope="module")
def panel_df() -> pd.DataFrame:
    return nb_panel(11)


@pytest.fixture(scope="module")
def panel_fit(panel_df: pd.DataFrame) -> cp.estimators.negbin.GLMFEResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        return cp.fenegbin("y ~ x | unit + year", panel_df, exposure="pop")


@pytest.fixture(scope="module")
def sm_direct(panel_df: pd.DataFrame):
    """statsmodels' own NB2 fit of the same dummy design (default start, Newton)."""
    model = NegativeBinomial(panel_df["y"].to_numpy(float), dummy_design(panel_df),
                             loglike_method="nb2", offset=np.log(panel_df["pop"].to_numpy()))
    return model.fit(method="newton", maxiter=200, disp=0, cov_type="cluster",
                     cov_kwds={"groups": panel_df["unit"].to_numpy()}, use_t=True)


# ----------------------------------------------------------- R MASS::glm.nb
def test_randhie_params_match_r_glm_nb(randhie_fit) -> None:
    got = randhie_fit.params[[*RANDHIE_TERMS, "Intercept"]].to_numpy()
    np.testing.assert_allclose(got, R_GLMNB_PARAMS, atol=1e-6, rtol=1e-5)


def test_randhie_std_errors_match_r_glm_nb(randhie_fit) -> None:
    # R's glm.nb reports the GLM (expected-information) standard errors with theta held
    # fixed; ours are the inverse observed Hessian of the joint (beta, alpha) MLE, as
    # statsmodels and Stata nbreg. They differ by up to 3% here (0.0003 absolute).
    got = randhie_fit.std_errors[[*RANDHIE_TERMS, "Intercept"]].to_numpy()
    np.testing.assert_allclose(got, R_GLMNB_BSE, atol=5e-4, rtol=0)


def test_randhie_alpha_matches_stata_nbreg(randhie_fit) -> None:
    assert randhie_fit.alpha == pytest.approx(STATA_ALPHA, rel=1e-5)
    assert randhie_fit.alpha_se == pytest.approx(STATA_ALPHA_SE, rel=1e-3)


def test_randhie_metadata(randhie_fit) -> None:
    assert randhie_fit.estimator == "NegBin"
    assert randhie_fit.nobs == 20190
    assert randhie_fit.cov_type == "iid"
    assert randhie_fit.df_inference is None
    assert randhie_fit.n_clusters is None
    assert randhie_fit.spec["vcov_source"] == "user"
    assert randhie_fit.link == "log"
    assert randhie_fit.converged is True


# ------------------------------------------------------ statsmodels directly
def test_fe_params_equal_statsmodels(panel_fit, sm_direct) -> None:
    assert panel_fit.params["x"] == pytest.approx(sm_direct.params[0], abs=1e-7)
    assert panel_fit.alpha == pytest.approx(sm_direct.params[-1], abs=1e-7)


def test_fe_cluster_std_error_equals_statsmodels(panel_fit, sm_direct) -> None:
    assert panel_fit.std_errors["x"] == pytest.approx(sm_direct.bse[0], rel=1e-6)
    assert panel_fit.pvalues["x"] == pytest.approx(sm_direct.pvalues[0], rel=1e-6)
    assert panel_fit.df_inference == 25


def test_fe_fit_metadata(panel_fit, panel_df) -> None:
    assert panel_fit.estimator == "FENegBin"
    assert panel_fit.nobs == len(panel_df)
    assert panel_fit.n_clusters == 26
    assert panel_fit.cov_type == "CRV1 by unit"
    assert list(panel_fit.params.index) == ["x"]
    assert panel_fit.fe_table.to_dict("list") == {"name": ["unit", "year"], "levels": [26, 33]}
    assert len(panel_fit.dropped) == 0
    assert any("Only 26 clusters" in w for w in panel_fit.warnings)


def test_hc1_is_hc0_times_n_over_n_minus_k(panel_df) -> None:
    hc0 = cp.fenegbin("y ~ x | unit + year", panel_df, exposure="pop", vcov="HC0")
    hc1 = cp.fenegbin("y ~ x | unit + year", panel_df, exposure="pop", vcov="HC1")
    n, k = len(panel_df), 1 + 26 + 32 + 1
    assert hc0.cov_type == "HC0" and hc1.cov_type == "HC1"
    assert hc1.cov.iloc[0, 0] == pytest.approx(hc0.cov.iloc[0, 0] * n / (n - k), rel=1e-12)


# ------------------------------------------------------------------ recovery
def test_recovers_rate_ratio_and_alpha() -> None:
    df = nb_panel(5, n_units=60, n_periods=20, alpha=0.5, beta=np.log(1.2))
    res = cp.fenegbin("y ~ x | unit + year", df, exposure="pop", vcov={"CRV1": "unit"})
    assert abs(res.params["x"] - np.log(1.2)) < 3 * res.std_errors["x"]
    assert abs(res.alpha - 0.5) < 3 * res.alpha_se


def test_rate_ratios_through_count_effects(panel_fit) -> None:
    rr = cp.rate_ratios(panel_fit, per=1)
    assert rr.loc[0, "rate_ratio"] == pytest.approx(np.exp(panel_fit.params["x"]), rel=1e-12)
    ci = panel_fit.conf_int()
    assert rr.loc[0, "conf_low"] == pytest.approx(np.exp(ci.loc["x", "conf_low"]), rel=1e-12)


# ------------------------------------------------------------ boundary case
def test_poisson_data_hit_the_alpha_boundary() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"g": np.repeat(np.arange(20), 15), "x": rng.normal(size=300)})
    df["y"] = rng.poisson(np.exp(1.0 + 0.3 * df["x"]))
    with pytest.warns(AssumptionWarning, match="No over-dispersion"):
        res = cp.fenegbin("y ~ x | g", df, vcov="iid")
    pois = sm.GLM(df["y"], np.column_stack([df["x"], pd.get_dummies(df["g"]).to_numpy(float)]),
                  family=sm.families.Poisson()).fit()
    assert res.alpha == 0.0
    assert np.isnan(res.alpha_se)
    assert res.params["x"] == pytest.approx(pois.params.iloc[0], abs=1e-8)
    assert res.std_errors["x"] == pytest.approx(pois.bse.iloc[0], rel=1e-6)
    assert res.glance()["optimizer"].item() == "boundary"


# ------------------------------------------------------------------ drop log
def test_all_zero_unit_is_dropped_and_logged(panel_df) -> None:
    df = panel_df.copy()
    df.loc[df["unit"] == 3, "y"] = 0
    df.loc[5, "pop"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewClustersWarning)
        res = cp.fenegbin("y ~ x | unit + year", df, exposure="pop")
    reasons = res.dropped.groupby("reason")["row"].count().to_dict()
    assert reasons == {
        "missing exposure": 1,
        "outcome zero in every row of its fixed-effect level (separation)": 33,
    }
    assert res.nobs == len(df) - 34
    assert res.n_clusters == 25


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("vcov", ["HC3", {"CRV3": "unit"}, {"DK": "year"}],
                         ids=["HC3", "CRV3", "DK"])
def test_unsupported_vcov_raises(vcov) -> None:
    with pytest.raises(SpecError, match="not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC"):
        cp.fenegbin("y ~ x | unit", pd.DataFrame({"y": [1], "x": [1.0], "unit": [1]}), vcov=vcov)


def test_negative_counts_raise(panel_df) -> None:
    df = panel_df.copy()
    df.loc[0, "y"] = -1
    with pytest.raises(SpecError, match="non-negative counts"):
        cp.fenegbin("y ~ x | unit + year", df, vcov="iid")


def test_results_are_immutable(panel_fit) -> None:
    with pytest.raises(AttributeError, match="immutable"):
        panel_fit._extra = {}  # type: ignore[misc]


def test_estimator_settings_are_frozen() -> None:
    est = cp.estimators.negbin.FENegBin("y ~ x")
    with pytest.raises(AttributeError, match="fixed"):
        est._maxiter = 3  # type: ignore[misc]
    assert dataclasses.is_dataclass(cp.estimators.negbin.GLMVcov)


@pytest.mark.slow
def test_monte_carlo_coverage_of_rate_ratio_interval() -> None:
    """95% CRV1 intervals for the log rate ratio cover the truth in ~95% of 100 panels."""
    beta = np.log(1.2)
    cover = 0
    alphas = []
    for seed in range(100):
        df = nb_panel(1000 + seed, n_units=40, n_periods=15, alpha=0.5, beta=beta)
        res = cp.fenegbin("y ~ x | unit + year", df, exposure="pop", vcov={"CRV1": "unit"})
        ci = res.conf_int().loc["x"]
        cover += ci["conf_low"] <= beta <= ci["conf_high"]
        alphas.append(res.alpha)
    assert 88 <= cover <= 99
    # the dummy-variable MLE of alpha is biased down in short panels (incidental
    # parameters): measured mean 0.447 for a true 0.5 at 40 units x 15 periods
    assert 0.42 < np.mean(alphas) < 0.5


def test_rate_ratio_per_sd_uses_the_regressor_sd_of_the_fit(panel_fit, panel_df) -> None:
    sd = float(panel_df["x"].std(ddof=1))
    assert panel_fit.regressor_sd["x"] == pytest.approx(sd, rel=1e-12)
    rr = cp.rate_ratios(panel_fit, per="sd")
    assert rr.loc[0, "rate_ratio"] == pytest.approx(np.exp(sd * panel_fit.params["x"]), rel=1e-12)


def test_hetero_std_error_equals_statsmodels_hc0_times_n_over_n_minus_k(panel_df) -> None:
    # "hetero" is HC1 (fixest's meaning) for every estimator. statsmodels' cov_type="HC1"
    # is the same as "HC0" for NegativeBinomial (no N/(N-K) factor for non-OLS models,
    # checked with statsmodels 0.14), so the reference is HC0 scaled by hand; K counts
    # the slope, the dummies and alpha.
    res = cp.fenegbin("y ~ x | unit + year", panel_df, exposure="pop", vcov="hetero")
    hc0 = cp.fenegbin("y ~ x | unit + year", panel_df, exposure="pop", vcov="HC0")
    design = dummy_design(panel_df)
    ref = NegativeBinomial(panel_df["y"].to_numpy(float), design,
                           loglike_method="nb2", offset=np.log(panel_df["pop"].to_numpy())
                           ).fit(method="newton", maxiter=200, disp=0, cov_type="HC0")
    n, k = design.shape[0], design.shape[1] + 1
    assert res.cov_type == "HC1"
    assert res.std_errors["x"] == pytest.approx(ref.bse[0] * np.sqrt(n / (n - k)), rel=1e-6)
    assert hc0.std_errors["x"] == pytest.approx(ref.bse[0], rel=1e-6)
    assert res.alpha_se == pytest.approx(ref.bse[-1] * np.sqrt(n / (n - k)), rel=1e-5)
    assert hc0.alpha_se == pytest.approx(ref.bse[-1], rel=1e-5)


def test_small_alpha_takes_the_bfgs_then_newton_path() -> None:
    df = nb_panel(0, n_units=20, n_periods=10, alpha=0.03)
    res = cp.fenegbin("y ~ x | unit + year", df, exposure="pop", vcov="iid")
    stock = NegativeBinomial(df["y"].to_numpy(float), dummy_design(df), loglike_method="nb2",
                             offset=np.log(df["pop"].to_numpy()))
    rb = stock.fit(method="bfgs", maxiter=5000, disp=0)
    ref = stock.fit(start_params=np.asarray(rb.params), method="newton", disp=0)
    assert res.glance()["optimizer"].item() == "bfgs+newton"
    assert res.converged is True
    assert res.params["x"] == pytest.approx(ref.params[0], abs=1e-7)
    assert res.alpha == pytest.approx(ref.params[-1], abs=1e-7)
    # first-order condition of the stock likelihood at our solution
    full = np.r_[ref.params[:-1], res.alpha]
    full[0] = res.params["x"]
    assert np.max(np.abs(stock.score(full))) < 1e-3
