"""The ``causalpolicing`` command line.

Commands
--------
``causalpolicing datasets list`` / ``causalpolicing datasets show NAME``
    The bundled datasets and their data cards.
``causalpolicing validate [FILE] --unit U --time T --outcome Y --treatment X ...``
    Load a file (or, with no FILE, the bundled ``simulated_cantons``) and print
    the panel summary and the drop log.

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
        "--outcome deaths --treatment offences_per_1000 --exposure population"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Bundled datasets and their data cards.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

_state = {"verbose": False}


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show full tracebacks on errors.")
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
