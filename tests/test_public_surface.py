"""The public surface: what ``dir()`` shows is ``__all__``, every name resolves, nothing leaks.

Every package builds its ``__getattr__``/``__dir__`` with
:func:`causalpolicing._lazy.lazy_exports`; these tests hold each package to it.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import causalpolicing as cp

PACKAGES = ["causalpolicing"] + [f"causalpolicing.{p}" for p in (
    "data", "estimators", "inference", "report", "graph", "studies", "simulate", "diagnostics",
    "analysis", "core", "designs")]

LEAKS = ("Any", "annotations", "importlib", "TYPE_CHECKING", "Mapping", "sys")

# every estimator: its function, its class and its results type
ESTIMATOR_NAMES = (
    "feols", "FEOLS", "FEOLSResults", "fepois", "FEPoisson", "FEPoissonResults", "fenegbin",
    "FENegBin", "febinomial", "FEBinomial", "GLMFEResults", "between", "first_difference",
    "distributed_lag", "DistributedLagResults", "rate_ratios", "odds_ratios", "effect_at",
    "lincom",
)

# every design: its function and its results type
DESIGN_NAMES = ("event_study", "EventStudyResults")


def _public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_what_dir_shows(name: str) -> None:
    pkg = importlib.import_module(name)
    assert _public(pkg.__all__) == _public(dir(pkg))
    assert len(pkg.__all__) == len(set(pkg.__all__))


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_all_resolves(name: str) -> None:
    pkg = importlib.import_module(name)
    missing = [n for n in pkg.__all__ if getattr(pkg, n, None) is None]
    assert missing == []


@pytest.mark.parametrize("name", PACKAGES)
def test_no_helper_leaks_into_the_namespace(name: str) -> None:
    pkg = importlib.import_module(name)
    assert [n for n in LEAKS if n in dir(pkg) or n in vars(pkg)] == []


ALL_PACKAGES = ["causalpolicing"] + [m.name for m in pkgutil.walk_packages(
    cp.__path__, "causalpolicing.") if m.ispkg]


@pytest.mark.parametrize("name", ALL_PACKAGES)
def test_no_submodule_is_named_like_a_name_it_exports(name: str) -> None:
    pkg = importlib.import_module(name)
    for mod in pkgutil.iter_modules(pkg.__path__):
        value = getattr(pkg, mod.name, None)
        assert value is None or isinstance(value, types.ModuleType), (name, mod.name, value)


@pytest.mark.parametrize("name", ESTIMATOR_NAMES)
def test_estimators_are_exported_alike_at_the_top_and_in_estimators(name: str) -> None:
    assert name in cp.__all__
    assert name in cp.estimators.__all__
    assert getattr(cp, name) is getattr(cp.estimators, name)


@pytest.mark.parametrize("name", DESIGN_NAMES)
def test_designs_are_exported_alike_at_the_top_and_in_designs(name: str) -> None:
    assert name in cp.__all__
    assert name in cp.designs.__all__
    assert getattr(cp, name) is getattr(cp.designs, name)


def test_every_design_is_at_the_top_level() -> None:
    assert set(cp.designs.__all__) - set(cp.__all__) == set()


def test_every_estimator_of_the_estimators_package_is_at_the_top_level() -> None:
    # the parser of changes and the registry are building blocks, not steps of the workflow
    assert set(cp.estimators.__all__) - set(cp.__all__) == {"Change", "parse_change", "registry"}


def test_simulate_is_the_simulators_package() -> None:
    assert isinstance(cp.simulate, types.ModuleType)
    panel = cp.simulate.simulate_cantons(seed=1)
    assert panel.equals(cp.simulate.simulate_cantons(seed=1))


def test_unknown_name_raises_attribute_error_naming_the_package() -> None:
    with pytest.raises(AttributeError, match="causalpolicing.estimators' has no attribute 'nope'"):
        _ = cp.estimators.nope


def test_lazy_names_missing_from_all_are_a_programming_error() -> None:
    from causalpolicing._lazy import lazy_exports

    with pytest.raises(ValueError, match=r"lazy names \['b'\] are missing from __all__"):
        lazy_exports("causalpolicing", ["a"], {"a": ".x", "b": ".y"})


def test_import_causalpolicing_still_loads_no_pandas() -> None:
    code = "import sys, causalpolicing; dir(causalpolicing); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "False"
