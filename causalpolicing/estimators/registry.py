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
causalpolicing.estimators.registry.OptionError: estimator: unknown estimator 'fepios'; valid: feols, fepois, fenegbin, febinomial, between, first_difference, distributed_lag, event_study. Did you mean 'fepois'?
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._hints import did_you_mean
from ..exceptions import FormulaError, SpecError

__all__ = [
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

Check = Callable[[Any], Any]


class OptionError(SpecError):
    """A model option (or estimator name) is not valid; ``path`` is its key path.

    ``detail`` is the message without the path, so that each door (spec, study
    file, command line) can put the key path in its own form.
    """

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path}: {detail}" if path else detail)
        self.path = path
        self.detail = detail


# ================================================================== validators
def column(value: Any) -> str:
    """A column name: a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"must be a column name (a non-empty string); got {value!r}.")
    return value


def column_or_false(value: Any) -> str | bool:
    """A column name, or ``false`` for none."""
    if value is False or (isinstance(value, str) and value.strip()):
        return value
    raise SpecError(f"must be a column name or false (none); got {value!r}.")


def formula(value: Any) -> str:
    """A fixest-style formula, parsed (never evaluated) by :mod:`causalpolicing.formula`."""
    from ..formula import parse_formula

    if not isinstance(value, str):
        raise SpecError(f"must be a formula string such as 'y ~ x | unit + year'; got {value!r}.")
    try:
        parse_formula(value)
    except FormulaError as exc:
        raise SpecError(str(exc)) from None
    return value


def count(value: Any) -> int:
    """A whole number 0, 1, 2, ..."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"must be a whole number 0, 1, 2, ...; got {value!r}.")
    return value


def integer(value: Any) -> int:
    """A whole number, negative ones included (..., -1, 0, 1, ...)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"must be a whole number (e.g. -1); got {value!r}.")
    return value


def flag(value: Any) -> bool:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        raise SpecError(f"must be true or false; got {value!r}.")
    return value


def values(value: Any) -> Any:
    """A number or string, or a list of them (values of a column, e.g. ``0`` or ``[0, nan]``)."""
    def ok(v: Any) -> bool:
        return isinstance(v, int | float | str) and not isinstance(v, bool)

    if ok(value):
        return value
    if isinstance(value, list | tuple) and value and all(ok(v) for v in value):
        return list(value)
    raise SpecError(f"must be a number or a string, or a list of them (e.g. 0, nan or [0, "
                    f"nan]); got {value!r}.")


def column_list(value: Any) -> tuple[str, ...]:
    """A string or a list of strings (column names), as a tuple."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SpecError(f"must be a string or a list of strings; got {value!r}.")


def choice(*allowed: str, what: str = "value") -> Check:
    """A validator accepting one of ``allowed``."""
    def check(value: Any) -> str:
        if value not in allowed:
            raise SpecError(f"unknown {what} {value!r}; valid: {', '.join(map(repr, allowed))}."
                            + did_you_mean(str(value), allowed, style="sentence"))
        return str(value)
    return check


def _ssc(value: Any) -> str:
    from ..inference.vcov import SSC_CONVENTIONS  # numpy: loaded only when a spec is checked

    return choice(*SSC_CONVENTIONS, what="small-sample convention")(value)


# ====================================================================== schema
@dataclass(frozen=True)
class Option:
    """One option of an estimator.

    Attributes
    ----------
    name
        The key written in a spec or study file.
    check
        Validator: returns the (normalised) value or raises :class:`SpecError`.
        Ignored for ``kind="vcov"`` (checked against the estimator's family).
    doc
        One line for the docs table.
    kind
        Type shown in the docs (``"formula"``, ``"column"``, ``"vcov"``, ...).
    allowed
        Allowed values shown in the docs (a tuple, or a lazy ``"module:attr"``).
    default
        The function's default (``None``: none, or decided from the data).
    required
        Whether the option must be given.
    argument
        The function's keyword, when it differs from ``name``.
    """

    name: str
    check: Check
    doc: str
    kind: str = "string"
    allowed: tuple[str, ...] | str | None = None
    default: Any = None
    required: bool = False
    argument: str | None = None

    def allowed_values(self) -> tuple[str, ...] | None:
        """The allowed values (a lazy reference resolved)."""
        if isinstance(self.allowed, str):
            return tuple(_resolve(self.allowed))
        return self.allowed


def _vcov_option(default: Any = None) -> Option:
    return Option("vcov", _identity, "covariance: a string or a one-entry table, see "
                  "docs/inference.md", kind="vcov", default=default)


def _identity(value: Any) -> Any:
    return value


FORMULA = Option("formula", formula, "fixest-style formula `y ~ x | fe1 + fe2 | endog ~ instr`",
                 kind="formula", required=True)
SSC = Option("ssc", _ssc, "small-sample convention (docs/inference.md)", kind="string",
             allowed="causalpolicing.inference.vcov:SSC_CONVENTIONS", default="fixest")
WEIGHTS = Option("weights", column, "analytic weights column", kind="column")
SINGLETONS = Option("singletons", choice("drop", "keep"), "fixed-effect singletons: keep "
                    "(fixest, Stata) or drop (reghdfe, pyfixest)", allowed=("drop", "keep"),
                    default="keep")
EXPOSURE = Option("exposure", column_or_false, "population at risk (log offset); false: none "
                  "(default: the Panel's exposure role)", kind="column or false")


#: The options of the designs that build their model from the panel's roles and fit it
#: with feols or fepois (distributed lags, event studies), declared once.
_PANEL_MODEL_OPTIONS: tuple[Option, ...] = (
    Option("family", choice("feols", "fepois"), "the model: linear (feols) or Poisson "
           "(fepois)", allowed=("feols", "fepois"), default="feols", argument="estimator"),
    Option("fe", column_list, "fixed effects (default: unit and time)", kind="list"),
    Option("covariates", column_list, "covariate columns", kind="list"),
    _vcov_option(),
    Option("exposure", column, "population at risk (with family = \"fepois\")",
           kind="column"),
)


@dataclass(frozen=True)
class EstimatorEntry:
    """One estimator (or design) of the registry.

    Attributes
    ----------
    name
        The name written in specs, study files and on the command line.
    function
        ``"module:attr"`` of the fitting function, called as ``function(data=..., **options)``.
    options
        The option schema.
    family
        Covariance family (a key of :data:`~causalpolicing.inference.vcov.VCOV_FAMILIES`),
        ``None`` for an estimator without covariance choice.
    formula, fixed_effects, ssc
        Whether it takes a formula, fixed effects (in the formula) and ``ssc``.
    bootstrap
        ``"wild"``, ``"score"`` or ``None``: the bootstrap the analysis runner offers.
    results
        Name of the results type it returns.
    scales
        Scales a study may compare its estimates on (``coef``, ``rate_ratio``, ``odds_ratio``).
    description
        One line for the docs.
    study_only
        Available in study files only (not in an analysis spec or on the command line).
    family_option
        An option that switches the family (``distributed_lag``'s ``family``), with
        the family of each value; a value without entry keeps ``family``.
    """

    name: str
    function: str
    options: tuple[Option, ...]
    family: str | None
    formula: bool
    fixed_effects: bool
    ssc: bool
    bootstrap: str | None
    results: str
    scales: tuple[str, ...]
    description: str
    study_only: bool = False
    family_option: tuple[str, Mapping[str, str]] | None = None

    def option_names(self) -> tuple[str, ...]:
        """The option keys, in schema order."""
        return tuple(o.name for o in self.options)

    def option(self, name: str) -> Option | None:
        """The option called ``name``, or ``None``."""
        return next((o for o in self.options if o.name == name), None)

    def family_for(self, options: Mapping[str, Any]) -> str | None:
        """The covariance family for these options."""
        if self.family_option is not None:
            key, families = self.family_option
            return families.get(str(options.get(key)), self.family)
        return self.family

    def scales_for(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """The comparable scales for these options (a linear family compares ``coef`` only)."""
        if self.family_for(options) == "linear":
            return ("coef",)
        return self.scales

    def resolve(self) -> Callable[..., Any]:
        """The fitting function (imported on first use)."""
        return _resolve(self.function)


@functools.cache
def _resolve(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


_E = "causalpolicing.estimators"
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


# =================================================================== the table
def _builtin() -> tuple[EstimatorEntry, ...]:
    lin, pois = _vcov_option(), _vcov_option()
    return (
        EstimatorEntry("feols", f"{_E}.linear:feols",
                       (FORMULA, lin, SSC, WEIGHTS, SINGLETONS),
                       "linear", True, True, True, "wild", "FEOLSResults", ("coef",),
                       "OLS, WLS and 2SLS with fixed effects"),
        EstimatorEntry("fepois", f"{_E}.poisson:fepois",
                       (FORMULA, pois, SSC, WEIGHTS, EXPOSURE,
                        Option("offset", column, "offset column (log scale)", kind="column"),
                        SINGLETONS),
                       "poisson", True, True, True, "score", "FEPoissonResults",
                       ("coef", "rate_ratio"), "Poisson with fixed effects and an exposure"),
        EstimatorEntry("fenegbin", f"{_E}.negbin:fenegbin",
                       (FORMULA, _vcov_option(), EXPOSURE, SINGLETONS),
                       "glm", True, True, False, None, "GLMFEResults", ("coef", "rate_ratio"),
                       "negative binomial (NB2) with fixed effects"),
        EstimatorEntry("febinomial", f"{_E}.binomial:febinomial",
                       (FORMULA,
                        Option("trials", column, "the column with the population at risk "
                               "(e.g. trials = \"users\")", kind="column", required=True),
                        _vcov_option(),
                        Option("dispersion", choice("fixed", "pearson"), "dispersion: fixed "
                               "(binomial) or pearson (quasi-binomial)",
                               allowed=("fixed", "pearson"), default="fixed"),
                        SINGLETONS),
                       "glm", True, True, False, None, "GLMFEResults", ("coef", "odds_ratio"),
                       "binomial logit GLM of events out of trials"),
        EstimatorEntry("between", f"{_E}.between_means:between",
                       (FORMULA, Option("unit", column, "unit column (default: the Panel's)",
                                        kind="column"),
                        _vcov_option("iid"), SSC),
                       "linear", True, False, True, None, "FEOLSResults", ("coef",),
                       "OLS on unit means"),
        EstimatorEntry("first_difference", f"{_E}.first_differences:first_difference",
                       (FORMULA, Option("unit", column, "unit column (default: the Panel's)",
                                        kind="column"),
                        Option("time", column, "time column (default: the Panel's)",
                               kind="column"),
                        _vcov_option(), SSC),
                       "linear", True, False, True, None, "FEOLSResults", ("coef",),
                       "OLS on first differences"),
        EstimatorEntry("distributed_lag", f"{_E}.lags:distributed_lag",
                       (Option("outcome", column, "outcome column (default: the primary one)",
                               kind="column"),
                        Option("treatment", column, "treatment column (default: the primary "
                               "one)", kind="column"),
                        Option("lags", count, "lags of the treatment", kind="integer",
                               default=2),
                        Option("leads", count, "leads of the treatment", kind="integer",
                               default=2),
                        *_PANEL_MODEL_OPTIONS),
                       "linear", False, True, False, None, "DistributedLagResults",
                       ("coef", "rate_ratio"), "lags and leads of the treatment "
                       "(term `cumulative`: the summed effect)",
                       family_option=("family", {"fepois": "poisson"})),
        EstimatorEntry("event_study", "causalpolicing.designs.event_studies:event_study",
                       (Option("cohort", column, "column with each unit's first treated "
                               "period", kind="column", required=True),
                        Option("never_treated", values, "the cohort value(s) marking "
                               "never-treated units (e.g. 0 or nan)", kind="value(s)",
                               required=True),
                        Option("outcome", column, "outcome column (default: the primary one)",
                               kind="column"),
                        Option("unit", column, "unit column (default: the Panel's)",
                               kind="column"),
                        Option("time", column, "time column (default: the Panel's)",
                               kind="column"),
                        Option("leads", count, "leads (event times -leads to -1)",
                               kind="integer", default=4),
                        Option("lags", count, "lags (event times 0 to lags)", kind="integer",
                               default=4),
                        Option("ref", integer, "the reference (omitted) event time",
                               kind="integer", default=-1),
                        Option("bin_endpoints", flag, "bin event times beyond the window "
                               "into the endpoints (false: drop them)", kind="boolean",
                               default=True),
                        *_PANEL_MODEL_OPTIONS),
                       "linear", False, True, False, None, "EventStudyResults",
                       ("coef", "rate_ratio"), "two-way fixed-effects event study: leads and "
                       "lags of a treatment start, pre-trend test",
                       family_option=("family", {"fepois": "poisson"})),
    )


for _entry in _builtin():
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
