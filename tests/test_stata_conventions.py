"""``ssc="stata_xtreg"`` against Stata's own output, on a panel with singletons.

Reference: the Stata 13 log that linearmodels ships with its test suite
(``linearmodels/tests/panel/results/stata-panel-simulated-results.txt``, produced
by ``execute-stata-simulated-data.py`` in the same folder from
``simulated-panel.dta``): ``xtset firm time`` then
``xtreg y_heavy x1_heavy ... x5_heavy [aweight=w], fe vce(...)``. With 20% of
each variable missing, 891 rows of 639 firms are complete and most firms are
observed once (Stata: ``g_min = 1``, ``Tbar = 1.394``): Stata's ``xtreg, fe``
keeps those singletons in N and in the number of clusters. Stata's
``vce(robust)`` in ``xtreg, fe`` is the cluster-robust covariance by panel.

The numbers are Stata's ``e(V)`` diagonal as printed (11-12 significant
digits); tolerance 1e-7 relative on variances (our agreement is ~1e-9; the
within transformation with one fixed effect is exact).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp

linearmodels = pytest.importorskip("linearmodels")
RESULTS = Path(linearmodels.__file__).parent / "tests" / "panel" / "results"
DTA = RESULTS / "simulated-panel.dta"
FORMULA = "y_heavy ~ x1_heavy + x2_heavy + x3_heavy + x4_heavy + x5_heavy | firm"
TERMS = ["x1_heavy", "x2_heavy", "x3_heavy", "x4_heavy", "x5_heavy"]
RTOL = 1e-7

# Stata 13, from stata-panel-simulated-results.txt, block "fixed_effect-cluster--_heavy"
# (xtreg ..., fe vce(cluster firm_id)): the diagonal of e(V)
STATA_CLUSTER_VAR = [.01017187366, .00547597282, .00687441133, .00746981045, .0056828355]
STATA_COEF = [.38455903296, .5073037462, .53406323725, .70711078719, .70954846223]
STATA_N, STATA_GROUPS = 891, 639


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    if not DTA.exists():
        pytest.skip("linearmodels' Stata reference files are not installed")
    return pd.read_stata(DTA)


def _stata_block_variances(key: str) -> list[float]:
    """The diagonal of e(V) in one block of linearmodels' Stata log."""
    lines = (RESULTS / "stata-panel-simulated-results.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if f"!{key}!" in line)
    end = next((i for i in range(start + 1, len(lines)) if "###!" in lines[i]), len(lines))
    out = {}
    for line in lines[start:end]:
        parts = line.split("\t")
        if parts[0] in TERMS and len(parts) > len(TERMS):
            out[parts[0]] = float(parts[1 + TERMS.index(parts[0])])
    return [out[t] for t in TERMS]


def _fit(data: pd.DataFrame, **kw: object) -> cp.estimators.FEOLSResults:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few-clusters etc. are not the subject here
        return cp.feols(FORMULA, data, ssc="stata_xtreg", **kw)  # type: ignore[arg-type]


def test_reference_block_is_the_printed_one() -> None:
    if not DTA.exists():
        pytest.skip("linearmodels' Stata reference files are not installed")
    np.testing.assert_allclose(_stata_block_variances("fixed_effect-cluster--_heavy"),
                               STATA_CLUSTER_VAR, rtol=1e-12)


def test_stata_xtreg_cluster_with_singletons_matches_stata(data: pd.DataFrame) -> None:
    # default singletons: kept, as xtreg does; before the default changed, the
    # 411 singleton firms were dropped and every variance was 0.77% too large
    res = _fit(data, vcov={"CRV1": "firm"})
    assert res.nobs == STATA_N and res.n_clusters == STATA_GROUPS
    assert res.df_inference == STATA_GROUPS - 1  # Stata's df_r
    np.testing.assert_allclose(res.params[TERMS], STATA_COEF, rtol=1e-9)
    np.testing.assert_allclose(np.diag(res.cov.loc[TERMS, TERMS]),
                               STATA_CLUSTER_VAR, rtol=RTOL)
    assert res.glance()["n_singletons"].iloc[0] == 411


@pytest.mark.parametrize(("block", "kw"), [
    pytest.param("fixed_effect-robust--_heavy", {"vcov": {"CRV1": "firm"}}, id="robust"),
    pytest.param("fixed_effect-cluster-weighted-_heavy",
                 {"vcov": {"CRV1": "firm"}, "weights": "w"}, id="cluster-weighted"),
    pytest.param("fixed_effect-conventional--_heavy", {"vcov": "iid"}, id="conventional"),
    pytest.param("fixed_effect-conventional-weighted-_heavy", {"vcov": "iid", "weights": "w"},
                 id="conventional-weighted"),
])
def test_stata_xtreg_other_vce_with_singletons(data: pd.DataFrame, block: str,
                                               kw: dict[str, object]) -> None:
    res = _fit(data, **kw)
    assert res.nobs == STATA_N
    np.testing.assert_allclose(np.diag(res.cov.loc[TERMS, TERMS]),
                               _stata_block_variances(block), rtol=RTOL)


def test_dropping_singletons_departs_from_stata(data: pd.DataFrame) -> None:
    # what singletons="drop" (reghdfe's and pyfixest's choice) gives instead
    res = _fit(data, vcov={"CRV1": "firm"}, singletons="drop")
    assert res.nobs == STATA_N - 411 and res.n_clusters == STATA_GROUPS - 411
    ratio = np.diag(res.cov.loc[TERMS, TERMS]) / STATA_CLUSTER_VAR
    assert np.all(np.abs(ratio - 1) > 1e-3)
