"""Build notebooks/03_causal_graph.ipynb (run: python notebooks/_build_03.py).

The notebook is written and executed here (stored with its outputs), and executed
again by tests/test_notebooks.py with CAUSALPOLICING_SMALL=1.
"""

import os
from pathlib import Path

import nbformat as nbf
from nbclient import NotebookClient

cells: list[tuple[str, str]] = [
    ("md", """# 03 · Enforcement and mortality as a causal graph: identification, tests, refutation

DoWhy has the best graph identification in Python but works on cross-sections; panel data need
unit and time effects, clustered inference and refuters that respect the panel. This notebook joins
the two on the bundled, **simulated** `simulated_cantons` panel (26 cantons, 1975–2007):

1. Write the graph (DOT), with the feedback of deaths on later enforcement as a lagged node
2. Identify the effect with DoWhy: adjustment sets, instruments, and what happens when a confounder is latent
3. Estimate with the identified set **plus canton and year effects**, clustered by canton
4. Test the graph against the data: the conditional independences it implies
5. Refute the estimate with panel-aware placebos (vectorised), and compare with DoWhy's refuters
6. Sensitivity to unobserved confounding: robustness value and E-value
7. Mediation through harm-reduction access (on a panel drawn from a known graph)"""),
    ("code", """import os, warnings
import causalpolicing as cp
from causalpolicing import graph as cg

SMALL = os.environ.get("CAUSALPOLICING_SMALL") == "1"   # the test suite runs a small version
REPS = 200 if SMALL else 1000
warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)   # 26 cantons: said once here

panel, card = cp.datasets.load("simulated_cantons", with_card=True)
panel = panel.rate("deaths", per=100_000)            # deaths_per_100k, the outcome of the linear model
truth = card.true_parameters
truth"""),
    ("md", """## 1. The graph

In the simulation (and in the Swiss story it imitates) enforcement responds to deaths two years
earlier, a budget shock moves enforcement only, substitution treatment protects, and neighbours'
enforcement spills over. A DAG cannot have a cycle, so the feedback is written with a lagged node:
`deaths_per_100k_lag2 -> offences_per_1000`. Nodes named `<column>_lag<k>` are built from the panel
when needed. The drug-market size varies by canton and over the national epidemic: canton and year
effects absorb it, so it is not a node here (a confounder the fixed effects cannot absorb must be)."""),
    ("code", """dot = '''digraph {
  deaths_per_100k_lag2 -> offences_per_1000;
  budget_shock -> offences_per_1000;
  substitution_coverage -> deaths_per_100k_lag2;
  substitution_coverage -> deaths_per_100k;
  offences_per_1000 -> deaths_per_100k;
  neighbour_offences_per_1000 -> deaths_per_100k;
  unemployment;
}'''
g = cg.CausalGraph.from_dot(dot)
g.draw()"""),
    ("md", """Templates for the field are editable starting points (confounders, mediators, feedback,
programmes, an instrument):"""),
    ("code", """cg.list_templates()[["name", "treatment", "outcome", "n_nodes", "description"]]"""),
    ("md", """## 2. Identification

DoWhy finds the back-door sets (we report the minimal one, DoWhy's default and the largest), the
front door and the instruments. Here adjusting for deaths two years earlier closes the feedback path,
and the budget shock is an instrument."""),
    ("code", """ident = cg.identify(g, "offences_per_1000", "deaths_per_100k")
print(ident.explanation)"""),
    ("md", """If the drug-market size were a time-varying confounder the fixed effects could not absorb, and
it were unobserved, adjustment would fail. The message names the open path and what would close it:"""),
    ("code", """g_latent = g.with_edges(add=[("market_size", "offences_per_1000"),
                              ("market_size", "deaths_per_100k")]).with_latent("market_size")
print(cg.identify(g_latent, "offences_per_1000", "deaths_per_100k").explanation)"""),
    ("md", """## 3. Estimation with fixed effects

`cg.estimate` builds the formula from the identified set plus unit and time effects and calls the
toolkit's own estimator; the result carries the full results contract (clustered standard errors here).
The same estimator plugs into DoWhy's `CausalModel.estimate_effect`."""),
    ("code", """est = cg.estimate(panel, g, "offences_per_1000", "deaths_per_100k", vcov={"CRV1": "canton"})
print(est.formula)
est.tidy().round(4)"""),
    ("code", """from causalpolicing.graph.dowhy_estimator import METHOD_NAME, dowhy_model
model = dowhy_model(panel, g, "offences_per_1000", "deaths_per_100k")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    dw = model.estimate_effect(model.identify_effect(), method_name=METHOD_NAME,
                               method_params={"fixed_effects": ["canton", "year"],
                                              "vcov": {"CRV1": "canton"}})
print(f"through DoWhy: {dw.value:.6f}   cp.graph.estimate: {est.effect:.6f}")"""),
    ("md", """## 4. Testing the graph against the data

Every pair of non-adjacent observed nodes is independent given some set, if the graph is right.
Each implication is tested with canton and year effects partialled out, Holm-corrected. A graph that
says the budget shock does not move enforcement is flatly contradicted by the data. A graph that
forgets the feedback (no `deaths_per_100k_lag2 -> offences_per_1000`) is contradicted only weakly:
the implication it adds has p = 0.014 before and 0.22 after the Holm correction. With 26 cantons
the implication tests have little power against a feedback of this size (0.1 offences per 1,000 per
death per 100,000); the feedback diagnostics of notebook 02 (reverse regression) are the sharper tool."""),
    ("code", """tests = cg.implications(panel, g, vcov={"CRV1": "canton"})
print(f"{tests.n_rejected} of {tests.n_tests} implications rejected")
tests.table[["implication", "p_value", "p_adjusted", "rejected"]].round(3)"""),
    ("code", """g_wrong = g.with_edges(remove=[("budget_shock", "offences_per_1000")])
wrong = cg.implications(panel, g_wrong, vcov={"CRV1": "canton"})
wrong.table.loc[wrong.table.rejected, ["implication", "p_value", "p_adjusted"]]"""),
    ("code", """no_feedback = cg.implications(
    panel, g.with_edges(remove=[("deaths_per_100k_lag2", "offences_per_1000")]),
    vcov={"CRV1": "canton"})
no_feedback.table.sort_values("p_value")[["implication", "p_value", "p_adjusted", "rejected"]].head(3)"""),
    ("md", """## 5. Refutation, made for panels

Placebo treatments are permuted across cantons *within each year* (keeping the national time
profile) or rotated in time within canton; a lead placebo puts next year's enforcement in place of
this year's; leave-one-canton-out and random common causes probe stability. The permutation
refuters reuse one within-transformed design, so a thousand draws take a fraction of a second.
Each result says what it means — and what it does not."""),
    ("code", """lagged = panel.lag("deaths_per_100k", k=2)          # the data the estimate used (adds deaths_per_100k_lag2)
suite = cg.refute(est.results, lagged,
                  methods=["placebo_permutation", "placebo_time_shift", "placebo_lead",
                           "leave_one_unit_out", "random_common_cause"], reps=REPS, seed=1)
print(f"{sum(suite.seconds.values()):.2f} s for the whole suite:", {k: round(v, 3) for k, v in suite.seconds.items()})
summary = suite.summary()
summary[["refuter", "new_estimate", "p_value", "passed"]].round(4)"""),
    ("code", """for r in suite.results:
    print(f"{r.name}: {r.reading}\\n")"""),
    ("code", """cp.report.refutation_plot([r for r in suite.results if r.draws is not None])"""),
    ("md", """DoWhy's own refuters run on the same linear estimate (with the fixed effects as dummy common
causes), so the two can be compared; they shuffle rows as if independent and are much slower."""),
    ("code", """if not SMALL:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dowhy_out = cg.dowhy_refuters(est.results, lagged,
                                      methods=["placebo_treatment_refuter"], num_simulations=20,
                                      seed=1)
    print(dowhy_out)"""),
    ("md", """## 6. Sensitivity to unobserved confounding

The Cinelli–Hazlett robustness value says how much residual variance of both treatment and
outcome an unobserved confounder would need to explain to remove the effect; the E-value says how
strong (as a rate ratio with both) a confounder of the Poisson estimate would have to be."""),
    ("code", """sens = cg.ovb_sensitivity(est.results, lagged, treatment="offences_per_1000")
print(sens.reading)"""),
    ("code", """pois = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage + "
                 "neighbour_offences_per_1000 | canton + year", panel, vcov={"CRV3": "canton"})
ev = cg.evalue_rate_ratio(pois, "offences_per_1000")
print(f"rate ratio {ev.rate_ratio:.3f} (95% CI {ev.conf_low:.3f} to {ev.conf_high:.3f}); "
      f"E-value {ev.evalue:.2f}, for the CI limit {ev.evalue_ci:.2f}")
print(f"true rate ratio in the simulation: {truth['enforcement_rr']}")"""),
    ("md", """## 7. Mediation through harm-reduction access

`simulated_cantons` has no mediator, so this part uses `simulate_graph_panel`, a panel drawn from a
known graph where enforcement lowers access to harm reduction, which protects: the true indirect
effect and the share mediated are known. `cg.mediate` decomposes the fixed-effects estimate of the
total effect, with a bootstrap over units for the interval."""),
    ("code", """gp, gtruth = cp.simulate.simulate_graph_panel(seed=1)
total = cg.estimate(gp, gtruth.graph.with_latent("deaths"), "enforcement", "mortality",
                    vcov={"CRV1": "unit"})
med = cg.mediate(total.results, gp, "harm_reduction_access", treatment="enforcement",
                 reps=199 if SMALL else 999, seed=1)
print(med.reading)
print(f"truth: indirect {gtruth.indirect_effect}, share mediated {gtruth.share_mediated:.3f}")
med.effects.round(4)"""),
    ("md", """## The same from a spec

`causalpolicing analyze` (with no data) runs this graph on `simulated_cantons` as part of the default
report; in a TOML spec it is the `[causal]` table (see `docs/analysis.md`):

```toml
[causal]
graph = "template:enforcement_mortality_minimal"
columns = { enforcement = "offences_per_1000", mortality = "deaths_per_100k" }
latent = ["market_size"]
refute = ["placebo_permutation", "placebo_lead", "leave_one_unit_out"]
mediator = "harm_reduction_access"
```"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
            for kind, src in cells]
path = Path(__file__).with_name("03_causal_graph.ipynb")
os.environ.setdefault("MPLBACKEND", "Agg")
NotebookClient(nb, timeout=900, kernel_name="python3",
               resources={"metadata": {"path": str(path.parent)}}).execute()
nbf.write(nb, path)
