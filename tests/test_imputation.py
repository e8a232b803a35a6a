"""did_imputation (Borusyak, Jaravel and Spiess): published R outputs, identities, recovery,
the Poisson version with an exposure, refusals and the drop log."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.designs._imputation_core import (
    design_matrix,
    linear_first_stage,
    prepare,
    untreated_solve,
)
from causalpolicing.exceptions import DataWarning, SpecError

GOLDEN = Path(__file__).parent / "golden" / "staggered"


def staggered(seed: int = 0, n_units: int = 120, periods: int = 10, noise: float = 1.0,
              never_share: float = 0.25) -> pd.DataFrame:
    """Balanced staggered panel; effects grow with event time and differ by cohort."""
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n_units) < never_share, 0, rng.choice([3, 5, 8], n_units))
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), periods),
                       "t": np.tile(np.arange(1, periods + 1), n_units),
                       "g": np.repeat(g, periods)})
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    e = (df["t"] - df["g"]).where(on, 0)
    df["tau"] = np.where(on, 1.0 + 0.5 * e + 0.2 * (df["g"] == 3), 0.0)
    df["y"] = (np.repeat(rng.normal(size=n_units), periods) + 0.3 * df["t"] + df["tau"]
               + noise * rng.normal(size=len(df)))
    return df


def fit(df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.did_imputation(df, outcome=kw.pop("outcome", "y"), cohort="g",
                                 never_treated=0, unit="unit", time="t", **kw)


# ------------------------------------------------------------------ published R outputs
# R didimputation README (github.com/kylebutts/didimputation, commit 906648e, README.md):
# did_imputation(df_het, yname = "dep_var", gname = "g", tname = "year", idname = "unit")
# and the event study with horizon = TRUE, pretrends = -5:-1, on didimputation's own
# df_het (vendored by golden/staggered/make_imputation_data.py; pyfixest's df_het is a
# different draw). Tolerances: estimates 1e-6 absolute (R prints 7-8 significant digits),
# standard errors 1e-4 relative.
R_HET_STATIC = (2.262952, 0.03139684)
R_HET_LAGS = {  # event time: (estimate, std.error)
    0: (1.51314201, 0.07547736), 1: (1.66384318, 0.07675141), 2: (1.86436720, 0.07450151),
    3: (1.91872093, 0.07471704), 4: (1.87322387, 0.07418170), 5: (1.87844597, 0.07567190),
    6: (2.14373139, 0.07632691), 7: (2.23777696, 0.07610842), 8: (2.33650066, 0.07446268),
    9: (2.34352836, 0.07471679), 10: (2.53443351, 0.08109550), 11: (2.47944533, 0.11953547),
    12: (2.63493727, 0.11531779), 13: (2.94449757, 0.11047299), 14: (2.78171206, 0.11466367),
    15: (2.71470743, 0.12030494), 16: (2.88065382, 0.11563154), 17: (2.99383855, 0.11438496),
    18: (2.64616896, 0.11545789), 19: (2.87530636, 0.11405840), 20: (2.90465651, 0.11320219)}
# the pre-trend coefficients of the same call; the README prints one standard error
# (0.07634962) for all five leads, which no per-lead clustered standard error of that
# regression gives (ours are 0.0749-0.0772, fixest CRV1): only the estimates are compared
R_HET_LEADS = {-5: -0.06412085, -4: -0.01201577, -3: -0.01387197, -2: 0.05103140,
               -1: 0.02022464}


@pytest.fixture(scope="module")
def df_het() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "didimputation_df_het.csv.gz")


def test_r_readme_static(df_het: pd.DataFrame) -> None:
    res = cp.did_imputation(df_het, outcome="dep_var", cohort="g", never_treated=0,
                            unit="unit", time="year")
    assert res.params["ATT"] == pytest.approx(R_HET_STATIC[0], abs=1e-6)
    assert res.std_errors["ATT"] == pytest.approx(R_HET_STATIC[1], rel=1e-4)


def test_r_readme_event_study(df_het: pd.DataFrame) -> None:
    res = cp.did_imputation(df_het, outcome="dep_var", cohort="g", never_treated=0,
                            unit="unit", time="year", pretrends=5)
    et = res.event_time.set_index("event_time")
    for e, (est, se) in R_HET_LAGS.items():
        assert et.loc[e, "estimate"] == pytest.approx(est, abs=1e-6), e
        assert et.loc[e, "std_error"] == pytest.approx(se, rel=1e-4), e
    for e, est in R_HET_LEADS.items():
        assert et.loc[e, "estimate"] == pytest.approx(est, abs=1e-6), e
    assert res.pretrend_test.df_num == 5


# R didimputation man/did_imputation.Rd (commit 906648e), Cheng and Hoekstra (2013) castle
# doctrine data: did_imputation(castle, yname = "c(l_homicide, l_assault)", gname = "effyear",
# first_stage = ~ 0 | sid + year, tname = "year", idname = "sid"); never treated: effyear NA.
# The data: did2s's data-raw/castle.dta (effyear is the same in both circulating codings;
# only `post` differs). Tolerances: 1e-6 absolute, SEs 1e-4 relative.
@pytest.mark.parametrize("outcome, est, se", [("l_homicide", 0.07980155, 0.06088398),
                                              ("l_assault", 0.04955260, 0.05132258)],
                         ids=["homicide", "assault"])
def test_r_castle(outcome: str, est: float, se: float) -> None:
    castle = pd.read_csv(GOLDEN / "castle.csv")
    res = cp.did_imputation(castle, outcome=outcome, cohort="effyear",
                            never_treated=float("nan"), unit="sid", time="year")
    assert res.params["ATT"] == pytest.approx(est, abs=1e-6)
    assert res.std_errors["ATT"] == pytest.approx(se, rel=1e-4)


# ------------------------------------------------------------------ pyfixest did2s (live)
def test_pyfixest_did2s_point_estimates() -> None:
    pf = pytest.importorskip("pyfixest")
    df = staggered(1)
    df["treat"] = (df["g"] > 0) & (df["t"] >= df["g"])
    df["rel"] = np.where(df["g"] > 0, df["t"] - df["g"], np.inf)
    ours = fit(df)
    theirs = pf.did2s(df, yname="y", first_stage="~ 0 | unit + t",
                      second_stage="~ i(rel, ref=-1.0)", treatment="treat", cluster="unit")
    coef = theirs.coef()
    # 2e-5 absolute: pyfixest's first stage stops its fixed-effect iterations earlier (its
    # never-treated residuals average ~3e-6, not 0); ours agree with R to 1e-6 above
    for h in ours.horizons:
        assert ours.params[f"event_lag{h}"] == pytest.approx(coef[f"rel::{float(h)}"],
                                                             abs=2e-5)
    static = pf.did2s(df, yname="y", first_stage="~ 0 | unit + t", second_stage="~ i(treat)",
                      treatment="treat", cluster="unit")
    assert ours.params["ATT"] == pytest.approx(static.coef().iloc[0], abs=2e-5)


# ------------------------------------------------------------------ identities
def test_equals_did2s_point_estimates() -> None:
    df = staggered(2)
    imp = fit(df)
    two = cp.did2s(df, outcome="y", cohort="g", never_treated=0, unit="unit", time="t")
    static = cp.did2s(df, outcome="y", cohort="g", never_treated=0, unit="unit", time="t",
                      event_time=False)
    for h in imp.horizons:
        assert imp.params[f"event_lag{h}"] == pytest.approx(two.params[f"event_lag{h}"],
                                                            abs=1e-10)
    assert imp.params["ATT"] == pytest.approx(static.params["ATT"], abs=1e-10)


def test_equals_extended_twfe_on_balanced_data() -> None:
    """Wooldridge's extended TWFE (a dummy per treated cohort x period, unit and time
    effects) gives the imputation estimates on balanced panels (Wooldridge 2021, BJS)."""
    df = staggered(3)
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    cells = sorted(set(zip(df.loc[on, "g"], df.loc[on, "t"], strict=True)))
    names = []
    for g, t in cells:
        names.append(f"d_{g}_{t}")
        df[names[-1]] = (on & (df["g"] == g) & (df["t"] == t)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        et = cp.feols("y ~ " + " + ".join(names) + " | unit + t", df)
    counts = df.loc[on].groupby(["g", "t"]).size()
    imp = fit(df)
    att = sum(et.params[f"d_{g}_{t}"] * counts[(g, t)] for g, t in cells) / counts.sum()
    assert imp.params["ATT"] == pytest.approx(att, abs=1e-8)
    for h in imp.horizons:
        sel = [(g, t) for g, t in cells if t - g == h]
        val = sum(et.params[f"d_{g}_{t}"] * counts[(g, t)] for g, t in sel) / sum(
            counts[c] for c in sel)
        assert imp.params[f"event_lag{h}"] == pytest.approx(val, abs=1e-8)


def test_standard_errors_match_a_dense_implementation() -> None:
    """BJS Theorem 3 written with dense dummies and numpy (independent of the sparse solve
    and of the within transformation)."""
    df = staggered(4, n_units=40, periods=6)
    df = df.iloc[np.random.default_rng(0).permutation(len(df))[:-15]]  # unbalanced
    res = fit(df, horizons=[0, 1])
    on = ((df["g"] > 0) & (df["t"] >= df["g"])).to_numpy()
    z = np.column_stack([pd.get_dummies(df["unit"]).to_numpy(float),
                         pd.get_dummies(df["t"]).to_numpy(float)[:, 1:]])
    y = df["y"].to_numpy()
    theta = np.linalg.lstsq(z[~on], y[~on], rcond=None)[0]
    adj = y - z @ theta
    e = (df["t"] - df["g"]).to_numpy()
    for term, sel in [("ATT", on & np.isin(e, [0, 1])), ("event_lag1", on & (e == 1))]:
        w1 = sel / sel.sum()
        v = w1.copy()
        v[~on] = -z[~on] @ np.linalg.pinv(z[~on].T @ z[~on]) @ z[on].T @ w1[on]
        assert res.params[term] == pytest.approx(float(v @ y), abs=1e-9)
        grp = pd.Series(adj).groupby([df["g"].to_numpy(), e]).transform(
            lambda s, v=v: np.average(s, weights=v[s.index] ** 2) if v[s.index].any() else 0.0)
        eps = np.where(on, adj - grp.to_numpy(), adj)
        s = pd.Series(v * eps).groupby(df["unit"].to_numpy()).sum()
        assert res.std_errors[term] == pytest.approx(np.sqrt((s ** 2).sum()), rel=1e-8)


def test_untreated_solve_weights_reproduce_the_estimate() -> None:
    df = staggered(5)
    sd = prepare(df, who="t", outcome="y", cohort="g", never_treated=0, unit="unit", time="t",
                 covariates=(), fe=None, weights=None, cluster=None)
    adj, _ = linear_first_stage(sd)
    w1 = np.where(sd.treat, 1.0, 0.0) / sd.treat.sum()
    z = design_matrix(sd)
    g = untreated_solve(z, ~sd.treat, np.ones((~sd.treat).sum()), z[sd.treat].T @ w1[sd.treat],
                        "t")
    v = w1.copy()
    v[~sd.treat] = -(z[~sd.treat] @ g).ravel()
    assert float(v @ sd.y) == pytest.approx(float(w1 @ adj), abs=1e-10)


# ------------------------------------------------------------------ recovery
def test_recovers_effects_where_twfe_has_the_wrong_sign() -> None:
    """Early cohort with fast-growing effects, late cohort untreated long: static TWFE uses
    the early cohort as a control for the late one and comes out negative. (With very few
    never-treated units to fit the last periods, BJS's variance without leave-out is too
    small: 5% never treated gave 87% coverage in 40 draws; 20% gives 95%.)"""
    rng = np.random.default_rng(7)
    n, periods = 200, 12
    g = rng.choice([0, 2, 10], n, p=[0.2, 0.5, 0.3])
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), periods),
                       "t": np.tile(np.arange(1, periods + 1), n), "g": np.repeat(g, periods)})
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    df["tau"] = np.where(on, 0.3 * (df["t"] - df["g"] + 1) ** 1.5, 0.0)
    df["y"] = np.repeat(rng.normal(size=n), periods) + df["t"] * 0.1 + df["tau"] + \
        0.1 * rng.normal(size=len(df))
    df["d"] = on.astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twfe = cp.feols("y ~ d | unit + t", df)
        res = cp.did_imputation(df, outcome="y", cohort="g", never_treated=0, unit="unit",
                                time="t")
    truth = df.loc[on, "tau"].mean()
    assert twfe.params["d"] < 0 < truth
    assert abs(res.params["ATT"] - truth) < 3 * res.std_errors["ATT"]
    truth_h = df.loc[on].groupby(df["t"] - df["g"])["tau"].mean()
    for h in (0, 3, 6):
        assert abs(res.params[f"event_lag{h}"] - truth_h[h]) < 4 * res.std_errors[
            f"event_lag{h}"]


def test_pretrend_regression_and_event_time_contract() -> None:
    df = staggered(8)
    res = fit(df, pretrends=2, horizons=[0, 2])
    assert list(res.event_time.columns[:8]) == list(cp.designs.event_studies.EVENT_TIME_COLUMNS)
    assert res.event_time["term"].tolist() == ["event_lead2", "event_lead1", "event_lag0",
                                               "event_lag2"]
    assert set(res.event_time["term"]) <= set(res.params.index)
    pre = res.pretrend_fit
    assert res.params["event_lead1"] == pytest.approx(pre.params["event_lead1"], abs=1e-12)
    assert res.cov.loc["event_lead1", "ATT"] == 0.0
    assert res.pretrend_test.df_num == 2 and res.pretrend_test.p_value > 0.001
    # ATT averages the horizons asked for
    obs = res.observation_effects
    assert res.params["ATT"] == pytest.approx(
        obs.loc[obs["event_time"].isin([0, 2]), "effect"].mean(), abs=1e-10)


def test_covariates_and_weights_run() -> None:
    df = staggered(9)
    df["x"] = np.random.default_rng(1).normal(size=len(df))
    df["y"] += 0.7 * df["x"]
    df["w"] = np.repeat(np.random.default_rng(2).uniform(1, 3, df["unit"].nunique()), 10)
    res = fit(df, covariates=["x"], weights="w")
    truth = df.loc[(df["g"] > 0) & (df["t"] >= df["g"])]
    truth = np.average(truth["tau"], weights=truth["w"])
    assert abs(res.params["ATT"] - truth) < 3 * res.std_errors["ATT"]


# ------------------------------------------------------------------ Poisson with exposure
def counts(seed: int, n: int = 300, periods: int = 10, rr: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), periods),
                       "t": np.tile(np.arange(1, periods + 1), n)})
    df["g"] = np.repeat(rng.choice([0, 4, 6, 8], n), periods)
    df["pop"] = np.repeat(rng.uniform(5e4, 5e5, n), periods)
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    rate = 1e-4 * np.exp(np.repeat(rng.normal(0, 0.3, n), periods) + 0.05 * df["t"])
    df["deaths"] = rng.poisson(df["pop"] * rate * np.where(on, rr, 1.0))
    return df


def fit_pois(df: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.did_imputation(df, outcome="deaths", cohort="g", never_treated=0,
                                 unit="unit", time="t", estimator="fepois", exposure="pop",
                                 **kw)


def test_poisson_recovers_rate_ratio() -> None:
    res = fit_pois(counts(1))
    d = res.deaths.set_index("term")
    assert abs(res.params["ATT"] - np.log(0.8)) < 3 * res.std_errors["ATT"]
    assert d.loc["ATT", "rate_ratio"] == pytest.approx(np.exp(res.params["ATT"]), rel=1e-12)
    assert d.loc["ATT", "added"] < 0  # deaths averted
    assert d.loc["ATT", "observed"] == pytest.approx(d.loc["ATT", "imputed"]
                                                     + d.loc["ATT", "added"])


def test_poisson_equals_wooldridge_etwfe_on_the_response_scale() -> None:
    """Poisson ETWFE (a dummy per treated cohort x period, unit and time effects, log
    exposure offset; Wooldridge 2023): each cell's coefficient is log(observed / imputed)
    and its ATT on the response scale, mean(mu1 - mu0) over treated rows, is the deaths
    added per treated observation (1e-6 relative: two IRLS fits to 1e-8)."""
    df = counts(2)
    on = (df["g"] > 0) & (df["t"] >= df["g"])
    cells = sorted(set(zip(df.loc[on, "g"], df.loc[on, "t"], strict=True)))
    names = []
    for g, t in cells:
        names.append(f"d_{g}_{t}")
        df[names[-1]] = (on & (df["g"] == g) & (df["t"] == t)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        et = cp.fepois("deaths ~ " + " + ".join(names) + " | unit + t", df, exposure="pop",
                       tol=1e-12)
    obs = df.loc[on].groupby(["g", "t"])["deaths"].sum()
    added = sum(obs[c] * (1 - np.exp(-et.params[f"d_{c[0]}_{c[1]}"])) for c in cells)
    res = fit_pois(df)
    d = res.deaths.set_index("term")
    assert d.loc["ATT", "added_per_obs"] == pytest.approx(added / on.sum(), rel=1e-6)
    # the last horizon has one cohort: one cell
    h = max(res.horizons)
    (cell,) = [c for c in cells if c[1] - c[0] == h]
    assert res.params[f"event_lag{h}"] == pytest.approx(et.params[f"d_{cell[0]}_{cell[1]}"],
                                                        rel=1e-6)


def test_poisson_refuses_units_without_untreated_deaths() -> None:
    df = counts(3, n=60)
    unit = df.loc[df["g"] == 4, "unit"].iloc[0]
    df.loc[(df["unit"] == unit) & (df["t"] < 4), "deaths"] = 0
    with pytest.raises(SpecError, match=rf"level\(s\) \[{unit}\] have zero 'deaths'"):
        fit_pois(df)


@pytest.mark.slow
def test_poisson_and_linear_coverage() -> None:
    """95% intervals cover the truth in about 95% of 200 simulations (BJS's variance is
    conservative: at least ~92%)."""
    hit_p, hit_l = [], []
    for s in range(200):
        res = fit_pois(counts(100 + s, n=150))
        hit_p.append(abs(res.params["ATT"] - np.log(0.8)) < 1.96 * res.std_errors["ATT"])
        df = staggered(500 + s, n_units=80)
        lin = fit(df)
        truth = df.loc[(df["g"] > 0) & (df["t"] >= df["g"]), "tau"].mean()
        hit_l.append(abs(lin.params["ATT"] - truth) < 1.96 * lin.std_errors["ATT"])
    assert np.mean(hit_p) > 0.92 and np.mean(hit_l) > 0.92


# ------------------------------------------------------------------ refusals, drop log
def test_refuses_units_treated_from_the_first_period() -> None:
    df = staggered(10)
    df.loc[df["unit"] == 3, "g"] = 1
    with pytest.raises(SpecError, match=r"fixed effect 'unit' level\(s\) \[3\]"):
        fit(df)


def test_refuses_periods_when_everyone_is_treated() -> None:
    df = staggered(11, never_share=0.0)
    with pytest.raises(SpecError, match=r"fixed effect 't' level\(s\) \[8, 9, 10\]"):
        fit(df)


@pytest.mark.parametrize("kw, match", [
    ({"horizons": [0, 99]}, "horizons \\[99\\] have no treated observation"),
    ({"pretrends": 50}, "pretrends=50"),
    ({"estimator": "ols"}, "estimator must be one of"),
    ({"exposure": "t"}, "needs estimator='fepois'"),
], ids=["horizon", "pretrends", "estimator", "exposure"])
def test_refusals(kw: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        fit(staggered(12), **kw)


def test_drop_log_lists_missing_rows() -> None:
    df = staggered(13)
    df.loc[[5, 17], "y"] = np.nan
    with pytest.warns(DataWarning, match="dropped 2 row"):
        res = cp.did_imputation(df, outcome="y", cohort="g", never_treated=0, unit="unit",
                                time="t")
    assert res.dropped["row"].tolist() == [5, 17]
    assert set(res.dropped["reason"]) == {"missing value"}
    assert res.nobs == len(df) - 2


def test_panel_roles_and_registry() -> None:
    df = staggered(14)
    res = cp.estimators.registry.fit("did_imputation", df, outcome="y", cohort="g",
                                     never_treated=0, unit="unit", time="t", horizons=[0, 1])
    assert isinstance(res, cp.ImputationResults)
    assert list(res.params.index) == ["ATT", "event_lag0", "event_lag1"]
