r"""One plain-language sentence per effect, with its uncertainty.

:func:`describe_effect` reads one term of a results object (the results
contract only) and says what a stated change of the regressor goes with, in
the outcome's own terms; :func:`describe_results` does it for every treatment
term.

How the effect is expressed depends on the model's link (``results.spec["link"]``,
else the estimator's name):

* **log link** (Poisson, negative binomial): the percent change of the outcome
  :math:`100(\exp(c\beta) - 1)` for a change :math:`c` of the regressor, with
  the interval :math:`100(\exp(c\,\ell) - 1)` to :math:`100(\exp(c\,u) - 1)`;
  the numbers come from :func:`causalpolicing.estimators.effect_at` (so they
  match :func:`~causalpolicing.rate_ratios` exactly): "... is associated with
  7.4% more deaths (95% CI 2.1% to 13.0%)".
* **logit link** (binomial): the odds ratio :math:`\exp(c\beta)` and its
  interval, "... is associated with 32% higher odds of death (odds ratio 1.32,
  95% CI 1.15 to 1.51)".
* **identity link** (linear models): the change of the outcome in its own
  units, :math:`c\beta` with the interval :math:`c\,[\ell, u]`: "... is
  associated with an increase of 0.56 in deaths (95% CI 0.12 to 1.01)".
  When the outcome is a natural log the change is also a percentage,
  :math:`100(\exp(c\beta) - 1)`, said as "about X% higher" (the model is
  linear in the log; the percentage describes the geometric mean). The outcome
  counts as logged **only** when ``log_outcome=True`` is passed or, with
  ``log_outcome=None``, when the dependent variable's name starts with
  ``log(``, ``log_``, ``ln(``, ``ln_`` or ``l_`` (case-insensitive). Names such
  as ``lcrmrte`` or ``logins`` are *not* guessed: pass ``log_outcome=True``.

The change :math:`c` is ``1`` (one unit; any number works), ``"sd"`` (one
standard deviation of the regressor in the estimation sample, stored by count
models; others need ``data``) or a percentage such as ``"10%"`` for a logged
regressor ``log(x)`` (:math:`c = \log 1.1`), read by the same parser as
:func:`~causalpolicing.rate_ratios` (:func:`~causalpolicing.estimators.parse_change`);
a change of zero is refused.

Wording: an effect is *significant* when its interval at ``level`` excludes no
change (0, or a ratio of 1); then the direction is stated with the interval.
Otherwise the sentence says the data are consistent with anything from one
end of the interval to the other. "is associated with" is used unless
``causal=True`` ("leads to"; say so only when the design identifies a causal
effect).
Numbers are magnitudes with two significant digits for the estimate (at least
one decimal for percentages below 100, two for ratios), the interval with the
same decimals, and thousands separators.

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> panel = cp.datasets.load("simulated_cantons")
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # only 26 clusters
...     res = cp.fepois("deaths ~ offences_per_1000 | canton + year", panel)
>>> print(describe_effect(res, "offences_per_1000", outcome_label="drug-related deaths",
...                       unit_label=("possession offence per 1,000 residents",
...                                   "possession offences per 1,000 residents")))
An increase of 1 possession offence per 1,000 residents is associated with 5.6% more drug-related deaths (95% CI 2.7% to 8.5%).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..._hints import check_level
from ...data.panel import Panel
from ...estimators.effects import Change, effect_at, parse_change
from ...exceptions import SpecError
from ._numbers import format_magnitude, shared_decimals

__all__ = ["describe_effect", "describe_results", "effect_kind", "is_log_outcome"]

_LOG_TERM = re.compile(r"^log\((.+)\)$")
_LOG_OUTCOME = re.compile(r"^(?:log\(|log_|ln\(|ln_|l_)", re.IGNORECASE)
_LOG_OUTCOME_INNER = re.compile(r"^(?:log|ln)\((.+)\)$|^(?:log_|ln_|l_)(.+)$", re.IGNORECASE)
_INTERCEPTS = frozenset({"Intercept", "(Intercept)", "const", "_cons"})
# estimator name -> link, when the results' spec does not say
_NAME_LINKS = (("pois", "log"), ("negbin", "log"), ("nb2", "log"), ("binomial", "logit"),
               ("logit", "logit"))

UnitLabel = str | tuple[str, str]


def effect_kind(results: Any) -> str:
    """``"log"``, ``"logit"`` or ``"identity"``: how a coefficient of ``results`` reads.

    Taken from ``results.spec["link"]`` when present, else from the estimator's
    name (Poisson, NegBin -> log; Binomial, Logit -> logit), else identity.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> res = BaseResults(params=pd.Series({"x": 0.1}), cov=pd.DataFrame([[0.01]], ["x"], ["x"]),
    ...                   nobs=50, df_inference=None, cov_type="iid", estimator="FEPoisson",
    ...                   spec={})
    >>> effect_kind(res)
    'log'
    """
    link = results.spec.get("link")
    if link in ("log", "logit", "identity"):
        return str(link)
    name = str(results.estimator).lower()
    for key, kind in _NAME_LINKS:
        if key in name:
            return kind
    return "identity"


def _depvar(results: Any) -> str | None:
    spec = results.spec
    if spec.get("depvar"):
        return str(spec["depvar"])
    formula = spec.get("formula")
    if isinstance(formula, str) and "~" in formula:
        return formula.split("~", 1)[0].strip() or None
    return None


def is_log_outcome(results: Any, log_outcome: bool | None = None) -> bool:
    """Whether the outcome is read as a natural log (see the module docstring for the rule).

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> def res(depvar):
    ...     return BaseResults(params=pd.Series({"x": 0.1}),
    ...                        cov=pd.DataFrame([[0.01]], ["x"], ["x"]), nobs=50,
    ...                        df_inference=None, cov_type="iid", estimator="OLS",
    ...                        spec={"depvar": depvar})
    >>> [is_log_outcome(res(n)) for n in ("log(deaths)", "l_deaths", "lcrmrte", "logins")]
    [True, True, False, False]
    """
    if log_outcome is not None:
        if not isinstance(log_outcome, bool):
            raise SpecError(f"log_outcome must be True, False or None (guess from the outcome's "
                            f"name); got {log_outcome!r}.")
        return log_outcome
    name = _depvar(results)
    return bool(name and _LOG_OUTCOME.match(name))


def _strip_log(name: str) -> str:
    m = _LOG_OUTCOME_INNER.match(name)
    if not m:
        return name
    return (m.group(1) or m.group(2)).strip()


def _level_text(level: float) -> str:
    return f"{100 * level:g}%"


def _unit_forms(unit_label: UnitLabel | None) -> tuple[str, str] | None:
    if unit_label is None:
        return None
    if isinstance(unit_label, str):
        return unit_label, unit_label
    if (isinstance(unit_label, tuple) and len(unit_label) == 2
            and all(isinstance(u, str) for u in unit_label)):
        return unit_label[0], unit_label[1]
    raise SpecError("unit_label must be a string (used after any number) or a tuple "
                    f"(singular, plural), e.g. ('death', 'deaths'); got {unit_label!r}.")


def _number(c: float) -> str:
    return format(abs(c), ",.6g")


def _is_binary(term: str, data: Any) -> bool:
    if data is None:
        return False
    if isinstance(data, Panel):
        return data.treatment_kinds.get(term) == "binary"
    if isinstance(data, pd.DataFrame) and term in data.columns:
        vals = pd.unique(pd.to_numeric(data[term], errors="coerce").dropna())
        return len(vals) == 2 and set(map(float, vals)) == {0.0, 1.0}
    return False


def _subject(term: str, change: Change, treatment_label: str,
             units: tuple[str, str] | None, binary: bool, *, named: bool = False) -> str:
    """The sentence's subject: 'An increase of 1 possession offence per 1,000 residents'.

    With a unit, the treatment is named only when its label was given (``named``):
    'An increase of 1 offence per 1,000 residents in neighbouring cantons'.
    """
    c = change.value
    word = "An increase" if c > 0 else "A decrease"
    if change.kind == "percent":
        p = change.percent
        return f"A {abs(p):g}% {'increase' if p > 0 else 'decrease'} in {treatment_label}"
    if change.kind == "sd":
        amount = format(abs(c), ",.3g") + (f" {units[1]}" if units else "")
        return f"{word} of one standard deviation ({amount}) in {treatment_label}"
    if binary and c == 1:
        return f"{treatment_label[:1].upper()}{treatment_label[1:]} (treated vs untreated)"
    if units is not None:
        where = f" in {treatment_label}" if named else ""
        return f"{word} of {_number(c)} {units[0] if abs(c) == 1 else units[1]}{where}"
    unit_word = "unit" if abs(c) == 1 else "units"
    return f"{word} of {_number(c)} {unit_word} in {treatment_label}"


def _percent_clause(pct: float, lo: float, hi: float, level: float, outcome: str,
                    more: str, fewer: str, about: bool) -> str:
    """'7.4% more deaths (95% CI 2.1% to 13.0%)' or the 'consistent with' form."""
    d = shared_decimals([pct, lo, hi], percent=True)
    f = lambda x: format_magnitude(x, d)  # noqa: E731
    approx = "about " if about else ""
    lv = _level_text(level)
    if lo > 0 or hi < 0:
        direction = more if pct > 0 else fewer
        a, b = sorted((abs(lo), abs(hi)))
        return (f"{approx}{f(pct)}% {direction} {outcome} ({lv} CI {format_magnitude(a, d)}% "
                f"to {format_magnitude(b, d)}%)")
    direction = more if pct >= 0 else fewer
    return (f"{approx}{f(pct)}% {direction} {outcome}, but the data are consistent with "
            f"anything from {f(lo)}% {fewer} to {f(hi)}% {more} ({lv} CI)")


def _linear_clause(est: float, lo: float, hi: float, level: float, outcome: str) -> str:
    d = shared_decimals([est, lo, hi])
    f = lambda x: format_magnitude(x, d)  # noqa: E731
    lv = _level_text(level)
    if lo > 0 or hi < 0:
        word = "an increase" if est > 0 else "a decrease"
        a, b = sorted((abs(lo), abs(hi)))
        return (f"{word} of {f(est)} in {outcome} ({lv} CI {format_magnitude(a, d)} to "
                f"{format_magnitude(b, d)})")
    word = "an increase" if est >= 0 else "a decrease"
    return (f"{word} of {f(est)} in {outcome}, but the data are consistent with anything from "
            f"a decrease of {f(lo)} to an increase of {f(hi)} ({lv} CI)")


def _odds_clause(orat: float, lo: float, hi: float, level: float, outcome: str) -> str:
    pct = 100 * (orat - 1)
    dp = shared_decimals([pct, 100 * (lo - 1), 100 * (hi - 1)], percent=True)
    dr = shared_decimals([orat, lo, hi], ratio=True)
    r = lambda x: format_magnitude(x, dr)  # noqa: E731
    lv = _level_text(level)
    if lo > 1 or hi < 1:
        word = "higher" if orat > 1 else "lower"
        return (f"{format_magnitude(pct, dp)}% {word} odds of {outcome} (odds ratio {r(orat)}, "
                f"{lv} CI {r(lo)} to {r(hi)})")
    word = "higher" if orat >= 1 else "lower"
    return (f"{format_magnitude(pct, dp)}% {word} odds of {outcome} (odds ratio {r(orat)}), but "
            f"the data are consistent with odds ratios anywhere from {r(lo)} to {r(hi)} "
            f"({lv} CI)")


def describe_effect(
    results: Any,
    term: str,
    *,
    change: float | str = 1.0,
    level: float = 0.95,
    outcome_label: str | None = None,
    treatment_label: str | None = None,
    unit_label: UnitLabel | None = None,
    data: Any = None,
    causal: bool = False,
    log_outcome: bool | None = None,
) -> str:
    """One sentence: what a stated change of ``term`` goes with, and how sure we are.

    Parameters
    ----------
    results
        Any results object of the contract (:func:`~causalpolicing.feols`,
        :func:`~causalpolicing.fepois`, :func:`~causalpolicing.fenegbin`,
        :func:`~causalpolicing.febinomial`, ...).
    term
        The coefficient to describe.
    change
        The change of the regressor: a number of units (default 1), ``"sd"``
        (one standard deviation) or a percentage like ``"10%"`` (for a term
        ``log(x)`` only).
    level
        Confidence level of the interval.
    outcome_label
        How to call the outcome (default: the dependent variable's name,
        without its log for a logged outcome).
    treatment_label
        How to call the regressor (default: the term; ``x`` for ``log(x)``).
    unit_label
        The regressor's unit, printed after the number of units: a string
        (used as is) or a tuple ``(singular, plural)``, e.g.
        ``("possession offence per 1,000 residents", "possession offences per
        1,000 residents")``. Without it the sentence says "1 unit in <treatment>".
    data
        The estimation data (Panel or DataFrame): for ``change="sd"`` when the
        results do not store the regressor's SD, and to recognise a binary
        (0/1) treatment, which is then described as present vs absent.
    causal
        ``True`` says "leads to" instead of "is associated with". Only when the
        design identifies a causal effect.
    log_outcome
        ``True``/``False`` to say whether a linear model's outcome is a natural
        log; ``None`` guesses from the name (``log(``, ``log_``, ``ln(``,
        ``ln_``, ``l_`` prefixes only).

    Returns
    -------
    str
        One sentence ending with a full stop.

    Raises
    ------
    SpecError
        Unknown term, invalid change or level, labels of the wrong type.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> res = BaseResults(params=pd.Series({"x": -0.5}), cov=pd.DataFrame([[0.04]], ["x"], ["x"]),
    ...                   nobs=100, df_inference=None, cov_type="iid", estimator="OLS",
    ...                   spec={"depvar": "violent_crime"})
    >>> describe_effect(res, "x", outcome_label="violent crimes per 1,000")
    'An increase of 1 unit in x is associated with a decrease of 0.50 in violent crimes per 1,000 (95% CI 0.11 to 0.89).'
    """
    if not isinstance(term, str) or term not in results.params.index:
        raise SpecError(f"Unknown term {term!r}; the model's terms are "
                        f"{list(results.params.index)}.")
    level = check_level(level)
    for name, val in (("outcome_label", outcome_label), ("treatment_label", treatment_label)):
        if val is not None and not isinstance(val, str):
            raise SpecError(f"{name} must be a string or None; got {type(val).__name__}.")
    if not isinstance(causal, bool):
        raise SpecError(f"causal must be True or False; got {causal!r}.")
    units = _unit_forms(unit_label)
    kind = effect_kind(results)
    ch = parse_change(change, term, results=results, data=data)
    c = ch.value
    log_y = kind == "identity" and is_log_outcome(results, log_outcome)
    depvar = _depvar(results) or "the outcome"
    if outcome_label is None:
        outcome_label = _strip_log(depvar) if log_y else depvar
    named = treatment_label is not None
    if treatment_label is None:
        m = _LOG_TERM.match(term)
        treatment_label = m.group(1) if m else term
    subject = _subject(term, ch, treatment_label, units, _is_binary(term, data), named=named)
    verb = "leads to" if causal else "is associated with"

    if kind in ("log", "logit"):
        # effect_at reads changes with the same parser; pass the resolved number so
        # an SD taken from `data` is the one printed
        row = effect_at(results, term, c, level=level)
        if kind == "log":
            clause = _percent_clause(float(row["percent_change"]), float(row["pct_low"]),
                                     float(row["pct_high"]), level, outcome_label,
                                     "more", "fewer", about=False)
        else:
            clause = _odds_clause(float(row["rate_ratio"]), float(row["conf_low"]),
                                  float(row["conf_high"]), level, outcome_label)
    else:
        b = float(results.params[term])
        ci = results.conf_int(level)
        lo, hi = sorted((c * float(ci.loc[term, "conf_low"]), c * float(ci.loc[term, "conf_high"])))
        if log_y:
            to_pct = lambda v: 100 * math.expm1(v)  # noqa: E731
            clause = _percent_clause(to_pct(c * b), to_pct(lo), to_pct(hi), level,
                                     outcome_label, "higher", "lower", about=True)
        else:
            clause = _linear_clause(c * b, lo, hi, level, outcome_label)
    return f"{subject} {verb} {clause}."


def describe_results(
    results: Any,
    terms: Sequence[str] | None = None,
    *,
    change: float | str | Mapping[str, float | str] = 1.0,
    level: float = 0.95,
    outcome_label: str | None = None,
    treatment_labels: Mapping[str, str] | None = None,
    unit_labels: Mapping[str, UnitLabel] | None = None,
    data: Any = None,
    causal: bool = False,
    log_outcome: bool | None = None,
) -> list[str]:
    """One sentence per treatment term (see :func:`describe_effect`).

    Parameters
    ----------
    results
        Any results object of the contract.
    terms
        Terms to describe. Default: the treatments of ``data`` when it is a
        Panel and they are in the model, else every term except an intercept.
    change
        One change for every term, or ``{term: change}``.
    treatment_labels, unit_labels
        ``{term: label}``; terms not listed use the defaults of
        :func:`describe_effect`.
    level, outcome_label, data, causal, log_outcome
        As in :func:`describe_effect`.

    Returns
    -------
    list of str
        One sentence per term, in the order of ``terms``.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # only 26 clusters
    ...     res = cp.fepois("deaths ~ offences_per_1000 + substitution_coverage | canton + year",
    ...                     panel)
    >>> for s in describe_results(res, data=panel, change="sd"):
    ...     print(s)
    An increase of one standard deviation (1.42) in offences_per_1000 is associated with 7.9% more deaths (95% CI 4.0% to 12.0%).
    An increase of one standard deviation (0.271) in substitution_coverage is associated with 20.6% fewer deaths (95% CI 11.6% to 28.8%).
    """
    params = results.params
    if terms is None:
        if isinstance(data, Panel) and any(t in params.index for t in data.treatments):
            terms = [t for t in data.treatments if t in params.index]
        else:
            terms = [t for t in params.index if t not in _INTERCEPTS]
    elif isinstance(terms, str):
        terms = [terms]
    terms = list(terms)
    for name, mapping in (("treatment_labels", treatment_labels), ("unit_labels", unit_labels)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise SpecError(f"{name} must be a dict {{term: label}}; got {type(mapping).__name__}.")
    if isinstance(change, Mapping):
        unknown = [t for t in change if t not in terms]
        if unknown:
            raise SpecError(f"change names term(s) {unknown} that are not described; the terms "
                            f"are {terms}.")
    out = []
    for t in terms:
        ch = change.get(t, 1.0) if isinstance(change, Mapping) else change
        out.append(describe_effect(
            results, t, change=ch, level=level, outcome_label=outcome_label,
            treatment_label=(treatment_labels or {}).get(t),
            unit_label=(unit_labels or {}).get(t), data=data, causal=causal,
            log_outcome=log_outcome))
    return out
