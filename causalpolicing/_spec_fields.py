"""Field validators of the analysis spec: each checks one value and names its key path.

``spec.py`` (the spec's tables) and ``analysis/overrides.py`` (the command line's
model options) validate with these, so a value means the same from a TOML file,
a Python mapping and the command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._hints import did_you_mean
from .exceptions import FormulaError, SpecError
from .formula import parse_formula, quote_name


def _fail(path: str, message: str) -> SpecError:
    return SpecError(f"{path}: {message}")


def _check_keys(raw: Any, allowed: Sequence[str], path: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(path, f"expected a table (mapping), got {type(raw).__name__} {raw!r}.")
    for key in raw:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            raise _fail(path, f"unknown key {key!r}{hint}; allowed keys: "
                              f"{', '.join(sorted(allowed))}.")
    return dict(raw)


def _str(value: Any, path: str, *, allowed: Sequence[str] | None = None,
         optional: bool = True) -> str | None:
    if value is None:
        if optional:
            return None
        raise _fail(path, "is required.")
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"expected a non-empty string, got {value!r}.")
    if allowed is not None and value not in allowed:
        hint = did_you_mean(value, allowed)
        raise _fail(path, f"{value!r} is not allowed{hint}; allowed: {', '.join(allowed)}.")
    return value


def _str_list(value: Any, path: str, *, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _fail(path, f"expected a string or a list of strings, got {value!r}.")
    return tuple(_str(v, f"{path}[{i}]", allowed=allowed, optional=False)  # type: ignore[misc]
                 for i, v in enumerate(value))


def _int(value: Any, path: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(path, f"expected an integer >= {minimum}, got {value!r}.")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(path, f"expected true or false, got {value!r}.")
    return value


def _read_options(value: Any, path: str) -> dict[str, Any] | None:
    """Reader options: a table of names to strings, integers, numbers or booleans."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected a table of reader options, e.g. read_options = "
                          f"{{thousands = \",\"}}; got {value!r}.")
    for key, v in value.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise _fail(path, f"option names are identifiers like 'thousands'; got {key!r}.")
        if not isinstance(v, (str, int, float, bool)):
            raise _fail(f"{path}.{key}", f"expected a string, number or true/false, got {v!r}.")
    return dict(value)


def _time_format(value: Any, path: str) -> str | None:
    fmt = _str(value, path)
    if fmt is not None and "%" not in fmt:
        raise _fail(path, f"expected a strptime format such as \"%d.%m.%Y\" or \"%Y-%m\", "
                          f"got {fmt!r}.")
    return fmt


def _fe(value: Any, path: str) -> tuple[str, ...] | None:
    """Fixed effects: names, ``"a + b"`` or ``"a^b"`` (interacted), checked by the formula grammar.

    Names that are not identifiers are back-quoted (```my unit```). ``None`` (or an
    empty list): the default fixed effects.
    """
    terms: list[str] = []
    for i, item in enumerate(_str_list(value, path)):
        for part in item.split("+"):
            names = [n.strip() for n in part.split("^")]
            if not all(names):
                raise _fail(f"{path}[{i}]", f"expected column names joined by '+' or '^', "
                                            f"got {item!r}.")
            terms.append("^".join(n if n.startswith("`") else quote_name(n) for n in names))
    if terms:
        try:
            parse_formula(f"y ~ x | {' + '.join(terms)}")
        except FormulaError as exc:
            raise _fail(path, str(exc)) from None
    return tuple(terms) or None


def _vcov(value: Any, path: str) -> str | dict[str, Any] | None:
    """A covariance some model family takes (each model's family checks it again).

    Validated with the covariance registry itself (one source of truth for the names).
    """
    if value is None:
        return None
    from .inference.vcov import VCOV_FAMILIES, check_vcov

    first: SpecError | None = None
    for family in VCOV_FAMILIES:
        try:
            check_vcov(value, family=family)
            break
        except SpecError as exc:
            first = first or exc
    else:
        raise _fail(path, str(first)) from None
    return value if isinstance(value, str) else {k: v for k, v in dict(value).items()}


def _never_treated(value: Any, path: str) -> Any:
    """The never-treated marker(s): a number or a string, or a list of them (a tuple)."""
    if value is None:
        return None
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        raise _fail(path, "is empty; give the value(s) marking never-treated units, e.g. 0.")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise _fail(path, f"expected a number or a string (or a list of them), got {v!r}.")
    return tuple(items) if isinstance(value, list | tuple) else value
