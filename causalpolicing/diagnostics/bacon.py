r"""The Goodman-Bacon decomposition of a two-way fixed-effects DiD with staggered adoption.

With a binary treatment that units adopt at different times and never leave, the
two-way fixed-effects (TWFE) coefficient :math:`\hat\beta^{DD}` of
``y ~ D | unit + time`` is a weighted average of every simple 2×2
difference-in-differences between two *timing groups* (units first treated in the
same period) or between a timing group and the units whose treatment never varies
(Goodman-Bacon 2021, *Journal of Econometrics* 225(2):254-277, Theorem 1):

* **Treated vs Never Treated** -- timing group :math:`k` against never-treated
  units :math:`U`, over the whole panel;
* **Treated vs Always Treated** -- timing group :math:`k` against units treated in
  every period (their treatment is absorbed by the unit effects, so they are
  controls like :math:`U`; Goodman-Bacon 2021, footnote 11), over the whole panel;
* **Earlier vs Later Treated** -- the earlier group :math:`k` as treated, the
  later group :math:`l` as control, before :math:`l` is treated;
* **Later vs Earlier Treated** -- the later group :math:`l` as treated, the
  already-treated :math:`k` as control, after :math:`k` is treated. With effects
  that change over time this comparison is biased (its control group's change
  contains its own treatment effect).

R ``bacondecomp`` names the first two ``"Treated vs Untreated"`` and
``"Later vs Always Treated"`` (:data:`R_TYPE_NAMES`); the numbers are the same.

Examples
--------
>>> import causalpolicing as cp
>>> from causalpolicing.diagnostics import bacon_decomposition
>>> res = bacon_decomposition(cp.datasets.load("castle"), outcome="l_homicide",
...                           treatment="post")
>>> round(res.twfe, 6), round(float((res.comparisons.weight * res.comparisons.estimate).sum()), 6)
(0.069398, 0.069398)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._hints import did_you_mean
from ..data.panel import Panel
from ..estimators.linear import feols
from ..exceptions import SpecError

__all__ = ["BaconDecomposition", "COMPARISON_TYPES", "R_TYPE_NAMES", "bacon_decomposition"]

EARLY_LATE = "Earlier vs Later Treated"
LATE_EARLY = "Later vs Earlier Treated"
VS_NEVER = "Treated vs Never Treated"
VS_ALWAYS = "Treated vs Always Treated"

#: The comparison types, in the order of :meth:`BaconDecomposition.summary`.
COMPARISON_TYPES: tuple[str, ...] = (EARLY_LATE, LATE_EARLY, VS_NEVER, VS_ALWAYS)

#: Our type names -> the names R ``bacondecomp::bacon()`` prints.
R_TYPE_NAMES: dict[str, str] = {
    EARLY_LATE: "Earlier vs Later Treated",
    LATE_EARLY: "Later vs Earlier Treated",
    VS_NEVER: "Treated vs Untreated",
    VS_ALWAYS: "Later vs Always Treated",
}

NEVER = "never"
ALWAYS = "always"
_COLUMNS = ["type", "treated", "control", "estimate", "weight"]


@dataclass(frozen=True)
class BaconDecomposition:
    """Every 2×2 comparison of a staggered TWFE DiD, with its estimate and weight.

    Attributes
    ----------
    twfe
        The two-way fixed-effects coefficient of ``treatment``
        (``cp.feols(f"{outcome} ~ {treatment} | {unit} + {time}")``).
    outcome, treatment, unit, time
        The columns used.
    n_units, n_periods
        The balanced panel's dimensions.
    cohorts
        One row per cohort: ``cohort`` (the first treated period, or ``"never"`` /
        ``"always"``), ``n_units`` and ``share_treated`` (the share of periods it is
        treated, :math:`\\bar D_k`).

    Notes
    -----
    :attr:`comparisons` holds one row per 2×2 comparison (``type``, ``treated``: the
    treated cohort's first treated period, ``control``: the control cohort's first
    treated period or ``"never"`` / ``"always"``, ``estimate``, ``weight``); the
    weights sum to 1 and ``(weight * estimate).sum()`` equals :attr:`twfe`.
    """

    twfe: float
    outcome: str
    treatment: str
    unit: str
    time: str
    n_units: int
    n_periods: int
    _comparisons: pd.DataFrame = field(repr=False)
    _cohorts: pd.DataFrame = field(repr=False)

    @property
    def comparisons(self) -> pd.DataFrame:
        """One row per 2×2 comparison: ``type, treated, control, estimate, weight`` (a copy)."""
        return self._comparisons.copy()

    @property
    def cohorts(self) -> pd.DataFrame:
        """One row per cohort: ``cohort, n_units, share_treated`` (a copy)."""
        return self._cohorts.copy()

    @property
    def decomposition(self) -> float:
        """:math:`\\sum_k s_k \\hat\\beta_k`, equal to :attr:`twfe` up to rounding."""
        c = self._comparisons
        return float((c["weight"] * c["estimate"]).sum())

    def summary(self) -> pd.DataFrame:
        """By comparison type: total ``weight``, weighted average ``estimate``, ``n_comparisons``.

        The rows are the types present, in the order of :data:`COMPARISON_TYPES`
        (R ``bacondecomp``'s printed summary, with ``avg_est`` named ``estimate``).

        Examples
        --------
        >>> import causalpolicing as cp
        >>> from causalpolicing.diagnostics import bacon_decomposition
        >>> res = bacon_decomposition(cp.datasets.load("castle"), outcome="l_homicide",
        ...                           treatment="post")
        >>> res.summary().round(4)
                                  weight  estimate  n_comparisons
        type
        Earlier vs Later Treated  0.0771   -0.0286             10
        Later vs Earlier Treated  0.0241    0.0456             10
        Treated vs Never Treated  0.8988    0.0784              5
        """
        c = self._comparisons
        rows = []
        for kind in COMPARISON_TYPES:
            part = c[c["type"] == kind]
            if part.empty:
                continue
            w = float(part["weight"].sum())
            est = float((part["weight"] * part["estimate"]).sum() / w) if w > 0 else np.nan
            rows.append({"type": kind, "weight": w, "estimate": est, "n_comparisons": len(part)})
        return pd.DataFrame(rows).set_index("type")

    def tidy(self) -> pd.DataFrame:
        """One row per comparison, named: ``term`` (``"2007 vs never"``) then the comparison columns."""
        c = self.comparisons
        c.insert(0, "term", [f"{t} vs {u}" for t, u in zip(c["treated"], c["control"],
                                                             strict=True)])
        return c

    def glance(self) -> pd.DataFrame:
        """One row: ``twfe``, ``decomposition``, ``n_comparisons``, ``n_units``, ``n_periods``,
        ``n_timing_groups``, ``n_never_treated``, ``n_always_treated`` (units)."""
        co = self._cohorts.set_index("cohort")["n_units"]
        timing = [k for k in co.index if k not in (NEVER, ALWAYS)]
        return pd.DataFrame([{
            "twfe": self.twfe,
            "decomposition": self.decomposition,
            "n_comparisons": len(self._comparisons),
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "n_timing_groups": len(timing),
            "n_never_treated": int(co.get(NEVER, 0)),
            "n_always_treated": int(co.get(ALWAYS, 0)),
        }])


def _frame_and_roles(data: Any, unit: str | None, time: str | None
                     ) -> tuple[pd.DataFrame, str, str]:
    if isinstance(data, Panel):
        return data.to_frame(), unit or data.unit, time or data.time
    if not isinstance(data, pd.DataFrame):
        raise SpecError(f"data must be a Panel or a pandas DataFrame; got {type(data).__name__}.")
    missing = [name for name, v in (("unit", unit), ("time", time)) if v is None]
    if missing:
        raise SpecError(f"With a DataFrame, pass {' and '.join(missing)}= (the column(s) naming "
                        "the unit and the period), or load a Panel with cp.load_panel(...).")
    return data, str(unit), str(time)


def _check_columns(frame: pd.DataFrame, cols: dict[str, str]) -> None:
    for param, col in cols.items():
        if not isinstance(col, str):
            raise SpecError(f"{param} must be a column name (str); got {col!r}.")
        if col not in frame.columns:
            raise SpecError(f"{param}={col!r} is not a column of the data"
                            f"{did_you_mean(col, map(str, frame.columns))}.")
    if len(set(cols.values())) < len(cols):
        raise SpecError(f"outcome, treatment, unit and time must be four different columns; got "
                        f"{cols}.")


def _rows(index: pd.Index, n: int = 5) -> str:
    shown = ", ".join(map(repr, index[:n].tolist()))
    return shown + (f" and {len(index) - n} more" if len(index) > n else "")


def _validate(frame: pd.DataFrame, outcome: str, treatment: str, unit: str, time: str
              ) -> pd.DataFrame:
    df = frame[[unit, time, outcome, treatment]]
    na = df.isna().any(axis=1)
    if na.any():
        cols = [c for c in df.columns if df[c].isna().any()]
        raise SpecError(f"The decomposition needs complete data; {cols} are missing in "
                        f"{int(na.sum())} rows (index {_rows(df.index[na])}). Drop those units "
                        "(every unit must be observed in every period) or impute the values.")
    d = df[treatment]
    if pd.api.types.is_bool_dtype(d):
        d = d.astype(float)
    elif not pd.api.types.is_numeric_dtype(d):
        raise SpecError(f"treatment={treatment!r} must be a binary 0/1 column; it has dtype "
                        f"{d.dtype}. Code it as 0/1, e.g. (df[{treatment!r}] == 'yes').astype(int).")
    bad = ~d.isin([0, 1])
    if bad.any():
        raise SpecError(f"treatment={treatment!r} must be binary (0/1); {int(bad.sum())} rows "
                        f"have other values (index {_rows(df.index[bad])}; e.g. "
                        f"{d[bad].iloc[0]!r}). The decomposition is for a binary treatment: "
                        f"dichotomise it, e.g. (df[{treatment!r}] > 0).astype(int).")
    dup = df.duplicated([unit, time], keep=False)
    if dup.any():
        raise SpecError(f"Each ({unit!r}, {time!r}) pair must appear once; {int(dup.sum())} rows are "
                        f"duplicates (index {_rows(df.index[dup])}). Aggregate or drop them.")
    out = pd.DataFrame({"unit": df[unit].to_numpy(), "time": df[time].to_numpy(),
                        "y": df[outcome].astype(float).to_numpy(), "d": d.to_numpy(float)})
    n_t = out["time"].nunique()
    counts = out.groupby("unit", sort=True)["time"].size()
    short = counts[counts < n_t]
    if len(short):
        raise SpecError(f"The decomposition needs a balanced panel (every {unit} in each of the "
                        f"{n_t} periods of {time!r}); {len(short)} units have fewer: "
                        f"{_rows(short.index)}. Keep units observed in every period, e.g. "
                        f"df.groupby({unit!r}).filter(lambda g: len(g) == {n_t}), or fill the "
                        "gaps.")
    return out


def _cohorts_of(out: pd.DataFrame, treatment: str, unit: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit codes, period codes, the unit x period treatment matrix and each unit's first period."""
    ucode, units = pd.factorize(out["unit"], sort=True)
    tcode, periods = pd.factorize(out["time"], sort=True)
    n, t = len(units), len(periods)
    dmat = np.zeros((n, t))
    dmat[ucode, tcode] = out["d"].to_numpy()
    drops = np.diff(dmat, axis=1) < 0
    if drops.any():
        bad = np.flatnonzero(drops.any(axis=1))
        where = [f"{units[i]!r} (off in {periods[int(np.argmax(drops[i])) + 1]})" for i in bad[:5]]
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise SpecError(f"treatment={treatment!r} must be absorbing (once 1, 1 in every later "
                        f"period); it switches off for {len(bad)} {unit} values: "
                        f"{', '.join(where)}{more}. The decomposition is for staggered adoption: "
                        f"code the treatment as 'ever adopted', e.g. df.groupby({unit!r})"
                        f"[{treatment!r}].cummax() with the data sorted by period, or use a "
                        "design for treatments that switch on and off.")
    first = np.where(dmat.any(axis=1), np.argmax(dmat, axis=1), t)
    return ucode, tcode, dmat, first


def _dd(ya: np.ndarray, yb: np.ndarray, pre: slice, post: slice) -> float:
    """(post - pre mean of a) - (post - pre mean of b): the 2×2 DiD on group-period means."""
    return float((ya[post].mean() - ya[pre].mean()) - (yb[post].mean() - yb[pre].mean()))


def bacon_decomposition(
    data: Any,
    *,
    outcome: str,
    treatment: str,
    unit: str | None = None,
    time: str | None = None,
) -> BaconDecomposition:
    r"""Decompose the TWFE DiD coefficient into every 2×2 comparison (Goodman-Bacon 2021).

    Parameters
    ----------
    data
        A :class:`~causalpolicing.Panel` or a DataFrame: a balanced panel, one row
        per unit and period, without missing values in the four columns.
    outcome
        The outcome column.
    treatment
        A binary (0/1 or bool), absorbing treatment column: once a unit is treated it
        stays treated (staggered adoption).
    unit, time
        The unit and period columns (default: the Panel's roles; required with a
        DataFrame).

    Returns
    -------
    BaconDecomposition
        ``comparisons`` (type, treated, control, estimate, weight), ``twfe``,
        ``summary()`` by type, ``tidy()``, ``glance()``; plot it with
        :func:`causalpolicing.report.plots.bacon_plot`.

    Raises
    ------
    SpecError
        For an unknown column, missing values, a non-binary treatment, duplicate
        unit-period rows, an unbalanced panel (naming the units), a treatment that
        switches off (naming the units and the period), or no unit whose treatment
        changes within the panel.

    Notes
    -----
    Units are grouped by the period they are first treated; with :math:`T` periods,
    :math:`n_k` a group's share of the units and :math:`\bar D_k` the share of the
    periods it is treated, the 2×2 estimates are differences of group-period means
    (equal to TWFE on each 2×2 subsample) and the weights are Goodman-Bacon's
    (2021) equations (10e)-(10g),

    .. math::

        s_{kU} &= (n_k + n_U)^2\, n_{kU}(1 - n_{kU})\, \bar D_k (1 - \bar D_k) / \hat V^D \\
        s^k_{kl} &= ((n_k + n_l)(1 - \bar D_l))^2\, n_{kl}(1 - n_{kl})\,
                    \frac{\bar D_k - \bar D_l}{1 - \bar D_l}\,
                    \frac{1 - \bar D_k}{1 - \bar D_l} / \hat V^D \\
        s^l_{kl} &= ((n_k + n_l)\bar D_k)^2\, n_{kl}(1 - n_{kl})\,
                    \frac{\bar D_l}{\bar D_k}\, \frac{\bar D_k - \bar D_l}{\bar D_k} / \hat V^D

    with :math:`n_{ab} = n_a / (n_a + n_b)`, :math:`k` the earlier group and
    :math:`\hat V^D` the variance of the treatment after removing unit and period
    means. They sum to 1 (Theorem 1), and :math:`\sum s\,\hat\beta^{2\times2}` is the
    TWFE coefficient. Never-treated and always-treated units are separate control
    groups :math:`U` (as in R ``bacondecomp``); pooling them would give one
    comparison per timing group with the weight-averaged estimate.

    Examples
    --------
    >>> import causalpolicing as cp
    >>> from causalpolicing.diagnostics import bacon_decomposition
    >>> res = bacon_decomposition(cp.datasets.load("castle"), outcome="l_homicide",
    ...                           treatment="post")
    >>> res.comparisons.tail(3).round({"estimate": 4, "weight": 4})
                            type treated control  estimate  weight
    22  Treated vs Never Treated    2008   never     0.092  0.1610
    23  Treated vs Never Treated    2009   never     0.182  0.0604
    24  Treated vs Never Treated    2010   never     0.074  0.0168
    >>> round(float(res.comparisons.weight.sum()), 12), round(res.twfe, 6)
    (1.0, 0.069398)
    """
    frame, unit, time = _frame_and_roles(data, unit, time)
    _check_columns(frame, {"outcome": outcome, "treatment": treatment, "unit": unit,
                           "time": time})
    out = _validate(frame, outcome, treatment, unit, time)
    ucode, tcode, dmat, first = _cohorts_of(out, treatment, unit)
    n_units, n_periods = dmat.shape
    periods = pd.factorize(out["time"], sort=True)[1]
    timing = np.unique(first[(first > 0) & (first < n_periods)])
    if timing.size == 0:
        raise SpecError(f"No {unit} changes treatment within the panel (every unit is treated "
                        f"in all periods or in none), so {treatment!r} is collinear with the "
                        "unit effects and there is nothing to decompose.")

    # group-period means of the outcome, one row per cohort (first treated period; T = never)
    ymat = np.zeros((n_units, n_periods))
    ymat[ucode, tcode] = out["y"].to_numpy()
    groups = np.unique(first)
    ybar = {int(g): ymat[first == g].mean(axis=0) for g in groups}
    share = {int(g): float((first == g).mean()) for g in groups}          # n_k
    dbar = {int(g): (n_periods - int(g)) / n_periods for g in groups}     # D-bar_k
    # V-hat^D: the variance of D after removing unit and period means (balanced panel)
    dtil = dmat - dmat.mean(axis=1, keepdims=True) - dmat.mean(axis=0, keepdims=True) + dmat.mean()
    v_d = float((dtil ** 2).mean())

    def label(g: int) -> Any:
        if g == n_periods:
            return NEVER
        return ALWAYS if g == 0 else periods[g]

    rows: list[tuple[str, int, int, float, float]] = []
    for k in timing.tolist():
        for u, kind in ((n_periods, VS_NEVER), (0, VS_ALWAYS)):
            if u not in ybar:
                continue
            nk, nu, dk = share[k], share[u], dbar[k]
            nku = nk / (nk + nu)
            s = (nk + nu) ** 2 * nku * (1 - nku) * dk * (1 - dk)
            est = _dd(ybar[k], ybar[u], slice(0, k), slice(k, n_periods))
            rows.append((kind, k, u, est, s / v_d))
    for k in timing.tolist():
        for m in timing.tolist():
            if m <= k:
                continue
            nk, nl, dk, dl = share[k], share[m], dbar[k], dbar[m]
            nkl = nk / (nk + nl)
            # k (earlier) treated, l (later) as control, periods before l is treated
            s_k = ((nk + nl) * (1 - dl)) ** 2 * nkl * (1 - nkl) * ((dk - dl) / (1 - dl)) * (
                (1 - dk) / (1 - dl))
            est_k = _dd(ybar[k], ybar[m], slice(0, k), slice(k, m))
            # l (later) treated, k (earlier, already treated) as control, from k's start
            s_l = ((nk + nl) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * ((dk - dl) / dk)
            est_l = _dd(ybar[m], ybar[k], slice(k, m), slice(m, n_periods))
            rows.append((EARLY_LATE, k, m, est_k, s_k / v_d))
            rows.append((LATE_EARLY, m, k, est_l, s_l / v_d))

    order = {kind: i for i, kind in enumerate(COMPARISON_TYPES)}
    rows.sort(key=lambda r: (order[r[0]], r[1], r[2]))  # by type, treated, control
    comparisons = pd.DataFrame(
        [(kind, label(k), label(u), est, w) for kind, k, u, est, w in rows], columns=_COLUMNS)
    cohorts = pd.DataFrame({
        "cohort": [label(int(g)) for g in groups],
        "n_units": [int((first == g).sum()) for g in groups],
        "share_treated": [dbar[int(g)] for g in groups],
    })
    # the coefficient does not depend on the covariance; "iid" avoids few-cluster warnings
    fit = feols(f"{outcome} ~ {treatment} | {unit} + {time}", data, vcov="iid")
    return BaconDecomposition(
        twfe=float(fit.params[treatment]), outcome=outcome, treatment=treatment, unit=unit,
        time=time, n_units=n_units, n_periods=n_periods, _comparisons=comparisons,
        _cohorts=cohorts)
