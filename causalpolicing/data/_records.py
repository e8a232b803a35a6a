"""The records a :class:`~causalpolicing.data.panel.Panel` carries: roles, provenance, history.

They sit below both the Panel and the transforms (which build new records), so
neither has to import the other to name them. Users reach them as
``causalpolicing.data.Roles`` (or ``causalpolicing.data.panel.Roles``, ...).

Examples
--------
>>> from causalpolicing.data import TransformRecord
>>> str(TransformRecord("lag", {"column": "offences", "k": 1}, ("offences_lag1",)))
"lag(column='offences', k=1) -> offences_lag1"
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "OUTCOME_KINDS", "TREATMENT_KINDS", "OutcomeKind", "TreatmentKind",
    "Roles", "PanelMetadata", "TransformRecord",
]

OutcomeKind = Literal["count", "rate", "continuous", "binary"]
TreatmentKind = Literal["continuous", "binary"]
OUTCOME_KINDS = ("count", "rate", "continuous", "binary")
TREATMENT_KINDS = ("continuous", "binary")


@dataclass(frozen=True)
class Roles:
    """Which column plays which part in the analysis.

    Attributes
    ----------
    unit, time
        The panel keys.
    outcomes, outcome_kinds
        Outcome columns and their kinds (``count``, ``rate``, ``continuous``, ``binary``).
    treatments, treatment_kinds
        Treatment columns and their kinds (``continuous`` intensity or ``binary`` event).
    exposure
        Population at risk (e.g. residents), used as a Poisson exposure.
    covariates
        Control variables.
    clusters
        Columns defining clusters for inference (default: none declared, the
        estimators then cluster by unit where they cluster).
    cohort, never_treated
        The treatment-timing role of staggered designs: the column holding each
        unit's first treated period, and the value(s) of it that mark
        never-treated units (None: not declared).
    """

    unit: str
    time: str
    outcomes: tuple[str, ...]
    treatments: tuple[str, ...]
    outcome_kinds: Mapping[str, str]
    treatment_kinds: Mapping[str, str]
    exposure: str | None = None
    covariates: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    cohort: str | None = None
    never_treated: Any = None

    def __post_init__(self) -> None:
        if isinstance(self.never_treated, set | frozenset):  # a fixed order: sets have none
            object.__setattr__(self, "never_treated", tuple(sorted(self.never_treated, key=repr)))
        elif isinstance(self.never_treated, list):
            object.__setattr__(self, "never_treated", tuple(self.never_treated))
        object.__setattr__(self, "outcome_kinds", MappingProxyType(dict(self.outcome_kinds)))
        object.__setattr__(self, "treatment_kinds", MappingProxyType(dict(self.treatment_kinds)))

    @property
    def numeric(self) -> tuple[str, ...]:
        """Columns that must be numeric: outcomes, treatments, exposure, covariates."""
        cols = [*self.outcomes, *self.treatments]
        if self.exposure is not None:
            cols.append(self.exposure)
        cols.extend(self.covariates)
        return tuple(dict.fromkeys(cols))

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form (for provenance and reports)."""
        return {
            "unit": self.unit,
            "time": self.time,
            "outcomes": dict(self.outcome_kinds),
            "treatments": dict(self.treatment_kinds),
            "exposure": self.exposure,
            "covariates": list(self.covariates),
            "clusters": list(self.clusters),
            # the timing role only when declared, so panels without one describe as before
            **({"cohort": self.cohort, "never_treated": self.never_treated}
               if self.cohort is not None else {}),
        }


@dataclass(frozen=True)
class PanelMetadata:
    """Where the panel came from.

    Attributes
    ----------
    source
        The file path, or ``"<DataFrame>"``.
    sha256
        SHA-256 of the file's bytes (for a DataFrame: of its row hashes).
    reader
        The reader used (``csv``, ``parquet``, ``excel``, ``stata``, ``dataframe``, ...).
    loaded_at
        UTC time of loading, ISO 8601.
    n_source_rows
        Data rows in the source.
    reader_info
        What the reader detected or was told (delimiter, encoding, sheet, footers, ...).
    """

    source: str
    sha256: str
    reader: str
    loaded_at: str
    n_source_rows: int
    reader_info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.reader_info, MappingProxyType):
            object.__setattr__(self, "reader_info", MappingProxyType(dict(self.reader_info)))

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form (for provenance and reports)."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "reader": self.reader,
            "loaded_at": self.loaded_at,
            "n_source_rows": self.n_source_rows,
            "reader_info": {k: v for k, v in self.reader_info.items()},
        }


@dataclass(frozen=True)
class TransformRecord:
    """One step in a panel's history."""

    name: str
    params: Mapping[str, Any]
    created: tuple[str, ...] = ()

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        made = f" -> {', '.join(self.created)}" if self.created else ""
        return f"{self.name}({args}){made}"
