"""The registry's table of estimators (the designs' entries: :mod:`._design_entries`)."""

from __future__ import annotations

from ._schema import (
    _PANEL_MODEL_OPTIONS,
    EXPOSURE,
    FORMULA,
    SINGLETONS,
    SSC,
    WEIGHTS,
    EstimatorEntry,
    Option,
    _vcov_option,
    choice,
    column,
    count,
)

_E = "causalpolicing.estimators"


def model_entries() -> tuple[EstimatorEntry, ...]:
    """The estimators of :mod:`causalpolicing.estimators`, in registration order."""
    lin, pois = _vcov_option(), _vcov_option()
    return (
        EstimatorEntry("feols", f"{_E}.linear:feols",
                       (FORMULA, lin, SSC, WEIGHTS, SINGLETONS),
                       "linear", True, True, True, "wild", "FEOLSResults", ("coef",),
                       "OLS, WLS and 2SLS with fixed effects"),
        EstimatorEntry("fepois", f"{_E}.poisson:fepois",
                       (FORMULA, pois, SSC, WEIGHTS, EXPOSURE,
                        Option("offset", column, "offset column (log scale)", kind="column"),
                        SINGLETONS),
                       "poisson", True, True, True, "score", "FEPoissonResults",
                       ("coef", "rate_ratio"), "Poisson with fixed effects and an exposure"),
        EstimatorEntry("fenegbin", f"{_E}.negbin:fenegbin",
                       (FORMULA, _vcov_option(), EXPOSURE, SINGLETONS),
                       "glm", True, True, False, None, "GLMFEResults", ("coef", "rate_ratio"),
                       "negative binomial (NB2) with fixed effects"),
        EstimatorEntry("febinomial", f"{_E}.binomial:febinomial",
                       (FORMULA,
                        Option("trials", column, "the column with the population at risk "
                               "(e.g. trials = \"users\")", kind="column", required=True),
                        _vcov_option(),
                        Option("dispersion", choice("fixed", "pearson"), "dispersion: fixed "
                               "(binomial) or pearson (quasi-binomial)",
                               allowed=("fixed", "pearson"), default="fixed"),
                        SINGLETONS),
                       "glm", True, True, False, None, "GLMFEResults", ("coef", "odds_ratio"),
                       "binomial logit GLM of events out of trials"),
        EstimatorEntry("between", f"{_E}.between_means:between",
                       (FORMULA, Option("unit", column, "unit column (default: the Panel's)",
                                        kind="column"),
                        _vcov_option("iid"), SSC),
                       "linear", True, False, True, None, "FEOLSResults", ("coef",),
                       "OLS on unit means"),
        EstimatorEntry("first_difference", f"{_E}.first_differences:first_difference",
                       (FORMULA, Option("unit", column, "unit column (default: the Panel's)",
                                        kind="column"),
                        Option("time", column, "time column (default: the Panel's)",
                               kind="column"),
                        _vcov_option(), SSC),
                       "linear", True, False, True, None, "FEOLSResults", ("coef",),
                       "OLS on first differences"),
        EstimatorEntry("distributed_lag", f"{_E}.lags:distributed_lag",
                       (Option("outcome", column, "outcome column (default: the primary one)",
                               kind="column"),
                        Option("treatment", column, "treatment column (default: the primary "
                               "one)", kind="column"),
                        Option("lags", count, "lags of the treatment", kind="integer",
                               default=2),
                        Option("leads", count, "leads of the treatment", kind="integer",
                               default=2),
                        *_PANEL_MODEL_OPTIONS),
                       "linear", False, True, False, None, "DistributedLagResults",
                       ("coef", "rate_ratio"), "lags and leads of the treatment "
                       "(term `cumulative`: the summed effect)",
                       family_option=("family", {"fepois": "poisson"}),
                       panel_defaults=("outcome", "family", "covariates", "treatment", "lags",
                                       "leads")),
    )
