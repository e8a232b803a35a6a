"""R's default normal draws (``set.seed``; Mersenne-Twister, inversion), for R-identical simulations.

R HonestDiD simulates its least-favourable critical value with ``set.seed(0)`` and
``mvtnorm::rmvnorm``; drawing the same numbers makes the relative-magnitude confidence sets
equal to R's rather than within Monte-Carlo error of them. R's ``set.seed(s)`` scrambles
``s`` with the congruential generator ``s <- 69069 s + 1`` (50 times, then once per word of
the 624-word Mersenne-Twister state); ``unif_rand`` is the 32-bit output times
:math:`2^{-32}`, and ``norm_rand`` (inversion) is ``qnorm((floor(2^27 u1) + u2) / 2^27)``
(R ``src/main/RNG.c``, ``src/nmath/snorm.c``).

>>> from causalpolicing.diagnostics._r_rng import r_rnorm
>>> r_rnorm(3, seed=0).round(7).tolist()         # R: set.seed(0); rnorm(3)
[1.2629543, -0.3262334, 1.3297993]
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["r_rmvnorm", "r_rnorm", "r_runif"]

_I2_32M1 = 2.328306437080797e-10          # R's 1/(2^32 - 1), for fixup
_BIG = 134217728.0                         # 2^27


def _mt_state(seed: int) -> np.ndarray:
    s = np.uint32(seed % 2**32)
    with np.errstate(over="ignore"):
        for _ in range(50):
            s = np.uint32(69069) * s + np.uint32(1)
        key = np.empty(625, np.uint32)
        for j in range(625):
            s = np.uint32(69069) * s + np.uint32(1)
            key[j] = s
    return key[1:]                         # key[0] is R's position word (set to 624)


def r_runif(n: int, seed: int) -> np.ndarray:
    """``set.seed(seed); runif(n)``."""
    bg = np.random.MT19937(0)
    bg.state = {"bit_generator": "MT19937", "state": {"key": _mt_state(seed), "pos": 624}}
    u = bg.random_raw(n).astype(np.float64) * 2.3283064365386963e-10
    u[u <= 0.0] = 0.5 * _I2_32M1
    u[1.0 - u <= 0.0] = 1.0 - 0.5 * _I2_32M1
    return u


def r_rnorm(n: int, seed: int) -> np.ndarray:
    """``set.seed(seed); rnorm(n)`` (R's default normal kind, inversion)."""
    u = r_runif(2 * n, seed)
    return special.ndtri((np.floor(_BIG * u[0::2]) + u[1::2]) / _BIG)


def r_rmvnorm(n: int, sigma: np.ndarray, seed: int) -> np.ndarray:
    """``set.seed(seed); mvtnorm::rmvnorm(n, sigma = sigma)`` (method ``"eigen"``): standard
    normals filled by row times the symmetric square root of ``sigma``."""
    p = sigma.shape[0]
    vals, vecs = np.linalg.eigh(sigma)
    root = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    return r_rnorm(n * p, seed).reshape(n, p) @ root
