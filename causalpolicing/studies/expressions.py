"""A small, safe expression language for study files: derived variables and sample restrictions.

A study file may compute new columns (``post_mixtape = max(post, fillna(lead(post, 1), 0))``)
and restrict the sample (``year >= 1982 and lcrmrte > -5``). Such text comes from a file or
the command line, so it is **parsed, checked against a whitelist and interpreted** --
never passed to ``eval`` or ``exec``. Python's :mod:`ast` parses the text; every node
must be one of:

* names of columns (and the constants ``pi``, ``True``, ``False``),
* numbers and strings,
* arithmetic ``+ - * / ** %``, unary ``-`` / ``+``, comparisons ``== != < <= > >=``
  (chains such as ``1982 <= year <= 1985`` too), ``and``, ``or``, ``not``,
* calls of the functions in :data:`FUNCTIONS`, with positional arguments.

Anything else is refused with the construct named: attribute access (``x.y``),
subscripts (``x[0]``), lambdas, comprehensions, keyword or starred arguments,
literals of lists/tuples/dicts/sets, f-strings, conditional expressions, ``is``/``in``,
bitwise operators, assignments, and calls of anything not in the whitelist (so
``__import__('os')`` is refused before anything runs). Names starting with an
underscore are refused too.

Semantics (evaluated column-wise on a panel, one value per row):

* Numbers are floats; missing values are ``NaN`` and propagate through arithmetic,
  ``max``/``min`` and the functions. A comparison with a missing value is false.
* ``lag(x, k)``, ``lead(x, k)``, ``diff(x, k)`` work within unit on *periods*, not rows
  (as :meth:`causalpolicing.Panel.lag`): the value ``k`` periods earlier/later, missing
  when that period is not in the panel (e.g. ``lead(post, 1)`` is missing in the last year).
* The time column evaluates to the year for annual panels and to the decimal year
  (``2017.0``, ``2017.25``, ...) for quarterly, monthly, weekly or daily panels; the unit
  column to its values (compare with strings or numbers: ``canton == "ZH"``).
* ``log`` and ``sqrt`` refuse values outside their domain (naming how many rows), as
  the panel transforms do: nothing is silently repaired.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> from causalpolicing.studies.expressions import parse_expression, evaluate
>>> panel = cp.datasets.load("castle")
>>> expr = parse_expression("max(post, fillna(lead(post, 1), 0))")
>>> sorted(expr.names), sorted(expr.functions)
(['post'], ['fillna', 'lead', 'max'])
>>> values = evaluate(expr, panel)
>>> int(values.sum()), int(panel.column("post").sum())
(95, 74)
>>> parse_expression("__import__('os')")
Traceback (most recent call last):
...
causalpolicing.studies.expressions.ExpressionError: expression "__import__('os')": unknown function '__import__'; the functions are abs, cos, diff, exp, fillna, isin, isna, lag, lead, log, log1p, max, min, sin, sqrt, where.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data._messages import close_matches
from ..data.panel import Panel
from ..exceptions import SpecError

__all__ = ["ExpressionError", "Expression", "FUNCTIONS", "parse_expression", "evaluate"]

#: Longest expression accepted (characters) and largest number of syntax nodes.
MAX_LENGTH = 2000
MAX_NODES = 400


class ExpressionError(SpecError):
    """An expression in a study file is malformed, unsafe or cannot be evaluated."""


#: name -> (minimum, maximum number of arguments (None: any), one-line description)
FUNCTIONS: dict[str, tuple[int, int | None, str]] = {
    "abs": (1, 1, "absolute value"),
    "cos": (1, 1, "cosine (radians)"),
    "diff": (1, 2, "diff(x, k=1): x_t - x_(t-k) within unit"),
    "exp": (1, 1, "exponential"),
    "fillna": (2, 2, "fillna(x, value): x with missing values replaced by value"),
    "isin": (2, None, "isin(x, a, b, ...): true where x equals one of the values"),
    "isna": (1, 1, "true where x is missing"),
    "lag": (1, 2, "lag(x, k=1): x k periods earlier within unit"),
    "lead": (1, 2, "lead(x, k=1): x k periods later within unit"),
    "log": (1, 1, "natural log (refuses values <= 0)"),
    "log1p": (1, 1, "log(1 + x) (refuses values <= -1)"),
    "max": (2, None, "elementwise maximum of two or more values (missing propagates)"),
    "min": (2, None, "elementwise minimum of two or more values (missing propagates)"),
    "sin": (1, 1, "sine (radians)"),
    "sqrt": (1, 1, "square root (refuses negative values)"),
    "where": (3, 3, "where(condition, a, b): a where the condition holds, else b"),
}
CONSTANTS: dict[str, float | bool] = {"pi": math.pi, "True": True, "False": False}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
    ast.Pow: np.power, ast.Mod: np.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal,
    ast.Gt: np.greater, ast.GtE: np.greater_equal,
}
_REFUSED: dict[type, str] = {
    ast.Attribute: "attribute access ('x.y') is not allowed",
    ast.Subscript: "subscripts ('x[...]') are not allowed",
    ast.Lambda: "lambda functions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "list literals ('[...]') are not allowed",
    ast.Tuple: "tuples ('(a, b)') are not allowed",
    ast.Dict: "dict literals ('{...}') are not allowed",
    ast.Set: "set literals ('{...}') are not allowed",
    ast.Starred: "starred arguments ('*x') are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.IfExp: "conditional expressions ('a if c else b') are not allowed; use where(c, a, b)",
    ast.NamedExpr: "assignment expressions (':=') are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Slice: "slices are not allowed",
}
_OP_NAMES: dict[type, str] = {
    ast.BitAnd: "'&' (use 'and')", ast.BitOr: "'|' (use 'or')", ast.BitXor: "'^' (use '**' for powers)",
    ast.LShift: "'<<'", ast.RShift: "'>>'", ast.FloorDiv: "'//'", ast.MatMult: "'@'",
    ast.Invert: "'~' (use 'not')", ast.Is: "'is' (use '==' or isna())",
    ast.IsNot: "'is not' (use '!=' or isna())", ast.In: "'in' (use isin(x, a, b))",
    ast.NotIn: "'not in' (use not isin(x, a, b))",
}


@dataclass(frozen=True)
class Expression:
    """A parsed and checked expression.

    Attributes
    ----------
    text
        The expression as written.
    names
        The column names it reads.
    functions
        The functions it calls.
    """

    text: str
    names: frozenset[str]
    functions: frozenset[str]
    _tree: ast.Expression

    def __str__(self) -> str:
        return self.text


def _fail(text: str, message: str) -> ExpressionError:
    return ExpressionError(f"expression {text!r}: {message}")


def parse_expression(text: str) -> Expression:
    """Parse ``text`` and check every construct against the whitelist.

    Parameters
    ----------
    text
        The expression, e.g. ``"log(crmrte)"`` or ``"year >= 1982"``.

    Returns
    -------
    Expression
        The checked expression (evaluate it with :func:`evaluate`).

    Raises
    ------
    ExpressionError
        For syntax errors and any construct outside the whitelist, naming it.

    Examples
    --------
    >>> parse_expression("lag(offences, 2) / users").names == {"offences", "users"}
    True
    >>> parse_expression("x.__class__")
    Traceback (most recent call last):
    ...
    causalpolicing.studies.expressions.ExpressionError: expression 'x.__class__': attribute access ('x.y') is not allowed.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string; got {type(text).__name__} "
                              f"{text!r}.")
    if not text.strip():
        raise ExpressionError("an expression must not be empty.")
    if len(text) > MAX_LENGTH:
        raise _fail(text[:40] + "...", f"longer than {MAX_LENGTH} characters.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise _fail(text, f"not a valid expression{where} ({exc.msg}).") from None
    names: set[str] = set()
    functions: set[str] = set()
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    n_nodes = 0
    for node in ast.walk(tree):
        n_nodes += 1
        if n_nodes > MAX_NODES:
            raise _fail(text, f"too complex (more than {MAX_NODES} syntax nodes).")
        _check_node(node, text, names, functions, callees)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            _check_arguments(node, text)
    return Expression(text=text.strip(), names=frozenset(names), functions=frozenset(functions),
                      _tree=tree)


def _check_node(node: ast.AST, text: str, names: set[str], functions: set[str],
                callees: set[int]) -> None:
    kind = type(node)
    if kind in _REFUSED:
        raise _fail(text, f"{_REFUSED[kind]}.")
    if kind in _OP_NAMES:
        raise _fail(text, f"the operator {_OP_NAMES[kind]} is not allowed.")
    if isinstance(node, ast.Name):
        if id(node) in callees:  # a function's name, checked with its call
            return
        if node.id.startswith("_"):
            raise _fail(text, f"names starting with '_' are not allowed ({node.id!r}).")
        if node.id not in CONSTANTS:
            names.add(node.id)
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or isinstance(node.value, int | float | str):
            if isinstance(node.value, str) and len(node.value) > 200:
                raise _fail(text, "string constants are limited to 200 characters.")
            return
        raise _fail(text, f"the constant {node.value!r} ({type(node.value).__name__}) is not "
                          "allowed; use numbers or strings.")
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Lambda):
            raise _fail(text, f"{_REFUSED[ast.Lambda]}.")
        if not isinstance(node.func, ast.Name):
            what = "attribute access ('x.y')" if isinstance(node.func, ast.Attribute) else \
                "calling the result of an expression"
            raise _fail(text, f"{what} is not allowed; call one of the functions directly: "
                              f"{', '.join(FUNCTIONS)}.")
        name = node.func.id
        if name not in FUNCTIONS:
            raise _fail(text, f"unknown function {name!r}; the functions are "
                              f"{', '.join(FUNCTIONS)}.")
        if node.keywords:
            raise _fail(text, f"keyword arguments are not allowed ({name}(..., "
                              f"{node.keywords[0].arg}=...)); pass arguments by position.")
        functions.add(name)
        return
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Load,
               ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, *_BINOPS, *_CMPOPS)
    if not isinstance(node, allowed):
        raise _fail(text, f"the construct {kind.__name__} is not allowed.")


def _check_arguments(node: ast.Call, text: str) -> None:
    """Numbers of arguments and the shift orders (after every construct passed the whitelist)."""
    name = node.func.id  # type: ignore[attr-defined]
    lo, hi, desc = FUNCTIONS[name]
    n = len(node.args)
    if n < lo or (hi is not None and n > hi):
        want = str(lo) if hi == lo else (f"{lo} to {hi}" if hi is not None else f"{lo} or more")
        raise _fail(text, f"{name}() takes {want} argument(s), got {n}: {desc}.")
    if name in ("lag", "lead", "diff") and n == 2:
        k = node.args[1]
        if not (isinstance(k, ast.Constant) and isinstance(k.value, int)
                and not isinstance(k.value, bool) and k.value >= 1):
            raise _fail(text, f"{name}(x, k): k must be a whole number 1, 2, ... written "
                              "as a number.")


# ====================================================================== evaluation
class _Context:
    """The columns of a panel as numpy arrays, plus the (unit, period) lookup for shifts."""

    def __init__(self, frame: pd.DataFrame, unit: str, time: str, freq: str | None) -> None:
        self.frame = frame
        self.unit = unit
        self.time = time
        self.freq = freq
        self.n = len(frame)
        self._keys: tuple[np.ndarray, np.ndarray] | None = None

    def column(self, name: str, text: str) -> np.ndarray:
        if name in CONSTANTS:
            value = CONSTANTS[name]
            return np.full(self.n, value, dtype=bool if isinstance(value, bool) else float)
        if name not in self.frame.columns:
            hint = close_matches(name, self.frame.columns)
            raise _fail(text, f"unknown column {name!r}"
                        + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else
                           "; columns: " + ", ".join(map(str, list(self.frame.columns)[:30]))
                           + ("..." if len(self.frame.columns) > 30 else "") + "."))
        s = self.frame[name]
        if name == self.time and isinstance(s.dtype, pd.PeriodDtype):
            return _decimal_year(s)
        if pd.api.types.is_bool_dtype(s):
            return s.to_numpy(dtype=bool)
        if pd.api.types.is_numeric_dtype(s):
            return s.to_numpy(dtype=float, na_value=np.nan)
        return s.to_numpy(dtype=object)

    def shift(self, x: np.ndarray, k: int) -> np.ndarray:
        """``x`` at period ``t - k`` of the same unit (``k < 0``: later); NaN when absent."""
        if self._keys is None:
            codes, _ = pd.factorize(self.frame[self.unit], sort=True)
            t = self.frame[self.time]
            if isinstance(t.dtype, pd.PeriodDtype):
                ords = t.array.asi8.astype(np.int64)
            elif pd.api.types.is_integer_dtype(t.dtype):
                ords = t.to_numpy(dtype=np.int64)
            else:
                raise ExpressionError(
                    f"lag/lead/diff need integer periods or pandas Periods in the time column "
                    f"{self.time!r}; got {t.dtype}.")
            self._keys = (codes.astype(np.int64), ords)
        codes, ords = self._keys
        index = pd.MultiIndex.from_arrays([codes, ords])
        pos = index.get_indexer(pd.MultiIndex.from_arrays([codes, ords - k]))
        xf = np.asarray(x, dtype=float)
        return np.where(pos >= 0, xf[np.maximum(pos, 0)], np.nan)


def _decimal_year(s: pd.Series) -> np.ndarray:
    """Annual periods: the year; finer periods: year + fraction of the year elapsed."""
    freq = s.dt.freq
    start = s.dt.start_time
    years = start.dt.year.to_numpy(dtype=float)
    if str(freq).startswith(("Y", "A")):
        return years
    begin = pd.to_datetime(start.dt.year.astype(str) + "-01-01")
    length = np.where(start.dt.is_leap_year, 366.0, 365.0)
    return years + (start - begin).dt.days.to_numpy(dtype=float) / length


def _is_text(x: Any) -> bool:
    return isinstance(x, str) or (isinstance(x, np.ndarray) and x.dtype == object)


def _num(x: Any, text: str, what: str) -> Any:
    if _is_text(x):
        raise _fail(text, f"{what} needs numbers, but got text values.")
    if isinstance(x, np.ndarray):
        return x.astype(float)
    return float(x)


def _cond(x: Any, text: str, what: str) -> Any:
    if isinstance(x, np.ndarray) and x.dtype == bool or isinstance(x, bool | np.bool_):
        return x
    raise _fail(text, f"{what} needs a condition (a comparison such as 'year >= 1982'); got "
                      "numbers or text.")


def _eval(node: ast.AST, ctx: _Context, text: str) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, ctx, text)
    if isinstance(node, ast.Constant):
        v = node.value
        return v if isinstance(v, bool | str) else float(v)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        return ctx.column(node.id, text)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, ctx, text)
        if isinstance(node.op, ast.Not):
            return np.logical_not(_cond(v, text, "'not'"))
        v = _num(v, text, "a sign")
        return -v if isinstance(node.op, ast.USub) else +v
    if isinstance(node, ast.BinOp):
        a = _num(_eval(node.left, ctx, text), text, "arithmetic")
        b = _num(_eval(node.right, ctx, text), text, "arithmetic")
        with np.errstate(all="ignore"):
            return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.BoolOp):
        values = [_cond(_eval(v, ctx, text), text, "'and'/'or'") for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = fn(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, ctx, text)
        out: Any = True
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, ctx, text)
            if _is_text(left) != _is_text(right):
                raise _fail(text, "cannot compare text with numbers (a column holding text, "
                                  "such as a unit code read as text, compares with strings: "
                                  "write canton == \"ZH\" or sid == \"5\").")
            with np.errstate(invalid="ignore"):
                out = np.logical_and(out, _CMPOPS[type(op)](left, right))
            left = right
        return out
    if isinstance(node, ast.Call):
        return _call(node, ctx, text)
    raise _fail(text, f"the construct {type(node).__name__} is not allowed.")  # pragma: no cover


def _call(node: ast.Call, ctx: _Context, text: str) -> Any:
    name = node.func.id  # type: ignore[attr-defined]  (checked at parse time)
    if name in ("lag", "lead", "diff"):
        x = _num(_eval(node.args[0], ctx, text), text, f"{name}()")
        x = np.broadcast_to(x, (ctx.n,))
        k = int(node.args[1].value) if len(node.args) == 2 else 1  # type: ignore[attr-defined]
        if name == "lag":
            return ctx.shift(x, k)
        if name == "lead":
            return ctx.shift(x, -k)
        return x - ctx.shift(x, k)
    args = [_eval(a, ctx, text) for a in node.args]
    if name == "isin":
        x = args[0]
        out = np.zeros(np.shape(x), dtype=bool)
        for v in args[1:]:
            if _is_text(x) or _is_text(v):
                out = out | (np.asarray(x, dtype=object) == v)
            else:
                out = out | np.equal(x, v)
        return out
    if name == "isna":
        x = args[0]
        if _is_text(x):
            return pd.isna(np.asarray(x, dtype=object))
        return np.isnan(np.asarray(x, dtype=float))
    if name == "where":
        cond = _cond(args[0], text, "where()")
        return np.where(cond, _num(args[1], text, "where()"), _num(args[2], text, "where()"))
    if name == "fillna":
        x = _num(args[0], text, "fillna()")
        v = _num(args[1], text, "fillna()")
        return np.where(np.isnan(x), v, x)
    if name in ("max", "min"):
        vals = [_num(a, text, f"{name}()") for a in args]
        fn = np.maximum if name == "max" else np.minimum
        out = vals[0]
        for v in vals[1:]:
            out = fn(out, v)
        return out
    x = _num(args[0], text, f"{name}()")
    with np.errstate(all="ignore"):
        if name == "log":
            _domain(x, x <= 0, text, "log() of values <= 0", "use log1p(x) or restrict the sample")
            return np.log(x)
        if name == "log1p":
            _domain(x, x <= -1, text, "log1p() of values <= -1", "restrict the sample")
            return np.log1p(x)
        if name == "sqrt":
            _domain(x, x < 0, text, "sqrt() of negative values", "restrict the sample")
            return np.sqrt(x)
        return {"abs": np.abs, "exp": np.exp, "sin": np.sin, "cos": np.cos}[name](x)


def _domain(x: Any, bad: Any, text: str, what: str, fix: str) -> None:
    bad = np.asarray(bad)
    if bad.any():
        n = int(bad.sum())
        example = np.asarray(x).reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]]
        raise _fail(text, f"{what} in {n} row(s) (e.g. {float(example)!r}); {fix}.")


def evaluate(expr: Expression | str, data: Any) -> np.ndarray:
    """Evaluate ``expr`` on every row of ``data`` (a Panel).

    Parameters
    ----------
    expr
        An :class:`Expression` (or text, parsed first).
    data
        A :class:`causalpolicing.Panel`: lags and leads need its unit and periods.

    Returns
    -------
    numpy.ndarray
        One value per row: floats for arithmetic, booleans for conditions.

    Raises
    ------
    ExpressionError
        For unknown columns, text in arithmetic, or values outside a function's domain.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("nc_crime")
    >>> keep = evaluate("year >= 1985 and county == '1'", panel)
    >>> int(keep.sum())
    3
    """
    if not isinstance(expr, Expression):
        expr = parse_expression(expr)
    if not isinstance(data, Panel):
        raise ExpressionError(f"expressions are evaluated on a causalpolicing Panel; got "
                              f"{type(data).__name__}.")
    ctx = _Context(data.to_frame(), data.unit, data.time, data.freq)
    out = _eval(expr._tree, ctx, expr.text)
    out = np.asarray(out)
    if out.dtype == object:
        raise _fail(expr.text, "the result is text; an expression must give numbers or a "
                               "condition.")
    return np.broadcast_to(out, (ctx.n,)).copy()
