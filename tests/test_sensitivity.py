"""Tests of causalpolicing.graph.sensitivity (Cinelli-Hazlett and the E-value).

References and tolerances:

* Published numbers. Darfur (Cinelli & Hazlett 2020, JRSS B 82:39, section 4;
  sensemakr's ``darfur`` example, ``peacefactor ~ directlyharmed + age +
  farmer_dar + herder_dar + pastvoted + hhsize_darfur + female + village``):
  t = 4.18445 on 783 residual degrees of freedom give partial R² 2.19%,
  RV_1 13.88%, RV_{1,0.05} 7.63% (published to 2 decimals of a percent; checked
  to 5e-5). The darfur data are not available offline (not in causaldata or
  statsmodels; PySensemakr is not installed), so the regression itself is not
  rerun: the fit-based statistics are checked against the closed forms
  computed independently in this file from statsmodels OLS (unit and year
  dummies) t statistics and residual degrees of freedom (1e-8).
* E-value (VanderWeele & Ding 2017, Ann Intern Med 167:268): RR 3.9 -> 7.26,
  lower limit 1.8 -> 3.0 (published to 2 decimals; 3.0 is exact).
* The omitted-variable-bias identity: with the confounder's *sample* partial
  R² plugged in, the adjusted estimate of the short fit equals the long fit's
  coefficient (exact algebra; 1e-10), provided the degrees of freedom are net
  of the fixed effects (shown to fail by > 1e-3 with the naive n - k).
* Benchmark bounds: for an omitted confounder z exactly orthogonal (in the
  sample) to the fixed effects and covariates, the bound computed with z's own
  strength relative to x1 (C&H's kd, ky from statsmodels partial R²) equals the
  long regression's coefficient (the bound is tight there; 1e-8), and a bound
  for a confounder half as strong moves the estimate less than omitting z did.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.graph.sensitivity import (
    EValue,
    adjusted_estimate,
    adjusted_se,
    benchmark_bounds,
    evalue,
    evalue_rate_ratio,
    ovb_sensitivity,
    partial_r2,
    robustness_value,
)

pytestmark = pytest.mark.filterwarnings("ignore::causalpolicing.exceptions.FewClustersWarning")


def simulate(seed: int, *, beta: float = 0.5, gz_d: float = 0.6, gz_y: float = 0.6,
             n_units: int = 40, n_t: int = 12) -> pd.DataFrame:
    """Panel with unit and year effects, an observed covariate x1 and a confounder z
    built like x1 (same loadings on d and y when gz_d = 0.6 and gz_y = 0.6)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "year": np.tile(np.arange(n_t), n_units)})
    n = len(df)
    ue = rng.normal(size=n_units)[df["unit"]]
    ye = rng.normal(size=n_t)[df["year"]]
    df["x1"] = rng.normal(size=n) + 0.5 * ue
    df["x2"] = rng.normal(size=n)
    df["z"] = rng.normal(size=n) + 0.5 * ue
    df["d"] = 0.6 * df["x1"] + gz_d * df["z"] + 0.3 * df["x2"] + ue + ye + rng.normal(size=n)
    df["y"] = (beta * df["d"] + 0.6 * df["x1"] + gz_y * df["z"] + 0.2 * df["x2"] + ue - ye
               + rng.normal(size=n))
    return df


# ------------------------------------------------------------ closed forms, written here
def cf_partial_r2(t: float, dof: float) -> float:
    return t**2 / (t**2 + dof)


def cf_rv(t: float, dof: float, q: float = 1.0, alpha: float | None = None) -> float:
    fq = q * abs(t) / np.sqrt(dof)
    if alpha is None:
        return 0.5 * (np.sqrt(fq**4 + 4 * fq**2) - fq**2)
    fc = abs(stats.t.ppf(alpha / 2, dof - 1)) / np.sqrt(dof - 1)
    f = fq - fc
    if f <= 0:
        return 0.0
    if fq > 1 / fc:
        return (fq**2 - fc**2) / (1 + fq**2)
    return 0.5 * (np.sqrt(f**4 + 4 * f**2) - f**2)


def sm_fit(formula: str, df: pd.DataFrame):
    return smf.ols(formula + " + C(unit) + C(year)", df).fit()


# ------------------------------------------------------------------- published
def test_darfur_partial_r2_published():
    assert partial_r2(4.18445, 783) == pytest.approx(0.0219, abs=5e-5)


def test_darfur_robustness_value_published():
    assert robustness_value(4.18445, 783) == pytest.approx(0.1388, abs=5e-5)


def test_darfur_robustness_value_alpha_published():
    assert robustness_value(4.18445, 783, alpha=0.05) == pytest.approx(0.0763, abs=5e-5)


def test_evalue_published_point():
    assert evalue(3.9, 1.8, 8.7).evalue == pytest.approx(7.26, abs=5e-3)


def test_evalue_published_ci_limit():
    assert evalue(3.9, 1.8, 8.7).evalue_ci == pytest.approx(3.0, abs=1e-12)


def test_evalue_protective_ratio_inverts():
    e = evalue(1 / 3.9, 1 / 8.7, 1 / 1.8)
    assert e.evalue == pytest.approx(evalue(3.9).evalue, abs=1e-12)
    assert e.evalue_ci == pytest.approx(3.0, abs=1e-12)


def test_evalue_ci_containing_one_is_one():
    e = evalue(1.3, 0.9, 1.8)
    assert e.evalue_ci == 1.0
    assert e.evalue == pytest.approx(1.3 + np.sqrt(1.3 * 0.3), abs=1e-12)
    assert e.rate_ratio == 1.3 and e.conf_low == 0.9 and e.conf_high == 1.8
    assert "does not" in e.reading and "already includes 1" in e.reading


def test_evalue_without_interval():
    e = evalue(2.0)
    assert e.evalue == pytest.approx(2 + np.sqrt(2), abs=1e-12)
    assert np.isnan(e.evalue_ci) and np.isnan(e.conf_low) and np.isnan(e.conf_high)


@pytest.mark.parametrize("args, match", [
    ((0.0,), "positive"), ((2.0, 1.5), "both"), ((2.0, 2.5, 3.0), "contain"),
], ids=["zero", "one-limit", "outside"])
def test_evalue_errors(args, match):
    with pytest.raises(SpecError, match=match):
        evalue(*args)


def test_evalue_from_poisson_fit():
    panel = cp.datasets.load("simulated_cantons")
    res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    e = evalue_rate_ratio(res, "offences_per_1000", delta=5)
    b = float(res.params["offences_per_1000"])
    lo, hi = res.conf_int().loc["offences_per_1000"]
    ref = evalue(np.exp(5 * b), np.exp(5 * lo), np.exp(5 * hi))
    assert isinstance(e, EValue)
    assert e.evalue == pytest.approx(ref.evalue, abs=1e-12)
    assert e.evalue_ci == pytest.approx(ref.evalue_ci, abs=1e-12)
    assert e.rate_ratio == pytest.approx(np.exp(5 * b), abs=1e-12)


def test_evalue_rejects_linear_fit():
    df = simulate(1)
    with pytest.raises(SpecError, match="log-link"):
        evalue_rate_ratio(cp.feols("y ~ d | unit + year", df), "d")


# ------------------------------------------------------------------- from a fit
@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return simulate(2026)


@pytest.fixture(scope="module")
def fit(sim):
    return cp.feols("y ~ d + x1 + x2 | unit + year", sim, vcov={"CRV1": "unit"})


@pytest.fixture(scope="module")
def sens(fit, sim):
    return ovb_sensitivity(fit, sim, treatment="d", benchmarks=["x1"], kd=[1, 2])


@pytest.fixture(scope="module")
def sm_long(sim):
    return sm_fit("y ~ d + x1 + x2", sim)


def test_classical_t_and_dof_match_statsmodels(sens, sm_long):
    assert sens.dof == sm_long.df_resid
    assert sens.t_value == pytest.approx(float(sm_long.tvalues["d"]), rel=1e-8)
    assert sens.std_error == pytest.approx(float(sm_long.bse["d"]), rel=1e-8)
    assert sens.estimate == pytest.approx(float(sm_long.params["d"]), rel=1e-8)


def test_statistics_match_closed_forms_from_statsmodels(sens, sm_long):
    t, dof = float(sm_long.tvalues["d"]), float(sm_long.df_resid)
    assert sens.partial_r2 == pytest.approx(cf_partial_r2(t, dof), rel=1e-8)
    assert sens.rv_q == pytest.approx(cf_rv(t, dof), rel=1e-8)
    assert sens.rv_qa == pytest.approx(cf_rv(t, dof, alpha=0.05), rel=1e-8)
    assert sens.q == 1.0 and sens.alpha == 0.05 and sens.term == "d"


def test_robustness_value_q_half_matches_closed_form(fit, sm_long):
    s = ovb_sensitivity(fit, treatment="d", q=0.5)
    t, dof = float(sm_long.tvalues["d"]), float(sm_long.df_resid)
    assert s.rv_q == pytest.approx(cf_rv(t, dof, q=0.5), rel=1e-8)
    assert s.rv_qa == pytest.approx(cf_rv(t, dof, q=0.5, alpha=0.05), rel=1e-8)


def test_benchmark_partial_r2_match_statsmodels(sens, sim, sm_long):
    sm_d = sm_fit("d ~ x1 + x2", sim)
    b = sens.benchmarks.set_index("covariate").loc["x1"]
    assert b["r2dxj_x"] == pytest.approx(
        cf_partial_r2(float(sm_d.tvalues["x1"]), float(sm_d.df_resid)), rel=1e-8)
    assert b["r2yxj_dx"] == pytest.approx(
        cf_partial_r2(float(sm_long.tvalues["x1"]), float(sm_long.df_resid)), rel=1e-8)


def test_bounds_table_matches_closed_forms(sens, sim, sm_long):
    sm_d = sm_fit("d ~ x1 + x2", sim)
    rd = cf_partial_r2(float(sm_d.tvalues["x1"]), float(sm_d.df_resid))
    ry = cf_partial_r2(float(sm_long.tvalues["x1"]), float(sm_long.df_resid))
    est, se, dof = float(sm_long.params["d"]), float(sm_long.bse["d"]), float(sm_long.df_resid)
    crit = stats.t.ppf(0.975, dof - 1)
    bounds = sens.bounds
    assert list(bounds["bound"]) == ["1x x1", "2x x1"]
    for i, k in enumerate([1.0, 2.0]):
        r2dz = k * rd / (1 - rd)
        eta = k * rd**2 / ((1 - k * rd) * (1 - rd))
        r2yz = ((np.sqrt(k) + np.sqrt(eta)) / np.sqrt(1 - eta)) ** 2 * ry / (1 - ry)
        bias = se * np.sqrt(dof * r2yz * r2dz / (1 - r2dz))
        new = np.sign(est) * (abs(est) - bias)
        nse = se * np.sqrt((1 - r2yz) / (1 - r2dz) * dof / (dof - 1))
        row = bounds.iloc[i]
        assert row["kd"] == k and row["ky"] == k and row["covariate"] == "x1"
        assert row["r2dz_x"] == pytest.approx(r2dz, rel=1e-8)
        assert row["r2yz_dx"] == pytest.approx(r2yz, rel=1e-8)
        assert row["adjusted_estimate"] == pytest.approx(new, rel=1e-8)
        assert row["adjusted_se"] == pytest.approx(nse, rel=1e-8)
        assert row["adjusted_t"] == pytest.approx(new / nse, rel=1e-8)
        assert row["adjusted_lower"] == pytest.approx(new - crit * nse, rel=1e-8)
        assert row["adjusted_upper"] == pytest.approx(new + crit * nse, rel=1e-8)


def test_adjusted_at_zero_strength_is_the_estimate(sens):
    adj = sens.adjusted(0.0, 0.0).iloc[0]
    assert adj["adjusted_estimate"] == pytest.approx(sens.estimate, abs=1e-15)
    assert adj["adjusted_se"] == pytest.approx(
        sens.std_error * np.sqrt(sens.dof / (sens.dof - 1)), rel=1e-12)


# ------------------------------------------------------ omitted confounder, exact algebra
def _confounder_r2(df: pd.DataFrame) -> tuple[float, float, float, float]:
    """(short estimate, long estimate, sample R2_{D~Z|X}, sample R2_{Y~Z|D,X}) by statsmodels."""
    short = sm_fit("y ~ d + x1 + x2", df)
    long = sm_fit("y ~ d + x1 + x2 + z", df)
    dz = sm_fit("d ~ x1 + x2 + z", df)
    r2dz = cf_partial_r2(float(dz.tvalues["z"]), float(dz.df_resid))
    r2yz = cf_partial_r2(float(long.tvalues["z"]), float(long.df_resid))
    return float(short.params["d"]), float(long.params["d"]), r2dz, r2yz


def test_ovb_identity_recovers_the_long_regression(sim, fit):
    short, long, r2dz, r2yz = _confounder_r2(sim)
    s = ovb_sensitivity(fit, treatment="d")
    adj = float(adjusted_estimate(s.estimate, s.std_error, s.dof, r2dz, r2yz,
                                  reduce=abs(long) < abs(short)))
    assert s.estimate == pytest.approx(short, rel=1e-10)
    assert adj == pytest.approx(long, abs=1e-10)
    # the adjusted standard error is the long regression's classical one
    long_fit = sm_fit("y ~ d + x1 + x2 + z", sim)
    assert float(adjusted_se(s.std_error, s.dof, r2dz, r2yz)) == pytest.approx(
        float(long_fit.bse["d"]), rel=1e-10)


def test_ovb_identity_fails_with_dof_ignoring_fixed_effects(sim, fit):
    short, long, r2dz, r2yz = _confounder_r2(sim)
    s = ovb_sensitivity(fit, treatment="d")
    naive_dof = fit.nobs - 3  # n - k, forgetting the absorbed unit and year effects
    adj = float(adjusted_estimate(s.estimate, s.std_error, naive_dof, r2dz, r2yz,
                                  reduce=abs(long) < abs(short)))
    assert abs(adj - long) > 1e-3


def simulate_orthogonal(seed: int, g: float = 1.0) -> pd.DataFrame:
    """As :func:`simulate` with an omitted z exactly orthogonal, in the sample, to the
    fixed effects, x1 and x2 (the condition under which C&H's benchmark bound is tight)."""
    rng = np.random.default_rng(seed)
    n_units, n_t = 40, 12
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "year": np.tile(np.arange(n_t), n_units)})
    n = len(df)
    ue = rng.normal(size=n_units)[df["unit"]]
    ye = rng.normal(size=n_t)[df["year"]]
    df["x1"] = rng.normal(size=n) + 0.5 * ue
    df["x2"] = rng.normal(size=n)
    noise = rng.normal(size=n)
    z = sm_fit("noise ~ x1 + x2", df.assign(noise=noise)).resid.to_numpy()
    df["z"] = z / z.std()
    df["d"] = 0.6 * df["x1"] + g * df["z"] + 0.3 * df["x2"] + ue + ye + rng.normal(size=n)
    df["y"] = (0.5 * df["d"] + 0.6 * df["x1"] + g * df["z"] + 0.2 * df["x2"] + ue - ye
               + rng.normal(size=n))
    return df


def _strength_relative_to_x1(df: pd.DataFrame) -> tuple[float, float]:
    """C&H's kd and ky of z against x1 (partial R² given x2, and given d and x2 for y)."""
    def pr(formula: str, v: str) -> float:
        f = sm_fit(formula, df)
        return cf_partial_r2(float(f.tvalues[v]), float(f.df_resid))

    kd = pr("d ~ x2 + z", "z") / pr("d ~ x2 + x1", "x1")
    ky = pr("y ~ d + x2 + z", "z") / pr("y ~ d + x2 + x1", "x1")
    return kd, ky


@pytest.mark.parametrize("g", [0.3, 1.0, 1.8], ids=["weak", "medium", "strong"])
def test_benchmark_bound_at_the_confounders_own_strength_is_its_bias(g):
    # leaving out z biases the estimate by exactly what benchmarking z's strength against
    # x1 implies (z orthogonal to the covariates in the sample: the bound is tight)
    df = simulate_orthogonal(5, g)
    short, long, _, _ = _confounder_r2(df)
    kd, ky = _strength_relative_to_x1(df)
    fit = cp.feols("y ~ d + x1 + x2 | unit + year", df)
    s = ovb_sensitivity(fit, df, treatment="d", benchmarks=["x1"], kd=[kd], ky=[ky])
    assert s.bounds.loc[0, "adjusted_estimate"] == pytest.approx(long, rel=1e-8)


def test_half_as_strong_a_benchmark_misses_the_bias():
    # the right direction: a bound for a confounder half as strong as the omitted one
    # moves the estimate less than leaving out the confounder did
    df = simulate_orthogonal(5, 1.0)
    short, long, _, _ = _confounder_r2(df)
    kd, ky = _strength_relative_to_x1(df)
    fit = cp.feols("y ~ d + x1 + x2 | unit + year", df)
    s = ovb_sensitivity(fit, df, treatment="d", benchmarks=["x1"], kd=[kd / 2], ky=[ky / 2])
    assert abs(short - s.bounds.loc[0, "adjusted_estimate"]) < 0.5 * abs(short - long)
    assert short > s.bounds.loc[0, "adjusted_estimate"] > long  # moved toward the truth


def test_confounder_explaining_away_the_effect_exceeds_the_robustness_value():
    # true effect zero: the short estimate is all confounding, so z must be at least as
    # strong as RV_1 in one of the two partial R² (Cinelli & Hazlett, section 4.2)
    df = simulate(11, beta=0.0, gz_d=1.0, gz_y=1.0)
    short, long, r2dz, r2yz = _confounder_r2(df)
    fit = cp.feols("y ~ d + x1 + x2 | unit + year", df)
    s = ovb_sensitivity(fit, treatment="d")
    assert abs(long) < 0.25 * abs(short)
    assert max(r2dz, r2yz) >= s.rv_q


def test_leaving_out_the_confounder_lowers_the_robustness_needed_after_adjusting():
    # with z included the estimate is closer to the truth and the bound by x1 covers it
    df = simulate(3)
    fit_short = cp.feols("y ~ d + x1 + x2 | unit + year", df)
    fit_long = cp.feols("y ~ d + x1 + x2 + z | unit + year", df)
    s_short = ovb_sensitivity(fit_short, treatment="d")
    s_long = ovb_sensitivity(fit_long, treatment="d")
    assert abs(s_long.estimate - 0.5) < abs(s_short.estimate - 0.5)
    assert s_short.estimate > s_long.estimate  # positive confounding inflates the estimate


# ------------------------------------------------------------------- API
def test_summary_row(sens):
    row = sens.summary().iloc[0]
    assert row["term"] == "d" and row["dof"] == sens.dof
    assert row["rv_q"] == sens.rv_q and row["rv_qa"] == sens.rv_qa
    assert row["partial_r2"] == sens.partial_r2
    assert "not whether it exists" in sens.reading


def test_sensitivity_is_immutable(sens):
    with pytest.raises(dataclasses.FrozenInstanceError):
        sens.rv_q = 0.0  # type: ignore[misc]
    b = sens.bounds
    b.loc[0, "adjusted_estimate"] = 99.0
    assert sens.bounds.loc[0, "adjusted_estimate"] != 99.0


@pytest.mark.parametrize("kwargs, match", [
    ({"benchmarks": ["x1"], "data": None}, "need the data"),
    ({"benchmarks": ["unit"]}, "not covariates"),
    ({"benchmarks": ["x1"], "kd": [200]}, "impossible"),
    ({"treatment": "w"}, "not an estimated term"),
    ({"alpha": 2.0}, "alpha"),
], ids=["no-data", "not-covariate", "kd", "treatment", "alpha"])
def test_ovb_sensitivity_errors(kwargs, match, fit, sim):
    kw = {"data": sim, "treatment": "d", **kwargs}
    data = kw.pop("data")
    with pytest.raises(SpecError, match=match):
        ovb_sensitivity(fit, data, **kw)


def test_ovb_sensitivity_rejects_poisson():
    panel = cp.datasets.load("simulated_cantons")
    res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    with pytest.raises(SpecError, match="linear"):
        ovb_sensitivity(res)


def test_benchmark_bounds_vectorised():
    r2dz, r2yz = benchmark_bounds(0.1, 0.2, kd=[1, 2], ky=[1, 3])
    assert r2dz.tolist() == pytest.approx([0.1 / 0.9, 0.2 / 0.9], rel=1e-12)
    eta = np.array([1 * 0.01 / (0.9 * 0.9), 2 * 0.01 / (0.8 * 0.9)])
    expect = ((np.sqrt([1, 3]) + np.sqrt(eta)) / np.sqrt(1 - eta)) ** 2 * 0.25
    assert r2yz.tolist() == pytest.approx(expect.tolist(), rel=1e-12)


def test_robustness_value_zero_when_insignificant():
    assert robustness_value(1.0, 100, alpha=0.05) == 0.0
