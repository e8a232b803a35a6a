"""Key-path checking of study files and the registry of estimators a study may use.

Split out of :mod:`causalpolicing.studies.schema` (which parses whole files):
:class:`StudyError`, the typed table accessor ``_Checker`` and the option
validators of :data:`ESTIMATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..exceptions import FormulaError, SpecError
from .expressions import Expression, ExpressionError, parse_expression

__all__ = ["StudyError", "ESTIMATORS"]

_LINEAR_VCOV = "linear"
_GLM_VCOV = "glm"


class StudyError(SpecError):
    """A study file is malformed: the message names the file and the key path.

    Attributes
    ----------
    key
        The key path (``models[1].vcov``), or ``""`` for the file as a whole.
    source
        The file (or ``"<study>"`` for a dict).
    """

    def __init__(self, message: str, key: str = "", source: str = "<study>") -> None:
        super().__init__(f"{source}: {key + ': ' if key else ''}{message}")
        self.key = key
        self.source = source


# ====================================================================== checking
class _Checker:
    """Typed access to a TOML table with key paths in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> StudyError:
        return StudyError(message, key, self.source)

    def table(self, value: Any, key: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a table ({_kind_hint(key)}); got "
                                 f"{type(value).__name__} {value!r}.")
        return value

    def keys(self, table: Mapping[str, Any], key: str, required: tuple[str, ...],
             optional: tuple[str, ...]) -> None:
        allowed = (*required, *optional)
        unknown = [k for k in table if k not in allowed]
        if unknown:
            import difflib

            k = unknown[0]
            close = difflib.get_close_matches(k, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(_join(key, k), f"unknown key{hint} Valid keys here: "
                                           f"{', '.join(allowed)}.")
        missing = [k for k in required if k not in table]
        if missing:
            raise self.fail(key, f"missing required key {missing[0]!r} (required: "
                                 f"{', '.join(required)}).")

    def string(self, table: Mapping[str, Any], name: str, key: str, *,
               required: bool = False, choices: tuple[str, ...] | None = None) -> str | None:
        if name not in table:
            if required:
                raise self.fail(key, f"missing required key {name!r}.")
            return None
        value = table[name]
        k = _join(key, name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(k, f"must be a non-empty string; got {value!r}.")
        if choices is not None and value not in choices:
            raise self.fail(k, f"unknown value {value!r}; valid: "
                               f"{', '.join(map(repr, choices))}.")
        return value

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise self.fail(key, f"must be a string or a list of strings; got {value!r}.")

    def expression(self, value: Any, key: str) -> Expression:
        try:
            return parse_expression(value)
        except ExpressionError as exc:
            raise self.fail(key, str(exc)) from None


def _join(key: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{key}[{name}]"
    return f"{key}.{name}" if key else name


def _kind_hint(key: str) -> str:
    if key.startswith("models"):
        return "a [[models]] entry"
    if key.startswith("published"):
        return "a [[published]] entry"
    if key.startswith("data.transforms"):
        return "a [[data.transforms]] entry"
    return f"[{key}]"


# ---------------------------------------------------------------- estimators
def _opt_str(c: _Checker, value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise c.fail(key, f"must be a column name (a non-empty string); got {value!r}.")
    return value


def _opt_formula(c: _Checker, value: Any, key: str) -> str:
    from ..formula import parse_formula

    if not isinstance(value, str):
        raise c.fail(key, f"must be a formula string such as 'y ~ x | unit + year'; got "
                          f"{value!r}.")
    try:
        parse_formula(value)
    except FormulaError as exc:
        raise c.fail(key, str(exc)) from None
    return value


def _opt_vcov(kind: str) -> Callable[[_Checker, Any, str], Any]:
    def check(c: _Checker, value: Any, key: str) -> Any:
        if isinstance(value, Mapping):
            value = dict(value)
        try:
            if kind == _LINEAR_VCOV:
                from ..inference.vcov import parse_vcov

                parse_vcov(value)
            else:
                from ..estimators._glm import parse_glm_vcov

                parse_glm_vcov(value)
        except SpecError as exc:
            msg = str(exc)
            if isinstance(value, str):
                msg = msg.replace(f"Unknown covariance type vcov={value!r}.",
                                  f"unknown covariance type {value!r}.")
            raise c.fail(key, msg) from None
        return value
    return check


def _opt_ssc(c: _Checker, value: Any, key: str) -> str:
    from ..inference.vcov import SSC_CONVENTIONS

    if value not in SSC_CONVENTIONS:
        raise c.fail(key, f"unknown small-sample convention {value!r}; valid: "
                          f"{', '.join(map(repr, SSC_CONVENTIONS))} (see docs/inference.md).")
    return str(value)


def _opt_choice(*choices: str) -> Callable[[_Checker, Any, str], str]:
    def check(c: _Checker, value: Any, key: str) -> str:
        if value not in choices:
            raise c.fail(key, f"unknown value {value!r}; valid: {', '.join(map(repr, choices))}.")
        return str(value)
    return check


def _opt_count(c: _Checker, value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise c.fail(key, f"must be a whole number 0, 1, 2, ...; got {value!r}.")
    return value


def _opt_exposure(c: _Checker, value: Any, key: str) -> str | bool:
    if value is False or (isinstance(value, str) and value.strip()):
        return value
    raise c.fail(key, f"must be a column name or false (no exposure); got {value!r}.")


def _opt_names(c: _Checker, value: Any, key: str) -> tuple[str, ...]:
    return c.strings(value, key)


def _opt_expression(c: _Checker, value: Any, key: str) -> Expression:
    return c.expression(value, key)


_Option = Callable[[_Checker, Any, str], Any]


@dataclass(frozen=True)
class _EstimatorSpec:
    required: tuple[str, ...]
    optional: Mapping[str, _Option]
    scales: tuple[str, ...]
    description: str


#: The estimators a study may use, with their options (see docs/studies.md).
ESTIMATORS: Mapping[str, _EstimatorSpec] = MappingProxyType({
    "feols": _EstimatorSpec(
        ("formula",),
        {"formula": _opt_formula, "vcov": _opt_vcov(_LINEAR_VCOV), "ssc": _opt_ssc,
         "weights": _opt_str, "singletons": _opt_choice("drop", "keep")},
        ("coef",), "cp.feols: OLS/WLS/2SLS with fixed effects"),
    "fepois": _EstimatorSpec(
        ("formula",),
        {"formula": _opt_formula, "vcov": _opt_vcov(_LINEAR_VCOV), "ssc": _opt_ssc,
         "weights": _opt_str, "exposure": _opt_exposure, "offset": _opt_str,
         "singletons": _opt_choice("drop", "keep")},
        ("coef", "rate_ratio"), "cp.fepois: Poisson with fixed effects and an exposure"),
    "fenegbin": _EstimatorSpec(
        ("formula",),
        {"formula": _opt_formula, "vcov": _opt_vcov(_GLM_VCOV), "exposure": _opt_exposure,
         "singletons": _opt_choice("drop", "keep")},
        ("coef", "rate_ratio"), "cp.fenegbin: negative binomial (NB2) with fixed effects"),
    "febinomial": _EstimatorSpec(
        ("formula", "trials"),
        {"formula": _opt_formula, "trials": _opt_str, "vcov": _opt_vcov(_GLM_VCOV),
         "dispersion": _opt_choice("fixed", "pearson"),
         "singletons": _opt_choice("drop", "keep")},
        ("coef", "odds_ratio"), "cp.febinomial: binomial logit GLM of events out of trials"),
    "between": _EstimatorSpec(
        ("formula",),
        {"formula": _opt_formula, "unit": _opt_str, "vcov": _opt_vcov(_LINEAR_VCOV),
         "ssc": _opt_ssc},
        ("coef",), "cp.between: OLS on unit means"),
    "first_difference": _EstimatorSpec(
        ("formula",),
        {"formula": _opt_formula, "unit": _opt_str, "time": _opt_str,
         "vcov": _opt_vcov(_LINEAR_VCOV), "ssc": _opt_ssc},
        ("coef",), "cp.first_difference: OLS on first differences"),
    "distributed_lag": _EstimatorSpec(
        (),
        {"outcome": _opt_str, "treatment": _opt_str, "lags": _opt_count, "leads": _opt_count,
         "family": _opt_choice("feols", "fepois"), "fe": _opt_names, "covariates": _opt_names,
         "vcov": _opt_vcov(_LINEAR_VCOV), "exposure": _opt_str},
        ("coef", "rate_ratio"), "cp.distributed_lag: lags and leads of the treatment"),
    "correlation": _EstimatorSpec(
        ("x", "y"),
        {"x": _opt_expression, "y": _opt_expression},
        ("coef",), "Pearson correlation of two expressions (complete rows), term 'r'"),
})
_MODEL_COMMON = ("id", "estimator", "label", "sample")
