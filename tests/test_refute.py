"""Tests of the panel refuters (causalpolicing.graph.refuters).

References and tolerances:

* the vectorised placebo estimates (one within transformation of all draws,
  Frisch-Waugh-Lovell) against refitting ``cp.feols`` on a frame with the
  placebo column, draw by draw: 1e-10 absolute (both demean to 1e-12; observed
  agreement ~1e-15);
* leave-one-unit-out, random-subset and random-common-cause re-estimates
  against ``cp.feols`` refits: 1e-10;
* lead and placebo-outcome refuters against ``cp.feols`` with the lead built
  by ``pandas.groupby().shift()``: 1e-12 (the same fit);
* placebo draws centre on zero: within 4 Monte Carlo standard errors;
* permutation p-values under the null: uniform by a Kolmogorov-Smirnov test
  (fast: 40 replications; slow: 1,000) on a design where the treatment is
  exchangeable across units within periods (what makes the permutation test
  exact).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.graph.refuters import (
    DEFAULT_METHODS,
    REFUTERS,
    RefutationResult,
    RefutationSuite,
    leave_one_unit_out,
    placebo_lead,
    placebo_outcome,
    placebo_permutation,
    placebo_time_shift,
    random_common_cause,
    random_unit_subsets,
    refute,
)
from causalpolicing.graph.refuters._common import permutation_pvalue, rank_pvalue
from causalpolicing.graph.refuters._model import PanelModel, spawn_rngs
from causalpolicing.graph.refuters.placebo import lead_values, placebo_indices

pytestmark = pytest.mark.filterwarnings("ignore::causalpolicing.exceptions.FewClustersWarning")

FORMULA = "deaths ~ offences_per_1000 + unemployment | canton + year"
TREAT = "offences_per_1000"
EXACT = 1e-10


@pytest.fixture(scope="module")
def panel() -> cp.Panel:
    return cp.datasets.load("simulated_cantons")


@pytest.fixture(scope="module")
def frame(panel: cp.Panel) -> pd.DataFrame:
    return panel.to_frame()


@pytest.fixture(scope="module")
def res(panel: cp.Panel):
    return cp.feols(FORMULA, panel)


@pytest.fixture(scope="module")
def model(res, panel: cp.Panel) -> PanelModel:
    return PanelModel(res, panel)


def _refit(frame: pd.DataFrame, model: PanelModel, values: np.ndarray, formula: str = FORMULA,
           **kw) -> float:
    f = frame.copy()
    col = f[TREAT].to_numpy(dtype=float).copy()
    col[model.positions] = values
    f[TREAT] = col
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cp.feols(formula, f, vcov="iid", **kw).params[TREAT])


# ------------------------------------------------------------- vectorised = refit
@pytest.mark.parametrize("kind", ["permute", "rotate", "blocks"])
def test_vectorised_placebo_equals_feols_refit(kind, model, frame):
    rng = np.random.default_rng(11)
    idx = placebo_indices(model, kind, rng, 4)
    tv = model.treatment_values()
    fast = model.placebo_betas(tv[idx])
    for r in range(4):
        assert abs(fast[r] - _refit(frame, model, tv[idx[:, r]])) < EXACT


def test_permuting_the_demeaned_treatment_would_be_wrong(model, frame):
    # the within transformation of a permuted treatment is not the permutation of the
    # within-transformed treatment: the shortcut gives different estimates
    idx = placebo_indices(model, "permute", np.random.default_rng(12), 3)
    tv = model.treatment_values()
    wc = model.within()
    t_dm = model._demean(tv[:, None], wc["fe"], None)[:, 0]
    p = model._partial(t_dm[idx])
    naive = (p.T @ wc["y_res"]) / np.einsum("ij,ij->j", p, p)
    refit = [_refit(frame, model, tv[idx[:, r]]) for r in range(3)]
    assert np.max(np.abs(naive - np.array(refit))) > 1e-3


def test_vectorised_placebo_equals_refit_weighted_unbalanced(frame):
    rng = np.random.default_rng(5)
    df = frame.loc[rng.random(len(frame)) > 0.15].reset_index(drop=True)
    res_w = cp.feols(FORMULA, df, vcov={"CRV1": "canton"}, weights="population")
    m = PanelModel(res_w, df, unit="canton", time="year")
    idx = placebo_indices(m, "permute", np.random.default_rng(6), 3)
    tv = m.treatment_values()
    fast = m.placebo_betas(tv[idx])
    for r in range(3):
        assert abs(fast[r] - _refit(df, m, tv[idx[:, r]], weights="population")) < EXACT


def test_vectorised_placebo_equals_refit_without_covariates(panel, frame):
    formula = "deaths ~ offences_per_1000 | canton + year"
    m = PanelModel(cp.feols(formula, panel), panel)
    idx = placebo_indices(m, "permute", np.random.default_rng(8), 3)
    tv = m.treatment_values()
    fast = m.placebo_betas(tv[idx])
    for r in range(3):
        assert abs(fast[r] - _refit(frame, m, tv[idx[:, r]], formula)) < EXACT


def test_model_reproduces_the_estimate(model, res):
    assert abs(model.within()["beta"] - float(res.params[TREAT])) < EXACT


def test_refuter_uses_the_vectorised_draws(res, panel, model):
    out = placebo_permutation(res, panel, reps=6, seed=42)
    _, rngs = spawn_rngs(42, [0])
    idx = placebo_indices(model, "permute", rngs[0], 6)
    np.testing.assert_allclose(out.draws, model.placebo_betas(model.treatment_values()[idx]),
                               rtol=0, atol=1e-14)
    assert out.details["seed"] == 42


# ------------------------------------------------------------------ the draws
def test_permutation_keeps_each_period_values(model):
    idx = placebo_indices(model, "permute", np.random.default_rng(1), 20)
    tv = model.treatment_values()
    tc = model.time_codes
    for r in range(20):
        for t in (0, 16, 32):
            rows = np.flatnonzero(tc == t)
            assert np.array_equal(np.sort(tv[idx[rows, r]]), np.sort(tv[rows]))
            assert set(idx[rows, r]) == set(rows)
    assert (idx != np.arange(model.n)[:, None]).mean() > 0.9


def test_rotation_keeps_each_unit_series_and_shifts_it(model):
    idx = placebo_indices(model, "rotate", np.random.default_rng(2), 10, min_shift=3)
    uc, tc = model.unit_codes, model.time_codes
    for r in range(10):
        for u in (0, 7, 25):
            rows = np.flatnonzero(uc == u)
            src = idx[rows, r]
            assert set(src) == set(rows)
            shift = (tc[src] - tc[rows]) % 33
            assert len(set(shift)) == 1 and 3 <= shift[0] <= 30


def test_blocks_keep_blocks_of_consecutive_periods(model):
    idx = placebo_indices(model, "blocks", np.random.default_rng(3), 5, block=4)
    uc, tc = model.unit_codes, model.time_codes
    rows = np.flatnonzero(uc == 3)
    rows = rows[np.argsort(tc[rows])]
    src_t = tc[idx[rows, 0]]
    assert sorted(src_t) == list(range(33))
    # within each run of the new series, source periods are consecutive blocks of 4
    starts = [t for t in src_t if t % 4 == 0]
    assert len(starts) == 9


def test_rotation_rejects_too_large_min_shift(model):
    with pytest.raises(SpecError, match="min_shift"):
        placebo_indices(model, "rotate", np.random.default_rng(0), 2, min_shift=17)


# ------------------------------------------------------------------ p-values
def test_permutation_pvalue_counts_the_observed_assignment():
    assert permutation_pvalue(2.0, np.array([0.5, -3.0, 1.0, 2.0])) == pytest.approx(3 / 5)


def test_rank_pvalue_is_dowhys_bootstrap_test():
    from dowhy.causal_refuter import perform_bootstrap_test

    draws = np.random.default_rng(4).normal(size=200)

    class _Est:  # DoWhy reads estimate.value
        value = 0.7

    assert rank_pvalue(0.7, draws) == pytest.approx(perform_bootstrap_test(_Est, list(draws)))


def test_placebo_result_fields(res, panel):
    out = placebo_permutation(res, panel, reps=300, seed=3)
    draws = out.draws
    assert out.name == "placebo_permutation"
    assert out.term == TREAT
    assert out.estimate == pytest.approx(float(res.params[TREAT]), abs=1e-15)
    assert out.reps == 300 and draws.shape == (300,)
    assert out.new_estimate == pytest.approx(draws.mean(), abs=1e-15)
    assert out.draws_mean == pytest.approx(draws.mean(), abs=1e-15)
    assert out.draws_sd == pytest.approx(draws.std(ddof=1), abs=1e-15)
    expected_p = (1 + np.sum(np.abs(draws) >= abs(out.estimate))) / 301
    assert out.p_value == pytest.approx(expected_p, abs=1e-15)
    assert out.passed == (out.p_value <= 0.05)
    assert out.alpha == 0.05
    assert out.statistic == "mean placebo estimate"
    assert "does not" in out.reading
    assert out.details["centred"] is True
    assert out.details["null"].startswith("sharp null")


@pytest.mark.parametrize("refuter", ["permutation", "time_shift"])
def test_placebo_draws_centre_on_zero(refuter, res, panel):
    fn = placebo_permutation if refuter == "permutation" else placebo_time_shift
    out = fn(res, panel, reps=2000, seed=17)
    mc_se = out.draws_sd / np.sqrt(out.reps)
    assert abs(out.draws_mean) < 4 * mc_se
    assert abs(out.draws_mean) < 0.05 * abs(out.estimate)


def _null_panel(rng: np.random.Generator, n_units: int = 15, n_t: int = 8) -> pd.DataFrame:
    """No effect; the treatment is exchangeable across units within each period."""
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "year": np.tile(np.arange(n_t), n_units)})
    unit_fx = rng.normal(size=n_units)[df["unit"]]
    year_fx = rng.normal(size=n_t)[df["year"]]
    df["x"] = year_fx + rng.normal(size=len(df))
    df["y"] = unit_fx + year_fx + rng.normal(size=len(df))
    return df


def _null_pvalues(n_rep: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(n_rep)
    for i in range(n_rep):
        df = _null_panel(rng)
        fit = cp.feols("y ~ x | unit + year", df, vcov="iid")
        out[i] = placebo_permutation(fit, df, reps=199, seed=int(rng.integers(2**31)),
                                     time="year").p_value
    return out


def test_permutation_pvalues_uniform_under_null_fast():
    p = _null_pvalues(40, seed=2026)
    assert stats.kstest(p, "uniform").pvalue > 0.01


@pytest.mark.slow
def test_permutation_pvalues_uniform_under_null_monte_carlo():
    p = _null_pvalues(1000, seed=99)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    # rejection at 5%: binomial(1000, 0.05) band of +-3 sd
    assert 0.05 - 3 * 0.0069 < np.mean(p <= 0.05) < 0.05 + 3 * 0.0069


# ------------------------------------------------------------------ leads
def test_lead_values_follow_the_unit_and_skip_missing_periods():
    df = pd.DataFrame({"u": ["a", "a", "a", "b", "b"], "t": [1, 2, 3, 1, 3],
                       "x": [1.0, 2.0, 3.0, 10.0, 30.0], "y": [0.0, 1.0, 0.0, 2.0, 1.0]})
    fit = cp.feols("y ~ x", df, vcov="iid")
    m = PanelModel(fit, df, unit="u", time="t")
    np.testing.assert_array_equal(lead_values(m, 1), [2.0, 3.0, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(lead_values(m, 2), [3.0, np.nan, np.nan, 30.0, np.nan])


@pytest.mark.parametrize("keep_current", [True, False], ids=["both", "lead-only"])
def test_placebo_lead_matches_feols(keep_current, res, panel, frame):
    out = placebo_lead(res, panel, keep_current=keep_current)
    f = frame.sort_values(["canton", "year"]).copy()
    f["lead"] = f.groupby("canton")[TREAT].shift(-1)
    rhs = f"{TREAT} + lead" if keep_current else "lead"
    ref = cp.feols(f"deaths ~ {rhs} + unemployment | canton + year", f,
                   vcov={"CRV1": "canton"})
    assert out.name == ("placebo_lead_both" if keep_current else "placebo_lead")
    assert out.new_estimate == pytest.approx(float(ref.params["lead"]), abs=1e-12)
    assert out.p_value == pytest.approx(float(ref.pvalues["lead"]), abs=1e-12)
    assert out.passed == (out.p_value > 0.05)
    assert out.details["nobs"] == 26 * 32
    assert out.details["std_error"] == pytest.approx(float(ref.std_errors["lead"]), abs=1e-12)
    assert out.draws is None and out.reps == 0
    if keep_current:
        assert out.details["current_coefficient"] == pytest.approx(
            float(ref.params[TREAT]), abs=1e-12)


def test_placebo_outcome_matches_feols(res, panel, frame):
    out = placebo_outcome(res, panel, "budget_shock")
    ref = cp.feols("budget_shock ~ offences_per_1000 + unemployment | canton + year", frame,
                   vcov={"CRV1": "canton"})
    assert out.new_estimate == pytest.approx(float(ref.params[TREAT]), abs=1e-12)
    assert out.p_value == pytest.approx(float(ref.pvalues[TREAT]), abs=1e-12)
    assert out.passed == (out.p_value > 0.05)
    assert out.details["outcome"] == "budget_shock"


def test_placebo_outcome_flags_a_confounded_outcome(frame):
    rng = np.random.default_rng(12)
    df = frame.copy()
    df["confounded"] = 3.0 * df[TREAT] + rng.normal(size=len(df))  # moved by the treatment
    fit = cp.feols(FORMULA, df, vcov={"CRV1": "canton"})
    out = placebo_outcome(fit, df, "confounded")
    assert out.passed is False
    assert "not a valid placebo" in out.reading


# ------------------------------------------------------------------ stability
def test_leave_one_unit_out_matches_feols(res, panel, frame):
    out = leave_one_unit_out(res, panel)
    units = out.details["units"]
    assert units == sorted(frame["canton"].unique())
    for u in ("AG", "BE", "ZH"):
        ref = cp.feols(FORMULA, frame[frame["canton"] != u], vcov="iid")
        assert abs(out.draws[units.index(u)] - float(ref.params[TREAT])) < EXACT
    top = int(np.argmax(np.abs(out.draws - out.estimate)))
    assert out.details["most_influential"] == units[top]
    assert out.new_estimate == out.draws[top]
    lo, hi = res.conf_int().loc[TREAT]
    assert out.passed == bool(np.all((out.draws >= lo) & (out.draws <= hi)))
    assert out.p_value is None
    assert out.details["range"] == (out.draws.min(), out.draws.max())


def test_random_common_cause_equals_refit(model, frame):
    z = np.random.default_rng(9).standard_normal((model.n, 3))
    fast = model.betas_with_extra(z)
    for r in range(3):
        f = frame.copy()
        f["z"] = z[:, r]
        ref = cp.feols(FORMULA.replace("unemployment", "unemployment + z"), f, vcov="iid")
        assert abs(fast[r] - float(ref.params[TREAT])) < EXACT


def test_random_common_cause_passes_and_reports(res, panel):
    out = random_common_cause(res, panel, reps=500, seed=5)
    assert out.passed is True
    assert out.p_value == pytest.approx(rank_pvalue(out.estimate, out.draws), abs=1e-15)
    shift = np.max(np.abs(out.draws - out.estimate))
    assert out.details["max_abs_shift"] == pytest.approx(shift, abs=1e-15)
    assert "cannot detect confounding" in out.reading


def test_random_unit_subsets_equal_refit(model, frame):
    rows = np.flatnonzero(np.isin(model.unit_codes, np.arange(0, 26, 2)))
    kept = frame.iloc[model.positions[rows]]
    ref = cp.feols(FORMULA, kept, vcov="iid")
    assert abs(model.subset_beta(rows) - float(ref.params[TREAT])) < EXACT


def test_random_unit_subsets_result(res, panel):
    out = random_unit_subsets(res, panel, reps=40, seed=8, fraction=0.5)
    assert out.details["units_kept"] == 13 and out.reps == 40
    assert out.p_value == pytest.approx(rank_pvalue(out.estimate, out.draws), abs=1e-15)
    assert out.passed == (out.p_value > 0.05)


# ------------------------------------------------------------------ Poisson
def test_poisson_placebo_draws_are_fepois_refits(panel, frame):
    fit = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    out = placebo_permutation(fit, panel, reps=3, seed=21)
    m = PanelModel(fit, panel)
    _, rngs = spawn_rngs(21, [0])
    idx = placebo_indices(m, "permute", rngs[0], 3)
    raw = frame[TREAT].to_numpy()[m.positions]
    for r in range(3):
        f = frame.copy()
        f[TREAT] = raw[idx[:, r]]
        ref = cp.fepois("deaths ~ offences_per_1000 | canton + year", f, exposure="population")
        assert abs(out.draws[r] - float(ref.params[TREAT])) < 1e-9


# ------------------------------------------------------------------ the suite
def test_suite_runs_default_methods_and_summarises(res, panel):
    suite = refute(res, panel, reps=100, seed=1, progress=False)
    assert isinstance(suite, RefutationSuite)
    assert suite.names == DEFAULT_METHODS
    s = suite.summary()
    assert list(s.columns) == ["refuter", "term", "estimate", "new_estimate", "draws_mean",
                               "draws_sd", "reps", "p_value", "passed", "reading"]
    assert list(s["refuter"]) == list(DEFAULT_METHODS)
    assert (s["term"] == TREAT).all()
    assert s["estimate"].eq(float(res.params[TREAT])).all()
    assert suite.seed == 1 and suite.alpha == 0.05 and suite.term == TREAT
    assert set(suite.seconds) == set(DEFAULT_METHODS)
    assert suite.failed == tuple(r.name for r in suite if r.passed is False)
    assert all("does not" in r.reading for r in suite)  # what the result does NOT mean
    assert suite["random_unit_subsets"].reps == 100


def test_suite_draws_do_not_depend_on_other_methods(res, panel):
    one = refute(res, panel, reps=50, seed=4, methods=["placebo_permutation"])
    two = refute(res, panel, reps=50, seed=4,
                 methods=["random_common_cause", "placebo_permutation"])
    np.testing.assert_array_equal(one["placebo_permutation"].draws,
                                  two["placebo_permutation"].draws)


def test_suite_options_and_placebo_outcome(res, panel):
    suite = refute(res, panel, reps=30, seed=2, placebo_outcome="budget_shock",
                   options={"placebo_time_shift": {"mode": "blocks", "block": 5},
                            "placebo_lead_both": {"lead": 2}})
    assert "placebo_outcome" in suite.names
    assert suite["placebo_time_shift"].details["mode"] == "blocks"
    assert suite["placebo_lead_both"].details["lead"] == 2
    assert suite["placebo_lead_both"].details["nobs"] == 26 * 31


@pytest.mark.parametrize("kwargs, match", [
    ({"methods": ["placebo_magic"]}, "Unknown refuter"),
    ({"methods": ["placebo_outcome"]}, "placebo_outcome="),
    ({"options": {"placebo_lead": {"reps": 3}}}, "unknown key"),
    ({"alpha": 1.5}, "alpha"),
    ({"reps": 0}, "reps"),
    ({"treatment": "population"}, "not a regressor"),
], ids=["unknown", "no-outcome", "bad-option", "alpha", "reps", "treatment"])
def test_suite_argument_errors(kwargs, match, res, panel):
    with pytest.raises(SpecError, match=match):
        refute(res, panel, **kwargs)


def test_wrong_data_is_detected(res, frame):
    other = frame.copy()
    other["deaths"] = other["deaths"] + np.random.default_rng(0).integers(0, 3, len(other))
    with pytest.raises(SpecError, match="do not match"):
        refute(res, other, unit="canton", time="year", methods=["placebo_permutation"])


def test_dataframe_needs_time_column(frame):
    fit = cp.feols(FORMULA, frame)
    with pytest.raises(SpecError, match="time column"):
        placebo_permutation(fit, frame, reps=5)


def test_iv_fits_are_rejected(frame):
    fit = cp.feols("deaths ~ unemployment | canton + year | offences_per_1000 ~ budget_shock",
                   frame)
    with pytest.raises(SpecError, match="instrumental"):
        refute(fit, frame, unit="canton", time="year")


def test_results_are_immutable(res, panel):
    out = placebo_permutation(res, panel, reps=10, seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.p_value = 0.5  # type: ignore[misc]
    d = out.draws
    d[:] = 0
    assert not np.all(out.draws == 0)
    det = out.details
    det["seed"] = -1
    assert out.details["seed"] == 0
    assert isinstance(out, RefutationResult)


def test_registry_lists_every_refuter():
    assert REFUTERS == ("placebo_permutation", "placebo_time_shift", "placebo_lead",
                        "placebo_lead_both", "placebo_outcome", "leave_one_unit_out",
                        "random_common_cause", "random_unit_subsets")


def test_progress_bar_can_be_forced_on(res, panel, capsys):
    out = leave_one_unit_out(res, panel, progress=True)
    assert out.reps == 26


def test_input_data_not_modified(res, panel, frame):
    before = frame.copy()
    refute(res, frame, unit="canton", time="year", reps=20, seed=0,
           methods=["placebo_permutation", "placebo_lead_both", "random_common_cause"])
    pd.testing.assert_frame_equal(frame, before)


def test_dowhy_frame_reproduces_the_estimate(model, res):
    import statsmodels.api as sm

    from causalpolicing.graph.refuters.dowhy_compare import dowhy_frame

    df, t, y, causes = dowhy_frame(model)
    assert len(causes) == 1 + 25 + 32  # unemployment + canton and year dummies
    x = sm.add_constant(df[[t, *causes]])
    ols = sm.OLS(df[y], x).fit()
    assert abs(float(ols.params[t]) - float(res.params[TREAT])) < 1e-9


def test_dowhy_refuters_run_on_the_same_estimate(res, panel):
    from causalpolicing.graph.refuters import dowhy_refuters

    out = dowhy_refuters(res, panel, num_simulations=2, seed=0)
    assert set(out) == {"estimate", "placebo_treatment_refuter", "random_common_cause",
                        "data_subset_refuter"}
    assert abs(out["estimate"].value - float(res.params[TREAT])) < 1e-9
    for name in ("placebo_treatment_refuter", "random_common_cause", "data_subset_refuter"):
        assert out[name].estimated_effect == pytest.approx(out["estimate"].value, abs=1e-12)
        assert np.isfinite(out[name].new_effect)


def test_dowhy_refuters_reject_poisson(panel):
    from causalpolicing.graph.refuters import dowhy_refuters

    fit = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    with pytest.raises(SpecError, match="linear"):
        dowhy_refuters(fit, panel)
