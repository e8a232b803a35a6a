"""The :class:`Panel`: a validated unit x period table with declared roles.

A Panel is immutable. It is created by :func:`causalpolicing.load_panel` (or a
bundled dataset) and every transform returns a new Panel whose ``history``
records what was done. The data are reached through :meth:`Panel.to_frame`,
which returns a copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._hints import did_you_mean
from ..exceptions import ColumnNotFoundError, NonNumericError, RoleError
from . import transforms
from ._records import (
    OUTCOME_KINDS,
    TREATMENT_KINDS,
    OutcomeKind,
    PanelMetadata,
    Roles,
    TransformRecord,
    TreatmentKind,
)
from ._roles import resolve_kinds
from ._timing_role import check_timing_role
from .summary import PanelSummary, summarise
from .timeparse import FREQUENCIES

# Roles, PanelMetadata, TransformRecord, PanelSummary and the kind constants live
# below the Panel (in _records and summary) so that transforms and summaries need
# not import this module; they are re-exported here, where users have found them.
__all__ = [
    "Roles", "PanelMetadata", "TransformRecord", "Panel", "PanelSummary",
    "OUTCOME_KINDS", "TREATMENT_KINDS", "OutcomeKind", "TreatmentKind",
]


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
    def cohort(self) -> str | None:
        """Column of each unit's first treated period (the timing role), or None."""
        return self._roles.cohort

    @property
    def never_treated(self) -> Any:
        """Value(s) of :attr:`cohort` marking never-treated units, or None."""
        return self._roles.never_treated

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
            raise RoleError(f"The panel has no column {name!r}"
                            f"{did_you_mean(name, self._frame.columns, n=3)}.")
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
        cohort: str | None | Literal[False] = None,
        never_treated: Any = None,
    ) -> Panel:
        """A new Panel with some roles changed (e.g. a transformed column as outcome).

        Arguments left as None keep their current value; ``exposure=False``
        removes the exposure and ``cohort=False`` the timing role. New role
        columns must already be in the panel and are validated as at loading;
        rows missing in them are **not** dropped here (estimators drop and report
        them). ``cohort`` and ``never_treated`` declare the treatment timing of
        staggered designs (see :func:`causalpolicing.load_panel`); a new cohort
        needs its ``never_treated`` value(s).

        Examples
        --------
        >>> import warnings
        >>> import pandas as pd
        >>> import causalpolicing as cp
        >>> df = pd.DataFrame({"state": ["A"] * 3 + ["B"] * 3, "year": [2000, 2001, 2002] * 2,
        ...                    "deaths": [4, 6, 7, 5, 5, 6], "law": [0, 1, 1, 0, 0, 0],
        ...                    "first_law": [2001] * 3 + [0] * 3})
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", cp.exceptions.FewUnitsWarning)
        ...     panel = cp.load_panel(df, unit="state", time="year", outcome="deaths",
        ...                           treatment="law")
        >>> panel.cohort is None
        True
        >>> timed = panel.with_roles(cohort="first_law", never_treated=0)
        >>> timed.cohort, timed.never_treated
        ('first_law', 0)
        """
        frame = self._frame
        new = self._roles
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
        if cohort is False:
            if never_treated is not None:
                raise RoleError("cohort=False removes the timing role; do not pass never_treated "
                                "with it.")
            new = replace(new, cohort=None, never_treated=None)
        elif cohort is not None or never_treated is not None:
            new = replace(new, cohort=new.cohort if cohort is None else cohort,
                          never_treated=never_treated)
            check_timing_role(frame, unit=new.unit, time=new.time, cohort=new.cohort,
                              never_treated=new.never_treated)
        missing = [c for c in new.numeric + new.clusters if c not in frame.columns]
        if missing:
            raise ColumnNotFoundError(
                f"Column(s) {missing} are not in the panel; columns: {list(frame.columns)}."
            )
        text = [c for c in new.numeric if not pd.api.types.is_numeric_dtype(frame[c])]
        if text:
            raise NonNumericError(
                f"Column(s) {text} must be numeric to serve as exposure or covariates; they hold "
                "text. Load them as numeric roles with load_panel so text cells are reported."
            )
        params = {k: v for k, v in {
            "outcome": outcome, "treatment": treatment, "exposure": exposure,
            "covariates": covariates, "clusters": clusters, "cohort": cohort,
            "never_treated": never_treated,
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
        return summarise(self)

    # ------------------------------------------------------------ transforms
    # Thin wrappers: each returns a new Panel, see causalpolicing.data.transforms.
    def rate(self, column: str, per: float = 100_000, exposure: str | None = None,
             name: str | None = None) -> Panel:
        """Events per ``per`` people at risk; see :func:`causalpolicing.data.transforms.rate`."""
        return transforms.rate(self, column, per=per, exposure=exposure, name=name)

    def per_capita(self, column: str, per: float = 1, population: str | None = None,
                   name: str | None = None) -> Panel:
        """A column per head; see :func:`causalpolicing.data.transforms.per_capita`."""
        return transforms.per_capita(self, column, per=per, population=population, name=name)

    def log(self, column: str, zero: Literal["error", "log1p", "missing"] = "error",
            offset: float | None = None, name: str | None = None) -> Panel:
        """Natural log with a zero policy; see :func:`causalpolicing.data.transforms.log`."""
        return transforms.log(self, column, zero=zero, offset=offset, name=name)

    def lag(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """Value ``k`` periods earlier; see :func:`causalpolicing.data.transforms.lag`."""
        return transforms.lag(self, column, k=k, name=name)

    def lead(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """Value ``k`` periods later; see :func:`causalpolicing.data.transforms.lead`."""
        return transforms.lead(self, column, k=k, name=name)

    def lags(self, column: str, ks: Any = (1,)) -> Panel:
        """Several lags at once; see :func:`causalpolicing.data.transforms.lags`."""
        return transforms.lags(self, column, ks)

    def diff(self, column: str, k: int = 1, name: str | None = None) -> Panel:
        """``x_t - x_{t-k}`` within unit; see :func:`causalpolicing.data.transforms.diff`."""
        return transforms.diff(self, column, k=k, name=name)

    def neighbour_mean(self, column: str, name: str | None = None,
                       missing: Literal["propagate", "available"] = "propagate") -> Panel:
        """Mean over neighbours; see :func:`causalpolicing.data.transforms.neighbour_mean`."""
        return transforms.neighbour_mean(self, column, name=name, missing=missing)

    def neighbour_sum(self, column: str, name: str | None = None,
                      missing: Literal["propagate", "available"] = "propagate") -> Panel:
        """Sum over neighbours; see :func:`causalpolicing.data.transforms.neighbour_sum`."""
        return transforms.neighbour_sum(self, column, name=name, missing=missing)

    def aggregate(self, to: str = "Y", rules: Mapping[str, Any] | None = None,
                  incomplete: Literal["error", "drop", "keep"] = "error",
                  count_name: str | None = None) -> Panel:
        """Coarser periods; see :func:`causalpolicing.data.transforms.aggregate`."""
        return transforms.aggregate(self, to=to, rules=rules, incomplete=incomplete,
                                    count_name=count_name)

    def deflate(self, price: str, index: str, base: Any = None, name: str | None = None) -> Panel:
        """Real prices; see :func:`causalpolicing.data.transforms.deflate`."""
        return transforms.deflate(self, price, index, base=base, name=name)

    def pure_price(self, price: str, purity: str,
                   scale: Literal["fraction", "percent"] = "fraction",
                   name: str | None = None) -> Panel:
        """Price per pure gram; see :func:`causalpolicing.data.transforms.pure_price`."""
        return transforms.pure_price(self, price, purity, scale=scale, name=name)

    def harmonic(self, period: float, order: int = 1, name: str | None = None,
                 origin: Any = None) -> Panel:
        """Sine/cosine terms of a fixed period; see :func:`causalpolicing.data.transforms.harmonic`."""
        return transforms.harmonic(self, period, order=order, name=name, origin=origin)
