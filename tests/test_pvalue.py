"""The one tie convention of resampling p-values (causalpolicing.inference._pvalue).

A draw that ties the observed statistic in exact arithmetic counts as "at least as
extreme", whichever way rounding moved either of them by a unit in the last place.
References are counted by hand in each test.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalpolicing.graph.refuters._common import permutation_pvalue, rank_pvalue
from causalpolicing.inference._pvalue import (
    P_KINDS,
    TIE_RTOL,
    resampling_pvalue,
    resampling_pvalues,
    tie_tolerance,
)
from causalpolicing.inference._wild_engine import _enumerate


def _ulps(x: float) -> list[float]:
    return [np.nextafter(x, -np.inf), x, np.nextafter(x, np.inf)]


@pytest.mark.parametrize("kind", P_KINDS)
def test_tie_counts_whichever_way_the_last_bit_falls(kind):
    rng = np.random.default_rng(1)
    draws = rng.normal(size=99)
    t = 1.7
    draws[:2] = [t, -t]
    ps = {resampling_pvalue(draws, obs, kind) for obs in _ulps(t)}
    for moved in _ulps(t):
        d = draws.copy()
        d[0] = moved
        ps.add(resampling_pvalue(d, t, kind))
    assert len(ps) == 1


def test_hand_counted_values():
    draws = np.array([-3.0, -1.0, 0.5, 1.0, 1.0, 2.0])
    assert resampling_pvalue(draws, 1.0) == pytest.approx(5 / 6, abs=1e-15)   # |d| >= 1
    assert resampling_pvalue(draws, 1.0, "greater") == pytest.approx(3 / 6, abs=1e-15)
    assert resampling_pvalue(draws, 1.0, "less") == pytest.approx(5 / 6, abs=1e-15)
    assert resampling_pvalue(draws, 1.0, "equal-tailed") == pytest.approx(1.0, abs=1e-15)
    assert resampling_pvalue(draws, 2.5, "equal-tailed") == pytest.approx(0.0, abs=1e-15)
    assert resampling_pvalue(draws, 2.5, plus_one=True) == pytest.approx(2 / 7, abs=1e-15)


def test_full_enumeration_smallest_p_is_two_over_two_to_the_g():
    # a statistic linear in the signs: the identity draw and its mirror tie |t| exactly
    g = 3
    a = np.array([0.7, 1.1, 2.3])
    v = _enumerate(0, 2**g, g)
    tb = (v @ a) / np.sqrt((v * v) @ (a * a))
    t = a.sum() / np.sqrt(a @ a)
    assert resampling_pvalue(tb, t) == pytest.approx(2 / 2**g, abs=1e-15)
    assert resampling_pvalue(tb, t, "equal-tailed") == pytest.approx(2 / 2**g, abs=1e-15)


def test_nonfinite_draws_never_count_and_stay_in_the_denominator():
    draws = np.array([np.inf, np.nan, 3.0, 0.1])
    assert resampling_pvalue(draws, 1.0) == pytest.approx(1 / 4, abs=1e-15)
    assert resampling_pvalue(draws, 1.0, drop_nonfinite=True) == pytest.approx(1 / 2, abs=1e-15)
    assert np.isnan(resampling_pvalue(np.array([np.nan]), 1.0, drop_nonfinite=True))


def test_tolerance_scales_with_the_statistic_and_the_draws():
    draws = np.array([[1e6, -1e6, 2e6]])
    assert tie_tolerance(draws, np.array([0.0]))[0] == pytest.approx(TIE_RTOL * 1e6, rel=1e-12)
    assert tie_tolerance(draws, np.array([5e6]))[0] == pytest.approx(TIE_RTOL * 5e6, rel=1e-12)
    # a tie of coefficients in the millions, off by rounding far above 1e-12 absolute
    d = np.array([1e6 + 2e-9, 5e5, 3.0])
    assert resampling_pvalue(d, 1e6) == pytest.approx(1 / 3, abs=1e-15)


def test_rows_are_tested_separately():
    draws = np.array([[0.0, 1.0, 2.0], [10.0, 20.0, 30.0]])
    p = resampling_pvalues(draws, np.array([1.0, 25.0]))
    np.testing.assert_allclose(p, [2 / 3, 1 / 3], atol=1e-15)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="symmetric"):
        resampling_pvalue(np.array([1.0]), 0.0, "two-tailed")


def test_permutation_pvalue_tie_counts_either_way():
    d = np.array([0.5, -3.0, 1.0, 2.0])
    ps = {permutation_pvalue(e, d) for e in _ulps(2.0)}
    assert len(ps) == 1
    assert permutation_pvalue(2.0, d) == pytest.approx(3 / 5, abs=1e-15)


def test_rank_pvalue_tie_counts_either_way():
    # DoWhy counted exact ties half and rounding-ties not at all; ties now count in
    # both tails whichever way the last bit falls
    d = np.array([-1.0, 0.7, 1.0, 2.0, 3.0])
    ps = {rank_pvalue(e, d) for e in _ulps(0.7)}
    assert len(ps) == 1
    assert rank_pvalue(0.7, d) == pytest.approx(2 * 2 / 5, abs=1e-15)
