"""The option schema of the estimator registry: validators, :class:`Option`, :class:`EstimatorEntry`.

Kept apart from :mod:`causalpolicing.estimators.registry` (which re-exports every
public name) so that the tables of entries (:mod:`._entries` for the estimators,
:mod:`._design_entries` for the designs) can be declared in their own modules.
Imports no numerical library.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .._hints import did_you_mean
from ..exceptions import FormulaError, SpecError

Check = Callable[[Any], Any]


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


#: What each name of :attr:`EstimatorEntry.panel_defaults` fills in from the Panel.
PANEL_DEFAULTS: Mapping[str, str] = MappingProxyType({
    "outcome": "the primary outcome (its rate, when the spec added one and no exposure is given)",
    "family": "fepois when the model gives an exposure, else feols",
    "covariates": "the covariate role",
    "treatment": "the primary treatment",
    "lags": "the model's lags",
    "leads": "the model's leads",
})


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
    panel_defaults
        Options the analysis runner fills from the Panel's roles when the model
        does not give them (:data:`PANEL_DEFAULTS` lists what each means): e.g.
        ``("outcome", "family", "covariates")`` for a design that analyses the
        primary outcome with the covariates, as Poisson when given an exposure.
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
    panel_defaults: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [d for d in self.panel_defaults if d not in PANEL_DEFAULTS]
        if unknown:
            raise SpecError(f"{self.name}: panel_defaults {unknown} are not known; use "
                            f"{list(PANEL_DEFAULTS)}.")

    @property
    def is_design(self) -> bool:
        """True for a design of :mod:`causalpolicing.designs` (event study, staggered DiD, ...)."""
        return self.function.startswith("causalpolicing.designs.")

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
