"""Build notebooks/05_reproducing_published_estimates.ipynb (run: python notebooks/_build_05.py).

The notebook is generated with nbformat and executed with nbclient (with
CAUSALPOLICING_SMALL=1, as tests/test_notebooks.py does), so it is stored with its outputs.
``--no-execute`` writes it without outputs.
"""

import sys
from pathlib import Path

from _nbbuild import build

cells: list[tuple[str, str]] = [
    ("md", """# 05 · Reproducing published estimates

Before trusting a toolkit with new questions, check it against old answers. A **study file**
declares a published study — citation, data, variable construction, models, and the published
numbers *as printed* — and `reproduce` compares them with what the toolkit computes, at the
published rounding.

1. The catalogue
2. One study, step by step: Cornwell & Trumbull / Baltagi (2006) on the North Carolina crime panel
3. What a study file looks like, and what happens when it is wrong
4. Adding a study of your own
5. A study whose data are not public: Nordt & Stohler (2010), run on simulated Swiss data

The schema is documented in `docs/studies.md`; the command line does the same:
`causalpolicing reproduce --list`, `causalpolicing reproduce cornwell_trumbull`,
`causalpolicing reproduce --all`."""),
    ("code", """import tempfile, textwrap
from pathlib import Path
import numpy as np
import pandas as pd
import causalpolicing as cp
import causalpolicing.studies as st

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 60)
st.list_studies()[["id", "status", "published", "data", "title"]]"""),
    ("md", """## 2. One study: the economic model of crime

Cornwell & Trumbull (1994) estimated a model of county crime rates in North Carolina; Baltagi
(2006) re-estimated it with within (two-way fixed effects), between and fixed-effects 2SLS
estimators. The bundled `nc_crime` is the same panel (Wooldridge's CRIME4)."""),
    ("code", """cmp = st.reproduce("cornwell_trumbull")
print(cmp.to_text())"""),
    ("md", """`match` compares at the printed rounding: −0.3548296 rounds to the printed −0.354830. Two
FE-2SLS standard errors differ in the sixth decimal. The study file says why (the public copy of
the data is stored in single precision and the instruments are weak — Cragg–Donald F = 0.25 — which
amplifies it) and declares a tolerance for exactly those two numbers; they are shown as
`within tol.`, never silently as matches.

The comparison is a frozen object; its table keeps the full-precision values:"""),
    ("code", """cmp.table[["model", "term", "quantity", "printed", "reproduced", "difference", "match", "ok"]]"""),
    ("code", """[(m.id, m.estimator, m.nobs, m.cov_type) for m in cmp.models]"""),
    ("md", """Every fitted model is available with the usual results contract:"""),
    ("code", """cmp.results("within").tidy().set_index("term").loc[["lprbarr", "lpolpc"]].round(6)"""),
    ("md", """## 3. The study file

A study file is TOML. Data preparation is written in a small expression language that is parsed
and checked against a whitelist — never executed as Python — so a file from someone else cannot
run code. Here is the castle-doctrine study, whose `post_mixtape` column is the Mixtape's coding of
the treatment (treated from the year the law took effect):"""),
    ("code", """print((st.catalogue_dir() / "castle_mixtape.toml").read_text())"""),
    ("code", """print(st.reproduce("castle_mixtape").to_text())"""),
    ("md", """The expression language refuses anything beyond columns, numbers, arithmetic, comparisons and a
short list of functions (`log`, `lag`, `lead`, `diff`, `max`, `where`, `fillna`, `isin`, ...), and
says which construct it refused:"""),
    ("code", """from causalpolicing.studies.expressions import ExpressionError, parse_expression

for text in ["max(post, fillna(lead(post, 1), 0))", "__import__('os').system('ls')",
             "post.__class__", "[p for p in post]", "exec('1')"]:
    try:
        parse_expression(text)
        print("accepted:", text)
    except ExpressionError as err:
        print("refused: ", err)"""),
    ("md", """A malformed file fails before anything runs, with the key path in the message:"""),
    ("code", """import tomllib
from causalpolicing.studies.schema import StudyError, parse_study

raw = tomllib.loads((st.catalogue_dir() / "castle_mixtape.toml").read_text())
raw["models"][0]["vcov"] = "CRV9"
try:
    parse_study(raw, source="castle_mixtape.toml")
except StudyError as err:
    print(err)"""),
    ("md", """## 4. Adding a study

Write the file: point `[data]` at a bundled dataset or a file, declare the models, and copy
the numbers **as printed, in strings** (so `"0.069398"` keeps its six decimals). Here: the same
castle regression with the file's own `post` coding, which gives 0.069398 — and a deliberately
wrong second number to show a mismatch."""),
    ("code", """folder = Path(tempfile.mkdtemp())
study_file = folder / "my_castle.toml"
study_file.write_text(textwrap.dedent('''
    [study]
    id = "my_castle"
    title = "Castle-doctrine laws, two-way FE with the file's post"
    citation = "Cheng C, Hoekstra M (2013) Journal of Human Resources 48(3):821-854"
    status = "reproducible"

    [data]
    dataset = "castle"

    [[models]]
    id = "twfe"
    estimator = "feols"
    formula = "l_homicide ~ post | sid + year"
    vcov = { CRV1 = "sid" }

    [[published]]
    model = "twfe"
    table = "Table 1"
    column = "(1)"
    term = "post"
    estimate = "0.069398"
    std_error = "0.0600"
'''))
mine = st.reproduce(study_file)
print(mine.to_text())
mine.all_match"""),
    ("md", """On the command line the same file is `causalpolicing reproduce --study my_castle.toml`; its exit
code is 1 here (a mismatch), 0 when everything is reproduced, 2 for a malformed file. To add it to
the catalogue, save it in `causalpolicing/studies/catalogue/` and add its full-precision values to
`tests/test_studies.py`."""),
    ("code", """from causalpolicing.cli import main
code = main(["reproduce", "--study", str(study_file), "--format", "markdown"])
print("exit code:", code)"""),
    ("md", """## 5. When the data are not public: Nordt & Stohler (2010)

Nordt & Stohler related Swiss heroin deaths 1975–2007 to street-level enforcement and
substitution treatment (enforcement OR 1.32, substitution OR 0.23, a 14-year oscillation OR 1.24,
and deaths predicting possession offences two years later, r = 0.97). Their series are not public,
so the study has status *needs data*: it declares the specification and the published numbers, and
asks for the data."""),
    ("code", """try:
    st.reproduce("nordt_stohler_2010")
except cp.exceptions.DatasetError as err:
    print(err)"""),
    ("md", """To show the mechanics we build a national series from the **simulated** canton panel (sum of
deaths, estimated users, offences; substitution as the users' share in treatment). These are not the
authors' data, so nothing is expected to match: the comparison is a report, and the command line
exits 0 for it unless `--strict` is given."""),
    ("code", """f = pd.read_csv(cp.datasets.path("simulated_cantons"))
f["users"] = f["prevalence"] * f["population"] / 1000
f["offences"] = f["offences_per_1000"] * f["population"] / 1000
f["treated"] = f["substitution_coverage"] * f["users"]
series = f.groupby("year")[["deaths", "users", "offences", "treated"]].sum().reset_index()
series["users"] = series["users"].round()
series["enforcement"] = series["offences"] / series["users"]
series["substitution"] = series["treated"] / series["users"]
series = series.drop(columns="treated")
swiss = st.reproduce("nordt_stohler_2010", data=series)
print(swiss.to_text())"""),
    ("md", """With the authors' series, the same call (or `causalpolicing reproduce nordt_stohler_2010 --data
FILE --strict`) becomes a real check."""),
]

HERE = Path(__file__).resolve().parent
TARGET = HERE / "05_reproducing_published_estimates.ipynb"


def main(argv: list[str]) -> int:
    return build(cells, TARGET, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
