"""Build notebooks/02_fixed_effects.ipynb (run: python notebooks/_build_02.py).

The notebook is executed by tests/test_notebooks.py with CAUSALPOLICING_SMALL=1
(fewer bootstrap draws).
"""

from pathlib import Path

import nbformat as nbf

cells: list[tuple[str, str]] = [
    ("md", """# 02 · Does more enforcement raise drug-related mortality? Fixed-effects panels, honestly

A Swiss-style question (Nordt & Stohler 2010 found that more intense street-level enforcement went
with higher heroin mortality, and that deaths in turn drove later enforcement) asked of the bundled
**simulated** panel `simulated_cantons`: 26 cantons, 1975–2007, where we *know* the truth.

1. Naive pooled regression vs two-way fixed effects vs Poisson fixed effects with a population exposure
2. Effects as rate ratios per stated changes of enforcement
3. Leads and lags, and the feedback diagnostics (deaths → later enforcement)
4. Few clusters: CRV1 vs CRV3 vs the wild cluster bootstrap (and a Poisson score bootstrap)
5. The recovered effect against the true one"""),
    ("code", """import os, warnings
import numpy as np
import pandas as pd
import causalpolicing as cp

SMALL = os.environ.get("CAUSALPOLICING_SMALL") == "1"   # the test suite runs a small version
REPS = 999 if SMALL else 9999
pd.set_option("display.width", 140)

panel, card = cp.datasets.load("simulated_cantons", with_card=True)
truth = card.true_parameters
print(panel)
truth"""),
    ("md", """## 1. Three estimates of the same effect

The outcome is a count (deaths) in populations of very different sizes. A naive pooled regression of
the death *rate* on enforcement mixes differences between cantons (urban cantons have more users
*and* more enforcement) with the effect. Two-way fixed effects compare each canton with itself over
time, net of national shocks; the Poisson model does the same on the count scale, with the population
as exposure, and its coefficient is a log rate ratio — directly comparable with the truth."""),
    ("code", """rates = panel.rate("deaths", per=100_000)          # adds deaths_per_100k
regressors = "offences_per_1000 + substitution_coverage + neighbour_offences_per_1000"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    pooled = cp.feols(f"deaths_per_100k ~ {regressors}", rates, vcov={"CRV1": "canton"})
    twfe = cp.feols(f"deaths_per_100k ~ {regressors} | canton + year", rates)
    pois = cp.fepois(f"deaths ~ {regressors} | canton + year", panel)   # exposure: population
print(sorted({w.category.__name__ for w in caught}))
pd.concat({"pooled OLS": pooled.tidy().set_index("term"),
           "two-way FE": twfe.tidy().set_index("term"),
           "Poisson FE": pois.tidy().set_index("term")}, axis=0).round(4)"""),
    ("md", """The FewClustersWarning is the toolkit telling us that 26 clusters are too few for
cluster-robust standard errors to be trusted as they are (section 4).

## 2. Rate ratios per stated changes"""),
    ("code", """cp.rate_ratios(pois, per={"offences_per_1000": 1, "substitution_coverage": 1,
                          "neighbour_offences_per_1000": 1}).round(4)"""),
    ("code", """cp.rate_ratios(pois, per="sd").round(4)   # per one standard deviation in the estimation sample"""),
    ("md", """## 3. Leads, lags and feedback

In this simulation, as in the Swiss data, police respond to deaths two years later. A *lead* of
enforcement (its value two years ahead) then "predicts" today's deaths — not because the future
causes the present, but because today's deaths cause future enforcement. The toolkit shows leads, the
reverse regression and a panel Granger test by default."""),
    ("code", """with warnings.catch_warnings():
    warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
    dl = cp.distributed_lag(panel, "deaths", "offences_per_1000", lags=2, leads=2,
                            estimator="fepois", covariates=["substitution_coverage"])
print(dl.leads_test)
dl.event_time().round(4)"""),
    ("code", """with warnings.catch_warnings():
    warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
    report = cp.diagnostics.feedback_report(panel, outcome="deaths", treatment="offences_per_1000")
report.to_frame()"""),
    ("md", """## 4. Few clusters: which uncertainty to believe

With 26 cantons, CRV1 standard errors are too small. CRV3 (the leave-one-cluster-out jackknife) and
the wild cluster bootstrap (restricted, Webb weights) are the honest defaults. For the linear model
we compare all three; for the Poisson model, CRV1 vs CRV3 and a score bootstrap."""),
    ("code", """with warnings.catch_warnings():
    warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
    twfe_crv3 = twfe.with_cov({"CRV3": "canton"})
    boot = cp.inference.wild_bootstrap(twfe, "offences_per_1000", reps=REPS, weights="webb", seed=1)
    pois_crv3 = pois.with_cov({"CRV3": "canton"})
    pboot = cp.inference.poisson_bootstrap(pois, "offences_per_1000", reps=REPS, seed=1,
                                           conf_int=not SMALL)

def row(name, tidy):
    r = tidy.set_index("term").loc["offences_per_1000"]
    return {"inference": name, "estimate": r.estimate, "std_error": r.std_error,
            "p_value": r.p_value, "conf_low": r.conf_low, "conf_high": r.conf_high}

pd.DataFrame([
    row("linear, CRV1", twfe.tidy()), row("linear, CRV3", twfe_crv3.tidy()),
    row("linear, wild bootstrap (WCR, Webb)", boot.tidy()),
    row("Poisson, CRV1", pois.tidy()), row("Poisson, CRV3", pois_crv3.tidy()),
    row("Poisson, score bootstrap", pboot.tidy()),
]).round(4)"""),
    ("md", """## 5. Recovered vs true

The card states the true enforcement rate ratio. The Poisson FE estimate (with its CRV3 interval) is
compared with it below; a Monte Carlo over 200 simulated panels (`pytest -m slow`) checks coverage."""),
    ("code", """rr = cp.rate_ratios(pois_crv3, per=1).set_index("term")
true_rr = truth["enforcement_rr"]
est = rr.loc["offences_per_1000"]
print(f"true rate ratio {true_rr:.3f}; estimated {est.rate_ratio:.3f} "
      f"(95% CI {est.conf_low:.3f} to {est.conf_high:.3f}, CRV3)")
assert est.conf_low <= true_rr <= est.conf_high"""),
    ("md", """### An instrument

The simulation also has an exogenous budget shock that moves enforcement but affects deaths only
through it: a valid instrument. The linear IV estimate uses the same formula syntax as fixest."""),
    ("code", """with warnings.catch_warnings():
    warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
    iv = cp.feols("deaths_per_100k ~ substitution_coverage | canton + year | "
                  "offences_per_1000 ~ budget_shock", rates)
print(iv.first_stage)
iv.tidy().round(4)"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
            for kind, src in cells]
nbf.write(nb, Path(__file__).with_name("02_fixed_effects.ipynb"))
