"""Write everything an :class:`~causalpolicing.analysis.Analysis` produced to a folder.

Layout of ``out/``::

    report.html            self-contained (figures embedded), opens offline
    report.md              the Markdown twin (figures in figures/)
    figures/               every figure as PNG (linked by report.md) and SVG
    tables/estimates.*     the estimates table: .md, .html, .tex, .txt, .csv
    tidy.csv               every model's tidy() rows with a model column
    tidy.json              the same as JSON records
    results/<model>.json   one file per model and nothing else, so that
                           ``causalpolicing table OUT/results/*.json`` reads them all
    diagnostics/*.csv      feedback checks, bootstraps, refutations, implications
    drop_log.csv           every source row left out, with its reason
    spec.toml              the spec that was run
    manifest.json          written last: every file above, the command, the version,
                           the time and ``"complete": true``

The output folder is replaced as a whole, never mixed (:func:`staged_output`,
used by :func:`~causalpolicing.analysis.analyze` and ``causalpolicing analyze``):

* the folder given as ``out`` must not exist or be empty; a folder with files is
  refused unless ``overwrite=True`` (``--overwrite``), and even then only if it
  looks like an analysis output: it holds ``manifest.json`` written by this
  package, or (folders written before manifests existed) both ``report.html`` and
  ``spec.toml``. Anything else is never deleted: remove it yourself or choose
  another folder. A file or a symbolic link in place of the folder is refused;
* before anything is computed, a hidden staging folder ``.<name>.partial-XXXXXXXX``
  is created next to ``out`` (same file system), which checks that the place is
  writable (a folder that cannot be created or written is an error naming the
  path, exit code 2 on the command line);
* everything is written into the staging folder; only when the manifest is
  written is it renamed to ``out`` (the old outputs, with ``overwrite``, are moved
  aside first and deleted after the rename). If the run fails or is interrupted
  (Ctrl-C), the staging folder is removed and ``out`` is left as it was. A
  ``.partial-`` folder that survives (the process was killed) is incomplete by
  its name and can be deleted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..exceptions import SpecError
from ..results_io import save_results

__all__ = ["write_outputs", "write_manifest", "staged_output", "slug", "tidy_frame", "MANIFEST",
           "MANIFEST_FORMAT"]

#: The file that marks a complete output folder (written last).
MANIFEST = "manifest.json"
#: Identifies the manifest's layout; bumped when it changes.
MANIFEST_FORMAT = "causalpolicing.outputs/1"

_TABLE_SUFFIX = {"markdown": "md", "html": "html", "latex": "tex", "text": "txt", "csv": "csv"}


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (lowercase ASCII, dashes).

    Examples
    --------
    >>> slug("Poisson FE (deaths, exposure population)")
    'poisson-fe-deaths-exposure-population'
    """
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "model"


def _unique_slugs(names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = slug(name)
        s, k = base, 2
        while s in used:
            s, k = f"{base}-{k}", k + 1
        used.add(s)
        out[name] = s
    return out


def tidy_frame(results: Mapping[str, Any], level: float = 0.95) -> pd.DataFrame:
    """All models' ``tidy()`` stacked, with a leading ``model`` column."""
    frames = [r.tidy(level).assign(model=name) for name, r in results.items()]
    if not frames:
        return pd.DataFrame(columns=["model", "term", "estimate", "std_error", "statistic",
                                     "p_value", "conf_low", "conf_high"])
    out = pd.concat(frames, ignore_index=True)
    return out[["model", *[c for c in out.columns if c != "model"]]]


def write_outputs(analysis: Any, out: Path, *,
                  note: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the analysis to ``out`` (see the module docstring); returns the paths by kind.

    This writes into ``out`` as it is (creating it if needed);
    :func:`~causalpolicing.analysis.analyze` calls it on a staging folder (see
    :func:`staged_output`). ``note`` is called with the name of each part before it
    is written (progress sub-steps).
    """
    note = note or (lambda text: None)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {str(out)!r} exists and is not a directory; choose a folder.")
    out.mkdir(parents=True, exist_ok=True)
    spec = analysis.spec
    written: dict[str, Path] = {}

    note("report.html and report.md")
    saved = analysis.report.save(out)
    written.update({f"report_{k}": Path(v) for k, v in saved.items()})

    # the report wrote figures/NN-slug.png (its Markdown twin links them); add an SVG of each
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    figs = dict(analysis.figures)
    for rf in analysis.report.figures:
        fig = figs.get(rf.caption)
        if fig is None:
            continue
        path = (out / rf.filename).with_suffix(".svg")
        note(f"figures/{path.name}")
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        written[f"figure_{path.stem}_svg"] = path

    if analysis.results:
        note("estimates tables")
        tables = out / "tables"
        tables.mkdir(exist_ok=True)
        table = analysis.table(level=spec.report.level, stars=spec.report.stars)
        for fmt in spec.report.tables:
            path = tables / f"estimates.{_TABLE_SUFFIX[fmt]}"
            text = {"markdown": table.to_markdown, "html": table.to_html,
                    "latex": table.to_latex, "text": table.to_text, "csv": table.to_csv}[fmt]()
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            written[f"table_{fmt}"] = path

    note("tidy results and one results file per model")
    # the combined tidy rows live beside results/, not in it: results/*.json must match
    # only per-model results files (the glob `causalpolicing table` is documented with)
    tidy = tidy_frame(analysis.results, spec.report.level)
    tidy.to_csv(out / "tidy.csv", index=False)
    (out / "tidy.json").write_text(
        json.dumps(json.loads(tidy.to_json(orient="records")), indent=1), encoding="utf-8")
    written["tidy_csv"], written["tidy_json"] = out / "tidy.csv", out / "tidy.json"
    res_dir = out / "results"
    res_dir.mkdir(exist_ok=True)
    for name, s in _unique_slugs(list(analysis.results)).items():
        written[f"results_{s}"] = save_results(analysis.results[name], res_dir / f"{s}.json",
                                               name=name)

    diag = out / "diagnostics"
    frames = _diagnostic_frames(analysis)
    if frames:
        note("diagnostics")
        diag.mkdir(exist_ok=True)
        for stem, frame in frames.items():
            path = diag / f"{stem}.csv"
            frame.to_csv(path, index=False)
            written[f"diagnostics_{stem}"] = path

    if not (out / "drop_log.csv").exists():  # the report writes it when rows were dropped
        analysis.panel.drop_log.to_csv(out / "drop_log.csv", index=False)
    written["drop_log"] = out / "drop_log.csv"
    (out / "spec.toml").write_text(spec.to_toml(), encoding="utf-8")
    written["spec"] = out / "spec.toml"
    return written


def write_manifest(out: Path, *, command_line: str | None = None) -> Path:
    """Write ``out/manifest.json`` listing every file in ``out`` (call it last).

    The manifest marks a complete output folder (``"complete": true``) and is what
    ``overwrite=True`` looks for before it replaces a folder.
    """
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                   if p.is_file() and p.name != MANIFEST)
    manifest = {"format": MANIFEST_FORMAT, "complete": True, "causalpolicing": __version__,
                "command_line": command_line or "causalpolicing.analyze(...) (Python API)",
                "written": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                "files": files}
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


def _is_ours(folder: Path) -> bool:
    """True when ``folder`` looks like an analysis output (see the module docstring)."""
    try:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(raw, dict) and raw.get("format") == MANIFEST_FORMAT:
            return True
    except (OSError, ValueError):
        pass
    return (folder / "report.html").is_file() and (folder / "spec.toml").is_file()


def _check_out(out: Path, overwrite: bool) -> bool:
    """Refuse an ``out`` that must not be written (see the module docstring); returns
    whether it exists and must be replaced."""
    if out.is_symlink():
        raise SpecError(f"--out {str(out)!r} is a symbolic link; give the folder itself "
                        f"({str(out.resolve())!r}) or another folder.")
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {str(out)!r} exists and is not a folder; choose a folder "
                        f"(it is created if needed).")
    if not out.is_dir():
        return False
    try:
        empty = next(out.iterdir(), None) is None
    except OSError as exc:
        raise SpecError(f"--out {str(out)!r} cannot be read ({exc.strerror}); choose "
                        f"another folder.") from None
    if empty:
        return False
    if not overwrite:
        raise SpecError(f"--out {str(out)!r} already exists and is not empty; pass --overwrite "
                        f"(overwrite=True in Python) to replace its contents with this "
                        f"analysis, or choose another folder.")
    if not _is_ours(out):
        raise SpecError(f"--out {str(out)!r} is not empty and does not look like an analysis "
                        f"output (no {MANIFEST} written by causalpolicing, nor report.html "
                        f"and spec.toml): --overwrite only replaces folders written by "
                        f"`causalpolicing analyze`. Remove it yourself or choose another "
                        f"folder.")
    return True


def _sibling(out: Path, kind: str) -> Path:
    """A new, empty hidden folder next to ``out`` (``.<name>.<kind>-XXXXXXXX``)."""
    for _ in range(100):
        path = out.parent / f".{out.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise SpecError(f"could not create a {kind} folder next to {str(out)!r}.")  # pragma: no cover


@contextmanager
def staged_output(out: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Check ``out``, yield a staging folder next to it, and move it into place on success.

    See the module docstring for the rules. On an exception (including
    ``KeyboardInterrupt``) inside the ``with`` block the staging folder is removed
    and ``out`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with staged_output(out) as stage:
    ...     _ = (stage / "report.html").write_text("<html></html>")
    ...     _ = write_manifest(stage)
    >>> sorted(p.name for p in out.iterdir())
    ['manifest.json', 'report.html']
    >>> with staged_output(out):
    ...     pass
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.SpecError: --out '...report' already exists and is not empty; pass --overwrite (overwrite=True in Python) to replace its contents with this analysis, or choose another folder.
    """
    out = Path(out).absolute()
    replace = _check_out(out, overwrite)
    blocker = next((a for a in out.parents if a.exists() or a.is_symlink()), None)
    if blocker is not None and not blocker.is_dir():
        raise SpecError(f"--out {str(out)!r}: {str(blocker)!r} is a file, not a folder; "
                        f"choose an --out inside a folder.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = _sibling(out, "partial")
    except OSError as exc:
        raise SpecError(f"--out {str(out)!r}: cannot write to {str(out.parent)!r} "
                        f"({exc.strerror or exc}); the outputs are written next to --out "
                        f"first and moved into place when complete, so choose a folder "
                        f"inside one you can write to.") from None
    try:
        yield stage
        _move_into_place(stage, out, replace)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _move_into_place(stage: Path, out: Path, replace: bool) -> None:
    if not replace:
        if out.is_dir():  # empty (checked before the run); a rename cannot replace it
            out.rmdir()   # everywhere
        os.rename(stage, out)
        return
    old = _sibling(out, "old")
    old.rmdir()
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _diagnostic_frames(analysis: Any) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    if analysis.diagnostics is not None:
        frames["feedback"] = analysis.diagnostics.to_frame()
    boots = [b.tidy().assign(model=name) for name, b in analysis.bootstraps.items()
             if b is not None]
    if boots:
        frames["bootstrap"] = pd.concat(boots, ignore_index=True)
    for key in ("implications", "refutations", "sensitivity", "evalues", "mediation"):
        value = analysis.causal.get(key)
        if value is None:
            continue
        frame = _as_frame(value)
        if frame is not None:
            frames[slug(key)] = frame
    return frames


def _as_frame(value: Any) -> pd.DataFrame | None:
    if isinstance(value, pd.DataFrame):
        return value
    for attr in ("summary", "to_frame", "table", "effects"):
        obj = getattr(value, attr, None)
        if isinstance(obj, pd.DataFrame):
            return obj
        if callable(obj):
            try:
                got = obj()
            except TypeError:
                continue
            if isinstance(got, pd.DataFrame):
                return got
    return None
