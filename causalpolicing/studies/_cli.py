"""The ``reproduce`` command of the CLI: run study files and compare with published numbers.

Imports of the studies machinery happen inside the command, so that registering the
command (done when ``causalpolicing.cli`` is imported) costs nothing.

Exit codes: 0 when every published number is reproduced (at the published rounding,
or within a tolerance the study file declares and explains); 1 on any mismatch; 2 for
errors in the study file, the data or the options (raised as
:class:`~causalpolicing.exceptions.CausalPolicingError`, mapped by
:func:`causalpolicing.cli.main`). A study with status ``"needs data"`` run on data you
supply (``--data FILE``) is a report, not a check: it exits 0 whatever the
differences unless ``--strict`` is given; ``--all`` lists such studies as skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..exceptions import SpecError

FORMATS = ("text", "markdown", "html")

HELP = """Reproduce published estimates: run a study's specification and compare with the
published numbers (matched at the published rounding).

Examples:

  causalpolicing reproduce --list

  causalpolicing reproduce cornwell_trumbull

  causalpolicing reproduce --all --format markdown --out reproduction.md

  causalpolicing reproduce --study my_study.toml

  causalpolicing reproduce nordt_stohler_2010 --data swiss_series.csv

Exit codes: 0 everything reproduced; 1 a mismatch; 2 an error in the study file, data or options.
"""


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` command to the Typer ``app``."""
    app.command("reproduce", help=HELP)(reproduce_command)


def _error(message: str) -> Exception:
    return SpecError(message)


def reproduce_command(
    study: Annotated[str | None, typer.Argument(
        help="A catalogue id (see --list) or the path of a .toml study file.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the catalogue's studies.")] = False,
    all_: Annotated[bool, typer.Option(
        "--all", help="Run every catalogue study (studies that need data are skipped).")] = False,
    study_file: Annotated[Path | None, typer.Option(
        "--study", help="Your own study file (TOML; see docs/studies.md).")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Data file to run the study on (required for 'needs data' studies).")
    ] = None,
    format: Annotated[str, typer.Option(
        "--format", help="Output format: text, markdown or html.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", help="Write the output to this file.")
                   ] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 on a mismatch even for a 'needs data' study run on your data.")
    ] = False,
) -> None:
    """Run study files and compare reproduced with published numbers."""
    if format not in FORMATS:
        raise _error(f"--format {format!r} is not a format; valid: {', '.join(FORMATS)}.")
    chosen = [name for name, on in (("STUDY", study is not None), ("--study", study_file is not None),
                                    ("--all", all_), ("--list", list_)) if on]
    if len(chosen) != 1:
        raise _error("Give exactly one of STUDY (a catalogue id), --study FILE, --all or --list"
                     + (f"; got {', '.join(chosen)}." if chosen else ".")
                     + " See `causalpolicing reproduce --help`.")
    if data is not None and (all_ or list_):
        raise _error("--data applies to one study (STUDY or --study FILE), not to "
                     f"{'--all' if all_ else '--list'}.")
    from . import runner

    if list_:
        table = runner.list_studies()[["id", "status", "published", "data", "title"]]
        _emit(table.to_string(index=False) + "\n", out)
        return
    if all_:
        texts, failed, skipped, passed = [], [], [], []
        for sid, status in runner.list_studies()[["id", "status"]].itertuples(index=False):
            if status == "needs data":
                skipped.append(sid)
                texts.append(_skipped(sid, format))
                continue
            cmp = runner.reproduce(sid)
            texts.append(_render(cmp, format))
            (passed if cmp.all_ok else failed).append(sid)
        summary = (f"{len(passed)} reproduced, {len(failed)} with mismatches"
                   + (f" ({', '.join(failed)})" if failed else "")
                   + f", {len(skipped)} skipped (needs data: {', '.join(skipped) or 'none'}).")
        texts.append(_paragraph(summary, format))
        _emit(_join(texts, format), out)
        if failed:
            raise typer.Exit(1)
        return
    target: Any = study_file if study_file is not None else study
    cmp = runner.reproduce(target, data=data)
    _emit(_join([_render(cmp, format)], format), out)
    if not cmp.all_ok and (cmp.expected_to_match or strict):
        raise typer.Exit(1)


def _render(cmp: Any, fmt: str) -> str:
    return {"text": cmp.to_text, "markdown": cmp.to_markdown, "html": cmp.to_html}[fmt]()


def _skipped(sid: str, fmt: str) -> str:
    return _paragraph(f"skipped {sid}: its data are not public (status 'needs data'); run "
                      f"`causalpolicing reproduce {sid} --data FILE` with your own series.", fmt)


def _paragraph(text: str, fmt: str) -> str:
    if fmt == "html":
        import html

        return f"<p>{html.escape(text)}</p>\n"
    return text + "\n"


def _join(parts: list[str], fmt: str) -> str:
    body = "\n".join(parts)
    if fmt == "html":
        return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>causalpolicing: "
                "reproduced estimates</title></head><body>\n" + body + "</body></html>\n")
    return body


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"written to {out}")
