"""Instrumental-variables helpers for :class:`~causalpolicing.estimators.linear.FEOLS`.

The two-stage least-squares solve and the first-stage diagnostics: the partial
F of the excluded instruments per endogenous regressor (with the covariance of
the fit), the Olea-Pflueger effective F (one endogenous regressor) and the
Cragg-Donald minimum-eigenvalue F (Stock and Yogo 2005), with an
:class:`~causalpolicing.exceptions.AssumptionWarning` below :data:`WEAK_IV_F`.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = np.column_stack([np.ones(200), rng.normal(size=200)])
>>> x = z @ [0.0, 1.0] + rng.normal(size=(200, 1)).ravel()
>>> cragg_donald(np.column_stack([np.ones(200), x]), z, ("x",), ["const", "x"], [1], 1, 0) > 10
True
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import AssumptionWarning
from ..inference.vcov import VcovInput, VcovRequest, compute_vcov
from ._common import _inv_psd

#: Rule-of-thumb threshold for weak instruments (effective or partial F).
WEAK_IV_F = 10.0


def _two_sls(x: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    zz = z.T @ z
    zx = z.T @ x
    pi = np.linalg.solve(zz, zx)
    xhat_x = zx.T @ pi
    return np.linalg.solve(xhat_x, pi.T @ (z.T @ y))



def first_stage(
    xw: np.ndarray, zw: np.ndarray, endog_names: tuple[str, ...],
    param_names: list[str], excl_idx: list[int], excl_names: list[str],
    req: VcovRequest, vin: VcovInput, codes: dict[str, np.ndarray], kept_exog_n: int,
    ssc: str,
) -> pd.DataFrame:
    """First-stage statistics, one row per endogenous regressor (warns when weak)."""
    zz_inv = _inv_psd(zw.T @ zw)
    rows = []
    q = len(excl_idx)
    cd_f = cragg_donald(xw, zw, endog_names, param_names, excl_idx, kept_exog_n,
                         vin.fe_dof_exact)
    for name in endog_names:
        xj = xw[:, param_names.index(name)]
        pi = zz_inv @ (zw.T @ xj)
        v = xj - zw @ pi
        fs_in = VcovInput(regressors=zw, resid=v, bread=zz_inv, params=pi,
                          fe_codes=vin.fe_codes, fe_names=vin.fe_names,
                          fe_dof_exact=vin.fe_dof_exact)
        fs_req = req if req.name != "CRV3" else VcovRequest("CRV1", req.clusters)
        vr = compute_vcov(fs_req, fs_in, ssc=ssc, cluster_codes=codes,
                          time_codes=codes.get(req.time) if req.time else None, warn=False)
        b = pi[excl_idx]
        cov_b = vr.cov[np.ix_(excl_idx, excl_idx)]
        wald = float(b @ np.linalg.solve(cov_b, b))
        fstat = wald / q
        from scipy import special

        if vr.df is None:
            pval = float(special.chdtrc(q, wald))
            df_denom = None
        else:
            pval = float(special.fdtrc(q, vr.df, fstat))
            df_denom = int(vr.df)
        eff_f = np.nan
        if len(endog_names) == 1:
            # Olea-Pflueger effective F: instruments partialled on the exogenous regressors
            zex = zw[:, :kept_exog_n]
            zin = zw[:, excl_idx]
            if kept_exog_n:
                zin = zin - zex @ np.linalg.lstsq(zex, zin, rcond=None)[0]
            rob = fs_req if fs_req.name != "iid" else VcovRequest("HC1")
            vr_r = vr if rob is fs_req else compute_vcov(
                rob, fs_in, ssc=ssc, cluster_codes=codes,
                time_codes=codes.get(req.time) if req.time else None, warn=False)
            sig = vr_r.cov[np.ix_(excl_idx, excl_idx)]
            qzz = zin.T @ zin
            eff_f = float(b @ qzz @ b / np.trace(sig @ qzz))
        rows.append({"endog": name, "partial_f": fstat, "df_num": q, "df_denom": df_denom,
                     "p_value": pval, "effective_f": eff_f, "cragg_donald_f": cd_f,
                     "coefficients": dict(zip(excl_names, map(float, b), strict=True))})
        if len(endog_names) == 1 and eff_f < WEAK_IV_F:
            warnings.warn(
                f"Weak instruments for {name}: effective F = {eff_f:.2f} < {WEAK_IV_F:g} "
                "(rule of thumb of Staiger-Stock; Olea-Pflueger 2013 give a 5% critical "
                "value of about 23 for a 10% worst-case bias). 2SLS estimates and their "
                "standard errors are unreliable; consider weak-IV-robust inference "
                "(Anderson-Rubin).",
                AssumptionWarning, stacklevel=5)
        elif len(endog_names) > 1 and fstat < WEAK_IV_F:
            warnings.warn(
                f"Weak instruments for {name}: partial F = {fstat:.2f} < {WEAK_IV_F:g} "
                "(rule of thumb). With several endogenous regressors the partial F per "
                "regressor can overstate strength; see also the Cragg-Donald F.",
                AssumptionWarning, stacklevel=5)
    if len(endog_names) > 1 and cd_f < WEAK_IV_F:
        warnings.warn(
            f"Weak instruments: Cragg-Donald minimum-eigenvalue F = {cd_f:.2f} < "
            f"{WEAK_IV_F:g} (rule of thumb; compare with the Stock-Yogo critical values "
            f"for {len(endog_names)} endogenous regressors and {q} instruments). It "
            "assumes iid errors; a Kleibergen-Paap statistic is not computed yet.",
            AssumptionWarning, stacklevel=5)
    return pd.DataFrame(rows)



def cragg_donald(xw: np.ndarray, zw: np.ndarray, endog_names: tuple[str, ...],
                 param_names: list[str], excl_idx: list[int], kept_exog_n: int,
                 fe_dof: int) -> float:
    """Cragg-Donald minimum-eigenvalue F (Stock and Yogo 2005), iid-based.

    With one endogenous regressor it equals the iid partial F.
    """
    x = xw[:, [param_names.index(nm) for nm in endog_names]]
    z = zw[:, excl_idx]
    if kept_exog_n:
        zex = zw[:, :kept_exog_n]
        proj = np.linalg.lstsq(zex, np.column_stack([x, z]), rcond=None)[0]
        xz = np.column_stack([x, z]) - zex @ proj
        x, z = xz[:, :x.shape[1]], xz[:, x.shape[1]:]
    n, m, q = x.shape[0], x.shape[1], z.shape[1]
    coef = np.linalg.lstsq(z, x, rcond=None)[0]
    fitted = z @ coef
    resid = x - fitted
    df = n - kept_exog_n - q - fe_dof
    sigma_vv = resid.T @ resid / df
    vals, vecs = np.linalg.eigh(sigma_vv)
    inv_sqrt = (vecs / np.sqrt(vals)) @ vecs.T
    g = inv_sqrt @ (fitted.T @ fitted) @ inv_sqrt / q
    return float(np.linalg.eigvalsh(g)[0]) if m else float("nan")
