r"""The pieces every covariance type shares: the request, the fitted model's inputs, the
result, the small-sample convention names and the base class of the registry entries.

A covariance type is one subclass of :class:`Covariance` (never instantiated): it
declares its name, the spellings users may give, the model families it supports, its
small-sample factors, how it is labelled, and computes itself, from a linear model's
scores (:meth:`Covariance.sandwich`, for ``feols``, ``fepois``, ``between``,
``first_difference``) or, for the maximum-likelihood GLMs, through statsmodels
(:meth:`Covariance.statsmodels_args` and :meth:`Covariance.from_statsmodels`).
The registry (:mod:`causalpolicing.inference.covariance.registry`) registers each
subclass (:func:`register`) and lists them in
:data:`~causalpolicing.inference.vcov.COVARIANCE_TYPES`.

>>> from causalpolicing.inference.covariance import VcovRequest
>>> VcovRequest("CRV1", ("unit",)).label()
'CRV1 by unit'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from ...exceptions import SpecError

__all__ = [
    "Covariance",
    "DEFAULT_SSC",
    "FAMILIES",
    "FEW_CLUSTERS",
    "SSC_CONVENTIONS",
    "Sandwich",
    "SandwichPart",
    "VcovInput",
    "VcovRequest",
    "VcovResult",
    "check_ssc",
    "register",
]

SSCName = Literal["fixest", "stata_xtreg", "stata_areg", "linearmodels", "none"]
SSC_CONVENTIONS: tuple[str, ...] = ("fixest", "stata_xtreg", "stata_areg", "linearmodels", "none")
#: The default convention; results under any other carry it in ``cov_type`` (``cov_label``).
DEFAULT_SSC = "fixest"
#: Fewer clusters than this trigger a :class:`~causalpolicing.exceptions.FewClustersWarning`.
FEW_CLUSTERS = 40
#: The model families a covariance type may support: least squares (``feols``,
#: ``between``, ``first_difference``), Poisson PML (``fepois``) and the maximum-likelihood
#: GLMs computed by statsmodels (``fenegbin``, ``febinomial``).
FAMILIES: tuple[str, ...] = ("linear", "poisson", "glm")

#: name -> class, filled by :func:`register` (the registry module registers every type)
_REGISTRY: dict[str, type[Covariance]] = {}


def check_ssc(ssc: str) -> str:
    """Validate an ``ssc=`` name.

    >>> check_ssc("stata_xtreg")
    'stata_xtreg'
    """
    if ssc not in SSC_CONVENTIONS:
        raise SpecError(
            f"Unknown small-sample convention ssc={ssc!r}. Valid: {', '.join(SSC_CONVENTIONS)} "
            "(see causalpolicing.inference.vcov for what each matches)."
        )
    return ssc


@dataclass(frozen=True)
class VcovRequest:
    """A parsed ``vcov=`` argument: the covariance type and its options.

    ``clusters`` for CRV1/CRV3, ``time`` for DK, ``lag`` for DK and HAC (``None``:
    the automatic lag).
    """

    name: str
    clusters: tuple[str, ...] = ()
    time: str | None = None
    lag: int | None = None

    @property
    def covariance(self) -> type[Covariance]:
        """The registry class of this request."""
        return _REGISTRY[self.name]

    @property
    def kind(self) -> str:
        """``"iid"``, ``"hetero"``, ``"cluster"`` or ``"hac"``."""
        return _REGISTRY[self.name].kind

    def label(self) -> str:
        """Human-readable label, e.g. ``CRV1 by unit`` (used as ``cov_type``)."""
        return _REGISTRY[self.name].label(self)

    def as_spec(self) -> str | dict[str, Any]:
        """The request in the form users pass it (for ``spec``)."""
        return _REGISTRY[self.name].as_spec(self)


@dataclass(frozen=True)
class VcovInput:
    """What a covariance estimator needs from a fitted linear model.

    ``regressors`` are the within-transformed regressors entering the sandwich
    (the first-stage fitted values for 2SLS), ``resid`` the residuals, both
    multiplied by the square root of the weights; ``bread`` is
    :math:`(R'R)^{-1}`.
    """

    regressors: np.ndarray
    resid: np.ndarray
    bread: np.ndarray
    params: np.ndarray
    fe_codes: tuple[np.ndarray, ...] = ()
    fe_names: tuple[str, ...] = ()
    fe_dof_exact: int = 0
    is_iv: bool = False
    jackknife: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    nested_fast_jackknife: Callable[[np.ndarray], np.ndarray] | None = field(
        default=None, repr=False
    )

    @property
    def nobs(self) -> int:
        return self.regressors.shape[0]

    @property
    def k(self) -> int:
        return self.regressors.shape[1]

    @property
    def fe_levels(self) -> tuple[int, ...]:
        return tuple(int(c.max()) + 1 for c in self.fe_codes)


@dataclass(frozen=True)
class VcovResult:
    """A covariance with what inference needs."""

    cov: np.ndarray
    df: int | None  # None: normal distribution
    n_clusters: tuple[int, ...] | None
    label: str
    ssc_factor: float
    k_ssc: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sandwich:
    """The shared inputs of a sandwich covariance (built once by ``compute_vcov``).

    ``scores`` are regressors times residuals (Fortran order), ``codes`` the
    cluster codes of the request's variables, ``nested`` which fixed effects are
    nested in them, ``k_adj`` the parameter count of the small-sample convention,
    ``adj`` its :math:`(N-1)/(N-K)`-type factor and ``df`` the residual degrees of
    freedom :math:`N-K`.
    """

    request: VcovRequest
    inp: VcovInput
    ssc: str
    scores: np.ndarray
    codes: tuple[np.ndarray, ...]
    nested: tuple[bool, ...]
    k_adj: int
    adj: float
    df: int
    time_codes: np.ndarray | None
    warn: bool

    @property
    def n(self) -> int:
        return self.inp.nobs

    @property
    def k(self) -> int:
        return self.inp.k


@dataclass(frozen=True)
class SandwichPart:
    """What one covariance type computes from a :class:`Sandwich`."""

    cov: np.ndarray
    ssc_factor: float
    df: int | None
    request: VcovRequest
    n_clusters: tuple[int, ...] | None = None
    notes: tuple[str, ...] = ()


class Covariance:
    """Base of the covariance types (one subclass per type; see the registry).

    Class attributes: ``name``; ``kind`` (``"iid"``, ``"hetero"``, ``"cluster"``,
    ``"hac"``); ``options`` it takes; ``aliases`` (other spellings of the name,
    case-insensitive); ``families`` it supports (of :data:`FAMILIES`);
    ``conventions``: the factor applied under each small-sample convention
    (``ssc=`` for the linear and Poisson families, ``"glm"`` for the statsmodels
    GLMs, which have none); ``examples``: how to ask for it; ``description``.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[Literal["iid", "hetero", "cluster", "hac"]] = "iid"
    options: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()
    families: ClassVar[tuple[str, ...]] = ()
    conventions: ClassVar[Mapping[str, str]] = {}
    examples: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    #: whether the name alone is a complete request (``"iid"``), or a value is needed
    #: (``{"CRV1": "unit"}``)
    needs_value: ClassVar[bool] = False

    def __init__(self) -> None:
        raise TypeError(f"{type(self).__name__} is a registry entry; use its class methods.")

    # -------------------------------------------------------------- requests
    @classmethod
    def from_name(cls, given: str) -> VcovRequest:
        """The request for the name alone (``vcov="iid"``)."""
        if cls.needs_value:
            raise SpecError(
                f"vcov={given!r} needs a variable: pass {{'{cls.name}': 'column'}}. "
                f"{valid_text()}")
        return VcovRequest(cls.name)

    @classmethod
    def from_value(cls, value: Any, given: Mapping[str, Any]) -> VcovRequest:
        """The request for ``{name: value}``."""
        raise SpecError(f"Unknown clustered covariance {next(iter(given))!r} in "
                        f"vcov={dict(given)!r}. {valid_text()}")

    @classmethod
    def label(cls, request: VcovRequest) -> str:
        """The ``cov_type`` label of a request (without the small-sample convention)."""
        return cls.name

    @classmethod
    def as_spec(cls, request: VcovRequest) -> str | dict[str, Any]:
        """The request in the form users pass it."""
        return cls.name

    # ------------------------------------------------------- linear sandwich
    @classmethod
    def sandwich(cls, s: Sandwich) -> SandwichPart:
        """The covariance from a linear model's scores (linear and Poisson families)."""
        raise SpecError(
            f"{cls.name} is not computed from a linear model's scores; it is available for "
            f"{', '.join(cls.families)} models.")

    # ---------------------------------------------------- statsmodels adapter
    @classmethod
    def statsmodels_args(cls, request: VcovRequest, cluster_codes: Mapping[str, np.ndarray],
                         n_obs: int) -> tuple[str, dict[str, Any], bool]:
        """statsmodels' ``cov_type``, ``cov_kwds`` and ``use_t`` (the GLM family)."""
        raise SpecError(f"{cls.name} is not available for the maximum-likelihood GLMs "
                        f"(fenegbin, febinomial).")

    @classmethod
    def from_statsmodels(cls, request: VcovRequest, cov: np.ndarray, sm_res: Any, *, n: int,
                         n_params: int, cluster_codes: Mapping[str, np.ndarray]
                         ) -> tuple[np.ndarray, int | None, int | tuple[int, ...] | None, str,
                                    list[str]]:
        """Covariance of the slopes, inference df, clusters, label and notes from
        statsmodels' ``cov`` (already restricted to the slopes)."""
        return cov, None, None, request.label(), []


def register(cls: type[Covariance]) -> type[Covariance]:
    """Add a covariance type to the lookup behind :class:`VcovRequest`; returns it."""
    unknown = set(cls.families) - set(FAMILIES)
    if not cls.name or unknown:
        raise TypeError(f"{cls.__name__}: a name and families among {FAMILIES} are required.")
    _REGISTRY[cls.name] = cls
    return cls


def valid_text() -> str:
    """Every way to ask for a covariance, for error messages."""
    shown = [e for c in _REGISTRY.values() for e in c.examples]
    return f"Valid: {', '.join(shown[:-1])} or {shown[-1]}."


def nested(fe: np.ndarray, cl: np.ndarray) -> bool:
    """True when every level of ``fe`` lies within a single cluster."""
    first = np.empty(int(fe.max()) + 1, dtype=cl.dtype)
    first[fe] = cl  # some cluster of each level (the last row written wins)
    mapped = first[fe]
    if mapped.shape != cl.shape:
        return False
    # (np.array_equal for two arrays of one shape, without its Python layers)
    return bool(np.logical_and.reduce(mapped == cl, axis=None))


def cluster_sums(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Column sums of ``scores`` per code (rows: codes 0..G-1)."""
    g = int(codes.max()) + 1
    cols = np.asfortranarray(scores)  # contiguous columns for bincount
    return np.column_stack(
        [np.bincount(codes, weights=cols[:, j], minlength=g) for j in range(cols.shape[1])]
    )
