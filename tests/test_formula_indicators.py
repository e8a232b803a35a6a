"""Formula ``i()`` indicators against pyfixest 0.60 (run live: a dev dependency).

Reference: ``pyfixest.feols(formula, df, vcov={"CRV1": "u"})`` / ``pyfixest.fepois`` on
the same formula text. Tolerances: coefficients 1e-8 absolute (the same least-squares
problem), CRV1 standard errors 1e-6 relative (the same fixest small-sample convention);
Poisson coefficients 1e-8 and standard errors 1e-5 relative (both iterate to a convergence
tolerance).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import FormulaError
from causalpolicing.formula import Indicator, parse_formula

pf = pytest.importorskip("pyfixest")

ATOL_COEF = 1e-8
RTOL_SE = 1e-6


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    out = pd.DataFrame({"u": np.repeat(np.arange(30), 8), "t": np.tile(np.arange(8), 30)})
    out["rel"] = np.where(out["u"] % 3 == 0, -1, out["t"] - 4)
    out["g"] = np.where(out["u"] % 2 == 0, "a", "b")
    out["x"] = rng.normal(size=len(out))
    out["y"] = rng.normal(size=len(out)) + 0.3 * out["rel"]
    out["c"] = rng.poisson(3 * np.exp(0.05 * out["rel"]))
    return out


def _both(fn: str, formula: str, df: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = getattr(pf, fn)(formula, df, vcov={"CRV1": "u"})
        ours = getattr(cp, fn)(formula, df, vcov={"CRV1": "u"})
    return ref, ours


@pytest.mark.parametrize("formula", [
    "y ~ i(rel, ref=-1) | u + t",
    "y ~ i(rel, ref=[-1, -4]) | u + t",
    "y ~ i(rel, x, ref=-1) | u + t",
    pytest.param("y ~ i(rel, g, ref=-1) | u", marks=pytest.mark.skipif(
        np.lib.NumpyVersion(np.__version__) < "2.1.0",
        reason="the reference fails, not us: pyfixest 0.60 builds i(var, text) with "
               "numpy.reshape(shape=...), which needs numpy >= 2.1 (lowest-deps numpy 1.26)")),
    "y ~ i(rel) | u",
    'y ~ i(g, ref="a") + x',
    "y ~ i(rel, ref=-1) + x | u + t",
], ids=["ref", "two-refs", "numeric-by", "text-by", "no-ref-first-level", "text-levels",
        "with-covariate"])
def test_feols_matches_pyfixest(formula: str, df: pd.DataFrame) -> None:
    if formula == "y ~ i(rel, ref=[-1, -4]) | u + t":
        # pyfixest 0.60 refuses a list of references (formulaic's base must be one level):
        # the reference is the same model with rel = -4 recoded to -1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = pf.feols("y ~ i(rel, ref=-1) | u + t", df.assign(
                rel=df["rel"].replace(-4, -1)), vcov={"CRV1": "u"})
            ours = cp.feols(formula, df, vcov={"CRV1": "u"})
    else:
        ref, ours = _both("feols", formula, df)
    assert list(ours.params.index) == list(ref.coef().index)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=0, atol=ATOL_COEF)
    np.testing.assert_allclose(ours.std_errors, ref.se(), rtol=RTOL_SE)


def test_fepois_matches_pyfixest(df: pd.DataFrame) -> None:
    ref, ours = _both("fepois", "c ~ i(rel, ref=-1) | u + t", df)
    assert list(ours.params.index) == list(ref.coef().index)
    np.testing.assert_allclose(ours.params, ref.coef(), rtol=0, atol=ATOL_COEF)
    np.testing.assert_allclose(ours.std_errors, ref.se(), rtol=1e-5)


def test_names_follow_pyfixest(df: pd.DataFrame) -> None:
    res = cp.feols("y ~ i(rel, ref=-1) | u + t", df)
    assert list(res.params.index) == ["rel::-4", "rel::-3", "rel::-2", "rel::0", "rel::1",
                                      "rel::2", "rel::3"]


def test_parsed_fields() -> None:
    f = parse_formula("y ~ i(rel, x, ref=[-1, -5]) + w | u")
    ind = f.exog[0]
    assert isinstance(ind, Indicator)
    assert (ind.var, ind.by, ind.ref) == ("rel", "x", (-1, -5))
    assert f.columns == ("y", "rel", "x", "w", "u")
    assert str(f) == "y ~ i(rel, x, ref=[-1, -5]) + w | u"
    assert parse_formula(str(f)) == f


def test_text_and_float_references_round_trip() -> None:
    f = parse_formula('y ~ i(g, ref="a") + i(h, ref=-0.5)')
    assert [t.ref for t in f.exog] == [("a",), (-0.5,)]
    assert parse_formula(str(f)) == f


def test_a_column_called_i_is_still_a_column() -> None:
    assert [t.name for t in parse_formula("y ~ i + x").exog] == ["i", "x"]
    assert parse_formula("y ~ `i`").exog[0].name == "i"


def test_missing_levels_drop_the_row(df: pd.DataFrame) -> None:
    d = df.astype({"rel": float})
    d.loc[[0, 1], "rel"] = np.nan
    res = cp.feols("y ~ i(rel, ref=-1) | u + t", d)
    assert res.nobs == len(d) - 2
    assert res.dropped["column"].tolist() == ["rel", "rel"]
    assert "rel::-4.0" in res.params.index  # float levels are named as pyfixest names them


@pytest.mark.parametrize(("formula", "match"), [
    ("y ~ i(rel, ref=-9) | u", "reference level -9 is not a level of 'rel'"),
    ('y ~ i(g, ref="c")', "reference level 'c' is not a level of 'g'"),
    ("y ~ i(nope, ref=1)", "no column 'nope'"),
], ids=["ref-not-a-level", "text-ref-not-a-level", "unknown-column"])
def test_fit_refusals(formula: str, match: str, df: pd.DataFrame) -> None:
    with pytest.raises(FormulaError, match=match):
        cp.feols(formula, df)


@pytest.mark.parametrize(("formula", "match"), [
    ("i(rel) ~ x", "must be one column"),
    ("y ~ i(rel):x", "interact inside it"),
    ("y ~ i()", "a column name or ref=... inside i"),
    ("y ~ i(ref=-1)", "needs the column"),
    ("y ~ i(a, b, c)", "at most one column"),
    ("y ~ i(rel, ref=[-1, -1])", "reference level twice"),
    ("y ~ i(rel, ref=)", "a reference level"),
    ("y ~ i(rel, ref=[-1, -2)", "']' closing"),
    ("y ~ w | u | x ~ i(z)", "IV part"),
    ('y ~ x | "u"', "fixed-effect column name"),
    ("y ~ i(rel, ref=__import__)", "not a level"),
], ids=["lhs", "colon", "empty", "ref-only", "three-names", "duplicate-ref", "empty-ref", "unclosed-list",
        "iv", "string-outside-i", "name-as-level-is-only-a-label"])
def test_parse_refusals(formula: str, match: str, df: pd.DataFrame) -> None:
    with pytest.raises(FormulaError, match=match):
        cp.feols(formula, df.assign(a=1, b=2, c=3, z=df["x"], w=df["x"]))
