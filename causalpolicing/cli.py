"""The ``causalpolicing`` command line.

Commands
--------
``causalpolicing datasets list`` / ``causalpolicing datasets show NAME``
    The bundled datasets and their data cards.
``causalpolicing validate [FILE] --unit U --time T --outcome Y --treatment X ...``
    Load a file (or, with no FILE, the bundled ``simulated_cantons``) and print
    the panel summary and the drop log.
``causalpolicing analyze [FILE ... | --config spec.toml] --out DIR``
    Run an analysis (the bundled ``simulated_cantons`` by default) and write the
    report, tables, tidy results and figures.
``causalpolicing table RESULTS... --format latex``
    Tables from results saved by ``analyze``.
``causalpolicing reproduce ...``
    Published estimates, reproduced (see ``causalpolicing reproduce --help``).

Errors in the input are printed as one readable message (no traceback) with
exit code 2; ``--verbose`` shows the traceback. Other failures exit with 1.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._warnings import record_warnings
from .estimators import registry
from .exceptions import CausalPolicingError

if TYPE_CHECKING:
    from .spec import AnalysisSpec

app = typer.Typer(
    name="causalpolicing",
    help=(
        "What does drug-law enforcement do to health and safety? Load panel data, check it, "
        "estimate effects with honest uncertainty and report them.\n\n"
        "Examples:\n\n"
        "  causalpolicing datasets list\n\n"
        "  causalpolicing validate                       # the bundled simulated_cantons\n\n"
        "  causalpolicing validate deaths.csv --unit canton --time year "
        "--outcome deaths --treatment offences_per_1000 --exposure population\n\n"
        "  causalpolicing analyze --out report            # full report on simulated_cantons\n\n"
        "  causalpolicing analyze --config spec.toml --out report\n\n"
        "  causalpolicing table report/results/*.json --format latex\n\n"
        "  causalpolicing reproduce --list"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Bundled datasets and their data cards.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

_state = {"verbose": False}

# Options shared by `validate` and `analyze` (how to read a file).
FormatOption = Annotated[str | None, typer.Option(
    "--format", help="Reader name when the extension does not tell (csv, parquet, excel, "
                     "stata, ...).")]
NaValueOption = Annotated[list[str] | None, typer.Option(
    "--na-value", help="Extra text read as missing, e.g. '.'; repeatable.")]
ReadOption = Annotated[list[str] | None, typer.Option(
    "--read-option", metavar="KEY=VALUE",
    help="Option for the file's reader; repeatable. VALUE is an integer, true/false or text "
         "(quoted: always text). E.g. --read-option thousands=, --read-option decimal=, "
         "--read-option 'delimiter=;' --read-option skiprows=3 --read-option sheet=2 "
         "--read-option 'sheet=\"2019\"' (the sheet named 2019). "
         "Spec: read_options = {thousands = \",\"}.")]
TimeFormatOption = Annotated[str | None, typer.Option(
    "--time-format", metavar="FORMAT",
    help="strptime format of the time column, e.g. --time-format %d.%m.%Y. "
         "Spec: time_format = \"%d.%m.%Y\".")]


def _read_options(items: list[str] | None) -> dict[str, object] | None:
    """``--read-option KEY=VALUE`` items as a dict (values parsed as data, never evaluated).

    >>> _read_options(['thousands=,', 'skiprows=3', 'header=false', 'sheet="2019"'])
    {'thousands': ',', 'skiprows': 3, 'header': False, 'sheet': '2019'}
    """
    import re

    from .exceptions import SpecError

    out: dict[str, object] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise SpecError(f"--read-option {item!r}: expected KEY=VALUE, e.g. --read-option "
                            f"thousands=, or --read-option skiprows=3.")
        value: object = text
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            value = text[1:-1]  # quoted: always text
        elif re.fullmatch(r"[+-]?[0-9]+", text.strip()):
            value = int(text)
        elif text.strip().lower() in ("true", "false"):
            value = text.strip().lower() == "true"
        elif text == "\\t":
            value = "\t"
        out[key] = value
    return out or None


def _design_names() -> list[str]:
    """The registered designs (entries whose function lives in causalpolicing.designs)."""
    return [e.name for e in registry.entries() if e.is_design]


def _scalar(text: str) -> object:
    """A command-line value as data: int, float, true/false, nan, or text (quoted: always text).

    >>> [_scalar(t) for t in ["3", "-1", "0.5", "false", "'3'", "fepois"]]
    [3, -1, 0.5, False, '3', 'fepois']
    """
    import re

    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    if re.fullmatch(r"[+-]?[0-9]+", t):
        return int(t)
    if re.fullmatch(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", t):
        return float(t)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if t.lower() == "nan":
        return float("nan")
    return text


def _never_treated_values(items: list[str] | None) -> object:
    """``--never-treated`` values: one value, a list for several, None when not given.

    >>> _never_treated_values(["0"]), _never_treated_values(["0", "9999"])
    (0, [0, 9999])
    """
    if not items:
        return None
    values = [_scalar(v) for v in items]
    return values[0] if len(values) == 1 else values


def _design_models(names: list[str] | None, items: list[str] | None) -> list[Any]:
    """One model per ``--design`` with the ``--design-option`` values (validated)."""
    from ._hints import did_you_mean
    from ._model_spec import parse_analysis_model
    from .exceptions import SpecError

    if items and not names:
        raise SpecError("--design-option sets options of --design models; give --design NAME.")
    options: dict[str, object] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise SpecError(f"--design-option {item!r}: expected KEY=VALUE, e.g. "
                            "--design-option leads=3.")
        if key == "never_treated" and "," in text:
            options[key] = [_scalar(v) for v in text.split(",")]
        else:
            options[key] = _scalar(text)
    known = _design_names()
    models = []
    for i, name in enumerate(names or ()):
        if name not in known:
            hint = did_you_mean(name, known)
            kind = ("an estimator, not a design: use --estimator" if name in registry.names()
                    else "not a registered design")
            raise SpecError(f"--design {name!r} is {kind}{hint}; designs: {', '.join(known)}.")
        models.append(parse_analysis_model({"name": name, "estimator": name, **options},
                                           f"--design {name}", i))
    return models


def _vcov_option(text: str, *, cluster: str | None, unit: str | None,
                 time: str | None) -> str | dict[str, str | int]:
    """``--vcov NAME[=COLUMN]`` as a spec ``vcov`` value (names from the covariance registry).

    CRV1/CRV3 without a column cluster by ``cluster`` (``--cluster``, else the cluster
    role, else the unit); DK without a column uses the time column; HAC (Newey-West,
    for fenegbin/febinomial) takes no column but optionally its lags (``HAC=2``).
    """
    from .exceptions import SpecError
    from .inference.vcov import COVARIANCE_TYPES

    kinds = {alias.lower(): c for c in COVARIANCE_TYPES.values() for alias in (c.name, *c.aliases)}
    name, sep, column = (part.strip() for part in text.partition("="))
    entry = kinds.get(name.lower())
    aliases = ", ".join(f"{a} = {c.name}" for c in COVARIANCE_TYPES.values()
                        for a in c.aliases if a.lower() != c.name.lower())
    valid = (f"valid: {', '.join(c.name for c in COVARIANCE_TYPES.values())} ({aliases}); "
             f"CRV1 and CRV3 cluster by --cluster (default: the unit) or by CRV1=COLUMN / "
             f"CRV1=a+b; DK uses the time column or DK=COLUMN; HAC takes its lags as HAC=2.")
    if entry is None:
        raise SpecError(f"--vcov {text!r} is not a covariance type; {valid}")
    if entry.name == "HAC":
        if not sep:
            return entry.name
        if not column.isdigit():
            raise SpecError(f"--vcov HAC=LAGS takes a whole number of lags (got {text!r}); "
                            f"{valid}")
        return {entry.name: int(column)}
    if entry.kind in ("iid", "hetero"):
        if sep:
            raise SpecError(f"--vcov {entry.name} takes no column (got {text!r}); {valid}")
        return name
    column = column or ((cluster or unit) if entry.kind == "cluster" else time) or ""
    if not column:
        raise SpecError(f"--vcov {entry.name} needs a column: --vcov {entry.name}=COLUMN"
                        + (" or --cluster COLUMN." if entry.kind == "cluster" else "."))
    return {entry.name: column}


def _print_version(value: bool) -> None:
    if value:
        from ._version import __version__

        typer.echo(f"causalpolicing {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show full tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.",
                           callback=_print_version, is_eager=True)
    ] = False,
) -> None:
    _state["verbose"] = verbose


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        typer.secho(f"warning ({w.category.__name__}): {w.message}", fg="yellow", err=True)


@datasets_app.command("list")
def datasets_list() -> None:
    """List the bundled datasets."""
    from . import datasets

    table = datasets.list()
    typer.echo(table.to_string(index=False))


@datasets_app.command("show")
def datasets_show(name: Annotated[str, typer.Argument(help="Dataset name, e.g. simulated_cantons")]) -> None:
    """Show a dataset's data card (source, licence, citation, variables, true parameters)."""
    from . import datasets

    typer.echo(str(datasets.card(name)))


@app.command()
def validate(
    file: Annotated[
        Path | None,
        typer.Argument(help="Data file (CSV, TSV, Parquet, Excel, Stata). Omit to use the bundled simulated_cantons."),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Unit column (canton, county, precinct).")] = None,
    time: Annotated[str | None, typer.Option(help="Time column (year, month, quarter or date).")] = None,
    outcome: Annotated[list[str] | None, typer.Option(help="Outcome column; repeat for several.")] = None,
    treatment: Annotated[list[str] | None, typer.Option(help="Treatment column; repeat for several.")] = None,
    exposure: Annotated[str | None, typer.Option(help="Population at risk.")] = None,
    covariate: Annotated[list[str] | None, typer.Option(help="Covariate column; repeat for several.")] = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster column for inference.")] = None,
    format: FormatOption = None,
    na_value: NaValueOption = None,
    read_option: ReadOption = None,
    time_format: TimeFormatOption = None,
    drop_log: Annotated[Path | None, typer.Option(help="Also write the full drop log to this CSV file.")] = None,
) -> None:
    """Load a panel, print its summary and the rows left out (the drop log)."""
    with record_warnings() as caught:
        if file is None:
            from . import datasets

            if format or na_value or read_option or time_format:
                raise typer.BadParameter("--format, --na-value, --read-option and --time-format "
                                         "describe how to read a FILE; give the FILE.")
            typer.echo("No file given: validating the bundled dataset 'simulated_cantons' "
                       "(SIMULATED data with known true effects).\n")
            panel = datasets.load("simulated_cantons")
        else:
            missing = [n for n, v in (("--unit", unit), ("--time", time), ("--outcome", outcome),
                                      ("--treatment", treatment)) if not v]
            if missing:
                raise typer.BadParameter(f"{', '.join(missing)} required when a FILE is given.")
            from .data import load_panel

            panel = load_panel(
                file, unit=unit, time=time, outcome=list(outcome or ()),
                treatment=list(treatment or ()), exposure=exposure,
                covariates=list(covariate or ()), cluster=cluster, format=format,
                na_values=list(na_value or ()), read_options=_read_options(read_option),
                time_format=time_format,
            )
    _echo_warnings(caught)
    typer.echo(str(panel.summary()))
    log = panel.drop_log
    typer.echo("")
    if len(log):
        typer.echo(f"Drop log ({len(log)} rows left out):")
        typer.echo(log.head(50).to_string(index=False))
        if len(log) > 50:
            typer.echo(f"... {len(log) - 50} more (use --drop-log FILE to write all)")
    else:
        typer.echo("Drop log: empty (every source row is in the panel).")
    if drop_log is not None:
        log.to_csv(drop_log, index=False)
        typer.echo(f"Drop log written to {drop_log}")
    meta = panel.metadata
    typer.echo(f"\nSource: {meta.source} (reader {meta.reader}, sha256 {meta.sha256[:16]}...)")


@app.command()
def analyze(
    file: Annotated[
        Path | None,
        typer.Argument(help="Data file. Omit (and omit --config) to analyse the bundled "
                            "simulated_cantons."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c",
                                                help="Analysis spec (TOML).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "causalpolicing-report"),
    unit: Annotated[str | None, typer.Option(help="Unit column.")] = None,
    time: Annotated[str | None, typer.Option(help="Time column.")] = None,
    outcome: Annotated[list[str] | None, typer.Option(help="Outcome column; repeatable.")] = None,
    treatment: Annotated[list[str] | None, typer.Option(help="Treatment column; repeatable.")] = None,
    exposure: Annotated[str | None, typer.Option(help="Population at risk (count outcomes).")] = None,
    covariate: Annotated[list[str] | None, typer.Option(help="Covariate; repeatable.")] = None,
    cluster: Annotated[str | None, typer.Option(
        help="Cluster column of the covariance (default: the unit); with --config it "
             "re-clusters the spec's clustered models.")] = None,
    estimator: Annotated[list[str] | None, typer.Option(
        help=f"Estimator(s) for a FILE: {', '.join(registry.names())} (the estimator "
             "registry); repeatable. Default: feols, plus fepois when --exposure is "
             "given.")] = None,
    vcov: Annotated[str | None, typer.Option(
        metavar="NAME[=COLUMN]",
        help="Covariance of every model: iid, hetero (HC1), HC3, CRV1, CRV3 (clustered by "
             "--cluster or the unit; CRV3=COLUMN, CRV1=a+b), DK (Driscoll-Kraay by the time "
             "column; DK=COLUMN). Spec: vcov = {CRV3 = \"canton\"}.")] = None,
    ssc: Annotated[str | None, typer.Option(
        help="Small-sample convention: fixest, stata_xtreg, stata_areg, linearmodels, none "
             f"({', '.join(e.name for e in registry.entries() if e.ssc)}).")] = None,
    formula: Annotated[str | None, typer.Option(
        help="Model formula, fixest style, replacing the default one: 'y ~ x + w | unit + "
             "year' (back-quote names with spaces: `my col`). Parsed, never evaluated.")] = None,
    fe: Annotated[list[str] | None, typer.Option(
        "--fe", help="Fixed effects, replacing unit + time (or the formula's part after |): "
                     "--fe unit --fe year, --fe 'unit + year', --fe unit^year.")] = None,
    bootstrap: Annotated[int | None, typer.Option(
        help="Bootstrap draws per "
             f"{'/'.join(e.name for e in registry.entries() if e.bootstrap)} model "
             "(0: none; 999 or 9999 for a paper). "
             "Default 0 for a FILE, the spec's value with --config.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (bootstrap, refutations).")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the outputs of an earlier analysis in --out (the whole "
                            "folder; only a folder written by `analyze` is replaced).")] = False,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress",
        help="Report progress on stderr: bars on a terminal, one line per step otherwise "
             "(default); --no-progress is silent.")] = True,
    format: FormatOption = None,
    na_value: NaValueOption = None,
    read_option: ReadOption = None,
    time_format: TimeFormatOption = None,
    design: Annotated[list[str] | None, typer.Option(
        "--design",
        help=f"Design(s) to fit as well: {', '.join(_design_names())} (the registry's "
             "designs); repeatable. Their treatment timing comes from --cohort and "
             "--never-treated (or --design-option).")] = None,
    cohort: Annotated[str | None, typer.Option(
        help="Column of each unit's first treated period: the panel's timing role, read by "
             "every design.")] = None,
    never_treated: Annotated[list[str] | None, typer.Option(
        "--never-treated", metavar="VALUE",
        help="Value of --cohort marking never-treated units (e.g. 0, or nan for empty "
             "cells); repeatable.")] = None,
    design_option: Annotated[list[str] | None, typer.Option(
        "--design-option", metavar="KEY=VALUE",
        help="An option of every --design model, e.g. leads=3, lags=5, bin_endpoints=false, "
             "family=fepois; repeatable (parsed as data, never evaluated).")] = None,
) -> None:
    """Run an analysis and write report.html, report.md, tables, tidy results and figures.

    --out must not exist or be empty; --overwrite replaces an earlier analysis's
    outputs. The folder appears only when every file is written: a failed or
    interrupted run leaves it as it was.

    With --config (or no data: the bundled analysis), --vcov, --ssc, --formula, --fe,
    --cluster and --bootstrap override the spec's models: --vcov replaces every model's
    covariance; --cluster re-clusters every clustered one; the others replace that key of
    every model that takes it (an option no model takes is an error). --format,
    --na-value, --read-option and --time-format override the spec's [data] keys.

    Examples:

      causalpolicing analyze --out report            # the bundled simulated_cantons

      causalpolicing analyze --config spec.toml --out report --overwrite

      causalpolicing analyze deaths.csv --unit canton --time year --outcome deaths
      --treatment offences_per_1000 --exposure population --vcov CRV3 --out report

      causalpolicing analyze deaths.csv ... --read-option decimal=, --time-format %d.%m.%Y

      causalpolicing analyze --config spec.toml --vcov CRV3 --ssc stata_xtreg --out report

      causalpolicing analyze laws.csv ... --design event_study --cohort first_treated
      --never-treated 0 --design-option leads=3 --out report
    """
    from dataclasses import replace

    from .analysis import analyze as run
    from .analysis.overrides import override_models
    from .spec import AnalysisSpec, ModelSpec, default_spec, spec_from_options

    if config is not None and file is not None:
        raise typer.BadParameter("give either a data FILE with roles or --config, not both.")
    read_options = _read_options(read_option)
    designs = _design_models(design, design_option)
    never = _never_treated_values(never_treated)
    model_options: dict[str, object] = {}
    if file is not None:
        spec = spec_from_options(
            path=str(file), unit=unit, time=time, outcome=outcome, treatment=treatment,
            exposure=exposure, covariates=covariate, cluster=cluster, estimators=estimator,
            bootstrap=bootstrap or 0, format=format, na_values=na_value,
            read_options=read_options, time_format=time_format, cohort=cohort,
            never_treated=never)
        if designs:
            spec = spec.with_models((*spec.models, *designs))
        if vcov is not None:
            model_options["vcov"] = _vcov_option(vcov, cluster=cluster, unit=unit, time=time)
        given = {"ssc": ssc, "formula": formula, "fe": fe}
        model_options.update({k: v for k, v in given.items() if v is not None})
        if model_options:
            spec = spec.with_models(override_models(spec.models, **model_options))  # type: ignore[arg-type]
            model_options = {}
    else:
        file_only = [flag for flag, value in (
            ("--unit", unit), ("--time", time), ("--outcome", outcome),
            ("--treatment", treatment), ("--exposure", exposure), ("--covariate", covariate),
            ("--estimator", estimator)) if value]
        if file_only:
            raise typer.BadParameter(
                f"{', '.join(file_only)} describe a data FILE; give the FILE, or set them in the "
                f"spec ([data] roles, [[models]] estimator) with --config.")
        if config is not None:
            spec = AnalysisSpec.from_toml(config)
        else:
            typer.echo("No data given: analysing the bundled dataset 'simulated_cantons' "
                       "(SIMULATED data with known true effects).")
            spec = default_spec()
        spec = _override_data(spec, cluster=cluster, format=format, na_value=na_value,
                              read_options=read_options, time_format=time_format,
                              cohort=cohort, never_treated=never)
        if designs:
            spec = spec.with_models((*spec.models, *designs))
        if vcov is not None:
            d = spec.data
            declared = _dataset_roles(d.dataset) if d.dataset else {}
            model_options["vcov"] = _vcov_option(
                vcov, cluster=cluster or d.cluster or declared.get("cluster"),
                unit=d.unit or declared.get("unit"), time=d.time or declared.get("time"))
        given = {"ssc": ssc, "formula": formula, "fe": fe, "cluster": cluster,
                 "bootstrap": bootstrap}
        model_options.update({k: v for k, v in given.items() if v is not None})
        if model_options:
            # Validated now (exit 2 before any work); a spec without [[models]] gets its
            # default models from the data, so the runner applies the options to those.
            checked = override_models(spec.models or (ModelSpec("Linear FE", "feols"),),
                                      **model_options)  # type: ignore[arg-type]
            if spec.models:
                spec, model_options = spec.with_models(checked), {}
    if seed is not None:
        spec = replace(spec, report=replace(spec.report, seed=seed))
    command = "causalpolicing " + " ".join(sys.argv[1:]) if sys.argv else "causalpolicing analyze"
    result = run(spec, out=out, overwrite=overwrite, progress=progress, command_line=command,
                 model_options=model_options or None)
    for message in result.warnings:  # recorded by the runner, also listed in the report
        typer.secho(f"warning ({message})", fg="yellow", err=True)
    for name, res in result.results.items():
        typer.echo(f"{name}: {res.nobs} observations, {res.cov_type}")
    typer.echo("")
    typer.echo(result.table(level=spec.report.level).to_text())
    typer.echo(f"\nWrote {len(result.outputs)} files to {out}/ "
               f"(open {out / 'report.html'} in a browser).")


@app.command("table")
def table_cmd(
    results: Annotated[list[Path], typer.Argument(
        help="Results JSON files written by `analyze` (out/results/*.json).")],
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="markdown, html, latex, text or csv.")] = "markdown",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    ci: Annotated[bool, typer.Option("--ci/--se", help="Show CIs instead of SEs.")] = False,
    stars: Annotated[bool, typer.Option(help="Significance stars.")] = False,
    rate_ratios: Annotated[bool, typer.Option(
        "--rate-ratios", help="Exponentiate count models (rate/odds ratios).")] = False,
    level: Annotated[float, typer.Option(help="Confidence level.")] = 0.95,
    digits: Annotated[int, typer.Option(help="Decimals.")] = 3,
) -> None:
    """Build an estimates table from saved results.

    Examples:

      causalpolicing table report/results/*.json --format latex --out table.tex
    """
    from .report import table
    from .results_io import load_results

    formats = {"markdown": "to_markdown", "html": "to_html", "latex": "to_latex",
               "text": "to_text", "csv": "to_csv"}
    if format not in formats:
        from .exceptions import SpecError

        raise SpecError(f"--format {format!r} is not supported; use one of "
                        f"{', '.join(formats)}.")
    loaded = [load_results(p) for p in results]
    names = [r.name or p.stem for r, p in zip(loaded, results, strict=True)]
    exps = [bool(rate_ratios and r.spec.get("link") in ("log", "logit")) for r in loaded]
    tab = table(loaded, names=names, uncertainty="ci" if ci else "se", level=level,
                stars=stars, digits=digits, exponentiate=exps)
    text = getattr(tab, formats[format])()
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {out}")


def _override_data(spec: AnalysisSpec, *, cluster: str | None, format: str | None,
                   na_value: list[str] | None, read_options: dict[str, object] | None,
                   time_format: str | None, cohort: str | None = None,
                   never_treated: object = None) -> AnalysisSpec:
    """The spec with the command line's [data] options (``None``: keep), validated again."""
    changes = {"cluster": cluster, "format": format, "na_values": na_value,
               "read_options": read_options, "time_format": time_format, "cohort": cohort,
               "never_treated": never_treated}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return spec
    from dataclasses import asdict, replace

    from .spec import DataSpec

    raw = {k: v for k, v in asdict(spec.data).items() if v not in (None, ())}
    return replace(spec, data=DataSpec._parse({**raw, **changes}))


def _dataset_roles(name: str) -> dict[str, str]:
    """The unit, time and cluster columns a bundled dataset's card declares."""
    from .datasets import card

    roles = card(name).roles
    return {k: roles[k] for k in ("unit", "time", "cluster") if isinstance(roles.get(k), str)}


def _register_subcommands() -> None:
    from .studies._cli import register as register_reproduce

    register_reproduce(app)


_register_subcommands()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map errors to exit codes (2 bad input, 1 failure).

    Usage errors (unknown command or option) are printed by the CLI library with
    exit code 2; errors in the data or spec print one line, exit code 2; anything
    else is a failure, exit code 1. ``--verbose`` shows tracebacks.
    """
    try:
        app(args=argv, prog_name="causalpolicing")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (CausalPolicingError, FileNotFoundError) as exc:
        if _state["verbose"]:
            raise
        typer.secho(f"error: {exc}", fg="red", err=True)
        return 2
    except Exception as exc:
        if _state["verbose"]:
            raise
        typer.secho(
            f"failed: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)",
            fg="red", err=True,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
