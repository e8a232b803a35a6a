r"""Simultaneous (uniform) confidence bands: the sup-t critical value.

A pointwise 95% interval covers each coefficient of an event study with
probability 0.95, so the whole path of leads and lags is covered less often.
The sup-t band of Montiel Olea and Plagborg-Møller (2019) widens every interval
by one common critical value :math:`c` so that the band covers *all* of them at
once with probability ``level`` (asymptotically):

.. math::

    P\Big(\max_j \frac{|\hat\beta_j - \beta_j|}{\mathrm{se}_j} \le c\Big) = \text{level},

with :math:`c` the ``level`` quantile of :math:`\max_j |Z_j|`, :math:`Z \sim
N(0, R)` and :math:`R` the correlation matrix of the estimates. :math:`c` lies
between the pointwise normal quantile (one coefficient, or perfectly correlated
ones) and the Bonferroni value :math:`\Phi^{-1}(1 - (1 - \text{level}) / (2k))`.

Reference: Montiel Olea, J. L. and Plagborg-Møller, M. (2019), "Simultaneous
confidence bands: Theory, implementation, and an application to SVARs", *Journal
of Applied Econometrics* 34(1), 1-17. Callaway and Sant'Anna's R package ``did``
draws its uniform bands the same way (by the multiplier bootstrap).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._hints import check_level
from ..exceptions import SpecError

__all__ = ["sup_t_critical_value", "sup_t_band"]


def _normal_quantile(p: float) -> float:
    from scipy.stats import norm  # scipy submodules stay lazy

    return float(norm.ppf(p))


def sup_t_critical_value(cov: Any, level: float = 0.95, draws: int = 10_000,
                         seed: int = 0) -> float:
    """The sup-t critical value for a simultaneous band over the estimates with covariance ``cov``.

    Parameters
    ----------
    cov
        Covariance matrix of the estimates (``k x k``, a DataFrame or an array);
        every variance must be positive and finite.
    level
        Simultaneous coverage of the band.
    draws
        Simulation draws from :math:`N(0, R)` (``R`` the correlation matrix).
    seed
        Seed of the draws (the same seed gives the same value).

    Returns
    -------
    float
        :math:`c` such that ``estimate ± c * std_error`` covers every coefficient
        at once with probability ``level``. Exact (the normal quantile) for one
        coefficient.

    Raises
    ------
    SpecError
        A covariance that is not square, or has a non-positive or non-finite variance;
        a bad ``level`` or ``draws``.

    Examples
    --------
    >>> import numpy as np
    >>> round(sup_t_critical_value(np.array([[4.0]])), 4)  # one coefficient: 1.96
    1.96
    >>> c = sup_t_critical_value(np.eye(5))  # five independent ones: near Sidak's 2.57
    >>> 2.5 < c < 2.65
    True
    """
    level = check_level(level)
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 100:
        raise SpecError(f"draws must be an integer >= 100; got {draws!r}.")
    v = np.asarray(cov.to_numpy() if isinstance(cov, pd.DataFrame) else cov, dtype=float)
    if v.ndim != 2 or v.shape[0] != v.shape[1] or v.shape[0] == 0:
        raise SpecError(f"cov must be a square, non-empty covariance matrix; got shape {v.shape}.")
    sd = np.sqrt(np.diag(v))
    if not np.all(np.isfinite(v)) or not np.all(sd > 0):
        raise SpecError("cov has a non-positive or non-finite variance (or a non-finite "
                        "covariance); leave out terms without a standard error (e.g. the "
                        "reference period).")
    if len(sd) == 1:
        return _normal_quantile(0.5 + level / 2)
    corr = v / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))  # a square root of R (R may be singular)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((int(draws), len(sd))) @ root.T
    return float(np.quantile(np.abs(z).max(axis=1), level))


def sup_t_band(estimate: Any, cov: Any, level: float = 0.95, draws: int = 10_000,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The simultaneous band ``estimate ± c * std_error`` (``c``: :func:`sup_t_critical_value`).

    >>> import numpy as np
    >>> lo, hi = sup_t_band([1.0], np.array([[1.0]]))
    >>> round(float(lo[0]), 2), round(float(hi[0]), 2)
    (-0.96, 2.96)
    """
    est = np.asarray(estimate, dtype=float)
    v = np.asarray(cov.to_numpy() if isinstance(cov, pd.DataFrame) else cov, dtype=float)
    c = sup_t_critical_value(v, level=level, draws=draws, seed=seed)
    se = np.sqrt(np.diag(v))
    return est - c * se, est + c * se
