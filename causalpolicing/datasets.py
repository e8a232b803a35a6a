"""Bundled datasets with data cards, and the seeded simulators behind the simulated ones.

Six datasets ship with the package (``list()`` shows them):

* ``simulated_cantons`` (**simulated**): 26 Swiss cantons x 1975-2007, drug deaths,
  enforcement with feedback, substitution treatment, spillovers, an instrument.
* ``simulated_crackdown`` (**simulated**): 16 city districts x 60 months, one
  crackdown with displacement to the neighbouring districts.
* ``simulated_overdose_laws`` (**simulated**): 50 states x 2000-2022, a law adopted
  in six waves with effects that grow with time since adoption (two-way fixed effects
  get the wrong sign); the true ATT(g, t) in ``truth_att_gt.csv``.
* ``nc_crime`` (real): Cornwell & Trumbull's North Carolina county crime panel 1981-87.
* ``castle`` (real): Cheng & Hoekstra's castle-doctrine state panel 2000-2010.
* ``mpdta`` (real): R ``did``'s minimum-wage panel, 500 counties x 2003-2007
  (staggered cohorts 2004, 2006, 2007).

Each lives in ``datasets/<name>/`` as ``data.csv`` plus ``card.toml`` (title,
source, licence, citation, roles, variables and, for simulated data, every true
parameter). :func:`load` reads the CSV with :func:`causalpolicing.load_panel`
and the roles of the card, so bundled data pass the same validation as yours.

Examples
--------
>>> import causalpolicing as cp
>>> cp.datasets.list()[["name", "kind", "units"]].to_dict("records")[0]
{'name': 'castle', 'kind': 'real', 'units': 50}
>>> panel, card = cp.datasets.load("simulated_cantons", with_card=True)
>>> panel.n_units, panel.n_periods, card.kind, card.true_parameters["enforcement_rr"]
(26, 33, 'simulated', 1.05)
>>> panel.metadata.reader_info["dataset"]
'simulated_cantons'
"""

from __future__ import annotations

import functools
import importlib.resources
import textwrap
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, overload

import pandas as pd

from ._hints import did_you_mean
from .data import Panel, load_panel
from .exceptions import DatasetError
from .simulate import simulate_cantons, simulate_crackdown

__all__ = [
    "DataCard",
    "Variable",
    "Parameter",
    "list",
    "load",
    "card",
    "path",
    "names",
    "data_root",
    "simulate_cantons",
    "simulate_crackdown",
]

KINDS = ("simulated", "real")
_REQUIRED = ("name", "title", "kind", "summary", "description", "source", "licence", "citation",
             "data_file", "n_units", "n_periods", "first_period", "last_period", "period_unit",
             "roles", "variables")
_OPTIONAL = ("neighbours_file", "notes", "parameters", "build")
_ROLE_KEYS = ("unit", "time", "outcome", "treatment", "exposure", "covariates", "cluster",
              "cohort", "never_treated")


# ------------------------------------------------------------------------ cards
@dataclass(frozen=True)
class Variable:
    """One row of a data card's variable table."""

    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class Parameter:
    """A true parameter of a simulated dataset."""

    name: str
    value: Any
    description: str


@dataclass(frozen=True)
class DataCard:
    """What a bundled dataset is, where it comes from and how to use it.

    Attributes
    ----------
    name, title, kind, summary, description
        Identity; ``kind`` is ``"simulated"`` or ``"real"``.
    source, licence, citation
        Provenance and terms of use.
    data_file, neighbours_file
        File names inside the dataset folder (``neighbours_file`` is an edge
        list ``unit,neighbour`` or None).
    n_units, n_periods, first_period, last_period, period_unit
        The panel's shape, as loaded.
    roles
        Preset roles: ``unit``, ``time``, ``outcome`` (name -> kind),
        ``treatment`` (name -> kind), ``exposure``, ``covariates``, ``cluster``.
    variables
        The variable table.
    parameters
        True parameters (simulated data only).
    notes
        Caveats, conversions and reproduction notes.
    build
        How the bundled file was made (see ``datasets/build.py``).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> c = cp.datasets.card("nc_crime")
    >>> c.kind, c.roles["unit"], dict(c.roles["outcome"])
    ('real', 'county', {'lcrmrte': 'continuous'})
    >>> print(c.to_markdown().splitlines()[0])
    # nc_crime: North Carolina county crime panel, 1981-1987 (Cornwell & Trumbull)
    """

    name: str
    title: str
    kind: Literal["simulated", "real"]
    summary: str
    description: str
    source: str
    licence: str
    citation: str
    data_file: str
    n_units: int
    n_periods: int
    first_period: str
    last_period: str
    period_unit: str
    roles: Mapping[str, Any]
    variables: tuple[Variable, ...]
    parameters: tuple[Parameter, ...] = ()
    notes: tuple[str, ...] = ()
    neighbours_file: str | None = None
    build: str = ""
    folder: Path = field(default=Path("."), compare=False)

    # ------------------------------------------------------------- access
    @property
    def true_parameters(self) -> dict[str, Any]:
        """True parameters as a plain dict (empty for real data)."""
        return {p.name: p.value for p in self.parameters}

    @property
    def periods(self) -> str:
        """The time span as text, e.g. ``1975 to 2007 (33 years)``."""
        return f"{self.first_period} to {self.last_period} ({self.n_periods} {self.period_unit})"

    def variables_frame(self) -> pd.DataFrame:
        """The variable table as a DataFrame (``name, description, unit``)."""
        return pd.DataFrame(
            [(v.name, v.description, v.unit) for v in self.variables],
            columns=["name", "description", "unit"],
        )

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`causalpolicing.load_panel` (roles of the card)."""
        r = self.roles
        kwargs: dict[str, Any] = {
            "unit": r["unit"],
            "time": r["time"],
            "outcome": dict(r["outcome"]),
            "treatment": dict(r["treatment"]),
            "exposure": r.get("exposure"),
            "covariates": tuple(r.get("covariates", ())),
            "cluster": tuple(r["cluster"]) if r.get("cluster") else None,
        }
        if r.get("cohort"):  # the timing role of a staggered design
            kwargs.update(cohort=r["cohort"], never_treated=r.get("never_treated"))
        if self.neighbours_file:
            kwargs["neighbours"] = self.folder / self.neighbours_file
        return kwargs

    # ----------------------------------------------------------- rendering
    def _role_lines(self) -> list[str]:
        r = self.roles
        lines = [
            f"unit: {r['unit']}",
            f"time: {r['time']}",
            "outcome: " + ", ".join(f"{k} ({v})" for k, v in r["outcome"].items()),
            "treatment: " + ", ".join(f"{k} ({v})" for k, v in r["treatment"].items()),
        ]
        if r.get("exposure"):
            lines.append(f"exposure: {r['exposure']}")
        if r.get("covariates"):
            lines.append("covariates: " + ", ".join(r["covariates"]))
        if r.get("cluster"):
            lines.append("cluster: " + ", ".join(r["cluster"]))
        if r.get("cohort"):
            lines.append(f"cohort: {r['cohort']} (never treated: {r.get('never_treated')!r})")
        if self.neighbours_file:
            lines.append(f"neighbours: {self.neighbours_file} (edge list unit,neighbour)")
        return lines

    def __str__(self) -> str:
        kind = "SIMULATED data" if self.kind == "simulated" else "real data"
        out = [
            f"{self.name}: {self.title}",
            f"  {kind}; {self.n_units} units x {self.periods}",
            "",
            _wrap(self.description, 2),
            "",
            "Source:   " + _wrap(self.source, 10).lstrip(),
            "Licence:  " + _wrap(self.licence, 10).lstrip(),
            "Citation: " + _wrap(self.citation, 10).lstrip(),
            "",
            "Roles (preset by cp.datasets.load):",
            *("  " + line for line in self._role_lines()),
        ]
        if self.parameters:
            out += ["", "True parameters:"]
            width = max(len(p.name) for p in self.parameters)
            for p in self.parameters:
                out.append(f"  {p.name:<{width}}  {_fmt(p.value):>10}  {p.description}")
        out += ["", "Variables:"]
        width = max(len(v.name) for v in self.variables)
        for v in self.variables:
            unit = f" [{v.unit}]" if v.unit else ""
            out.append(f"  {v.name:<{width}}  {v.description}{unit}")
        if self.notes:
            out += ["", "Notes:"]
            out += [_wrap("- " + n, 2, hang=2) for n in self.notes]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """The card as Markdown (headings, tables, lists)."""
        kind = "**SIMULATED data**" if self.kind == "simulated" else "Real data"
        out = [
            f"# {self.name}: {self.title}",
            "",
            f"{kind}; {self.n_units} units x {self.periods}.",
            "",
            self.description.strip(),
            "",
            f"- **Source:** {self.source.strip()}",
            f"- **Licence:** {self.licence.strip()}",
            f"- **Citation:** {self.citation.strip()}",
            "",
            "## Roles",
            "",
            *(f"- {line}" for line in self._role_lines()),
        ]
        if self.parameters:
            out += ["", "## True parameters", "", "| name | value | meaning |", "|---|---|---|"]
            out += [f"| `{p.name}` | {_fmt(p.value)} | {_md(p.description)} |"
                    for p in self.parameters]
        out += ["", "## Variables", "", "| name | description | unit |", "|---|---|---|"]
        out += [f"| `{v.name}` | {_md(v.description)} | {_md(v.unit)} |" for v in self.variables]
        if self.notes:
            out += ["", "## Notes", ""]
            out += [f"- {n.strip()}" for n in self.notes]
        if self.build:
            out += ["", "## How the file was made", "", self.build.strip()]
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _wrap(text: str, indent: int, hang: int = 0) -> str:
    paras = [p.strip() for p in str(text).strip().split("\n\n")]
    pad = " " * indent
    return "\n\n".join(
        textwrap.fill(" ".join(p.split()), width=88, initial_indent=pad,
                      subsequent_indent=pad + " " * hang)
        for p in paras
    )


# ---------------------------------------------------------------------- lookup
def find_root(bundled: Path | None, checkout: Path | None) -> Path:
    """The folder holding the datasets: the wheel's copy if present, else the checkout's.

    ``bundled`` is ``<package>/_bundled_datasets`` (wheels force-include the
    repository's ``datasets/`` there); ``checkout`` is the repository's
    ``datasets/`` next to the package (editable install or source tree).
    """
    for candidate in (bundled, checkout):
        if candidate is not None and candidate.is_dir():
            return candidate
    raise DatasetError(
        "The bundled datasets were not found: looked in "
        f"{str(bundled)!r} (installed wheel) and {str(checkout)!r} (source checkout). "
        "Reinstall the package (pip install causalpolicing) or run from a full checkout."
    )


def data_root() -> Path:
    """The folder of the bundled datasets (see :func:`find_root`).

    Examples
    --------
    >>> (data_root() / "castle" / "card.toml").is_file()
    True
    """
    bundled: Path | None
    try:
        res = importlib.resources.files("causalpolicing") / "_bundled_datasets"
        bundled = Path(str(res))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - exotic loaders
        bundled = None
    checkout = Path(__file__).resolve().parents[1] / "datasets"  # beside causalpolicing/
    return find_root(bundled, checkout)


def names() -> tuple[str, ...]:
    """Names of the bundled datasets, sorted.

    Examples
    --------
    >>> names()  # doctest: +NORMALIZE_WHITESPACE
    ('castle', 'mpdta', 'nc_crime', 'simulated_cantons', 'simulated_crackdown',
     'simulated_overdose_laws')
    """
    root = data_root()
    return tuple(sorted(p.parent.name for p in root.glob("*/card.toml")))


def _folder(name: str) -> Path:
    if not isinstance(name, str):
        raise DatasetError(f"A dataset name must be a string; got {name!r}.")
    valid = names()
    if name not in valid:
        did = did_you_mean(name, valid, style="sentence", n=3)
        raise DatasetError(
            f"Unknown dataset {name!r}.{did} Bundled datasets: {', '.join(valid)} "
            "(see cp.datasets.list())."
        )
    return data_root() / name


def path(name: str) -> Path:
    """Path of a bundled dataset's data file (a CSV).

    Examples
    --------
    >>> path("nc_crime").name
    'data.csv'
    """
    c = card(name)
    return c.folder / c.data_file


def card(name: str) -> DataCard:
    """The data card of a bundled dataset.

    Raises
    ------
    causalpolicing.exceptions.DatasetError
        For an unknown name (listing the valid ones and close matches) or a
        malformed card.

    Examples
    --------
    >>> c = card("simulated_crackdown")
    >>> c.kind, c.true_parameters["overdose_direct_rr"]
    ('simulated', 0.7)
    """
    folder = _folder(name)
    return _parse_card(str(folder / "card.toml"))


@functools.lru_cache(maxsize=32)
def _parse_card(card_path: str) -> DataCard:
    file = Path(card_path)
    try:
        with file.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise DatasetError(f"Data card {card_path!r} is not valid TOML: {err}") from err
    return parse_card(raw, folder=file.parent)


def parse_card(raw: Mapping[str, Any], folder: Path = Path(".")) -> DataCard:
    """Build and validate a :class:`DataCard` from a parsed ``card.toml`` mapping.

    Raises
    ------
    causalpolicing.exceptions.DatasetError
        When a required field is missing, a field is unknown, the kind is not
        ``simulated``/``real``, a simulated card lacks parameters or is not
        labelled simulated in its title and summary, or the roles are malformed.
    """
    where = f"data card of {raw.get('name', folder.name)!r}"
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise DatasetError(f"The {where} lacks the field(s) {', '.join(missing)}.")
    unknown = [k for k in raw if k not in _REQUIRED + _OPTIONAL]
    if unknown:
        raise DatasetError(
            f"The {where} has unknown field(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(_REQUIRED + _OPTIONAL)}."
        )
    kind = raw["kind"]
    if kind not in KINDS:
        raise DatasetError(f"The {where} has kind {kind!r}; it must be one of {KINDS}.")
    roles = dict(raw["roles"])
    bad_roles = [k for k in roles if k not in _ROLE_KEYS]
    if bad_roles or not {"unit", "time", "outcome", "treatment"} <= set(roles):
        raise DatasetError(
            f"The {where} has roles {sorted(roles)}; it needs unit, time, outcome and "
            f"treatment, and may have {', '.join(_ROLE_KEYS)}."
        )
    for key in ("outcome", "treatment"):
        if not isinstance(roles[key], Mapping) or not roles[key]:
            raise DatasetError(f"In the {where}, roles.{key} must be a table name -> kind.")
        roles[key] = MappingProxyType(dict(roles[key]))
    roles["covariates"] = tuple(roles.get("covariates", ()))
    cluster = roles.get("cluster") or ()
    roles["cluster"] = (cluster,) if isinstance(cluster, str) else tuple(cluster)
    roles.setdefault("exposure", None)
    variables = tuple(Variable(**v) for v in raw["variables"])
    parameters = tuple(Parameter(**p) for p in raw.get("parameters", ()))
    if kind == "simulated":
        if not parameters:
            raise DatasetError(f"The {where} is simulated but lists no true parameters.")
        for label in ("title", "summary"):
            if "simulated" not in str(raw[label]).lower():
                raise DatasetError(
                    f"The {where} is simulated, so its {label} must say so; got {raw[label]!r}."
                )
    described = {v.name for v in variables}
    role_cols = [roles["unit"], roles["time"], *roles["outcome"], *roles["treatment"],
                 *([roles["exposure"]] if roles["exposure"] else []), *roles["covariates"],
                 *roles["cluster"], *([roles["cohort"]] if roles.get("cohort") else [])]
    if roles.get("cohort") and roles.get("never_treated") is None:
        raise DatasetError(f"The {where} names a cohort role but no never_treated value.")
    undescribed = [c for c in role_cols if c not in described]
    if undescribed:
        raise DatasetError(
            f"The {where} gives roles to column(s) {', '.join(undescribed)} that its "
            "variable table does not describe."
        )
    return DataCard(
        name=str(raw["name"]),
        title=str(raw["title"]),
        kind=kind,
        summary=str(raw["summary"]),
        description=str(raw["description"]),
        source=str(raw["source"]),
        licence=str(raw["licence"]),
        citation=str(raw["citation"]),
        data_file=str(raw["data_file"]),
        n_units=int(raw["n_units"]),
        n_periods=int(raw["n_periods"]),
        first_period=str(raw["first_period"]),
        last_period=str(raw["last_period"]),
        period_unit=str(raw["period_unit"]),
        roles=MappingProxyType(roles),
        variables=variables,
        parameters=parameters,
        notes=tuple(str(n) for n in raw.get("notes", ())),
        neighbours_file=raw.get("neighbours_file"),
        build=str(raw.get("build", "")),
        folder=folder,
    )


# ------------------------------------------------------------------------- API
def list() -> pd.DataFrame:
    """The bundled datasets, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, title, kind, units, periods, description`` (kind is
        ``simulated`` or ``real``; description is the card's one-line summary).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> cp.datasets.list()[["name", "kind"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'name': 'castle', 'kind': 'real'}, {'name': 'mpdta', 'kind': 'real'},
     {'name': 'nc_crime', 'kind': 'real'},
     {'name': 'simulated_cantons', 'kind': 'simulated'},
     {'name': 'simulated_crackdown', 'kind': 'simulated'},
     {'name': 'simulated_overdose_laws', 'kind': 'simulated'}]
    """
    rows = []
    for name in names():
        c = card(name)
        rows.append({
            "name": c.name, "title": c.title, "kind": c.kind, "units": c.n_units,
            "periods": c.periods, "description": c.summary,
        })
    return pd.DataFrame(rows, columns=["name", "title", "kind", "units", "periods", "description"])


@overload
def load(name: str, *, with_card: Literal[False] = ...) -> Panel: ...
@overload
def load(name: str, *, with_card: Literal[True]) -> tuple[Panel, DataCard]: ...


def load(name: str, *, with_card: bool = False) -> Panel | tuple[Panel, DataCard]:
    """Load a bundled dataset as a :class:`~causalpolicing.Panel` with the card's roles.

    The CSV goes through :func:`causalpolicing.load_panel` like any user file.
    ``panel.metadata.reader_info["dataset"]`` names the dataset and ``panel.card``
    holds its data card.

    Parameters
    ----------
    name
        A name from :func:`list` (e.g. ``"simulated_cantons"``).
    with_card
        Return ``(panel, card)`` instead of the panel alone.

    Raises
    ------
    causalpolicing.exceptions.DatasetError
        For an unknown name, listing the valid names and close matches.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("nc_crime")
    >>> panel.n_units, panel.n_periods, panel.outcome, panel.treatments
    (90, 7, 'lcrmrte', ('lpolpc', 'lprbarr'))
    >>> panel.card.title
    'North Carolina county crime panel, 1981-1987 (Cornwell & Trumbull)'
    """
    if not isinstance(with_card, bool):
        raise DatasetError(f"with_card must be True or False; got {with_card!r}.")
    c = card(name)
    panel = load_panel(c.folder / c.data_file, **c.load_kwargs())
    meta = replace(
        panel.metadata, reader_info={**dict(panel.metadata.reader_info), "dataset": c.name}
    )
    tagged = Panel(
        frame=panel.to_frame(),
        source_rows=panel.source_rows,
        roles=panel.roles,
        freq=panel.freq,
        drop_log=panel.drop_log,
        metadata=meta,
        neighbours=panel.neighbours,
        history=panel.history,
        card=c,
    )
    return (tagged, c) if with_card else tagged
