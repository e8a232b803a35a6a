"""The numeric core: fixed-effect structure, factorisation and the within transformation.

The bottom room of the package. ``estimators/``, ``inference/`` and ``graph/``
import from here; the core imports nothing of causalpolicing but
:mod:`causalpolicing.exceptions`, so every import arrow points down (see
``docs/architecture.md``).

Modules
-------
``fe_structure``
    :func:`~causalpolicing.core.fe_structure.factorize`, singleton detection,
    recoding, absorbed degrees of freedom (connected components).
``demean``
    :class:`~causalpolicing.core.demean.FixedEffects` and
    :func:`~causalpolicing.core.demean.demean`: the within transformation
    (direct solve, alternating projections, LSMR).

>>> import numpy as np
>>> from causalpolicing.core.fe_structure import factorize
>>> codes, n_levels = factorize(np.array(["b", "a", "b"]))
>>> codes.tolist(), n_levels
([1, 0, 1], 2)
"""

from .._lazy import lazy_exports as _lazy_exports

__all__ = ["demean", "fe_structure"]

__getattr__, __dir__ = _lazy_exports(__name__, __all__, submodules=__all__)
