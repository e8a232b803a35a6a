"""A fitted fixed-effects model re-opened for refutation: its design, its within
transformation and fast refits with a modified treatment, sample or outcome.

:class:`PanelModel` takes a results object of :func:`causalpolicing.feols` (OLS or
WLS, not IV) or :func:`causalpolicing.fepois` and the data it was fit on, rebuilds
the design with the same formula and options, and checks that it reproduces the
reported estimate (so the wrong data cannot slip through).

Linear models: the fast paths
-----------------------------
Write the within-transformed model as ``y~ = t~ b + W~ g + e`` (``~``: the
fixed effects projected out, see :mod:`causalpolicing.core.demean`; ``W``:
the other regressors). By Frisch-Waugh-Lovell, the coefficient of a column
``t*`` put in place of ``t`` is

    b* = (M t*~)' y~ / (M t*~)' (M t*~),     M = I - W~ (W~'W~)^{-1} W~'.

The within transformation of a permuted treatment is *not* the permutation of
the within-transformed treatment (the unit means change), so every placebo
column is demeaned, but all of them at once: the ``(n x R)`` matrix of placebo
columns goes through one call of the demeaning routine (with two fixed effects
the alternating projections run on the coefficients of all columns together),
then ``M`` is applied through a QR factorisation of ``W~`` computed once. This
is the estimate a refit with :func:`causalpolicing.feols` gives, up to the
demeaning tolerance (the tests check ``1e-10``). A random common cause ``z``
added to the model is handled the same way (two-regressor FWL per column).

Subsets of rows (leave one unit out, random subsets of units) are refit with
the same demeaning routine and singleton rule as ``feols`` on the rows kept.
Poisson models are refit with :func:`causalpolicing.fepois` each time (about
5 ms per fit on the 26 x 33 panel: 1,000 draws take about 5 s).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...core.demean import FixedEffects, demean
from ...core.fe_structure import drop_singletons, factorize, recode
from ...data.panel import Panel
from ...estimators._design import build_design
from ...estimators.linear import FEOLSResults, feols
from ...estimators.poisson import FEPoissonResults, fepois
from ...exceptions import EstimationError, SpecError
from ...formula import Factor, Formula, Term, parse_formula

__all__ = ["PanelModel", "Family"]

Family = Literal["linear", "poisson"]

#: relative agreement required between the rebuilt design's estimate and the results
_MATCH_RTOL = 1e-6


def _frame(data: Any) -> pd.DataFrame:
    if isinstance(data, Panel):
        return data.to_frame()
    if isinstance(data, pd.DataFrame):
        return data
    raise SpecError(
        f"data must be the pandas DataFrame or Panel the model was fit on; got "
        f"{type(data).__name__}.")


def _panel_roles(data: Any) -> tuple[str | None, str | None]:
    if isinstance(data, Panel):
        return data.unit, data.time
    return None, None


def _family(results: Any) -> Family:
    if isinstance(results, FEPoissonResults):
        return "poisson"
    if isinstance(results, FEOLSResults):
        if results.estimator not in ("FEOLS", "OLS"):
            raise SpecError(
                f"Refutation, sensitivity and mediation support OLS/WLS fits of cp.feols and "
                f"Poisson fits of cp.fepois; got a {results.estimator!r} fit (instrumental "
                "variables are not supported: refute the reduced form instead).")
        return "linear"
    raise SpecError(
        "results must come from cp.feols (OLS/WLS with fixed effects) or cp.fepois; got "
        f"{type(results).__name__}. Between, first-difference and other wrappers are not "
        "supported: fit the model with cp.feols.")


class PanelModel:
    """A fitted model with its design, ready for refits (private; see the module notes).

    Parameters
    ----------
    results
        From :func:`causalpolicing.feols` (OLS/WLS) or :func:`causalpolicing.fepois`.
    data
        The DataFrame or Panel the model was fit on.
    treatment
        The regressor to refute (a term of the formula: one column, optionally
        in a function such as ``log(x)``). Default: the first regressor.
    unit, time
        Unit and time columns (default: the Panel's roles; required for a
        DataFrame by the refuters that need them).
    """

    def __init__(self, results: Any, data: Any, *, treatment: str | None = None,
                 unit: str | None = None, time: str | None = None) -> None:
        self.family: Family = _family(results)
        self.results = results
        self.frame = _frame(data)
        spec = results.spec
        self.spec = spec
        self.formula: Formula = parse_formula(spec["formula"])
        if self.formula.is_iv:
            raise SpecError("Instrumental-variable formulas are not supported here.")
        p_unit, p_time = _panel_roles(data)
        self.unit = unit if unit is not None else p_unit
        self.time = time if time is not None else p_time
        for role, col in (("unit", self.unit), ("time", self.time)):
            if col is not None and col not in self.frame.columns:
                raise SpecError(f"{role}={col!r} is not a column of the data; columns: "
                                f"{list(self.frame.columns)[:20]}.")
        params = results.params
        terms = [t.name for t in self.formula.exog]
        if treatment is None:
            cands = [t for t in terms if t in params.index]
            if not cands:
                raise SpecError("The model has no estimated regressor to refute.")
            treatment = cands[0]
        if treatment not in terms:
            raise SpecError(
                f"treatment={treatment!r} is not a regressor of the formula "
                f"{spec['formula']!r}; choose one of {terms}.")
        if treatment not in params.index:
            raise SpecError(
                f"treatment={treatment!r} was dropped from the fit ({results.collinear}); "
                "it has no estimate to refute.")
        term = next(t for t in self.formula.exog if t.name == treatment)
        if len(term.factors) != 1:
            raise SpecError(
                f"treatment={treatment!r} is an interaction; permuting a product is not "
                "permuting the treatment. Create the product as a column and refit.")
        col = term.factors[0].column
        others = [t.name for t in self.formula.exog if t.name != treatment
                  and col in t.columns]
        if others:
            raise SpecError(
                f"The treatment column {col!r} also enters {others}; a placebo would change "
                "those terms too. Refit without them or create them as separate columns.")
        self.term = treatment
        self.term_obj = term
        self.column = col
        self.estimate = float(params[treatment])
        self.std_error = float(results.std_errors[treatment])
        self.kept_terms = [t for t in terms if t in params.index]

        # the design, as the estimator built it
        vspec = spec["vcov"]
        extra: list[str] = []
        if isinstance(vspec, Mapping):
            ((_, val),) = vspec.items()
            if isinstance(val, str):
                extra = val.split("+")
            elif isinstance(val, Mapping):
                extra = [val["time"]]
            else:
                extra = list(val)
        self.vcov_columns = tuple(extra)
        if self.family == "linear":
            d = build_design(self.formula, self.frame, weights=spec["weights"], extra=extra,
                             singletons=spec["singletons"])
            self.positions = d.positions
            self.y = d.y
            self.exog = d.exog
            self.fe_codes = tuple(d.fe_codes)
            self.weights = d.weights
            if len(self.y) != results.nobs:
                raise SpecError(
                    f"data do not match the fit: the formula keeps {len(self.y)} rows, the fit "
                    f"used {results.nobs}. Pass the data the model was fit on.")
            idx = {t.name: j for j, t in enumerate(self.formula.exog)}
            self.t_col = idx[treatment]
            self.w_cols = [idx[t] for t in self.kept_terms if t != treatment]
            self._within_cache: dict[str, Any] | None = None
            beta = self.within()["beta"]
        else:
            state = results.fit_state
            if state.n_input != len(self.frame):
                raise SpecError(
                    f"data do not match the fit: {len(self.frame)} rows, the fit was given "
                    f"{state.n_input}. Pass the data the model was fit on.")
            self.positions = state.positions
            self.y = self.frame[self.formula.depvar.columns[0]].to_numpy(float)[self.positions]
            self.fe_codes = tuple(state.vcov_input.fe_codes)
            self.weights = None
            beta = self.estimate
        if not np.isclose(beta, self.estimate, rtol=_MATCH_RTOL, atol=1e-12 * max(
                1.0, abs(self.estimate))):
            raise SpecError(
                f"data do not match the fit: the rebuilt design gives {beta!r} for "
                f"{treatment!r}, the results {self.estimate!r}. Pass the data the model was "
                "fit on.")
        self.n = len(self.positions)
        sub = self.frame.iloc[self.positions]
        self.unit_codes = None if self.unit is None else factorize(sub[self.unit])[0]
        self.time_codes = None if self.time is None else factorize(sub[self.time])[0]
        if self.unit_codes is not None and (self.unit_codes < 0).any():
            raise SpecError(f"unit column {self.unit!r} is missing on estimation rows.")
        if self.time_codes is not None and (self.time_codes < 0).any():
            raise SpecError(f"time column {self.time!r} is missing on estimation rows.")

    # ------------------------------------------------------------------ helpers
    def need(self, *roles: str) -> None:
        """Raise unless the unit/time roles the caller needs are known."""
        for r in roles:
            if getattr(self, r) is None:
                raise SpecError(
                    f"This refuter needs the {r} column: pass {r}='column' (a Panel "
                    "declares it).")

    @property
    def unit_labels(self) -> np.ndarray:
        self.need("unit")
        sub = self.frame[self.unit].iloc[self.positions]
        codes, _ = factorize(sub)
        labels = np.empty(int(codes.max()) + 1, dtype=object)
        labels[codes] = sub.to_numpy()
        return labels

    def treatment_values(self) -> np.ndarray:
        """The treatment term's values on the estimation rows (after any function)."""
        if self.family == "linear":
            return self.exog[:, self.t_col].copy()
        raw = self.frame[self.column].to_numpy(float)[self.positions]
        return _apply(self.term_obj.factors[0].func, raw)

    def refit_options(self) -> dict[str, Any]:
        s = self.spec
        keys = (["vcov", "ssc", "weights", "singletons", "tol", "collin_tol"]
                if self.family == "linear" else
                ["vcov", "ssc", "offset", "weights", "tol", "maxiter", "separation",
                 "singletons", "collin_tol"])
        out = {k: s[k] for k in keys}
        if self.family == "poisson":
            out["exposure"] = s["exposure"] if s["exposure"] else False
        return out

    def refit(self, frame: pd.DataFrame, formula: Formula | None = None, *,
              quiet: bool = True) -> Any:
        """Refit the same estimator and options on ``frame`` (warnings silenced if quiet)."""
        fn = feols if self.family == "linear" else fepois
        f = self.formula if formula is None else formula
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            return fn(f, frame, **self.refit_options())

    def free_name(self, stem: str) -> str:
        """A column name not used in the data."""
        name, i = stem, 1
        while name in self.frame.columns:
            name, i = f"{stem}_{i}", i + 1
        return name

    def formula_with_treatment(self, column: str, *, keep_current: bool = False,
                               func: str | None | bool = True) -> Formula:
        """The formula with the treatment term's column replaced by (or added as) ``column``."""
        fn = self.term_obj.factors[0].func if func is True else (func or None)
        new = Term((Factor(column, fn),))
        terms: list[Term] = []
        for t in self.formula.exog:
            if t.name == self.term:
                if keep_current:
                    terms.append(t)
                terms.append(new)
            else:
                terms.append(t)
        return dataclasses.replace(self.formula, exog=tuple(terms))

    def formula_with_outcome(self, column: str) -> Formula:
        return dataclasses.replace(self.formula, depvar=Term((Factor(column),)))

    def frame_with(self, column: str, values_on_rows: np.ndarray) -> pd.DataFrame:
        """A copy of the data with ``column`` set on the estimation rows (NaN elsewhere)."""
        full = np.full(len(self.frame), np.nan)
        full[self.positions] = values_on_rows
        out = self.frame.copy()
        out[column] = full
        return out

    # ---------------------------------------------------- linear: within transformation
    def within(self) -> dict[str, Any]:
        """The within-transformed design of a linear model (computed once)."""
        if self._within_cache is not None:
            return self._within_cache
        has_fe = bool(self.fe_codes)
        cols = [self.y[:, None], self.exog[:, [self.t_col]], self.exog[:, self.w_cols]]
        if not has_fe and self.formula.intercept:
            cols.append(np.ones((len(self.y), 1)))
        raw = np.column_stack(cols)
        fe = FixedEffects(self.fe_codes) if has_fe else ()
        dm = self._demean(raw, fe, self.weights)
        yw, tw, ww = dm[:, 0], dm[:, 1], dm[:, 2:]
        q = np.linalg.qr(ww)[0] if ww.shape[1] else np.zeros((len(yw), 0))
        y_res = yw - q @ (q.T @ yw)
        t_res = tw - q @ (q.T @ tw)
        beta = float(t_res @ y_res / (t_res @ t_res))
        self._within_cache = {"fe": fe, "q": q, "y_res": y_res, "t_res": t_res,
                              "beta": beta, "raw": raw}
        return self._within_cache

    def _demean(self, mat: np.ndarray, fe: Any, w: np.ndarray | None) -> np.ndarray:
        if not len(fe):
            out = np.array(mat, dtype=float, copy=True)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out, _ = demean(mat, fe, w, tol=self.spec["tol"])
            out = out.reshape(mat.shape)
        if w is not None:
            out = out * np.sqrt(w)[:, None]
        return out

    def _partial(self, mat: np.ndarray) -> np.ndarray:
        q = self.within()["q"]
        return mat - q @ (q.T @ mat) if q.shape[1] else mat

    def placebo_betas(self, columns: np.ndarray) -> np.ndarray:
        """Coefficients with each column of ``columns`` (n x R) in place of the treatment."""
        wc = self.within()
        d = self._demean(columns, wc["fe"], self.weights)
        q = wc["q"]
        # (M d)' y_res = d' y_res because y_res is orthogonal to W; (M d)'(M d) =
        # d'd - |Q'd|^2, formed explicitly where that difference loses precision
        num = d.T @ wc["y_res"]
        ss = np.einsum("ij,ij->j", d, d)
        if q.shape[1]:
            qd = q.T @ d
            den = ss - np.einsum("ij,ij->j", qd, qd)
            weak = den < 1e-4 * ss
            if weak.any():
                p = self._partial(d[:, weak])
                den[weak] = np.einsum("ij,ij->j", p, p)
        else:
            den = ss
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 1e-14 * np.maximum(ss, 1e-300), num / den, np.nan)

    def betas_with_extra(self, columns: np.ndarray) -> np.ndarray:
        """Treatment coefficients with each column of ``columns`` added as a regressor."""
        wc = self.within()
        z = self._partial(self._demean(columns, wc["fe"], self.weights))
        t, y = wc["t_res"], wc["y_res"]
        s_tt = float(t @ t)
        s_ty = float(t @ y)
        s_tz = z.T @ t
        s_zy = z.T @ y
        s_zz = np.einsum("ij,ij->j", z, z)
        den = s_tt * s_zz - s_tz**2
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, (s_zz * s_ty - s_tz * s_zy) / den, np.nan)

    def subset_beta(self, rows: np.ndarray, fe_codes: Sequence[np.ndarray] | None = None
                    ) -> float:
        """Treatment coefficient refit on ``rows`` (positions in the estimation sample, may
        repeat), with the same singleton rule; ``fe_codes`` overrides the fixed effects
        of those rows (e.g. relabelled units of a cluster bootstrap)."""
        if self.family == "poisson":
            raise EstimationError("subset_beta is for linear models; refit Poisson models.")
        raw = self.within()["raw"][rows]
        codes = [c[rows] for c in self.fe_codes] if fe_codes is None else list(fe_codes)
        w = None if self.weights is None else self.weights[rows]
        if codes:
            codes = [recode(c) for c in codes]
            if self.spec["singletons"] == "drop":
                keep = drop_singletons(codes)
                if not keep.all():
                    raw = raw[keep]
                    codes = [recode(c[keep]) for c in codes]
                    w = None if w is None else w[keep]
        return _ols_first(self._demean(raw, FixedEffects(codes) if codes else (), w))


def _ols_first(dm: np.ndarray) -> float:
    """First slope of the regression of column 0 on the other columns (nan if singular)."""
    y, x = dm[:, 0], dm[:, 1:]
    try:
        beta = np.linalg.solve(x.T @ x, x.T @ y)
    except np.linalg.LinAlgError:
        return float("nan")
    return float(beta[0])


def _apply(func: str | None, x: np.ndarray) -> np.ndarray:
    if func is None:
        return x.astype(float, copy=True)
    fns: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "log": np.log, "log1p": np.log1p, "exp": np.exp, "sqrt": np.sqrt, "abs": np.abs}
    with np.errstate(all="ignore"):
        return fns[func](x)


def spawn_rngs(seed: int | np.random.SeedSequence | None, keys: Iterable[int]
               ) -> tuple[int, dict[int, np.random.Generator]]:
    """Independent generators keyed by integers (results do not depend on which other
    keys are drawn) and the entropy that reproduces them."""
    if isinstance(seed, np.random.SeedSequence):
        ss = seed
    elif seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
                          and seed >= 0):
        ss = np.random.SeedSequence(None if seed is None else int(seed))
    else:
        raise SpecError(f"seed must be a non-negative integer or None; got {seed!r}.")
    entropy = ss.entropy
    return int(entropy), {k: np.random.default_rng(np.random.SeedSequence(
        entropy, spawn_key=(*ss.spawn_key, k))) for k in keys}
