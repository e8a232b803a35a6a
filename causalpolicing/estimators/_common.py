"""Private helpers shared by the estimators (FEOLS, FEPoisson, the GLMs).

Column selection by an incremental Cholesky factorisation, the inverse of a
positive definite matrix, re-issuing recorded warnings and the cluster count of a
covariance result. (The stored cluster codes of a fit are its state's business:
:meth:`causalpolicing.inference.fit_state.LinearFitState.codes_for`.)

>>> import numpy as np
>>> x = np.column_stack([np.arange(4.0), 2 * np.arange(4.0)])
>>> _select_columns(x, (x ** 2).sum(0), ("a", "b"), has_fe=False)
([0], {'b': 'collinear with a'})
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from ..exceptions import SpecError
from ..formula import Formula
from ..inference.fit_state import is_panel as _is_panel
from ..inference.vcov import VcovResult

#: Relative tolerance of the collinearity / absorption checks.
COLLIN_TOL = 1e-10


def frame_of(data: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The frame to fit (a Panel's as a DataFrame) and its source rows (None for a DataFrame)."""
    if _is_panel(data):
        # (not ``to_frame(source_row=True)`` + ``pop``: inserting and deleting a
        # column costs more than the whole copy on small panels)
        return data.to_frame(), data.source_rows
    if isinstance(data, pd.DataFrame):
        return data, None
    raise SpecError(f"data must be a pandas DataFrame or a Panel; got {type(data).__name__}.")


def default_cluster(formula: Formula, data: Any) -> tuple[str, str] | None:
    """The default CRV1 clustering column and why, or None (then the default is iid).

    A Panel is clustered by its declared cluster, else its unit; a DataFrame by
    the first fixed effect when that is a single column (as fixest).
    """
    if _is_panel(data):
        col = data.clusters[0] if data.clusters else data.unit
        which = "declared cluster" if data.clusters else "unit"
        return col, f"default for a Panel: CRV1 clustered by {which} {col!r}"
    if formula.fixed_effects and len(formula.fixed_effects[0]) == 1:
        col = formula.fixed_effects[0][0]
        return col, ("default with fixed effects (as fixest): CRV1 clustered by the first "
                     f"fixed effect {col!r}")
    return None


# -------------------------------------------------------------- estimator base
class FrozenSettings:
    """Base of the estimator classes: settings fixed once ``__init__`` has set the
    last of them (the attribute named by ``_LAST_SETTING``), and the parsed ``formula``."""

    _LAST_SETTING = ""
    _formula: Formula

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, self._LAST_SETTING):
            raise AttributeError(f"{type(self).__name__} settings are fixed; create a new "
                                 "estimator instead.")
        object.__setattr__(self, name, value)

    @property
    def formula(self) -> Formula:
        """The parsed model formula."""
        return self._formula


# ------------------------------------------------------------------- validation
def check_choice(name: str, value: Any, options: tuple[str, ...]) -> Any:
    """``value`` if it is one of ``options``; else a SpecError listing them."""
    if value not in options:
        raise SpecError(f"{name} must be {' or '.join(map(repr, options))}; got {value!r}.")
    return value


def check_fraction(name: str, value: Any, hint: str = "") -> float:
    """``value`` if it is a float in (0, 1) (a tolerance); ``hint`` follows the range."""
    if not (isinstance(value, float) and 0 < value < 1):
        raise SpecError(f"{name} must be a float in (0, 1){hint}; got {value!r}.")
    return value


def check_maxiter(maxiter: Any) -> int:
    """``maxiter`` if it is a positive integer (not a bool)."""
    if isinstance(maxiter, bool) or not isinstance(maxiter, int) or maxiter < 1:
        raise SpecError(f"maxiter must be a positive integer; got {maxiter!r}.")
    return maxiter


# ---------------------------------------------------------------- linear algebra
def _select_columns(
    mat: np.ndarray, raw_ss: np.ndarray, names: tuple[str, ...], has_fe: bool,
    protected: int = 0, tol: float = COLLIN_TOL,
) -> tuple[list[int], dict[str, str]]:
    """Indices of linearly independent columns (in order) and why others were dropped."""
    gram = mat.T @ mat
    keep: list[int] = []
    why: dict[str, str] = {}
    chol = np.zeros((0, 0))
    for j in range(mat.shape[1]):
        gjj = gram[j, j]
        # (a constant column, raw_ss 0, is absorbed whatever rounding the demeaning left)
        if has_fe and j >= protected and (gjj <= tol * raw_ss[j] or raw_ss[j] <= 0):
            why[names[j]] = "absorbed by the fixed effects"
            continue
        if gjj <= 0:
            why[names[j]] = "zero after transformation"
            continue
        if keep:
            lvec = np.linalg.solve(chol, gram[keep, j])
            r = gjj - float(lvec @ lvec)
        else:
            lvec = np.zeros(0)
            r = gjj
        if r <= tol * gjj:
            why[names[j]] = "collinear with " + ", ".join(names[i] for i in keep)
            continue
        m = len(keep)
        new = np.zeros((m + 1, m + 1))
        new[:m, :m] = chol
        new[m, :m] = lvec
        new[m, m] = np.sqrt(r)
        chol = new
        keep.append(j)
    return keep, why


def absorbed_detail(values: np.ndarray, fe_codes: tuple[np.ndarray, ...] | list[np.ndarray],
                    fe_names: tuple[str, ...]) -> str:
    """Why a regressor is absorbed: constant, or constant within one fixed effect's levels.

    >>> import numpy as np
    >>> absorbed_detail(np.array([1.0, 1.0, 2.0, 2.0]), [np.array([0, 0, 1, 1])], ("unit",))
    'it does not vary within unit'
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return "no row is left"
    scale = max(1.0, float(np.abs(values).max()))
    if float(np.ptp(values)) <= 1e-12 * scale:
        return f"it is constant ({values[0]:g} in every row used)"
    for codes, name in zip(fe_codes, fe_names, strict=True):
        nlev = int(codes.max()) + 1
        low = np.full(nlev, np.inf)
        high = np.full(nlev, -np.inf)
        np.minimum.at(low, codes, values)
        np.maximum.at(high, codes, values)
        if float(np.max(high - low)) <= 1e-12 * scale:
            return f"it does not vary within {name}"
    return f"the fixed effects {' + '.join(fe_names)} together explain it"


def no_regressor_message(why: dict[str, str], raw: dict[str, np.ndarray],
                         fe_codes: tuple[np.ndarray, ...] | list[np.ndarray],
                         fe_names: tuple[str, ...]) -> str:
    """The error when every regressor was dropped: each one named with the reason."""
    parts = []
    for name, reason in why.items():
        detail = (f": {absorbed_detail(raw[name], fe_codes, fe_names)}"
                  if reason.startswith("absorbed") and name in raw and fe_codes else "")
        parts.append(f"{name!r} is {reason}{detail}")
    return ("No regressor is left to estimate: " + "; ".join(parts) + ". Its effect is not "
            "identified in this model: use a regressor that varies within the fixed-effect "
            "levels (over time within units, and across units within periods), or remove the "
            "fixed effect that absorbs it.")


def _inv_psd(a: np.ndarray) -> np.ndarray:
    low = np.linalg.cholesky(a)
    inv_low = np.linalg.solve(low, np.eye(a.shape[0]))
    return inv_low.T @ inv_low



def _reissue(caught: list[warnings.WarningMessage], stacklevel: int = 3) -> list[str]:
    """Issue recorded warnings again, pointing at the caller; return their messages."""
    msgs = []
    for w in caught:
        msgs.append(str(w.message))
        warnings.warn(w.message, w.category, stacklevel=stacklevel)
    return msgs



def _ncl(vr: VcovResult) -> int | tuple[int, ...] | None:
    if vr.n_clusters is None:
        return None
    return vr.n_clusters[0] if len(vr.n_clusters) == 1 else vr.n_clusters


_State = TypeVar("_State")


@dataclass(frozen=True)
class Draft(Generic[_State]):
    """A fit before its warnings are known: the results' other fields, the fit state and
    the covariance's notes (to tell the fit's own warnings from them). The fit turns it
    into frozen results once, warnings included."""

    fields: dict[str, Any]
    state: _State
    vcov_notes: tuple[str, ...]

