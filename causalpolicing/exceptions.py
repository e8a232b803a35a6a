"""Exceptions and warnings raised by causalpolicing.

Every error raised on purpose by the package derives from
:class:`CausalPolicingError`. Errors about bad input also derive from the
matching builtin (mostly :class:`ValueError`), so ``except ValueError`` keeps
working for callers who do not know this package.

Every warning derives from :class:`CausalPolicingWarning` and says what to do
about the problem it reports.

Examples
--------
>>> import causalpolicing as cp
>>> issubclass(cp.exceptions.DuplicateKeyError, ValueError)
True
>>> issubclass(cp.exceptions.GapWarning, UserWarning)
True
"""

from __future__ import annotations

__all__ = [
    "CausalPolicingError",
    "PanelError",
    "ColumnNotFoundError",
    "DuplicateKeyError",
    "MissingKeyError",
    "TimeParseError",
    "NonNumericError",
    "NegativeValueError",
    "NonIntegerCountError",
    "ZeroExposureError",
    "InfiniteValueError",
    "AllMissingError",
    "RoleError",
    "TransformError",
    "ReaderError",
    "EmptySourceError",
    "UnsupportedFormatError",
    "DatasetError",
    "FormulaError",
    "SpecError",
    "EstimationError",
    "CausalPolicingWarning",
    "DataWarning",
    "NoWithinVariationWarning",
    "GapWarning",
    "FewUnitsWarning",
    "FewClustersWarning",
    "SingletonWarning",
    "CollinearityWarning",
    "ConvergenceWarning",
    "AssumptionWarning",
]


class CausalPolicingError(Exception):
    """Base class of every error that causalpolicing raises on purpose."""


# --------------------------------------------------------------------------- panel
class PanelError(CausalPolicingError, ValueError):
    """The data cannot form a valid panel with the roles given."""


class ColumnNotFoundError(PanelError):
    """A role names a column that the data do not have."""


class DuplicateKeyError(PanelError):
    """Two or more rows share the same unit and time."""


class MissingKeyError(PanelError):
    """A row has no unit or no time value."""


class TimeParseError(PanelError):
    """Time values cannot be read as regular periods (years, quarters, months, days)."""


class NonNumericError(PanelError):
    """A numeric role (outcome, treatment, exposure, covariate) holds text."""


class NegativeValueError(PanelError):
    """A count outcome or an exposure holds negative values."""


class NonIntegerCountError(PanelError):
    """An outcome declared as a count holds non-integer values."""


class ZeroExposureError(PanelError):
    """A row has zero exposure (nobody at risk) but a positive count."""


class InfiniteValueError(PanelError):
    """A numeric role holds +inf or -inf."""


class AllMissingError(PanelError):
    """An outcome or treatment has no non-missing value at all."""


class RoleError(PanelError):
    """Roles are declared inconsistently (e.g. one column in two roles, an unknown kind)."""


class TransformError(PanelError):
    """A transform cannot be applied as asked (e.g. log of zero under the 'error' policy)."""


# -------------------------------------------------------------------------- readers
class ReaderError(CausalPolicingError, ValueError):
    """A file cannot be read into a table."""


class EmptySourceError(ReaderError):
    """The file or frame has no data rows (or every row was dropped).

    Parameters
    ----------
    message
        What is empty and how to fix it.
    drop_log
        When every row was dropped while loading: the drop log (a DataFrame with
        the reason for each row), else None.
    """

    def __init__(self, message: str, drop_log: object = None) -> None:
        super().__init__(message)
        self.drop_log = drop_log


class UnsupportedFormatError(ReaderError):
    """No reader is registered for this file type."""


class DatasetError(CausalPolicingError, ValueError):
    """A bundled dataset name or data card is invalid."""


# ----------------------------------------------------------------------- estimation
class FormulaError(CausalPolicingError, ValueError):
    """A model formula is malformed or names unknown columns."""


class SpecError(CausalPolicingError, ValueError):
    """An analysis specification is invalid."""


class EstimationError(CausalPolicingError, RuntimeError):
    """A model could not be estimated (e.g. no variation left after fixed effects)."""


# ------------------------------------------------------------------------- warnings
class CausalPolicingWarning(UserWarning):
    """Base class of every warning that causalpolicing issues."""


class DataWarning(CausalPolicingWarning):
    """Something in the data deserves attention but does not stop the analysis."""


class NoWithinVariationWarning(DataWarning):
    """A treatment does not vary within units, so unit fixed effects absorb it."""


class GapWarning(DataWarning):
    """Some units have missing periods between their first and last observation."""


class FewUnitsWarning(DataWarning):
    """The panel has very few units; unit-level inference will be fragile."""


class FewClustersWarning(CausalPolicingWarning):
    """Cluster-robust standard errors with few clusters are too small."""


class SingletonWarning(CausalPolicingWarning):
    """Fixed-effect singletons were found (and dropped or kept as requested)."""


class CollinearityWarning(CausalPolicingWarning):
    """Regressors were dropped because they are collinear or absorbed by fixed effects."""


class ConvergenceWarning(CausalPolicingWarning):
    """An iterative algorithm did not reach its tolerance."""


class AssumptionWarning(CausalPolicingWarning):
    """A diagnostic suggests an identifying assumption fails."""
