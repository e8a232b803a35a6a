"""Build notebooks/06_staggered_adoption.ipynb (run: python notebooks/_build_06.py).

The notebook is generated with nbformat and executed with nbclient (with
CAUSALPOLICING_SMALL=1, as tests/test_notebooks.py does), so it is stored with its outputs.
``--no-execute`` writes it without outputs.
"""

import sys
from pathlib import Path

from _nbbuild import build

cells: list[tuple[str, str]] = [
    ("md", """# 06 · Staggered adoption: when two-way fixed effects gets the sign wrong

States adopt a law in different years. The textbook regression — deaths on a law indicator with
state and year effects — then compares early adopters not only with states that have not yet
adopted, but also *late adopters with early adopters whose effects are still growing*. When the
effect differs between adoption waves and changes over time, that regression can report an effect
of the wrong sign. This notebook shows it on data where the truth is known, and what to use instead.

**The data are SIMULATED** (`simulated_overdose_laws`): fifty imaginary states, a law adopted in
six waves, an overdose epidemic. Nothing here is evidence about any real law; the point is that the
true effects are known exactly, so every estimator can be graded.

1. The data and the known truth
2. The static two-way fixed-effects regression, and why it fails (Bacon decomposition, negative weights)
3. The TWFE event study against heterogeneity-robust estimators, each graded against the truth
4. The event studies overlaid, with pointwise and uniform bands
5. How much may parallel trends fail? HonestDiD, and what a pre-trend test can and cannot show
6. The same from the command line, and a check against R's `did` on real data (`mpdta`)"""),
    ("code", """%matplotlib inline
import os, subprocess, sys, tempfile, warnings
from pathlib import Path
import numpy as np
import pandas as pd
import causalpolicing as cp
from causalpolicing.diagnostics import bacon_decomposition, honest_did, twfe_weights
from causalpolicing.report.plots import bacon_plot, event_study_plot, honest_did_plot

SMALL = os.environ.get("CAUSALPOLICING_SMALL") == "1"   # fewer bootstrap and simulation draws
B = 199 if SMALL else 999
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)

panel = cp.datasets.load("simulated_overdose_laws")
card = cp.datasets.card("simulated_overdose_laws")
print(card.kind.upper(), "-", card.title)
print(panel.roles)"""),
    ("md", """## 1. The data and the known truth

Deaths are counts with a population at risk (the Panel's `exposure`), and the treatment timing is
declared once as the Panel's **cohort** role: `adopt_year`, the first year under the law, with `0`
for the three states that never adopt it. The data card says how the data were made:"""),
    ("code", """print(card.description)"""),
    ("code", """frame = panel.to_frame()
waves = (frame.groupby("adopt_year")["state"].nunique().rename("states").to_frame()
         .rename(index={0: "never"}))
waves.T"""),
    ("md", """The simulator knows the expected deaths of every treated state-year with and without the law, so
the effects below are exact, not estimated. `truth_event_time.csv` averages them over waves by
years since adoption (as deaths per state and as a rate ratio); the card's `true_parameters`
hold the overall numbers."""),
    ("code", """truth = card.true_parameters
truth_gt = pd.read_csv(card.folder / "truth_att_gt.csv")
truth_e = pd.read_csv(card.folder / "truth_event_time.csv").set_index("event_time")
print(f"true rate ratio over all treated state-years: {truth['att_rate_ratio']:.3f}  "
      f"(deaths averted: {truth['deaths_averted']:,.0f})")
truth_e.loc[[0, 1, 2, 5, 10, 15, 19]].round(3)"""),
    ("md", """The law averts deaths everywhere, and its effect builds up with time since adoption — faster for
the early waves. That is exactly the setting in which the static regression breaks.

## 2. The static two-way fixed-effects regression

A Poisson regression with state and year effects and the population as exposure (log offset):"""),
    ("code", """twfe = cp.fepois("deaths ~ law | state + year", panel, exposure="population")
cp.rate_ratios(twfe)[["term", "rate_ratio", "conf_low", "conf_high", "percent_change"]].round(3)"""),
    ("md", """A rate ratio of about 1.18: the regression says the law **increases** deaths by ~18%, with a
confidence interval well above 1. The truth is a rate ratio of 0.54. The standard error is not the
problem; the estimand is.

### Why: the Bacon decomposition

Goodman-Bacon (2021): with a linear outcome, the static TWFE coefficient is a weighted average of
all 2x2 difference-in-differences between adoption waves (and the never-treated). We decompose the
linear regression on the death rate per 100,000 (the decomposition is defined for OLS; the Poisson
coefficient fails for the same reason)."""),
    ("code", """rates = panel.rate("deaths", per=100_000, name="rate")
bacon = bacon_decomposition(rates, outcome="rate", treatment="law")
print(f"TWFE coefficient on the rate: {bacon.twfe:+.3f} deaths per 100,000 (truth: about -1.7)")
bacon.summary().round(3)"""),
    ("code", """bacon_plot(bacon)"""),
    ("md", """More than half of the weight sits on *later-vs-earlier* comparisons, which use states that adopted
the law earlier as controls. Their effects are still growing after the later wave adopts, so the
"control" trend falls faster than it would without the law, and the comparison credits the later
law with *increasing* deaths. Those comparisons are positive (+1.39) and outweigh the clean ones.

The same diagnosis, cell by cell (de Chaisemartin and D'Haultfœuille 2020): the TWFE coefficient
is a weighted sum of the treated cells' effects, and some weights are negative."""),
    ("code", """weights = twfe_weights(rates, outcome="rate", treatment="law")
print(weights.narrative())
weights.summary().round(3)"""),
    ("md", """Negative weights mean that the coefficient can have the opposite sign of every single effect —
which is what happens here.

## 3. Event studies: TWFE against heterogeneity-robust estimators

An event study replaces the single indicator by leads and lags of adoption. Fitted by TWFE it has
the same problem (Sun and Abraham 2021): each coefficient is contaminated by the effects at other
event times. The robust estimators compare adopters only with states that have not adopted (yet),
and differ in what they average and on which scale:

| estimator | outcome, model | comparison group | answers |
|---|---|---|---|
| TWFE event study | deaths, Poisson + exposure | all other states (incl. earlier adopters) | nothing clean under heterogeneity |
| Callaway–Sant'Anna | death rate per 100k, linear | not-yet-treated (only 3 never-treated states) | average change in the rate, per wave and year, then by event time |
| Imputation (Borusyak–Jaravel–Spiess) | deaths, Poisson + exposure | untreated state-years (imputes each treated one) | observed vs imputed deaths: rate ratio, deaths averted |
| Sun–Abraham | deaths, Poisson + exposure | never-treated | cohort-share average of log rate ratios per event time |
| ETWFE (Wooldridge) | deaths, Poisson + exposure | not-yet-treated | deaths averted per treated state-year, rate ratio |

Callaway–Sant'Anna is linear, so it needs parallel trends in the **rate**; the Poisson estimators
need them in the **log** rate. The simulation has parallel trends in logs (multiplicative state and
year effects), so with a growing epidemic the linear version is the one under strain."""),
    ("code", """warnings.filterwarnings("ignore", category=cp.exceptions.DataWarning)  # small never-treated group, window drops
warnings.filterwarnings("ignore", category=pd.errors.PerformanceWarning)
LEADS, LAGS = 5, 10

es = cp.event_study(panel, leads=LEADS, lags=LAGS, bin_endpoints=False, estimator="fepois")
cs = cp.callaway_santanna(rates, outcome="rate", control_group="not_yet_treated",
                          min_e=-LEADS, max_e=LAGS, bootstrap=B, seed=1)
imp = cp.did_imputation(panel, estimator="fepois", exposure="population",
                        horizons=range(LAGS + 1), pretrends=LEADS)
sa = cp.sun_abraham(panel, estimator="fepois", leads=LEADS, lags=LAGS)
et = cp.etwfe(panel, estimator="fepois", aggregate="simple")

# the overall effects use every treated state-year (no event-time window)
cs_all = cp.callaway_santanna(rates, outcome="rate", control_group="not_yet_treated",
                              aggregate="simple")
imp_all = cp.did_imputation(panel, estimator="fepois", exposure="population")
sa_all = cp.sun_abraham(panel, estimator="fepois")"""),
    ("md", """### One table, graded against the truth

Each estimator's overall effect, on its own scale, next to the true value of the *same* quantity.
Deaths averted are computed from each estimate (for Callaway–Sant'Anna: the rate change times the
treated state-years' population)."""),
    ("code", """post = frame["law"] == 1
treated_pop = float(frame.loc[post, "population"].sum())
# true changes on the other scales, from the exact truth file
w = truth_gt["n_states"]
true_log_rr = float((w * np.log(truth_gt["rate_ratio"])).sum() / w.sum())  # cell-size weighted
true_rate = -truth["deaths_averted"] / treated_pop * 1e5  # deaths per 100k, population-weighted

def row(name, model, scale, est, lo, hi, true, averted):
    return {"estimator": name, "model": model, "scale": scale, "estimate": est, "conf_low": lo,
            "conf_high": hi, "truth": true, "deaths_averted": averted}

rr = cp.rate_ratios(twfe).iloc[0]
cs_ci = cs_all.conf_int().loc["ATT"]
d_imp = imp_all.deaths.set_index("term").loc["ATT"]
rr_sa = cp.rate_ratios(sa_all).set_index("term").loc["ATT"]
sa_added = sa_all.deaths_added().set_index("term").loc["ATT", "added"]
rr_et = et.rate_ratio.set_index("term").loc["ATT"]
et_added = et.counts_added.set_index("term").loc["ATT", "estimate"]
table = pd.DataFrame([
    row("static TWFE", "Poisson + exposure", "rate ratio", rr["rate_ratio"], rr["conf_low"],
        rr["conf_high"], truth["att_rate_ratio"], np.nan),
    row("Callaway-Sant'Anna", "linear, rate per 100k", "change per 100k",
        cs_all.params["ATT"], cs_ci["conf_low"], cs_ci["conf_high"], true_rate,
        -cs_all.params["ATT"] * treated_pop / 1e5),
    row("Imputation (BJS)", "Poisson + exposure", "rate ratio", d_imp["rate_ratio"],
        d_imp["rr_conf_low"], d_imp["rr_conf_high"], truth["att_rate_ratio"], -d_imp["added"]),
    row("Sun-Abraham", "Poisson + exposure", "rate ratio (mean log)", rr_sa["rate_ratio"],
        rr_sa["conf_low"], rr_sa["conf_high"], np.exp(true_log_rr), -sa_added),
    row("ETWFE", "Poisson + exposure", "rate ratio", rr_et["estimate"], rr_et["conf_low"],
        rr_et["conf_high"], truth["att_rate_ratio"], -et_added),
])
print(f"true deaths averted: {truth['deaths_averted']:,.0f}")
table.round(3)"""),
    ("md", """Static TWFE gets the sign wrong; every robust estimator gets the sign right and its confidence
interval covers its truth. The differences between them are differences of *question*:

* imputation and ETWFE estimate the ratio of observed to counterfactual deaths summed over all
  treated state-years (the truth's 0.54, and 60,876 deaths averted). They give identical numbers:
  with Poisson (a canonical link) the saturated ETWFE fit and imputation from the untreated
  state-years coincide (Wooldridge 2023);
* Sun–Abraham averages *log* rate ratios with cohort-share weights (its truth is the
  cell-size-weighted mean of the true log ratios, 0.46), so its deaths averted are not the truth's
  60,876. Its only comparison group is the three never-treated states, which makes it the noisiest;
* Callaway–Sant'Anna estimates a change in the death rate per 100,000, averaged over states. The
  truth column is the population-weighted change (computed from the truth file; the unweighted state
  average differs by under 1% on these data). Being linear, it assumes parallel trends in the
  rate, while the simulation has them in the log rate: a second reason, besides the question, to
  prefer the Poisson estimators for counts.

By years since adoption (rate ratios; Callaway–Sant'Anna as a rate change per 100,000):"""),
    ("code", """def lag_terms(res):
    et_ = res.event_time.set_index("event_time")
    return et_.loc[(et_.index >= 0) & (et_.index <= LAGS), "estimate"]

by_e = pd.DataFrame({
    "truth RR": truth_e.loc[0:LAGS, "rate_ratio"],
    "TWFE ES": np.exp(lag_terms(es)),
    "imputation": np.exp(lag_terms(imp)),
    "Sun-Abraham": np.exp(lag_terms(sa)),
    "ETWFE": et.aggregate("event").rate_ratio.set_index("term")["estimate"].reindex(
        [f"event_lag{e}" for e in range(LAGS + 1)]).to_numpy(),
    "CS (per 100k)": lag_terms(cs),
})
by_e.round(3)"""),
    ("md", """## 4. The event studies, overlaid

`event_study_plot` overlays any results with the event-time contract. `band="both"` draws the
pointwise 95% intervals (thick) and the **uniform** (simultaneous) band (thin): the band that covers
the whole path with 95% probability, which is the one to use when reading the path as a whole
(e.g. "all leads are zero"). The three Poisson estimators share the log-rate-ratio scale; the true
log rate ratios are added as a line."""),
    ("code", """fig = event_study_plot({"TWFE event study": es, "Sun-Abraham": sa, "Imputation": imp},
                       band="both", seed=1)
ax = fig.axes[0]
ax.plot(truth_e.loc[0:LAGS].index, np.log(truth_e.loc[0:LAGS, "rate_ratio"]), "k--", lw=1,
        label="truth (log rate ratio)")
ax.legend(fontsize=8)
ax.set_ylabel("log rate ratio")
fig"""),
    ("md", """On these data the TWFE *event study* is much less wrong than the static regression: with a full
set of leads and lags (and the treated years outside the window dropped) most of the forbidden
comparisons are gone, and its lags stay close to the truth. That is a property of this simulation,
not a guarantee: each TWFE coefficient is still a weighted mix of effects at other event times and
cohorts (Sun and Abraham 2021), and nothing in its output says how large the mix is. The robust
estimators are correct by construction. Sun–Abraham, resting on three never-treated states, is
the noisiest and sits below the truth at most horizons.

Callaway–Sant'Anna, on the rate, with its multiplier-bootstrap uniform band:"""),
    ("code", """true_rate_e = (truth_gt.assign(d=truth_gt["att_deaths"] * truth_gt["n_states"])
               .merge(frame.loc[post].assign(year=frame.loc[post, "year"].dt.year)
                      .groupby(["adopt_year", "year"])["population"].sum()
                      .rename_axis(["cohort", "year"]).reset_index(), on=["cohort", "year"])
               .groupby("event_time")[["d", "population"]].sum())
true_rate_e = true_rate_e["d"] / true_rate_e["population"] * 1e5
fig = event_study_plot({"Callaway-Sant'Anna (rate per 100k)": cs}, band="both")
fig.axes[0].plot(true_rate_e.loc[0:LAGS].index, true_rate_e.loc[0:LAGS], "k--", lw=1,
                 label="truth (population-weighted)")
fig.axes[0].legend(fontsize=8)
fig.axes[0].set_ylabel("change in deaths per 100,000")
fig"""),
    ("md", """## 5. How much may parallel trends fail? HonestDiD

A pre-trend test asks whether the leads are jointly zero. It **can** reveal a violation that shows
up before adoption. It **cannot** show that parallel trends hold afterwards: a test that does not
reject may simply lack power, and conditioning on passing it distorts the estimates that follow
(Roth 2022). Here none of the three tests rejects at 5%, yet the p-values of 0.06–0.08 for TWFE and
Sun–Abraham would worry many analysts although the simulation has exact parallel trends in logs: with
50 states the leads are noisy, and a TWFE lead can also pick up other cohorts' effects."""),
    ("code", """tests = {"TWFE event study": es.pretrend_test, "Sun-Abraham": sa.pretrend_test,
         "Imputation": imp.pretrend_test}
pd.DataFrame({k: {"statistic": t.statistic, "df": t.df_num, "p_value": t.p_value}
              for k, t in tests.items()}).T.round(4)"""),
    ("md", """Rambachan and Roth (2023) turn the question around: how large may the post-adoption violation be,
relative to the largest pre-adoption one (`Mbar`), before the effect is no longer distinguishable
from zero? We take the Sun–Abraham event study and its first post-adoption effect (log rate ratio).
The computation grows with the number of post-adoption coefficients, so we refit it with three lags
(the first-year effect is what we ask about):"""),
    ("code", """sa_short = cp.sun_abraham(panel, estimator="fepois", leads=LEADS, lags=3)
hd = honest_did(sa_short, method="relative_magnitude", grid=[0, 0.25, 0.5, 0.75, 1, 1.5, 2],
                seed=1)
print(hd.narrative())
print(f"breakdown Mbar: {hd.breakdown:.2f}")
hd.robust.round(4)"""),
    ("code", """honest_did_plot(hd)"""),
    ("md", """Read it as: the first-year effect stays distinguishable from zero as long as the post-adoption
violation of parallel trends is smaller than about nine tenths of the worst pre-adoption one. Whether violations that large are plausible is a judgement about the
setting, best made before looking — HonestDiD makes it explicit, it does not make it for you.

## 6. From the command line, and a check against R

The same design runs from the command line on a file (here a temporary CSV with the rate column).
`--design` adds the design's fit to the report with its event-study figure; `--design-option`
passes its options:"""),
    ("code", """work = Path(tempfile.mkdtemp())
rates.to_frame().assign(year=lambda d: d["year"].dt.year).to_csv(work / "laws.csv", index=False)

def causalpolicing(*args):
    print("$ causalpolicing", " ".join(args))
    out = subprocess.run([sys.executable, "-m", "causalpolicing.cli", *args],
                         capture_output=True, text=True)
    print("exit code:", out.returncode)
    return out

out = causalpolicing("analyze", str(work / "laws.csv"), "--unit", "state", "--time", "year",
                     "--outcome", "rate", "--treatment", "law", "--design", "callaway_santanna",
                     "--cohort", "adopt_year", "--never-treated", "0",
                     "--design-option", "control_group=not_yet_treated",
                     "--out", str(work / "report"))
print(out.stdout.strip().splitlines()[-1])
tidy = pd.read_csv(work / "report" / "tidy.csv")
tidy[tidy["term"].isin(["event_lag0", "event_lag5", "event_lag10", "ATT"])].iloc[:, :6].round(3)"""),
    ("md", """(The design's default aggregation is `dynamic`, so its `ATT` averages the event-time effects, a
different weighting from the `simple` average in the table above.)

Finally, Callaway–Sant'Anna against the authors' own R package on real data: the catalogue study
`callaway_santanna_mpdta` re-estimates the four aggregations of R `did`'s minimum-wage example and
compares them with the numbers R prints. Point estimates must match at R's rounding; R prints
*bootstrap* standard errors, which move with the random draws, so the study compares our analytic
ones within a declared tolerance and says so."""),
    ("code", """out = causalpolicing("reproduce", "callaway_santanna_mpdta")
lines = out.stdout.splitlines()
print("\\n".join(lines[:12] + ["..."] + [ln for ln in lines if "REPRODUCED" in ln]))"""),
    ("md", """## What to take away

* With staggered adoption and effects that differ by wave or grow over time, the static TWFE
  coefficient is not an average treatment effect: check it with `bacon_decomposition` and
  `twfe_weights`, and prefer a heterogeneity-robust design.
* Choose the design by the question and the scale on which parallel trends are credible: counts
  with a population call for Poisson with `exposure` (rate ratios, deaths averted: imputation,
  ETWFE, Sun–Abraham); Callaway–Sant'Anna answers in the units of a linear outcome.
* Report event studies with uniform bands, treat pre-trend tests as weak evidence, and say how
  large a violation would overturn the conclusion (HonestDiD's breakdown value).
* Everything above used SIMULATED data with a known truth; on real data there is no truth column —
  which is why the estimators are checked against their authors' software (`reproduce`)."""),
]

HERE = Path(__file__).resolve().parent
TARGET = HERE / "06_staggered_adoption.ipynb"


def main(argv: list[str]) -> int:
    return build(cells, TARGET, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
