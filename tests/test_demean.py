"""Tests of the within transformation (causalpolicing.estimators._demean).

Reference: the residual of a least-squares regression on the full dummy matrix
(numpy.linalg.lstsq), to 1e-8 absolute on unit-scale data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalpolicing.estimators._demean import demean, drop_singletons, factorize, fe_dof
from causalpolicing.exceptions import ConvergenceWarning


def dummy_residual(x: np.ndarray, codes: list[np.ndarray], w: np.ndarray | None = None
                   ) -> np.ndarray:
    d = np.column_stack([np.eye(int(c.max()) + 1)[c] for c in codes])
    sw = np.ones(len(x)) if w is None else np.sqrt(w)
    coef = np.linalg.lstsq(d * sw[:, None], x * sw, rcond=None)[0]
    return x - d @ coef


def unbalanced(seed: int, n: int = 600, levels: tuple[int, ...] = (40, 15)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [factorize(rng.integers(0, lv, n))[0] for lv in levels]


def test_one_fe_exact_single_pass() -> None:
    rng = np.random.default_rng(0)
    g = rng.integers(0, 20, 500)
    x = rng.normal(size=500)
    xd, info = demean(x, [g])
    expected = x - pd.Series(x).groupby(g).transform("mean").to_numpy()
    np.testing.assert_allclose(xd, expected, atol=1e-12)
    assert info.method == ("exact",)
    assert info.iterations == (1,)
    assert info.converged is True


@pytest.mark.parametrize("levels", [(40, 15), (40, 15, 6)], ids=["two-fe", "three-fe"])
def test_multi_fe_matches_dummy_regression(levels: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    codes = unbalanced(2, levels=levels)
    x = rng.normal(size=(600, 2))
    xd, info = demean(x, codes)
    for j in range(2):
        np.testing.assert_allclose(xd[:, j], dummy_residual(x[:, j], codes), atol=1e-8)
    assert info.converged is True
    assert set(info.method) == {"map"}
    assert max(info.achieved_tol) <= 1e-10


def test_weighted_matches_weighted_dummy_regression() -> None:
    rng = np.random.default_rng(3)
    codes = unbalanced(4)
    x = rng.normal(size=600)
    w = rng.uniform(0.2, 3.0, 600)
    xd, info = demean(x, codes, w)
    np.testing.assert_allclose(xd, dummy_residual(x, codes, w), atol=1e-8)
    assert info.converged is True


def test_no_fixed_effects_returns_copy() -> None:
    x = np.arange(4.0)
    xd, info = demean(x, [])
    xd[0] = 99.0
    assert x[0] == 0.0
    assert info.method == ("none",)


def test_input_not_modified() -> None:
    rng = np.random.default_rng(5)
    codes = unbalanced(6)
    x = rng.normal(size=(600, 2))
    before = x.copy()
    demean(x, codes)
    np.testing.assert_array_equal(x, before)


def low_mobility(seed: int, n_units: int = 3000, n_firms: int = 300, t: int = 6
                 ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Units that almost never move between firms: MAP stalls here."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), t)
    firm = rng.integers(0, n_firms, n_units)[unit]
    movers = rng.random(len(unit)) < 0.003
    firm[movers] = rng.integers(0, n_firms, int(movers.sum()))
    x = rng.normal(size=len(unit)) + 0.01 * firm
    return x, [factorize(unit)[0], factorize(firm)[0]]


def lsmr_reference(x: np.ndarray, codes: list[np.ndarray]) -> np.ndarray:
    from scipy.sparse import csr_matrix, hstack
    from scipy.sparse.linalg import lsmr

    n = len(x)
    d = hstack([csr_matrix((np.ones(n), (np.arange(n), c))) for c in codes]).tocsr()
    return x - d @ lsmr(d, x, atol=1e-16, btol=1e-16, maxiter=100_000)[0]


def test_low_mobility_converges_without_warning() -> None:
    x, codes = low_mobility(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        xd, info = demean(x, codes)
    assert info.converged is True
    assert info.iterations[0] > 50  # a genuinely slow case for plain MAP
    np.testing.assert_allclose(xd, lsmr_reference(x, codes), atol=1e-8)


def test_lsmr_fallback_when_map_stops_early() -> None:
    x, codes = low_mobility(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        xd, info = demean(x, codes, maxiter=5)
    assert info.method == ("lsmr",)
    assert info.converged is True
    np.testing.assert_allclose(xd, lsmr_reference(x, codes), atol=1e-8)


def test_unconverged_answer_warns() -> None:
    x, codes = low_mobility(8, n_units=300, n_firms=30)
    with pytest.warns(ConvergenceWarning, match=r"did not converge: after \d+ iterations"):
        _, info = demean(x, codes, tol=1e-300, names=["lpolpc"])
    assert info.converged is False


def test_deterministic_under_row_permutation() -> None:
    rng = np.random.default_rng(9)
    codes = unbalanced(10, levels=(50, 20, 5))
    x = rng.normal(size=600)
    perm = rng.permutation(600)
    xd, _ = demean(x, codes)
    xp, _ = demean(x[perm], [c[perm] for c in codes])
    np.testing.assert_allclose(xp, xd[perm], atol=1e-12)


def test_singletons_dropped_iteratively() -> None:
    # row 2 is a singleton of fe1; dropping it makes row 3 a singleton of fe2.
    fe1 = np.array([0, 0, 1, 2, 2, 3, 3])
    fe2 = np.array([0, 0, 1, 1, 2, 2, 2])
    keep = drop_singletons([fe1, fe2])
    assert keep.tolist() == [True, True, False, False, False, True, True]


def test_no_singletons_keeps_all() -> None:
    keep = drop_singletons([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])])
    assert keep.tolist() == [True, True, True, True]


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        pytest.param([np.array([0, 1, 2, 2])], (3, (3,)), id="one-fe"),
        pytest.param([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])], (3, (2, 2)),
                     id="two-fe-connected"),
        pytest.param([np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])], (2, (2, 2)),
                     id="two-fe-two-components"),
        pytest.param([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0, 1, 2, 0])],
                     (5, (2, 2, 3)), id="three-fe-approximation"),
    ],
)
def test_fe_dof(codes: list[np.ndarray], expected: tuple[int, tuple[int, ...]]) -> None:
    assert fe_dof(codes) == expected


def test_factorize_sorted_and_missing() -> None:
    codes, n = factorize(pd.Series(["b", None, "a", "b"]))
    assert codes.tolist() == [1, -1, 0, 1]
    assert n == 2


def test_factorize_interaction() -> None:
    codes, n = factorize([np.array([1, 1, 2, 2]), np.array(["x", "y", "x", "x"])])
    assert codes.tolist() == [0, 1, 2, 2]
    assert n == 3


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["graph0", "graph1", "graph2"])
def test_components_match_scipy(seed: int) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from causalpolicing.estimators._demean import _n_components

    rng = np.random.default_rng(seed)
    a = factorize(rng.integers(0, 60, 50))[0]
    b = factorize(rng.integers(0, 60, 50))[0]
    la, lb = int(a.max()) + 1, int(b.max()) + 1
    g = coo_matrix((np.ones(50), (a, b + la)), shape=(la + lb,) * 2).tocsr()
    assert _n_components(a, b, la, lb) == connected_components(g, directed=False)[0]


def test_components_long_chain() -> None:
    from causalpolicing.estimators._demean import _n_components

    # a_i - b_i - a_{i+1} - ...: one component spanning 2 x 1000 levels
    a = np.r_[np.arange(1000), np.arange(1, 1000)]
    b = np.r_[np.arange(1000), np.arange(999)]
    assert _n_components(a, b, 1000, 1000) == 1
