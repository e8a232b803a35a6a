"""Tests of the formula parser (causalpolicing.formula)."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from causalpolicing.exceptions import FormulaError
from causalpolicing.formula import Factor, Formula, Term, is_plain_name, parse_formula, quote_name


def T(*cols: str) -> Term:
    return Term(tuple(Factor(c) for c in cols))


VALID = [
    pytest.param(
        "y ~ x + w | unit + year",
        Formula(T("y"), (T("x"), T("w")), (("unit",), ("year",)), (), (), True),
        "y ~ x + w | unit + year",
        id="twfe",
    ),
    pytest.param(
        "y ~ x | unit^region + year",
        Formula(T("y"), (T("x"),), (("unit", "region"), ("year",)), (), (), True),
        "y ~ x | unit^region + year",
        id="interacted-fe",
    ),
    pytest.param(
        "y ~ w | unit + year | x1 + x2 ~ z1 + z2",
        Formula(T("y"), (T("w"),), (("unit",), ("year",)), (T("x1"), T("x2")),
                (T("z1"), T("z2")), True),
        "y ~ w | unit + year | x1 + x2 ~ z1 + z2",
        id="iv-two-endog",
    ),
    pytest.param(
        "y ~ 1 | unit | x ~ z",
        Formula(T("y"), (), (("unit",),), (T("x"),), (T("z"),), True),
        "y ~ 1 | unit | x ~ z",
        id="iv-no-exog",
    ),
    pytest.param(
        "y ~ x | x2 ~ z",
        Formula(T("y"), (T("x"),), (), (T("x2"),), (T("z"),), True),
        "y ~ x | x2 ~ z",
        id="iv-no-fe",
    ),
    pytest.param(
        "y ~ x + w",
        Formula(T("y"), (T("x"), T("w")), (), (), (), True),
        "y ~ x + w",
        id="no-fe",
    ),
    pytest.param(
        "y ~ x - 1",
        Formula(T("y"), (T("x"),), (), (), (), False),
        "y ~ x + 0",
        id="no-intercept-minus-one",
    ),
    pytest.param(
        "y ~ 0 + x",
        Formula(T("y"), (T("x"),), (), (), (), False),
        "y ~ x + 0",
        id="no-intercept-zero",
    ),
    pytest.param(
        "log(y) ~ x:w + sqrt(z)",
        Formula(Term((Factor("y", "log"),)), (T("x", "w"), Term((Factor("z", "sqrt"),))),
                (), (), (), True),
        "log(y) ~ x:w + sqrt(z)",
        id="functions-interaction",
    ),
    pytest.param(
        "y ~ `odd name` | `fe col`",
        Formula(T("y"), (T("odd name"),), (("fe col",),), (), (), True),
        "y ~ `odd name` | `fe col`",
        id="backticks",
    ),
    pytest.param(
        "  y~x|unit  ",
        Formula(T("y"), (T("x"),), (("unit",),), (), (), True),
        "y ~ x | unit",
        id="whitespace",
    ),
    pytest.param(
        "y ~ x | 0",
        Formula(T("y"), (T("x"),), (), (), (), True),
        "y ~ x",
        id="fe-zero",
    ),
]


@pytest.mark.parametrize(("text", "expected", "printed"), VALID)
def test_parse_valid(text: str, expected: Formula, printed: str) -> None:
    f = parse_formula(text)
    assert f == expected
    assert str(f) == printed


@pytest.mark.parametrize(("text", "expected", "printed"), VALID)
def test_round_trip(text: str, expected: Formula, printed: str) -> None:
    assert parse_formula(str(parse_formula(text))) == expected


def test_columns_and_flags() -> None:
    f = parse_formula("log(y) ~ x:w + w | unit^region | e ~ z")
    assert f.columns == ("y", "x", "w", "e", "z", "unit", "region")
    assert f.is_iv is True
    assert f.fe_names == ("unit^region",)


def test_formula_object_passes_through() -> None:
    f = parse_formula("y ~ x")
    assert parse_formula(f) is f


INVALID = [
    pytest.param("y ~ x ~ z", "position 6", "only one '~'", id="two-tildes"),
    pytest.param("y ~ x | | z", "position 8", "fixed-effect column name", id="empty-fe"),
    pytest.param("y ~ x | fe | z", "position 13", "IV part", id="iv-without-tilde"),
    pytest.param("y ~ x | unit |", "position 14", "IV part", id="trailing-bar"),
    pytest.param("y ~", "position 3", "column name", id="empty-rhs"),
    pytest.param("~ x", "position 0", "column name", id="no-lhs"),
    pytest.param("y x", "position 2", "'~'", id="no-tilde"),
    pytest.param("y ~ x +", "position 7", "column name", id="dangling-plus"),
    pytest.param("y ~ I(x)", "position 4", "unknown function 'I'", id="I-not-supported"),
    pytest.param("y ~ center(x)", "position 4", "unknown function", id="unknown-function"),
    pytest.param("y ~ log(x", "position 9", "')'", id="unclosed"),
    pytest.param("y ~ x + x", "twice", "twice", id="duplicate-term"),
    pytest.param("y ~ x | u + u", "twice", "twice", id="duplicate-fe"),
    pytest.param("y ~ x | u | x ~ z", "both", "exogenous and as endogenous", id="endog-also-exog"),
    pytest.param("y ~ w | u | x ~ w", "both", "excluded instruments", id="instrument-is-exog"),
    pytest.param("y ~ x - w", "position", "0 or 1 after '-'", id="minus-term"),
    pytest.param("y ~ 2", "position 4", "0 or 1", id="number"),
    pytest.param("y ~ x | u^", "position 10", "after '^'", id="dangling-caret"),
    pytest.param("y:w ~ x", "one column", "one column", id="lhs-interaction"),
    pytest.param("y ~ ``", "Empty back-ticked", "Empty", id="empty-backtick"),
]


@pytest.mark.parametrize(("text", "where", "what"), INVALID)
def test_parse_errors(text: str, where: str, what: str) -> None:
    with pytest.raises(FormulaError) as exc:
        parse_formula(text)
    assert where in str(exc.value)
    assert what in str(exc.value)


INJECTIONS = [
    pytest.param("__import__('os').system('x')", id="import-os"),
    pytest.param("y ~ __import__(os)", id="import-as-function"),
    pytest.param("y ~ x; import os", id="semicolon"),
    pytest.param("y ~ exec(x)", id="exec"),
    pytest.param("y ~ eval(x)", id="eval"),
    pytest.param("y ~ x.__class__.__bases__[0]", id="dunder-subscript"),
    pytest.param("y ~ log(x).real", id="attribute-after-call"),
    pytest.param("y ~ (lambda: 1)()", id="lambda"),
    pytest.param('y ~ x | "unit"', id="string-literal"),
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_code_cannot_run(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_non_string_rejected() -> None:
    with pytest.raises(FormulaError, match="must be a string"):
        parse_formula(42)  # type: ignore[arg-type]


# ------------------------------------------------- names that are not identifiers
NAMES = [
    pytest.param("deaths", "deaths", id="plain"),
    pytest.param("rate.2020", "rate.2020", id="dotted"),
    pytest.param("Todesfälle", "Todesfälle", id="unicode-identifier"),
    pytest.param("Jahr_ö", "Jahr_ö", id="unicode-suffix"),
    pytest.param("Kanton name", "`Kanton name`", id="space"),
    pytest.param("C(x)", "`C(x)`", id="call-like"),
    pytest.param("log(y)", "`log(y)`", id="function-like"),
    pytest.param("2020", "`2020`", id="number"),
    pytest.param("1st dose", "`1st dose`", id="leading-digit"),
    pytest.param("a-b", "`a-b`", id="minus"),
    pytest.param("x²", "`x²`", id="superscript"),
    pytest.param("a`b", "`a\\`b`", id="backtick"),
    pytest.param("a\\b", "`a\\\\b`", id="backslash"),
]


@pytest.mark.parametrize(("name", "quoted"), NAMES)
def test_quote_name(name: str, quoted: str) -> None:
    assert quote_name(name) == quoted


@pytest.mark.parametrize(("name", "quoted"), NAMES)
def test_quoted_name_parses_back_to_the_column(name: str, quoted: str) -> None:
    text = f"{quoted} ~ {quoted}:w + sqrt({quoted}) | {quoted}^g | e ~ z"
    f = parse_formula(text)
    assert f.depvar == T(name)
    assert f.depvar.name == name
    assert f.exog == (T(name, "w"), Term((Factor(name, "sqrt"),)))
    assert f.fixed_effects == ((name, "g"),)
    assert str(f) == text
    assert parse_formula(str(f)) == f
    assert is_plain_name(name) == (quoted == name)


def test_backticked_names_are_columns_not_functions() -> None:
    f = parse_formula("`log(y)` ~ `C(x)` + log(w) + `log`:x | `canton name` + year")
    assert f.depvar == T("log(y)")
    assert f.exog == (T("C(x)"), Term((Factor("w", "log"),)), T("log", "x"))
    assert f.fixed_effects == (("canton name",), ("year",))
    assert f.columns == ("log(y)", "C(x)", "w", "log", "x", "canton name", "year")
    # coefficient names: the column for one column, the formula text otherwise
    assert [t.name for t in f.exog] == ["C(x)", "log(w)", "log:x"]
    assert str(f) == "`log(y)` ~ `C(x)` + log(w) + log:x | `canton name` + year"


def test_unicode_identifiers_need_no_backticks() -> None:
    f = parse_formula("Todesfälle ~ Maßnahme | Kanton + Jahr")
    assert f.columns == ("Todesfälle", "Maßnahme", "Kanton", "Jahr")


def test_function_of_a_backticked_column() -> None:
    f = parse_formula("y ~ log(`Einwohner (Mio)`)")
    assert f.exog == (Term((Factor("Einwohner (Mio)", "log"),)),)
    assert f.exog[0].name == "log(`Einwohner (Mio)`)"


BAD_NAMES = [
    pytest.param("y ~ `a b", "Unclosed back-tick at position 4", id="unclosed"),
    pytest.param("y ~ x²", "write it between back-ticks: `x²`", id="not-identifier"),
    pytest.param("y ~ `log`(x)", "position 9", id="backticked-function"),
    pytest.param("y ~ `log(x)` + log(x)", "would both be named 'log(x)'", id="label-collision"),
    pytest.param("y ~ `x:w` + x:w", "would both be named 'x:w'", id="interaction-collision"),
]


@pytest.mark.parametrize(("text", "what"), BAD_NAMES)
def test_bad_names(text: str, what: str) -> None:
    with pytest.raises(FormulaError) as exc:
        parse_formula(text)
    assert what in str(exc.value)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_quote_name_rejects_empty(name: str) -> None:
    with pytest.raises(FormulaError, match="non-empty string"):
        quote_name(name)


# ------------------------------------------------------------ hypothesis properties
# any non-blank string a loader accepts as a column name (letters of any script,
# digits, spaces, operators, back-ticks, backslashes, parentheses, newlines)
column_names = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() != "")


@settings(max_examples=300, deadline=None)
@given(y=column_names, x=column_names, fe=column_names)
@example(y="0", x="A\u00b7", fe="0")  # found by hypothesis: '·' is an identifier character
def test_any_column_name_round_trips_through_quote_and_parse(y: str, x: str, fe: str) -> None:
    assume(len({y, x}) == 2)
    f = parse_formula(f"{quote_name(y)} ~ {quote_name(x)} + log({quote_name(x)}) "
                      f"| {quote_name(fe)}")
    assert f.depvar.name == y
    assert f.exog[0].name == x
    assert f.exog[1].factors == (Factor(x, "log"),)
    assert f.fixed_effects == ((fe,),)
    assert parse_formula(str(f)) == f


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("yxw `\\~|+-:^()01 log_é,.\n")),
                    max_size=30))
def test_any_text_parses_or_raises_formula_error(text: str) -> None:
    try:
        f = parse_formula(text)
    except FormulaError:
        return
    assert parse_formula(str(f)) == f
