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
from typing import Annotated

import typer

from .exceptions import CausalPolicingError

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
    format: Annotated[str | None, typer.Option(help="Reader name when the extension does not tell.")] = None,
    na_value: Annotated[list[str] | None, typer.Option(help="Extra text read as missing, e.g. '.'; repeatable.")] = None,
    drop_log: Annotated[Path | None, typer.Option(help="Also write the full drop log to this CSV file.")] = None,
) -> None:
    """Load a panel, print its summary and the rows left out (the drop log)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if file is None:
            from . import datasets

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
                na_values=list(na_value or ()),
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
    cluster: Annotated[str | None, typer.Option(help="Cluster column (default: the unit).")] = None,
    estimator: Annotated[list[str] | None, typer.Option(
        help="Estimator(s) for a FILE: feols, fepois, fenegbin, between, first_difference, "
             "distributed_lag; repeatable. Default: feols, plus fepois when --exposure is "
             "given.")] = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap draws per model (0: none).")] = 0,
    seed: Annotated[int | None, typer.Option(help="Random seed (bootstrap, refutations).")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the outputs of an earlier analysis in --out (the whole "
                            "folder; only a folder written by `analyze` is replaced).")] = False,
    progress: Annotated[bool, typer.Option(
        "--progress/--no-progress",
        help="Report progress on stderr: bars on a terminal, one line per step otherwise "
             "(default); --no-progress is silent.")] = True,
) -> None:
    """Run an analysis and write report.html, report.md, tables, tidy results and figures.

    --out must not exist or be empty; --overwrite replaces an earlier analysis's
    outputs. The folder appears only when every file is written: a failed or
    interrupted run leaves it as it was.

    Examples:

      causalpolicing analyze --out report            # the bundled simulated_cantons

      causalpolicing analyze --config spec.toml --out report --overwrite

      causalpolicing analyze deaths.csv --unit canton --time year --outcome deaths
      --treatment offences_per_1000 --exposure population --out report
    """
    from .analysis import analyze as run
    from .spec import AnalysisSpec, default_spec, spec_from_options

    if config is not None and file is not None:
        raise typer.BadParameter("give either a data FILE with roles or --config, not both.")
    if config is not None:
        spec = AnalysisSpec.from_toml(config)
    elif file is not None:
        spec = spec_from_options(
            path=str(file), unit=unit, time=time, outcome=outcome, treatment=treatment,
            exposure=exposure, covariates=covariate, cluster=cluster, estimators=estimator,
            bootstrap=bootstrap)
    else:
        typer.echo("No data given: analysing the bundled dataset 'simulated_cantons' "
                   "(SIMULATED data with known true effects).")
        spec = default_spec()
    if seed is not None:
        from dataclasses import replace

        spec = replace(spec, report=replace(spec.report, seed=seed))
    command = "causalpolicing " + " ".join(sys.argv[1:]) if sys.argv else "causalpolicing analyze"
    result = run(spec, out=out, overwrite=overwrite, progress=progress, command_line=command)
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
