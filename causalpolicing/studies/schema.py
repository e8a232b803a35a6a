"""The study-file schema: TOML parsed with :mod:`tomllib`, validated key by key.

A study file declares a published study: its citation, its data, how variables are
built and the sample restricted, the models, and the published numbers to compare
with. The full schema is documented in ``docs/studies.md``; the catalogue's files
(``causalpolicing/studies/catalogue/*.toml``) are examples of every part.

Every error names the file and the key path (``models[1] (id 'fe2sls').vcov: ...``;
indices count from 0 in the order the tables appear in the file), shows what was
received and lists the valid options. Unknown keys are errors, so a typo never
silently changes a specification.

Examples
--------
>>> from causalpolicing.studies.schema import parse_study
>>> raw = {
...     "study": {"id": "toy", "title": "Toy", "citation": "Nobody (2024)",
...               "status": "reproducible"},
...     "data": {"dataset": "castle"},
...     "models": [{"id": "twfe", "estimator": "feols",
...                 "formula": "l_homicide ~ post | sid + year", "vcov": {"CRV1": "sid"}}],
...     "published": [{"model": "twfe", "table": "T1", "column": "(1)", "term": "post",
...                    "estimate": "0.069398"}],
... }
>>> study = parse_study(raw)
>>> study.id, study.models[0].options["vcov"], study.published[0].quantities[0].decimals
('toy', {'CRV1': 'sid'}, 6)
>>> raw["models"][0]["vcov"] = "CRV9"
>>> parse_study(raw)
Traceback (most recent call last):
...
causalpolicing.studies._checks.StudyError: <study>: models[0] (id 'twfe').vcov: Unknown covariance type vcov='CRV9'. Valid: 'iid', ... Did you mean 'CRV3'?
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import datasets
from .._hints import check_level
from .._model_spec import ModelSpec
from ..estimators import registry
from ..exceptions import SpecError
from ._checks import (
    _MODEL_COMMON,
    StudyError,
    _Checker,
    _join,
)
from .expressions import Expression

__all__ = [
    "StudyError",
    "Study",
    "StudyData",
    "Step",
    "ModelSpec",
    "PublishedNumber",
    "PrintedNumber",
    "STATUSES",
    "SCALES",
    "parse_study",
    "read_study_file",
]

STATUSES = ("reproducible", "needs data")
SCALES = ("coef", "odds_ratio", "rate_ratio")
#: Named transforms a study may apply (the Panel transform methods, with their options).
NAMED_TRANSFORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (required options, optional options)
    "rate": (("column",), ("per", "exposure", "name")),
    "per_capita": (("column",), ("per", "population", "name")),
    "log": (("column",), ("zero", "offset", "name")),
    "lag": (("column",), ("k", "name")),
    "lead": (("column",), ("k", "name")),
    "lags": (("column", "ks"), ()),
    "diff": (("column",), ("k", "name")),
    "neighbour_mean": (("column",), ("name", "missing")),
    "neighbour_sum": (("column",), ("name", "missing")),
    "deflate": (("price", "index"), ("base", "name")),
    "pure_price": (("price", "purity"), ("scale", "name")),
    "harmonic": (("period",), ("order", "name", "origin")),
}


# ======================================================================= objects
@dataclass(frozen=True)
class PrintedNumber:
    """One number as printed in the publication.

    Attributes
    ----------
    quantity
        ``estimate``, ``std_error``, ``conf_low``, ``conf_high`` or a statistic name
        (``nobs``, ``r2``, ...).
    printed
        The text as printed (``"-0.354830"``), keeping trailing zeros.
    value
        The number.
    decimals
        Decimals as printed: a match means equal at this rounding.
    """

    quantity: str
    printed: str
    value: float
    decimals: int


@dataclass(frozen=True)
class PublishedNumber:
    """One ``[[published]]`` entry: a term (or statistic) of a model as printed."""

    index: int
    model: str
    table: str
    column: str
    term: str | None
    statistic: str | None
    quantities: tuple[PrintedNumber, ...]
    scale: str = "coef"
    per: float = 1.0
    level: float = 0.95
    tolerance: float | None = None
    tolerance_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Step:
    """One ``[[data.transforms]]`` step: derive a column, apply a named transform, or subset."""

    index: int
    kind: str  # "derive" | "transform" | "sample"
    name: str | None = None
    expr: Expression | None = None
    replace: bool = False
    transform: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One line, e.g. ``post_mixtape = max(post, ...)``."""
        if self.kind == "derive":
            return f"{self.name} = {self.expr}"
        if self.kind == "sample":
            return f"keep rows where {self.expr}"
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.transform}({args})"


@dataclass(frozen=True)
class StudyData:
    """The ``[data]`` table of a study file: a dataset or file, roles, column notes, steps.

    Not the analysis spec's :class:`causalpolicing.spec.DataSpec`: a study's data
    block also declares column descriptions and derivation steps, and its roles form
    one ``[data.roles]`` table, so the two are different classes (with different names).
    """

    dataset: str | None
    path: Path | None
    format: str | None
    roles: Mapping[str, Any] | None
    columns: Mapping[str, str]
    steps: tuple[Step, ...]
    description: str | None = None


@dataclass(frozen=True)
class Study:
    """A parsed study file (see ``docs/studies.md``)."""

    id: str
    title: str
    citation: str
    status: str
    url: str | None
    doi: str | None
    notes: tuple[str, ...]
    data: StudyData
    models: tuple[ModelSpec, ...]
    published: tuple[PublishedNumber, ...]
    source: str = "<study>"

    @property
    def needs_data(self) -> bool:
        """True when the study's data are not public (status ``"needs data"``)."""
        return self.status == "needs data"

    def model(self, model_id: str) -> ModelSpec:
        """The model with this id."""
        for m in self.models:
            if m.id == model_id:
                return m
        raise SpecError(f"Study {self.id!r} has no model {model_id!r}; models: "
                        f"{', '.join(m.id for m in self.models)}.")

    def __repr__(self) -> str:
        return (f"<Study {self.id!r}: {self.title}; {len(self.models)} model(s), "
                f"{sum(len(p.quantities) for p in self.published)} published number(s), "
                f"status {self.status!r}>")





# ===================================================================== parsing
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_QUANTITIES = ("estimate", "std_error", "conf_low", "conf_high")
_PUBLISHED_KEYS = ("model", "table", "column", "term", "statistic", "value", *_QUANTITIES,
                   "decimals", "scale", "per", "level", "tolerance", "tolerance_reason", "note")


def _printed(c: _Checker, value: Any, key: str, decimals: Any) -> tuple[str, float, int]:
    if isinstance(value, bool):
        raise c.fail(key, f"must be a number as printed (a string like \"-0.354830\"); got "
                          f"{value!r}.")
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-")
        if not _NUMBER_RE.match(text):
            raise c.fail(key, f"{value!r} is not a number as printed; write it as in the "
                              "table, e.g. \"-0.354830\" or \"540\" (no exponents, no "
                              "thousands separators).")
        d = Decimal(text)
        dec = max(0, -int(d.as_tuple().exponent))  # type: ignore[operator]
        if decimals is not None and decimals != dec:
            raise c.fail(key, f"printed with {dec} decimals but decimals = {decimals}; drop "
                              "decimals (the string says how it was printed) or make them agree.")
        return text, float(d), dec
    if isinstance(value, int):
        return str(value), float(value), 0 if decimals is None else int(decimals)
    if isinstance(value, float):
        if decimals is None:
            raise c.fail(key, f"{value!r} is a TOML float, which loses trailing zeros; write "
                              f"the number as printed in a string (\"{value}\") or add "
                              "decimals = <how many were printed>.")
        try:
            text = str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-int(decimals))))
        except InvalidOperation:
            raise c.fail(key, f"cannot show {value!r} with {decimals} decimals.") from None
        return text, value, int(decimals)
    raise c.fail(key, f"must be a number as printed (e.g. \"-0.354830\"); got {value!r}.")


def _parse_published(c: _Checker, raw: Any, i: int, models: Mapping[str, ModelSpec]
                     ) -> PublishedNumber:
    key = f"published[{i}]"
    t = c.table(raw, key)
    c.keys(t, key, ("model", "table", "column"), tuple(k for k in _PUBLISHED_KEYS
                                                       if k not in ("model", "table", "column")))
    model_id = str(c.string(t, "model", key, required=True))
    if model_id not in models:
        raise c.fail(_join(key, "model"), f"unknown model {model_id!r}; the [[models]] ids are "
                                          f"{', '.join(map(repr, models))}.")
    model = models[model_id]
    table = c.string(t, "table", key, required=True)
    column = c.string(t, "column", key, required=True)
    term = c.string(t, "term", key)
    statistic = c.string(t, "statistic", key)
    if (term is None) == (statistic is None):
        raise c.fail(key, "give exactly one of 'term' (a coefficient, with estimate/std_error/"
                          "conf_low/conf_high) or 'statistic' (a fit statistic such as 'nobs' "
                          "or 'r2', with value).")
    decimals = t.get("decimals")
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                 or not 0 <= decimals <= 15):
        raise c.fail(_join(key, "decimals"), f"must be a whole number 0-15; got {decimals!r}.")
    quantities: list[PrintedNumber] = []
    if statistic is not None:
        stray = [q for q in _QUANTITIES if q in t]
        if stray:
            raise c.fail(_join(key, stray[0]), "a statistic entry takes 'value', not "
                                               f"{stray[0]!r}.")
        if "value" not in t:
            raise c.fail(key, f"missing 'value' for statistic {statistic!r}.")
        text, v, d = _printed(c, t["value"], _join(key, "value"), decimals)
        quantities.append(PrintedNumber(statistic, text, v, d))
    else:
        if "value" in t:
            raise c.fail(_join(key, "value"), "a term entry takes estimate, std_error, "
                                              "conf_low and conf_high, not 'value'.")
        for q in _QUANTITIES:
            if q in t:
                text, v, d = _printed(c, t[q], _join(key, q), decimals)
                quantities.append(PrintedNumber(q, text, v, d))
        if not quantities:
            raise c.fail(key, f"no published number for term {term!r}: give at least one of "
                              f"{', '.join(_QUANTITIES)}.")
        if ("conf_low" in t) != ("conf_high" in t):
            raise c.fail(key, "give both conf_low and conf_high (or neither).")
    scale = c.string(t, "scale", key, choices=SCALES) or "coef"
    allowed = model.entry.scales_for(model.options)
    if scale not in allowed:
        raise c.fail(_join(key, "scale"), f"scale {scale!r} does not fit model {model_id!r} "
                                          f"({model.estimator}); valid: "
                                          f"{', '.join(map(repr, allowed))}.")
    if scale != "coef" and any(q.quantity == "std_error" for q in quantities):
        raise c.fail(_join(key, "std_error"), f"a std_error on the {scale} scale is ambiguous "
                                              "(delta method?); give conf_low/conf_high, or "
                                              "compare the coefficient with scale = \"coef\".")
    if statistic is not None and scale != "coef":
        raise c.fail(_join(key, "scale"), "statistics are compared as printed; drop 'scale'.")
    per = t.get("per", 1.0)
    if isinstance(per, bool) or not isinstance(per, int | float) or per == 0:
        raise c.fail(_join(key, "per"), f"must be a non-zero number (the change of the "
                                        f"regressor the ratio refers to); got {per!r}.")
    if "per" in t and scale == "coef":
        raise c.fail(_join(key, "per"), "'per' applies to odds_ratio or rate_ratio scales only.")
    level = t.get("level", 0.95)
    try:
        check_level(level)
    except SpecError:
        raise c.fail(_join(key, "level"), f"must be a number between 0 and 1 (e.g. 0.95); got "
                                          f"{level!r}.") from None
    tol = t.get("tolerance")
    reason = c.string(t, "tolerance_reason", key)
    if tol is not None:
        if isinstance(tol, bool) or not isinstance(tol, int | float) or tol <= 0:
            raise c.fail(_join(key, "tolerance"), f"must be a positive number; got {tol!r}.")
        if reason is None:
            raise c.fail(key, "a tolerance needs a tolerance_reason saying why the published "
                              "rounding cannot be met.")
    elif reason is not None:
        raise c.fail(_join(key, "tolerance_reason"), "given without a tolerance.")
    return PublishedNumber(
        index=i, model=model_id, table=str(table), column=str(column), term=term,
        statistic=statistic, quantities=tuple(quantities), scale=scale, per=float(per),
        level=float(level), tolerance=None if tol is None else float(tol),
        tolerance_reason=reason, note=c.string(t, "note", key))


def _parse_model(c: _Checker, raw: Any, i: int) -> ModelSpec:
    key = f"models[{i}]"
    t = c.table(raw, key)
    mid = c.string(t, "id", key, required=True)
    if mid is not None and not re.match(r"^[A-Za-z0-9_.-]+$", mid):
        raise c.fail(_join(key, "id"), f"{mid!r}: use letters, digits, '_', '-' or '.'.")
    key = f"{key} (id {mid!r})"
    est = c.string(t, "estimator", key, required=True)
    try:
        options = registry.validate_options(
            str(est), {k: v for k, v in t.items() if k not in _MODEL_COMMON}, path=key,
            also=_MODEL_COMMON)
    except registry.OptionError as exc:
        raise c.fail(exc.path, exc.detail) from None
    sample = c.expression(t["sample"], _join(key, "sample")) if "sample" in t else None
    return ModelSpec(str(mid), str(est), MappingProxyType(options), sample=sample,
                     label=c.string(t, "label", key), index=i)


def _parse_step(c: _Checker, raw: Any, i: int) -> Step:
    key = f"data.transforms[{i}]"
    t = c.table(raw, key)
    kinds = [k for k in ("expr", "transform", "sample") if k in t]
    if len(kinds) != 1:
        raise c.fail(key, "each step needs exactly one of: 'name' + 'expr' (derive a column), "
                          "'transform' (a named Panel transform) or 'sample' (keep the rows "
                          f"where a condition holds); got keys {sorted(t)}.")
    kind = kinds[0]
    if kind == "expr":
        c.keys(t, key, ("name", "expr"), ("replace",))
        name = c.string(t, "name", key, required=True)
        if name is not None and not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
            raise c.fail(_join(key, "name"), f"{name!r} is not a column name (letters, digits "
                                             "and '_', starting with a letter).")
        replace = t.get("replace", False)
        if not isinstance(replace, bool):
            raise c.fail(_join(key, "replace"), f"must be true or false; got {replace!r}.")
        return Step(i, "derive", name=name, expr=c.expression(t["expr"], _join(key, "expr")),
                    replace=replace)
    if kind == "sample":
        c.keys(t, key, ("sample",), ())
        return Step(i, "sample", expr=c.expression(t["sample"], _join(key, "sample")))
    name = c.string(t, "transform", key, required=True)
    if name not in NAMED_TRANSFORMS:
        raise c.fail(_join(key, "transform"), f"unknown transform {name!r}; valid: "
                                              f"{', '.join(NAMED_TRANSFORMS)}.")
    req, opt = NAMED_TRANSFORMS[name]
    c.keys(t, key, ("transform", *req), opt)
    options = {k: v for k, v in t.items() if k != "transform"}
    return Step(i, "transform", transform=name, options=MappingProxyType(options))


_ROLE_KEYS = ("unit", "time", "outcome", "treatment", "exposure", "covariates", "cluster")


def _parse_data(c: _Checker, raw: Any, base: Path | None, status: str) -> StudyData:
    t = c.table(raw, "data")
    c.keys(t, "data", (), ("dataset", "path", "format", "roles", "columns", "transforms",
                           "description"))
    dataset = c.string(t, "dataset", "data")
    path_text = c.string(t, "path", "data")
    if dataset is not None and path_text is not None:
        raise c.fail("data", "give either 'dataset' (a bundled dataset) or 'path' (a file), "
                             "not both.")
    if dataset is None and path_text is None and status != "needs data":
        raise c.fail("data", "give 'dataset' (a bundled dataset name, see `causalpolicing "
                             "datasets list`) or 'path' (a data file, relative to the study "
                             "file); only a study with status \"needs data\" may give neither.")
    if dataset is not None:
        if dataset not in datasets.names():
            raise c.fail("data.dataset", f"unknown bundled dataset {dataset!r}; valid: "
                                         f"{', '.join(datasets.names())}.")
    path = None
    if path_text is not None:
        path = Path(path_text)
        if not path.is_absolute() and base is not None:
            path = base / path
    roles = None
    if "roles" in t:
        r = c.table(t["roles"], "data.roles")
        c.keys(r, "data.roles", ("time", "outcome", "treatment"),
               tuple(k for k in _ROLE_KEYS if k not in ("time", "outcome", "treatment")))
        for k in ("unit", "time", "exposure"):
            if k in r:
                c.string(r, k, "data.roles")
        for k in ("outcome", "treatment"):
            v = r[k]
            if not (isinstance(v, Mapping) and all(isinstance(x, str) for x in v.values())):
                c.strings(v, _join("data.roles", k))
        for k in ("covariates", "cluster"):
            if k in r:
                c.strings(r[k], _join("data.roles", k))
        roles = MappingProxyType(dict(r))
    elif path is not None or status == "needs data":
        raise c.fail("data", "a study that reads a file (path, or data supplied with --data) "
                             "needs [data.roles] with at least time, outcome and treatment "
                             "(and unit, unless the data are one series).")
    columns: dict[str, str] = {}
    if "columns" in t:
        cols = c.table(t["columns"], "data.columns")
        for k, v in cols.items():
            if not isinstance(v, str):
                raise c.fail(_join("data.columns", k), f"must describe the column in words; "
                                                       f"got {v!r}.")
            columns[k] = v
    steps_raw = t.get("transforms", [])
    if not isinstance(steps_raw, list):
        raise c.fail("data.transforms", "must be an array of tables ([[data.transforms]]).")
    steps = tuple(_parse_step(c, s, i) for i, s in enumerate(steps_raw))
    return StudyData(dataset=dataset, path=path, format=c.string(t, "format", "data"),
                    roles=roles, columns=MappingProxyType(columns), steps=steps,
                    description=c.string(t, "description", "data"))


def parse_study(raw: Mapping[str, Any], *, source: str = "<study>",
                base: Path | None = None) -> Study:
    """Validate a study given as a dict (what :func:`tomllib.load` returns).

    Parameters
    ----------
    raw
        The study's tables: ``study``, ``data``, ``models``, ``published``.
    source
        Name of the file, used in error messages.
    base
        Folder that relative ``data.path`` entries are relative to.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        Naming the key path of the first problem found.
    """
    c = _Checker(source)
    top = c.table(raw, "")
    c.keys(top, "", ("study", "data", "models", "published"), ())
    s = c.table(top["study"], "study")
    c.keys(s, "study", ("id", "title", "citation", "status"), ("url", "doi", "notes"))
    sid = c.string(s, "id", "study", required=True)
    if sid is not None and not re.match(r"^[a-z0-9_]+$", sid):
        raise c.fail("study.id", f"{sid!r}: use lower-case letters, digits and '_' (it is "
                                 "typed on the command line).")
    status = c.string(s, "status", "study", required=True, choices=STATUSES)
    notes = c.strings(s["notes"], "study.notes") if "notes" in s else ()
    data = _parse_data(c, top["data"], base, str(status))
    models_raw = top["models"]
    if not isinstance(models_raw, list) or not models_raw:
        raise c.fail("models", "must be one or more [[models]] tables.")
    models: dict[str, ModelSpec] = {}
    for i, m in enumerate(models_raw):
        spec = _parse_model(c, m, i)
        if spec.id in models:
            raise c.fail(f"models[{i}].id", f"duplicate model id {spec.id!r}.")
        models[spec.id] = spec
    pub_raw = top["published"]
    if not isinstance(pub_raw, list) or not pub_raw:
        raise c.fail("published", "must be one or more [[published]] tables.")
    published = tuple(_parse_published(c, p, i, models) for i, p in enumerate(pub_raw))
    return Study(
        id=str(sid), title=str(c.string(s, "title", "study", required=True)),
        citation=str(c.string(s, "citation", "study", required=True)), status=str(status),
        url=c.string(s, "url", "study"), doi=c.string(s, "doi", "study"), notes=notes,
        data=data, models=tuple(models.values()), published=published, source=source)


def read_study_file(path: str | Path) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        A ``.toml`` study file.

    Raises
    ------
    StudyError
        If the file is not valid TOML or breaks the schema (naming the key).
    FileNotFoundError
        If there is no such file.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"No study file {str(p)!r}.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"not valid TOML ({exc}).", "", str(p)) from None
    except UnicodeDecodeError:
        raise StudyError("not a UTF-8 text file.", "", str(p)) from None
    return parse_study(raw, source=str(p), base=p.parent)
