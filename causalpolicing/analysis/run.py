"""The one runner behind ``cp.analyze`` and ``causalpolicing analyze``.

:func:`analyze` takes an :class:`~causalpolicing.spec.AnalysisSpec` (validated
completely before anything runs), loads the panel, fits every model, runs the
bootstraps, the feedback diagnostics and the causal-graph checks the spec asks
for, draws the figures and builds the report. With ``out=`` it writes
``report.html`` (self-contained), ``report.md``, the estimates table in every
format, tidy results (CSV and JSON), one JSON file per model (readable by
``causalpolicing table``), the figures, the drop log and the spec.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.spec import AnalysisSpec
>>> spec = AnalysisSpec.from_toml('''
... [data]
... dataset = "nc_crime"
... [[models]]
... name = "within"
... estimator = "feols"
... formula = "lcrmrte ~ lprbarr + lpolpc | county + year"
... vcov = "iid"
... [diagnostics]
... feedback = false
... [report]
... figures = ["coefficients"]
... ''')
>>> result = cp.analyze(spec)
>>> round(float(result.results["within"].params["lprbarr"]), 3)
-0.082
>>> "<html" in result.report.html
True
"""

from __future__ import annotations

import platform
import sys
import time
import warnings
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from .. import datasets
from .._warnings import record_warnings
from ..data import load_panel
from ..estimators import registry
from ..exceptions import CausalPolicingError, DataWarning, SpecError
from ..formula import quote_name
from ..inference.bootstrap import wild_bootstrap
from ..inference.count_bootstrap import poisson_bootstrap
from ..report import table
from ..spec import AnalysisSpec, ModelSpec, default_spec
from ._outcome import linear_outcome
from ._treatment import check_treatment_estimated, check_treatments
from .outputs import staged_output, write_manifest, write_outputs
from .outputs import tidy_frame as tidy_frame  # re-exported: analysis.run.tidy_frame
from .overrides import override_models
from .progress import AnnouncedFigures, StepLog, resolve_mode

__all__ = ["Analysis", "analyze", "default_models", "load_spec_data", "fit_model"]


@dataclass(frozen=True)
class Analysis:
    """Everything one run of :func:`analyze` produced (frozen).

    Attributes
    ----------
    spec
        The validated spec that was run.
    panel
        The analysed :class:`~causalpolicing.Panel` (after the spec's rates).
    results
        Model name -> fitted results (the results contract).
    bootstraps
        Model name -> bootstrap result of its first treatment term.
    diagnostics
        The feedback diagnostics (``FeedbackReport``) or ``None``.
    causal
        Causal-graph outputs (identification, implications, refutations,
        sensitivity), by name.
    figures
        Caption -> matplotlib Figure.
    report
        The :class:`~causalpolicing.report.Report` (HTML and Markdown).
    outputs
        Written files by kind (empty unless ``out`` was given).
    warnings
        Every warning raised while running, as ``"Category: message"``.
    provenance
        Input checksum, versions, seed, spec and command line.
    staggered
        The staggered-adoption diagnostics
        (:class:`~causalpolicing.report.document.staggered.StaggeredSection`: Bacon
        decomposition, TWFE weights, HonestDiD per design) or ``None`` (no timing role,
        or ``[report] staggered_diagnostics = false``).
    """

    spec: AnalysisSpec
    panel: Any
    results: Mapping[str, Any]
    bootstraps: Mapping[str, Any]
    diagnostics: Any
    causal: Mapping[str, Any]
    figures: Mapping[str, Any]
    report: Any
    outputs: Mapping[str, Path] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    staggered: Any = None

    def table(self, **options: Any) -> Any:
        """The estimates table of every model (see :func:`causalpolicing.table`)."""
        return table(dict(self.results), **options)


# --------------------------------------------------------------------------- data
def load_spec_data(spec: AnalysisSpec) -> Any:
    """Load the panel the spec describes (bundled dataset or file) and add its rates."""
    d = spec.data
    if d.dataset is not None:
        panel = datasets.load(d.dataset)
        changes: dict[str, Any] = {}
        if d.outcome:
            changes["outcome"] = _merge(d.outcome, panel.outcomes)
        if d.treatment:
            changes["treatment"] = _merge(d.treatment, panel.treatments)
        if d.exposure:
            changes["exposure"] = d.exposure
        if d.covariates:
            changes["covariates"] = list(d.covariates)
        if d.cluster:
            changes["clusters"] = [d.cluster]
        if d.cohort is not None:
            changes.update(cohort=d.cohort, never_treated=_never(d.never_treated))
        if changes:
            panel = panel.with_roles(**changes)
    else:
        panel = load_panel(
            d.path, unit=d.unit, time=d.time, outcome=list(d.outcome),
            treatment=list(d.treatment), exposure=d.exposure, covariates=list(d.covariates),
            cluster=d.cluster, format=d.format, na_values=list(d.na_values),
            read_options=d.read_options, time_format=d.time_format,
            cohort=d.cohort, never_treated=_never(d.never_treated),
        )
    for column in d.rates:
        panel = panel.rate(column)
    return panel


def _never(value: Any) -> Any:
    """A spec's never-treated marker(s) as the Panel takes them (a list for several)."""
    return list(value) if isinstance(value, tuple) else value


def default_models(panel: Any) -> tuple[ModelSpec, ...]:
    """The models of a spec that names none: two-way FE OLS of the primary outcome on
    the treatments and covariates, plus Poisson FE when that outcome is a count
    (with the panel's exposure, if any).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> [m.estimator for m in default_models(cp.datasets.load("simulated_cantons"))]
    ['feols', 'fepois']
    """
    models = [ModelSpec(name="Linear FE", estimator="feols")]
    if panel.outcome_kinds.get(panel.outcome) == "count":
        models.append(ModelSpec(name="Poisson FE", estimator="fepois"))
    return tuple(models)


def _merge(first: tuple[str, ...], existing: tuple[str, ...]) -> list[str]:
    """The requested columns first, then the other declared ones (their kinds are kept)."""
    return list(first) + [c for c in existing if c not in first]


def _default_vcov(panel: Any) -> dict[str, str]:
    return {"CRV1": panel.clusters[0] if panel.clusters else panel.unit}


def _default_formula(panel: Any, model: ModelSpec) -> str:
    # column names that are not identifiers (`Kanton name`, `C(x)`) are back-ticked
    q = quote_name
    rhs = " + ".join(q(c) for c in [*panel.treatments, *panel.covariates])
    if not model.entry.fixed_effects:
        return f"{q(panel.outcome)} ~ {rhs}"
    # model.fe (the spec's or --fe) is already quoted by _spec_fields._fe
    fe = " + ".join(model.fe) if model.fe else f"{q(panel.unit)} + {q(panel.time)}"
    return f"{q(panel.outcome)} ~ {rhs} | {fe}"


def fit_model(panel: Any, model: ModelSpec) -> Any:
    """Fit one model of the spec on the panel and return its results.

    The model's options go to the registry's estimator
    (:func:`causalpolicing.estimators.registry.fit`); the spec fills in what the
    data roles decide: the default formula, and CRV1 by the cluster role (or the
    unit) when the estimator itself has no default covariance. An entry's
    ``panel_defaults`` (a distributed-lag model, the designs) take the options
    they name from the Panel: the primary outcome (its rate, when the spec added
    one and no exposure is given) and treatment, with the covariates, as Poisson
    when given an exposure; a design's cohort comes from the Panel's timing role.
    """
    entry = model.entry
    opts = dict(model.options)
    vcov_opt = entry.option("vcov")
    if vcov_opt is not None and "vcov" not in opts and vcov_opt.default is None:
        opts["vcov"] = _default_vcov(panel)
    if entry.panel_defaults:
        defaults = _panel_defaults(panel, model, opts)
        opts = {**{k: defaults[k] for k in entry.panel_defaults}, **opts}
    elif entry.formula and "formula" not in opts:
        opts["formula"] = _default_formula(panel, model)
    return registry.fit(entry.name, panel, **opts)


def _panel_defaults(panel: Any, model: ModelSpec, opts: Mapping[str, Any]) -> dict[str, Any]:
    """Every option :data:`~causalpolicing.estimators._schema.PANEL_DEFAULTS` names, from the Panel."""
    exposure = opts.get("exposure")
    # a linear model of the rate the spec added, unless Poisson with an exposure
    outcome = panel.outcome if exposure else linear_outcome(panel)[0]
    return {"outcome": outcome, "family": "fepois" if exposure else "feols",
            "covariates": list(panel.covariates), "treatment": panel.treatment,
            "lags": model.lags, "leads": model.leads}


def _boot_term(res: Any, panel: Any) -> str | None:
    terms = list(res.params.index)
    for t in panel.treatments:
        if t in terms:
            return t
    return terms[0] if terms else None


def _bootstrap(res: Any, model: ModelSpec, panel: Any, seed: int, progress: bool) -> Any:
    term = _boot_term(res, panel)
    if term is None:
        return None
    kind = model.entry.bootstrap
    if kind == "wild":
        return wild_bootstrap(res, term, reps=model.bootstrap, weights=model.bootstrap_weights,
                              seed=seed, progress=progress, data=panel.to_frame())
    if kind == "score":
        weights = "webb" if model.bootstrap_weights == "mammen" else model.bootstrap_weights
        return poisson_bootstrap(res, term, reps=model.bootstrap, weights=weights,  # type: ignore[arg-type]
                                 seed=seed, progress=progress, data=panel.to_frame())
    raise SpecError(f"models: {model.estimator!r} has no bootstrap (model {model.name!r}); "
                    "remove 'bootstrap'.")  # unreachable: the spec validates it


# ------------------------------------------------------------------------- run
def analyze(
    spec: AnalysisSpec | str | Path | Mapping[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool | str = False,
    command_line: str | None = None,
    model_options: Mapping[str, Any] | None = None,
) -> Analysis:
    """Run an analysis spec end to end (see the module docstring).

    Parameters
    ----------
    spec
        An :class:`~causalpolicing.spec.AnalysisSpec`, a TOML file path or text, a
        mapping (as read from TOML), or ``None`` for the default analysis of the
        bundled ``simulated_cantons`` (:func:`~causalpolicing.spec.default_spec`).
    out
        Folder to write the report, tables, tidy results and figures to. ``None``
        writes nothing. It must not exist or be empty (see ``overwrite``); it is
        checked, and a staging folder next to it created, before anything runs,
        and the outputs replace it only when all are written: a failed or
        interrupted run leaves it as it was (see :mod:`~causalpolicing.analysis.outputs`).
    overwrite
        Replace the outputs of an earlier analysis in ``out`` (the whole folder; no
        stale file is kept). Only folders written by ``analyze`` (with its
        ``manifest.json``) are replaced; any other non-empty folder is refused.
    progress
        ``False`` (default): silent. ``True``: progress bars on a terminal, one line
        per step on stderr otherwise; ``"lines"`` or ``"bars"`` to choose (see
        :mod:`~causalpolicing.analysis.progress`).
    command_line
        The command that started the run, recorded in the provenance.
    model_options
        Options applied to every model after a spec without models got its default
        ones (``vcov``, ``ssc``, ``formula``, ``fe``, ``cluster``, ``bootstrap``; see
        :func:`~causalpolicing.spec.override_models`): the command line's
        ``--vcov``/``--ssc``/... with ``--config``.

    Returns
    -------
    Analysis

    Raises
    ------
    SpecError
        A bad spec, or an ``out`` that is not empty (without ``overwrite``), is not
        a folder, or cannot be written; raised before the analysis runs.
    """
    spec = _as_spec(spec)
    _check_graph(spec)  # a bad [causal] graph fails before any folder or data work
    steps = StepLog(resolve_mode(progress), total=0)
    if out is None:
        staging: Any = nullcontext(None)
    else:
        staging = staged_output(out, overwrite=overwrite)
    try:
        with staging as stage:
            analysis = _run(spec, steps, command_line, writes=stage is not None,
                            model_options=model_options)
            if stage is not None:
                steps.step(f"writing outputs to {out}")
                written = write_outputs(analysis, stage, note=steps.sub)
                steps.sub("manifest.json, then moving the folder into place")
                written["manifest"] = write_manifest(stage, command_line=command_line)
    except BaseException as exc:
        steps.fail(exc)
        raise
    steps.close()
    if out is not None:
        final = Path(out)
        outputs = {k: final / Path(v).relative_to(stage) for k, v in written.items()}
        analysis = replace(analysis, outputs=MappingProxyType(outputs))
    return analysis


def _as_spec(spec: AnalysisSpec | str | Path | Mapping[str, Any] | None) -> AnalysisSpec:
    if spec is None:
        return default_spec()
    if isinstance(spec, Mapping):
        return AnalysisSpec.from_dict(spec)
    if isinstance(spec, (str, Path)):
        return AnalysisSpec.from_toml(spec)
    if not isinstance(spec, AnalysisSpec):
        raise SpecError(f"spec must be an AnalysisSpec, a TOML path or text, or a mapping; got "
                        f"{type(spec).__name__}.")
    return spec


def _run(spec: AnalysisSpec, steps: StepLog, command_line: str | None, *,
         writes: bool, model_options: Mapping[str, Any] | None = None) -> Analysis:
    """Everything of :func:`analyze` but writing the outputs."""
    started = time.time()
    with record_warnings() as caught:
        t0 = steps.now()
        panel = load_spec_data(spec)
        check_treatments(panel)
        if not spec.models:
            spec = spec.with_models(default_models(panel))
        if model_options:
            spec = spec.with_models(override_models(spec.models, **model_options))
        steps.total = 5 + len(spec.models) + writes
        steps.step(f"loaded {len(panel):,} rows from {panel.metadata.source}", since=t0)
        results: dict[str, Any] = {}
        boots: dict[str, Any] = {}
        for i, model in enumerate(spec.models):
            steps.step(f"fitting {model.name}")
            try:
                results[model.name] = fit_model(panel, model)
            except CausalPolicingError as exc:
                try:  # the same error, saying which model of the spec failed
                    located = type(exc)(f"models[{i}] ({model.name}): {exc}")
                except TypeError:  # an error class with another signature
                    raise exc from None
                raise located from exc
            check_treatment_estimated(results[model.name], panel,
                                      f"models[{i}] ({model.name})")
            if model.bootstrap:
                steps.sub(f"bootstrap ({model.bootstrap:,} draws)")
                boots[model.name] = _bootstrap(results[model.name], model, panel,
                                               spec.report.seed + i, steps.bars)
        steps.step("feedback diagnostics")
        diagnostics = _diagnostics(spec, panel)
        steps.step("causal checks")
        causal = _causal(spec, panel, results, steps)
        steps.step("figures")
        figures = _figures(spec, panel, results, causal, steps)
        from .staggered import event_study_captions, staggered_diagnostics

        if steps.enabled and spec.report.staggered_diagnostics and panel.cohort is not None:
            steps.sub("staggered-adoption diagnostics (Bacon, TWFE weights, HonestDiD)")
        staggered = staggered_diagnostics(spec, panel, results,
                                          event_study_figures=event_study_captions(figures))
        if staggered is not None:
            figures.update(staggered.figures)
        steps.step("report")
        provenance = _provenance(spec, panel, command_line, started)
        shown = AnnouncedFigures(figures, steps.sub) if steps.enabled else figures
        report = _report(spec, panel, results, boots, diagnostics, causal, shown,
                         provenance, _messages(caught), staggered)
    return Analysis(spec=spec, panel=panel, results=MappingProxyType(results),
                    bootstraps=MappingProxyType(boots), diagnostics=diagnostics,
                    causal=MappingProxyType(causal), figures=MappingProxyType(figures),
                    report=report, warnings=_messages(caught),
                    provenance=MappingProxyType(provenance), staggered=staggered)


def _diagnostics(spec: AnalysisSpec, panel: Any) -> Any:
    if not spec.diagnostics.feedback:
        return None
    from ..diagnostics.feedback import feedback_report

    d = spec.diagnostics
    try:
        return feedback_report(panel, leads=d.leads, lags=d.lags, granger_lags=d.granger_lags)
    except CausalPolicingError as exc:
        # e.g. a panel too short for the Granger test: the rest of the analysis still runs,
        # and the report says the check was not possible (set diagnostics.feedback = false,
        # or fewer lags, to silence this)
        warnings.warn(f"Feedback diagnostics not run: {exc}", DataWarning, stacklevel=3)
        return None


def _check_graph(spec: AnalysisSpec) -> None:
    if spec.causal is not None and spec.causal.graph is not None:
        from .causal import load_graph

        load_graph(spec.causal.graph, spec.causal.columns, spec.causal.latent)


def _causal(spec: AnalysisSpec, panel: Any, results: Mapping[str, Any],
            steps: StepLog) -> dict[str, Any]:
    if spec.causal is None:
        return {}
    from .causal import run_causal

    return run_causal(spec, panel, results, progress=steps.bars,
                      note=steps.sub if steps.enabled else None)


def _figures(spec: AnalysisSpec, panel: Any, results: Mapping[str, Any],
             causal: Mapping[str, Any], steps: StepLog) -> dict[str, Any]:
    from .figures import draw_figures

    return draw_figures(spec, panel, results, causal,
                        note=steps.sub if steps.enabled else None)


def _report(spec: AnalysisSpec, panel: Any, results: Mapping[str, Any], boots: Mapping[str, Any],
            diagnostics: Any, causal: Mapping[str, Any], figures: Mapping[str, Any],
            provenance: Mapping[str, Any], messages: tuple[str, ...] = (),
            staggered: Any = None) -> Any:
    from ..report import build_report

    diag = _diagnostics_for_report(diagnostics, boots)
    if messages:
        diag["warnings raised while running"] = pd.DataFrame({"warning": list(messages)})
    return build_report(
        dict(results), panel=panel, figures=figures,
        diagnostics=diag,
        refutations=(None if causal.get("refutations") is None
                     else list(causal["refutations"].results)),
        implications=causal.get("implications"),
        graph_summary=causal.get("graph_summary"), provenance=dict(provenance),
        title=spec.report.title,
        table_options={"level": spec.report.level, "stars": spec.report.stars},
        narrative=_narrative_options(spec, panel), staggered=staggered,
    )


def _narrative_options(spec: AnalysisSpec, panel: Any) -> dict[str, Any]:
    units = _unit_labels(panel)
    # a unit shared by several treatments does not say which one moved: name them too
    shared = [t for t in units if sum(u == units[t] for u in units.values()) > 1]
    return {"level": spec.report.level, "change": _change(spec.report.change),
            "unit_labels": units, "treatment_labels": {t: t for t in shared}}


def _unit_labels(panel: Any) -> dict[str, tuple[str, str]]:
    """(singular, plural) units of rate treatments from a bundled dataset's card.

    Only units of the form "<plural noun> per ..." (e.g. "offences per 1,000
    residents") are used, so sentences read "an increase of 1 offence per 1,000
    residents"; others keep the narrative's default ("1 unit in <column>").
    """
    card = getattr(panel, "card", None)
    out: dict[str, tuple[str, str]] = {}
    for var in getattr(card, "variables", ()) or ():
        unit = str(getattr(var, "unit", "") or "")
        head, sep, rest = unit.partition(" per ")
        if var.name in panel.treatments and sep and head.endswith("s") and " " not in head \
                and not head.endswith("ss"):
            out[var.name] = (f"{head[:-1]} per {rest}", unit)
    return out


def _change(text: str) -> float | str:
    """The spec's ``change`` ('1', '0.5', 'sd', '10%') as the narrative takes it."""
    if text == "sd" or text.endswith("%"):
        return text
    return float(text)


def _messages(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    """Each distinct warning once, as ``"Category: message"``, in the order raised."""
    return tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def _diagnostics_for_report(feedback: Any, boots: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if feedback is not None:
        out["feedback"] = feedback
    for name, b in boots.items():
        if b is not None:
            out[f"bootstrap: {name}"] = b
    return out


def _provenance(spec: AnalysisSpec, panel: Any, command_line: str | None,
                started: float) -> dict[str, Any]:
    meta = panel.metadata
    return {
        "source": str(meta.source),
        "sha256": meta.sha256,
        "reader": meta.reader,
        "seed": spec.report.seed,
        "spec_toml": spec.to_toml(),
        "command_line": command_line or "causalpolicing.analyze(...) (Python API)",
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(started)),
    }
