"""Load studies from the catalogue or a file, run them, and compare with the published numbers.

:func:`reproduce` loads the study's data (a bundled dataset, the study's file, or the
data you pass), applies the declared steps (derived columns, named Panel transforms,
sample restrictions) in order, fits every model, and returns a
:class:`~causalpolicing.studies.comparison.Comparison`.

Examples
--------
>>> import causalpolicing.studies as st
>>> st.list_studies()["id"].tolist()
['callaway_santanna_mpdta', 'castle_mixtape', 'cornwell_trumbull', 'nordt_stohler_2010', 'wooldridge_13_9']
>>> cmp = st.reproduce("castle_mixtape")
>>> cmp.all_match, cmp.table.loc[0, "printed"], round(float(cmp.table.loc[0, "reproduced"]), 8)
(True, '0.081812', 0.08181162)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .. import datasets
from .._hints import close_matches, did_you_mean
from .._warnings import record_warnings
from ..data import load_panel
from ..data.panel import Panel, TransformRecord
from ..data.readers import read_table
from ..data.transforms._common import _add_columns
from ..estimators import registry
from ..exceptions import DatasetError, FormulaError, SpecError
from .comparison import COLUMNS, Comparison, ModelRun, matches_at_rounding
from .expressions import ExpressionError, evaluate
from .schema import ModelSpec, PublishedNumber, Step, Study, StudyError, read_study_file

__all__ = ["catalogue_dir", "list_studies", "load_study", "reproduce", "SINGLE_SERIES_UNIT"]

#: Unit column added to the data of a study without a unit role (one time series).
SINGLE_SERIES_UNIT = "series"


def catalogue_dir() -> Path:
    """The folder holding the catalogue's study files (inside the installed package)."""
    return Path(__file__).with_name("catalogue")


def _catalogue_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(catalogue_dir().glob("*.toml"))}


def list_studies() -> pd.DataFrame:
    """The catalogue: one row per study file shipped with the package.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, status, title, citation, data, models, published, file``
        (``published`` counts the published numbers compared).

    Examples
    --------
    >>> from causalpolicing.studies import list_studies
    >>> list_studies().set_index("id").loc["nordt_stohler_2010", "status"]
    'needs data'
    """
    rows = []
    for sid, path in _catalogue_files().items():
        s = read_study_file(path)
        if s.id != sid:
            raise StudyError(f"the study id {s.id!r} differs from the file name {sid!r}.",
                             "study.id", str(path))
        data = (f"bundled {s.data.dataset!r}" if s.data.dataset else
                str(s.data.path) if s.data.path else "not public (supply --data FILE)")
        rows.append({"id": s.id, "status": s.status, "title": s.title, "citation": s.citation,
                     "data": data, "models": len(s.models),
                     "published": sum(len(p.quantities) for p in s.published),
                     "file": str(path)})
    return pd.DataFrame(rows, columns=["id", "status", "title", "citation", "data", "models",
                                       "published", "file"])


def load_study(study: str | Path | Study) -> Study:
    """A study from the catalogue (by id) or from a study file (by path).

    Parameters
    ----------
    study
        A catalogue id (``"cornwell_trumbull"``), the path of a ``.toml`` study file,
        or a :class:`~causalpolicing.studies.schema.Study` (returned as is).

    Raises
    ------
    StudyError
        If the file breaks the schema (the message names the key).
    SpecError
        If the id is not in the catalogue and no such file exists.

    Examples
    --------
    >>> from causalpolicing.studies import load_study
    >>> s = load_study("cornwell_trumbull")
    >>> [m.id for m in s.models], [m.estimator for m in s.models]
    (['within', 'between', 'fe2sls'], ['feols', 'between', 'feols'])
    """
    if isinstance(study, Study):
        return study
    if not isinstance(study, str | Path):
        raise SpecError(f"study must be a catalogue id, a path to a study file or a Study; got "
                        f"{type(study).__name__}.")
    files = _catalogue_files()
    if isinstance(study, str) and study in files:
        return read_study_file(files[study])
    path = Path(study)
    if path.is_file():
        return read_study_file(path)
    raise SpecError(
        f"No study {str(study)!r}: not a catalogue id and not a file."
        + did_you_mean(str(study), files, style="sentence")
        + f" Catalogue: {', '.join(files)} (`causalpolicing reproduce --list`); or give the "
        "path of your own .toml study file (see docs/studies.md).")


# ========================================================================= data
def _needs_data_message(study: Study) -> str:
    cols = study.data.columns
    listed = "; ".join(f"{k}: {v}" for k, v in cols.items()) if cols else (
        "the columns named in [data.roles]")
    return (
        f"The data of study {study.id!r} ({study.title}) are not public, so the toolkit cannot "
        f"reproduce it by itself (status \"needs data\"). Supply your own series: on the "
        f"command line `causalpolicing reproduce {study.id} --data FILE` (CSV, Parquet, Excel "
        f"or Stata), in Python `reproduce({study.id!r}, data=FILE_OR_DATAFRAME)`. Required "
        f"columns: {listed}.")


def _roles_kwargs(study: Study) -> dict[str, Any]:
    roles = study.data.roles
    if roles is None:
        if study.data.dataset is None:
            raise SpecError(f"Study {study.id!r} declares no [data.roles], so a data file "
                            "cannot be loaded for it; add [data.roles] (see docs/studies.md).")
        kw = datasets.card(study.data.dataset).load_kwargs()
        kw.pop("neighbours", None)
        return kw
    kw: dict[str, Any] = {
        "unit": roles.get("unit"), "time": roles["time"],
        "outcome": dict(roles["outcome"]) if isinstance(roles["outcome"], Mapping)
        else roles["outcome"],
        "treatment": dict(roles["treatment"]) if isinstance(roles["treatment"], Mapping)
        else roles["treatment"],
        "exposure": roles.get("exposure"),
        "covariates": tuple([roles["covariates"]] if isinstance(roles.get("covariates"), str)
                            else roles.get("covariates", ())),
    }
    if roles.get("cluster"):
        kw["cluster"] = roles["cluster"]
    return kw


def _load_source(study: Study, source: Any, fmt: str | None) -> Any:
    if isinstance(source, Panel):
        panel = source
    else:
        kw = _roles_kwargs(study)
        single = kw.get("unit") is None
        path: Path | None = None
        if isinstance(source, pd.DataFrame):
            frame: pd.DataFrame | None = source
        elif isinstance(source, str | Path):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"No data file {str(path)!r} (for study {study.id!r}).")
            frame = read_table(path, format=fmt).frame if single else None
        else:
            raise SpecError(f"data must be a file path, a DataFrame or a Panel; got "
                            f"{type(source).__name__}.")
        if single:
            kw["unit"] = SINGLE_SERIES_UNIT
            if frame is not None and SINGLE_SERIES_UNIT in frame.columns:
                raise SpecError(f"Study {study.id!r} has no unit role (one series), but the "
                                f"data already have a column {SINGLE_SERIES_UNIT!r}; rename "
                                "it or declare it as the unit in [data.roles].")
        have = set(frame.columns) if frame is not None else set(
            read_table(path, format=fmt).frame.columns)  # type: ignore[arg-type]
        needed = _required_columns(study, kw)
        missing = [c for c in needed if c not in have]
        if missing:
            desc = study.data.columns
            listed = "; ".join(f"{c} ({desc[c]})" if c in desc else c for c in missing)
            raise DatasetError(f"The data for study {study.id!r} lack the column(s) {listed}. "
                               f"Required: {', '.join(needed)}.")
        target: Any = path if frame is None else (
            frame.assign(**{SINGLE_SERIES_UNIT: "all"}) if single else frame)
        panel = load_panel(target, format=fmt if frame is None else None, **kw)
    missing = [c for c in study.data.columns if c not in panel.columns]
    if missing:
        raise DatasetError(f"The data for study {study.id!r} lack the column(s) "
                           f"{', '.join(missing)}; required: {', '.join(study.data.columns)}.")
    return panel


def _required_columns(study: Study, kw: Mapping[str, Any]) -> list[str]:
    cols: list[str] = []
    for k in ("unit", "time", "exposure"):
        if kw.get(k) and kw[k] != SINGLE_SERIES_UNIT:
            cols.append(str(kw[k]))
    for k in ("outcome", "treatment"):
        v = kw.get(k)
        cols.extend([v] if isinstance(v, str) else list(v or ()))
    cols.extend(kw.get("covariates") or ())
    cols.extend(study.data.columns)
    return list(dict.fromkeys(cols))


def _load_data(study: Study, data: Any) -> tuple[Any, str, bool]:
    if data is None:
        if study.needs_data:
            raise DatasetError(_needs_data_message(study))
        if study.data.dataset is not None:
            return datasets.load(study.data.dataset), f"bundled dataset {study.data.dataset!r}", False
        path = study.data.path
        if path is None:  # pragma: no cover  (the schema requires dataset or path)
            raise DatasetError(_needs_data_message(study))
        return _load_source(study, path, study.data.format), f"file {str(path)!r}", False
    what = (f"file {str(data)!r}" if isinstance(data, str | Path) else
            f"a {type(data).__name__} you supplied")
    return _load_source(study, data, study.data.format), what, True


# ======================================================================== steps
def _key(step: Step) -> str:
    return f"data.transforms[{step.index}]"


def _subset(panel: Any, mask: np.ndarray, record_params: Mapping[str, Any]) -> Any:
    mask = np.asarray(mask, dtype=bool)
    frame = panel.to_frame().loc[mask].reset_index(drop=True)
    if len(frame) == 0:
        raise SpecError(f"The sample restriction {record_params.get('where')!r} keeps no rows.")
    return panel._derive(frame, TransformRecord("sample", dict(record_params)),
                         source_rows=panel.source_rows[mask])


def _condition(values: np.ndarray, text: str) -> np.ndarray:
    if values.dtype != bool:
        raise ExpressionError(f"expression {text!r}: a sample restriction must be a condition "
                              "(e.g. 'year >= 1982'); this one gives numbers.")
    return values


def _apply_step(panel: Any, step: Step, study: Study) -> Any:
    try:
        if step.kind == "derive":
            name = str(step.name)
            if name in panel.columns and not step.replace:
                raise SpecError(f"column {name!r} already exists; choose another name, or set "
                                "replace = true to overwrite it on purpose.")
            if name in (panel.unit, panel.time):
                raise SpecError(f"{name!r} is a panel key (unit or time) and cannot be replaced.")
            values = evaluate(step.expr, panel)  # type: ignore[arg-type]
            values = values.astype(float)
            return _add_columns(panel, {name: values}, "expression",
                                {"name": name, "expr": str(step.expr), "replace": step.replace})
        if step.kind == "sample":
            text = str(step.expr)
            mask = _condition(evaluate(step.expr, panel), text)  # type: ignore[arg-type]
            return _subset(panel, mask, {"where": text, "kept": int(mask.sum()),
                                         "of": len(mask)})
        method = getattr(panel, str(step.transform))
        options = dict(step.options)
        if "ks" in options and isinstance(options["ks"], list):
            options["ks"] = tuple(options["ks"])
        return method(**options)
    except StudyError:
        raise
    except (SpecError, ExpressionError, ValueError, TypeError) as exc:
        raise StudyError(f"{step.describe()}: {exc}", _key(step), study.source) from exc


# ======================================================================= models
def _fit(model: ModelSpec, panel: Any) -> Any:
    return registry.fit(model.estimator, panel, **model.options)


def _describe(model: ModelSpec) -> str:
    opts = {k: v for k, v in model.options.items() if k != "formula"}
    head = model.formula or ", ".join(f"{k}={v}" for k, v in opts.items()
                                      if k in ("x", "y", "outcome", "treatment"))
    rest = ", ".join(f"{k}={v}" for k, v in opts.items() if k not in ("x", "y"))
    text = f"{model.estimator}: {head}" + (f" ({rest})" if rest and model.formula else "")
    if model.sample is not None:
        text += f" [sample: {model.sample}]"
    return text


# =================================================================== numbers
def _quantity_values(res: Any, pub: PublishedNumber, study: Study) -> dict[str, float]:
    key = f"published[{pub.index}]"
    if pub.statistic is not None:
        g = res.glance()
        if pub.statistic not in g.columns:
            raise StudyError(f"model {pub.model!r} has no statistic {pub.statistic!r}; "
                             f"available: {', '.join(map(str, g.columns))}.",
                             f"{key}.statistic", study.source)
        return {pub.statistic: float(g[pub.statistic].iloc[0])}
    term = str(pub.term)
    if term == "cumulative" and hasattr(res, "cumulative"):
        row = res.cumulative(pub.level).iloc[0]
        b, se = float(row["estimate"]), float(row["std_error"])
        lo, hi = float(row["conf_low"]), float(row["conf_high"])
    else:
        params = res.params
        if term not in params.index:
            near = close_matches(term, params.index, n=1)
            raise StudyError(f"model {pub.model!r} has no term {term!r}"
                             + (f"; did you mean {near[0]!r}?" if near else "")
                             + f" Terms: {', '.join(map(str, params.index))}.",
                             f"{key}.term", study.source)
        b = float(params[term])
        se = float(res.std_errors[term])
        ci = res.conf_int(pub.level)
        lo, hi = float(ci.loc[term, "conf_low"]), float(ci.loc[term, "conf_high"])
    if pub.scale == "coef":
        return {"estimate": b, "std_error": se, "conf_low": lo, "conf_high": hi}
    c = pub.per
    a, z = sorted((float(np.exp(c * lo)), float(np.exp(c * hi))))
    return {"estimate": float(np.exp(c * b)), "conf_low": a, "conf_high": z}


def _rows(study: Study, fits: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for pub in study.published:
        values = _quantity_values(fits[pub.model], pub, study)
        for q in pub.quantities:
            rep = values[q.quantity]
            diff = rep - q.value
            match = matches_at_rounding(rep, q.value, q.decimals)
            ok = match or (pub.tolerance is not None and np.isfinite(diff)
                           and abs(diff) <= pub.tolerance)
            rows.append({
                "study": study.id, "model": pub.model, "table": pub.table,
                "column": pub.column, "term": pub.term or "",
                "quantity": q.quantity, "scale": pub.scale, "printed": q.printed,
                "published": q.value, "reproduced": rep, "difference": diff,
                "decimals": q.decimals, "match": bool(match),
                "tolerance": np.nan if pub.tolerance is None else pub.tolerance,
                "ok": bool(ok), "note": pub.tolerance_reason or pub.note or "",
            })
    return rows


def reproduce(study: str | Path | Study, *, data: Any = None) -> Comparison:
    """Run a study's specification and compare with its published numbers.

    Parameters
    ----------
    study
        A catalogue id (see :func:`list_studies`), the path of a study file, or a
        :class:`~causalpolicing.studies.schema.Study`.
    data
        Optional data replacing the study's own: a file path, a DataFrame (loaded
        with the roles of ``[data.roles]``, or the bundled dataset's card roles) or a
        :class:`~causalpolicing.Panel`. Required for studies with status
        ``"needs data"``.

    Returns
    -------
    Comparison
        Published versus reproduced numbers (``.table``, ``.all_match``,
        ``.to_text()``, ``.to_markdown()``, ``.to_html()``).

    Raises
    ------
    DatasetError
        For a ``"needs data"`` study without ``data`` (the message lists the
        required columns), or data lacking a required column.
    StudyError
        If the study file breaks the schema, or a step or published term does not fit
        the data (the message names the key).

    Examples
    --------
    >>> from causalpolicing.studies import reproduce
    >>> cmp = reproduce("wooldridge_13_9")
    >>> cmp.all_match, len(cmp.table)
    (True, 6)
    >>> cmp.table[["term", "quantity", "printed", "match"]].head(2)
          term  quantity    printed  match
    0  lprbarr  estimate   -0.32749   True
    1  lprbarr  std_error   0.02998   True
    """
    s = load_study(study)
    messages: list[str] = []
    with record_warnings() as caught:
        panel, source, user_data = _load_data(s, data)
        for step in s.data.steps:
            panel = _apply_step(panel, step, s)
    messages += [f"data: {w.message}" for w in caught]
    fits: dict[str, Any] = {}
    runs: list[ModelRun] = []
    for m in s.models:
        with record_warnings() as caught:
            sub = panel
            if m.sample is not None:
                try:
                    mask = _condition(evaluate(m.sample, panel), str(m.sample))
                except ExpressionError as exc:
                    raise StudyError(str(exc), f"models[{m.index}] (id {m.id!r}).sample",
                                     s.source) from exc
                sub = _subset(panel, mask, {"where": str(m.sample), "kept": int(mask.sum()),
                                            "of": len(mask)})
            try:
                res = _fit(m, sub)
            except StudyError:
                raise
            except (SpecError, FormulaError) as exc:  # e.g. a column the data do not have
                raise StudyError(str(exc), f"models[{m.index}] (id {m.id!r})", s.source) from exc
        messages += [f"{m.id}: {w.message}" for w in caught]
        fits[m.id] = res
        runs.append(ModelRun(id=m.id, estimator=str(getattr(res, "estimator", m.estimator)),
                             specification=_describe(m), nobs=int(res.nobs),
                             cov_type=str(getattr(res, "cov_type", ""))))
    table = pd.DataFrame(_rows(s, fits), columns=COLUMNS)
    return Comparison(study=s, _table=table, data_source=source, user_data=user_data,
                      models=tuple(runs), warnings=tuple(dict.fromkeys(messages)),
                      steps=tuple(st.describe() for st in s.data.steps),
                      _fits=MappingProxyType(fits))
