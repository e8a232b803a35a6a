"""The analysis spec: one description of an analysis, built in Python or read from TOML.

An :class:`AnalysisSpec` says where the data come from and which columns play
which role, which models to fit (estimator, formula, covariance, bootstrap),
which diagnostics and causal-graph checks to run, and what to write. The Python
API (:func:`causalpolicing.analyze`) and the command line (``causalpolicing
analyze``) build the same object and call the same runner
(:mod:`causalpolicing.runner`).

The whole spec is validated before anything is estimated: unknown keys, wrong
types and values outside the allowed set raise :class:`~causalpolicing.exceptions.SpecError`
with the key path (``models[2].vcov``), what was received and what is allowed.
Formulas are parsed by the toolkit's own formula parser, never evaluated, and
TOML is read with :mod:`tomllib` (data only), so a spec file cannot run code.

A spec file::

    [data]
    dataset = "simulated_cantons"          # or: path = "deaths.csv" plus the roles below
    # unit = "canton"; time = "year"; outcome = "deaths"; treatment = "offences_per_1000"
    # exposure = "population"; covariates = ["unemployment"]; cluster = "canton"
    # read_options = {thousands = ","}; time_format = "%d.%m.%Y"; na_values = ["."]

    [[models]]
    name = "Poisson FE"
    estimator = "fepois"                    # a name of causalpolicing.estimators.registry
    formula = "deaths ~ offences_per_1000 + substitution_coverage | canton + year"
    vcov = { CRV1 = "canton" }              # iid, hetero, HC3, {CRV3 = "canton"}, {DK = "year"}
    ssc = "fixest"                          # small-sample convention (see inference.vcov)
                                            # other keys: the estimator's options (docs/analysis.md)
    # fe = ["canton", "year"]               # without a formula: the default one's fixed effects
    bootstrap = 999                         # score bootstrap of the first treatment term

    [diagnostics]
    feedback = true

    [report]
    title = "Enforcement and drug deaths"
    seed = 2026

Examples
--------
>>> from causalpolicing.spec import AnalysisSpec
>>> spec = AnalysisSpec.from_toml('''
... [data]
... dataset = "simulated_cantons"
... [[models]]
... estimator = "fepois"
... formula = "deaths ~ offences_per_1000 | canton + year"
... ''')
>>> spec.models[0].name, spec.models[0].estimator, spec.report.seed
('fepois 1', 'fepois', 20261127)
>>> AnalysisSpec.from_dict({"data": {"dataset": "simulated_cantons"}, "model": []})
Traceback (most recent call last):
...
causalpolicing.exceptions.SpecError: spec: unknown key 'model' (did you mean 'models'?); allowed keys: causal, data, diagnostics, models, report.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ._hints import check_level, did_you_mean
from ._model_spec import ModelSpec, parse_analysis_model
from ._spec_fields import (
    _bool,
    _check_keys,
    _fail,
    _int,
    _never_treated,
    _read_options,
    _str,
    _str_list,
    _time_format,
)
from .estimators import registry
from .exceptions import SpecError

__all__ = [
    "AnalysisSpec",
    "DataSpec",
    "ModelSpec",
    "DiagnosticsSpec",
    "CausalSpec",
    "ReportSpec",
    "FIGURES",
    "TABLE_FORMATS",
    "REFUTERS",
    "SIMULATED_CANTONS_DOT",
    "default_spec",
    "spec_from_options",
]

#: Figures the report can draw.
FIGURES = ("coefficients", "dose_response", "event_study", "panel_overview", "missingness",
           "dag", "refutations")
#: Table formats written by ``analyze``.
TABLE_FORMATS = ("markdown", "html", "latex", "text", "csv")
#: Refuters a spec may request (see :mod:`causalpolicing.graph`).
REFUTERS = ("placebo_permutation", "placebo_time_shift", "placebo_lead", "placebo_lead_both",
            "placebo_outcome", "leave_one_unit_out", "random_common_cause",
            "random_unit_subsets")


@dataclass(frozen=True)
class DataSpec:
    """Where the data come from and the roles of their columns.

    Give either ``dataset`` (a bundled dataset, whose card declares the roles) or
    ``path`` (a file) with at least ``unit``, ``time``, ``outcome`` and ``treatment``.
    For a bundled dataset, ``outcome``/``treatment`` choose the primary outcome and
    treatment analysed (default: the first ones declared). ``rates`` lists count
    columns to add as events per 100,000 of the exposure (``deaths`` ->
    ``deaths_per_100k``), recorded in the panel's history. For a file,
    ``read_options`` go to the reader (e.g. ``read_options = {thousands = ","}``,
    ``{decimal = ",", delimiter = ";"}``, ``{skiprows = 3}``, ``{sheet_name = "2019"}``),
    ``time_format`` is a :func:`~datetime.datetime.strptime` format for the time column
    (``time_format = "%d.%m.%Y"``), ``na_values`` are extra missing-value markers and
    ``format`` names the reader (on the command line: ``--read-option KEY=VALUE``,
    ``--time-format``, ``--na-value``, ``--format``). ``cohort`` and
    ``never_treated`` declare the treatment timing the staggered designs read
    (see :func:`causalpolicing.load_panel`; ``--cohort``, ``--never-treated``).
    """

    dataset: str | None = None
    path: str | None = None
    format: str | None = None
    unit: str | None = None
    time: str | None = None
    outcome: tuple[str, ...] = ()
    treatment: tuple[str, ...] = ()
    exposure: str | None = None
    covariates: tuple[str, ...] = ()
    cluster: str | None = None
    na_values: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()
    read_options: dict[str, Any] | None = None
    time_format: str | None = None
    cohort: str | None = None
    never_treated: Any = None

    _KEYS = ("dataset", "path", "format", "unit", "time", "outcome", "treatment", "exposure",
             "covariates", "cluster", "na_values", "rates", "read_options", "time_format",
             "cohort", "never_treated")

    @classmethod
    def _parse(cls, raw: Any, path: str = "data") -> DataSpec:
        d = _check_keys(raw, cls._KEYS, path)
        out = cls(
            dataset=_str(d.get("dataset"), f"{path}.dataset"),
            path=_str(d.get("path"), f"{path}.path"),
            format=_str(d.get("format"), f"{path}.format"),
            unit=_str(d.get("unit"), f"{path}.unit"),
            time=_str(d.get("time"), f"{path}.time"),
            outcome=_str_list(d.get("outcome"), f"{path}.outcome"),
            treatment=_str_list(d.get("treatment"), f"{path}.treatment"),
            exposure=_str(d.get("exposure"), f"{path}.exposure"),
            covariates=_str_list(d.get("covariates"), f"{path}.covariates"),
            cluster=_str(d.get("cluster"), f"{path}.cluster"),
            na_values=_str_list(d.get("na_values"), f"{path}.na_values"),
            rates=_str_list(d.get("rates"), f"{path}.rates"),
            read_options=_read_options(d.get("read_options"), f"{path}.read_options"),
            time_format=_time_format(d.get("time_format"), f"{path}.time_format"),
            cohort=_str(d.get("cohort"), f"{path}.cohort"),
            never_treated=_never_treated(d.get("never_treated"), f"{path}.never_treated"),
        )
        if (out.cohort is None) != (out.never_treated is None):
            raise _fail(path, "cohort (the column of each unit's first treated period) and "
                              "never_treated (its value(s) marking never-treated units, e.g. 0) "
                              "are given together.")
        if (out.dataset is None) == (out.path is None):
            raise _fail(path, "give exactly one of 'dataset' (a bundled dataset, see "
                              "`causalpolicing datasets list`) or 'path' (a data file).")
        if out.path is not None:
            missing = [k for k in ("unit", "time", "outcome", "treatment") if not getattr(out, k)]
            if missing:
                raise _fail(path, f"a data file needs the roles {', '.join(missing)} "
                                  f"(e.g. unit = \"canton\", time = \"year\").")
        elif out.read_options or out.time_format or out.format or out.na_values:
            raise _fail(path, "read_options, time_format, format and na_values describe how "
                              "to read a data file ('path'); a bundled dataset takes none.")
        return out


@dataclass(frozen=True)
class DiagnosticsSpec:
    """Feedback diagnostics: leads test, reverse regression, panel Granger test."""

    feedback: bool = True
    leads: int = 2
    lags: int = 2
    granger_lags: int = 2

    _KEYS = ("feedback", "leads", "lags", "granger_lags")

    @classmethod
    def _parse(cls, raw: Any, path: str = "diagnostics") -> DiagnosticsSpec:
        d = _check_keys(raw, cls._KEYS, path)
        return cls(
            feedback=_bool(d.get("feedback", True), f"{path}.feedback"),
            leads=_int(d.get("leads", 2), f"{path}.leads", minimum=1),
            lags=_int(d.get("lags", 2), f"{path}.lags", minimum=1),
            granger_lags=_int(d.get("granger_lags", 2), f"{path}.granger_lags", minimum=1),
        )


@dataclass(frozen=True)
class CausalSpec:
    """Causal-graph checks: identification, implications, refutations, sensitivity, mediation.

    ``graph`` is a DOT or GML string, a path to a ``.dot``/``.gml`` file, or
    ``"template:NAME"`` (see :func:`causalpolicing.graph.list_templates`), whose
    nodes ``columns`` maps to data columns and ``latent`` marks unobserved.
    ``treatment``/``outcome`` are graph nodes (default: the data's primary
    treatment and outcome). The estimate refuted is the graph's (adjustment set
    plus unit and time effects, ``estimator``) or, without a graph, the first
    model of the spec that contains the treatment.
    """

    graph: str | None = None
    columns: dict[str, str] | None = None
    latent: tuple[str, ...] = ()
    treatment: str | None = None
    outcome: str | None = None
    estimator: str = "feols"
    refute: tuple[str, ...] = ()
    reps: int = 200
    placebo_outcome: str | None = None
    sensitivity: bool = True
    implications: bool = True
    mediator: str | None = None

    _KEYS = ("graph", "columns", "latent", "treatment", "outcome", "estimator", "refute", "reps",
             "placebo_outcome", "sensitivity", "implications", "mediator")

    @classmethod
    def _parse(cls, raw: Any, path: str = "causal") -> CausalSpec:
        d = _check_keys(raw, cls._KEYS, path)
        columns = d.get("columns")
        if columns is not None:
            if not isinstance(columns, Mapping):
                raise _fail(f"{path}.columns", f"expected a table node = \"column\", got "
                                               f"{columns!r}.")
            columns = {str(k): _str(v, f"{path}.columns.{k}", optional=False)
                       for k, v in columns.items()}
        out = cls(
            graph=_str(d.get("graph"), f"{path}.graph"),
            columns=columns,  # type: ignore[arg-type]
            latent=_str_list(d.get("latent"), f"{path}.latent"),
            treatment=_str(d.get("treatment"), f"{path}.treatment"),
            outcome=_str(d.get("outcome"), f"{path}.outcome"),
            estimator=_str(d.get("estimator", "feols"), f"{path}.estimator",
                           allowed=("feols", "fepois")) or "feols",
            refute=_str_list(d.get("refute"), f"{path}.refute", allowed=REFUTERS),
            reps=_int(d.get("reps", 200), f"{path}.reps", minimum=1),
            placebo_outcome=_str(d.get("placebo_outcome"), f"{path}.placebo_outcome"),
            sensitivity=_bool(d.get("sensitivity", True), f"{path}.sensitivity"),
            implications=_bool(d.get("implications", True), f"{path}.implications"),
            mediator=_str(d.get("mediator"), f"{path}.mediator"),
        )
        if "placebo_outcome" in out.refute and out.placebo_outcome is None:
            raise _fail(f"{path}.placebo_outcome", "the 'placebo_outcome' refuter needs the "
                                                   "name of an outcome the treatment cannot "
                                                   "affect.")
        if out.graph is None and (out.columns or out.latent):
            raise _fail(path, "'columns' and 'latent' describe a graph: give 'graph' too.")
        if out.graph is not None and out.graph.startswith("template:"):
            from .graph.templates import TEMPLATES

            name = out.graph.split(":", 1)[1]
            if name not in TEMPLATES:
                raise _fail(f"{path}.graph", f"unknown template {name!r}{did_you_mean(name, TEMPLATES)}; "
                                             f"available: {', '.join(sorted(TEMPLATES))}.")
        return out


@dataclass(frozen=True)
class ReportSpec:
    """What the report shows and what ``analyze`` writes."""

    title: str = "Drug-law enforcement and health: analysis report"
    level: float = 0.95
    change: str = "1"
    stars: bool = False
    figures: tuple[str, ...] = ("coefficients", "dose_response", "event_study",
                                "panel_overview", "missingness", "dag", "refutations")
    tables: tuple[str, ...] = TABLE_FORMATS
    seed: int = 20261127
    staggered_diagnostics: bool = True

    _KEYS = ("title", "level", "change", "stars", "figures", "tables", "seed",
             "staggered_diagnostics")

    @classmethod
    def _parse(cls, raw: Any, path: str = "report") -> ReportSpec:
        d = _check_keys(raw, cls._KEYS, path)
        level = d.get("level", 0.95)
        try:
            check_level(level)
        except SpecError:
            raise _fail(f"{path}.level", f"expected a number between 0 and 1 (e.g. 0.95), "
                                         f"got {level!r}.") from None
        change = d.get("change", "1")
        if isinstance(change, (int, float)) and not isinstance(change, bool):
            change = repr(change)
        change = _str(change, f"{path}.change") or "1"
        if change != "sd" and not change.endswith("%"):
            try:
                float(change)
            except ValueError:
                raise _fail(f"{path}.change", f"expected a number, 'sd' or a percentage like "
                                              f"'10%', got {change!r}.") from None
        defaults = cls()
        return cls(
            title=_str(d.get("title"), f"{path}.title") or defaults.title,
            level=float(level),
            change=change,
            stars=_bool(d.get("stars", False), f"{path}.stars"),
            figures=(_str_list(d["figures"], f"{path}.figures", allowed=FIGURES)
                     if "figures" in d else defaults.figures),
            tables=(_str_list(d["tables"], f"{path}.tables", allowed=TABLE_FORMATS)
                    if "tables" in d else defaults.tables),
            seed=_int(d.get("seed", defaults.seed), f"{path}.seed"),
            staggered_diagnostics=_bool(d.get("staggered_diagnostics", True),
                                        f"{path}.staggered_diagnostics"),
        )


@dataclass(frozen=True)
class AnalysisSpec:
    """A complete, validated analysis (see the module docstring).

    Build it with :meth:`from_toml`, :meth:`from_dict` or directly from the
    parts; :meth:`to_dict`/:meth:`to_toml` give it back (the report records it).
    """

    data: DataSpec
    models: tuple[ModelSpec, ...] = ()
    diagnostics: DiagnosticsSpec = field(default_factory=DiagnosticsSpec)
    causal: CausalSpec | None = None
    report: ReportSpec = field(default_factory=ReportSpec)

    _KEYS = ("data", "models", "diagnostics", "causal", "report")

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataSpec):
            raise SpecError(f"data: expected a DataSpec, got {type(self.data).__name__}.")
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SpecError(f"models: model names must be unique; repeated: {', '.join(dup)}.")

    # ------------------------------------------------------------- building
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AnalysisSpec:
        """Validate a nested mapping (as read from TOML) into a spec."""
        d = _check_keys(raw, cls._KEYS, "spec")
        if "data" not in d:
            raise _fail("spec", "the [data] table is required (dataset = \"...\" or path = "
                                "\"...\" with the roles).")
        data = DataSpec._parse(d["data"])
        models_raw = d.get("models", [])
        if not isinstance(models_raw, list):
            raise _fail("models", "expected an array of tables ([[models]] in TOML).")
        models = tuple(parse_analysis_model(m, f"models[{i}]", i)
                       for i, m in enumerate(models_raw))
        return cls(
            data=data,
            models=models,
            diagnostics=DiagnosticsSpec._parse(d.get("diagnostics", {})),
            causal=CausalSpec._parse(d["causal"]) if "causal" in d else None,
            report=ReportSpec._parse(d.get("report", {})),
        )

    @classmethod
    def from_toml(cls, source: str | Path) -> AnalysisSpec:
        """Read a spec from a TOML file path or a TOML string (parsed as data only)."""
        text: str
        if isinstance(source, Path) or ("\n" not in source and source.endswith(".toml")):
            p = Path(source)
            if not p.is_file():
                raise SpecError(f"spec file {str(p)!r} not found.")
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise SpecError(f"spec file {str(p)!r} is not UTF-8 text (byte {exc.start}): a "
                                "spec is a TOML text file; is this the data file?") from None
        else:
            text = source
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"the spec is not valid TOML: {exc}.") from None
        return cls.from_dict(raw)

    def with_models(self, models: Sequence[ModelSpec]) -> AnalysisSpec:
        """A copy with other models."""
        return replace(self, models=tuple(models))

    # ------------------------------------------------------------ exporting
    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (lists, dicts, strings, numbers; ``None`` left out)."""
        def clean(obj: Any) -> Any:
            if isinstance(obj, dict):
                return {k: clean(v) for k, v in obj.items() if v is not None}
            if isinstance(obj, (list, tuple)):
                return [clean(v) for v in obj]
            return obj

        out: dict[str, Any] = {"data": clean(asdict(self.data)),
                               "models": [clean(m.to_analysis_dict()) for m in self.models],
                               "diagnostics": clean(asdict(self.diagnostics)),
                               "report": clean(asdict(self.report))}
        if self.causal is not None:
            out["causal"] = clean(asdict(self.causal))
        return out

    def to_json(self) -> str:
        """The spec as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    def to_toml(self) -> str:
        """The spec as TOML text that :meth:`from_toml` reads back to an equal spec."""
        d = self.to_dict()
        lines: list[str] = []
        for section in ("data", "diagnostics", "causal", "report"):
            if section in d:
                lines.append(f"[{section}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in d[section].items()]
                lines.append("")
        for m in d["models"]:
            lines.append("[[models]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in m.items()]
            lines.append("")
        return "\n".join(lines)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}"
                                for k, x in v.items()) + " }"
    raise SpecError(f"cannot write {v!r} to TOML.")


#: The causal graph of the default analysis of ``simulated_cantons``: deaths two years
#: earlier drive enforcement (the feedback), the budget shock moves enforcement only,
#: substitution coverage protects (and, being persistent, shaped deaths two years
#: earlier too), neighbours' enforcement spills over. Canton and year effects absorb
#: the drug-market size (prevalence), so it is not a node.
SIMULATED_CANTONS_DOT = """digraph simulated_cantons {
  deaths_per_100k_lag2 -> offences_per_1000;
  budget_shock -> offences_per_1000;
  substitution_coverage -> deaths_per_100k_lag2;
  substitution_coverage -> deaths_per_100k;
  offences_per_1000 -> deaths_per_100k;
  neighbour_offences_per_1000 -> deaths_per_100k;
  unemployment;
}"""


def default_spec(dataset: str = "simulated_cantons") -> AnalysisSpec:
    """The analysis ``causalpolicing analyze`` runs when given no data.

    On ``simulated_cantons``: linear two-way FE on the death rate (with a wild
    cluster bootstrap), Poisson FE with population exposure (with a score
    bootstrap), a distributed-lag model with two leads and two lags (the event-study
    figure), the feedback diagnostics, and a causal graph
    (:data:`SIMULATED_CANTONS_DOT`) with identification, implication tests, panel
    refutations and sensitivity analysis.

    Examples
    --------
    >>> spec = default_spec()
    >>> [m.estimator for m in spec.models]
    ['feols', 'fepois', 'distributed_lag']
    """
    if dataset != "simulated_cantons":
        return AnalysisSpec(data=DataSpec(dataset=dataset))
    treat = "offences_per_1000 + substitution_coverage + neighbour_offences_per_1000"
    models = (
        ModelSpec(name="Linear FE (deaths per 100,000)", estimator="feols",
                  formula=f"deaths_per_100k ~ {treat} | canton + year",
                  vcov={"CRV1": "canton"}, bootstrap=999),
        ModelSpec(name="Poisson FE (deaths, exposure population)", estimator="fepois",
                  formula=f"deaths ~ {treat} | canton + year",
                  vcov={"CRV1": "canton"}, exposure="population", bootstrap=999),
        ModelSpec(name="Leads and lags (linear, deaths per 100,000)",
                  estimator="distributed_lag", vcov={"CRV1": "canton"}, lags=2, leads=2),
    )
    return AnalysisSpec(
        data=DataSpec(dataset="simulated_cantons", outcome=("deaths",),
                      treatment=("offences_per_1000",), rates=("deaths",)),
        models=models,
        causal=CausalSpec(
            graph=SIMULATED_CANTONS_DOT, treatment="offences_per_1000",
            outcome="deaths_per_100k",
            refute=("placebo_permutation", "placebo_time_shift", "placebo_lead",
                    "leave_one_unit_out", "random_common_cause"),
            reps=500),
        report=ReportSpec(title="Enforcement and drug deaths in 26 cantons (SIMULATED data)"),
    )


def spec_from_options(
    *,
    path: str,
    unit: str | None,
    time: str | None,
    outcome: Sequence[str] | None,
    treatment: Sequence[str] | None,
    exposure: str | None = None,
    covariates: Sequence[str] | None = None,
    cluster: str | None = None,
    estimators: Sequence[str] | None = None,
    bootstrap: int = 0,
    format: str | None = None,
    na_values: Sequence[str] | None = None,
    read_options: Mapping[str, Any] | None = None,
    time_format: str | None = None,
    cohort: str | None = None,
    never_treated: Any = None,
) -> AnalysisSpec:
    """The spec the command line builds from ``analyze FILE --unit ... --time ...``.

    Models default to linear two-way FE, plus Poisson FE with the exposure when
    ``exposure`` is given; every model uses unit and time effects with CRV1
    clustered by ``cluster`` (default: the unit). ``format``, ``na_values``,
    ``read_options``, ``time_format``, ``cohort`` and ``never_treated`` are the
    ``[data]`` keys of the same names. The model options (``--vcov``, ``--ssc``, ``--formula``, ``--fe``) are applied
    afterwards by :func:`causalpolicing.analysis.overrides.override_models`.

    Examples
    --------
    >>> spec = spec_from_options(path="deaths.csv", unit="canton", time="year",
    ...                          outcome=["deaths"], treatment=["offences"],
    ...                          exposure="population")
    >>> [(m.name, m.estimator) for m in spec.models]
    [('feols', 'feols'), ('fepois', 'fepois')]
    """
    data: dict[str, Any] = {"path": path, "unit": unit, "time": time,
                            "outcome": list(outcome or []), "treatment": list(treatment or []),
                            "exposure": exposure, "covariates": list(covariates or []),
                            "cluster": cluster, "format": format,
                            "na_values": list(na_values or []), "read_options": read_options,
                            "time_format": time_format, "cohort": cohort,
                            "never_treated": never_treated}
    chosen = list(estimators or (["feols", "fepois"] if exposure else ["feols"]))
    models = []
    for est in chosen:
        m: dict[str, Any] = {"name": est, "estimator": est}
        if bootstrap and est in registry.names() and registry.get(est).bootstrap:
            m["bootstrap"] = bootstrap
        models.append(m)
    return AnalysisSpec.from_dict({"data": {k: v for k, v in data.items()
                                            if v or (k == "never_treated" and v is not None)},
                                   "models": models})

