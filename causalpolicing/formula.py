"""Model formulas in the fixest/pyfixest style, parsed (never evaluated).

Grammar (``[...]`` optional, ``*`` repeated)::

    formula  := lhs "~" rhs [ "|" fixef ] [ "|" ivpart ]
    lhs      := factor
    rhs      := term ( ("+" | "-") term )*          (terms "0", "1", "-1", "+0")
    term     := factor ( ":" factor )*               (":" is the product)
    factor   := name | func "(" name ")"
    fixef    := fe ( "+" fe )*                       (or "0" for none)
    fe       := name ( "^" name )*                   ("^" interacts fixed effects)
    ivpart   := term ( "+" term )* "~" term ( "+" term )*
    name     := identifier | `back-ticked name`
    func     := one of log, log1p, exp, sqrt, abs

Only names and the whitelisted functions exist: a formula read from a file or
the command line cannot run code. Structural mistakes raise
:class:`~causalpolicing.exceptions.FormulaError` naming the position and what was
expected.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .exceptions import FormulaError

__all__ = ["Factor", "Term", "Formula", "parse_formula", "FUNCTIONS"]

#: The functions a formula may apply to a column (numpy equivalents are used).
FUNCTIONS: tuple[str, ...] = ("log", "log1p", "exp", "sqrt", "abs")

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<bq>`[^`]*`)
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*)
  | (?P<num>[0-9]+(?:\.[0-9]*)?)
  | (?P<op>[~|+\-:^(),])
    """,
    re.VERBOSE,
)
_PLAIN_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Factor:
    """One column, optionally wrapped in a whitelisted function."""

    column: str
    func: str | None = None

    @property
    def name(self) -> str:
        col = self.column if _PLAIN_NAME.match(self.column) else f"`{self.column}`"
        return f"{self.func}({col})" if self.func else col


@dataclass(frozen=True)
class Term:
    """A regressor: one factor or the product of several (``x:w``)."""

    factors: tuple[Factor, ...]

    @property
    def name(self) -> str:
        return ":".join(f.name for f in self.factors)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.column for f in self.factors))


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
        return tuple("^".join(Factor(c).name for c in fe) for fe in self.fixed_effects)

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
        rhs = [t.name for t in self.exog]
        if not self.intercept:
            rhs.append("0")
        if not rhs:
            rhs = ["1"]
        parts = [f"{self.depvar.name} ~ {' + '.join(rhs)}"]
        if self.fixed_effects:
            parts.append(" + ".join(self._fe_printed()))
        if self.endog:
            parts.append(
                " + ".join(t.name for t in self.endog)
                + " ~ "
                + " + ".join(t.name for t in self.instruments)
            )
        return " | ".join(parts)


# ------------------------------------------------------------------- tokenizer
@dataclass(frozen=True)
class _Tok:
    kind: str  # name, num, op, end
    value: str
    pos: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise FormulaError(
                f"Unexpected character {text[pos]!r} at position {pos} in formula {text!r}. "
                "Formulas may contain column names, `back-ticked names`, the operators "
                "~ | + - : ^ and the functions " + ", ".join(FUNCTIONS) + "."
            )
        kind = m.lastgroup or ""
        if kind == "bq":
            name = m.group()[1:-1]
            if not name.strip():
                raise FormulaError(f"Empty back-ticked name at position {pos} in {text!r}.")
            toks.append(_Tok("name", name, pos))
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
        if self.at("("):
            if t.value not in FUNCTIONS:
                self.i -= 1
                raise FormulaError(
                    f"In formula {self.text!r} at position {t.pos}: unknown function "
                    f"{t.value!r}. Allowed functions: {', '.join(FUNCTIONS)}. Create other "
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

    def term(self) -> Term:
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
        if len(lhs.factors) != 1:
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
        all_rhs = [t.name for t in (*exog, *endog)]
        clash = {t.name for t in instr} & set(all_rhs)
        if clash:
            raise FormulaError(
                f"{sorted(clash)} appear both as regressors and as excluded instruments "
                f"in {self.text!r}; an exogenous regressor instruments itself automatically."
            )
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
