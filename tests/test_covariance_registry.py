"""The covariance registry (causalpolicing.inference.covariance): one class per type,
one parser for every name, the family table derived from the classes, one meaning per
name, refusals that name the estimator and what it takes."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causalpolicing as cp
from causalpolicing.exceptions import SpecError
from causalpolicing.inference import covariance
from causalpolicing.inference.vcov import (
    COVARIANCE_TYPES,
    SSC_CONVENTIONS,
    VCOV_FAMILIES,
    VcovRequest,
    check_vcov,
    cov_label,
    parse_vcov,
)


@pytest.mark.parametrize(
    ("given", "expected", "label"),
    [
        pytest.param("iid", VcovRequest("iid"), "iid", id="iid"),
        pytest.param("homoskedastic", VcovRequest("iid"), "iid", id="iid-alias"),
        pytest.param("HC0", VcovRequest("HC0"), "HC0", id="HC0"),
        pytest.param("hc0", VcovRequest("HC0"), "HC0", id="HC0-case"),
        pytest.param("HC1", VcovRequest("HC1"), "HC1", id="HC1"),
        pytest.param("hetero", VcovRequest("HC1"), "HC1", id="hetero"),
        pytest.param("robust", VcovRequest("HC1"), "HC1", id="robust"),
        pytest.param("HC3", VcovRequest("HC3"), "HC3", id="HC3"),
        pytest.param({"CRV1": "unit"}, VcovRequest("CRV1", ("unit",)), "CRV1 by unit",
                     id="CRV1"),
        pytest.param({"CRV1": ["unit", "year"]}, VcovRequest("CRV1", ("unit", "year")),
                     "CRV1 by unit + year", id="CRV1-two-way"),
        pytest.param({"CRV3": "unit"}, VcovRequest("CRV3", ("unit",)), "CRV3 by unit",
                     id="CRV3"),
        pytest.param({"DK": "year"}, VcovRequest("DK", time="year"), "DK by year (lag auto)",
                     id="DK"),
        pytest.param({"driscoll-kraay": {"time": "year", "lag": 2}},
                     VcovRequest("DK", time="year", lag=2), "DK by year (lag 2)", id="DK-alias"),
        pytest.param("HAC", VcovRequest("HAC"), "HAC (Newey-West, auto lags)", id="HAC"),
        pytest.param("nw", VcovRequest("HAC"), "HAC (Newey-West, auto lags)", id="nw"),
        pytest.param("newey-west", VcovRequest("HAC"), "HAC (Newey-West, auto lags)",
                     id="newey-west"),
        pytest.param({"HAC": 2}, VcovRequest("HAC", lag=2), "HAC (Newey-West, 2 lags)",
                     id="HAC-lags"),
        pytest.param({"HAC": {"lags": 3}}, VcovRequest("HAC", lag=3),
                     "HAC (Newey-West, 3 lags)", id="HAC-lags-dict"),
        pytest.param({"nw": None}, VcovRequest("HAC"), "HAC (Newey-West, auto lags)",
                     id="nw-auto"),
    ],
)
def test_every_name_parses(given: Any, expected: VcovRequest, label: str) -> None:
    req = parse_vcov(given)
    assert req == expected
    assert req.label() == label
    assert parse_vcov(req.as_spec()) == req  # the spec form parses back to the same request


def test_every_class_is_in_the_registry_once() -> None:
    assert list(COVARIANCE_TYPES) == ["iid", "HC0", "HC1", "HC3", "CRV1", "CRV3", "DK", "HAC"]
    for name, cls in COVARIANCE_TYPES.items():
        assert issubclass(cls, covariance.Covariance)
        assert cls.name == name
        assert cls.__doc__  # its formula
        assert cls.examples
        assert cls.families


def test_family_table_is_derived_from_the_classes() -> None:
    derived = {fam: tuple(n for n, c in COVARIANCE_TYPES.items() if fam in c.families)
               for fam in covariance.FAMILIES}
    assert VCOV_FAMILIES == derived
    assert VCOV_FAMILIES == {
        "linear": ("iid", "HC1", "HC3", "CRV1", "CRV3", "DK"),
        "poisson": ("iid", "HC1", "CRV1", "CRV3", "DK"),
        "glm": ("iid", "HC0", "HC1", "CRV1", "HAC"),
    }


@pytest.mark.parametrize("name", list(COVARIANCE_TYPES))
def test_each_class_states_its_small_sample_factors(name: str) -> None:
    cls = COVARIANCE_TYPES[name]
    assert set(cls.conventions) <= {*SSC_CONVENTIONS, "glm"}
    assert ("glm" in cls.conventions) == ("glm" in cls.families)
    if {"linear", "poisson"} & set(cls.families):
        assert set(SSC_CONVENTIONS) <= set(cls.conventions)


def test_classes_are_not_instantiated() -> None:
    with pytest.raises(TypeError, match="registry entry"):
        covariance.HC1()


@pytest.mark.parametrize("family", ["linear", "poisson", "glm"])
def test_hetero_means_hc1_for_every_family(family: str) -> None:
    assert check_vcov("hetero", family=family).name == "HC1"
    assert check_vcov("robust", family=family).name == "HC1"


@pytest.fixture(scope="module")
def counts() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"unit": np.repeat(np.arange(30), 6), "year": np.tile(np.arange(6), 30)})
    df["x"] = rng.normal(size=len(df))
    df["y"] = rng.poisson(np.exp(1 + 0.3 * df["x"]))
    return df


@pytest.mark.parametrize("fit", [
    pytest.param(lambda d: cp.feols("y ~ x | unit", d, vcov="hetero"), id="feols"),
    pytest.param(lambda d: cp.fepois("y ~ x | unit", d, vcov="hetero"), id="fepois"),
    pytest.param(lambda d: cp.fenegbin("y ~ x", d, vcov="hetero"), id="fenegbin"),
    pytest.param(lambda d: cp.febinomial("y ~ x", d.assign(n=d["y"] + 5), trials="n",
                                         vcov="hetero"), id="febinomial"),
])
def test_hetero_fits_are_labelled_hc1(fit: Callable[[pd.DataFrame], Any],
                                      counts: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fit(counts).cov_type == "HC1"


@pytest.mark.parametrize(
    ("fit", "message"),
    [
        pytest.param(lambda d: cp.fepois("y ~ x | unit", d, vcov="HC3"),
                     r"vcov='HC3' \(HC3\) is not available for fepois; it takes iid, HC1, CRV1, "
                     r"CRV3, DK\.", id="fepois-HC3"),
        pytest.param(lambda d: cp.fenegbin("y ~ x", d, vcov={"DK": "year"}),
                     r"\(DK\) is not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC\.",
                     id="fenegbin-DK"),
        pytest.param(lambda d: cp.febinomial("y ~ x", d, trials="y", vcov={"CRV3": "unit"}),
                     r"\(CRV3\) is not available for febinomial; it takes iid, HC0, HC1, CRV1, "
                     r"HAC\.", id="febinomial-CRV3"),
        pytest.param(lambda d: cp.feols("y ~ x", d, vcov="HAC"),
                     r"\(HAC\) is not available for feols; it takes iid, HC1, HC3, CRV1, CRV3, "
                     r"DK\.", id="feols-HAC"),
        pytest.param(lambda d: cp.feols("y ~ x", d, vcov="iid").with_cov("HC0"),
                     r"\(HC0\) is not available for OLS; it takes", id="with_cov-HC0"),
    ],
)
def test_family_refusal_names_the_estimator_and_what_it_takes(
        fit: Callable[[pd.DataFrame], Any], message: str, counts: pd.DataFrame) -> None:
    with pytest.raises(SpecError, match=message):
        fit(counts)


def test_unknown_names_suggest_the_closest() -> None:
    with pytest.raises(SpecError, match=r"Unknown covariance type vcov='hetro'\. Valid: 'iid', "
                                        r".*\{'HAC': 2\}\. Did you mean 'hetero'\?$"):
        parse_vcov("hetro")
    with pytest.raises(SpecError, match=r"Did you mean 'CRV3'\?$"):
        parse_vcov("crv9")


def test_hac_options_are_checked() -> None:
    with pytest.raises(SpecError, match="HAC takes one option, 'lags'"):
        parse_vcov({"HAC": {"maxlags": 2}})
    with pytest.raises(SpecError, match="HAC lags must be a non-negative integer"):
        parse_vcov({"HAC": -1})


def test_labels_carry_a_non_default_convention() -> None:
    assert cov_label(parse_vcov("HC0")) == "HC0"
    assert cov_label(parse_vcov({"DK": "t"}), "none") == "DK by t (lag auto) (none)"


def test_glm_request_is_the_registry_request() -> None:
    from causalpolicing.estimators import _glm

    assert _glm.GLMVcov is VcovRequest
    assert _glm.parse_glm_vcov("newey-west", "fenegbin") == VcovRequest("HAC")


def test_the_registry_imports_nothing_above_inference() -> None:
    root = Path(covariance.__file__).parent
    for path in [*root.glob("*.py"), root.parent / "vcov.py", root.parent / "fit_state.py",
                 root.parent / "bootstrap.py", root.parent / "count_bootstrap.py"]:
        text = path.read_text()
        assert "estimators" not in "".join(
            line for line in text.splitlines() if "import" in line), path
