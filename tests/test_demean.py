"""Tests of the within transformation (causalpolicing.core.demean).

Reference: the residual of a least-squares regression on the full dummy matrix
(numpy.linalg.lstsq), to 1e-8 absolute on unit-scale data.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalpolicing.core.demean import (
    FixedEffects,
    demean,
    drop_singletons,
    factorize,
    fe_dof,
)
from causalpolicing.exceptions import ConvergenceWarning, SpecError


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

    from causalpolicing.core.demean import _n_components

    rng = np.random.default_rng(seed)
    a = factorize(rng.integers(0, 60, 50))[0]
    b = factorize(rng.integers(0, 60, 50))[0]
    la, lb = int(a.max()) + 1, int(b.max()) + 1
    g = coo_matrix((np.ones(50), (a, b + la)), shape=(la + lb,) * 2).tocsr()
    assert _n_components(a, b, la, lb) == connected_components(g, directed=False)[0]


def test_components_long_chain() -> None:
    from causalpolicing.core.demean import _n_components

    # a_i - b_i - a_{i+1} - ...: one component spanning 2 x 1000 levels
    a = np.r_[np.arange(1000), np.arange(1, 1000)]
    b = np.r_[np.arange(1000), np.arange(999)]
    assert _n_components(a, b, 1000, 1000) == 1


# ---------------------------------------------------------------- two fixed effects, fast paths
def rowwise_reference(x: np.ndarray, codes: list[np.ndarray], w: np.ndarray | None = None
                      ) -> np.ndarray:
    """The row-wise MAP (one column at a time, n-vectors) at a tighter tolerance."""
    from causalpolicing.core.demean import _FE, _map_column

    fes = [_FE(np.asarray(c, dtype=np.int64), w) for c in codes]
    out, _, crit, ok = _map_column(x, fes, 1e-14, 100_000, float(np.sqrt(np.mean(x * x))))
    assert ok, crit
    return out


def balanced(n_units: int, n_t: int) -> list[np.ndarray]:
    return [np.repeat(np.arange(n_units), n_t), np.tile(np.arange(n_t), n_units)]


def test_dense_table_matches_closed_form() -> None:
    # balanced and unweighted: x - unit mean - year mean + grand mean, exactly;
    # 700 x 100 rows and 3 columns take the sparse level sums, the dense table and the
    # one-BLAS-thread branch
    rng = np.random.default_rng(11)
    codes = balanced(700, 100)
    x = rng.normal(size=(70_000, 3)) + rng.normal(size=700)[codes[0]][:, None]
    grid = x.reshape(700, 100, 3)
    expected = (grid - grid.mean(axis=1, keepdims=True) - grid.mean(axis=0, keepdims=True)
                + grid.mean(axis=(0, 1), keepdims=True)).reshape(-1, 3)
    xd, info = demean(x, codes)
    np.testing.assert_allclose(xd, expected, atol=1e-10)
    assert info.method == ("map",) * 3
    assert info.converged is True
    assert max(info.achieved_tol) <= 1e-12


def test_dense_table_weighted_matches_rowwise_map() -> None:
    rng = np.random.default_rng(12)
    codes = balanced(300, 40)
    perm = rng.permutation(12_000)  # unsorted rows
    codes = [c[perm] for c in codes]
    x = rng.normal(size=(12_000, 2))
    w = rng.uniform(0.1, 5.0, 12_000)
    xd, info = demean(x, codes, w)
    for j in range(2):
        np.testing.assert_allclose(xd[:, j], rowwise_reference(x[:, j], codes, w), atol=1e-9)
    assert info.converged is True


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_sparse_table_matches_rowwise_map(weighted: bool) -> None:
    # many levels, few rows per pair of levels: a sparse table found by sorting the pairs,
    # 40,000 rows x 3 columns take the sparse level sums
    rng = np.random.default_rng(13)
    n = 40_000
    codes = [factorize(rng.integers(0, 6_000, n))[0], factorize(rng.integers(0, 2_000, n))[0]]
    x = rng.normal(size=(n, 3))
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    xd, info = demean(x, codes, w)
    for j in range(3):
        np.testing.assert_allclose(xd[:, j], rowwise_reference(x[:, j], codes, w), atol=1e-9)
    assert info.converged is True
    assert info.method == ("map",) * 3


def test_columns_together_equal_columns_alone() -> None:
    # a column that converges at once (a pure unit effect) stops early; the others go on
    rng = np.random.default_rng(14)
    codes = unbalanced(15)
    x = rng.normal(size=(600, 3))
    x[:, 1] = rng.normal(size=40)[codes[0]]
    xd, info = demean(x, codes)
    for j in range(3):
        alone, info_j = demean(x[:, j], codes)
        np.testing.assert_allclose(xd[:, j], alone, atol=1e-13)
        assert info.iterations[j] == info_j.iterations[0]
    assert info.iterations[1] < info.iterations[0]
    np.testing.assert_allclose(xd[:, 1], 0.0, atol=1e-12)


@pytest.mark.parametrize("shape", [(60, 20), (700, 100)], ids=["small", "dense-large"])
def test_two_fe_deterministic_under_row_permutation(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(16)
    codes = balanced(*shape)
    n = len(codes[0])
    x = rng.normal(size=(n, 3))
    w = rng.uniform(0.5, 2.0, n)
    perm = rng.permutation(n)
    xd, _ = demean(x, codes, w)
    xp, _ = demean(x[perm], [c[perm] for c in codes], w[perm])
    np.testing.assert_allclose(xp, xd[perm], atol=1e-12)


def test_prepared_fixed_effects_reused_across_weights() -> None:
    rng = np.random.default_rng(17)
    codes = unbalanced(18)
    fe = FixedEffects(codes)
    x = rng.normal(size=(600, 2))
    for seed in (1, 2):
        w = np.random.default_rng(seed).uniform(0.2, 3.0, 600)
        prepared, info_p = demean(x, fe, w)
        fresh, info_f = demean(x, codes, w)
        np.testing.assert_array_equal(prepared, fresh)
        assert info_p == info_f
    assert fe.levels == (40, 15)
    assert len(fe) == 2


def test_out_in_place_equals_new_array() -> None:
    rng = np.random.default_rng(19)
    codes = unbalanced(20)
    x = rng.normal(size=(600, 3))
    expected, _ = demean(x, codes)
    buf = x.copy()
    res, info = demean(buf, codes, out=buf)
    assert res is buf
    np.testing.assert_array_equal(buf, expected)
    assert info.converged is True


def test_out_wrong_shape_raises() -> None:
    x = np.ones((4, 2))
    with pytest.raises(SpecError, match=r"out must be a writeable float64 array of shape \(4, 2\)"):
        demean(x, [np.array([0, 0, 1, 1])], out=np.empty((4, 3)))


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(pd.Series(pd.period_range("2000", periods=5, freq="Y")[[3, 0, 4, 0, 2]]),
                     id="period"),
        pytest.param(pd.Series(pd.PeriodIndex(["2001Q1", None, "2000Q3", "2001Q1"], freq="Q")),
                     id="period-with-nat"),
        pytest.param(pd.Series(pd.to_datetime(["2020-01-05", None, "2019-01-01", "2020-01-05"])),
                     id="datetime-with-nat"),
        pytest.param(pd.Series(pd.to_datetime(["2020-01-05", "2019-01-01"]).tz_localize("UTC")),
                     id="datetime-tz"),
        pytest.param(pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"), id="all-nat"),
        pytest.param(pd.Series(pd.to_timedelta([1, 3, 2], unit="D")), id="timedelta"),
    ],
)
def test_factorize_time_values_match_sorted_pandas(values: pd.Series) -> None:
    codes, n = factorize(values)
    expected, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    assert codes.tolist() == expected.tolist()
    assert n == len(uniques)
    assert codes.dtype == np.int64


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(np.array([7, 3, 3, 9, 7]), id="dense-ints"),
        pytest.param(np.array([10**12, 5, 10**12, -3]), id="sparse-ints"),
        pytest.param(np.array([2, -1, 2, 0], dtype=np.int32), id="negative-int32"),
        pytest.param(np.array([], dtype=np.int64), id="empty"),
    ],
)
def test_factorize_integers_match_sorted_pandas(values: np.ndarray) -> None:
    codes, n = factorize(values)
    expected, uniques = pd.factorize(values, sort=True)
    assert codes.tolist() == expected.tolist()
    assert n == len(uniques)
    assert codes.dtype == np.int64


# ------------------------------------------------ direct solve of small two-way problems
def disconnected(seed: int, n: int = 400) -> list[np.ndarray]:
    """Two connected components: levels 0-9 of ``a`` meet levels 0-2 of ``b`` only."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 20, n)
    b = rng.integers(0, 6, n)
    b = np.where(a < 10, b % 3, 3 + b % 3)
    return [factorize(a)[0], factorize(b)[0]]


CODE_CASES = {
    "balanced-26x33": lambda: balanced(26, 33),
    "unbalanced": lambda: unbalanced(3, n=500, levels=(60, 12)),
    "disconnected": lambda: disconnected(4),
}


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CODE_CASES), ids=list(CODE_CASES))
def test_direct_matches_dummy_regression(case: str, weighted: bool) -> None:
    codes = CODE_CASES[case]()
    n = len(codes[0])
    rng = np.random.default_rng(11)
    x = rng.normal(size=(n, 3)) * np.array([1.0, 50.0, 0.01])
    w = rng.exponential(size=n) + 0.05 if weighted else None
    xd, info = demean(x, FixedEffects(codes), w, direct=True)
    for j in range(3):
        ref = dummy_residual(x[:, j], codes, w)
        np.testing.assert_allclose(xd[:, j], ref, rtol=0, atol=1e-10 * np.abs(x[:, j]).max())
    assert info.method == ("direct",) * 3
    assert info.iterations == (0,) * 3
    assert info.converged is True
    assert max(info.achieved_tol) <= 1e-12


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", list(CODE_CASES), ids=list(CODE_CASES))
def test_direct_matches_map(case: str, weighted: bool) -> None:
    # MAP stops when the fixed-effect means are <= 1e-12 of the column's scale; the two
    # answers agree to well within 1e-11 of the column's largest value in these cases
    codes = CODE_CASES[case]()
    n = len(codes[0])
    rng = np.random.default_rng(12)
    x = rng.normal(size=(n, 2)) + rng.normal(size=int(codes[0].max()) + 1)[codes[0]][:, None]
    w = rng.exponential(size=n) + 0.05 if weighted else None
    fe = FixedEffects(codes)
    direct, info_d = demean(x, fe, w, direct=True)
    iterated, info_m = demean(x, fe, w)
    scale = np.abs(x).max(axis=0)
    np.testing.assert_allclose(direct / scale, iterated / scale, rtol=0, atol=1e-11)
    assert info_d.method == ("direct", "direct")
    assert info_m.method == ("map", "map")
    assert info_d.converged is True
    assert info_m.converged is True


def test_direct_one_dimensional_and_out_in_place() -> None:
    codes = balanced(8, 5)
    rng = np.random.default_rng(13)
    x = rng.normal(size=40)
    w = rng.exponential(size=40) + 0.1
    expected, _ = demean(x, codes, w, direct=True)
    buf = x.copy()
    got, info = demean(buf, codes, w, direct=True, out=buf)
    assert got is buf
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(expected, dummy_residual(x, codes, w), rtol=0, atol=1e-12)
    assert info.method == ("direct",)


@pytest.mark.parametrize(
    ("max_levels", "max_work", "expected"),
    [(5, 20 * 5 * 5, "direct"), (4, 20 * 5 * 5, "map"), (5, 20 * 5 * 5 - 1, "map")],
    ids=["at-both-limits", "levels-over", "work-over"],
)
def test_direct_threshold_boundary(monkeypatch: pytest.MonkeyPatch, max_levels: int,
                                   max_work: int, expected: str) -> None:
    from causalpolicing.core import demean as _demean

    monkeypatch.setattr(_demean, "DIRECT_MAX_LEVELS", max_levels)
    monkeypatch.setattr(_demean, "DIRECT_MAX_WORK", max_work)
    codes = balanced(20, 5)  # 20 x 5 levels: work 20 * 5**2 = 500
    rng = np.random.default_rng(14)
    x = rng.normal(size=100)
    xd, info = demean(x, codes, direct=True)
    np.testing.assert_allclose(xd, dummy_residual(x, codes), rtol=0, atol=1e-10)
    assert info.method == (expected,)


def test_direct_is_opt_in() -> None:
    codes = balanced(6, 4)
    x = np.random.default_rng(15).normal(size=24)
    assert demean(x, codes)[1].method == ("map",)
    assert demean(x, codes, direct=True)[1].method == ("direct",)


@pytest.mark.parametrize("direct", [False, True], ids=["map", "direct"])
def test_three_fe_ignore_direct(direct: bool) -> None:
    codes = unbalanced(5, n=300, levels=(10, 6, 4))
    x = np.random.default_rng(16).normal(size=300)
    xd, info = demean(x, codes, direct=direct)
    np.testing.assert_allclose(xd, dummy_residual(x, codes), rtol=0, atol=1e-8)
    assert info.method == ("map",)
