"""Tests of the wild cluster bootstrap (causalpolicing.inference.bootstrap).

References
----------
* ``brute``: the definition, run draw by draw in this file: the regression with
  explicit fixed-effect dummies is re-fit on every bootstrap sample
  ``y* = X b + u * v_g`` and its CRV1 t statistic computed. Same draws as ours,
  so bootstrap t statistics must agree to 1e-8 (relative).
* ``wildboottest`` 0.3.2 (``WildboottestCL`` / ``wildboottest``) on a statsmodels
  OLS with the fixed effects as dummies: with full enumeration (Rademacher, 2^G
  below B, both programs enumerate) and with its own draws replayed, the bootstrap
  t statistics agree to 1e-8 and the p-values to 1e-12 once its draws are counted
  under our tie rule (it counts only draws strictly more extreme, so its own p-value
  is ours minus at most ties/B); with independent draws, within 3.5 standard errors
  of the difference of two Monte Carlo p-values, sqrt(2 p (1 - p) / B).
* ``pyfixest`` 0.60 ``Feols.wildboottest`` (slow tests; it passes dummies to wildboottest).
* Size: under a true null the WCR rejection rate at 5% lies within 3 binomial
  standard errors of 0.05.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.core.demean import demean, factorize
from causalpolicing.exceptions import SpecError
from causalpolicing.inference import _wild_engine as bs
from causalpolicing.inference._wild_engine import _wild_core
from causalpolicing.inference.bootstrap import BootstrapResult, wild_bootstrap


# ------------------------------------------------------------------ helpers
def make_panel(n_units: int, n_years: int, seed: int, beta: float = 0.0) -> pd.DataFrame:
    """Units nested in states; sectors cross units; heteroskedastic, clustered errors."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_years),
                       "year": np.tile(np.arange(n_years), n_units)})
    df["state"] = df["unit"] // 2
    df["sector"] = rng.integers(0, 3, size=len(df))
    df["x"] = rng.normal(size=len(df)) + rng.normal(size=n_units)[df["unit"]]
    df["w"] = rng.normal(size=len(df))
    df["z"] = df["x"] + rng.normal(size=len(df))
    df["wt"] = rng.uniform(0.5, 2.0, size=len(df))
    df["y"] = (beta * df["x"] + 0.3 * df["w"] + rng.normal(size=n_units)[df["unit"]]
               + rng.normal(size=n_years)[df["year"]]
               + rng.normal(size=len(df)) * (1 + df["unit"] % 3))
    return df


def fit(df: pd.DataFrame, formula: str, **kw) -> cp.estimators.FEOLSResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.feols(formula, df, **kw)


def within(df: pd.DataFrame, fes: list[str], wcol: str | None = None):
    codes = [factorize(df[f])[0] for f in fes]
    w = None if wcol is None else df[wcol].to_numpy()
    dm, _ = demean(df[["y", "x", "w"]].to_numpy(), codes, w)
    if w is not None:
        dm = dm * np.sqrt(w)[:, None]
    return dm[:, 1:], dm[:, 0], codes


def dummies(df: pd.DataFrame, fes: list[str]) -> np.ndarray:
    cols = [df[["x", "w"]].to_numpy()]
    for i, f in enumerate(fes):
        d = pd.get_dummies(df[f], dtype=float).to_numpy()
        cols.append(d if i == 0 else d[:, 1:])
    return np.column_stack(cols)


def same_count(p1: float, p2: float, t_boot: np.ndarray, t_stat: float, b: int) -> bool:
    """Two p-values from the same draws computed along two paths whose bootstrap
    statistics agree to a relative 1e-8: they may differ only by the draws that lie
    within that tolerance of |t| (the count is usually 0, so usually p1 == p2)."""
    near = int(np.sum(np.isclose(np.abs(t_boot), abs(t_stat), rtol=1e-8, atol=0)))
    return abs(p1 - p2) <= near / b + 1e-12


def brute(xfull, y, cl, v, j, r, impose_null, c):
    """Bootstrap t statistics by re-fitting the dummy regression on every sample."""
    bread = np.linalg.pinv(xfull.T @ xfull)
    bhat = bread @ xfull.T @ y
    if impose_null:
        keep = [i for i in range(xfull.shape[1]) if i != j]
        x1 = xfull[:, keep]
        b1 = np.linalg.lstsq(x1, y - r * xfull[:, j], rcond=None)[0]
        btil = np.insert(b1, j, r)
    else:
        btil = bhat
    util = y - xfull @ btil
    ystar = (xfull @ btil)[:, None] + util[:, None] * v.T[cl]          # n x B
    bstar = bread @ xfull.T @ ystar                                      # k x B
    ustar = ystar - xfull @ bstar
    g = cl.max() + 1
    out = np.empty(v.shape[0])
    for b in range(v.shape[0]):
        scores = np.zeros((g, xfull.shape[1]))
        np.add.at(scores, cl, xfull * ustar[:, b][:, None])
        var = c * (bread @ scores.T @ scores @ bread)[j, j]
        out[b] = (bstar[j, b] - (r if impose_null else bhat[j])) / np.sqrt(var)
    return out


def wbt_model(df: pd.DataFrame, fes: list[str]):
    import statsmodels.api as sm

    xd = pd.DataFrame(dummies(df, fes))
    xd.columns = ["x", "w"] + [f"d{i}" for i in range(xd.shape[1] - 2)]
    return sm.OLS(df["y"].to_numpy(), xd)


@pytest.fixture(scope="module")
def panel10() -> pd.DataFrame:
    return make_panel(10, 8, seed=10, beta=0.0)


@pytest.fixture(scope="module")
def res10(panel10):
    return fit(panel10, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})


# ------------------------------------------------------- exact: brute force
BRUTE_CASES = {
    "WCR-unit+year": (["unit", "year"], "unit", None, True, 0.0),
    "WCU-unit+year": (["unit", "year"], "unit", None, False, 0.0),
    "WCR-r=0.4": (["unit", "year"], "unit", None, True, 0.4),
    "WCR-unit-only": (["unit"], "unit", None, True, 0.0),
    "WCR-year-only": (["year"], "unit", None, True, 0.0),
    "WCR-two-nested-one-crossed": (["unit", "state", "sector"], "state", None, True, 0.0),
    "WCR-weighted": (["unit", "year"], "unit", "wt", True, 0.0),
    "WCU-weighted-r=-0.2": (["unit", "year"], "unit", "wt", False, -0.2),
}


@pytest.mark.parametrize("case", list(BRUTE_CASES), ids=list(BRUTE_CASES))
def test_core_equals_brute_force_dummy_regression(case):
    fes, clname, wcol, imp, r = BRUTE_CASES[case]
    df = make_panel(12, 6, seed=3, beta=0.2)
    x, y, codes = within(df, fes, wcol)
    cl = factorize(df[clname])[0]
    g = cl.max() + 1
    v = np.random.default_rng(5).choice([-1.0, 1.0], size=(60, g))
    sw = None if wcol is None else np.sqrt(df[wcol].to_numpy())
    out = _wild_core(x, y, cl, 0, r=r, impose_null=imp, fe_codes=codes, draws=v, ci=False,
                     sqrt_w=sw, ssc_factor=1.3)
    xf = dummies(df, fes)
    yf = df["y"].to_numpy()
    if sw is not None:
        xf, yf = xf * sw[:, None], yf * sw
    ref = brute(xf, yf, cl, v, 0, r, imp, 1.3)
    np.testing.assert_allclose(out["t_boot"], ref, rtol=1e-8, atol=1e-10)


def test_core_without_fe_correction_differs_when_fe_not_nested():
    df = make_panel(12, 6, seed=3, beta=0.2)
    x, y, codes = within(df, ["unit", "year"])
    cl = factorize(df["unit"])[0]
    v = np.random.default_rng(5).choice([-1.0, 1.0], size=(60, 12))
    exact = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v, ci=False)
    approx = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v, ci=False, fe_correction=False)
    assert np.max(np.abs(exact["t_boot"] - approx["t_boot"])) > 1e-3


def test_core_skips_correction_for_many_crossed_levels(monkeypatch):
    df = make_panel(12, 6, seed=3, beta=0.2)
    x, y, codes = within(df, ["unit", "year"])
    cl = factorize(df["unit"])[0]
    v = np.random.default_rng(5).choice([-1.0, 1.0], size=(60, 12))
    monkeypatch.setattr(bs, "MAX_CROSSED_LEVELS", 5)
    out = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v, ci=False)
    approx = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v, ci=False, fe_correction=False)
    np.testing.assert_array_equal(out["t_boot"], approx["t_boot"])
    assert out["notes"] == ["The fixed effects not nested in the clusters have 6 levels (more "
                            "than 5): the bootstrap ran on the within-transformed data without "
                            "re-absorbing them in each draw (module notes)."]


def test_core_chunking_does_not_change_statistics(monkeypatch):
    df = make_panel(12, 6, seed=4)
    x, y, codes = within(df, ["unit", "year"])
    cl = factorize(df["unit"])[0]
    v = np.random.default_rng(6).choice([-1.0, 1.0], size=(500, 12))
    whole = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v)
    monkeypatch.setattr(bs, "CHUNK_ELEMENTS", 12 * 7)
    chunked = _wild_core(x, y, cl, 0, fe_codes=codes, draws=v)
    np.testing.assert_allclose(chunked["t_boot"], whole["t_boot"], rtol=1e-12)
    # same draws, same code, only the chunking differs: the tie rule makes the count robust
    assert same_count(chunked["p_value"], whole["p_value"], whole["t_boot"], whole["t_stat"],
                      len(whole["t_boot"]))
    np.testing.assert_allclose(chunked["conf_int"], whole["conf_int"], rtol=1e-9)


# ------------------------------------------------------- the results interface
def test_wild_bootstrap_equals_core_on_within_arrays(panel10, res10):
    boot = wild_bootstrap(res10, "x", reps=500, weights="webb", seed=11)
    x, y, codes = within(panel10, ["unit", "year"])
    core = _wild_core(x, y, factorize(panel10["unit"])[0], 0, reps=500, weights="webb",
                      seed=11, fe_codes=codes)
    # the core's default small-sample factor differs from the fit's: t scale only
    np.testing.assert_allclose(boot.t_boot / boot.t_stat, core["t_boot"] / core["t_stat"],
                               rtol=1e-8)
    assert same_count(boot.p_value, core["p_value"], boot.t_boot, boot.t_stat, 500)
    np.testing.assert_allclose(boot.conf_int, core["conf_int"], rtol=1e-7)


@pytest.mark.parametrize("ssc", ["fixest", "stata_xtreg", "stata_areg", "linearmodels", "none"])
def test_t_stat_and_se_equal_crv1_of_the_fit(panel10, ssc):
    res = fit(panel10, "y ~ x + w | unit + year", vcov={"CRV1": "unit"}, ssc=ssc)
    boot = wild_bootstrap(res, "w", reps=99, seed=1, conf_int=False)
    assert boot.t_stat == pytest.approx(float(res.tstats["w"]), rel=1e-10)
    assert boot.std_error == pytest.approx(float(res.std_errors["w"]), rel=1e-10)
    assert boot.estimate == pytest.approx(float(res.params["w"]), rel=1e-12)


def test_t_stat_is_crv1_when_fit_used_crv3(panel10):
    res = fit(panel10, "y ~ x + w | unit + year", vcov={"CRV3": "unit"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crv1 = res.with_cov({"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=99, seed=1, conf_int=False)
    assert boot.cluster == "unit"
    assert boot.t_stat == pytest.approx(float(crv1.tstats["x"]), rel=1e-10)


def test_t_stat_against_r(res10):
    boot = wild_bootstrap(res10, "x", reps=99, seed=1, conf_int=False, null=0.5)
    expected = (float(res10.params["x"]) - 0.5) / float(res10.std_errors["x"])
    assert boot.t_stat == pytest.approx(expected, rel=1e-10)
    assert boot.null == 0.5


def test_all_fields_of_the_result(res10):
    boot = wild_bootstrap(res10, "x", reps=1024, seed=2, level=0.9)
    assert boot.param == "x"
    assert boot.estimate == pytest.approx(float(res10.params["x"]))
    assert boot.std_error == pytest.approx(float(res10.std_errors["x"]))
    assert boot.null == 0.0
    assert boot.t_stat == pytest.approx(float(res10.tstats["x"]))
    assert 0.0 <= boot.p_value <= 1.0
    assert boot.conf_int[0] < boot.estimate < boot.conf_int[1]
    assert boot.level == 0.9
    assert boot.reps == 1024
    assert boot.weights == "rademacher"
    assert boot.impose_null is True
    assert boot.n_clusters == 10
    assert boot.enumerated is True
    assert boot.seed == 2
    assert boot.cluster == "unit"
    assert boot.p_type == "symmetric"
    assert boot.notes[0].startswith("Full enumeration: all 2^10 = 1024")
    assert boot.notes[1].startswith("Only 1024 distinct Rademacher draws")
    assert len(boot.notes) == 2
    assert boot.t_boot.shape == (1024,)
    assert not boot.t_boot.flags.writeable


def test_result_is_frozen(res10):
    boot = wild_bootstrap(res10, "x", reps=99, seed=2, conf_int=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        boot.p_value = 0.0  # type: ignore[misc]


def test_tidy_row(res10):
    boot = wild_bootstrap(res10, "x", reps=199, seed=2, weights="webb")
    tidy = boot.tidy()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value",
                                  "conf_low", "conf_high"]
    row = tidy.iloc[0]
    assert (row["term"], row["estimate"], row["std_error"], row["statistic"], row["p_value"],
            row["conf_low"], row["conf_high"]) == (
        "x", boot.estimate, boot.std_error, boot.t_stat, boot.p_value, *boot.conf_int)
    assert len(tidy) == 1


def test_repr_names_method_and_numbers(res10):
    boot = wild_bootstrap(res10, "x", reps=199, seed=2, weights="webb", impose_null=False)
    text = repr(boot)
    assert text.startswith("<BootstrapResult WCU webb, 10 clusters, 199 draws: x = ")
    assert f"p (symmetric, H0: x = 0) = {boot.p_value:.4f}" in text
    assert "95% CI [" in text


def test_repr_without_ci(res10):
    boot = wild_bootstrap(res10, "x", reps=99, seed=2, conf_int=False)
    assert repr(boot).endswith("no CI>")
    assert np.isnan(boot.conf_int).all()


# ------------------------------------------------------------- determinism
@pytest.mark.parametrize("weights", ["rademacher", "webb", "mammen"])
def test_same_seed_same_result(res10, weights):
    a = wild_bootstrap(res10, "x", reps=300, weights=weights, seed=42)
    b = wild_bootstrap(res10, "x", reps=300, weights=weights, seed=42)
    assert a == b
    np.testing.assert_array_equal(a.t_boot, b.t_boot)


@pytest.mark.parametrize("weights", ["rademacher", "webb", "mammen"])
def test_other_seed_other_draws(res10, weights):
    a = wild_bootstrap(res10, "x", reps=300, weights=weights, seed=42, conf_int=False)
    b = wild_bootstrap(res10, "x", reps=300, weights=weights, seed=43, conf_int=False)
    assert not np.array_equal(a.t_boot, b.t_boot)


def test_progress_bar_gives_same_result(res10):
    a = wild_bootstrap(res10, "x", reps=300, weights="webb", seed=42, progress=True)
    b = wild_bootstrap(res10, "x", reps=300, weights="webb", seed=42)
    assert a == b


# ------------------------------------------------------------- weights, draws
@pytest.mark.parametrize(
    ("weights", "support"),
    [("rademacher", [-1.0, 1.0]),
     ("webb", sorted([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])),
     ("mammen", [-(np.sqrt(5) - 1) / 2, (np.sqrt(5) + 1) / 2])],
    ids=["rademacher", "webb", "mammen"])
def test_draws_have_mean_zero_variance_one(weights, support):
    v = bs._draw(np.random.default_rng(0), weights, 4000, 50)
    np.testing.assert_allclose(np.unique(v), support, rtol=1e-12)
    # mean 0 and variance 1 within 5 standard errors of 200,000 draws
    assert abs(v.mean()) < 5 * v.std() / np.sqrt(v.size)
    assert abs(np.mean(v**2) - 1) <= 5 * np.sqrt(np.var(v**2) / v.size) + 1e-12


def test_enumeration_lists_every_sign_vector_once():
    v = bs._enumerate(0, 2**6, 6)
    assert v.shape == (64, 6)
    assert len({tuple(row) for row in v}) == 64
    assert set(np.unique(v)) == {-1.0, 1.0}


@pytest.mark.parametrize(("reps", "weights", "enumerated", "used"),
                         [(1024, "rademacher", True, 1024), (1023, "rademacher", False, 1023),
                          (9999, "rademacher", True, 1024), (9999, "webb", False, 9999)],
                         ids=["2^G=reps", "2^G>reps", "2^G<reps", "webb-never"])
def test_full_enumeration_rule(res10, reps, weights, enumerated, used):
    boot = wild_bootstrap(res10, "x", reps=reps, weights=weights, seed=1, conf_int=False)
    assert boot.enumerated is enumerated
    assert boot.reps == used
    assert any(n.startswith("Full enumeration") for n in boot.notes) is enumerated


def test_enumeration_does_not_depend_on_seed(res10):
    a = wild_bootstrap(res10, "x", reps=9999, seed=1)
    b = wild_bootstrap(res10, "x", reps=9999, seed=2)
    assert (a.p_value, a.conf_int) == (b.p_value, b.conf_int)


# ------------------------------------------------------- against wildboottest
def _wbt_enumerated(df: pd.DataFrame, fes: list[str], impose_null: bool, weights: str = "rademacher",
                    b: int = 9999, seed: int = 1):
    """wildboottest's own bootstrap (``WildboottestCL``), returning the object after get_pvalue."""
    from wildboottest.wildboottest import WildboottestCL

    model = wbt_model(df, fes)
    big_r = np.zeros(model.exog.shape[1])
    big_r[0] = 1.0
    wb = WildboottestCL(X=model.exog, Y=model.endog, cluster=df["unit"].to_numpy(), R=big_r,
                        B=b, seed=seed, parallel=False)
    wb.get_scores(bootstrap_type="11", impose_null=impose_null)
    wb.get_weights(weights_type=weights)
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue()
    return wb


def _ties_counted(t_boot: np.ndarray, t_stat: float, p_type: str = "symmetric"
                  ) -> tuple[float, int]:
    """A reference p-value with ties counted, written independently of the package:
    draws within a relative 1e-9 of the observed statistic count as ties. Returns the
    p-value and the number of ties."""
    tb = np.ravel(t_boot)
    if p_type == "symmetric":
        tie = np.isclose(np.abs(tb), abs(t_stat), rtol=1e-9, atol=0)
        return float(np.mean((np.abs(tb) > abs(t_stat)) | tie)), int(tie.sum())
    tie = np.isclose(tb, t_stat, rtol=1e-9, atol=0)
    lo = np.mean((tb < t_stat) | tie)
    hi = np.mean((tb > t_stat) | tie)
    return float(min(1.0, 2 * min(lo, hi))), int(tie.sum())


@pytest.mark.parametrize("impose_null", [True, False], ids=["WCR", "WCU"])
def test_enumeration_matches_wildboottest_with_ties_counted(panel10, res10, impose_null):
    # wildboottest counts only draws strictly more extreme, so whether the identity
    # draw and its mirror (WCR: |t*| = |t| in exact arithmetic) count depends on the
    # last bit. Compare with its own draws re-counted under our tie rule, to a tolerance,
    # and check that its strict p-value lies at most (number of ties)/B below ours.
    wb = _wbt_enumerated(panel10, ["unit", "year"], impose_null)
    assert np.ravel(wb.t_boot).size == 1024  # it enumerated too
    boot = wild_bootstrap(res10, "x", reps=9999, impose_null=impose_null, conf_int=False)
    assert boot.enumerated
    ref, ties = _ties_counted(wb.t_boot, float(np.ravel(wb.t_stat)[0]))
    assert ties == (2 if impose_null else 0)
    assert boot.p_value == pytest.approx(ref, abs=1e-12)
    assert wb.pvalue - 1e-12 <= boot.p_value <= wb.pvalue + ties / boot.reps + 1e-12


def test_replayed_wildboottest_draws_give_identical_statistics():
    df = make_panel(20, 6, seed=20, beta=0.1)
    wb = _wbt_enumerated(df, ["unit", "year"], True, weights="webb", b=999, seed=7)
    x, y, codes = within(df, ["unit", "year"])
    out = _wild_core(x, y, factorize(df["unit"])[0], 0, fe_codes=codes, draws=wb.v.T,
                     ci=False, ssc_factor=wb.ssc)
    t_stat = float(np.ravel(wb.t_stat)[0])
    np.testing.assert_allclose(out["t_boot"], np.ravel(wb.t_boot), rtol=1e-8)
    assert out["t_stat"] == pytest.approx(t_stat, rel=1e-10)
    # p-values: same draws, same tie rule -> same count (tolerance, not ==, across programs)
    ref, ties = _ties_counted(wb.t_boot, t_stat)
    assert out["p_value"] == pytest.approx(ref, abs=1e-12)
    assert wb.pvalue - 1e-12 <= out["p_value"] <= wb.pvalue + ties / 999 + 1e-12
    wb.get_pvalue(pval_type="equal-tailed")
    et = _wild_core(x, y, factorize(df["unit"])[0], 0, fe_codes=codes, draws=wb.v.T,
                    ci=False, ssc_factor=wb.ssc, p_type="equal-tailed")
    ref, ties = _ties_counted(wb.t_boot, t_stat, "equal-tailed")
    assert et["p_value"] == pytest.approx(ref, abs=1e-12)
    assert wb.pvalue - 1e-12 <= et["p_value"] <= wb.pvalue + 2 * ties / 999 + 1e-12


# ------------------------------------------------------------------ ties
def _three_clusters(seed: int = 3) -> pd.DataFrame:
    df = make_panel(3, 12, seed=seed, beta=5.0)
    df["y"] = df["y"] + 5.0 * df["x"]  # a strong effect: the observed |t| is the largest
    return df


def test_three_clusters_full_enumeration_p_is_at_least_two_over_eight():
    df = _three_clusters()
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=999, impose_null=True, conf_int=False)
    assert boot.enumerated and boot.reps == 8
    # the identity draw and its mirror reproduce |t|: they always count
    assert boot.p_value >= 2 / 8 - 1e-12
    eq = wild_bootstrap(res, "x", reps=999, impose_null=True, conf_int=False, p_type="equal-tailed")
    assert eq.p_value >= 2 / 8 - 1e-12


@pytest.mark.parametrize("p_type", ["symmetric", "equal-tailed"])
def test_a_tie_one_ulp_away_counts_either_way(p_type):
    rng = np.random.default_rng(5)
    tb = rng.normal(size=(1, 200))
    t = 1.3
    tb[0, :3] = [t, -t, t]
    base = bs._pvalues(tb, np.array([t]), p_type)[0]
    up = bs._pvalues(tb, np.array([np.nextafter(t, np.inf)]), p_type)[0]
    down = bs._pvalues(tb, np.array([np.nextafter(t, -np.inf)]), p_type)[0]
    moved = tb.copy()
    moved[0, :3] = np.nextafter(moved[0, :3], np.inf)
    assert up == base == down == bs._pvalues(moved, np.array([t]), p_type)[0]
    strict = (np.mean(np.abs(tb) > t) if p_type == "symmetric"
              else 2 * min(np.mean(tb < t), np.mean(tb > t)))
    assert base > strict  # the ties are in


def test_ci_inversion_uses_the_tie_rule():
    # With 3 clusters every WCR p-value is at least 2/8 (the identity draw and its mirror
    # tie |t| at every null value), so a 90% set (alpha = 0.1 < 2/8) excludes nothing:
    # unbounded on both sides. Before ties counted, it was a few standard errors wide.
    df = _three_clusters()
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=999, impose_null=True, level=0.9)
    assert boot.conf_int == (-np.inf, np.inf)
    assert sum("unbounded" in n for n in boot.notes) == 2


def _mc_close(p1: float, p2: float, b: int, k: float = 3.5) -> bool:
    p = (p1 + p2) / 2
    se = np.sqrt(max(2 * p * (1 - p) / b, 1 / b**2))
    return abs(p1 - p2) <= k * se


def test_random_draws_match_wildboottest_within_monte_carlo_error():
    from wildboottest.wildboottest import wildboottest

    df = make_panel(20, 6, seed=21, beta=0.15)
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(wbt_model(df, ["unit", "year"]), B=9999, cluster=df["unit"].to_numpy(),
                           param="x", weights_type="webb", seed=3, show=False, parallel=False)
    boot = wild_bootstrap(res, "x", reps=9999, weights="webb", seed=3, conf_int=False)
    assert _mc_close(boot.p_value, float(ref["p-value"].iloc[0]), 9999)


SLOW_GRID = [(imp, wt, fes) for imp in (True, False) for wt in ("rademacher", "webb")
             for fes in (("unit",), ("unit", "year"))]


@pytest.mark.slow
@pytest.mark.parametrize(("impose_null", "weights", "fes"), SLOW_GRID,
                         ids=[f"{'WCR' if i else 'WCU'}-{w}-{'+'.join(f)}" for i, w, f in SLOW_GRID])
def test_slow_wildboottest_grid_within_monte_carlo_error(impose_null, weights, fes):
    from wildboottest.wildboottest import wildboottest

    df = make_panel(20, 6, seed=30, beta=0.1)
    res = fit(df, f"y ~ x + w | {' + '.join(fes)}", vcov={"CRV1": "unit"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(wbt_model(df, list(fes)), B=9999, cluster=df["unit"].to_numpy(),
                           param="x", weights_type=weights, impose_null=impose_null, seed=4,
                           show=False, parallel=False)
    boot = wild_bootstrap(res, "x", reps=9999, weights=weights, impose_null=impose_null,
                          seed=4, conf_int=False)
    assert _mc_close(boot.p_value, float(ref["p-value"].iloc[0]), 9999)


@pytest.mark.slow
@pytest.mark.parametrize("impose_null", [True, False], ids=["WCR", "WCU"])
def test_slow_enumeration_matches_pyfixest_up_to_ties(panel10, res10, impose_null):
    import pyfixest as pf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pfit = pf.feols("y ~ x + w | unit + year", panel10, vcov={"CRV1": "unit"})
        ref = pfit.wildboottest(param="x", reps=9999, impose_null=impose_null, seed=1)
    boot = wild_bootstrap(res10, "x", reps=9999, impose_null=impose_null, conf_int=False)
    # Under WCR the sign vectors +1 and -1 reproduce |t| exactly; we count such ties,
    # pyfixest (wildboottest) counts only strictly larger draws, so whether they count
    # there depends on rounding: its p-value is ours minus 0..ties/B.
    ties = int(np.sum(np.isclose(np.abs(boot.t_boot), abs(boot.t_stat), rtol=1e-9, atol=0)))
    assert ties == (2 if impose_null else 0)
    theirs = float(ref["Pr(>|t|)"])
    assert boot.p_value - ties / boot.reps - 1e-12 <= theirs <= boot.p_value + 1e-12


# ------------------------------------------------------ confidence intervals
CI_CASES = [(imp, pt) for imp in (True, False) for pt in ("symmetric", "equal-tailed")]


@pytest.mark.parametrize(("impose_null", "p_type"), CI_CASES,
                         ids=[f"{'WCR' if i else 'WCU'}-{p}" for i, p in CI_CASES])
def test_ci_endpoints_are_where_the_p_value_crosses_alpha(impose_null, p_type):
    df = make_panel(14, 6, seed=40, beta=0.3)
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    kw = {"reps": 999, "weights": "webb", "seed": 8, "impose_null": impose_null,
          "p_type": p_type}
    boot = wild_bootstrap(res, "x", **kw)
    lo, hi = boot.conf_int
    assert lo < boot.estimate < hi
    eps = 1e-6 * boot.std_error
    # direct re-runs with the null moved just inside / outside each endpoint
    p_in = [wild_bootstrap(res, "x", null=e, conf_int=False, **kw).p_value
            for e in (lo + eps, hi - eps)]
    p_out = [wild_bootstrap(res, "x", null=e, conf_int=False, **kw).p_value
             for e in (lo - eps, hi + eps)]
    assert min(p_in) >= 0.05
    assert max(p_out) < 0.05
    # and the p-value there is 0.05 up to the resolution 1/B of the bootstrap
    assert max(abs(p - 0.05) for p in p_in + p_out) <= 2 / 999


def test_ci_of_wcu_is_estimate_plus_minus_bootstrap_quantile_times_se(res10):
    boot = wild_bootstrap(res10, "x", reps=999, weights="webb", seed=3, impose_null=False)
    lo, hi = boot.conf_int
    assert (boot.estimate - lo) == pytest.approx(hi - boot.estimate, rel=1e-8)
    half = (hi - lo) / 2 / boot.std_error
    share = np.mean(np.abs(boot.t_boot) > half * (1 + 1e-6))
    assert share < 0.05 <= np.mean(np.abs(boot.t_boot) > half * (1 - 1e-6))


def test_ci_level_orders_intervals(res10):
    b90 = wild_bootstrap(res10, "x", reps=999, weights="webb", seed=3, level=0.9)
    b99 = wild_bootstrap(res10, "x", reps=999, weights="webb", seed=3, level=0.99)
    assert b99.conf_int[0] < b90.conf_int[0] < b90.conf_int[1] < b99.conf_int[1]


# ------------------------------------------------------------------- size
def _size(n_sim: int, g: int, reps: int, weights: str, seed: int) -> tuple[np.ndarray, ...]:
    """Bootstrap and CRV1 t-test p-values under a true null (beta = 0).

    Unequal cluster sizes (5 to 20), a skewed cluster-level regressor
    (exponential) and random cluster effects: the design where CRV1 t tests with
    G - 1 degrees of freedom over-reject (about 13% at 5% with 12 clusters).
    """
    from scipy import stats

    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(g), np.arange(g) % 4 * 5 + 5)
    n = len(cl)
    p_boot, p_crv1 = np.empty(n_sim), np.empty(n_sim)
    for s in range(n_sim):
        x = rng.exponential(size=g)[cl] + 0.5 * rng.normal(size=n)
        u = rng.normal(size=g)[cl] + rng.normal(size=n)
        out = _wild_core(np.column_stack([np.ones(n), x]), u, cl, 1, reps=reps,
                         weights=weights, seed=int(rng.integers(2**31)), ci=False)
        p_boot[s] = out["p_value"]
        p_crv1[s] = 2 * stats.t(g - 1).sf(abs(out["t_stat"]))
    return p_boot, p_crv1


SIZE_SIMS = 400
SIZE_BAND = 3 * np.sqrt(0.05 * 0.95 / SIZE_SIMS)  # 0.033


def test_wcr_size_under_the_null():
    p_boot, _ = _size(SIZE_SIMS, 12, 199, "webb", seed=50)
    assert abs(float(np.mean(p_boot <= 0.05)) - 0.05) <= SIZE_BAND


def test_size_design_makes_the_crv1_t_test_over_reject():
    # the check above can fail: the CRV1 t test on the same samples is outside the band
    _, p_crv1 = _size(SIZE_SIMS, 12, 199, "webb", seed=50)
    assert float(np.mean(p_crv1 <= 0.05)) > 0.05 + SIZE_BAND


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["webb", "rademacher"])
def test_slow_wcr_size_and_uniformity(weights):
    n_sim = 2000
    p_boot, _ = _size(n_sim, 12, 399, weights, seed=51)
    for alpha in (0.05, 0.10):
        rate = float(np.mean(p_boot <= alpha))
        assert abs(rate - alpha) <= 3 * np.sqrt(alpha * (1 - alpha) / n_sim)


# ------------------------------------------------------------- clusters & data
def test_cluster_argument_uses_another_column_kept_by_the_fit():
    df = make_panel(20, 6, seed=60)
    res = fit(df, "y ~ x + w | state + year", vcov={"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=199, seed=1, cluster="state", conf_int=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crv1 = res.with_cov({"CRV1": "state"})
    assert boot.cluster == "state"
    assert boot.n_clusters == 10
    assert boot.t_stat == pytest.approx(float(crv1.tstats["x"]), rel=1e-10)


def test_cluster_from_data_for_an_unstored_column():
    df = make_panel(20, 6, seed=61)
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=199, seed=1, cluster="state", data=df, conf_int=False)
    assert boot.n_clusters == 10


def test_weighted_fit_without_data_notes_the_approximation():
    df = make_panel(12, 6, seed=62)
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit"}, weights="wt")
    boot = wild_bootstrap(res, "x", reps=199, seed=1, conf_int=False)
    assert any("within-transformed data" in n for n in boot.notes)
    exact = wild_bootstrap(res, "x", reps=199, seed=1, conf_int=False, data=df)
    assert not any("within-transformed data" in n for n in exact.notes)
    x, y, codes = within(df, ["unit", "year"], "wt")
    core = _wild_core(x, y, factorize(df["unit"])[0], 0, reps=199, seed=1, fe_codes=codes,
                      sqrt_w=np.sqrt(df["wt"].to_numpy()), ci=False)
    np.testing.assert_allclose(exact.t_boot / exact.t_stat, core["t_boot"] / core["t_stat"],
                               rtol=1e-8)
    assert same_count(exact.p_value, core["p_value"], exact.t_boot, exact.t_stat, 199)


def test_no_fixed_effects_model_with_intercept():
    df = make_panel(15, 6, seed=63)
    res = fit(df, "y ~ x + w", vcov={"CRV1": "unit"})
    boot = wild_bootstrap(res, "x", reps=199, seed=1)
    assert boot.t_stat == pytest.approx(float(res.tstats["x"]), rel=1e-10)
    assert boot.conf_int[0] < boot.estimate < boot.conf_int[1]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"param": "nope"}, "param must be one of the model's coefficients"),
     ({"reps": 0}, "reps must be a positive integer"),
     ({"reps": 99.5}, "reps must be a positive integer"),
     ({"weights": "normal"}, "weights must be one of"),
     ({"level": 95}, "level must be a number strictly between 0 and 1"),
     ({"null": float("nan")}, "null \\(the value under the null hypothesis\\) must be a finite"),
     ({"p_type": "two-tailed"}, "p_type must be one of"),
     ({"impose_null": "yes"}, "impose_null must be True or False"),
     ({"conf_int": 1}, "conf_int must be True or False"),
     ({"seed": 1.5}, "seed must be an integer or None"),
     ({"cluster": ["unit", "year"]}, "cluster must be one column name"),
     ({"cluster": "state"}, "The fit did not store column 'state'")],
    ids=["param", "reps-zero", "reps-float", "weights", "level", "null-nan", "p_type",
         "impose_null", "conf_int", "seed", "cluster-list", "cluster-unstored"])
def test_invalid_options_raise(res10, kwargs, match):
    args = {"param": "x", **kwargs}
    with pytest.raises(SpecError, match=match):
        wild_bootstrap(res10, args.pop("param"), **args)


def test_iv_fit_is_refused_with_the_alternative():
    df = make_panel(20, 6, seed=70)
    res = fit(df, "y ~ w | unit | x ~ z", vcov={"CRV1": "unit"})
    with pytest.raises(SpecError, match=r"not for IV.*CRV3"):
        wild_bootstrap(res, "x")


def test_two_way_clustered_fit_needs_a_cluster():
    df = make_panel(20, 6, seed=71)
    res = fit(df, "y ~ x + w | unit + year", vcov={"CRV1": "unit+year"})
    with pytest.raises(SpecError, match="clustered two-way"):
        wild_bootstrap(res, "x")


def test_unclustered_fit_needs_a_cluster():
    df = make_panel(20, 6, seed=72)
    res = fit(df, "y ~ x + w | unit + year", vcov="iid")
    with pytest.raises(SpecError, match="not clustered"):
        wild_bootstrap(res, "x")


def test_not_a_feols_result_is_refused():
    with pytest.raises(SpecError, match="FEOLSResults"):
        wild_bootstrap(object(), "x")


def test_result_type_is_exported():
    assert cp.inference.wild_bootstrap is wild_bootstrap
    assert BootstrapResult.__dataclass_params__.frozen
