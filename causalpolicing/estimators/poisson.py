r"""Poisson pseudo-maximum likelihood (PPML) with fixed effects and an exposure.

The model

.. math::

    E[y_{it} \mid x_{it}] = \exp\big(x_{it}'\beta + \alpha_{g_1(it)} + \gamma_{g_2(it)}
    + \dots + \log E_{it} + o_{it}\big)

(exposure :math:`E`, e.g. the population at risk, and an optional offset
:math:`o`) is estimated by iteratively reweighted least squares (IRLS) in which
every iteration demeans the working dependent variable and the regressors with
weights :math:`\mu` (the weighted within transformation of
:mod:`causalpolicing.core.demean`), as in fixest, pyfixest and ppmlhdfe
(Correia, Guimarães & Zylkin 2020, *Stata Journal* 20:95). Each iteration's
within transformation starts from the previous one (the projection of
:math:`x - D\alpha` equals that of :math:`x`), so later iterations need few
sweeps. Convergence is declared when the relative change of the deviance,
:math:`|D_r - D_{r-1}| / (0.1 + |D_r|)` (fixest's rule), falls below ``tol``;
otherwise a :class:`~causalpolicing.exceptions.ConvergenceWarning` names the
iterations. A step that raises the deviance is halved (up to 20 times). The
within transformation's own tolerance follows the outer progress (``1e-4``
times the last relative deviance change, between ``1e-10`` and ``1e-6``), and
the iteration that declares convergence must have used ``1e-10`` (else one
more, polishing, iteration runs). The starting values
are fixest's, :math:`\mu_0 = (y + \bar r E)/2` with :math:`\bar r` the
overall rate (:math:`(y + \bar y)/2` without exposure or offset).

Data problems, each recorded in ``results.dropped`` and announced by a warning:

* rows whose fixed-effect level has an all-zero outcome (the level's effect
  is :math:`-\infty`; they carry no information on :math:`\beta`; fixest drops
  them too), repeated with singleton removal until nothing changes;
* separation by the regressors (Santos Silva & Tenreyro 2010; Correia,
  Guimarães & Zylkin 2021, "Verifying the existence of maximum likelihood
  estimates for generalized linear models"), found by the iterative
  rectifier (ReLU) check: zero-outcome rows that a combination of regressors
  and fixed effects can push to :math:`\mu = 0`. The check is skipped only when
  an exact rank argument proves that no such combination exists (the regressors
  and dummies have the same rank on the rows with a positive outcome as on all
  rows; ``_poisson_irls._separation_impossible``). ``separation="drop"`` drops
  them (their :math:`\beta` components are then not identified and the
  regressors that only separated are dropped as collinear);
  ``separation="error"`` raises.

Negative outcomes raise; non-integer outcomes are allowed (PPML is consistent
for any non-negative outcome whose conditional mean is exponential) and noted.

Covariances come from the registry in :mod:`causalpolicing.inference.vcov`
with the IRLS weights: regressors :math:`\sqrt{w\mu}\,\tilde x` and residuals
:math:`\sqrt{w\mu}\,\tilde r` (working residuals), bread
:math:`(\tilde X' W \tilde X)^{-1}`, so the scores are
:math:`\tilde x_i w_i (y_i - \mu_i)`. ``"iid"`` is the inverse Fisher
information times the convention's factor with the dispersion fixed at one
(fixest/pyfixest: :math:`(N-1)/(N-K)`; ``ssc="none"``: 1, the GLM's). CRV3
refits the model without each cluster.

Examples
--------
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> res = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
...                 panel)
>>> res.spec["exposure"], res.cov_type, res.nobs
('population', 'CRV1 by canton', 858)
>>> rr = cp.estimators.rate_ratios(res)
>>> round(float(rr.loc[0, "rate_ratio"]), 3)
1.055
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..core.demean import FixedEffects
from ..core.fe_structure import factorize, fe_dof
from ..exceptions import (
    CollinearityWarning,
    ConvergenceWarning,
    EstimationError,
    NegativeValueError,
    SpecError,
)
from ..formula import Formula, parse_formula
from ..inference.fit_state import PoissonFitState
from ..inference.vcov import VcovInput, VcovRequest, check_ssc, check_vcov
from ._common import (
    COLLIN_TOL,
    Draft,
    FrozenSettings,
    _inv_psd,
    _is_panel,
    _ncl,
    _reissue,
    check_choice,
    check_fraction,
    default_cluster,
    frame_of,
)
from ._design import build_design, describe_rows
from ._poisson_data import _concat_log, drop_problem_rows, exposure_offset, reason_frames
from ._poisson_irls import (
    SEPARATION_TOL,
    _deviance,
    _irls,
    _logliks,
    _vcov,
    refit_closures,
)
from ._poisson_results import FEPoissonResults

__all__ = ["FEPoisson", "FEPoissonResults", "fepois", "SEPARATION_TOL"]

#: The dtype pandas infers for a list of strings (given explicitly, an Index of the
#: parameter names is built without inferring it again on every fit).
_STR_DTYPE = pd.Index(["name"]).dtype


@functools.lru_cache(maxsize=64)
def _fe_table_template(fe_names: tuple[str, ...], levels: tuple[int, ...]) -> pd.DataFrame:
    """The fixed-effects table (cached: never handed out, only copied by the results)."""
    return pd.DataFrame({"name": list(fe_names), "levels": list(levels)})


#: Parsed formulas by their string (a :class:`Formula` is immutable: frozen dataclasses
#: of tuples and strings; parsing one costs ~25 us, a tenth of a small Poisson fit).
#: Parse errors are raised, never cached.
@functools.lru_cache(maxsize=256)
def _parse_cached(formula: str) -> tuple[Formula, str]:
    """The parsed formula and its canonical text (``str(Formula)``, for ``spec``)."""
    f = parse_formula(formula)
    return f, str(f)


@functools.lru_cache(maxsize=256)
def _parse_vcov_key(key: str | tuple[str, str]) -> VcovRequest:
    """A parsed (and Poisson-checked) ``vcov`` of a common form: a string, or a one-item
    dict of strings given as its item. A :class:`VcovRequest` is frozen; errors are raised,
    never cached."""
    return check_vcov(key if isinstance(key, str) else dict([key]), family="poisson",
                      estimator="fepois")


def _parse_poisson_vcov(vcov: str | Mapping[str, Any]) -> VcovRequest:
    if type(vcov) is str:
        return _parse_vcov_key(vcov)
    if type(vcov) is dict and len(vcov) == 1:
        ((name, val),) = vcov.items()
        if type(name) is str and type(val) is str:
            return _parse_vcov_key((name, val))
    return check_vcov(vcov, family="poisson", estimator="fepois")


@functools.lru_cache(maxsize=64)
def _index_template(names: tuple[str, ...]) -> pd.Index:
    """The Index of the parameter names (cached, never handed out: see :func:`_param_index`)."""
    return pd.Index(list(names), dtype=_STR_DTYPE)


def _param_index(names: list[str]) -> pd.Index:
    """A new Index of the parameter names: a copy of a cached one (a fresh object, so
    renaming it cannot reach another fit; building one from strings costs ~20 us)."""
    return _index_template(tuple(names)).copy()


# ------------------------------------------------------------------- estimator
class FEPoisson(FrozenSettings):
    """Poisson PML with any number of fixed effects, an exposure and an offset.

    Settings go in the constructor; :meth:`fit` takes the data and returns a
    frozen :class:`FEPoissonResults`; it never modifies the estimator or the data.

    Parameters
    ----------
    formula
        ``"deaths ~ x + w | unit + year"`` (see :mod:`causalpolicing.formula`); the
        outcome must be a plain column (no function). Without fixed effects an
        intercept is estimated.
    exposure
        Column of the population at risk; ``log(exposure)`` enters with
        coefficient one. Default ``None``: a :class:`~causalpolicing.Panel`'s
        exposure role (if any), none for a DataFrame. ``False``: no exposure even
        for a Panel that declares one. Rows with zero exposure and zero count are
        dropped (logged); zero exposure with a positive count raises.
    offset
        Column added to the linear predictor with coefficient one (e.g. an
        already logged exposure). May be combined with ``exposure``.
    vcov
        Covariance (see :mod:`causalpolicing.inference.vcov`): ``"iid"``,
        ``"hetero"``, ``{"CRV1": "unit"}``, ``{"CRV1": "unit+year"}``,
        ``{"CRV3": "unit"}``, ``{"DK": "year"}``. Default ``None``: a Panel's
        declared cluster or unit (CRV1); for a DataFrame CRV1 by the first fixed
        effect (as fixest), or ``"iid"`` without fixed effects.
        ``spec["vcov_source"]`` records which.
    ssc
        Small-sample convention (``"fixest"`` default, as pyfixest's ``fepois``).
    weights
        Column of non-negative weights (each row's log-likelihood contribution is
        multiplied by its weight, as fixest/pyfixest ``weights``).
    tol
        Convergence tolerance on the relative change of the deviance.
    maxiter
        Maximum IRLS iterations.
    separation
        ``"drop"`` (default) separated rows with a warning, or ``"error"``.
    singletons
        ``"keep"`` (default) or ``"drop"`` fixed-effect singletons (see
        :class:`~causalpolicing.estimators.FEOLS`; R fixest's ``fepois`` keeps
        them, its default ``fixef.rm = "perfect"`` removing only levels with an
        all-zero outcome, which are always dropped here; pyfixest 0.60 drops them).
        ``glance()["n_singletons"]`` counts the singleton rows, dropped or kept.
    collin_tol
        Relative tolerance of the collinearity checks.
    """

    _LAST_SETTING = "_collin_tol"

    def __init__(
        self,
        formula: str | Formula,
        *,
        exposure: str | None | Literal[False] = None,
        offset: str | None = None,
        vcov: str | Mapping[str, Any] | None = None,
        ssc: str = "fixest",
        weights: str | None = None,
        tol: float = 1e-8,
        maxiter: int = 100,
        separation: Literal["drop", "error"] = "drop",
        singletons: Literal["drop", "keep"] = "keep",
        collin_tol: float = COLLIN_TOL,
    ) -> None:
        if type(formula) is str:
            f, text = _parse_cached(formula)
        else:
            f = parse_formula(formula)
            text = str(f)
        if f.is_iv:
            raise SpecError("fepois does not support instrumental variables (the '| x ~ z' "
                            "part); use a control-function approach or cp.feols for 2SLS.")
        if f.depvar.factors[0].func is not None or len(f.depvar.factors) > 1:
            raise SpecError(f"The outcome of a Poisson model must be a plain column (a count "
                            f"or a non-negative amount); got {f.depvar.name!r}.")
        self._formula = f
        self._formula_text = text
        for name, val in (("exposure", exposure), ("offset", offset), ("weights", weights)):
            if val is not None and val is not False and not isinstance(val, str):
                raise SpecError(f"{name} must be a column name; got {val!r}.")
        if offset is False or weights is False:
            raise SpecError("Only exposure accepts False (to ignore a Panel's exposure role).")
        self._exposure = exposure
        self._offset = offset
        self._vcov = None if vcov is None else _parse_poisson_vcov(vcov)
        self._ssc = check_ssc(ssc)
        self._weights = weights
        check_fraction("tol", tol, hint=", e.g. 1e-8")
        if not (isinstance(maxiter, int) and maxiter >= 1):
            raise SpecError(f"maxiter must be a positive integer; got {maxiter!r}.")
        self._tol = tol
        self._maxiter = maxiter
        self._separation = check_choice("separation", separation, ("drop", "error"))
        self._singletons = check_choice("singletons", singletons, ("drop", "keep"))
        self._collin_tol = check_fraction("collin_tol", collin_tol)

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return (f"FEPoisson({str(self._formula)!r}, exposure={self._exposure!r}, "
                f"offset={self._offset!r}, vcov={v!r}, ssc={self._ssc!r}, "
                f"weights={self._weights!r}, separation={self._separation!r})")

    def fit(self, data: pd.DataFrame | Any) -> FEPoissonResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        return self._fit_and_warn(data, stacklevel=4)

    def _fit_and_warn(self, data: Any, stacklevel: int) -> FEPoissonResults:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draft = self._fit(data)
        msgs = _reissue(caught, stacklevel)
        # the results are built once, with the warnings (the fit's own and the data notes
        # are kept in its state for later covariances)
        notes = draft.state.notes
        state = draft.state.with_fit_warnings(
            [m for m in msgs if m not in draft.vcov_notes] + list(notes))
        return FEPoissonResults._build(**draft.fields, warnings=tuple(msgs) + notes,
                                       fit_state=state)

    # ------------------------------------------------------------------ pieces
    def _default_vcov(self, data: Any) -> tuple[VcovRequest, str]:
        if self._vcov is not None:
            return self._vcov, "user"
        found = default_cluster(self._formula, data)
        if found is not None:
            return VcovRequest("CRV1", (found[0],)), found[1]
        return VcovRequest("iid"), "default without fixed effects: iid"

    def _exposure_for(self, data: Any) -> tuple[str | None, str]:
        if self._exposure is False:
            return None, "none (exposure=False)"
        if self._exposure is not None:
            return self._exposure, "user"
        if _is_panel(data) and data.exposure is not None:
            return data.exposure, f"the Panel's exposure role {data.exposure!r}"
        return None, "none"

    def _fit(self, data: Any) -> Draft[PoissonFitState]:
        f = self._formula
        req, vcov_source = self._default_vcov(data)
        expo, expo_source = self._exposure_for(data)
        frame, source_rows = frame_of(data)
        n_input = len(frame)
        offset_all, bad = exposure_offset(frame, f.depvar.factors[0].column, expo,
                                          self._offset, source_rows)
        pre = np.zeros(n_input, dtype=bool)
        for m, _, _ in bad:
            pre |= m
        any_pre = bool(pre.any())
        pre_pos = np.flatnonzero(~pre) if any_pre else None  # (None: every row)
        sub = frame if not any_pre else frame.iloc[pre_pos]
        # cluster/time columns that are fixed effects reuse the fixed-effect codes
        fe_cols = {"^".join(fe) for fe in f.fixed_effects}
        extra = [c for c in (*req.clusters, *([req.time] if req.time else []))
                 if c not in fe_cols]
        d = build_design(f, sub, weights=self._weights, extra=extra, singletons=self._singletons,
                         source_rows=None if source_rows is None
                         else source_rows[pre_pos] if any_pre else source_rows,
                         share_empty_log=True)  # (read only; the results copy on access)
        positions = pre_pos[d.positions] if any_pre else d.positions
        del pre_pos, pre
        y = d.y
        if np.any(y < 0):
            rows = describe_rows(positions[np.flatnonzero(y < 0)], frame.index, source_rows)
            raise NegativeValueError(
                f"The outcome {f.depvar.name!r} has {int((y < 0).sum())} negative value(s) "
                f"({rows}); a Poisson model needs non-negative outcomes (counts or amounts).")
        if not np.any(y > 0):
            raise EstimationError(f"The outcome {f.depvar.name!r} is zero in every row used; "
                                  "a Poisson model cannot be estimated.")
        notes: list[str] = []
        if np.any(y != np.round(y)):
            notes.append(
                f"The outcome {f.depvar.name!r} has non-integer values: this is Poisson "
                "pseudo-maximum likelihood (PPML), consistent when the conditional mean is "
                "exponential; use robust or clustered standard errors, not 'iid'.")

        # the drop log so far: pre-filter (exposure/offset) + build_design
        drop_frames = reason_frames(frame, source_rows, bad)
        if len(d.dropped):
            drop_frames.append(d.dropped)

        has_fe = bool(d.fe_codes)
        x = d.exog
        names = d.exog_names
        if f.intercept and not has_fe:
            x = np.column_stack([np.ones(len(y)), x])
            names = ("Intercept", *names)
        if x.shape[1] == 0:
            raise SpecError(f"The formula {str(f)!r} has no regressor; add one.")
        offset = offset_all if len(positions) == n_input else offset_all[positions]
        uw = d.weights
        fe_codes = d.fe_codes
        fe_names, n_singletons, extra_codes = d.fe_names, d.n_singletons, dict(d.extra_codes)
        d_dropped = d.dropped
        del d, offset_all  # the design's position and label arrays are not needed further

        # all-zero fixed-effect levels, singletons and separation, until nothing changes
        # small data: the fixed-effect structure is built once for the separation check
        # and the IRLS (large data build it twice: holding it between costs memory)
        fe_prep = FixedEffects(fe_codes) if len(y) <= 100_000 else None
        keep, reasons, n_sep, n_all_zero, n_single2 = drop_problem_rows(
            y, x, fe_codes, fe_names, singletons=self._singletons,
            separation=self._separation, index=frame.index, positions=positions,
            prepared=fe_prep, source_rows=source_rows)
        drop_frames.extend(reason_frames(frame, source_rows, reasons, positions))
        del reasons, bad
        dropped = _concat_log(drop_frames) if (drop_frames or len(d_dropped)) else d_dropped

        kp = keep.nonzero()[0]
        if len(kp) < len(y):
            y, x, offset = y[kp], x[kp], offset[kp]
            uw = None if uw is None else uw[kp]
            fe_codes = tuple(factorize(c[kp])[0] for c in fe_codes)
            fe_prep = None if fe_prep is None else FixedEffects(fe_codes)
            extra_codes = {c: factorize(v[kp])[0] for c, v in extra_codes.items()}
            positions = positions[kp]
        del keep, kp
        return self._estimate(y, x, names, fe_codes, fe_names, offset, uw, extra_codes,
                              positions, dropped, req, vcov_source, expo, expo_source, n_input,
                              notes, n_all_zero=n_all_zero, n_sep=n_sep,
                              n_singletons=n_singletons + n_single2, fe_prep=fe_prep)

    def _estimate(self, y: np.ndarray, x: np.ndarray, names: tuple[str, ...],
                  fe_codes: tuple[np.ndarray, ...], fe_names: tuple[str, ...],
                  offset: np.ndarray, uw: np.ndarray | None, extra_codes: dict[str, np.ndarray],
                  positions: np.ndarray, dropped: pd.DataFrame, req: VcovRequest,
                  vcov_source: str, expo: str | None, expo_source: str, n_input: int,
                  notes: list[str], *, n_all_zero: int, n_sep: int, n_singletons: int,
                  fe_prep: FixedEffects | None = None) -> Draft[PoissonFitState]:
        f = self._formula
        n = len(y)
        fit = _irls(y, x, fe_codes if fe_prep is None else fe_prep, offset, uw, names,
                    tol=self._tol, maxiter=self._maxiter, collin_tol=self._collin_tol)
        if fit.why:
            warnings.warn(
                "Regressor(s) dropped: " + "; ".join(f"{k} ({v})" for k, v in fit.why.items())
                + ". Their coefficients are not identified; they are listed in "
                "results.collinear.", CollinearityWarning, stacklevel=4)
        if not fit.converged:
            warnings.warn(
                f"IRLS did not converge in {fit.iterations} iterations (maxiter="
                f"{self._maxiter}, tol={self._tol:g} on the relative change of the deviance). "
                "Estimates may be inaccurate: raise maxiter, check for separation or huge "
                "regressors.", ConvergenceWarning, stacklevel=4)
        keep = fit.keep
        x = x[:, keep]  # (column-major, as the closures and statistics below expect)
        param_names = [names[j] for j in keep]
        # the parameter Index; params, the two axes of cov and the regressor statistics each
        # get their own Index object (as when the results copied their inputs), so renaming
        # the index of one returned object cannot reach another
        pidx = _param_index(param_names)
        beta = fit.beta
        # fit statistics first, before the covariance inputs exist (memory); the regressor
        # means and standard deviations are computed on first use (FEPoissonResults._x_stats)
        loglik, ll0, mu0 = _logliks(y, fit.mu, offset, uw)
        null_deviance = _deviance(y, mu0, uw)
        del mu0
        sw = np.sqrt(fit.w)
        regs = fit.xd * sw[:, None]
        vresid = fit.resid * sw
        del sw
        eta_hat = fit.eta  # the closures below keep this, not the whole IRLS state
        deviance, iterations, converged, why = (fit.deviance, fit.iterations, fit.converged,
                                                fit.why)
        del fit  # frees the demeaned columns, the means and the working residuals
        bread = _inv_psd(regs.T @ regs)
        dof_fe, levels = fe_dof(list(fe_codes))
        refit, jackknife, restricted = refit_closures(
            y, x, fe_codes, offset, uw, param_names, eta_hat, tol=self._tol,
            maxiter=self._maxiter)

        vin = VcovInput(regressors=regs, resid=vresid, bread=bread, params=beta,
                        fe_codes=tuple(fe_codes), fe_names=fe_names, fe_dof_exact=dof_fe,
                        jackknife=jackknife, nested_fast_jackknife=None)
        del regs, vresid
        codes: dict[str, np.ndarray] = dict(extra_codes)
        for name, c in zip(fe_names, fe_codes, strict=True):
            codes.setdefault(name, c)
        vr = _vcov(req, vin, self._ssc, codes)

        fit_stats = {
            "deviance": deviance,
            "null_deviance": null_deviance,
            "loglik": loglik,
            "loglik_null": ll0,
            "pseudo_r2": 1 - loglik / ll0 if ll0 != 0 else np.nan,
            "iterations": iterations,
            "converged": converged,
            "n_dropped": n_input - n,
            "n_all_zero": n_all_zero,
            "n_separated": n_sep,
            "n_singletons": n_singletons,
            "fixed_effects": " + ".join(fe_names),
            "exposure": expo or "",
        }
        spec = {
            "formula": self._formula_text, "vcov": req.as_spec(), "vcov_source": vcov_source,
            "ssc": self._ssc, "exposure": expo, "exposure_source": expo_source,
            "offset": self._offset, "weights": self._weights, "tol": self._tol,
            "maxiter": self._maxiter, "separation": self._separation,
            "singletons": self._singletons, "collin_tol": self._collin_tol,
            "fixed_effects": list(fe_names), "depvar": f.depvar.name, "link": "log",
            "family": "poisson",
        }
        state = PoissonFitState(
            vcov_input=vin, codes=codes, positions=positions, n_input=n_input,
            notes=tuple(notes), regressors=x, param_names=pidx.copy(), refit=refit,
            restricted=restricted)
        return Draft(state=state, vcov_notes=vr.notes, fields=dict(
            params=pd.Series(beta, index=pidx),
            cov=pd.DataFrame(vr.cov, index=pidx.copy(), columns=pidx.copy()),
            nobs=n, df_inference=vr.df, cov_type=vr.label,
            estimator="FEPoisson" if fe_codes else "Poisson", spec=spec,
            n_clusters=_ncl(vr), fit_stats=fit_stats, dropped=dropped,
            fe_table=_fe_table_template(tuple(fe_names), tuple(int(v) for v in levels)),
            collinear=why,
        ))


def fepois(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    exposure: str | None | Literal[False] = None,
    offset: str | None = None,
    vcov: str | Mapping[str, Any] | None = None,
    ssc: str = "fixest",
    weights: str | None = None,
    tol: float = 1e-8,
    maxiter: int = 100,
    separation: Literal["drop", "error"] = "drop",
    singletons: Literal["drop", "keep"] = "keep",
    collin_tol: float = COLLIN_TOL,
) -> FEPoissonResults:
    """Fit a Poisson model with fixed effects and an exposure: ``FEPoisson(...).fit(data)``.

    See :class:`FEPoisson` for the parameters and the module notes for the
    algorithm, the data checks and the covariances.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(40), 10),
    ...                    "year": np.tile(np.arange(10), 40),
    ...                    "pop": rng.integers(1_000, 5_000, 400)})
    >>> df["x"] = rng.normal(size=400)
    >>> df["y"] = rng.poisson(df["pop"] / 1000 * np.exp(0.3 * df["x"]))
    >>> res = cp.fepois("y ~ x | unit + year", df, exposure="pop")
    >>> round(float(res.params["x"]), 1), res.cov_type, res.glance()["converged"].item()
    (0.3, 'CRV1 by unit', True)
    """
    est = FEPoisson(formula, exposure=exposure, offset=offset, vcov=vcov, ssc=ssc,
                    weights=weights, tol=tol, maxiter=maxiter, separation=separation,
                    singletons=singletons, collin_tol=collin_tol)
    return est._fit_and_warn(data, stacklevel=5)
