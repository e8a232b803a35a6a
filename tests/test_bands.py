"""The sup-t critical value and simultaneous bands (causalpolicing.inference.bands)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from causalpolicing.exceptions import SpecError
from causalpolicing.inference.bands import sup_t_band, sup_t_critical_value


def _ar1(k: int, rho: float) -> np.ndarray:
    i = np.arange(k)
    return rho ** np.abs(i[:, None] - i[None, :])


def test_one_coefficient_is_the_normal_quantile() -> None:
    for level in (0.9, 0.95, 0.99):
        assert sup_t_critical_value(np.array([[3.0]]), level=level) == pytest.approx(
            norm.ppf(0.5 + level / 2), abs=1e-12)


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9], ids=["rho-0.3", "rho-0.6", "rho-0.9"])
def test_lies_between_pointwise_and_bonferroni(rho: float) -> None:
    # (independent coefficients sit within Monte-Carlo error of Bonferroni: see the Sidak test)
    k = 8
    c = sup_t_critical_value(_ar1(k, rho) * 2.5)
    assert norm.ppf(0.975) < c < norm.ppf(1 - 0.05 / (2 * k))


def test_independent_coefficients_give_sidak() -> None:
    # max of k independent |Z|: P(max <= c) = (2 Phi(c) - 1)^k, so c = Phi^-1((1 + 0.95^(1/k)) / 2)
    k = 6
    exact = norm.ppf((1 + 0.95 ** (1 / k)) / 2)
    # Monte-Carlo error of a 0.95 quantile with 100,000 draws: well under 0.01
    assert sup_t_critical_value(np.eye(k), draws=100_000) == pytest.approx(exact, abs=0.01)


def test_perfectly_correlated_coefficients_need_no_widening() -> None:
    c = sup_t_critical_value(np.ones((4, 4)), draws=50_000)
    assert c == pytest.approx(norm.ppf(0.975), abs=0.02)


def test_scale_free_and_seeded() -> None:
    v = _ar1(5, 0.6)
    d = np.diag([1.0, 4.0, 0.01, 9.0, 2.0])
    assert sup_t_critical_value(v) == sup_t_critical_value(d @ v @ d)  # a correlation matter
    assert sup_t_critical_value(v, seed=1) == sup_t_critical_value(v, seed=1)
    assert sup_t_critical_value(pd.DataFrame(v)) == sup_t_critical_value(v)


def test_simultaneous_coverage_on_simulated_normals() -> None:
    rng = np.random.default_rng(7)
    k, reps = 6, 4000
    cov = _ar1(k, 0.7) * 0.25
    c = sup_t_critical_value(cov)
    se = np.sqrt(np.diag(cov))
    est = rng.multivariate_normal(np.zeros(k), cov, size=reps)
    covered_all = (np.abs(est) <= c * se).all(axis=1).mean()
    pointwise_all = (np.abs(est) <= norm.ppf(0.975) * se).all(axis=1).mean()
    # binomial standard error of a 0.95 share over 4,000 replications: 0.0034
    assert covered_all == pytest.approx(0.95, abs=0.015)
    assert pointwise_all < 0.9  # the pointwise band covers the whole path far less often


def test_band_is_estimate_plus_minus_c_se() -> None:
    cov = _ar1(3, 0.3) * 4.0
    lo, hi = sup_t_band([1.0, 2.0, 3.0], cov)
    c = sup_t_critical_value(cov)
    np.testing.assert_allclose(hi - lo, 2 * c * 2.0)
    np.testing.assert_allclose((hi + lo) / 2, [1.0, 2.0, 3.0])


@pytest.mark.parametrize(("cov", "kw", "match"), [
    (np.zeros((2, 2)), {}, "non-positive"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), {}, "non-finite"),
    (np.ones((2, 3)), {}, "square"),
    (np.eye(2), {"level": 1.5}, "level"),
    (np.eye(2), {"draws": 10}, "draws"),
], ids=["zero-variance", "nan", "not-square", "level", "draws"])
def test_refusals(cov: np.ndarray, kw: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        sup_t_critical_value(cov, **kw)
