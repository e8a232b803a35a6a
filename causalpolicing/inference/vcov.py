r"""Covariance estimators: a small registry keyed by name, with explicit small-sample conventions.

Covariance types (``vcov=``)
----------------------------
============  ====================================  ========================================
name          how to ask                            what it is
============  ====================================  ========================================
``iid``       ``"iid"``                             homoskedastic, :math:`s^2 (X'X)^{-1}`
``HC1``       ``"HC1"`` or ``"hetero"``             heteroskedasticity-robust (White)
``HC3``       ``"HC3"``                             leverage-corrected HC (OLS without fixed effects)
``CRV1``      ``{"CRV1": "unit"}``,                 cluster-robust (Liang-Zeger); two-way by
              ``{"CRV1": "unit+year"}``,            Cameron-Gelbach-Miller
              ``{"CRV1": ["unit", "year"]}``        :math:`V_1 + V_2 - V_{12}`
``CRV3``      ``{"CRV3": "unit"}``                  leave-one-cluster-out jackknife (one-way):
                                                    :math:`\sum_g (\hat\beta_{-g}-\hat\beta)
                                                    (\hat\beta_{-g}-\hat\beta)'`, as pyfixest
``DK``        ``{"DK": "year"}`` or                 Driscoll-Kraay: scores summed per period,
              ``{"DK": {"time": "year",             Newey-West (Bartlett) weights
              "lag": 2}}``                          :math:`1 - j/(L+1)`, default lag
                                                    :math:`\lfloor 4 (T/100)^{2/9} \rfloor`
============  ====================================  ========================================

Two-way clustering can give a covariance that is not positive semi-definite;
then negative eigenvalues are set to zero (the eigenvalue fix of Cameron,
Gelbach and Miller 2011) and the results' ``warnings`` say so.

Small-sample conventions (``ssc=``)
-----------------------------------
:math:`N` observations, :math:`k` estimated slopes (the intercept counts when
there are no fixed effects), :math:`G` clusters (the smallest dimension for
two-way clustering), :math:`T` periods (DK). Fixed-effect counts:
:math:`L_\Sigma = \sum_f L_f - (F - 1)` (levels of the :math:`F` fixed
effects, one redundant level per further fixed effect, as fixest),
:math:`D` = the exact absorbed degrees of freedom (connected components for two
fixed effects), "nested" = fixed effects whose every level lies within one
cluster.

================  ===================================================================
``ssc``           factor applied to the sandwich / to :math:`RSS (X'X)^{-1}`
================  ===================================================================
``"fixest"``      R fixest defaults ``ssc(adj=TRUE, fixef.K="nested",
(default)         cluster.adj=TRUE, cluster.df="min")``, = pyfixest defaults.
                  :math:`K = k + L_\Sigma`; for clustering, nested fixed effects are
                  removed and one parameter per nested fixed effect added back.
                  iid: :math:`1/(N-K)`; HC: :math:`N/(N-K)`; CRV:
                  :math:`\frac{G}{G-1}\frac{N-1}{N-K}`; DK:
                  :math:`\frac{T}{T-1}\frac{N-1}{N-K}` (no nesting).
``"stata_xtreg"`` Stata ``xtreg, fe vce(cluster c)``: :math:`K = k + D`, minus
                  :math:`L_f - 1` for each fixed effect nested in the clusters (the
                  absorbed unit effects are not counted, the constant is).
                  iid :math:`1/(N-K)`, HC :math:`N/(N-K)`, CRV
                  :math:`\frac{G}{G-1}\frac{N-1}{N-K}`, DK as fixest with this K.
``"stata_areg"``  Stata ``reg`` with dummies / ``areg, vce(cluster c)``: every dummy
                  counts, :math:`K = k + D` always; factors as ``stata_xtreg``.
``"linearmodels"`` linearmodels ``PanelOLS`` (with a constant) defaults
                  (``debiased=True, auto_df=True, count_effects=True``):
                  :math:`K = k + L_\Sigma`, but :math:`K = k + 1` when the only fixed
                  effect is nested in the clusters; factor :math:`N/(N-K)` for HC, CRV
                  and DK, no :math:`G/(G-1)`; iid :math:`1/(N-K)`. P-values and
                  intervals use the t distribution with :math:`N - k - L_\Sigma`
                  degrees of freedom for every covariance, as linearmodels does.
``"none"``        no correction: iid :math:`1/N`, all others 1.
================  ===================================================================

Reference distribution (as fixest): Student t with :math:`G - 1` degrees of
freedom for clustered covariances (smallest dimension), :math:`T - 1` for DK and
:math:`N - K` otherwise; under ``"linearmodels"`` always the residual degrees of
freedom, as linearmodels does.

Labels: the results' ``cov_type`` names the covariance (``"CRV1 by nr"``) and, when
``ssc`` is not the default ``"fixest"``, the convention too (``"CRV1 by nr
(stata_xtreg)"``), so tables never show two different standard errors under one
label (:func:`cov_label`).

Examples
--------
>>> from causalpolicing.inference.vcov import parse_vcov
>>> parse_vcov({"CRV1": "unit+year"})
VcovRequest(name='CRV1', clusters=('unit', 'year'), time=None, lag=None)
>>> parse_vcov("hetero").name
'HC1'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ..exceptions import FewClustersWarning, SpecError

__all__ = [
    "COVARIANCE_TYPES",
    "SSC_CONVENTIONS",
    "CovarianceType",
    "VcovInput",
    "VcovRequest",
    "VcovResult",
    "compute_vcov",
    "cov_label",
    "parse_vcov",
    "DEFAULT_SSC",
    "FEW_CLUSTERS",
    "VCOV_FAMILIES",
    "check_vcov",
]

SSCName = Literal["fixest", "stata_xtreg", "stata_areg", "linearmodels", "none"]
SSC_CONVENTIONS: tuple[str, ...] = ("fixest", "stata_xtreg", "stata_areg", "linearmodels", "none")
#: The default convention; results under any other carry it in ``cov_type`` (:func:`cov_label`).
DEFAULT_SSC = "fixest"
#: Fewer clusters than this trigger a :class:`FewClustersWarning`.
FEW_CLUSTERS = 40


@dataclass(frozen=True)
class CovarianceType:
    """One entry of the registry."""

    name: str
    kind: Literal["iid", "hetero", "cluster", "hac"]
    options: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""


COVARIANCE_TYPES: dict[str, CovarianceType] = {
    c.name: c
    for c in (
        CovarianceType("iid", "iid", (), ("homoskedastic", "unadjusted"), "homoskedastic errors"),
        CovarianceType("HC1", "hetero", (), ("hetero", "robust", "HC1"), "White/HC1 robust"),
        CovarianceType("HC3", "hetero", (), ("HC3",), "leverage-corrected robust (OLS)"),
        CovarianceType("CRV1", "cluster", ("clusters",), (), "cluster-robust, one- or two-way"),
        CovarianceType("CRV3", "cluster", ("clusters",), (), "leave-one-cluster-out jackknife"),
        CovarianceType("DK", "hac", ("time", "lag"), ("driscoll-kraay",), "Driscoll-Kraay"),
    )
}
_ALIASES = {
    **{c.name.lower(): c.name for c in COVARIANCE_TYPES.values()},
    **{a.lower(): c.name for c in COVARIANCE_TYPES.values() for a in c.aliases},
}


@dataclass(frozen=True)
class VcovRequest:
    """A parsed ``vcov=`` argument."""

    name: str
    clusters: tuple[str, ...] = ()
    time: str | None = None
    lag: int | None = None

    @property
    def kind(self) -> str:
        return COVARIANCE_TYPES[self.name].kind

    def label(self) -> str:
        """Human-readable label, e.g. ``CRV1 by unit`` (used as ``cov_type``)."""
        if self.clusters:
            return f"{self.name} by {' + '.join(self.clusters)}"
        if self.name == "DK":
            return f"DK by {self.time} (lag {self.lag if self.lag is not None else 'auto'})"
        return self.name

    def as_spec(self) -> str | dict[str, Any]:
        """The request in the form users pass it (for ``spec``)."""
        if self.clusters:
            return {self.name: "+".join(self.clusters)}
        if self.name == "DK":
            return {"DK": {"time": self.time, "lag": self.lag}}
        return self.name


def _valid_text() -> str:
    return (
        "Valid: 'iid', 'hetero' (= 'HC1'), 'HC3', {'CRV1': 'unit'}, {'CRV1': 'unit+year'}, "
        "{'CRV3': 'unit'}, {'DK': 'year'} or {'DK': {'time': 'year', 'lag': 2}}."
    )


def parse_vcov(vcov: str | Mapping[str, Any] | VcovRequest) -> VcovRequest:
    """Turn a user's ``vcov=`` argument into a :class:`VcovRequest`.

    Raises
    ------
    SpecError
        For unknown names, missing cluster variables or wrong options.
    """
    if isinstance(vcov, VcovRequest):
        return vcov
    if isinstance(vcov, str):
        name = _ALIASES.get(vcov.strip().lower())
        if name is None:
            raise SpecError(f"Unknown covariance type vcov={vcov!r}. {_valid_text()}")
        if COVARIANCE_TYPES[name].kind in ("cluster", "hac"):
            raise SpecError(
                f"vcov={vcov!r} needs a variable: pass {{'{name}': 'column'}}. {_valid_text()}"
            )
        return VcovRequest(name)
    if isinstance(vcov, Mapping):
        if len(vcov) != 1:
            raise SpecError(
                f"vcov as a dict must have exactly one entry, got {dict(vcov)!r}. {_valid_text()}"
            )
        ((key, value),) = vcov.items()
        name = _ALIASES.get(str(key).strip().lower())
        if name is None or COVARIANCE_TYPES[name].kind not in ("cluster", "hac"):
            raise SpecError(f"Unknown clustered covariance {key!r} in vcov={dict(vcov)!r}. "
                            f"{_valid_text()}")
        if COVARIANCE_TYPES[name].kind == "cluster":
            if isinstance(value, str):
                cols = tuple(c.strip() for c in value.split("+"))
            elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                cols = tuple(value)
            else:
                raise SpecError(
                    f"The cluster variable(s) of {name} must be a column name, 'a+b' or a list "
                    f"of names; got {value!r}."
                )
            if not cols or any(not c for c in cols) or len(set(cols)) != len(cols):
                raise SpecError(f"Invalid cluster variables {value!r} for {name}.")
            if len(cols) > 2:
                raise SpecError(f"At most two-way clustering is supported; got {cols}.")
            if name == "CRV3" and len(cols) > 1:
                raise SpecError("CRV3 supports one-way clustering only; use CRV1 for two-way.")
            return VcovRequest(name, cols)
        # DK
        if isinstance(value, str):
            return VcovRequest(name, time=value)
        if isinstance(value, Mapping):
            unknown = set(value) - {"time", "lag"}
            if unknown or "time" not in value:
                raise SpecError(
                    f"DK options are 'time' (required) and 'lag'; got {sorted(value)}."
                )
            lag = value.get("lag")
            if lag is not None and (not isinstance(lag, (int, np.integer)) or lag < 0):
                raise SpecError(f"DK 'lag' must be a non-negative integer; got {lag!r}.")
            return VcovRequest(name, time=str(value["time"]),
                               lag=None if lag is None else int(lag))
        raise SpecError(f"DK needs a time column name; got {value!r}. {_valid_text()}")
    raise SpecError(f"vcov must be a string or a dict; got {type(vcov).__name__}. {_valid_text()}")


def check_ssc(ssc: str) -> str:
    """Validate an ``ssc=`` name."""
    if ssc not in SSC_CONVENTIONS:
        raise SpecError(
            f"Unknown small-sample convention ssc={ssc!r}. Valid: {', '.join(SSC_CONVENTIONS)} "
            "(see causalpolicing.inference.vcov for what each matches)."
        )
    return ssc


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


def _nested(fe: np.ndarray, cl: np.ndarray) -> bool:
    """True when every level of ``fe`` lies within a single cluster."""
    first = np.empty(int(fe.max()) + 1, dtype=cl.dtype)
    first[fe] = cl  # some cluster of each level (the last row written wins)
    mapped = first[fe]
    if mapped.shape != cl.shape:
        return False
    # (np.array_equal for two arrays of one shape, without its Python layers)
    return bool(np.logical_and.reduce(mapped == cl, axis=None))


def _cluster_sums(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    g = int(codes.max()) + 1
    cols = np.asfortranarray(scores)  # contiguous columns for bincount
    return np.column_stack(
        [np.bincount(codes, weights=cols[:, j], minlength=g) for j in range(cols.shape[1])]
    )


def _k_ssc(ssc: str, inp: VcovInput, kind: str, nested: list[bool]) -> int:
    k = inp.k
    levels = inp.fe_levels
    n_fe = len(levels)
    l_sigma = sum(levels) - (n_fe - 1) if n_fe else 0
    if ssc == "fixest":
        if kind == "cluster" and any(nested):
            return k + l_sigma - sum(lv for lv, n in zip(levels, nested, strict=True) if n) + sum(
                nested
            )
        return k + l_sigma
    if ssc == "stata_xtreg":
        if kind == "cluster" and any(nested):
            return k + inp.fe_dof_exact - sum(
                lv - 1 for lv, n in zip(levels, nested, strict=True) if n
            )
        return k + inp.fe_dof_exact
    if ssc == "stata_areg":
        return k + inp.fe_dof_exact
    if ssc == "linearmodels":
        if kind == "cluster" and n_fe == 1 and nested[0]:
            return k + 1
        return k + l_sigma
    return k  # none


def compute_vcov(
    request: VcovRequest,
    inp: VcovInput,
    *,
    ssc: str = "fixest",
    cluster_codes: Mapping[str, np.ndarray] | None = None,
    time_codes: np.ndarray | None = None,
    warn: bool = True,
) -> VcovResult:
    """Compute the covariance of the parameters.

    Parameters
    ----------
    request
        Which covariance (see :func:`parse_vcov`).
    inp
        The fitted model's regressors, residuals and bread.
    ssc
        Small-sample convention (module docstring).
    cluster_codes
        Integer codes (0..G-1) of each cluster variable named in ``request``.
    time_codes
        Integer period codes in time order (DK).
    warn
        Issue :class:`FewClustersWarning` when there are fewer than 40 clusters.
    """
    check_ssc(ssc)
    n, k = inp.nobs, inp.k
    kind = request.kind
    notes: list[str] = []
    # scores in Fortran order: each column contiguous (bincount per column)
    scores = np.empty(inp.regressors.shape, order="F")
    for j in range(inp.regressors.shape[1]):
        np.multiply(inp.regressors[:, j], inp.resid, out=scores[:, j])
    bread = inp.bread
    n_clusters: tuple[int, ...] | None = None

    nested = [False] * len(inp.fe_codes)
    if kind == "cluster":
        if cluster_codes is None:
            raise SpecError(f"{request.label()} needs the cluster variables' codes.")
        codes = [np.asarray(cluster_codes[c]) for c in request.clusters]
        nested = [any(_nested(fe, cl) for cl in codes) for fe in inp.fe_codes]
    k_adj = _k_ssc(ssc, inp, kind, nested)
    if n - k_adj <= 0:
        raise SpecError(
            f"No residual degrees of freedom for the covariance: {n} observations and "
            f"{k_adj} parameters (slopes plus fixed effects) under ssc={ssc!r}."
        )
    adj = {"fixest": (n - 1) / (n - k_adj), "stata_xtreg": (n - 1) / (n - k_adj),
           "stata_areg": (n - 1) / (n - k_adj), "linearmodels": n / (n - k_adj),
           "none": 1.0}[ssc]
    df: int | None = n - k_adj

    if kind == "iid":
        rss = float(inp.resid @ inp.resid)
        factor = 1.0 / n if ssc == "none" else 1.0 / (n - k_adj)
        cov = bread * (rss * factor)
        ssc_factor = factor * n
    elif kind == "hetero":
        if request.name == "HC3":
            if inp.is_iv:
                raise SpecError("HC3 is available for OLS only; use 'hetero' or a CRV for IV.")
            if inp.fe_codes:
                raise SpecError(
                    "HC3 is not available with fixed effects (the leverage would have to "
                    "include the fixed effects' own leverage; pyfixest refuses it too). Use "
                    "'hetero', a clustered covariance, or the fixed effects as dummies."
                )
            lev = np.einsum("ij,jk,ik->i", inp.regressors, bread, inp.regressors)
            if np.any(lev >= 1 - 1e-12):
                raise SpecError(
                    "HC3 is undefined: some observations have leverage 1 (e.g. fixed-effect "
                    "levels with few rows). Use 'hetero' or a clustered covariance."
                )
            scores = scores / (1.0 - lev)[:, None]
        meat = scores.T @ scores
        ssc_factor = {"fixest": n / (n - k_adj), "stata_xtreg": n / (n - k_adj),
                      "stata_areg": n / (n - k_adj), "linearmodels": n / (n - k_adj),
                      "none": 1.0}[ssc]
        cov = ssc_factor * bread @ meat @ bread
    elif kind == "cluster":
        gs = tuple(int(c.max()) + 1 for c in codes)
        n_clusters = gs
        g_min = min(gs)
        if g_min < 2:
            raise SpecError(
                f"Clustering by {' + '.join(request.clusters)} needs at least two clusters; "
                f"found {g_min}."
            )
        g_adj = 1.0 if ssc in ("linearmodels", "none") else g_min / (g_min - 1)
        ssc_factor = adj * g_adj
        if request.name == "CRV1":
            terms: list[tuple[float, np.ndarray]] = [(1.0, c) for c in codes]
            if len(codes) == 2:
                from ..core.fe_structure import factorize

                inter, _ = factorize([codes[0], codes[1]])
                terms.append((-1.0, inter))
            meat = np.zeros((k, k))
            for sign, c in terms:
                s = _cluster_sums(scores, c)
                meat += sign * (s.T @ s)
            cov = ssc_factor * bread @ meat @ bread
            if len(codes) == 2:
                cov = (cov + cov.T) / 2
                vals, vecs = np.linalg.eigh(cov)
                if vals.min() < 0:
                    notes.append(
                        "The two-way clustered covariance was not positive semi-definite; "
                        f"{int((vals < 0).sum())} negative eigenvalue(s) set to zero "
                        "(Cameron, Gelbach and Miller 2011)."
                    )
                    cov = (vecs * np.clip(vals, 0, None)) @ vecs.T
        else:  # CRV3
            c = codes[0]
            fast = all(nested) and inp.nested_fast_jackknife is not None
            fn = inp.nested_fast_jackknife if fast else inp.jackknife
            if fn is None:
                raise SpecError("CRV3 needs a model that can be re-estimated without a cluster.")
            dev = np.zeros((gs[0], k))
            for g in range(gs[0]):
                dev[g] = fn(c != g) - inp.params
            cov = ssc_factor * (dev.T @ dev)
        df = g_min - 1
        if warn and g_min < FEW_CLUSTERS:
            msg = (
                f"Only {g_min} clusters ({' + '.join(request.clusters)}): cluster-robust "
                f"standard errors are too small with fewer than {FEW_CLUSTERS} clusters. "
                "Prefer CRV3 or the wild cluster bootstrap: in Python "
                f"res.with_cov({{'CRV3': '{request.clusters[0]}'}}) or "
                "cp.inference.wild_bootstrap(res, 'x', reps=9999); on the command line "
                "`causalpolicing analyze ... --vcov CRV3` or `--bootstrap 9999`; in a spec "
                f"`vcov = {{CRV3 = \"{request.clusters[0]}\"}}` or `bootstrap = 9999`."
            )
            if request.name == "CRV1":
                warnings.warn(msg, FewClustersWarning, stacklevel=3)
            notes.append(msg)
    else:  # DK
        if time_codes is None:
            raise SpecError("DK needs the time variable's codes.")
        t = np.asarray(time_codes)
        n_t = int(t.max()) + 1
        lag = request.lag
        if lag is None:
            lag = int(np.floor(4 * (n_t / 100) ** (2 / 9)))
        if lag >= n_t:
            raise SpecError(f"The DK lag ({lag}) must be below the number of periods ({n_t}).")
        xi = _cluster_sums(scores, t)
        meat = xi.T @ xi
        for j in range(1, lag + 1):
            gam = xi[j:].T @ xi[:-j]
            meat += (1 - j / (lag + 1)) * (gam + gam.T)
        n_clusters = (n_t,)
        if ssc == "linearmodels":
            ssc_factor = n / (n - k_adj)
        elif ssc == "none":
            ssc_factor = 1.0
        else:
            ssc_factor = adj * n_t / (n_t - 1)
        cov = ssc_factor * bread @ meat @ bread
        df = n_t - 1
        request = VcovRequest("DK", time=request.time, lag=lag)
    if ssc == "linearmodels":
        # linearmodels (debiased=True): t with the residual df counting every effect
        levels = inp.fe_levels
        df = n - k - (sum(levels) - (len(levels) - 1) if levels else 0)
    cov = (cov + cov.T) / 2
    return VcovResult(cov, df, n_clusters, cov_label(request, ssc), float(ssc_factor),
                      int(k_adj), tuple(notes))


def cov_label(request: VcovRequest, ssc: str = DEFAULT_SSC) -> str:
    """The ``cov_type`` label: the request's label, plus the small-sample convention in
    parentheses when it is not the default (two fits that differ only in ``ssc`` give
    different standard errors and must not carry the same label).

    >>> cov_label(parse_vcov({"CRV1": "nr"}))
    'CRV1 by nr'
    >>> cov_label(parse_vcov({"CRV1": "nr"}), "stata_xtreg")
    'CRV1 by nr (stata_xtreg)'
    """
    base = request.label()
    return base if ssc == DEFAULT_SSC else f"{base} ({ssc})"


# ------------------------------------------------------------ model families
#: Which covariance types each model family supports. Every estimator belongs to
#: one family (the estimator registry says which), so a ``vcov`` is checked the
#: same way in Python, in a spec, in a study file and on the command line.
VCOV_FAMILIES: dict[str, tuple[str, ...]] = {
    "linear": ("iid", "HC1", "HC3", "CRV1", "CRV3", "DK"),
    "poisson": ("iid", "HC1", "CRV1", "CRV3", "DK"),
    "glm": ("iid", "HC0", "HC1", "CRV1", "HAC"),
}


def check_vcov(vcov: Any, *, family: str, estimator: str = "this estimator") -> Any:
    """Parse ``vcov`` and check that the model family supports it.

    Returns the parsed request. Raises :class:`SpecError` naming the estimator, the
    covariance type and the types it does support.

    >>> check_vcov({"CRV1": "unit"}, family="glm", estimator="fenegbin").label()
    'CRV1 by unit'
    >>> check_vcov({"DK": "year"}, family="glm", estimator="fenegbin")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.SpecError: vcov={'DK': 'year'} (DK) is not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC.
    """
    if family not in VCOV_FAMILIES:
        raise SpecError(f"unknown model family {family!r}; known: {', '.join(VCOV_FAMILIES)}.")
    allowed = VCOV_FAMILIES[family]
    # TODO(#11, covariance registry): one parser for every name; this stub tries both.
    from ..estimators._glm import parse_glm_vcov

    try:
        req: Any = parse_vcov(vcov)
    except SpecError as first:
        try:
            req = parse_glm_vcov(vcov)
        except SpecError:
            raise first from None
    if req.name not in allowed:
        shown = dict(vcov) if isinstance(vcov, Mapping) else vcov
        raise SpecError(f"vcov={shown!r} ({req.name}) is not available for {estimator}; it "
                        f"takes {', '.join(allowed)}.")
    if family == "glm":
        return parse_glm_vcov(vcov)
    return req
