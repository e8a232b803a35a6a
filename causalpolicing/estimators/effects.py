r"""Post-estimation effects: rate ratios per stated change, linear combinations.

Functions that take any results object of the contract
(:class:`~causalpolicing.results.EstimationResults`), not methods bound to one
estimator:

* :func:`rate_ratios` -- for log-link (count) models: the rate ratio
  :math:`\exp(c\,\beta)` and percent change :math:`100(\exp(c\beta) - 1)` for a
  stated change :math:`c` of each regressor (+1 unit, +10 units, +1 standard
  deviation, or +10% of a logged regressor, where
  :math:`c = \log 1.1`), with confidence intervals
  :math:`\exp(c \cdot \mathrm{CI}(\beta))` (exact transformations of the
  model's interval, so they inherit its reference distribution);
* :func:`effect_at` -- one regressor, one change;
* :func:`parse_change` -- the one reader of a stated change (``1``, ``"sd"``,
  ``"10%"``), shared with the report's sentences;
* :func:`lincom` -- estimate, standard error and interval of :math:`w'\beta`
  (given as a dict or as a string such as ``"x + x_lag1"`` or
  ``"2*x - 0.5*w"``, read by a tiny parser, never evaluated).

Examples
--------
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
>>> rr = cp.estimators.rate_ratios(res, per="sd")
>>> rr.loc[0, "change"]
'+1 SD (=1.42)'
>>> cp.estimators.lincom(res, "2*offences_per_1000")["estimate"].round(2).item()
0.11
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._hints import check_level
from ..data.panel import Panel
from ..exceptions import SpecError
from ..results import BaseResults, EstimationResults

__all__ = ["Change", "parse_change", "rate_ratios", "effect_at", "lincom", "RATE_RATIO_COLUMNS",
           "LINCOM_COLUMNS"]

RATE_RATIO_COLUMNS = ["term", "change", "rate_ratio", "conf_low", "conf_high",
                      "percent_change", "pct_low", "pct_high"]
LINCOM_COLUMNS = ["expression", "estimate", "std_error", "statistic", "p_value", "conf_low",
                  "conf_high"]


_PCT = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?)\s*%\s*$")
_LOG_TERM = re.compile(r"^log\((.+)\)$")


@dataclass(frozen=True)
class Change:
    r"""A stated change of a regressor, resolved to the number its coefficient is multiplied by.

    Made by :func:`parse_change`; read by :func:`rate_ratios` and by the report's
    sentences (:func:`causalpolicing.report.describe_effect`), so both understand
    the same changes.

    Attributes
    ----------
    value
        :math:`c`: the change on the regressor's scale (for a percent change of a
        logged regressor, :math:`\log(1 + p/100)`).
    kind
        ``"units"``, ``"sd"`` (one standard deviation) or ``"percent"``.
    percent
        The stated percent (``10.0`` for ``"10%"``); ``None`` for other kinds.
    """

    value: float
    kind: Literal["units", "sd", "percent"]
    percent: float | None = None

    @property
    def label(self) -> str:
        """How the change is shown in a table: ``'+10'``, ``'+1 SD (=1.42)'``, ``'+10%'``."""
        if self.kind == "sd":
            return f"+1 SD (={self.value:.3g})"
        if self.kind == "percent":
            return f"{self.percent:+g}%"
        return f"{self.value:+g}"


def _stored_sd(results: Any, term: str) -> float | None:
    stored = getattr(results, "regressor_sd", None)
    if isinstance(stored, pd.Series) and term in stored.index and np.isfinite(stored[term]):
        return float(stored[term])
    return None


def _sd_of(results: Any, term: str, data: Any) -> float:
    """The regressor's SD: stored by the results (count models) or taken from ``data``."""
    sd = _stored_sd(results, term)
    if sd is not None:
        return sd
    if data is None:
        raise SpecError(
            f"change='sd' for {term!r} needs the regressor's standard deviation: these results "
            "do not store it; pass the estimation data as data=... (a Panel or DataFrame "
            "holding the column; the SD is taken over its non-missing values).")
    frame = data.to_frame() if isinstance(data, Panel) else data
    if not isinstance(frame, pd.DataFrame) or term not in frame.columns:
        raise SpecError(f"data has no column {term!r} to compute its standard deviation; "
                        "pass the Panel or DataFrame the model was fitted on.")
    return float(pd.to_numeric(frame[term]).std(ddof=1))


def parse_change(change: Any, term: str, *, results: Any = None, data: Any = None) -> Change:
    r"""Read a stated change of the regressor ``term``: a number, ``"sd"`` or a percent.

    The one reader of changes: :func:`rate_ratios` (``per=``), :func:`effect_at`
    and the report's sentences (``change=``) all call it.

    Parameters
    ----------
    change
        A finite non-zero number of units (``1``, ``-2.5``); ``"sd"`` (one standard
        deviation of the regressor, stored by count-model results, otherwise taken
        from ``data``); or a percent such as ``"10%"`` or ``"-5 %"`` for a logged
        regressor ``log(x)`` (:math:`c = \log(1 + p/100)`). A change of zero (``0``,
        ``"0%"``) is no change and is refused.
    term
        The regressor (a coefficient name).
    results
        Results whose ``regressor_sd`` gives the standard deviation for ``"sd"``.
    data
        The estimation data (Panel or DataFrame), for ``"sd"`` when ``results`` do
        not store the standard deviation.

    Returns
    -------
    Change

    Raises
    ------
    SpecError
        Anything else, with the forms that are understood.

    Examples
    --------
    >>> parse_change(10, "x")
    Change(value=10.0, kind='units', percent=None)
    >>> ch = parse_change("10%", "log(pop)")
    >>> round(ch.value, 6), ch.label
    (0.09531, '+10%')
    >>> import pandas as pd
    >>> parse_change("sd", "x", data=pd.DataFrame({"x": [0.0, 2.0]})).label
    '+1 SD (=1.41)'
    >>> parse_change("0%", "log(pop)")
    Traceback (most recent call last):
    ...
    causalpolicing.exceptions.SpecError: A percent change must be non-zero and above -100% (0% is no change); got '0%'.
    """
    if isinstance(change, bool):
        raise SpecError(f"The change for {term!r} must be a number, 'sd' or a percent like "
                        f"'10%'; got {change!r}.")
    if isinstance(change, (int, float, np.integer, np.floating)):
        c = float(change)
        if not math.isfinite(c) or c == 0:
            raise SpecError(f"The change for {term!r} must be finite and non-zero; "
                            f"got {change!r}.")
        return Change(c, "units")
    if isinstance(change, str):
        if change.strip().lower() == "sd":
            return Change(_sd_of(results, term, data), "sd")
        m = _PCT.match(change)
        if m:
            if not _LOG_TERM.match(term):
                raise SpecError(
                    f"A percent change ({change!r}) applies to a logged regressor (a term "
                    f"'log(x)'); {term!r} is not one. Give a number of units or 'sd' instead.")
            p = float(m.group(1))
            if p <= -100 or p == 0:
                raise SpecError("A percent change must be non-zero and above -100% (0% is no "
                                f"change); got {change!r}.")
            return Change(math.log1p(p / 100), "percent", p)
    raise SpecError(f"The change for {term!r} must be a number (units), 'sd' or a percent like "
                    f"'10%' (logged regressors only); got {change!r}.")


def rate_ratios(
    res: EstimationResults,
    per: float | str | Mapping[str, float | str] = 1,
    *,
    data: pd.DataFrame | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate ratios and percent changes per stated change of each regressor.

    Parameters
    ----------
    res
        Results of a log-link model (e.g. :func:`~causalpolicing.fepois`); any
        object of the results contract works (``exp`` of its coefficients).
    per
        The change: a number of units for every term (default 1), ``"sd"`` (one
        standard deviation of the regressor in the estimation sample, stored by
        Poisson results; other results need ``data``), a percent such as
        ``"10%"`` (every term must be ``log(x)``: the rate ratio of a 10% rise of
        ``x`` is :math:`\\exp(\\beta \\log 1.1)`), or a dict ``{term: change}``
        with any of these (only those terms are reported).
    data
        Data to take standard deviations from when the results do not store them.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``term, change, rate_ratio, conf_low, conf_high, percent_change, pct_low,
        pct_high``.

    Examples
    --------
    >>> import causalpolicing as cp, numpy as np, pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> res = BaseResults(params=pd.Series({"x": np.log(1.1)}),
    ...                   cov=pd.DataFrame([[0.0001]], ["x"], ["x"]), nobs=100,
    ...                   df_inference=None, cov_type="iid", estimator="Poisson", spec={})
    >>> rate_ratios(res, per={"x": 10})[["term", "change", "rate_ratio"]].round(4)
      term change  rate_ratio
    0    x    +10      2.5937
    """
    level = check_level(level)
    params = res.params
    ci = res.conf_int(level)
    if isinstance(per, Mapping):
        unknown = [t for t in per if t not in params.index]
        if unknown:
            raise SpecError(f"Unknown term(s) {unknown} in per=; the model's terms are "
                            f"{list(params.index)}.")
        items = list(per.items())
    else:
        items = [(t, per) for t in params.index]
    rows = []
    for term, spec in items:
        change = parse_change(spec, term, results=res, data=data)
        c, label = change.value, change.label
        b = float(params[term])
        lo, hi = float(ci.loc[term, "conf_low"]), float(ci.loc[term, "conf_high"])
        lo_c, hi_c = sorted((c * lo, c * hi))
        rr = math.exp(c * b)
        rows.append({
            "term": term, "change": label, "rate_ratio": rr, "conf_low": math.exp(lo_c),
            "conf_high": math.exp(hi_c), "percent_change": 100 * (rr - 1),
            "pct_low": 100 * (math.exp(lo_c) - 1), "pct_high": 100 * (math.exp(hi_c) - 1),
        })
    return pd.DataFrame(rows, columns=RATE_RATIO_COLUMNS)


def effect_at(
    res: EstimationResults, term: str, change: float | str = 1, *,
    data: pd.DataFrame | None = None, level: float = 0.95,
) -> pd.Series:
    """The rate ratio for one regressor and one change (a row of :func:`rate_ratios`).

    Examples
    --------
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
    >>> effect_at(res, "offences_per_1000", 5)[["change", "rate_ratio"]].tolist()[0]
    '+5'
    """
    if not isinstance(term, str) or term not in res.params.index:
        raise SpecError(f"Unknown term {term!r}; the model's terms are "
                        f"{list(res.params.index)}.")
    return rate_ratios(res, {term: change}, data=data, level=level).iloc[0]


# ------------------------------------------------------------------ lincom
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<bq>`[^`]+`)
  | (?P<name>[A-Za-z_.][A-Za-z0-9_.]*(?:\([^()]*\))?(?::[A-Za-z_.][A-Za-z0-9_.]*(?:\([^()]*\))?)*)
  | (?P<op>[+\-*])
""", re.VERBOSE)


def _parse_expression(text: str, names: list[str]) -> dict[str, float]:
    """Parse ``"x + 2*w - z/..."``-style sums of (number *) term; never evaluated."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SpecError(f"Cannot read {text!r} at position {pos} ({text[pos:pos + 10]!r}). "
                            "Write a sum of terms with optional numeric factors, e.g. "
                            "'x + x_lag1' or '2*x - 0.5*w', or pass a dict {term: weight}.")
        kind = m.lastgroup
        if kind != "ws":
            val = m.group(kind)
            if kind == "bq":
                kind, val = "name", val[1:-1]
            tokens.append((kind, val))
        pos = m.end()
    out: dict[str, float] = {}
    i, n = 0, len(tokens)

    def fail(what: str) -> SpecError:
        return SpecError(f"Cannot read {text!r}: {what}. Write a sum of terms with optional "
                         "numeric factors, e.g. 'x + x_lag1' or '2*x - 0.5*w'.")

    if not tokens:
        raise fail("it is empty")
    while i < n:
        sign = 1.0
        while i < n and tokens[i][0] == "op" and tokens[i][1] in "+-":
            sign *= -1.0 if tokens[i][1] == "-" else 1.0
            i += 1
        if i >= n:
            raise fail("it ends with an operator")
        coef = 1.0
        if tokens[i][0] == "num":
            coef = float(tokens[i][1])
            if i + 1 < n and tokens[i + 1] == ("op", "*"):
                i += 2
            else:
                raise fail(f"the number {tokens[i][1]} must multiply a term ('2*x')")
        if i >= n or tokens[i][0] != "name":
            raise fail(f"expected a term name, got {tokens[i][1]!r}" if i < n else
                       "it ends with an operator")
        name = tokens[i][1]
        i += 1
        if i + 1 < n and tokens[i] == ("op", "*") and tokens[i + 1][0] == "num":
            coef *= float(tokens[i + 1][1])
            i += 2
        if name not in names:
            raise SpecError(f"Unknown term {name!r} in {text!r}; the model's terms are {names}.")
        out[name] = out.get(name, 0.0) + sign * coef
        if i < n and not (tokens[i][0] == "op" and tokens[i][1] in "+-"):
            raise fail(f"expected '+' or '-', got {tokens[i][1]!r}")
    return out


def lincom(
    res: EstimationResults, weights: Mapping[str, float] | str, *, level: float = 0.95,
) -> pd.DataFrame:
    """Estimate, standard error and confidence interval of a linear combination of coefficients.

    Works for any results of the contract (linear or count models). Inference
    uses the results' t distribution (``df_inference``) for
    :class:`~causalpolicing.results.BaseResults`, the normal otherwise.

    Parameters
    ----------
    res
        Fitted results.
    weights
        ``{"x": 1, "x_lag1": 1}`` or a string ``"x + x_lag1"``, ``"2*x - 0.5*w"``
        (terms, ``+``, ``-``, numeric factors; back-quote names with other
        characters). The string is parsed, never evaluated.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: ``expression, estimate, std_error, statistic, p_value, conf_low,
        conf_high``. For a log-link model ``exp(estimate)`` is the rate ratio of the
        combined change.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> res = BaseResults(params=pd.Series({"x": 1.0, "x_lag1": 0.5}),
    ...                   cov=pd.DataFrame([[0.04, 0.01], [0.01, 0.09]],
    ...                                    ["x", "x_lag1"], ["x", "x_lag1"]),
    ...                   nobs=100, df_inference=None, cov_type="iid", estimator="OLS", spec={})
    >>> out = lincom(res, "x + x_lag1")
    >>> out[["estimate", "std_error"]].round(4).values.tolist()
    [[1.5, 0.3873]]
    """
    level = check_level(level)
    params = res.params
    names = list(params.index)
    if isinstance(weights, str):
        w = _parse_expression(weights, names)
        label = weights.strip()
    elif isinstance(weights, Mapping):
        unknown = [t for t in weights if t not in names]
        if unknown:
            raise SpecError(f"Unknown term(s) {unknown}; the model's terms are {names}.")
        bad = [t for t, v in weights.items() if isinstance(v, bool) or not isinstance(
            v, (int, float, np.integer, np.floating)) or not math.isfinite(float(v))]
        if bad:
            raise SpecError(f"Weights must be finite numbers; check {bad}.")
        w = {t: float(v) for t, v in weights.items()}
        label = " ".join(f"{'+' if v >= 0 else '-'} {abs(v):g}*{t}" for t, v in w.items())
        label = label[2:] if label.startswith("+ ") else label
    else:
        raise SpecError(f"weights must be a dict {{term: weight}} or a string like 'x + w'; got "
                        f"{type(weights).__name__}.")
    if not w:
        raise SpecError("The linear combination has no term.")
    vec = np.array([w.get(t, 0.0) for t in names])
    est = float(vec @ params.to_numpy())
    var = float(vec @ res.cov.to_numpy() @ vec)
    se = math.sqrt(max(var, 0.0))
    df = res.df_inference if isinstance(res, BaseResults) else None
    dist = stats.norm if df is None else stats.t(df)
    stat = est / se if se > 0 else np.nan
    p = float(2 * dist.sf(abs(stat))) if se > 0 else np.nan
    q = float(dist.ppf(0.5 + level / 2))
    return pd.DataFrame([{"expression": label, "estimate": est, "std_error": se,
                          "statistic": stat, "p_value": p, "conf_low": est - q * se,
                          "conf_high": est + q * se}], columns=LINCOM_COLUMNS)
