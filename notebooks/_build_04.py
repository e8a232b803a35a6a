"""Build notebooks/04_report.ipynb (run: python notebooks/_build_04.py).

The notebook is written and executed here (stored with its outputs), and executed
again by tests/test_notebooks.py with CAUSALPOLICING_SMALL=1.
"""

import os
from pathlib import Path

import nbformat as nbf
from nbclient import NotebookClient

cells: list[tuple[str, str]] = [
    ("md", """# 04 · From estimates to a publishable table and a self-contained report

Everything here uses the Python API; the command line (`causalpolicing analyze`) calls the same
runner. On the bundled, **simulated** `simulated_cantons` panel (26 cantons, 1975–2007, known truth):

1. Estimate tables: several models side by side, as Markdown, LaTeX (booktabs), HTML, CSV or a tidy DataFrame
2. Figures: coefficients, rate ratios, dose–response, leads and lags, the panel itself
3. The plain-language narrative and the caveats the diagnostics call for
4. One self-contained HTML report (and its Markdown twin) with provenance
5. The same from an analysis spec (TOML), the way `causalpolicing analyze --config` runs it"""),
    ("code", """import os, tempfile, warnings
from pathlib import Path
import pandas as pd
import causalpolicing as cp

SMALL = os.environ.get("CAUSALPOLICING_SMALL") == "1"   # the test suite runs a small version
REPS = 199 if SMALL else 999
warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)  # the report repeats it as a caveat

panel = cp.datasets.load("simulated_cantons")
rates = panel.rate("deaths", per=100_000)            # adds deaths_per_100k
regressors = "offences_per_1000 + substitution_coverage + neighbour_offences_per_1000"
twfe = cp.feols(f"deaths_per_100k ~ {regressors} | canton + year", rates, vcov={"CRV1": "canton"})
pois = cp.fepois(f"deaths ~ {regressors} | canton + year", panel, vcov={"CRV1": "canton"})
lags = cp.distributed_lag(rates, outcome="deaths_per_100k", lags=2, leads=2,
                          vcov={"CRV1": "canton"})
models = {"Linear FE": twfe, "Poisson FE": pois, "Leads and lags": lags}"""),
    ("md", """## 1. Tables

`cp.table` takes any number of results; the count model can be shown as rate ratios
(`exponentiate`), terms renamed and ordered, confidence intervals instead of standard errors,
and stars if you must."""),
    ("code", """labels = {"offences_per_1000": "Possession offences per 1,000",
          "substitution_coverage": "Substitution treatment coverage",
          "neighbour_offences_per_1000": "Neighbours' offences per 1,000"}
tab = cp.table({"Linear FE": twfe, "Poisson FE (RR)": pois}, rename=labels,
               keep=list(labels), exponentiate=[False, True], uncertainty="ci",
               title="Enforcement and drug deaths (SIMULATED data)")
tab"""),
    ("code", """print(tab.to_latex())"""),
    ("code", """tab.to_frame()"""),
    ("md", """## 2. Figures

Each plotting function returns a matplotlib figure (nothing global is changed); save it as PNG or
SVG with `cp.report.save_figure`."""),
    ("code", """from causalpolicing import report
fig_coef = report.coefficient_plot({"Poisson FE": pois}, terms=list(labels), rate_ratio=True)
fig_coef"""),
    ("code", """fig_dose = report.dose_response_plot(pois, "offences_per_1000", data=panel.to_frame())
fig_dose"""),
    ("code", """fig_event = report.event_study_plot(lags, reference=None)   # leads are estimated: no omitted period
fig_event"""),
    ("code", """fig_panel = report.panel_overview_plot(panel)
out = Path(tempfile.mkdtemp())
report.save_figure(fig_panel, out / "panel.svg")
fig_panel"""),
    ("md", """## 3. Narrative and caveats

One sentence per effect with its uncertainty; rate ratios become percent changes. The caveats come
from the results and the diagnostics: here 26 clusters (few), and the feedback checks."""),
    ("code", """for sentence in report.describe_results(pois, ["offences_per_1000", "substitution_coverage"],
                                       change={"offences_per_1000": 1, "substitution_coverage": 0.1}):
    print(sentence)"""),
    ("code", """feedback = cp.diagnostics.feedback_report(panel)
for c in report.caveats(models, panel=panel, diagnostics={"feedback": feedback}):
    print(f"[{c.severity}] {c.kind}: {c.message}\\n")"""),
    ("md", """## 4. The report

`cp.build_report` assembles the data summary (with the drop log), the table, the figures, the
diagnostics, the caveats and the provenance (input SHA-256, package versions, seed, spec, command)
into one HTML file that embeds every figure and opens offline, plus a Markdown twin."""),
    ("code", """boot = cp.inference.wild_bootstrap(twfe, "offences_per_1000", reps=REPS, weights="webb", seed=1)
rep = cp.build_report(
    models, panel=panel,
    figures={"Rate ratios": fig_coef, "Dose-response": fig_dose, "Leads and lags": fig_event,
             "The panel": fig_panel},
    diagnostics={"feedback": feedback, "wild bootstrap (linear FE)": boot},
    provenance={"seed": 1, "command": "notebooks/04_report.ipynb"},
    title="Enforcement and drug deaths (SIMULATED data)",
)
written = rep.save(out)
sorted(str(p.relative_to(out)) for p in written.values())"""),
    ("code", """print(rep.markdown[:1500])"""),
    ("md", """## 5. The same from a spec

A TOML spec declares the data, models, diagnostics and outputs; it is validated completely before
anything runs, and `cp.analyze` writes the report, the tables in every format, tidy results (CSV,
JSON) and the figures. `causalpolicing analyze --config spec.toml --out DIR` does exactly this."""),
    ("code", """spec = cp.AnalysisSpec.from_toml(f'''
[data]
dataset = "simulated_cantons"
rates = ["deaths"]

[[models]]
name = "Poisson FE"
estimator = "fepois"
formula = "deaths ~ {regressors} | canton + year"
vcov = {{ CRV3 = "canton" }}
bootstrap = {REPS}

[report]
title = "Poisson FE with CRV3 and a score bootstrap (SIMULATED data)"
figures = ["coefficients", "dose_response"]
seed = 7
''')
result = cp.analyze(spec, out=out / "from_spec")
print(sorted(p.name for p in (out / "from_spec").iterdir()))
result.results["Poisson FE"].tidy().round(4)"""),
    ("code", """try:
    cp.AnalysisSpec.from_toml('[data]\\ndataset = "simulated_cantons"\\n[[models]]\\nestimator = "ols"\\n')
except cp.exceptions.SpecError as err:
    print(err)"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
            for kind, src in cells]
path = Path(__file__).with_name("04_report.ipynb")
os.environ.setdefault("MPLBACKEND", "Agg")
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": str(path.parent)}}).execute()
nbf.write(nb, path)
