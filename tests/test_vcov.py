"""Tests of the covariance registry and the small-sample conventions.

References, computed at run time (SEs to 1e-6 relative, p-values 1e-8 absolute):
* ``ssc="linearmodels"``: linearmodels ``PanelOLS`` with a constant and entity /
  time effects, default ``fit`` options (``debiased=True, auto_df=True,
  count_effects=True``), cov_type unadjusted / robust / clustered / kernel.
* ``ssc="fixest"`` DK: pyfixest ``vcov="DK"`` with ``vcov_kwargs`` lag, time_id, panel_id.
* ``ssc="stata_areg"``: statsmodels OLS with every dummy and
  ``cov_type="cluster"`` (Stata ``reg``/``areg`` convention); linearmodels
  ``AbsorbingLS`` (``debiased=True``) with three weighted fixed effects.
* ``ssc="stata_xtreg"``: statsmodels OLS with a constant on the within-transformed
  data, ``cov_type="cluster"`` (what ``xtreg, fe vce(cluster)`` computes).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm

import causalpolicing as cp
from causalpolicing.exceptions import FewClustersWarning, SpecError
from causalpolicing.inference.vcov import VcovInput, VcovRequest, compute_vcov, parse_vcov


def make_panel(seed: int = 7, n_units: int = 60, n_t: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "year": np.tile(np.arange(n_t), n_units)})
    df = df.loc[rng.random(len(df)) > 0.1].reset_index(drop=True)
    n = len(df)
    ue = rng.normal(size=n_units)[df["unit"]]
    te = rng.normal(size=n_t)[df["year"]]
    df["x"] = rng.normal(size=n) + ue
    df["w"] = rng.normal(size=n) + te
    df["y"] = df["x"] - 0.5 * df["w"] + ue + te + rng.normal(size=n) * (1 + np.abs(df["x"]))
    return df


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ parse_vcov
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("iid", VcovRequest("iid"), id="iid"),
        pytest.param("hetero", VcovRequest("HC1"), id="hetero-alias"),
        pytest.param("HC1", VcovRequest("HC1"), id="HC1"),
        pytest.param("hc3", VcovRequest("HC3"), id="HC3-case"),
        pytest.param({"CRV1": "unit"}, VcovRequest("CRV1", ("unit",)), id="crv1"),
        pytest.param({"CRV1": "unit + year"}, VcovRequest("CRV1", ("unit", "year")),
                     id="crv1-twoway-string"),
        pytest.param({"CRV1": ["unit", "year"]}, VcovRequest("CRV1", ("unit", "year")),
                     id="crv1-twoway-list"),
        pytest.param({"CRV3": "unit"}, VcovRequest("CRV3", ("unit",)), id="crv3"),
        pytest.param({"DK": "year"}, VcovRequest("DK", time="year"), id="dk"),
        pytest.param({"DK": {"time": "year", "lag": 2}}, VcovRequest("DK", time="year", lag=2),
                     id="dk-lag"),
    ],
)
def test_parse_vcov(given, expected: VcovRequest) -> None:  # type: ignore[no-untyped-def]
    assert parse_vcov(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        pytest.param("cluster", "Unknown covariance type", id="unknown-name"),
        pytest.param("CRV1", "needs a variable", id="crv1-without-variable"),
        pytest.param({"CRV1": "a+b+c"}, "At most two-way", id="three-way"),
        pytest.param({"CRV3": "a+b"}, "one-way clustering only", id="crv3-two-way"),
        pytest.param({"CRV1": 3}, "must be a column name", id="bad-cluster-type"),
        pytest.param({"CRV1": "a", "CRV3": "b"}, "exactly one entry", id="two-entries"),
        pytest.param({"DK": {"lag": 2}}, "'time' \\(required\\)", id="dk-no-time"),
        pytest.param({"DK": {"time": "t", "lag": -1}}, "non-negative integer", id="dk-neg-lag"),
        pytest.param(3.0, "must be a string or a dict", id="float"),
    ],
)
def test_parse_vcov_errors(given, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match=message):
        parse_vcov(given)


def test_request_label_and_spec() -> None:
    req = parse_vcov({"CRV1": ["unit", "year"]})
    assert req.label() == "CRV1 by unit + year"
    assert req.as_spec() == {"CRV1": "unit+year"}


# ------------------------------------------------------------- linearmodels
LM_CASES = [
    pytest.param("unadjusted", {}, "iid", id="unadjusted"),
    pytest.param("robust", {}, "hetero", id="robust"),
    pytest.param("clustered", {"cluster_entity": True}, {"CRV1": "unit"}, id="cluster-entity"),
    pytest.param("clustered", {"cluster_time": True}, {"CRV1": "year"}, id="cluster-time"),
    pytest.param("clustered", {"cluster_entity": True, "cluster_time": True},
                 {"CRV1": "unit+year"}, id="cluster-twoway"),
    pytest.param("kernel", {}, {"DK": "year"}, id="driscoll-kraay-default-bandwidth"),
    pytest.param("kernel", {"bandwidth": 3}, {"DK": {"time": "year", "lag": 3}},
                 id="driscoll-kraay-bandwidth-3"),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
@pytest.mark.parametrize(("cov_type", "kw", "vcov"), LM_CASES)
def test_linearmodels_panelols_twfe(panel: pd.DataFrame, cov_type: str, kw, vcov) -> None:  # type: ignore[no-untyped-def]
    from linearmodels import PanelOLS

    ref = quiet(PanelOLS.from_formula("y ~ 1 + x + w + EntityEffects + TimeEffects",
                                      panel.set_index(["unit", "year"])).fit,
                cov_type=cov_type, **kw)
    ours = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov=vcov, ssc="linearmodels")
    terms = ["x", "w"]
    np.testing.assert_allclose(ours.params[terms], ref.params[terms], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[terms], ref.std_errors[terms], rtol=1e-6)
    np.testing.assert_allclose(ours.pvalues[terms], ref.pvalues[terms], atol=1e-8)


@pytest.mark.parametrize(
    ("cov_type", "kw", "vcov"),
    [pytest.param("unadjusted", {}, "iid", id="unadjusted"),
     pytest.param("clustered", {"cluster_entity": True}, {"CRV1": "unit"},
                  id="cluster-entity-nested")],
)
def test_linearmodels_panelols_entity_only(panel: pd.DataFrame, cov_type: str, kw, vcov) -> None:  # type: ignore[no-untyped-def]
    from linearmodels import PanelOLS

    ref = PanelOLS.from_formula("y ~ 1 + x + w + EntityEffects",
                                panel.set_index(["unit", "year"])).fit(cov_type=cov_type, **kw)
    ours = quiet(cp.feols, "y ~ x + w | unit", panel, vcov=vcov, ssc="linearmodels")
    np.testing.assert_allclose(ours.std_errors[["x", "w"]], ref.std_errors[["x", "w"]], rtol=1e-6)


def test_dk_matches_pyfixest(panel: pd.DataFrame) -> None:
    ref = quiet(pf.feols, "y ~ x + w | unit + year", panel, vcov="DK",
                vcov_kwargs={"lag": 2, "time_id": "year", "panel_id": "unit"})
    ours = quiet(cp.feols, "y ~ x + w | unit + year", panel,
                 vcov={"DK": {"time": "year", "lag": 2}})
    np.testing.assert_allclose(ours.std_errors[["x", "w"]], ref.se()[["x", "w"]], rtol=1e-6)
    np.testing.assert_allclose(ours.pvalues[["x", "w"]], ref.pvalue()[["x", "w"]], atol=1e-8)
    assert ours.cov_type == "DK by year (lag 2)"
    assert ours.n_clusters == 12


# ------------------------------------------------------------ Stata conventions
def test_stata_areg_matches_dummy_ols_cluster(panel: pd.DataFrame) -> None:
    dummies = pd.get_dummies(panel["unit"], prefix="u", drop_first=True, dtype=float)
    exog = sm.add_constant(pd.concat([panel[["x", "w"]], dummies], axis=1))
    ref = sm.OLS(panel["y"], exog).fit(cov_type="cluster", use_t=True,
                                       cov_kwds={"groups": panel["unit"].to_numpy()})
    ours = quiet(cp.feols, "y ~ x + w | unit", panel, vcov={"CRV1": "unit"}, ssc="stata_areg")
    np.testing.assert_allclose(ours.std_errors[["x", "w"]], ref.bse[["x", "w"]], rtol=1e-6)
    np.testing.assert_allclose(ours.pvalues[["x", "w"]], ref.pvalues[["x", "w"]], atol=1e-8)


def test_stata_xtreg_matches_within_ols_cluster(panel: pd.DataFrame) -> None:
    cols = ["y", "x", "w"]
    within = panel[cols] - panel.groupby("unit")[cols].transform("mean") + panel[cols].mean()
    ref = sm.OLS(within["y"], sm.add_constant(within[["x", "w"]])).fit(
        cov_type="cluster", cov_kwds={"groups": panel["unit"].to_numpy()})
    ours = quiet(cp.feols, "y ~ x + w | unit", panel, vcov={"CRV1": "unit"}, ssc="stata_xtreg")
    np.testing.assert_allclose(ours.std_errors[["x", "w"]], ref.bse[["x", "w"]], rtol=1e-6)


@pytest.mark.parametrize(
    ("ssc", "factor"),
    [
        # N = rows, k = 2 slopes, G = 60 clusters, unit FE (60 levels) nested, year FE 12 levels
        pytest.param("fixest", lambda n, g: g / (g - 1) * (n - 1) / (n - 2 - 12), id="fixest"),
        pytest.param("stata_xtreg", lambda n, g: g / (g - 1) * (n - 1) / (n - 2 - 12),
                     id="stata_xtreg"),
        pytest.param("stata_areg", lambda n, g: g / (g - 1) * (n - 1) / (n - 2 - 60 - 11),
                     id="stata_areg"),
        pytest.param("linearmodels", lambda n, g: n / (n - 2 - 60 - 11), id="linearmodels"),
        pytest.param("none", lambda n, g: 1.0, id="none"),
    ],
)
def test_ssc_factor_documented_formula(panel: pd.DataFrame, ssc: str, factor) -> None:  # type: ignore[no-untyped-def]
    base = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV1": "unit"}, ssc="none")
    ours = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV1": "unit"}, ssc=ssc)
    expected = factor(base.nobs, 60)
    np.testing.assert_allclose(ours.cov.to_numpy(), base.cov.to_numpy() * expected, rtol=1e-10)


# ------------------------------------------------------------------ warnings
def test_few_clusters_warns() -> None:
    df = make_panel(n_units=25)
    with pytest.warns(FewClustersWarning, match="Only 25 clusters \\(unit\\).*CRV3.*wild"):
        cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})


def test_many_clusters_do_not_warn(panel: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewClustersWarning)
        res = cp.feols("y ~ x | unit + year", panel, vcov={"CRV1": "unit"})
    assert res.n_clusters == 60
    assert res.df_inference == 59


def test_twoway_not_psd_gets_eigenvalue_fix() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(size=(6, 2))
    u = rng.normal(size=6)
    inp = VcovInput(regressors=r, resid=u, bread=np.linalg.inv(r.T @ r), params=np.zeros(2))
    codes = {"a": np.array([0, 0, 0, 1, 1, 1]), "b": np.array([0, 1, 2, 0, 1, 2])}
    out = compute_vcov(VcovRequest("CRV1", ("a", "b")), inp, cluster_codes=codes, warn=False)
    assert np.linalg.eigvalsh(out.cov).min() >= -1e-12
    assert any("not positive semi-definite" in n for n in out.notes)
    assert out.n_clusters == (2, 3)
    assert out.df == 1


def test_hc3_rejected_with_fixed_effects(panel: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match="HC3 is not available with fixed effects"):
        cp.feols("y ~ x + w | unit", panel, vcov="HC3")


def test_hc3_undefined_with_leverage_one(panel: pd.DataFrame) -> None:
    df = panel.assign(spike=0.0)
    df.loc[0, "spike"] = 1.0
    with pytest.raises(SpecError, match="leverage 1"):
        cp.feols("y ~ x + spike", df, vcov="HC3")


# ------------------------------------------------------------------ with_cov
def test_with_cov_returns_new_object_matching_direct_fit(panel: pd.DataFrame) -> None:
    iid = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov="iid")
    crv = quiet(iid.with_cov, {"CRV1": "unit"})
    direct = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV1": "unit"})
    assert crv is not iid
    assert iid.cov_type == "iid"
    assert crv.cov_type == "CRV1 by unit"
    pd.testing.assert_series_equal(crv.params, iid.params)
    np.testing.assert_allclose(crv.std_errors, direct.std_errors, rtol=1e-12)
    assert crv.spec["vcov"] == {"CRV1": "unit"}
    assert crv.spec["vcov_source"] == "with_cov"


def test_with_cov_ssc_and_crv3(panel: pd.DataFrame) -> None:
    res = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov="iid")
    crv3 = quiet(res.with_cov, {"CRV3": "unit"}, ssc="fixest")
    direct = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV3": "unit"})
    np.testing.assert_allclose(crv3.std_errors, direct.std_errors, rtol=1e-10)


def test_with_cov_new_cluster_needs_data(panel: pd.DataFrame) -> None:
    df = panel.assign(state=panel["unit"] // 3)
    res = quiet(cp.feols, "y ~ x + w | unit + year", df, vcov="iid")
    with pytest.raises(SpecError, match="did not store column 'state'.*data=df"):
        res.with_cov({"CRV1": "state"})
    by_state = quiet(res.with_cov, {"CRV1": "state"}, data=df)
    direct = quiet(cp.feols, "y ~ x + w | unit + year", df, vcov={"CRV1": "state"})
    np.testing.assert_allclose(by_state.std_errors, direct.std_errors, rtol=1e-12)
    assert by_state.n_clusters == 20


@pytest.mark.parametrize(
    ("cov_type", "vcov"),
    [pytest.param("unadjusted", "iid", id="unadjusted"),
     pytest.param("robust", "hetero", id="robust"),
     pytest.param("clustered", {"CRV1": "unit"}, id="clustered")],
)
def test_absorbingls_three_fe_weighted_is_stata_areg(cov_type: str, vcov) -> None:  # type: ignore[no-untyped-def]
    """linearmodels AbsorbingLS(debiased=True) counts every absorbed level: ssc="stata_areg"."""
    from linearmodels.iv.absorbing import AbsorbingLS

    rng = np.random.default_rng(17)
    df = make_panel(seed=17).assign(sector=lambda d: rng.integers(0, 5, len(d)),
                                    wt=lambda d: rng.uniform(0.5, 2.0, len(d)))
    absorb = pd.DataFrame({c: pd.Categorical(df[c]) for c in ["unit", "year", "sector"]})
    kw = {"clusters": df["unit"].to_numpy()} if cov_type == "clustered" else {}
    ref = quiet(AbsorbingLS(df["y"], df[["x", "w"]], absorb=absorb, weights=df["wt"]).fit,
                cov_type=cov_type, debiased=True, **kw)
    ours = quiet(cp.feols, "y ~ x + w | unit + year + sector", df, vcov=vcov, weights="wt",
                 ssc="stata_areg")
    np.testing.assert_allclose(ours.params[["x", "w"]], ref.params[["x", "w"]], rtol=1e-8)
    np.testing.assert_allclose(ours.std_errors[["x", "w"]], ref.std_errors[["x", "w"]],
                               rtol=1e-6)


# ------------------------------------------------------- "hetero" means HC1
def _count_panel() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"unit": np.repeat(np.arange(12), 6), "year": np.tile(np.arange(6), 12)})
    df["x"] = rng.normal(size=len(df))
    df["y"] = rng.negative_binomial(5, 5 / (5 + np.exp(1 + 0.3 * df["x"])))
    df["users"] = 40
    df["deaths"] = rng.binomial(40, 1 / (1 + np.exp(1 - 0.3 * df["x"])))
    return df


HETERO_FITS = {
    # estimator: (fit, the same fit's HC0)
    "feols": (lambda d, v: cp.feols("y ~ x | unit + year", d, vcov=v), {"ssc": "none"}),
    "fepois": (lambda d, v: cp.fepois("y ~ x | unit + year", d, vcov=v), {"ssc": "none"}),
    "fenegbin": (lambda d, v: cp.fenegbin("y ~ x | unit + year", d, vcov=v), "HC0"),
    "febinomial": (lambda d, v: cp.febinomial("deaths ~ x | unit + year", d, vcov=v,
                                              trials="users"), "HC0"),
}


@pytest.mark.parametrize("name", list(HETERO_FITS))
def test_hetero_is_hc1_for_every_estimator(name: str) -> None:
    fit, hc0_how = HETERO_FITS[name]
    df = _count_panel()
    hetero = quiet(fit, df, "hetero")
    hc1 = quiet(fit, df, "HC1")
    if isinstance(hc0_how, dict):  # feols/fepois: HC0 is HC1 without the N/(N-K) factor
        hc0 = quiet(lambda: getattr(cp, name)(
            "y ~ x | unit + year", df, vcov="hetero", **hc0_how))
    else:
        hc0 = quiet(fit, df, hc0_how)
    assert hetero.cov_type == hc1.cov_type == "HC1"
    np.testing.assert_allclose(hetero.cov.to_numpy(), hc1.cov.to_numpy(), rtol=1e-12)
    ratio = float(hetero.cov.iloc[0, 0] / hc0.cov.iloc[0, 0])
    assert ratio > 1.05  # N/(N-K) with 72 rows and 18 parameters


# ------------------------------------------- labels carry a non-default ssc
@pytest.mark.parametrize("ssc", ["stata_xtreg", "stata_areg", "linearmodels", "none"])
def test_label_names_a_non_default_small_sample_convention(panel: pd.DataFrame, ssc: str) -> None:
    default = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV1": "unit"})
    other = quiet(cp.feols, "y ~ x + w | unit + year", panel, vcov={"CRV1": "unit"}, ssc=ssc)
    assert default.cov_type == "CRV1 by unit"
    assert other.cov_type == f"CRV1 by unit ({ssc})"
    # the same label on a re-computed covariance and on Poisson FE
    assert default.with_cov({"CRV1": "unit"}, ssc=ssc).cov_type == f"CRV1 by unit ({ssc})"
    pois = quiet(cp.fepois, "y ~ x | unit", panel.assign(y=(panel["y"] > 0).astype(int)),
                 vcov="hetero", ssc=ssc)
    assert pois.cov_type == f"HC1 ({ssc})"
