r"""Model formulas in the fixest/pyfixest style, parsed (never evaluated).

Grammar (``[...]`` optional, ``*`` repeated)::

    formula  := lhs "~" rhs [ "|" fixef ] [ "|" ivpart ]
    lhs      := factor
    rhs      := term ( ("+" | "-") term )*          (terms "0", "1", "-1", "+0")
    term     := factor ( ":" factor )* | indicator   (":" is the product)
    factor   := name | func "(" name ")"
    indicator:= "i" "(" name [ "," name ] [ "," "ref" "=" levels ] ")"
    levels   := level | "[" level ( "," level )* "]"
    level    := [ "-" ] number | name | "quoted text"
    fixef    := fe ( "+" fe )*                       (or "0" for none)
    fe       := name ( "^" name )*                   ("^" interacts fixed effects)
    ivpart   := term ( "+" term )* "~" term ( "+" term )*
    name     := identifier | `back-ticked name`
    func     := one of log, log1p, exp, sqrt, abs

Only names and the whitelisted functions exist: a formula read from a file or
the command line cannot run code. Structural mistakes raise
:class:`~causalpolicing.exceptions.FormulaError` naming the position and what was
expected.

Names. An *identifier* is a Python identifier in which ``.`` may also appear
(``deaths``, ``rate.2020``, ``Todesfälle``: unicode letters need no quoting). Any
other column name is written between back-ticks, as in fixest and pyfixest:
``` `log(y)` ~ `C(x)` + w | `canton name` + year ```. A back-ticked name is
always a plain column name, never a function call or an operator, so a column
called ``log(y)`` and the transform ``log(y)`` of a column ``y`` are told
apart. Inside back-ticks, ``\``` stands for a back-tick and ``\\`` for a
backslash (any other backslash is literal). :func:`quote_name` writes a column
name for a formula (back-ticked only when needed) and is what every formula the
toolkit builds for the user goes through.

Indicators. ``i(rel, ref=-1)`` (fixest, pyfixest) expands, when the model is
fitted, into one 0/1 column per level of ``rel`` except the reference level(s)
(``ref=[-1, -5]`` for several; without ``ref`` the first level is the reference,
as in pyfixest), named ``rel::-2``, ``rel::0``, ... Levels are sorted (numbers
numerically); ``rel`` may hold numbers or text (``ref="a"``). ``i(rel, x)``
interacts the indicators with ``x``: a numeric ``x`` gives the slopes
``rel::-2:x``; a text ``x`` one indicator per pair of levels (``rel::-2:x::a``).
Rows where ``rel`` (or ``x``) is missing are dropped. ``i()`` is a regressor only.

Coefficient names. A term that is one column without a function is named by the
column itself (``log(y)`` for `` `log(y)` ``, as pyfixest names it); other terms by
their formula text (``log(w)``, ``x:`a b` ``). Two terms that would get the same
name (the column `` `log(y)` `` next to the transform ``log(y)``) are an error.

Examples
--------
>>> from causalpolicing.formula import parse_formula
>>> f = parse_formula("y ~ x + log(w) | unit + year")
>>> f.depvar.name, [t.name for t in f.exog], f.fixed_effects
('y', ['x', 'log(w)'], (('unit',), ('year',)))
>>> str(parse_formula("y ~ w | unit^region + year | x1 + x2 ~ z1 + z2"))
'y ~ w | unit^region + year | x1 + x2 ~ z1 + z2'
>>> parse_formula("y ~ x + w").intercept
True
>>> g = parse_formula("`Todesfälle (n)` ~ `C(x)` + Jahr | `Kanton name`")
>>> g.depvar.name, [t.name for t in g.exog], g.fixed_effects
('Todesfälle (n)', ['C(x)', 'Jahr'], (('Kanton name',),))
>>> str(g)
'`Todesfälle (n)` ~ `C(x)` + Jahr | `Kanton name`'
>>> e = parse_formula("y ~ i(rel, ref=[-1, -5]) + w | unit + year")
>>> e.exog[0].var, e.exog[0].ref, str(e)
('rel', (-1, -5), 'y ~ i(rel, ref=[-1, -5]) + w | unit + year')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .exceptions import FormulaError

__all__ = ["Factor", "Term", "Indicator", "Formula", "parse_formula", "quote_name",
           "is_plain_name", "FUNCTIONS"]

#: The functions a formula may apply to a column (numpy equivalents are used).
FUNCTIONS: tuple[str, ...] = ("log", "log1p", "exp", "sqrt", "abs")

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<bq>`(?:[^`\\]|\\.)*`)
  | (?P<name>(?:[^\W\d]|\.)[\w.]*)
  | (?P<num>[0-9]+(?:\.[0-9]*)?)
  | (?P<str>"[^"\n]*"|'[^'\n]*')
  | (?P<op>[~|+\-:^(),=\[\]])
    """,
    re.VERBOSE | re.DOTALL,
)
_PLAIN_RE = re.compile(r"(?:[^\W\d]|\.)[\w.]*")  # the grammar's name token
_UNESCAPE = re.compile(r"\\([`\\])")
_NEEDS_ESCAPE = re.compile(r"([`\\])")


def is_plain_name(name: str) -> bool:
    """Whether ``name`` can stand in a formula without back-ticks.

    Plain names are Python identifiers in which ``.`` may also appear (as in R):
    ``deaths``, ``rate.2020``, ``Todesfälle``. Names of numbers (``2020``),
    with spaces, operators or parentheses are not.

    Examples
    --------
    >>> [is_plain_name(n) for n in ["deaths", "Todesfälle", "rate.2020", "C(x)", "2020", "a b"]]
    [True, True, True, False, False, False]
    >>> is_plain_name("A·")  # an identifier, but not a name token: back-ticked
    False
    """
    if not isinstance(name, str) or not name or name[0].isdigit():
        return False
    # both an identifier and one name token of the grammar: some identifier characters
    # (the middle dot '·', combining marks) are not word characters for the tokenizer
    return name.replace(".", "_").isidentifier() and _PLAIN_RE.fullmatch(name) is not None


def quote_name(name: str) -> str:
    """A column name written for a formula: as is when plain, else between back-ticks.

    Every formula the toolkit builds for the user (default models, the causal
    step, diagnostics, refuters) writes its column names with this function, so
    any column name a loader accepts can be used. Parsing the result gives back
    the column: ``parse_formula(f"{quote_name(c)} ~ 1").depvar.name == c``.

    Parameters
    ----------
    name
        A column name (any non-empty string).

    Raises
    ------
    FormulaError
        If ``name`` is not a non-empty string, or is only white space.

    Examples
    --------
    >>> quote_name("deaths"), quote_name("Todesfälle")
    ('deaths', 'Todesfälle')
    >>> print(quote_name("Kanton name"), quote_name("log(y)"), quote_name("2020"))
    `Kanton name` `log(y)` `2020`
    >>> print(quote_name("a`b"))
    `a\\`b`
    """
    if not isinstance(name, str) or not name.strip():
        raise FormulaError(
            f"A column name in a formula must be a non-empty string; got {name!r}. "
            "Rename the column (e.g. with DataFrame.rename) before using it in a model."
        )
    if is_plain_name(name):
        return name
    return "`" + _NEEDS_ESCAPE.sub(r"\\\1", name) + "`"


@dataclass(frozen=True)
class Factor:
    """One column, optionally wrapped in a whitelisted function."""

    column: str
    func: str | None = None

    @property
    def name(self) -> str:
        """The factor as written in a formula (the column back-ticked when needed)."""
        col = quote_name(self.column)
        return f"{self.func}({col})" if self.func else col


@dataclass(frozen=True)
class Term:
    """A regressor: one factor or the product of several (``x:w``)."""

    factors: tuple[Factor, ...]

    @property
    def name(self) -> str:
        """The coefficient name: the column itself for one column without a function,
        else the formula text (``log(w)``, ``x:`a b```)."""
        if len(self.factors) == 1 and self.factors[0].func is None:
            return self.factors[0].column
        return self.text

    @property
    def text(self) -> str:
        """The term as written in a formula (names back-ticked when needed)."""
        return ":".join(f.name for f in self.factors)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.column for f in self.factors))


@dataclass(frozen=True)
class Indicator(Term):
    """``i(var, ref=...)`` / ``i(var, by, ref=...)``: indicators of the levels of ``var``.

    Expanded into one column per level (but the reference) when the model is
    fitted (:mod:`causalpolicing.estimators._indicators`); ``factors`` holds
    ``var`` (and ``by``) so that column checks see them.

    Attributes
    ----------
    var
        The column whose levels get indicators.
    by
        A column interacted with them (numeric: slopes; text: indicators), or None.
    ref
        The reference level(s), dropped; empty: the first level.
    """

    var: str = ""
    by: str | None = None
    ref: tuple[int | float | str, ...] = ()

    @property
    def name(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        args = [quote_name(self.var)]
        if self.by is not None:
            args.append(quote_name(self.by))
        if self.ref:
            refs = [repr(r) if isinstance(r, str) else str(r) for r in self.ref]
            args.append("ref=" + (refs[0] if len(refs) == 1 else f"[{', '.join(refs)}]"))
        return f"i({', '.join(args)})"


@dataclass(frozen=True)
class Formula:
    """A parsed model formula.

    Attributes
    ----------
    depvar
        The dependent variable.
    exog
        Exogenous regressors (in order; no intercept term).
    fixed_effects
        Fixed effects; each is a tuple of column names (more than one: interacted).
    endog, instruments
        Endogenous regressors and excluded instruments (IV), empty otherwise.
    intercept
        Whether an intercept is requested. With fixed effects the intercept is
        absorbed and not estimated.
    """

    depvar: Term
    exog: tuple[Term, ...] = ()
    fixed_effects: tuple[tuple[str, ...], ...] = ()
    endog: tuple[Term, ...] = ()
    instruments: tuple[Term, ...] = ()
    intercept: bool = True

    @property
    def is_iv(self) -> bool:
        return bool(self.endog)

    @property
    def fe_names(self) -> tuple[str, ...]:
        """Fixed effects as strings (``unit``, ``unit^region``)."""
        return tuple("^".join(fe) for fe in self.fixed_effects)

    def _fe_printed(self) -> tuple[str, ...]:
        return tuple("^".join(quote_name(c) for c in fe) for fe in self.fixed_effects)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every data column the formula uses, in order of first use."""
        cols: list[str] = list(self.depvar.columns)
        for t in (*self.exog, *self.endog, *self.instruments):
            cols.extend(t.columns)
        for fe in self.fixed_effects:
            cols.extend(fe)
        return tuple(dict.fromkeys(cols))

    def __str__(self) -> str:
        rhs = [t.text for t in self.exog]
        if not self.intercept:
            rhs.append("0")
        if not rhs:
            rhs = ["1"]
        parts = [f"{self.depvar.text} ~ {' + '.join(rhs)}"]
        if self.fixed_effects:
            parts.append(" + ".join(self._fe_printed()))
        if self.endog:
            parts.append(
                " + ".join(t.text for t in self.endog)
                + " ~ "
                + " + ".join(t.text for t in self.instruments)
            )
        return " | ".join(parts)


# ------------------------------------------------------------------- tokenizer
@dataclass(frozen=True)
class _Tok:
    kind: str  # name, num, op, end
    value: str
    pos: int
    quoted: bool = False  # a back-ticked name: always a column, never a function


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None and text[pos] == "`":
            raise FormulaError(
                f"Unclosed back-tick at position {pos} in formula {text!r}: a back-ticked "
                "column name ends with a second back-tick (write \\` for a back-tick inside it)."
            )
        if m is None:
            raise FormulaError(
                f"Unexpected character {text[pos]!r} at position {pos} in formula {text!r}. "
                "Formulas may contain column names, `back-ticked names`, the operators "
                "~ | + - : ^, the functions " + ", ".join(FUNCTIONS) + " and i(var, ref=...)."
            )
        kind = m.lastgroup or ""
        if kind == "bq":
            name = _UNESCAPE.sub(r"\1", m.group()[1:-1])
            if not name.strip():
                raise FormulaError(f"Empty back-ticked name at position {pos} in {text!r}.")
            toks.append(_Tok("name", name, pos, quoted=True))
        elif kind == "name" and not is_plain_name(m.group()):
            raise FormulaError(
                f"The name {m.group()!r} at position {pos} in formula {text!r} is not an "
                f"identifier; write it between back-ticks: {quote_name(m.group())}."
            )
        elif kind == "str":
            toks.append(_Tok("str", m.group()[1:-1], pos))
        elif kind != "ws":
            toks.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    # helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def error(self, expected: str) -> FormulaError:
        t = self.tok
        got = "the end of the formula" if t.kind == "end" else repr(t.value)
        return FormulaError(
            f"In formula {self.text!r} at position {t.pos}: expected {expected}, got {got}. "
            "The form is 'y ~ x + w | fe1 + fe2 | endog ~ instrument'."
        )

    def accept(self, value: str) -> bool:
        if self.tok.kind == "op" and self.tok.value == value:
            self.i += 1
            return True
        return False

    def expect(self, value: str, expected: str) -> None:
        if not self.accept(value):
            raise self.error(expected)

    def at(self, *values: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in values

    # grammar
    def factor(self) -> Factor:
        t = self.tok
        if t.kind != "name":
            raise self.error("a column name")
        self.i += 1
        if self.at("(") and not t.quoted:
            if t.value not in FUNCTIONS:
                self.i -= 1
                raise FormulaError(
                    f"In formula {self.text!r} at position {t.pos}: unknown function "
                    f"{t.value!r}. Allowed functions: {', '.join(FUNCTIONS)} (and "
                    "i(var, ref=...) for indicators). Create other "
                    "transformed columns in the data first (e.g. with Panel transforms)."
                )
            self.i += 1
            inner = self.tok
            if inner.kind != "name":
                raise self.error(f"a column name inside {t.value}(...)")
            self.i += 1
            self.expect(")", f"')' closing {t.value}(")
            return Factor(inner.value, t.value)
        return Factor(t.value)

    def indicator(self) -> Indicator:
        start = self.tok
        self.i += 2  # "i" "("
        names: list[str] = []
        ref: tuple[int | float | str, ...] = ()
        while True:
            t = self.tok
            if t.kind == "name" and not t.quoted and t.value == "ref" and self.toks[
                    self.i + 1].kind == "op" and self.toks[self.i + 1].value == "=":
                self.i += 2
                ref = self.levels()
                break
            if t.kind != "name" or len(names) == 2:
                raise self.error("a column name or ref=... inside i(...)" if len(names) < 2
                                 else "ref=... or ')' (i() takes a variable and at most one "
                                      "column to interact)")
            names.append(t.value)
            self.i += 1
            if not self.accept(","):
                break
        self.expect(")", "')' closing i(")
        if not names:
            raise FormulaError(f"In formula {self.text!r} at position {start.pos}: i() needs "
                               "the column whose levels get indicators, e.g. i(rel, ref=-1).")
        if len(set(ref)) != len(ref):
            raise FormulaError(f"In formula {self.text!r}: i() lists a reference level twice.")
        by = names[1] if len(names) > 1 else None
        return Indicator(tuple(Factor(n) for n in names), var=names[0], by=by, ref=ref)

    def levels(self) -> tuple[int | float | str, ...]:
        if self.accept("["):
            out = [self.level()]
            while self.accept(","):
                out.append(self.level())
            self.expect("]", "']' closing the list of reference levels")
            return tuple(out)
        return (self.level(),)

    def level(self) -> int | float | str:
        negative = self.accept("-")
        t = self.tok
        if t.kind == "num":
            self.i += 1
            value: int | float = float(t.value) if "." in t.value else int(t.value)
            return -value if negative else value
        if not negative and t.kind in ("str", "name"):
            self.i += 1
            return t.value
        raise self.error("a reference level (a number, a name or \"quoted text\")")

    def term(self) -> Term:
        t = self.tok
        if t.kind == "name" and not t.quoted and t.value == "i" and self.toks[
                self.i + 1].kind == "op" and self.toks[self.i + 1].value == "(":
            ind = self.indicator()
            if self.at(":"):
                raise self.error("'+' after i(...) (interact inside it: i(var, other))")
            return ind
        factors = [self.factor()]
        while self.accept(":"):
            factors.append(self.factor())
        return Term(tuple(factors))

    def rhs(self) -> tuple[tuple[Term, ...], bool]:
        terms: list[Term] = []
        intercept = True
        sign = "+"
        first = True
        while True:
            if not first or self.at("-"):
                if self.accept("+"):
                    sign = "+"
                elif self.accept("-"):
                    sign = "-"
                elif not first:
                    break
            first = False
            if self.tok.kind == "num":
                if self.tok.value not in ("0", "1"):
                    raise self.error("a column name, 0 or 1")
                one = self.tok.value == "1"
                self.i += 1
                intercept = one if sign == "+" else not one
                continue
            if sign == "-":
                raise self.error("0 or 1 after '-' (removing terms is not supported)")
            t = self.term()
            if t in terms:
                raise FormulaError(f"The term {t.name!r} appears twice in formula {self.text!r}.")
            terms.append(t)
        return tuple(terms), intercept

    def terms_plus(self, what: str) -> tuple[Term, ...]:
        terms = [self.term()]
        while self.accept("+"):
            terms.append(self.term())
        names = [t.name for t in terms]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise FormulaError(f"{what} {sorted(dup)} appear twice in formula {self.text!r}.")
        return tuple(terms)

    def fixef(self) -> tuple[tuple[str, ...], ...]:
        if self.tok.kind == "num" and self.tok.value == "0":
            self.i += 1
            return ()
        fes: list[tuple[str, ...]] = []
        while True:
            if self.tok.kind != "name":
                raise self.error("a fixed-effect column name")
            names = [self.tok.value]
            self.i += 1
            while self.accept("^"):
                if self.tok.kind != "name":
                    raise self.error("a column name after '^'")
                names.append(self.tok.value)
                self.i += 1
            fe = tuple(names)
            if fe in fes:
                raise FormulaError(
                    f"The fixed effect {'^'.join(fe)!r} appears twice in {self.text!r}."
                )
            fes.append(fe)
            if not self.accept("+"):
                break
        return tuple(fes)

    def is_iv_part(self) -> bool:
        j = self.i
        while self.toks[j].kind != "end" and not (
            self.toks[j].kind == "op" and self.toks[j].value == "|"
        ):
            if self.toks[j].kind == "op" and self.toks[j].value == "~":
                return True
            j += 1
        return False

    def parse(self) -> Formula:
        if self.tok.kind == "end":
            raise self.error("a dependent variable")
        lhs = self.term()
        if len(lhs.factors) != 1 or isinstance(lhs, Indicator):
            raise FormulaError(f"The dependent variable of {self.text!r} must be one column.")
        self.expect("~", "'~' after the dependent variable")
        exog, intercept = self.rhs()
        fixef: tuple[tuple[str, ...], ...] = ()
        endog: tuple[Term, ...] = ()
        instr: tuple[Term, ...] = ()
        if self.accept("|"):
            if self.is_iv_part():
                endog, instr = self.iv_part()
            else:
                fixef = self.fixef()
                if self.accept("|"):
                    if not self.is_iv_part():
                        raise self.error("an IV part 'endog ~ instruments' after the second '|'")
                    endog, instr = self.iv_part()
        if self.tok.kind != "end":
            if self.at("~"):
                raise self.error("'|' or the end of the formula (only one '~' per part)")
            raise self.error("'+', '|' or the end of the formula")
        seen: dict[str, Term] = {}
        for t in (*exog, *endog, *instr):
            other = seen.setdefault(t.name, t)
            if other != t:
                raise FormulaError(
                    f"The terms {other.text} and {t.text} of {self.text!r} would both be named "
                    f"{t.name!r}; rename the column (e.g. with DataFrame.rename) so that "
                    "coefficient names stay unique."
                )
        all_rhs = [t.name for t in (*exog, *endog)]
        clash = {t.name for t in instr} & set(all_rhs)
        if clash:
            raise FormulaError(
                f"{sorted(clash)} appear both as regressors and as excluded instruments "
                f"in {self.text!r}; an exogenous regressor instruments itself automatically."
            )
        if any(isinstance(t, Indicator) for t in (*endog, *instr)):
            raise FormulaError(f"i() is allowed among the exogenous regressors only, not in the "
                               f"IV part of {self.text!r}; build the indicator columns first.")
        twice = {t.name for t in endog} & {t.name for t in exog}
        if twice:
            raise FormulaError(
                f"{sorted(twice)} appear both as exogenous and as endogenous in {self.text!r}."
            )
        return Formula(lhs, exog, fixef, endog, instr, intercept)

    def iv_part(self) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
        endog = self.terms_plus("Endogenous regressors")
        self.expect("~", "'~' between endogenous regressors and instruments")
        instr = self.terms_plus("Instruments")
        return endog, instr


def parse_formula(formula: str | Formula) -> Formula:
    """Parse a fixest-style formula string into a :class:`Formula`.

    Parameters
    ----------
    formula
        E.g. ``"y ~ x + w | unit + year"`` or ``"y ~ w | unit | x ~ z"``. A
        :class:`Formula` is returned unchanged.

    Raises
    ------
    FormulaError
        With the position and what was expected, for any structural mistake.

    Examples
    --------
    >>> parse_formula("y ~ 1 | unit | x ~ z").endog[0].name
    'x'
    >>> parse_formula("y ~ x | unit |")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.FormulaError: In formula 'y ~ x | unit |' at position 14: expected an IV part 'endog ~ instruments' after the second '|', got the end of the formula. The form is 'y ~ x + w | fe1 + fe2 | endog ~ instrument'.
    """
    if isinstance(formula, Formula):
        return formula
    if not isinstance(formula, str):
        raise FormulaError(
            f"A formula must be a string like 'y ~ x | unit + year'; got {type(formula).__name__}."
        )
    return _Parser(formula).parse()
