r"""Feedback (reverse-causality) diagnostics: does the treatment respond to the outcome?

Police respond to drug deaths, so a same-year regression of deaths on
enforcement mixes the effect of enforcement with the response of enforcement
to deaths. Three checks, each a function of a :class:`~causalpolicing.Panel`
returning a frozen result with ``statistic``, ``p_value``, ``verdict`` and a
one-line plain-language ``interpretation``:

* :func:`leads_test` -- do *future* treatment values "predict" today's outcome?
  Joint Wald test of the lead coefficients in a two-way fixed-effects model
  (linear or Poisson; :func:`causalpolicing.distributed_lag`).
* :func:`reverse_regression` -- treatment on lagged outcomes (optionally as rates
  per exposure) with unit and time effects, clustered by unit; joint Wald test.
* :func:`granger_test` -- the Dumitrescu & Hurlin (2012, *Economic Modelling*
  29:1450-1460) panel Granger non-causality test: per-unit regressions of
  :math:`y` on its own :math:`K` lags and :math:`K` lags of :math:`x`; the
  average unit Wald statistic :math:`\bar W`, its standardisation
  :math:`\bar Z = \sqrt{N/(2K)}\,(\bar W - K)` (:math:`T \to \infty`) and the
  finite-:math:`T` version :math:`\tilde Z` (moments of the exact F-based
  distribution, needs :math:`T_i > 5 + 3K` periods per unit), with two-sided
  standard-normal p-values, as R ``plm::pgrangertest`` and Stata ``xtgcause``.

:func:`feedback_report` runs all three (Granger in the direction outcome ->
treatment) and returns a summary whose ``to_frame()`` has one row per check.
A check the panel cannot support (the Granger test needs more than
:math:`5 + 3K` periods per unit, so an 8-year panel is too short) is reported
as not checked, with the reason, and the others still run.

A rejection says the data are inconsistent with no feedback; a non-rejection
is absence of evidence, not evidence of absence (these tests have little power
with few units or short series).

Examples
--------
>>> import warnings
>>> import causalpolicing as cp
>>> from causalpolicing.diagnostics import feedback_report
>>> panel = cp.datasets.load("simulated_cantons")   # deaths -> enforcement two years later
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     rep = feedback_report(panel, treatment="offences_per_1000")
>>> rep.to_frame()["name"].tolist()
['leads test', 'reverse regression', 'Granger (Dumitrescu-Hurlin)']
>>> rep.to_frame().set_index("name").loc["reverse regression", "verdict"]
'feedback detected'
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ..data.transforms import _per_label
from ..estimators.lags import add_shifts, distributed_lag
from ..estimators.linear import feols
from ..exceptions import CausalPolicingError, DataWarning, SpecError
from ..formula import Factor, Formula, Term
from ..inference.wald import wald_test
from ._common import (
    DETECTED,
    NOT_DETECTED,
    _check_alpha,
    _check_panel,
    _column,
    _fmt_p,
    _positive,
)
from .granger import GrangerTestResult, granger_test

__all__ = [
    "FEEDBACK_CHECKS",
    "FeedbackReport",
    "NOT_CHECKED",
    "GrangerTestResult",
    "LeadsTestResult",
    "ReverseRegressionResult",
    "feedback_report",
    "granger_test",
    "leads_test",
    "reverse_regression",
]

# =============================================================== leads test
@dataclass(frozen=True)
class LeadsTestResult:
    """Joint test that the treatment's leads do not predict the outcome.

    Attributes
    ----------
    name
        ``"leads test"``.
    outcome, treatment
        Columns used.
    estimator
        ``"feols"`` or ``"fepois"``.
    coefficients
        The lead coefficients (``rel_time, term, estimate, std_error, conf_low,
        conf_high, p_value``).
    statistic, df_num, df_denom, p_value, distribution
        The Wald test (F form with clustered t inference, else chi-squared).
    verdict
        ``"feedback detected"`` (p < alpha) or ``"no evidence of feedback"``.
    interpretation
        One line in plain language.
    results
        The fitted :class:`~causalpolicing.estimators.lags.DistributedLagResults`.
    """

    name: str
    outcome: str
    treatment: str
    estimator: str
    coefficients: pd.DataFrame = field(repr=False)
    statistic: float
    df_num: int
    df_denom: int | None
    p_value: float
    distribution: str
    alpha: float
    verdict: str
    interpretation: str
    results: Any = field(repr=False)


def leads_test(
    panel: Any,
    leads: int = 2,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    estimator: Literal["feols", "fepois"] | None = None,
    lags: int = 0,
    covariates: Sequence[str] = (),
    vcov: str | Mapping[str, Any] | None = None,
    alpha: float = 0.05,
) -> LeadsTestResult:
    """Do future treatment values "predict" today's outcome?

    Fits ``outcome ~ treatment leads + treatment (+ lags) + covariates | unit + time``
    (:func:`causalpolicing.distributed_lag`) and tests the leads jointly.

    Parameters
    ----------
    panel
        The panel.
    leads
        Number of leads (1, 2, ...).
    outcome, treatment
        Columns; default the panel's first outcome and treatment.
    estimator
        ``"feols"`` or ``"fepois"``; default ``"fepois"`` for a count outcome of
        a panel with an exposure, else ``"feols"``.
    lags
        Lags of the treatment to include as well.
    covariates
        Further regressors.
    vcov
        Covariance (default CRV1 by unit).
    alpha
        Test level for the verdict.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     t = leads_test(panel, leads=2, treatment="offences_per_1000")
    >>> t.estimator, t.df_num, t.coefficients["rel_time"].tolist()
    ('fepois', 2, [-2, -1])
    """
    _check_panel(panel, "leads_test")
    _check_alpha(alpha)
    leads = _positive(leads, "leads")
    y = _column(panel, outcome, "outcome", "outcome")
    x = _column(panel, treatment, "treatment", "treatment")
    if estimator is None:
        count = panel.outcome_kinds.get(y) == "count" and panel.exposure is not None
        estimator = "fepois" if count else "feols"
    res = distributed_lag(panel, y, x, lags=lags, leads=leads, estimator=estimator,
                          covariates=covariates, vcov=vcov)
    test = res.leads_test
    if test is None:  # pragma: no cover - leads >= 1 was checked above
        raise SpecError("The leads test needs at least one lead.")
    coefs = res.event_time()
    coefs = coefs[coefs["rel_time"] < 0].reset_index(drop=True)
    p = test.p_value
    if p < alpha:
        verdict = DETECTED
        text = (f"Future {x} predicts today's {y} ({_fmt_p(p)}): {x} responds to {y} "
                "(feedback) or is anticipated, so same-period estimates mix cause and response.")
    else:
        verdict = NOT_DETECTED
        text = (f"Future {x} does not predict today's {y} ({_fmt_p(p)}): no sign of feedback "
                "or anticipation in the leads (absence of evidence, not proof).")
    return LeadsTestResult("leads test", y, x, estimator, coefs, test.statistic, test.df_num,
                           test.df_denom, p, test.distribution, alpha, verdict, text, res)


# ======================================================= reverse regression
@dataclass(frozen=True)
class ReverseRegressionResult:
    """Treatment regressed on lagged outcomes: does enforcement respond to deaths?

    Attributes
    ----------
    name
        ``"reverse regression"``.
    outcome, treatment
        Columns used (``outcome`` is the lagged regressor, ``treatment`` the
        dependent variable).
    regressor
        The column lagged (the outcome, or its rate per exposure).
    coefficients
        Tidy table of the lag terms.
    statistic, df_num, df_denom, p_value, distribution
        Joint Wald test of all lag coefficients.
    verdict, interpretation
        As in :class:`LeadsTestResult`.
    results
        The fitted :class:`~causalpolicing.estimators.FEOLSResults`.
    """

    name: str
    outcome: str
    treatment: str
    regressor: str
    coefficients: pd.DataFrame = field(repr=False)
    statistic: float
    df_num: int
    df_denom: int | None
    p_value: float
    distribution: str
    alpha: float
    verdict: str
    interpretation: str
    results: Any = field(repr=False)


def reverse_regression(
    panel: Any,
    lags: int = 2,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    per_exposure: float | None = None,
    covariates: Sequence[str] = (),
    vcov: str | Mapping[str, Any] | None = None,
    alpha: float = 0.05,
) -> ReverseRegressionResult:
    """Regress the treatment on lagged outcomes with unit and time effects.

    ``treatment_t ~ outcome_{t-1} + ... + outcome_{t-k} + covariates | unit + time``,
    clustered by unit (default), and the joint Wald test that all lag
    coefficients are zero.

    Parameters
    ----------
    panel
        The panel.
    lags
        Number of lags ``k`` of the outcome.
    outcome, treatment
        Columns; default the panel's first outcome and treatment.
    per_exposure
        If given, use the outcome as a rate ``outcome / exposure * per_exposure``
        (e.g. ``100_000`` for deaths per 100,000), built with :meth:`Panel.rate`.
    covariates
        Further regressors.
    vcov
        Covariance (default CRV1 by the panel's unit).
    alpha
        Test level for the verdict.

    Examples
    --------
    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     r = reverse_regression(panel, lags=2, treatment="offences_per_1000",
    ...                            per_exposure=100_000)
    >>> r.regressor, r.coefficients["term"].tolist(), r.verdict
    ('deaths_per_100k', ['deaths_per_100k_lag1', 'deaths_per_100k_lag2'], 'feedback detected')
    """
    _check_panel(panel, "reverse_regression")
    _check_alpha(alpha)
    lags = _positive(lags, "lags")
    y = _column(panel, outcome, "outcome", "outcome")
    x = _column(panel, treatment, "treatment", "treatment")
    if isinstance(covariates, str):
        covariates = (covariates,)
    work = panel
    reg = y
    if per_exposure is not None:
        if panel.exposure is None:
            raise SpecError("per_exposure needs a panel with an exposure role (population); "
                            "declare exposure= in cp.load_panel or leave per_exposure=None.")
        reg = f"{y}_per_{_per_label(float(per_exposure))}"
        while reg in panel.columns:
            reg += "_"
        work = panel.rate(y, per=per_exposure, name=reg)
    work, lag_names, _ = add_shifts(work, reg, range(1, lags + 1), ())
    formula = Formula(
        depvar=Term((Factor(x),)),
        exog=tuple(Term((Factor(c),)) for c in (*lag_names, *covariates)),
        fixed_effects=((panel.unit,), (panel.time,)),
    )
    res = feols(formula, work, vcov=vcov)
    kept = [t for t in lag_names if t in res.params.index]
    if not kept:
        raise SpecError(f"Every lag of {reg!r} was dropped as collinear; nothing to test.")
    test = wald_test(res, kept)
    tidy = res.tidy()
    coefs = tidy[tidy["term"].isin(kept)].reset_index(drop=True)
    p = test.p_value
    if p < alpha:
        verdict = DETECTED
        text = (f"Past {reg} predicts today's {x} ({_fmt_p(p)}): {x} responds to {y}, so "
                f"{x} is not strictly exogenous; same-period estimates mix cause and response.")
    else:
        verdict = NOT_DETECTED
        text = (f"Past {reg} does not predict today's {x} ({_fmt_p(p)}): no sign that "
                f"{x} responds to {y} (absence of evidence, not proof).")
    return ReverseRegressionResult("reverse regression", y, x, reg, coefs, test.statistic,
                                   test.df_num, test.df_denom, p, test.distribution, alpha,
                                   verdict, text, res)


# ================================================================== report
#: The checks of :func:`feedback_report`, in the order they are run.
FEEDBACK_CHECKS: tuple[str, ...] = ("leads test", "reverse regression",
                                    "Granger (Dumitrescu-Hurlin)")
#: The verdict of a check the panel could not support (see ``FeedbackReport.not_run``).
NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class FeedbackReport:
    """The feedback checks that ran, and those the panel could not support.

    Attributes
    ----------
    leads, reverse, granger
        The three checks; ``None`` for a check that could not run on this panel
        (e.g. the Granger test on a short panel).
    not_run
        ``(check name, reason)`` for each check that could not run, in plain
        language (the report lists them as not checked).

    ``to_frame()`` has one row per check, a check that did not run with verdict
    ``"not checked"`` and the reason as its interpretation.
    """

    leads: LeadsTestResult | None
    reverse: ReverseRegressionResult | None
    granger: GrangerTestResult | None
    not_run: tuple[tuple[str, str], ...] = ()

    @property
    def tests(self) -> tuple[Any, ...]:
        """The checks that ran."""
        return tuple(t for t in (self.leads, self.reverse, self.granger) if t is not None)

    @property
    def any_detected(self) -> bool:
        """True when at least one check rejects no-feedback."""
        return any(t.verdict == DETECTED for t in self.tests)

    def to_frame(self) -> pd.DataFrame:
        """``name, statistic, p_value, verdict, interpretation``, one row per check."""
        rows = [{"name": t.name, "statistic": float(t.statistic), "p_value": float(t.p_value),
                 "verdict": t.verdict, "interpretation": t.interpretation} for t in self.tests]
        rows += [{"name": name, "statistic": float("nan"), "p_value": float("nan"),
                  "verdict": NOT_CHECKED, "interpretation": reason}
                 for name, reason in self.not_run]
        order = {n: i for i, n in enumerate(FEEDBACK_CHECKS)}
        rows.sort(key=lambda r: order.get(r["name"], len(order)))
        return pd.DataFrame(rows, columns=["name", "statistic", "p_value", "verdict",
                                           "interpretation"])

    def __str__(self) -> str:
        lines = [f"{t.name}: {t.interpretation}" for t in self.tests]
        lines += [f"{name}: not checked ({reason})" for name, reason in self.not_run]
        return "\n".join(lines)


def _not_possible(exc: Exception) -> str:
    """The reason a check could not run, as one sentence."""
    text = str(exc).strip()
    return text if text.endswith(".") else f"{text}."


def feedback_report(
    panel: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    leads: int = 2,
    lags: int = 2,
    granger_lags: int = 2,
    per_exposure: float | Literal["auto"] | None = "auto",
    estimator: Literal["feols", "fepois"] | None = None,
    cross_section_demean: bool = True,
    alpha: float = 0.05,
) -> FeedbackReport:
    """Run :func:`leads_test`, :func:`reverse_regression` and :func:`granger_test`.

    The Granger test runs in the feedback direction (``x = outcome``, as a rate
    when ``per_exposure`` applies; ``y = treatment``), with two lags by default,
    and with the common period component removed
    (``cross_section_demean=True``), since a national trend in both series
    would otherwise look like Granger causality in every unit.

    Each check runs when the panel supports it: the leads test and the reverse
    regression need few periods, the Granger test needs more than
    ``5 + 3 * granger_lags`` periods per unit (:func:`granger_test`). A check
    the panel cannot support is left out with its reason in
    ``FeedbackReport.not_run`` (and a :class:`~causalpolicing.exceptions.DataWarning`),
    so a short panel still gets the checks it can have.

    Parameters
    ----------
    panel
        The panel.
    outcome, treatment
        Columns; default the panel's first outcome and treatment.
    leads, lags, granger_lags
        Leads in the leads test, outcome lags in the reverse regression, lag
        order of the Granger test.
    per_exposure
        Express the outcome as a rate per this many exposure units in the
        reverse regression and the Granger test. ``"auto"`` (default): per
        100,000 for a count outcome of a panel with an exposure, else the raw
        outcome.
    estimator
        Passed to :func:`leads_test`.
    cross_section_demean
        Passed to :func:`granger_test`.
    alpha
        Test level of every verdict.

    Raises
    ------
    SpecError
        Invalid arguments (unknown columns, non-positive lags), or none of the
        three checks can run on this panel (the message gives each reason).

    Examples
    --------
    An 8-period panel is too short for the Granger test with 2 lags; the other
    two checks run:

    >>> import warnings
    >>> import causalpolicing as cp
    >>> panel = cp.datasets.load("simulated_cantons")
    >>> frame = panel.to_frame()
    >>> short = frame[frame["year"] > frame["year"].max() - 8]   # the last 8 years
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     short = cp.load_panel(short, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences_per_1000", exposure="population")
    ...     rep = feedback_report(short)
    >>> [t.name for t in rep.tests], rep.not_run[0][0]
    (['leads test', 'reverse regression'], 'Granger (Dumitrescu-Hurlin)')
    """
    _check_panel(panel, "feedback_report")
    _check_alpha(alpha)
    for value, name in ((leads, "leads"), (lags, "lags"), (granger_lags, "granger_lags")):
        _positive(value, name)
    if estimator not in (None, "feols", "fepois"):
        raise SpecError(f"estimator must be 'feols', 'fepois' or None (chosen from the outcome); "
                        f"got {estimator!r}.")
    y = _column(panel, outcome, "outcome", "outcome")
    x = _column(panel, treatment, "treatment", "treatment")
    per: float | None
    if per_exposure == "auto":
        count = panel.outcome_kinds.get(y) == "count" and panel.exposure is not None
        per = 100_000.0 if count else None
    else:
        per = per_exposure
    if per is not None and panel.exposure is None:
        raise SpecError("per_exposure needs a panel with an exposure role (population); "
                        "declare exposure= in cp.load_panel or leave per_exposure=None.")
    gx = y
    if per is not None:
        gx = f"{y}_per_{_per_label(float(per))}"
        while gx in panel.columns:
            gx += "_"
    gpanel = panel.rate(y, per=per, name=gx) if per is not None else panel
    not_run: list[tuple[str, str]] = []
    done: dict[str, Any] = {}
    checks = {
        "leads test": lambda: leads_test(panel, leads, outcome=y, treatment=x,
                                         estimator=estimator, alpha=alpha),
        "reverse regression": lambda: reverse_regression(panel, lags, outcome=y, treatment=x,
                                                         per_exposure=per, alpha=alpha),
        "Granger (Dumitrescu-Hurlin)": lambda: granger_test(
            gpanel, x=gx, y=x, lags=granger_lags, cross_section_demean=cross_section_demean,
            alpha=alpha),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, run in checks.items():
            try:
                done[name] = run()
            except CausalPolicingError as exc:  # the panel cannot support this check
                not_run.append((name, _not_possible(exc)))
    for w in {(str(w.message), w.category): w for w in caught}.values():
        warnings.warn(w.message, w.category, stacklevel=2)
    if len(not_run) == len(checks):
        raise SpecError("No feedback check could run on this panel: " + " ".join(
            f"{name}: {reason}" for name, reason in not_run))
    for name, reason in not_run:
        warnings.warn(f"Feedback check not run ({name}): {reason}", DataWarning, stacklevel=2)
    return FeedbackReport(done.get("leads test"), done.get("reverse regression"),
                          done.get("Granger (Dumitrescu-Hurlin)"), tuple(not_run))
