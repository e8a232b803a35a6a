"""The Goodman-Bacon decomposition: the exact identity, a hand-computed case, R's castle numbers."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import causalpolicing as cp
from causalpolicing.diagnostics import BaconDecomposition, bacon_decomposition
from causalpolicing.diagnostics.bacon import COMPARISON_TYPES, R_TYPE_NAMES
from causalpolicing.exceptions import SpecError
from causalpolicing.report.plots import bacon_plot

TYPES = set(COMPARISON_TYPES)


def twfe(df: pd.DataFrame, outcome: str, treatment: str, unit: str, time: str) -> float:
    fit = cp.feols(f"{outcome} ~ {treatment} | {unit} + {time}", df, vcov="iid")
    return float(fit.params[treatment])


def castle(coding: str) -> pd.DataFrame:
    """The bundled castle panel; ``"mixtape"``: post recoded as in the Mixtape and R bacondecomp.

    The bundled post is 1 from the first FULL year under the law; the Mixtape (and the
    castle data of R bacondecomp, whose TWFE is 0.0818) count the adoption year as
    treated: post_mixtape = max(post, next year's post), 0 after the last year
    (studies/catalogue/castle_mixtape.toml).
    """
    df = cp.datasets.load("castle").to_frame()[["sid", "year", "l_homicide", "post"]]
    df = df.sort_values(["sid", "year"]).reset_index(drop=True)
    if coding == "mixtape":
        lead = df.groupby("sid")["post"].shift(-1).fillna(0)
        df["post"] = np.maximum(df["post"], lead)
    return df


def simulate(cohorts: dict[int, int], n_periods: int, seed: int) -> pd.DataFrame:
    """A balanced staggered panel: ``cohorts`` maps first treated period index -> units.

    Index 0 means treated in every period (always treated); ``n_periods`` or more means
    never treated. Effects are heterogeneous and grow with time since adoption, so the
    2×2 estimates differ and "Later vs Earlier" comparisons are biased.
    """
    rng = np.random.default_rng(seed)
    rows = []
    uid = 0
    for g, n in cohorts.items():
        for _ in range(n):
            a = rng.normal()
            for t in range(n_periods):
                d = int(t >= g)
                y = a + 0.2 * t + d * (1.0 + 0.05 * g + 0.3 * (t - g)) + rng.normal(scale=0.5)
                rows.append({"unit": f"u{uid:03d}", "year": 2001 + t, "y": y, "d": d})
            uid += 1
    return pd.DataFrame(rows)


# -- the identity: sum(weight * estimate) is the TWFE coefficient ---------------------------

@pytest.mark.parametrize("coding", ["bundled", "mixtape"])
def test_castle_weights_times_estimates_equal_feols(coding: str) -> None:
    df = castle(coding)
    res = bacon_decomposition(df, outcome="l_homicide", treatment="post", unit="sid",
                              time="year")
    c = res.comparisons
    beta = twfe(df, "l_homicide", "post", "sid", "year")
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(beta, abs=1e-10)
    assert res.twfe == pytest.approx(beta, abs=1e-12)
    assert float(c["weight"].sum()) == pytest.approx(1.0, abs=1e-12)
    assert (c["weight"] > 0).all()
    assert set(c["type"]) <= TYPES


def test_castle_codings_give_the_catalogued_twfe() -> None:
    # castle_mixtape.toml: 0.081812 with the Mixtape's coding, 0.069398 with the file's
    assert bacon_decomposition(castle("mixtape"), outcome="l_homicide", treatment="post",
                               unit="sid", time="year").twfe == pytest.approx(0.081812, abs=5e-7)
    assert bacon_decomposition(castle("bundled"), outcome="l_homicide", treatment="post",
                               unit="sid", time="year").twfe == pytest.approx(0.069398, abs=5e-7)


def test_castle_panel_input_equals_frame_input() -> None:
    panel = cp.datasets.load("castle")
    a = bacon_decomposition(panel, outcome="l_homicide", treatment="post")
    b = bacon_decomposition(castle("bundled"), outcome="l_homicide", treatment="post",
                            unit="sid", time="year")
    np.testing.assert_allclose(a.comparisons[["estimate", "weight"]],
                               b.comparisons[["estimate", "weight"]], rtol=0, atol=1e-13)
    assert a.twfe == pytest.approx(b.twfe, abs=1e-13)


SIMULATED = {
    "timing_and_never": ({2: 5, 4: 3, 7: 4, 99: 6}, 9),
    "timing_only": ({1: 4, 3: 2, 5: 3, 8: 1}, 9),
    "timing_and_always": ({0: 3, 2: 4, 5: 5}, 8),
    "timing_always_and_never": ({0: 2, 3: 4, 4: 1, 6: 3, 99: 5}, 8),
}


@pytest.mark.parametrize("case", list(SIMULATED))
def test_simulated_weights_times_estimates_equal_feols(case: str) -> None:
    cohorts, n_periods = SIMULATED[case]
    df = simulate(cohorts, n_periods, seed=20211)
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    c = res.comparisons
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(
        twfe(df, "y", "d", "unit", "year"), abs=1e-10)
    assert float(c["weight"].sum()) == pytest.approx(1.0, abs=1e-12)
    n_timing = sum(0 < g < n_periods for g in cohorts)
    expected = {"Earlier vs Later Treated": n_timing * (n_timing - 1) // 2,
                "Later vs Earlier Treated": n_timing * (n_timing - 1) // 2,
                "Treated vs Never Treated": n_timing * any(g >= n_periods for g in cohorts),
                "Treated vs Always Treated": n_timing * (0 in cohorts)}
    counts = c["type"].value_counts()
    assert {k: int(counts.get(k, 0)) for k in expected} == expected


@pytest.mark.parametrize("case", list(SIMULATED))
def test_each_estimate_is_twfe_on_its_2x2_subsample(case: str) -> None:
    cohorts, n_periods = SIMULATED[case]
    df = simulate(cohorts, n_periods, seed=7)
    first = df[df["d"] == 1].groupby("unit")["year"].min()
    df["cohort"] = df["unit"].map(first).astype(object)
    df.loc[df["cohort"].isna(), "cohort"] = "never"
    df.loc[df["cohort"] == df["year"].min(), "cohort"] = "always"
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    for row in res.comparisons.itertuples():
        sub = df[df["cohort"].isin([row.treated, row.control])]
        if row.type == "Earlier vs Later Treated":
            sub = sub[sub["year"] < row.control]
        elif row.type == "Later vs Earlier Treated":
            sub = sub[sub["year"] >= row.control]
        assert row.estimate == pytest.approx(twfe(sub, "y", "d", "unit", "year"), abs=1e-10), row


# -- a case computed by hand -------------------------------------------------------------------

def test_three_cohorts_by_hand() -> None:
    # 5 periods; cohort E (2 units) treated from period 3, L (1 unit) from period 5, U (2) never.
    y = {"e1": [1.0, 2.0, 5.0, 6.0, 8.0], "e2": [2.0, 2.0, 6.0, 7.0, 9.0],
         "l1": [0.0, 1.0, 2.0, 2.0, 6.0],
         "u1": [1.0, 1.5, 2.0, 3.0, 3.0], "u2": [3.0, 3.5, 3.0, 4.0, 4.0]}
    first = {"e1": 3, "e2": 3, "l1": 5, "u1": 99, "u2": 99}
    df = pd.DataFrame([{"unit": u, "t": t + 1, "y": v[t], "d": int(t + 1 >= first[u])}
                       for u, v in y.items() for t in range(5)])
    ye = (np.array(y["e1"]) + np.array(y["e2"])) / 2     # [1.5, 2, 5.5, 6.5, 8.5]
    yl = np.array(y["l1"])
    yu = (np.array(y["u1"]) + np.array(y["u2"])) / 2     # [2, 2.5, 2.5, 3.5, 3.5]
    # E vs U: periods 3-5 vs 1-2
    dd_eu = (ye[2:].mean() - ye[:2].mean()) - (yu[2:].mean() - yu[:2].mean())
    # L vs U: period 5 vs 1-4
    dd_lu = (yl[4:].mean() - yl[:4].mean()) - (yu[4:].mean() - yu[:4].mean())
    # E vs L before L is treated: periods 3-4 vs 1-2
    dd_el = (ye[2:4].mean() - ye[:2].mean()) - (yl[2:4].mean() - yl[:2].mean())
    # L vs E after E is treated: period 5 vs 3-4
    dd_le = (yl[4] - yl[2:4].mean()) - (ye[4] - ye[2:4].mean())
    # by hand: E vs U (20.5/3 - 1.75) - (9.5/3 - 2.25) = 25/6; L vs U (6 - 1.25) - (3.5 - 2.625)
    # = 31/8; E vs L (6 - 1.75) - (2 - 0.5) = 2.75; L vs E (6 - 2) - (8.5 - 6) = 1.5
    assert (dd_eu, dd_lu, dd_el, dd_le) == pytest.approx((25 / 6, 31 / 8, 2.75, 1.5), abs=1e-14)
    # weights: n_E = 2/5, n_L = 1/5, n_U = 2/5, D_E = 3/5, D_L = 1/5, numerators
    # n_E n_U D_E (1 - D_E) = 24/625, n_L n_U D_L (1 - D_L) = 8/625,
    # n_E n_L (D_E - D_L)(1 - D_E) = 8/625, n_E n_L D_L (D_E - D_L) = 4/625; V^D = 44/625
    expected = pd.DataFrame({
        "type": ["Earlier vs Later Treated", "Later vs Earlier Treated",
                 "Treated vs Never Treated", "Treated vs Never Treated"],
        "treated": [3, 5, 3, 5], "control": [5, 3, "never", "never"],
        "estimate": [2.75, 1.5, 25 / 6, 31 / 8],
        "weight": [2 / 11, 1 / 11, 6 / 11, 2 / 11],
    })
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="t")
    got = res.comparisons
    assert got[["type", "treated", "control"]].values.tolist() == \
        expected[["type", "treated", "control"]].values.tolist()
    np.testing.assert_allclose(got[["estimate", "weight"]], expected[["estimate", "weight"]],
                               rtol=0, atol=1e-13)
    beta = (2 * 2.75 + 1 * 1.5 + 6 * 25 / 6 + 2 * 31 / 8) / 11
    assert res.twfe == pytest.approx(beta, abs=1e-12)
    assert twfe(df, "y", "d", "unit", "t") == pytest.approx(beta, abs=1e-12)


# -- the published check: R bacondecomp's castle vignette ---------------------------------------

# R bacondecomp (CRAN vignette "bacon", castle doctrine example), printed to 5 decimals:
#   df_bacon <- bacon(l_homicide ~ post, data = bacondecomp::castle, id_var = "state",
#                     time_var = "year")
#   #>                       type  weight  avg_est
#   #> 1 Earlier vs Later Treated 0.05976 -0.00554
#   #> 2 Later vs Earlier Treated 0.03190  0.07032
#   #> 3     Treated vs Untreated 0.90834  0.08796
#   "Two-way FE estimate = 0.0818"
# https://cran.r-project.org/web/packages/bacondecomp/vignettes/bacon.html
# R's castle post counts the adoption year as treated (its TWFE, 0.0818, is the Mixtape's
# 0.081812), so the comparison uses the Mixtape coding. Tolerance: half a unit in the 5th
# decimal (the printed rounding).
R_CASTLE = {
    "Earlier vs Later Treated": (0.05976, -0.00554),
    "Later vs Earlier Treated": (0.03190, 0.07032),
    "Treated vs Untreated": (0.90834, 0.08796),
}


def test_castle_matches_r_bacondecomp_vignette() -> None:
    res = bacon_decomposition(castle("mixtape"), outcome="l_homicide", treatment="post",
                              unit="sid", time="year")
    summary = res.summary().rename(index=R_TYPE_NAMES)
    assert list(summary.index) == list(R_CASTLE)
    for kind, (weight, avg_est) in R_CASTLE.items():
        assert summary.loc[kind, "weight"] == pytest.approx(weight, abs=5e-6)
        assert summary.loc[kind, "estimate"] == pytest.approx(avg_est, abs=5e-6)
    assert res.twfe == pytest.approx(0.0818, abs=5e-5)


# -- summary, tidy, glance, immutability --------------------------------------------------------

def test_summary_tidy_glance() -> None:
    df = simulate(SIMULATED["timing_always_and_never"][0], 8, seed=3)
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    c, s = res.comparisons, res.summary()
    assert list(s.index) == list(COMPARISON_TYPES)
    for kind, part in c.groupby("type"):
        assert s.loc[kind, "weight"] == pytest.approx(part["weight"].sum(), abs=1e-14)
        assert s.loc[kind, "estimate"] == pytest.approx(
            (part["weight"] * part["estimate"]).sum() / part["weight"].sum(), abs=1e-14)
        assert s.loc[kind, "n_comparisons"] == len(part)
    assert float((s["weight"] * s["estimate"]).sum()) == pytest.approx(res.twfe, abs=1e-10)
    tidy = res.tidy()
    assert list(tidy.columns) == ["term", "type", "treated", "control", "estimate", "weight"]
    assert "2004 vs never" in set(tidy["term"]) and "2004 vs always" in set(tidy["term"])
    g = res.glance().iloc[0]
    assert (g["n_units"], g["n_periods"], g["n_timing_groups"], g["n_never_treated"],
            g["n_always_treated"], g["n_comparisons"]) == (15, 8, 3, 5, 2, 12)
    assert g["decomposition"] == pytest.approx(g["twfe"], abs=1e-10)
    cohorts = res.cohorts
    assert cohorts["cohort"].tolist() == ["always", 2004, 2005, 2007, "never"]
    assert cohorts["n_units"].tolist() == [2, 4, 1, 3, 5]


def test_result_is_frozen_and_input_untouched() -> None:
    df = simulate({2: 3, 5: 2, 99: 3}, 7, seed=1)
    before = df.copy()
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    pd.testing.assert_frame_equal(df, before)
    assert isinstance(res, BaconDecomposition)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.twfe = 0.0  # type: ignore[misc]
    c = res.comparisons
    c.loc[:, "weight"] = 0.0
    assert res.comparisons["weight"].sum() == pytest.approx(1.0, abs=1e-12)


def test_r_type_names_cover_every_type() -> None:
    assert set(R_TYPE_NAMES) == TYPES
    assert R_TYPE_NAMES["Treated vs Never Treated"] == "Treated vs Untreated"
    assert R_TYPE_NAMES["Treated vs Always Treated"] == "Later vs Always Treated"


def test_exported_from_diagnostics_and_report() -> None:
    assert cp.diagnostics.bacon_decomposition is bacon_decomposition
    assert cp.report.bacon_plot is bacon_plot


# -- refusals -------------------------------------------------------------------------------------

def base() -> pd.DataFrame:
    return simulate({2: 2, 4: 2, 99: 2}, 6, seed=5)


def test_unbalanced_panel_is_refused_naming_the_units() -> None:
    df = base()
    df = df.drop(df.index[(df["unit"] == "u003") & (df["year"] == 2002)])
    with pytest.raises(SpecError, match=r"balanced panel.*'u003'.*groupby\('unit'\)\.filter"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_treatment_switching_off_is_refused_naming_unit_and_period() -> None:
    df = base()
    df.loc[(df["unit"] == "u001") & (df["year"] == 2005), "d"] = 0
    with pytest.raises(SpecError, match=r"treatment='d' must be absorbing.*'u001' \(off in "
                                        r"2005\).*cummax"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_non_binary_treatment_is_refused_naming_the_rows() -> None:
    df = base().astype({"d": float})
    df.loc[3, "d"] = 0.5
    with pytest.raises(SpecError, match=r"treatment='d' must be binary.*1 rows.*index 3.*> 0"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_string_treatment_is_refused() -> None:
    df = base().assign(d=lambda x: x["d"].map({0: "no", 1: "yes"}))
    with pytest.raises(SpecError, match=r"binary 0/1 column; it has dtype"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_bool_treatment_is_accepted() -> None:
    df = base()
    a = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    b = bacon_decomposition(df.assign(d=df["d"].astype(bool)), outcome="y", treatment="d",
                            unit="unit", time="year")
    pd.testing.assert_frame_equal(a.comparisons, b.comparisons)


def test_missing_values_are_refused_naming_the_rows() -> None:
    df = base()
    df.loc[7, "y"] = np.nan
    with pytest.raises(SpecError, match=r"\['y'\] are missing in 1 rows \(index 7\)"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_duplicate_unit_periods_are_refused() -> None:
    df = base()
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(SpecError,
                       match=r"\('unit', 'year'\) pair must appear once; 2 rows.*index 0, 36"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


def test_unknown_column_suggests_a_name() -> None:
    with pytest.raises(SpecError, match=r"outcome='yy' is not a column.*did you mean 'y'"):
        bacon_decomposition(base(), outcome="yy", treatment="d", unit="unit", time="year")


def test_frame_without_unit_and_time_is_refused() -> None:
    with pytest.raises(SpecError, match=r"pass unit and time="):
        bacon_decomposition(base(), outcome="y", treatment="d")


def test_no_timing_variation_is_refused() -> None:
    df = simulate({0: 2, 99: 3}, 5, seed=2)
    with pytest.raises(SpecError, match=r"No unit changes treatment"):
        bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")


# -- the plot ----------------------------------------------------------------------------------

def by_gid(items, gid):
    found = [a for a in items if a.get_gid() == gid]
    assert len(found) == 1, [a.get_gid() for a in items]
    return found[0]


def test_plot_shows_every_comparison_and_the_twfe_line() -> None:
    df = simulate(SIMULATED["timing_always_and_never"][0], 8, seed=3)
    res = bacon_decomposition(df, outcome="y", treatment="d", unit="unit", time="year")
    fig = bacon_plot(res)
    ax = fig.axes[0]
    c = res.comparisons
    for kind in COMPARISON_TYPES:
        pts = by_gid(ax.collections, f"comparisons:{kind}").get_offsets()
        part = c[c["type"] == kind]
        np.testing.assert_array_equal(np.asarray(pts), part[["weight", "estimate"]].to_numpy())
    assert list(by_gid(ax.lines, "twfe").get_ydata()) == [res.twfe, res.twfe]
    assert [t.get_text() for t in ax.get_legend().get_texts()][:4] == list(COMPARISON_TYPES)


def test_plot_draws_into_given_axes() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    res = bacon_decomposition(base(), outcome="y", treatment="d", unit="unit", time="year")
    assert bacon_plot(res, ax=ax) is fig
    assert len(ax.collections) == 3


def test_plot_refuses_other_objects() -> None:
    res = cp.feols("y ~ d | unit + year", base(), vcov="iid")
    with pytest.raises(SpecError, match=r"bacon_decomposition"):
        bacon_plot(res)


def test_the_docs_example_runs() -> None:
    text = (Path(__file__).parents[1] / "docs" / "analysis.md").read_text(encoding="utf-8")
    section = text.split("## Diagnostics from Python: the Goodman-Bacon decomposition")[1]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    scope: dict = {}
    exec(compile(block, "docs/analysis.md", "exec"), scope)  # noqa: S102 - our own docs
    assert scope["res"].twfe == pytest.approx(0.081812, abs=5e-7)
    assert scope["res"].summary().loc["Earlier vs Later Treated", "weight"] == pytest.approx(
        0.05976, abs=5e-6)
