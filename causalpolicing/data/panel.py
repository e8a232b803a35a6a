"""The :class:`Panel`: a validated unit x period table with declared roles.

A Panel is immutable. It is created by :func:`causalpolicing.load_panel` (or a
bundled dataset) and every transform returns a new Panel whose ``history``
records what was done. The data are reached through :meth:`Panel.to_frame`,
which returns a copy.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import RoleError
from .timeparse import FREQUENCIES

__all__ = ["Roles", "PanelMetadata", "TransformRecord", "Panel", "PanelSummary"]

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

    def __post_init__(self) -> None:
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


class Panel:
    """A validated panel of units observed over regular periods, with roles.

    Do not construct directly: use :func:`causalpolicing.load_panel` or
    :func:`causalpolicing.datasets.load`. A Panel never changes; transforms
    return new Panels.

    Examples
    --------
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> import warnings
    >>> df = pd.DataFrame({"canton": ["ZH", "ZH", "BE", "BE"], "year": [2000, 2001] * 2,
    ...                    "deaths": [10, 12, 5, 7], "offences": [3.1, 3.5, 2.0, 2.4]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", cp.exceptions.FewUnitsWarning)  # 2 units only
    ...     panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                           treatment="offences")
    >>> len(panel), panel.freq, panel.outcome_kinds["deaths"], list(panel.units)
    (4, 'Y', 'count', ['BE', 'ZH'])
    """

    __slots__ = (
        "_frame", "_source_rows", "_roles", "_freq", "_drop_log", "_metadata",
        "_neighbours", "_history", "_card",
    )

    def __init__(
        self,
        frame: pd.DataFrame,
        source_rows: np.ndarray,
        roles: Roles,
        freq: str,
        drop_log: pd.DataFrame,
        metadata: PanelMetadata,
        neighbours: Mapping[Any, tuple[Any, ...]] | None = None,
        history: tuple[TransformRecord, ...] = (),
        card: Any = None,
    ) -> None:
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_source_rows", np.asarray(source_rows, dtype=np.int64))
        object.__setattr__(self, "_roles", roles)
        object.__setattr__(self, "_freq", freq)
        object.__setattr__(self, "_drop_log", drop_log)
        object.__setattr__(self, "_metadata", metadata)
        object.__setattr__(
            self, "_neighbours",
            None if neighbours is None else MappingProxyType(
                {k: tuple(v) for k, v in neighbours.items()}
            ),
        )
        object.__setattr__(self, "_history", tuple(history))
        object.__setattr__(self, "_card", card)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Panel is immutable; transforms return a new Panel.")

    # ------------------------------------------------------------------ roles
    @property
    def roles(self) -> Roles:
        """The declared roles."""
        return self._roles

    @property
    def unit(self) -> str:
        """Name of the unit column."""
        return self._roles.unit

    @property
    def time(self) -> str:
        """Name of the time column (stored as pandas periods)."""
        return self._roles.time

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Outcome columns."""
        return self._roles.outcomes

    @property
    def outcome(self) -> str:
        """The first (main) outcome column."""
        return self._roles.outcomes[0]

    @property
    def outcome_kinds(self) -> Mapping[str, str]:
        """Kind of each outcome: ``count``, ``rate``, ``continuous`` or ``binary``."""
        return self._roles.outcome_kinds

    @property
    def treatments(self) -> tuple[str, ...]:
        """Treatment columns."""
        return self._roles.treatments

    @property
    def treatment(self) -> str:
        """The first (main) treatment column."""
        return self._roles.treatments[0]

    @property
    def treatment_kinds(self) -> Mapping[str, str]:
        """Kind of each treatment: ``continuous`` or ``binary``."""
        return self._roles.treatment_kinds

    @property
    def exposure(self) -> str | None:
        """Exposure (population at risk) column, if any."""
        return self._roles.exposure

    @property
    def covariates(self) -> tuple[str, ...]:
        """Covariate columns."""
        return self._roles.covariates

    @property
    def clusters(self) -> tuple[str, ...]:
        """Declared cluster columns (empty: estimators cluster by unit)."""
        return self._roles.clusters

    @property
    def neighbours(self) -> Mapping[Any, tuple[Any, ...]] | None:
        """Adjacency: unit -> tuple of neighbouring units (None when not given)."""
        return self._neighbours

    # ------------------------------------------------------------- structure
    @property
    def freq(self) -> str:
        """Period frequency: ``Y``, ``Q``, ``M``, ``W`` or ``D``."""
        return self._freq

    @property
    def metadata(self) -> PanelMetadata:
        """Source, checksum, reader and load time."""
        return self._metadata

    @property
    def card(self) -> Any:
        """The data card of a bundled dataset (:class:`causalpolicing.datasets.DataCard`), else None."""
        return self._card

    @property
    def history(self) -> tuple[TransformRecord, ...]:
        """Transforms applied since loading, in order."""
        return self._history

    @property
    def drop_log(self) -> pd.DataFrame:
        """Rows left out of the panel, one per source row, with the reason (a copy).

        Columns: ``source_row`` (1-based data row of the source), ``unit``,
        ``time``, ``column`` (the column(s) responsible), ``reason`` and ``stage``
        (``reader`` or ``load``).
        """
        return self._drop_log.copy()

    @property
    def source_rows(self) -> np.ndarray:
        """1-based source row number of each panel row (a copy)."""
        return self._source_rows.copy()

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns of the panel."""
        return tuple(self._frame.columns)

    @property
    def units(self) -> np.ndarray:
        """Distinct units, sorted."""
        return self._frame[self.unit].drop_duplicates().to_numpy()

    @property
    def periods(self) -> pd.PeriodIndex:
        """Every period from the first to the last observed one (gaps included)."""
        t = self._frame[self.time]
        return pd.period_range(t.min(), t.max(), freq=t.dt.freq)

    @property
    def n_units(self) -> int:
        """Number of units."""
        return int(self._frame[self.unit].nunique())

    @property
    def n_periods(self) -> int:
        """Number of periods from the first to the last (gaps included)."""
        return len(self.periods)

    @property
    def is_balanced(self) -> bool:
        """True when every unit is observed in every period."""
        return len(self) == self.n_units * self.n_periods

    def time_index(self) -> np.ndarray:
        """Integer period number of each row (0 = the panel's first period)."""
        t = self._frame[self.time]
        ordinals = t.array.asi8
        return ordinals - ordinals.min()

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        t = self._frame[self.time]
        span = f"{t.min()}-{t.max()}" if len(t) else "empty"
        return (
            f"<Panel: {self.n_units} units x {self.n_periods} {FREQUENCIES[self.freq]} ({span}), "
            f"{len(self)} rows, {len(self._drop_log)} dropped; outcome={list(self.outcomes)}, "
            f"treatment={list(self.treatments)}, exposure={self.exposure!r}>"
        )

    # ------------------------------------------------------------------ data
    def to_frame(self, *, source_row: bool = False) -> pd.DataFrame:
        """The panel as a DataFrame (a copy), sorted by unit and time.

        Parameters
        ----------
        source_row
            Add a ``source_row`` column with each row's 1-based row in the source.
        """
        out = self._frame.copy()
        if source_row:
            out.insert(0, "source_row", self._source_rows)
        return out

    def column(self, name: str) -> pd.Series:
        """One column (a copy)."""
        if name not in self._frame.columns:
            from ._messages import close_matches

            hint = close_matches(name, self._frame.columns)
            raise RoleError(
                f"The panel has no column {name!r}"
                + (f"; did you mean {', '.join(map(repr, hint))}?" if hint else ".")
            )
        return self._frame[name].copy()

    # ------------------------------------------------------------ derivation
    def _derive(
        self,
        frame: pd.DataFrame,
        record: TransformRecord,
        *,
        roles: Roles | None = None,
        source_rows: np.ndarray | None = None,
        freq: str | None = None,
        drop_log: pd.DataFrame | None = None,
    ) -> Panel:
        """A new Panel from this one with a new frame (used by transforms)."""
        return Panel(
            frame=frame,
            source_rows=self._source_rows if source_rows is None else source_rows,
            roles=self._roles if roles is None else roles,
            freq=self._freq if freq is None else freq,
            drop_log=self._drop_log if drop_log is None else drop_log,
            metadata=self._metadata,
            neighbours=self._neighbours,
            history=(*self._history, record),
            card=self._card,
        )

    def with_roles(
        self,
        *,
        outcome: str | list[str] | Mapping[str, str] | None = None,
        treatment: str | list[str] | Mapping[str, str] | None = None,
        exposure: str | None | Literal[False] = None,
        covariates: list[str] | tuple[str, ...] | None = None,
        clusters: list[str] | tuple[str, ...] | None = None,
    ) -> Panel:
        """A new Panel with some roles changed (e.g. a transformed column as outcome).

        Arguments left as None keep their current value; ``exposure=False``
        removes the exposure. New role columns must already be in the panel and
        are validated as at loading; rows missing in them are **not** dropped here
        (estimators drop and report them).
        """
        from .load import resolve_kinds

        frame = self._frame
        new = self._roles
        if outcome is not None:
            outs, kinds = resolve_kinds(outcome, "outcome", frame, OUTCOME_KINDS, None)
            new = replace(new, outcomes=outs, outcome_kinds=kinds)
        if treatment is not None:
            trs, kinds = resolve_kinds(treatment, "treatment", frame, TREATMENT_KINDS, None)
            new = replace(new, treatments=trs, treatment_kinds=kinds)
        if exposure is False:
            new = replace(new, exposure=None)
        elif exposure is not None:
            new = replace(new, exposure=exposure)
        if covariates is not None:
            new = replace(new, covariates=tuple(covariates))
        if clusters is not None:
            new = replace(new, clusters=tuple(clusters))
        missing = [c for c in new.numeric + new.clusters if c not in frame.columns]
        if missing:
            from ..exceptions import ColumnNotFoundError

            raise ColumnNotFoundError(
                f"Column(s) {missing} are not in the panel; columns: {list(frame.columns)}."
            )
        text = [c for c in new.numeric if not pd.api.types.is_numeric_dtype(frame[c])]
        if text:
            from ..exceptions import NonNumericError

            raise NonNumericError(
                f"Column(s) {text} must be numeric to serve as exposure or covariates; they hold "
                "text. Load them as numeric roles with load_panel so text cells are reported."
            )
        params = {k: v for k, v in {
            "outcome": outcome, "treatment": treatment, "exposure": exposure,
            "covariates": covariates, "clusters": clusters,
        }.items() if v is not None}
        return self._derive(frame, TransformRecord("with_roles", params), roles=new)

    # ------------------------------------------------------------- summary
    def summary(self) -> PanelSummary:
        """Structure, balance, gaps, missingness and treatment variation.

        Examples
        --------
        >>> import causalpolicing as cp
        >>> s = cp.datasets.load("simulated_cantons").summary()
        >>> s.n_units, s.n_periods, s.balanced, s.n_dropped
        (26, 33, True, 0)
        """
        from .summary import summarise

        return summarise(self)

    # ------------------------------------------------------------ transforms
    # Thin wrappers: each returns a new Panel, see causalpolicing.data.transforms.
    def rate(self, column: str, per: float = 100_000, exposure: str | None = None,
             name: str | None = None) -> Panel:
        """Events per ``per`` people at risk; see :func:`causalpolicing.data.transforms.rate`."""
        from . import transforms

        return transforms.rate(self, column, per=per, exposure=exposure, name=name)

    def per_capita(self, column: str, per: float = 1, population: str | None = None,
                   name: str | None = None) -> Panel:
        """A column per head; see :func:`causalpolicing.data.transforms.per_capita`."""
        from . import transforms

        return transforms.per_capita(self, column, per=per, population=population, name=name)

    def log(self, column: str, zero: Literal["error", "log1p", "missing"] = "error",
            offset: float | None = None, name: str | None = None) -> Panel:
        """Natural log with a zero policy; see :func:`causalpolicing.data.transforms.log`."""
        from . import transforms

        return transforms.log(self, column, zero=zero, offset=offset, name=name)

    def lag(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """Value ``k`` periods earlier; see :func:`causalpolicing.data.transforms.lag`."""
        from . import transforms

        return transforms.lag(self, column, k=k, name=name)

    def lead(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """Value ``k`` periods later; see :func:`causalpolicing.data.transforms.lead`."""
        from . import transforms

        return transforms.lead(self, column, k=k, name=name)

    def lags(self, column: str, ks: Any = (1,)) -> Panel:
        """Several lags at once; see :func:`causalpolicing.data.transforms.lags`."""
        from . import transforms

        return transforms.lags(self, column, ks)

    def diff(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """``x_t - x_{t-k}`` within unit; see :func:`causalpolicing.data.transforms.diff`."""
        from . import transforms

        return transforms.diff(self, column, k=k, name=name)

    def neighbour_mean(self, column: str, name: str | None = None,
                       missing: Literal["propagate", "available"] = "propagate") -> Panel:
        """Mean over neighbours; see :func:`causalpolicing.data.transforms.neighbour_mean`."""
        from . import transforms

        return transforms.neighbour_mean(self, column, name=name, missing=missing)

    def neighbour_sum(self, column: str, name: str | None = None,
                      missing: Literal["propagate", "available"] = "propagate") -> Panel:
        """Sum over neighbours; see :func:`causalpolicing.data.transforms.neighbour_sum`."""
        from . import transforms

        return transforms.neighbour_sum(self, column, name=name, missing=missing)

    def aggregate(self, to: str = "Y", rules: Mapping[str, Any] | None = None,
                  incomplete: Literal["error", "drop", "keep"] = "error",
                  count_name: str | None = None) -> Panel:
        """Coarser periods; see :func:`causalpolicing.data.transforms.aggregate`."""
        from . import transforms

        return transforms.aggregate(self, to=to, rules=rules, incomplete=incomplete,
                                    count_name=count_name)

    def deflate(self, price: str, index: str, base: Any = None, name: str | None = None) -> Panel:
        """Real prices; see :func:`causalpolicing.data.transforms.deflate`."""
        from . import transforms

        return transforms.deflate(self, price, index, base=base, name=name)

    def pure_price(self, price: str, purity: str,
                   scale: Literal["fraction", "percent"] = "fraction",
                   name: str | None = None) -> Panel:
        """Price per pure gram; see :func:`causalpolicing.data.transforms.pure_price`."""
        from . import transforms

        return transforms.pure_price(self, price, purity, scale=scale, name=name)

    def harmonic(self, period: float, order: int = 1, name: str | None = None,
                 origin: Any = None) -> Panel:
        """Sine/cosine terms of a fixed period; see :func:`causalpolicing.data.transforms.harmonic`."""
        from . import transforms

        return transforms.harmonic(self, period, order=order, name=name, origin=origin)


@dataclass(frozen=True, eq=False)
class PanelSummary:
    """What :meth:`Panel.summary` returns; prints as text, renders as HTML in notebooks."""

    n_rows: int
    n_units: int
    n_periods: int
    first_period: str
    last_period: str
    freq: str
    balanced: bool
    n_source_rows: int
    n_dropped: int
    gaps: pd.DataFrame
    missingness: pd.DataFrame
    variation: pd.DataFrame
    roles: Mapping[str, Any]
    drop_reasons: pd.DataFrame
    source: str
    aggregated_from: str | None = None

    def __str__(self) -> str:
        lines = [
            f"Panel from {self.source}",
            f"  {self.n_units} units x {self.n_periods} {FREQUENCIES[self.freq]} "
            f"({self.first_period} to {self.last_period}), {self.n_rows} rows; "
            f"{'balanced' if self.balanced else 'unbalanced'}",
            self._accounting_line(),
            f"  roles: {dict(self.roles)}",
        ]
        if len(self.gaps):
            lines.append(f"  gaps: {len(self.gaps)} unit(s) miss periods inside their span")
            for _, row in self.gaps.head(10).iterrows():
                lines.append(f"    {row['unit']}: {row['missing_periods']}")
        else:
            lines.append("  gaps: none")
        if len(self.drop_reasons):
            lines.append("  dropped rows by reason:")
            for _, row in self.drop_reasons.iterrows():
                lines.append(f"    {row['n_rows']:>6}  {row['reason']}")
        lines.append("  missingness (in panel rows / dropped for this column):")
        lines.append(_indent(self.missingness.to_string(index=False), 4))
        if len(self.variation):
            lines.append("  treatment variation (SD; within = after removing unit means):")
            lines.append(_indent(self.variation.to_string(index=False, float_format=_fmt), 4))
        return "\n".join(lines)

    def _accounting_line(self) -> str:
        if self.aggregated_from is None:
            return (f"  source rows: {self.n_source_rows} = {self.n_rows} in panel + "
                    f"{self.n_dropped} dropped")
        return (f"  source rows: {self.n_source_rows}; aggregated from {self.aggregated_from} "
                f"to {FREQUENCIES[self.freq]}: {self.n_rows} rows in panel, {self.n_dropped} "
                "source rows dropped (see drop_log)")

    def _repr_html_(self) -> str:
        parts = [f"<pre>{html.escape(str(self))}</pre>"]
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (tables as lists of records)."""
        return {
            "n_rows": self.n_rows,
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "first_period": self.first_period,
            "last_period": self.last_period,
            "freq": self.freq,
            "balanced": self.balanced,
            "n_source_rows": self.n_source_rows,
            "n_dropped": self.n_dropped,
            "gaps": self.gaps.astype(str).to_dict("records"),
            "missingness": self.missingness.to_dict("records"),
            "variation": self.variation.to_dict("records"),
            "roles": dict(self.roles),
            "drop_reasons": self.drop_reasons.to_dict("records"),
            "source": self.source,
            "aggregated_from": self.aggregated_from,
        }


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())
