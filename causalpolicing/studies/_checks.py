"""Key-path checking of study files, and the study-only estimator ``correlation``.

Split out of :mod:`causalpolicing.studies.schema` (which parses whole files):
:class:`StudyError` and the typed table accessor ``_Checker``. A study's models are
checked by the estimator registry (:mod:`causalpolicing.estimators.registry`), the
same one the analysis spec and the runners read; ``correlation`` is registered into
it, flagged study-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._hints import close_matches
from ..estimators import registry
from ..exceptions import SpecError
from .expressions import Expression, ExpressionError, parse_expression

__all__ = ["StudyError", "CORRELATION"]


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
            k = unknown[0]
            near = close_matches(k, allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
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
def _expression(value: Any) -> Expression:
    if isinstance(value, Expression):
        return value
    try:
        return parse_expression(value)
    except ExpressionError as exc:
        raise SpecError(str(exc)) from None


#: The study-only estimator ``correlation``, registered into the one estimator registry
#: (:mod:`causalpolicing.estimators.registry`) when the studies package is imported.
CORRELATION = registry.EstimatorEntry(
    "correlation", "causalpolicing.studies.correlation:correlation",
    (registry.Option("x", _expression, "an expression (e.g. \"log(deaths)\")",
                     kind="expression", required=True),
     registry.Option("y", _expression, "an expression", kind="expression", required=True)),
    None, False, False, False, None, "CorrelationResults", ("coef",),
    "Pearson correlation of two expressions (complete rows), term `r`; CI by Fisher's z",
    study_only=True)
registry.register(CORRELATION, replace=True)

#: Keys of a study's ``[[models]]`` table that are not estimator options.
_MODEL_COMMON = ("id", "estimator", "label", "sample")
