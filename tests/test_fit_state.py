"""Typed, frozen fit states (causalpolicing.inference.fit_state): every results object
is built once with its warnings, carries no untyped store, and the bootstrap-capable
ones give their bootstrap parts through a public hook; the bootstraps' arguments are
named alike (null=, conf_int=), the old names deprecated."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.estimators.linear import FEOLSResults
from causalpolicing.exceptions import SpecError
from causalpolicing.inference.count_bootstrap import BootstrapParts, poisson_bootstrap
from causalpolicing.inference.fit_state import (
    GLMFitState,
    LinearFitState,
    PoissonFitState,
    WildBootstrapParts,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"unit": np.repeat(np.arange(12), 8), "year": np.tile(np.arange(8), 12)})
    df["x"] = rng.normal(size=len(df))
    df["x2"] = 2 * df["x"]  # collinear: a CollinearityWarning from the fit itself
    df["y"] = rng.poisson(np.exp(1 + 0.3 * df["x"]))
    df["n"] = df["y"] + 10
    return df


def quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


FITS: dict[str, tuple[Callable[[pd.DataFrame], Any], type]] = {
    "feols": (lambda d: cp.feols("y ~ x | unit + year", d, vcov={"CRV1": "unit"}),
              LinearFitState),
    "feols-with_cov": (lambda d: cp.feols("y ~ x | unit", d).with_cov("hetero"), LinearFitState),
    "between": (lambda d: cp.between("y ~ x", d, unit="unit"), LinearFitState),
    "first_difference": (lambda d: cp.first_difference("y ~ x", d, unit="unit", time="year",
                                                       vcov={"CRV1": "unit"}),
                         LinearFitState),
    "fepois": (lambda d: cp.fepois("y ~ x | unit", d), PoissonFitState),
    "fepois-with_cov": (lambda d: cp.fepois("y ~ x | unit", d).with_cov("iid"),
                        PoissonFitState),
    "fenegbin": (lambda d: cp.fenegbin("y ~ x", d), GLMFitState),
    "febinomial": (lambda d: cp.febinomial("y ~ x", d, trials="n"), GLMFitState),
}


@pytest.mark.parametrize("name", list(FITS))
def test_results_carry_a_frozen_typed_state_not_a_dict(name: str, data: pd.DataFrame) -> None:
    fit, state_type = FITS[name]
    res = quiet(lambda: fit(data))
    # no untyped store dict, under any name
    assert not [a for a in dir(res) if a.lstrip("_").startswith("store")]
    assert type(res.fit_state) is state_type
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.fit_state.converged = False  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        res.fit_state = None  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        res._params = None  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "cluster", "parts_type"),
    [("feols", "unit", WildBootstrapParts), ("feols-with_cov", "unit", WildBootstrapParts),
     ("between", "row", WildBootstrapParts),  # (one row per unit)
     ("first_difference", "unit", WildBootstrapParts),
     ("fepois", "unit", BootstrapParts), ("fepois-with_cov", "unit", BootstrapParts)],
)
def test_bootstrap_capable_results_give_their_parts(name: str, cluster: str, parts_type: type,
                                                   data: pd.DataFrame) -> None:
    res = quiet(lambda: FITS[name][0](data))
    parts = res.bootstrap_parts(None if cluster == "row" else cluster, data=data)
    assert type(parts) is parts_type
    assert parts.cluster == cluster
    assert int(np.max(parts.cluster_codes)) + 1 == 12


def test_linear_bootstrap_parts_default_and_weights(data: pd.DataFrame) -> None:
    res = quiet(lambda: cp.feols("y ~ x | unit", data, weights="n"))
    parts = res.bootstrap_parts(data=data)
    assert parts.cluster == "unit"  # the fit's one-way cluster
    np.testing.assert_array_equal(parts.sqrt_weights, np.sqrt(data["n"].to_numpy(float)))
    iid = quiet(lambda: cp.feols("y ~ x | unit", data, vcov="iid"))
    assert iid.bootstrap_parts().cluster == "row"


def test_warnings_are_given_at_construction(data: pd.DataFrame,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    init = FEOLSResults.__init__

    def spy(self: FEOLSResults, **kwargs: Any) -> None:
        seen.append(tuple(kwargs["warnings"]))
        init(self, **kwargs)

    monkeypatch.setattr(FEOLSResults, "__init__", spy)
    res = quiet(lambda: cp.feols("y ~ x + x2 | unit", data, vcov={"CRV1": "unit"}))
    assert len(seen) == 1 and seen[0] == res.warnings  # built once, with the warnings
    collinear = [m for m in res.warnings if "Regressor(s) dropped" in m]
    few = [m for m in res.warnings if "Only 12 clusters" in m]
    assert collinear and few
    # the fit's own warnings are kept for a new covariance, the old covariance's are not
    assert res.fit_state.fit_warnings == tuple(collinear)
    assert quiet(lambda: res.with_cov("iid")).warnings == tuple(collinear)


def test_poisson_warnings_and_notes_at_construction(data: pd.DataFrame) -> None:
    df = data.assign(y=data["y"] + 0.5)
    res = quiet(lambda: cp.fepois("y ~ x | unit", df, vcov="hetero"))
    assert any("non-integer" in m for m in res.warnings)
    assert res.fit_state.notes and res.fit_state.notes[0] in res.fit_state.fit_warnings
    assert quiet(lambda: res.with_cov("iid")).warnings == res.fit_state.fit_warnings


def test_poisson_regressor_statistics_are_shared_by_copies(data: pd.DataFrame) -> None:
    res = quiet(lambda: cp.fepois("y ~ x | unit", data))
    other = quiet(lambda: res.with_cov("hetero"))
    assert other.fit_state is res.fit_state
    assert float(res.regressor_sd["x"]) == pytest.approx(float(data["x"].std()))
    assert float(other.regressor_mean["x"]) == pytest.approx(float(data["x"].mean()))


# ----------------------------------------------------------------- bootstrap names
@pytest.fixture(scope="module")
def lin(data: pd.DataFrame) -> FEOLSResults:
    return quiet(lambda: cp.feols("y ~ x | unit", data, vcov={"CRV1": "unit"}))


def test_wild_bootstrap_takes_null_and_conf_int(lin: FEOLSResults) -> None:
    new = cp.inference.wild_bootstrap(lin, "x", reps=99, seed=1, null=0.1, conf_int=False)
    with pytest.warns(FutureWarning, match="'r' is deprecated.*use null="):
        old_r = cp.inference.wild_bootstrap(lin, "x", reps=99, seed=1, r=0.1, conf_int=False)
    with pytest.warns(FutureWarning, match="'ci' is deprecated.*use conf_int="):
        old_ci = cp.inference.wild_bootstrap(lin, "x", reps=99, seed=1, null=0.1, ci=False)
    assert new.null == old_r.null == old_ci.null == 0.1
    assert new.p_value == old_r.p_value == old_ci.p_value
    assert np.isnan(new.conf_int).all() and np.isnan(old_ci.conf_int).all()
    with pytest.warns(FutureWarning, match="use .null"):
        assert new.r == 0.1


def test_wild_bootstrap_refuses_both_names(lin: FEOLSResults) -> None:
    with pytest.raises(SpecError, match="pass null= only"):
        cp.inference.wild_bootstrap(lin, "x", reps=99, null=0.2, r=0.1)


def test_bootstraps_refuse_the_other_family(lin: FEOLSResults, data: pd.DataFrame) -> None:
    pois = quiet(lambda: cp.fepois("y ~ x | unit", data))
    with pytest.raises(SpecError, match="needs the results of cp.fepois"):
        poisson_bootstrap(lin, "x")
    with pytest.raises(SpecError, match="needs a linear fit from cp.feols.*poisson_bootstrap"):
        cp.inference.wild_bootstrap(pois, "x", reps=99)
    with pytest.raises(SpecError, match="needs a linear fit from cp.feols"):
        cp.inference.wild_bootstrap(object(), "x")


def test_both_bootstrap_results_share_the_names_of_the_contract() -> None:
    import warnings

    import causalpolicing as cp

    df = cp.datasets.load("simulated_cantons").to_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lin = cp.feols("deaths ~ offences_per_1000 | canton + year", df,
                       vcov={"CRV1": "canton"})
        poi = cp.fepois("deaths ~ offences_per_1000 | canton + year", df,
                        exposure="population", vcov={"CRV1": "canton"})
        wild = cp.inference.wild_bootstrap(lin, "offences_per_1000", reps=99, seed=3, data=df)
        score = cp.inference.poisson_bootstrap(poi, "offences_per_1000", reps=99, seed=3,
                                               data=df)
    shared = ("param", "estimate", "std_error", "statistic", "p_value", "conf_low",
              "conf_high", "conf_int", "null", "impose_null", "level", "reps", "weights",
              "n_clusters", "seed")
    for res in (wild, score):
        for name in shared:
            assert hasattr(res, name), (type(res).__name__, name)
        row = res.tidy().iloc[0]
        assert row["statistic"] == res.statistic
        assert (row["conf_low"], row["conf_high"]) == res.conf_int == (res.conf_low,
                                                                      res.conf_high)
    assert wild.statistic == wild.t_stat
