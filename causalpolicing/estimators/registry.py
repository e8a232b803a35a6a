"""The estimator registry: one table of every estimator a spec, a study file or the CLI may name.

Each :class:`EstimatorEntry` says where the fitting function lives (a lazy
``"module:attr"`` reference, imported on first use), which options it takes
(an :class:`Option` schema: validator, allowed values, default, one-line doc,
required or not), the model family its covariances come from
(:data:`causalpolicing.inference.vcov.VCOV_FAMILIES`), whether it takes a formula,
fixed effects and a small-sample convention, the bootstrap it supports, its results
type and the scales a study may compare. The analysis spec
(:mod:`causalpolicing.spec`), the study files (:mod:`causalpolicing.studies`), the
runners, the command line and the docs' option tables all read this table; nothing
keeps a second list. A new design plugs in with one :func:`register` call.

Importing this module loads no numerical library (``causalpolicing --help`` reads it).

Examples
--------
>>> from causalpolicing.estimators import registry
>>> registry.get("fenegbin").family, registry.get("fenegbin").option_names()
('glm', ('formula', 'vcov', 'exposure', 'singletons'))
>>> registry.validate_options("fenegbin", {"formula": "y ~ x | unit", "vcov": "HAC"})
{'formula': 'y ~ x | unit', 'vcov': 'HAC'}
>>> registry.validate_options("fenegbin", {"formula": "y ~ x | unit", "vcov": {"DK": "year"}},
...                           path="models[0]")
Traceback (most recent call last):
...
causalpolicing.estimators.registry.OptionError: models[0].vcov: vcov={'DK': 'year'} (DK) is not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC.
>>> registry.get("fepios")
Traceback (most recent call last):
...
causalpolicing.estimators.registry.OptionError: estimator: unknown estimator 'fepios'; valid: feols, fepois, fenegbin, febinomial, ... Did you mean 'fepois'?
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from .._hints import did_you_mean
from ..exceptions import SpecError
from ._design_entries import design_entries
from ._entries import model_entries
from ._schema import (
    SSC,
    EstimatorEntry,
    Option,
    choice,
    column,
    column_list,
    column_or_false,
    count,
    flag,
    formula,
    integer,
    values,
)

__all__ = [
    "SSC",
    "EstimatorEntry",
    "Option",
    "OptionError",
    "choice",
    "column",
    "column_list",
    "column_or_false",
    "count",
    "entries",
    "flag",
    "fit",
    "formula",
    "get",
    "integer",
    "names",
    "register",
    "render_table",
    "unregister",
    "validate_options",
    "values",
]

class OptionError(SpecError):
    """A model option (or estimator name) is not valid; ``path`` is its key path.

    ``detail`` is the message without the path, so that each door (spec, study
    file, command line) can put the key path in its own form.
    """

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}" if path else detail)
        self.path = path
        self.detail = detail


_REGISTRY: dict[str, EstimatorEntry] = {}


def register(entry: EstimatorEntry, *, replace: bool = False) -> EstimatorEntry:
    """Add an estimator (or design) to the registry; every door then knows it.

    Raises :class:`SpecError` if the name is taken (unless ``replace``).

    >>> toy = EstimatorEntry("toy", "builtins:print", (), None, False, False, False, None,
    ...                      "None", ("coef",), "a toy")
    >>> register(toy).name in names()
    True
    >>> unregister("toy")
    """
    if not replace and entry.name in _REGISTRY:
        raise SpecError(f"an estimator {entry.name!r} is registered already; pass replace=True "
                        "to replace it.")
    _REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove an estimator (for tests and plug-ins that clean up)."""
    _REGISTRY.pop(name, None)


def names(*, study: bool = False) -> tuple[str, ...]:
    """The registered names in registration order (``study=True``: with study-only ones)."""
    return tuple(n for n, e in _REGISTRY.items() if study or not e.study_only)


def entries(*, study: bool = False) -> Iterator[EstimatorEntry]:
    """The registered entries (``study=True``: with the study-only ones)."""
    return (e for e in _REGISTRY.values() if study or not e.study_only)


def get(name: Any, *, path: str = "estimator", study: bool = False) -> EstimatorEntry:
    """The entry of ``name``; an :class:`OptionError` at ``path`` lists the valid names.

    ``study=False`` refuses study-only entries (an analysis spec, the CLI).
    """
    valid = names(study=study)
    if isinstance(name, str) and name in _REGISTRY and name in valid:
        return _REGISTRY[name]
    if isinstance(name, str) and name in _REGISTRY:
        raise OptionError(path, f"{name!r} is available in study files only; here: "
                                f"{', '.join(valid)}.")
    if not isinstance(name, str) or not name.strip():
        raise OptionError(path, f"expected an estimator name (a string), got {name!r}; valid: "
                                f"{', '.join(valid)}.")
    raise OptionError(path, f"unknown estimator {name!r}; valid: {', '.join(valid)}."
                            + did_you_mean(name, valid, style="sentence"))


def validate_options(name: str, options: Mapping[str, Any], *, path: str = "",
                     also: Collection[str] = (), supplied: Collection[str] = (),
                     study: bool = True) -> dict[str, Any]:
    """THE validator of model options: every door checks a model with it.

    Parameters
    ----------
    name
        Estimator name.
    options
        Option key -> value (``None`` values count as absent).
    path
        Key path of the model, used in the errors (``models[2]``).
    also
        Keys the caller handles itself (e.g. ``name``, ``bootstrap``); listed as
        allowed in the unknown-key message.
    supplied
        Required options the caller fills in later (the analysis spec derives
        ``formula`` from the data roles).
    study
        Accept study-only estimators.

    Returns
    -------
    dict
        The validated (normalised) options, in the order given.

    Raises
    ------
    OptionError
        Naming the key path (``models[2].vcov``), what was received and what is allowed.
    """
    entry = get(name, path=_join(path, "estimator"), study=study)
    known = entry.option_names()
    out: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        opt = entry.option(str(key))
        if opt is None:
            allowed = [*also, *known]
            why = (f"{name} takes no formula: it uses the data roles and its own options"
                   if key == "formula" else f"unknown key {key!r}")
            raise OptionError(path, f"{why}{did_you_mean(str(key), allowed)}; allowed keys: "
                                    f"{', '.join(allowed)}.")
        try:
            if opt.kind == "vcov":
                from ..inference.vcov import check_vcov  # numpy: only when a spec is checked

                check_vcov(value, family=entry.family_for(options) or "linear", estimator=name)
                out[key] = dict(value) if isinstance(value, Mapping) else value
            else:
                out[key] = opt.check(value)
        except SpecError as exc:
            detail = exc.detail if isinstance(exc, OptionError) else str(exc)
            raise OptionError(_join(path, str(key)), detail) from None
    for opt in entry.options:
        if opt.required and opt.name not in out and opt.name not in supplied:
            raise OptionError(path, f"missing required key {opt.name!r} ({name} needs it: "
                                    f"{opt.doc}).")
    return out


def fit(name: str, data: Any, **options: Any) -> Any:
    """Validate ``options`` and fit the estimator ``name`` on ``data``.

    >>> import causalpolicing as cp
    >>> res = fit("feols", cp.datasets.load("nc_crime"), formula="lcrmrte ~ lprbarr | county",
    ...           vcov="iid")
    >>> round(float(res.params["lprbarr"]), 4)
    -0.0917
    """
    entry = get(name, study=True)
    checked = validate_options(name, options)
    kwargs = {(entry.option(k).argument or k): v for k, v in checked.items()}  # type: ignore[union-attr]
    return entry.resolve()(data=data, **kwargs)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key




for _entry in (*model_entries(), *design_entries()):
    register(_entry)


# ========================================================================= docs
def render_table(*, study: bool = False) -> str:
    """The Markdown table of estimators and their options (the docs' generated block).

    >>> print(render_table().splitlines()[2][:60])
    | `feols` | OLS, WLS and 2SLS with fixed effects | `formula`
    """
    head = ["estimator", "what", "required", "optional"]
    if study:
        head.append("published `scale`")
    else:
        head.append("bootstrap")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in entries(study=study):
        req = [f"`{o.name}`" for o in e.options if o.required]
        opt = []
        for o in e.options:
            if o.required:
                continue
            vals = o.allowed_values()
            opt.append(f"`{o.name}`" + (f" ({'/'.join(vals)})" if vals else ""))
        row = [f"`{e.name}`", e.description, ", ".join(req) or "–", ", ".join(opt) or "–"]
        if study:
            scales = ", ".join(f"`{s}`" for s in e.scales)
            if e.family_option is not None and len(e.scales) > 1:
                scales += f" (`coef` only with a linear `{e.family_option[0]}`)"
            row.append(scales)
        else:
            row.append(e.bootstrap or "–")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
