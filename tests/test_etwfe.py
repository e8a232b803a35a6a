"""Wooldridge's extended TWFE (cp.etwfe) against R etwfe, pyfixest and by-hand identities.

References
----------
R ``etwfe`` 0.6.2 (grantmcdermott/etwfe, commit 2b47cfd, 2026-03-27),
``inst/tinytest/test_emfx.R``: the ``emfx()`` outputs printed there with ``dput()``
for ``etwfe(lemp ~ lpop, tvar = year, gvar = first.treat, data = mpdta, vcov =
~countyreal)`` (``m3``), its ``cgroup = "never"`` variant (``m3n``) and the Poisson
variant ``etwfe(emp ~ lpop, ..., family = "poisson")`` with ``emp = exp(lemp)``
(``m3p``). ``moderndid`` 0.2.0 (the peers venv) has no ETWFE, so there is no Python
port to compare with. Tolerances (issue #12): estimates 1e-6 relative, standard
errors 1e-4 relative (marginaleffects differentiates numerically).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError

MPDTA = Path(__file__).parent / "golden" / "staggered" / "mpdta.csv"
EST, SE = 1e-6, 1e-4


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    d = pd.read_csv(MPDTA)
    d["emp"] = np.exp(d["lemp"])
    return d


def _fit(d: pd.DataFrame, **kw) -> cp.ETWFEResults:
    opts = {"outcome": "lemp", "covariates": ["lpop"], "cohort": "first.treat",
            "never_treated": 0, "unit": "countyreal", "time": "year"}
    return cp.etwfe(d, **{**opts, **kw})


@pytest.fixture(scope="module")
def m3(mpdta) -> cp.ETWFEResults:
    return _fit(mpdta)


# R etwfe 0.6.2 test_emfx.R: simple_known, calendar_known, group_known, event_known
R_M3 = {
    "simple": ({"ATT": -0.0506270331228907}, {"ATT": 0.0124972546529842}),
    "calendar": (dict(zip([f"period_{y}" for y in range(2004, 2008)],
                          [-0.0212480022225509, -0.0818499992698648, -0.0442655912990223,
                           -0.0524323095862384], strict=True)),
                 dict(zip([f"period_{y}" for y in range(2004, 2008)],
                          [0.0217240109737018, 0.0273693827216135, 0.0173733625406716,
                           0.015015825012757], strict=True))),
    "group": ({"cohort_2004": -0.0876269608795944, "cohort_2006": -0.0212783329358987,
               "cohort_2007": -0.0459545277368072},
              {"cohort_2004": 0.0230474099815232, "cohort_2006": 0.0185912208081438,
               "cohort_2007": 0.0179714452432232}),
    "event": ({"event_lag0": -0.0332122037837542, "event_lag1": -0.0573456479257483,
               "event_lag2": -0.137870386660852, "event_lag3": -0.10953945536511},
              {"event_lag0": 0.0133659635774059, "event_lag1": 0.0171496442892364,
               "event_lag2": 0.0307883597041053, "event_lag3": 0.0323152785480507}),
}


@pytest.mark.parametrize("kind", list(R_M3))
def test_linear_matches_r_etwfe(m3, kind) -> None:
    res = m3.aggregate(kind)
    est, se = R_M3[kind]
    for term in est:  # estimates 1e-6, SEs 1e-4 relative
        assert res.params[term] == pytest.approx(est[term], rel=EST)
        assert res.std_errors[term] == pytest.approx(se[term], rel=SE)


def test_confidence_interval_is_normal_as_r(m3) -> None:
    # R simple_known conf.low / conf.high (marginaleffects: normal quantiles); 1e-6 relative
    ci = m3.conf_int().loc["ATT"]
    assert ci["conf_low"] == pytest.approx(-0.0751212021483654, rel=1e-5)
    assert ci["conf_high"] == pytest.approx(-0.026132864097416, rel=1e-5)


def test_never_treated_event_matches_r_etwfe(mpdta) -> None:
    # R event_never_window_known: emfx(m3n, type = "event", window = c(2, 3))
    res = _fit(mpdta, control="never_treated", aggregate="event")
    et = res.event_time.set_index("event_time")
    r_est = {-2: 0.0234649547538384, 0: -0.0211467366918433, 1: -0.0533558653415615,
             2: -0.141080104628566, 3: -0.107544274673025}
    r_se = {-2: 0.0145314904277398, 0: 0.0113935648352396, 1: 0.0157744281621729,
            2: 0.0322891808795742, 3: 0.0329231688783015}
    for e in r_est:
        assert et.loc[e, "estimate"] == pytest.approx(r_est[e], rel=EST)
        assert et.loc[e, "std_error"] == pytest.approx(r_se[e], rel=SE)
    assert et.loc[-1, "reference"] and et.loc[-1, "estimate"] == 0.0
    assert np.isnan(et.loc[-1, "std_error"])


def test_poisson_event_matches_r_etwfe(mpdta) -> None:
    # R event_pois_known: emfx(m3p, type = "event"), effects in counts (employment added)
    res = _fit(mpdta, outcome="emp", estimator="fepois", aggregate="event")
    r_est = [-25.3497484355494, 1.09175116997388, -75.1246321552693, -101.823979344829]
    r_se = [15.8862762958862, 40.2952222352926, 23.1541376499351, 27.0877431076141]
    for e in range(4):
        term = f"event_lag{e}"
        assert res.params[term] == pytest.approx(r_est[e], rel=EST)
        assert res.std_errors[term] == pytest.approx(r_se[e], rel=SE)


def test_poisson_saturated_fit_matches_pyfixest(mpdta) -> None:
    pf = pytest.importorskip("pyfixest")
    res = _fit(mpdta, outcome="emp", estimator="fepois")
    d = mpdta.copy()
    g, t = d["first.treat"], d["year"]
    d["lpop_dm"] = d["lpop"] - d.groupby("first.treat")["lpop"].transform("mean")
    cells, rhs = [], []
    for gg in (2004, 2006, 2007):
        for tt in range(gg, 2008):
            name = f"D{gg}_{tt}"
            d[name] = ((g == gg) & (t == tt)).astype(float)
            d[name + "x"] = d[name] * d["lpop_dm"]
            cells.append((name, f"att_g{gg}_t{tt}"))
            rhs += [name, name + "x"]
    rhs.append("lpop")
    for gg in (2004, 2006, 2007):
        d[f"G{gg}"] = (g == gg).astype(float)
        d[f"G{gg}x"] = d[f"G{gg}"] * d["lpop"]
        rhs += [f"G{gg}", f"G{gg}x"]
    for tt in range(2004, 2008):
        d[f"T{tt}"] = (t == tt).astype(float)
        d[f"T{tt}x"] = d[f"T{tt}"] * d["lpop"]
        rhs += [f"T{tt}", f"T{tt}x"]
    ref = pf.fepois(f"emp ~ {' + '.join(rhs)}", d, vcov={"CRV1": "countyreal"})
    coef = ref.coef()
    for ours_x, theirs in [(f"{o}:lpop_dm", f"{n}x") for n, o in cells] + [
            (o, n) for n, o in cells]:
        # the saturated coefficients: 1e-6 relative (absolute 1e-8 near zero)
        assert res.model.params[ours_x] == pytest.approx(coef[theirs], rel=EST, abs=1e-8)


def test_poisson_recovers_known_rate_ratio() -> None:
    rng = np.random.default_rng(12)
    n_units, years = 400, np.arange(2010, 2020)
    unit = np.repeat(np.arange(n_units), len(years))
    year = np.tile(years, n_units)
    first = np.repeat(rng.choice([0, 2013, 2015, 2017], n_units), len(years))
    pop = np.repeat(rng.integers(20_000, 200_000, n_units), len(years))
    a = np.repeat(rng.normal(scale=0.3, size=n_units), len(years))
    treated = (first > 0) & (year >= first)
    rate = 2e-4 * np.exp(a + 0.03 * (year - 2010)) * np.where(treated, 0.8, 1.0)
    df = pd.DataFrame({"unit": unit, "year": year, "first": first, "pop": pop,
                       "deaths": rng.poisson(pop * rate)})
    res = cp.etwfe(df, outcome="deaths", cohort="first", never_treated=0, unit="unit",
                   time="year", estimator="fepois", exposure="pop")
    rr = res.rate_ratio.set_index("term").loc["ATT"]
    # true ratio 0.8 in every cell: within 3 standard errors, and the interval covers it
    assert abs(rr["estimate"] - 0.8) < 3 * rr["std_error"]
    assert rr["conf_low"] < 0.8 < rr["conf_high"]
    added = res.counts_added.set_index("term").loc["ATT"]
    # deaths added = average effect x treated observations; negative: deaths averted
    assert added["estimate"] == pytest.approx(res.params["ATT"] * added["n"], rel=1e-12)
    assert added["estimate"] < 0
    truth = -(0.2 / 0.8) * df.loc[treated, "deaths"].sum()  # expected averted, roughly
    assert added["estimate"] == pytest.approx(truth, rel=0.25)


def _panel(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, years = 60, np.arange(2000, 2008)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), len(years)),
                       "year": np.tile(years, n)})
    df["first"] = np.repeat(rng.choice([0, 2003, 2005, 2006], n), len(years))
    ev = np.where(df["first"] > 0, df["year"] - df["first"], -99)
    df["y"] = (rng.normal(size=n)[df["unit"]] + 0.1 * (df["year"] - 2000)
               + np.where(ev >= 0, 1 + 0.3 * ev + 0.2 * (df["first"] == 2003), 0)
               + rng.normal(size=len(df)))
    return df


def _imputation(df: pd.DataFrame) -> pd.DataFrame:
    """Borusyak-Jaravel-Spiess imputation by hand: unit + year effects from untreated rows."""
    treated = ((df["first"] > 0) & (df["year"] >= df["first"])).to_numpy()
    U = pd.get_dummies(df["unit"]).to_numpy(float)
    T = pd.get_dummies(df["year"]).to_numpy(float)[:, 1:]
    X = np.hstack([U, T])
    b, *_ = np.linalg.lstsq(X[~treated], df["y"].to_numpy()[~treated], rcond=None)
    out = df.loc[treated].copy()
    out["tau"] = out["y"] - X[treated] @ b
    out["event"] = out["year"] - out["first"]
    return out


@pytest.mark.parametrize("fe", ["cohort", "unit"])
def test_not_yet_treated_equals_imputation(fe) -> None:
    df = _panel()
    res = cp.etwfe(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                   time="year", fe=fe, aggregate="event")
    imp = _imputation(df)
    # balanced panel, no covariates: the two estimators are identical (Wooldridge 2021)
    assert res.params["ATT"] == pytest.approx(imp["tau"].mean(), rel=1e-9)
    for e, tau in imp.groupby("event")["tau"].mean().items():
        assert res.params[f"event_lag{e}"] == pytest.approx(tau, rel=1e-9)


def test_never_treated_cells_are_long_differences() -> None:
    df = _panel(5)
    res = cp.etwfe(df, outcome="y", cohort="first", never_treated=0, unit="unit",
                   time="year", control="never_treated")
    m = df.groupby(["first", "year"])["y"].mean()
    for _, row in res.att_gt.iterrows():
        g, t = row["cohort"], row["period"]
        did = (m[g, t] - m[g, g - 1]) - (m[0, t] - m[0, g - 1])
        assert row["estimate"] == pytest.approx(did, rel=1e-9, abs=1e-12)


def test_aggregate_without_refit_equals_refit(m3, mpdta) -> None:
    direct = _fit(mpdta, aggregate="group")
    via = m3.aggregate("group")
    pd.testing.assert_series_equal(direct.params, via.params)
    pd.testing.assert_frame_equal(direct.cov, via.cov)
    assert via.aggregation == "group" and m3.aggregation == "simple"


def test_event_time_contract(m3) -> None:
    from causalpolicing.designs.event_studies import EVENT_TIME_COLUMNS

    assert m3.event_time is None
    et = m3.aggregate("event").event_time
    assert tuple(et.columns) == EVENT_TIME_COLUMNS
    assert et["event_time"].tolist() == [0, 1, 2, 3]
    assert set(et["term"]) <= set(m3.aggregate("event").params.index)


def test_att_gt_table(m3) -> None:
    att = m3.att_gt
    assert list(att.columns[:5]) == ["cohort", "period", "event_time", "post", "n"]
    assert len(att) == 7 and att["n"].sum() == 291
    # the simple ATT is the n-weighted mean of the cells
    w = att["n"] / att["n"].sum()
    assert float((w * att["estimate"]).sum()) == pytest.approx(m3.params["ATT"], rel=1e-12)


@pytest.mark.parametrize(("kw", "match"), [
    ({"estimator": "ols"}, "estimator must be one of"),
    ({"control": "notyet"}, "control must be one of"),
    ({"aggregate": "dynamic"}, "aggregate must be one of"),
    ({"fe": "vs"}, "same effects as fe='cohort'"),
    ({"estimator": "fepois", "fe": "unit"}, "fe='none'"),
    ({"exposure": "lpop"}, "needs estimator='fepois'"),
    ({"cohort": "nope"}, "cohort='nope' is not a column"),
    ({"never_treated": -1}, "no unit is never treated"),
])
def test_refusals(mpdta, kw, match) -> None:
    with pytest.raises(SpecError, match=match):
        _fit(mpdta, **kw)


def test_refuses_always_treated_cohort(mpdta) -> None:
    d = mpdta.copy()
    d.loc[d["first.treat"] == 2004, "first.treat"] = 2003
    with pytest.raises(SpecError, match="treated from the first period"):
        _fit(d)


def test_rate_ratio_needs_poisson(m3) -> None:
    with pytest.raises(SpecError, match="needs a Poisson fit"):
        m3.rate_ratio  # noqa: B018
