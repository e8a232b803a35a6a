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
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import SpecError

__all__ = ["write_outputs", "slug"]

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


def write_outputs(analysis: Any, out: Path) -> dict[str, Path]:
    """Write the analysis to ``out`` (see the module docstring); returns the paths by kind."""
    from ..results_io import save_results
    from .run import tidy_frame

    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {str(out)!r} exists and is not a directory; choose a folder.")
    out.mkdir(parents=True, exist_ok=True)
    spec = analysis.spec
    written: dict[str, Path] = {}

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
        fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
        written[f"figure_{path.stem}_svg"] = path

    if analysis.results:
        tables = out / "tables"
        tables.mkdir(exist_ok=True)
        table = analysis.table(level=spec.report.level, stars=spec.report.stars)
        for fmt in spec.report.tables:
            path = tables / f"estimates.{_TABLE_SUFFIX[fmt]}"
            text = {"markdown": table.to_markdown, "html": table.to_html,
                    "latex": table.to_latex, "text": table.to_text, "csv": table.to_csv}[fmt]()
            path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            written[f"table_{fmt}"] = path

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
