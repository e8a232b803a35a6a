"""The registry's table of designs (:mod:`causalpolicing.designs`).

One :class:`EstimatorEntry` per design, appended to :func:`design_entries` in the
order the docs list them; the fitting function is a lazy ``"module:attr"``
reference, so declaring a design here imports nothing of it.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import SpecError
from ._schema import (
    _PANEL_MODEL_OPTIONS,
    EstimatorEntry,
    Option,
    _vcov_option,
    choice,
    column,
    column_list,
    count,
    flag,
    integer,
    values,
)

_D = "causalpolicing.designs"

#: The treatment timing and the panel's keys, shared by every design (default: the
#: Panel's roles; ``outcome``: the primary outcome).
_TIMING_OPTIONS: tuple[Option, ...] = (
    Option("cohort", column, "column with each unit's first treated period (default: the "
           "Panel's timing role)", kind="column"),
    Option("never_treated", values, "the cohort value(s) marking never-treated units, e.g. 0 "
           "or nan (default: the Panel's)", kind="value(s)"),
    Option("outcome", column, "outcome column (default: the primary one)", kind="column"),
    Option("unit", column, "unit column (default: the Panel's)", kind="column"),
    Option("time", column, "time column (default: the Panel's)", kind="column"),
)

#: Options shared by did_imputation and did2s.
_STAGGERED_OPTIONS: tuple[Option, ...] = (
    *_TIMING_OPTIONS,
    Option("covariates", column_list, "covariates of the untreated-outcome model",
           kind="list"),
    Option("fe", column_list, "fixed effects (default: unit and time)", kind="list"),
    Option("weights", column, "observation weights column", kind="column"),
    Option("cluster", column, "cluster column (default: the unit)", kind="column"),
)

#: The model family of the designs that fit linear or Poisson models, and the exposure.
_FAMILY = Option("family", choice("feols", "fepois"), "the model: linear (feols) or Poisson "
                 "(fepois, with exposure)", allowed=("feols", "fepois"), default="feols",
                 argument="estimator")
_EXPOSURE = Option("exposure", column, "population at risk (with family = \"fepois\")",
                   kind="column")


def design_entries() -> tuple[EstimatorEntry, ...]:
    """The designs, in registration order (after the estimators)."""
    return (
        EstimatorEntry("event_study", f"{_D}.event_studies:event_study",
                       (*_TIMING_OPTIONS,
                        Option("leads", count, "leads (event times -leads to -1)",
                               kind="integer", default=4),
                        Option("lags", count, "lags (event times 0 to lags)", kind="integer",
                               default=4),
                        Option("ref", integer, "the reference (omitted) event time",
                               kind="integer", default=-1),
                        Option("bin_endpoints", flag, "bin event times beyond the window "
                               "into the endpoints (false: drop them)", kind="boolean",
                               default=True),
                        *_PANEL_MODEL_OPTIONS),
                       "linear", False, True, False, None, "EventStudyResults",
                       ("coef", "rate_ratio"), "two-way fixed-effects event study: leads and "
                       "lags of a treatment start, pre-trend test",
                       family_option=("family", {"fepois": "poisson"}),
                       panel_defaults=("outcome", "family", "covariates")),
        EstimatorEntry("etwfe", f"{_D}.extended_twfe:etwfe",
                       (*_TIMING_OPTIONS,
                        Option("control", choice("not_yet_treated", "never_treated"),
                               "comparison observations: every untreated one, or those of "
                               "never-treated units only", allowed=("not_yet_treated",
                                                                    "never_treated"),
                               default="not_yet_treated"),
                        Option("aggregate", choice("simple", "event", "group", "calendar"),
                               "the effects reported: overall, by event time, cohort or "
                               "period", allowed=("simple", "event", "group", "calendar"),
                               default="simple"),
                        _FAMILY,
                        Option("fe", choice("cohort", "unit", "none"), "fixed effects: "
                               "cohort, unit or none (dummies; default: cohort for feols, "
                               "none for fepois)", allowed=("cohort", "unit", "none")),
                        Option("covariates", column_list, "covariates, demeaned by cohort "
                               "and interacted with every cohort x period cell", kind="list"),
                        _vcov_option(), _EXPOSURE),
                       "linear", False, True, False, None, "ETWFEResults", ("coef",),
                       "Wooldridge's extended TWFE: saturated cohort x period effects, "
                       "averaged as marginal effects (linear or Poisson)",
                       family_option=("family", {"fepois": "poisson"}),
                       panel_defaults=("outcome", "family", "covariates")),
        EstimatorEntry("did_imputation", f"{_D}.imputation:did_imputation",
                       (*_STAGGERED_OPTIONS,
                        Option("horizons", _event_times, "event times (>= 0) to estimate "
                               "(default: all)", kind="list"),
                        Option("pretrends", count, "pre-treatment periods in the pre-trend "
                               "test", kind="integer", default=0),
                        _FAMILY, _EXPOSURE),
                       None, False, True, False, None, "ImputationResults",
                       ("coef", "rate_ratio"), "Borusyak-Jaravel-Spiess imputation: "
                       "staggered-adoption effects per horizon, conservative SEs, pre-trend "
                       "test; Poisson with exposure (rate ratios, deaths added)",
                       panel_defaults=("outcome", "family", "covariates")),
        EstimatorEntry("did2s", f"{_D}.two_stage:did2s",
                       (*_STAGGERED_OPTIONS,
                        Option("event_time", flag, "one effect per event time (false: one "
                               "static ATT)", kind="boolean", default=True),
                        Option("horizons", _event_times, "event times to estimate (default: "
                               "all >= 0; negative ones add leads)", kind="list")),
                       None, False, True, False, None, "TwoStageResults", ("coef",),
                       "Gardner two-stage DiD (did2s) with GMM standard errors",
                       panel_defaults=("outcome", "covariates")),
        EstimatorEntry("sun_abraham", f"{_D}.interaction_weighted:sun_abraham",
                       (*_TIMING_OPTIONS,
                        Option("leads", count, "leads kept (default: every one observed; "
                               "treated rows beyond are dropped)", kind="integer"),
                        Option("lags", count, "lags kept (default: every one observed)",
                               kind="integer"),
                        Option("ref", _int_or_ints, "the reference event time(s), as "
                               "fixest's ref.p", kind="integer(s)", default=-1),
                        Option("control", choice("never_treated", "last_treated"),
                               "control cohort", allowed=("never_treated", "last_treated"),
                               default="never_treated"),
                        *_PANEL_MODEL_OPTIONS),
                       "linear", False, True, False, None, "SunAbrahamResults",
                       ("coef", "rate_ratio"), "Sun-Abraham interaction-weighted event "
                       "study (fixest::sunab): cohort-share aggregation, ATT, cohort effects",
                       family_option=("family", {"fepois": "poisson"}),
                       panel_defaults=("outcome", "family", "covariates")),
        EstimatorEntry("lp_did", f"{_D}.local_projections:lp_did",
                       (*_TIMING_OPTIONS,
                        Option("pre_window", count, "leads -pre_window..-2 (default: all)",
                               kind="integer"),
                        Option("post_window", count, "lags 0..post_window and the pooled "
                               "ATT's horizon (default: all)", kind="integer"),
                        Option("ref", integer, "base period of the long differences (-1 "
                               "only)", kind="integer", default=-1),
                        Option("control", choice("clean", "never_treated"), "clean (not yet "
                               "treated at t+h, and never treated) or never_treated controls",
                               allowed=("clean", "never_treated"), default="clean"),
                        Option("reweight", flag, "equally-weighted ATT (false: "
                               "variance-weighted)", kind="boolean", default=False),
                        Option("covariates", column_list, "covariate columns", kind="list"),
                        _vcov_option()),
                       "linear", False, False, False, None, "LPDiDResults", ("coef",),
                       "local-projections DiD (Dube, Girardi, Jorda and Taylor 2023): "
                       "event-time effects and pooled ATT from clean comparisons",
                       panel_defaults=("outcome", "covariates")),
        EstimatorEntry("callaway_santanna", f"{_D}.callaway_santanna_did:callaway_santanna",
                       (*_TIMING_OPTIONS,
                        Option("control_group", choice("never_treated", "not_yet_treated",
                                                       what="control group"),
                               "comparison units", allowed=("never_treated", "not_yet_treated"),
                               default="never_treated"),
                        Option("anticipation", count, "periods of anticipation",
                               kind="integer", default=0),
                        Option("base_period", choice("varying", "universal",
                                                     what="base period"),
                               "base period of the pre-treatment effects",
                               allowed=("varying", "universal"), default="varying"),
                        Option("covariates", column_list, "time-invariant covariates",
                               kind="list"),
                        Option("est_method", choice("dr", "ipw", "reg", what="est_method"),
                               "2x2 estimator: doubly robust, IPW or outcome regression",
                               allowed=("dr", "ipw", "reg"), default="dr"),
                        Option("weights", column, "sampling weights (constant within unit)",
                               kind="column"),
                        Option("cluster", column, "cluster column (constant within unit; "
                               "default: by unit)", kind="column"),
                        Option("aggregate", choice("dynamic", "simple", "group", "calendar",
                                                   what="aggregation"),
                               "aggregation reported in params",
                               allowed=("dynamic", "simple", "group", "calendar"),
                               default="dynamic"),
                        Option("min_e", integer, "first event time (dynamic)", kind="integer"),
                        Option("max_e", integer, "last event time (dynamic; caps simple and "
                               "group)", kind="integer"),
                        # not "bootstrap"/"bootstrap_weights": a spec's model keys of
                        # those names ask for the wild/score bootstrap of every model
                        Option("multiplier_draws", count, "multiplier-bootstrap draws (0: "
                               "analytic standard errors only; the uniform band needs > 0)",
                               kind="integer", default=0, argument="bootstrap"),
                        Option("multiplier_weights", choice("mammen", "rademacher",
                                                            what="bootstrap weights"),
                               "multiplier distribution", allowed=("mammen", "rademacher"),
                               default="mammen", argument="bootstrap_weights"),
                        Option("seed", integer, "seed of the bootstrap", kind="integer")),
                       None, False, False, False, None, "CallawaySantAnnaResults", ("coef",),
                       "Callaway-Sant'Anna staggered DiD: ATT(g,t) (dr/ipw/reg) aggregated "
                       "by event time, cohort or period, multiplier bootstrap",
                       panel_defaults=("outcome", "covariates")),
    )


def _event_times(value: object) -> list[int]:
    """A list of integer event times (or one)."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or any(isinstance(v, bool) or not isinstance(v, int) for v in items):
        raise SpecError(f"must be an integer or a list of integers; got {value!r}.")
    return [int(v) for v in items]


def _int_or_ints(value: Any) -> int | list[int]:
    """An integer or a list of integers."""
    if isinstance(value, list | tuple):
        return [integer(v) for v in value]
    return integer(value)
