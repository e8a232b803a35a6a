r"""Linear models with fixed effects: OLS, weighted least squares and 2SLS.

The model

.. math::

    y_{it} = x_{it}'\beta + \alpha_{g_1(it)} + \gamma_{g_2(it)} + \dots + \varepsilon_{it}

is estimated by the within transformation (fixed effects are projected out,
see :mod:`causalpolicing.core.demean`) followed by least squares on the
demeaned data (Frisch-Waugh-Lovell). With endogenous regressors,
``y ~ w | fe | x ~ z``, two-stage least squares uses the exogenous regressors
and the excluded instruments as instruments.

Collinear regressors, and regressors absorbed by the fixed effects, are
dropped with a :class:`~causalpolicing.exceptions.CollinearityWarning`: a
column is dropped when its within sum of squares is below ``collin_tol``
(1e-10) times its sum of squares around the mean (absorbed by the fixed
effects), or when the part of it not explained by the earlier columns is below
``collin_tol`` times its within sum of squares (collinear; checked column by
column in formula order by an incremental Cholesky factorisation, so later
columns are dropped first, as in fixest).

Examples
--------
>>> import causalpolicing as cp
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"unit": np.repeat(np.arange(60), 10), "year": np.tile(np.arange(10), 60)})
>>> df["x"] = rng.normal(size=len(df))
>>> df["y"] = 2.0 * df["x"] + df["unit"] * 0.1 + rng.normal(size=len(df))
>>> res = cp.feols("y ~ x | unit + year", df, vcov={"CRV1": "unit"})
>>> round(float(res.params["x"]), 2), res.nobs, res.n_clusters, res.cov_type
(2.05, 600, 60, 'CRV1 by unit')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.demean import DEFAULT_TOL, demean
from ..core.fe_structure import fe_dof
from ..exceptions import CollinearityWarning, EstimationError, SpecError
from ..formula import Formula, parse_formula
from ..inference.fit_state import LinearFitState
from ..inference.vcov import (
    VcovInput,
    VcovRequest,
    check_ssc,
    check_vcov,
    compute_vcov,
)
from ._common import (
    COLLIN_TOL,
    Draft,
    FrozenSettings,
    _inv_psd,
    _is_panel,  # noqa: F401  (re-exported for older private import paths)
    _ncl,
    _reissue,
    _select_columns,
    check_choice,
    check_fraction,
    default_cluster,
    frame_of,
    no_regressor_message,
)
from ._design import Design, build_design
from ._iv import WEAK_IV_F, _two_sls
from ._iv import first_stage as _first_stage_table
from ._linear_results import FEOLSResults, relabel

__all__ = ["FEOLS", "FEOLSResults", "feols", "relabel", "COLLIN_TOL", "WEAK_IV_F"]


# -------------------------------------------------------------------- estimator
class FEOLS(FrozenSettings):
    """OLS / WLS / 2SLS with any number of fixed effects.

    Settings go in the constructor; :meth:`fit` takes the data and returns a
    frozen :class:`FEOLSResults`. ``fit`` never modifies the estimator or the data.

    Parameters
    ----------
    formula
        ``"y ~ x + w | fe1 + fe2"``, ``"y ~ w | fe | x1 + x2 ~ z1 + z2"`` (IV),
        ``"y ~ x"`` (no fixed effects, intercept included); see
        :mod:`causalpolicing.formula`.
    vcov
        Covariance (see :mod:`causalpolicing.inference.vcov`): ``"iid"``,
        ``"hetero"``, ``"HC3"``, ``{"CRV1": "unit"}``, ``{"CRV1": "unit+year"}``,
        ``{"CRV3": "unit"}``, ``{"DK": "year"}``. Default ``None``: for a
        :class:`~causalpolicing.Panel`, CRV1 by its declared cluster column or else
        its unit; for a DataFrame, CRV1 by the first fixed effect (as fixest), or
        ``"iid"`` without fixed effects. ``spec["vcov_source"]`` records which.
    weights
        Column of analytic weights (WLS).
    ssc
        Small-sample convention: ``"fixest"`` (default), ``"stata_xtreg"``,
        ``"stata_areg"``, ``"linearmodels"``, ``"none"``.
    singletons
        ``"keep"`` (default) or ``"drop"`` fixed-effect singletons: rows alone in a
        level of some fixed effect (dropped iteratively, since dropping one can make
        another). A singleton is fitted exactly by its own effect, so the estimates
        are the same either way; it counts in the number of observations and
        clusters, hence in the small-sample factors and the standard errors.
        ``"keep"`` is what R fixest's ``feols`` does (``fixef.rm = "none"`` in its
        reference manual; ``fepois``/``feglm`` default to ``"perfect"``, which
        removes only levels with an all-zero outcome) and what Stata's
        ``xtreg, fe`` and ``areg`` do, so that ``ssc="stata_xtreg"`` and
        ``ssc="stata_areg"`` reproduce Stata. ``"drop"`` is what Stata's
        ``reghdfe`` and pyfixest (``fixef_rm="singleton"``, its default in 0.60)
        do. ``glance()`` reports ``n_singletons`` (singleton rows, dropped or
        kept) and ``n_dropped`` (all rows dropped, listed in ``results.dropped``).
    tol
        Convergence tolerance of the within transformation.
    collin_tol
        Relative tolerance of the collinearity checks.

    Notes
    -----
    Terms are reported in the order: ``Intercept`` (only without fixed effects),
    exogenous regressors in formula order, then endogenous regressors (as
    pyfixest). P-values and intervals use the t distribution with the
    covariance's degrees of freedom (clusters minus one when clustered, the
    residual degrees of freedom otherwise; as fixest), see
    :mod:`causalpolicing.inference.vcov`. Missing values, zero weights and
    (with ``singletons="drop"``) singletons are dropped and listed in ``results.dropped``; collinear or absorbed
    regressors are dropped and listed in ``results.collinear``.

    Singleton defaults as checked (2026-12): R fixest reference manual, ``feols(...,
    fixef.rm = "none")`` and ``feglm``/``fepois(..., fixef.rm = "perfect")``
    (https://search.r-project.org/CRAN/refmans/fixest/html/feols.html); pyfixest 0.60
    ``feols(..., fixef_rm="singleton")``; Stata ``xtreg, fe`` and ``areg`` keep them
    (reproduced here to 1e-9 from linearmodels' Stata 13 log, 411 singleton panels:
    ``tests/test_stata_conventions.py``); ``reghdfe`` drops them unless
    ``keepsingletons``.
    """

    _LAST_SETTING = "_collin_tol"

    def __init__(
        self,
        formula: str | Formula,
        *,
        vcov: str | Mapping[str, Any] | None = None,
        weights: str | None = None,
        ssc: str = "fixest",
        singletons: str = "keep",
        tol: float = DEFAULT_TOL,
        collin_tol: float = COLLIN_TOL,
    ) -> None:
        self._formula = parse_formula(formula)
        self._vcov = None if vcov is None else check_vcov(vcov, family="linear",
                                                          estimator="feols")
        if weights is not None and not isinstance(weights, str):
            raise SpecError(f"weights must be a column name; got {type(weights).__name__}.")
        self._weights = weights
        self._ssc = check_ssc(ssc)
        self._singletons = check_choice("singletons", singletons, ("drop", "keep"))
        self._tol = check_fraction("tol", tol)
        self._collin_tol = check_fraction("collin_tol", collin_tol)

    def __repr__(self) -> str:
        v = None if self._vcov is None else self._vcov.as_spec()
        return (f"FEOLS({str(self._formula)!r}, vcov={v!r}, weights={self._weights!r}, "
                f"ssc={self._ssc!r}, singletons={self._singletons!r})")

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame | Any) -> FEOLSResults:
        """Estimate the model on ``data`` (a DataFrame or a Panel)."""
        return self._fit_and_warn(data, stacklevel=4)

    def _fit_and_warn(self, data: Any, stacklevel: int) -> FEOLSResults:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draft = self._fit(data)
        msgs = _reissue(caught, stacklevel)
        # the results are built once, with the warnings (the fit's own are kept in its
        # state for later covariances)
        state = draft.state.with_fit_warnings(
            [m for m in msgs if m not in draft.vcov_notes])
        return FEOLSResults(**draft.fields, warnings=tuple(msgs), fit_state=state)

    def _default_vcov(self, data: Any) -> tuple[VcovRequest, str]:
        if self._vcov is not None:
            return self._vcov, "user"
        f = self._formula
        found = default_cluster(f, data)
        if found is not None:
            return VcovRequest("CRV1", (found[0],)), found[1]
        if f.fixed_effects:
            return VcovRequest("iid"), (
                "default: iid (the first fixed effect is an interaction; pass "
                "vcov={'CRV1': column} to cluster)")
        return VcovRequest("iid"), "default without fixed effects: iid"

    def _fit(self, data: Any) -> Draft[LinearFitState]:
        f = self._formula
        req, vcov_source = self._default_vcov(data)
        frame, source_rows = frame_of(data)
        extra = list(req.clusters) + ([req.time] if req.time else [])
        d = build_design(f, frame, weights=self._weights, extra=extra,
                         singletons=self._singletons, source_rows=source_rows)
        return self._estimate(d, req, vcov_source, n_input=len(frame))

    def _estimate(self, d: Design, req: VcovRequest, vcov_source: str, n_input: int
                  ) -> Draft[LinearFitState]:
        f = self._formula
        n = len(d.y)
        has_fe = bool(d.fe_codes)
        add_const = f.intercept and not has_fe
        exog = d.exog
        exog_names = d.exog_names
        if add_const:
            exog = np.column_stack([np.ones(n), exog])
            exog_names = ("Intercept", *exog_names)
        kx, ke, kz = exog.shape[1], d.endog.shape[1], d.instruments.shape[1]
        raw = np.column_stack([d.y, exog, d.endog, d.instruments])
        w = d.weights
        sw = None if w is None else np.sqrt(w)
        names_all = ("__y__", *exog_names, *d.endog_names, *d.instrument_names)
        within, dinfo = demean(raw, d.fe_codes, w, tol=self._tol, names=names_all)
        if sw is not None:
            within = within * sw[:, None]
        # sums of squares around the (weighted) mean of the raw columns, for absorption checks
        if w is None:
            if has_fe:
                raw_ss = np.empty(raw.shape[1])
                for j in range(raw.shape[1]):
                    dev = raw[:, j] - raw[:, j].mean()
                    raw_ss[j] = np.einsum("i,i->", dev, dev)
            else:
                raw_ss = np.ones(raw.shape[1])
        else:
            mean = (w[:, None] * raw).sum(axis=0) / w.sum()
            raw_ss = (w[:, None] * (raw - mean) ** 2).sum(axis=0)
        if has_fe:
            raw_ss[np.ptp(raw, axis=0) == 0] = 0.0  # constant: exactly, whatever rounding

        yw = within[:, 0]
        xcols = list(range(1, 1 + kx + ke))
        x_names = (*exog_names, *d.endog_names)
        keep_x, why = _select_columns(within[:, xcols], raw_ss[xcols], x_names, has_fe,
                                      tol=self._collin_tol)
        # endogenous regressors must not be dropped silently in IV
        dropped_endog = [nm for nm in d.endog_names if nm in why]
        if dropped_endog:
            raise EstimationError(
                f"The endogenous regressor(s) {dropped_endog} are collinear with the exogenous "
                f"regressors or absorbed by the fixed effects ({why}); the model is not identified."
            )
        if not keep_x:
            raise EstimationError(no_regressor_message(
                why, {nm: raw[:, 1 + j] for j, nm in enumerate(x_names)}, d.fe_codes,
                d.fe_names))
        if why:
            warnings.warn(
                "Regressor(s) dropped: " + "; ".join(f"{k} ({v})" for k, v in why.items())
                + ". Their coefficients are not identified; they are listed in "
                "results.collinear.",
                CollinearityWarning,
                stacklevel=4,
            )
        kept_exog = [j for j in keep_x if j < kx]
        if keep_x == list(range(keep_x[0], keep_x[0] + len(keep_x))):
            xw = within[:, 1 + keep_x[0]:1 + keep_x[-1] + 1]  # a view, no copy
        else:
            xw = within[:, [1 + j for j in keep_x]]
        param_names = [x_names[j] for j in keep_x]
        zw = None
        first_stage = None
        if ke:
            zcols_ex = [1 + j for j in kept_exog]
            zcols_in = list(range(1 + kx + ke, 1 + kx + ke + kz))
            zmat = within[:, zcols_ex + zcols_in]
            znames = (*[exog_names[j] for j in kept_exog], *d.instrument_names)
            keep_z, why_z = _select_columns(
                zmat, raw_ss[zcols_ex + zcols_in], znames, has_fe,
                protected=0, tol=self._collin_tol)
            bad_z = [nm for nm in znames[len(zcols_ex):] if nm in why_z]
            if bad_z:
                warnings.warn(
                    f"Instrument(s) dropped: {'; '.join(f'{k} ({why_z[k]})' for k in bad_z)}.",
                    CollinearityWarning, stacklevel=4)
            n_excl = sum(1 for j in keep_z if j >= len(zcols_ex))
            if n_excl < ke:
                raise EstimationError(
                    f"The model is under-identified: {ke} endogenous regressor(s) "
                    f"{list(d.endog_names)} but only {n_excl} usable excluded instrument(s). "
                    "Add instruments."
                )
            zw = zmat[:, keep_z]
            excl_idx = [i for i, j in enumerate(keep_z) if j >= len(zcols_ex)]
            excl_names = [znames[keep_z[i]] for i in excl_idx]

        # estimation
        if zw is None:
            gram = xw.T @ xw
            bread = _inv_psd(gram)
            beta = bread @ (xw.T @ yw)
            regressors = xw
        else:
            zz = zw.T @ zw
            pi = np.linalg.solve(zz, zw.T @ xw)
            xhat = zw @ pi
            bread = _inv_psd(xhat.T @ xhat)
            beta = bread @ (xhat.T @ yw)
            regressors = xhat
        resid = yw - xw @ beta

        # fixed-effect bookkeeping
        dof_fe, levels = fe_dof(list(d.fe_codes))
        k = len(beta)
        rss = float(resid @ resid)
        y_raw = d.y
        if w is None:
            tss = float(((y_raw - y_raw.mean()) ** 2).sum()) if (f.intercept or has_fe) \
                else float((y_raw**2).sum())
        else:
            tss = float((w * (y_raw - (w * y_raw).sum() / w.sum()) ** 2).sum()) \
                if (f.intercept or has_fe) else float((w * y_raw**2).sum())
        tss_within = float(yw @ yw)
        df_resid = n - k - dof_fe
        fit_stats = {
            "r2": 1 - rss / tss if tss > 0 else np.nan,
            "adj_r2": (1 - (rss / tss) * (n - 1) / df_resid) if tss > 0 and df_resid > 0
            else np.nan,
            "within_r2": (1 - rss / tss_within) if has_fe and tss_within > 0 else np.nan,
            "rmse": float(np.sqrt(rss / (w.sum() if w is not None else n))),
            "rss": rss,
            "df_resid": int(df_resid),
            "fixed_effects": " + ".join(d.fe_names) if has_fe else "",
            "demean_iterations": max(dinfo.iterations) if dinfo.iterations else 0,
            "n_dropped": len(d.dropped),
            "n_singletons": d.n_singletons,
        }
        if df_resid <= 0:
            raise EstimationError(
                f"No residual degrees of freedom: {n} observations, {k} slopes and {dof_fe} "
                "fixed-effect parameters."
            )

        # jackknife refits for CRV3
        fe_codes = d.fe_codes
        tol = self._tol
        raw_x_idx = [1 + j for j in keep_x]
        raw_z_idx = ([1 + j for j in kept_exog] + list(range(1 + kx + ke, 1 + kx + ke + kz)))
        z_keep_idx = None if zw is None else [raw_z_idx[j] for j in keep_z]

        def refit_within(mask: np.ndarray) -> np.ndarray:
            xm, ym = xw[mask], yw[mask]
            if zw is None:
                return np.linalg.solve(xm.T @ xm, xm.T @ ym)
            return _two_sls(xm, zw[mask], ym)

        def refit_full(mask: np.ndarray) -> np.ndarray:
            cols = [0, *raw_x_idx] + ([] if z_keep_idx is None else z_keep_idx)
            sub = raw[mask][:, cols]
            codes = [c[mask] for c in fe_codes]
            wm = None if w is None else w[mask]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dm, _ = demean(sub, codes, wm, tol=tol)
            if wm is not None:
                dm = dm * np.sqrt(wm)[:, None]
            ym, xm = dm[:, 0], dm[:, 1:1 + len(raw_x_idx)]
            if z_keep_idx is None:
                return np.linalg.solve(xm.T @ xm, xm.T @ ym)
            return _two_sls(xm, dm[:, 1 + len(raw_x_idx):], ym)

        vin = VcovInput(
            regressors=regressors, resid=resid, bread=bread, params=beta,
            fe_codes=tuple(fe_codes), fe_names=d.fe_names, fe_dof_exact=dof_fe,
            is_iv=zw is not None, jackknife=refit_full, nested_fast_jackknife=refit_within,
        )
        codes: dict[str, np.ndarray] = dict(d.extra_codes)
        for name, c in zip(d.fe_names, fe_codes, strict=True):
            codes.setdefault(name, c)
        vr = compute_vcov(req, vin, ssc=self._ssc, cluster_codes=codes,
                          time_codes=codes.get(req.time) if req.time else None)

        if zw is not None:
            first_stage = _first_stage_table(
                xw, zw, d.endog_names, param_names, excl_idx, excl_names, req, vin, codes,
                kept_exog_n=len(kept_exog), ssc=self._ssc)

        spec = {
            "formula": str(f),
            "vcov": req.as_spec(),
            "vcov_source": vcov_source,
            "ssc": self._ssc,
            "weights": self._weights,
            "singletons": self._singletons,
            "tol": self._tol,
            "collin_tol": self._collin_tol,
            "fixed_effects": list(d.fe_names),
            "depvar": f.depvar.name,
        }
        fe_table = pd.DataFrame({"name": list(d.fe_names), "levels": list(levels)})
        state = LinearFitState(vcov_input=vin, codes=codes, positions=d.positions,
                               n_input=n_input)
        return Draft(state=state, vcov_notes=vr.notes, fields=dict(
            params=pd.Series(beta, index=param_names),
            cov=pd.DataFrame(vr.cov, index=param_names, columns=param_names),
            nobs=n,
            df_inference=vr.df,
            cov_type=vr.label,
            estimator=("FE-2SLS" if has_fe else "2SLS") if zw is not None
            else ("FEOLS" if has_fe else "OLS"),
            spec=spec,
            n_clusters=_ncl(vr),
            fit_stats=fit_stats,
            dropped=d.dropped,
            fe_table=fe_table,
            first_stage=first_stage,
            collinear=why,
        ))


def feols(
    formula: str | Formula,
    data: pd.DataFrame | Any,
    *,
    vcov: str | Mapping[str, Any] | None = None,
    weights: str | None = None,
    ssc: str = "fixest",
    singletons: str = "keep",
    tol: float = DEFAULT_TOL,
    collin_tol: float = COLLIN_TOL,
) -> FEOLSResults:
    """Fit a linear model with fixed effects (OLS, WLS or 2SLS): ``FEOLS(...).fit(data)``.

    See :class:`FEOLS` for the parameters and :mod:`causalpolicing.inference.vcov`
    for the covariance types and small-sample conventions.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.feols(f"{panel.outcome} ~ {panel.treatment} | {panel.unit} + {panel.time}", panel)
    >>> res.spec["vcov_source"].startswith("default for a Panel")
    True
    """
    est = FEOLS(formula, vcov=vcov, weights=weights, ssc=ssc, singletons=singletons, tol=tol,
                collin_tol=collin_tol)
    return est._fit_and_warn(data, stacklevel=5)
