"""The package as a whole: import cost, public surface, exception family."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import causalpolicing as cp
from causalpolicing import exceptions as ex

HEAVY = ["dowhy", "matplotlib", "seaborn", "statsmodels", "linearmodels", "pyfixest", "typer"]


def test_import_does_not_load_heavy_packages() -> None:
    code = (
        "import sys, json; import causalpolicing; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_version_matches_distribution_metadata() -> None:
    from importlib.metadata import version

    assert cp.__version__ == version("causalpolicing")


def test_unknown_top_level_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'fels'"):
        cp.fels  # noqa: B018


@pytest.mark.parametrize(
    "cls",
    [ex.PanelError, ex.ColumnNotFoundError, ex.DuplicateKeyError, ex.MissingKeyError,
     ex.TimeParseError, ex.NonNumericError, ex.NegativeValueError, ex.NonIntegerCountError,
     ex.ZeroExposureError, ex.InfiniteValueError, ex.AllMissingError, ex.RoleError,
     ex.TransformError, ex.ReaderError, ex.EmptySourceError, ex.UnsupportedFormatError,
     ex.DatasetError, ex.FormulaError, ex.SpecError],
    ids=lambda c: c.__name__,
)
def test_input_errors_are_package_errors_and_value_errors(cls: type) -> None:
    assert issubclass(cls, ex.CausalPolicingError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize(
    "cls",
    [ex.DataWarning, ex.NoWithinVariationWarning, ex.GapWarning, ex.FewUnitsWarning,
     ex.FewClustersWarning, ex.SingletonWarning, ex.CollinearityWarning, ex.ConvergenceWarning,
     ex.AssumptionWarning],
    ids=lambda c: c.__name__,
)
def test_warnings_share_one_base(cls: type) -> None:
    assert issubclass(cls, ex.CausalPolicingWarning)
    assert issubclass(cls, UserWarning)


def test_every_exception_is_exported() -> None:
    public = {
        name for name, obj in vars(ex).items()
        if isinstance(obj, type) and issubclass(obj, BaseException | Warning)
        and obj.__module__ == ex.__name__
    }
    assert public == set(ex.__all__)


def test_every_lazy_top_level_name_resolves() -> None:
    for name in dir(cp):
        assert getattr(cp, name) is not None
