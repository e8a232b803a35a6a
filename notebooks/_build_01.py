"""Build notebooks/01_loading_data.ipynb (run: python notebooks/_build_01.py).

Kept as a script so the notebook's source is reviewable; the notebook itself is
executed by tests/test_notebooks.py.
"""

from pathlib import Path

import nbformat as nbf

cells: list[tuple[str, str]] = [
    ("md", """# 01 · Loading panel data: files, validation, the drop log and transforms

This notebook shows how `causalpolicing` turns the files researchers actually have into a
validated **panel** — units (cantons, counties, districts) observed over regular periods —
and how it accounts for every row.

1. A bundled dataset and its data card
2. Loading your own files: CSV (any delimiter/encoding), Excel with title rows, Parquet, Stata
3. What goes wrong, and the messages you get
4. The drop log: every source row is either in the panel or listed with a reason
5. Transforms: rates, logs with an explicit zero policy, gap-aware lags and leads,
   neighbour averages, aggregation from months to years, prices, harmonic terms"""),
    ("code", """import os, tempfile, warnings
from pathlib import Path

import numpy as np
import pandas as pd

import causalpolicing as cp

workdir = Path(tempfile.mkdtemp())
pd.set_option("display.width", 120)"""),
    ("md", """## 1. A bundled dataset

`simulated_cantons` is **simulated**: 26 Swiss cantons with their real borders, 1975–2007, with
a known enforcement effect on drug-related deaths and feedback from deaths to later enforcement.
Its data card states every true parameter."""),
    ("code", """cp.datasets.list()"""),
    ("code", """panel = cp.datasets.load("simulated_cantons")
panel"""),
    ("code", """print(cp.datasets.card("simulated_cantons"))"""),
    ("code", """print(panel.summary())"""),
    ("md", """## 2. Loading your own files

The reader is chosen from the file; a CSV's delimiter and encoding are detected. Here is a
semicolon-separated, Latin-1 encoded file with a decimal comma, as exported by many European
spreadsheets."""),
    ("code", """raw = (
    "Kanton;Jahr;Todesfälle;Verzeigungen_pro_1000;Bevölkerung\\n"
    "Zürich;2005;41;3,2;1261800\\n"
    "Zürich;2006;38;3,4;1272600\\n"
    "Genève;2005;17;4,1;430600\\n"
    "Genève;2006;;4,3;433200\\n"
    "Bern;2005;22;2,1;957100\\n"
    "Bern;2006;25;2,0;958900\\n"
)
csv_path = workdir / "kantone.csv"
csv_path.write_bytes(raw.encode("latin-1"))

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    swiss = cp.load_panel(
        csv_path, unit="Kanton", time="Jahr", outcome="Todesfälle",
        treatment="Verzeigungen_pro_1000", exposure="Bevölkerung",
        read_options={"decimal": ","},
    )
for w in caught:
    print(f"{w.category.__name__}: {w.message}\\n")
print(swiss.metadata.reader_info)
swiss.to_frame()"""),
    ("md", """Genève 2006 has no death count, so it is not in the panel — it is in the **drop log**,
with its source row and the reason. The warning about few units is there because three cantons
are too few for unit-clustered inference."""),
    ("code", """swiss.drop_log"""),
    ("code", """assert swiss.metadata.n_source_rows == len(swiss) + len(swiss.drop_log)
swiss.metadata.sha256"""),
    ("md", """### Excel with title rows (as in UNODC downloads), Parquet and Stata"""),
    ("code", """frame = cp.datasets.load("nc_crime").to_frame()
frame["year"] = frame["year"].astype(str).astype(int)
small = frame[["county", "year", "lcrmrte", "lpolpc", "lprbarr"]]

xlsx = workdir / "crime.xlsx"
with pd.ExcelWriter(xlsx) as writer:
    pd.DataFrame({"A": ["North Carolina county crime", "Source: Cornwell & Trumbull"]}).to_excel(
        writer, sheet_name="Data", index=False, header=False)
    small.to_excel(writer, sheet_name="Data", index=False, startrow=3)
from_excel = cp.load_panel(xlsx, unit="county", time="year", outcome="lcrmrte",
                           treatment="lpolpc", read_options={"sheet": "Data", "skiprows": 3})

pq = workdir / "crime.parquet"; small.to_parquet(pq)
from_parquet = cp.load_panel(pq, unit="county", time="year", outcome="lcrmrte", treatment="lpolpc")

dta = workdir / "crime.dta"; small.to_stata(dta, write_index=False)
from_stata = cp.load_panel(dta, unit="county", time="year", outcome="lcrmrte", treatment="lpolpc")

for p in (from_excel, from_parquet, from_stata):
    print(p.metadata.reader, p)"""),
    ("md", """## 3. What goes wrong, and what you are told

Every error names the column, the rows and the fix. Nothing is coerced silently: text in a
numeric column is an error, not a missing value."""),
    ("code", """def show(**kwargs):
    try:
        cp.load_panel(**kwargs)
    except cp.exceptions.CausalPolicingError as exc:
        print(f"{type(exc).__name__}: {exc}\\n")

bad = workdir / "bad.csv"
bad.write_text("county,month,overdoses,arrests\\n"
               "01001,2017/01,Suppressed,12\\n01001,2017/02,14,9\\n"
               "01003,2017/01,22,31\\n01003,2017/01,19,30\\n")
show(source=bad, unit="county", time="month", outcome="overdoses", treatment="arrests")

bad.write_text("county,month,overdoses,arrests\\n01001,2017/01,11,12\\n01001,2017/02,14,9\\n"
               "01003,2017/01,22,31\\n01003,2017/01,19,30\\n")
show(source=bad, unit="county", time="month", outcome="overdoses", treatment="arrests")
show(source=bad, unit="county", time="month", outcome="overdose", treatment="arrests")

bad.write_text("county;month;overdoses;arrests\\n01001;2017/01;11;12\\n")
show(source=bad, unit="county", time="month", outcome="overdoses", treatment="arrests",
     read_options={"delimiter": ","})"""),
    ("md", """## 4. Transforms

Each transform returns a **new** panel and is recorded in `panel.history`. Lags respect gaps: a
lag across a missing year is missing, never the previous row."""),
    ("code", """p = (panel
     .rate("deaths", per=100_000)
     .lag("offences_per_1000", k=2)
     .lead("offences_per_1000", k=2)
     .neighbour_mean("offences_per_1000")
     .harmonic(period=14))
for step in p.history:
    print(step)
p.to_frame().head()"""),
    ("code", """# log with an explicit zero policy: the default refuses zeros and says what to do
try:
    panel.log("deaths")
except cp.exceptions.CausalPolicingError as exc:
    print(type(exc).__name__, ":", str(exc)[:300])
logged = panel.log("deaths", zero="missing")
logged.history[-1]"""),
    ("md", """### From months to years

`simulated_crackdown` is a **simulated** monthly panel of city districts. Aggregating needs a
stated rule per column: counts are summed, rates averaged, or population-weighted."""),
    ("code", """monthly = cp.datasets.load("simulated_crackdown")
print(monthly)
yearly = monthly.aggregate(
    to="Y",
    rules={
        "row": "first", "col": "first",          # grid position: constant within a district
        "crackdown": "max", "neighbour_of_target": "max",   # ever treated in the year
        "police_hours": "sum",                    # enforcement hours: a count
        "public_consumption": "sum",
        # overdoses (a count outcome) are summed and population (the exposure) averaged by default
    },
)
print(yearly)
print(yearly.history[-1])
yearly.to_frame().head()"""),
    ("md", """### Prices: deflating and adjusting for purity

Seizure studies look at *purity-adjusted real* prices. `deflate` divides by a price index
(rebased to a period you choose) and `pure_price` divides by purity."""),
    ("code", """prices = pd.DataFrame({
    "country": ["US"] * 4 + ["CA"] * 4, "year": [1990, 1995, 2000, 2005] * 2,
    "price_per_gram": [1200.0, 800.0, 600.0, 500.0, 900.0, 700.0, 650.0, 600.0],
    "purity_pct": [30.0, 40.0, 45.0, 48.0, 35.0, 38.0, 40.0, 41.0],
    "cpi": [100.0, 115.0, 130.0, 148.0, 100.0, 112.0, 125.0, 140.0],
    "seizures_t": [40.0, 55.0, 60.0, 80.0, 5.0, 6.0, 7.0, 9.0],
})
with warnings.catch_warnings():
    warnings.simplefilter("ignore", cp.exceptions.FewUnitsWarning)
    # observations every 5 years: for a yearly panel those are gaps, and the loader says so
    price_panel = cp.load_panel(prices, unit="country", time="year",
                                outcome="price_per_gram", treatment="seizures_t",
                                covariates=["purity_pct", "cpi"])
real = (price_panel
        .deflate("price_per_gram", "cpi", base="1990")
        .pure_price("price_per_gram_real", "purity_pct", scale="percent"))
real.to_frame()"""),
    ("md", """## Row accounting, once more

However messy the file, the loader keeps this identity, and the command line prints the same
summary: `causalpolicing validate FILE --unit ... --time ... --outcome ... --treatment ...`."""),
    ("code", """for p in (panel, swiss, from_excel, monthly):
    print(f"{p.metadata.source:>40}: {p.metadata.n_source_rows} source rows = "
          f"{len(p)} in panel + {len(p.drop_log)} dropped")"""),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
            for kind, src in cells]
nbf.write(nb, Path(__file__).with_name("01_loading_data.ipynb"))
