"""``load_panel``: read, validate and account for every row.

The rules
---------
* Structural problems raise an error that names the column, the rows and the
  fix: duplicate unit-time keys, missing or unparseable keys, a role naming a
  column that does not exist, text in a numeric column, negative counts or
  exposure, zero exposure with a positive count, infinite values, an empty
  source, an outcome or treatment with no value at all.
* Rows that are fine but cannot enter an analysis (a missing outcome,
  treatment, exposure, covariate or cluster) are left out and recorded in
  ``panel.drop_log`` with the reason. Always::

      panel.metadata.n_source_rows == len(panel) + len(panel.drop_log)

* Nothing is converted silently: text never becomes a missing number; only the
  documented missing markers (``NA_MARKERS`` plus your ``na_values``) are read
  as missing.
* Columns without a role are kept. A text column among them becomes numeric only
  when every cell is a number or a missing marker and no number has a leading
  zero (so codes such as ``"01001"`` stay text); otherwise it stays as it was.

Row numbers (``source_row``) count data rows from 1, the first row below the
header: for a DataFrame, its positions; for a text file, its lines below the
header, blank lines included (the reader drops and logs those).

Everything is vectorised, with no work per row or per pair of columns: CSV
files are parsed by pyarrow's multi-threaded reader (every cell as text, so
nothing is inferred silently; see :func:`causalpolicing.data.readers.read_csv`
for the few cases read by pandas instead), text becomes numbers with pyarrow,
and keys are checked on one sort by unit and time. Time grows linearly with
rows and with columns; ``benchmarks/bench_load.py`` compares it with
``pandas.read_csv(engine="pyarrow")`` (figures in ``benchmarks/README.md``).

Separators: ``thousands`` must separate groups of three digits (``"1,234,567"``);
a cell such as ``"0,5"`` with ``thousands=","`` is an error naming the row, not
the number 5. When text in a numeric column looks like decimal commas or
thousands separators, the error suggests the setting the rest of the column
supports, in the three forms a user can give it (Python ``read_options=``, the
command line ``--read-option``, a spec's ``[data]`` table).

Nested Parquet columns (lists, structs) play no role: they are carried
unchanged with a :class:`~causalpolicing.exceptions.DataWarning`; giving one a
role is a :class:`~causalpolicing.exceptions.RoleError`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import (
    AllMissingError,
    DataWarning,
    EmptySourceError,
    FewUnitsWarning,
    GapWarning,
    NegativeValueError,
    NoWithinVariationWarning,
    PanelError,
    RoleError,
    ZeroExposureError,
)
from ._drops import _drop_incomplete
from ._keys import _check_duplicates, _check_keys_present, _key_order, _unit_labels
from ._messages import describe_rows, quote_list
from ._numeric import NA_MARKERS, _to_numeric, infer_numeric
from ._records import OUTCOME_KINDS, TREATMENT_KINDS, PanelMetadata, Roles
from ._roles import (
    RoleSpec,
    _as_tuple,
    _check_columns_exist,
    _check_kind,
    _parse_role_spec,
    infer_kind,
    resolve_kinds,
)
from ._source import _name, _read, _sha256
from ._timing_role import check_timing_role
from .neighbours import parse_neighbours
from .panel import Panel
from .summary import find_gaps
from .timeparse import parse_time

__all__ = ["load_panel", "NA_MARKERS", "FEW_UNITS", "resolve_kinds", "parse_neighbours"]

#: Fewer units than this trigger a :class:`~causalpolicing.exceptions.FewUnitsWarning`.
FEW_UNITS = 5


def load_panel(
    source: str | Path | pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: RoleSpec,
    treatment: RoleSpec,
    exposure: str | None = None,
    covariates: Iterable[str] = (),
    cluster: str | Iterable[str] | None = None,
    neighbours: Mapping[Any, Iterable[Any]] | str | Path | None = None,
    format: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    freq: str | None = None,
    time_format: str | None = None,
    na_values: Iterable[str] = (),
    cohort: str | None = None,
    never_treated: Any = None,
) -> Panel:
    """Load, validate and describe a panel.

    Parameters
    ----------
    source
        A DataFrame, or the path of a CSV/TSV, Parquet, Excel or Stata file (or
        any format in :func:`causalpolicing.data.readers.available_readers`).
    unit, time
        Columns identifying the unit (canton, county, precinct) and the period.
        Time values may be years, months (``"2017-01"``, ``"2017/01"``,
        ``"2017M01"``), quarters (``"2017Q1"``) or dates; they are normalised to
        regular periods.
    outcome
        Outcome column(s): a name, a list of names, or a mapping name -> kind
        (``"count"``, ``"rate"``, ``"continuous"``, ``"binary"``). Undeclared
        kinds are inferred: non-negative whole numbers are counts, anything else
        is continuous.
    treatment
        Treatment column(s), as for ``outcome``; kinds ``"continuous"``
        (enforcement intensity) or ``"binary"`` (0/1 event). Inferred: binary when
        every value is 0 or 1.
    exposure
        Population at risk (e.g. residents), for Poisson models and rates.
    covariates
        Control variables.
    cluster
        Column(s) that define clusters for inference (by default estimators
        cluster by unit).
    neighbours
        Adjacency for spillover analyses: a mapping unit -> iterable of
        neighbouring units, or the path of an edge-list file with two columns
        (unit, neighbour).
    format
        Reader name, when the extension does not tell (``"csv"``, ``"excel"``, ...).
    read_options
        Options passed to the reader (e.g. ``{"sheet": "Data", "skiprows": 2}``
        for Excel, ``{"delimiter": ";", "decimal": ","}`` for CSV). Unknown
        options raise an error.
    freq
        Force the period frequency (``"Y"``, ``"Q"``, ``"M"``, ``"W"``, ``"D"``);
        finer dates are coarsened (and duplicates then raise).
    time_format
        ``strptime`` format for other date layouts, e.g. ``"%d.%m.%Y"``.
    na_values
        Extra cell texts to read as missing in numeric columns (e.g. ``"."``).
    cohort, never_treated
        The treatment timing of a staggered design, declared once for every
        design (``cp.event_study`` and the others read it from the Panel):
        ``cohort`` names the column holding each unit's first treated period
        (constant within unit: a year, or a period of the panel's frequency),
        ``never_treated`` the value(s) of it that mark never-treated units
        (e.g. ``0``, or ``float("nan")`` when missing means never). Given
        together; nothing is guessed.

    Returns
    -------
    Panel
        Immutable, sorted by unit and time, with ``drop_log``, ``summary()`` and
        ``metadata``.

    Raises
    ------
    causalpolicing.exceptions.PanelError
        (and its subclasses) for structural problems, each naming the column, the
        rows and the fix.
    causalpolicing.exceptions.ReaderError
        When the file cannot be read.

    Examples
    --------
    >>> import pandas as pd
    >>> import causalpolicing as cp
    >>> df = pd.DataFrame({
    ...     "canton": ["ZH", "ZH", "ZH", "BE", "BE", "BE"],
    ...     "year": [2000, 2001, 2002] * 2,
    ...     "deaths": [10, 12, None, 5, 7, 6],
    ...     "offences": [3.1, 3.5, 3.0, 2.0, 2.4, 2.2],
    ...     "population": [1.2e6, 1.21e6, 1.22e6, 0.9e6, 0.9e6, 0.91e6]})
    >>> import warnings; warnings.simplefilter("ignore")
    >>> panel = cp.load_panel(df, unit="canton", time="year", outcome="deaths",
    ...                       treatment="offences", exposure="population")
    >>> len(panel), len(panel.drop_log), panel.outcome_kinds["deaths"]
    (5, 1, 'count')
    >>> panel.drop_log[["source_row", "unit", "reason"]].to_dict("records")
    [{'source_row': 3, 'unit': 'ZH', 'reason': "missing outcome 'deaths'"}]
    """
    read = _read(source, format, read_options)
    frame = read.frame
    rows = read.source_rows
    # keep the reader's result without its frame: the text columns can be freed as
    # soon as they are converted
    read = dataclasses.replace(read, frame=frame.iloc[:0])
    if len(frame) == 0:
        raise EmptySourceError(
            f"{_name(source)} has no data rows (its {read.n_source_rows} row(s) are all blank)."
        )

    # ---------------------------------------------------------------- roles
    outcome_spec = _parse_role_spec(outcome, "outcome", OUTCOME_KINDS)
    treatment_spec = _parse_role_spec(treatment, "treatment", TREATMENT_KINDS)
    covariates = _as_tuple(covariates, "covariates")
    clusters = () if cluster is None else _as_tuple(cluster, "cluster")
    role_of: dict[str, str] = {}
    for role, cols in [
        ("unit", (unit,)), ("time", (time,)), ("outcome", tuple(outcome_spec)),
        ("treatment", tuple(treatment_spec)),
        ("exposure", () if exposure is None else (exposure,)), ("covariate", covariates),
        ("cohort", () if cohort is None else (cohort,)),
    ]:
        for c in cols:
            if not isinstance(c, str):
                raise RoleError(
                    f"{role.capitalize()} must be given as a column name (str); got {c!r}. "
                    "Pass the column's name as written in the header."
                )
            if c in role_of:
                raise RoleError(
                    f"Column {c!r} is given two roles ({role_of[c]} and {role}); each column "
                    "can play one role. Copy the column if you really need it twice."
                )
            role_of[c] = role
    for c in clusters:
        role_of.setdefault(c, "cluster")
    _check_columns_exist(frame, role_of, source)
    nested = [c for c in read.info.get("nested_columns", ()) if c in role_of]
    if read.info.get("nested_columns") and not nested:
        warnings.warn(
            f"{_name(source)} has nested column(s) {quote_list(read.info['nested_columns'])} "
            "(lists or records per cell); they play no role and are carried unchanged, not "
            "validated.", DataWarning, stacklevel=2,
        )
    if nested:
        c = nested[0]
        raise RoleError(
            f"Column {c!r} of {_name(source)} is nested (each cell holds a list or a record), so "
            f"it cannot be the {role_of[c]}. Give the {role_of[c]} role to a column of plain "
            "values, or flatten the column first (e.g. pandas explode or json_normalize)."
        )

    # ------------------------------------------------------------------ keys
    frame = frame.copy(deep=False)  # columns are replaced, never written into
    _check_keys_present(frame, unit, time, rows)
    frame[unit], unit_codes = _unit_labels(frame[unit], unit, rows)
    periods, found_freq = parse_time(
        frame[time], column=time, rows=rows, freq=freq, time_format=time_format
    )
    frame[time] = periods.array  # a PeriodArray: no boxing of a million Period objects
    key = _key_order(frame, unit, time, unit_codes)  # rows by unit, then time
    _check_duplicates(frame, unit, time, rows, key)

    # --------------------------------------------------------------- numbers
    markers = NA_MARKERS | {str(v) for v in na_values}
    decimal = read.info.get("decimal", ".") or "."
    thousands = read.info.get("thousands")
    numeric_cols = list(dict.fromkeys(
        [*outcome_spec, *treatment_spec, *([exposure] if exposure else []), *covariates]
    ))
    converted = {
        col: _to_numeric(frame[col], col, role_of[col], rows, markers, decimal, thousands)
        for col in numeric_cols
    }
    # columns without a role: numbers when every cell is one (codes with leading zeros stay text)
    for col in frame.columns:
        if col not in role_of or role_of[col] == "cohort":
            converted[col] = infer_numeric(frame[col], markers, decimal, thousands)
    # one new frame, not one column at a time (which is quadratic in wide files)
    frame = pd.DataFrame(
        {col: converted.get(col, frame[col]) for col in frame.columns}, index=frame.index,
        copy=False,
    )

    for col in [*outcome_spec, *treatment_spec]:
        if frame[col].isna().all():
            raise AllMissingError(
                f"{role_of[col].capitalize()} {col!r} has no value in any of the "
                f"{len(frame)} rows. Check the column name and the missing markers "
                f"(read as missing: {quote_list(sorted(markers))})."
            )

    outcome_kinds = {c: k or infer_kind(frame[c].to_numpy(), "outcome")
                     for c, k in outcome_spec.items()}
    treatment_kinds = {c: k or infer_kind(frame[c].to_numpy(), "treatment")
                       for c, k in treatment_spec.items()}
    for c, k in outcome_kinds.items():
        _check_kind(frame[c].to_numpy(), c, "outcome", k, rows)
    for c, k in treatment_kinds.items():
        _check_kind(frame[c].to_numpy(), c, "treatment", k, rows)

    drop_reasons: dict[str, np.ndarray] = {}
    if exposure is not None:
        e = frame[exposure].to_numpy()
        neg = e < 0
        if neg.any():
            raise NegativeValueError(
                f"Exposure {exposure!r} is negative in {describe_rows(rows[neg], e[neg])}. "
                "An exposure is a population at risk and cannot be negative: fix the values."
            )
        zero = e == 0
        for c, k in outcome_kinds.items():
            if k in ("count", "binary"):
                y = frame[c].to_numpy()
                bad = zero & (y > 0)
                if bad.any():
                    raise ZeroExposureError(
                        f"Exposure {exposure!r} is 0 while outcome {c!r} is positive in "
                        f"{describe_rows(rows[bad], y[bad])}. Events cannot happen in an empty "
                        "population: correct the exposure or the count."
                    )
        if zero.any():
            drop_reasons[f"zero exposure {exposure!r} (nobody at risk)"] = zero

    # ---------------------------------------------------------------- drops
    panel_roles = Roles(
        unit=unit, time=time, outcomes=tuple(outcome_spec), treatments=tuple(treatment_spec),
        outcome_kinds=outcome_kinds, treatment_kinds=treatment_kinds, exposure=exposure,
        covariates=covariates, clusters=clusters, cohort=cohort, never_treated=never_treated,
    )
    drop_log, keep = _drop_incomplete(frame, rows, panel_roles, role_of, drop_reasons)
    drop_log = pd.concat([read.drops, drop_log], ignore_index=True) if len(read.drops) else drop_log

    order = key[0][keep[key[0]]]  # the kept rows, sorted by unit and time
    if len(order) == len(frame) and (order[1:] > order[:-1]).all():
        kept = frame.reset_index(drop=True)  # already sorted, nothing dropped: no copy
    else:
        kept = frame.take(order).reset_index(drop=True)
    kept_rows = rows[order]
    drop_log = drop_log.sort_values("source_row", kind="stable").reset_index(drop=True)

    if len(kept) + len(drop_log) != read.n_source_rows:  # internal invariant
        raise PanelError(
            "Internal error: rows were lost while loading "
            f"({read.n_source_rows} source rows, {len(kept)} kept, {len(drop_log)} dropped). "
            "Please report this with the file."
        )
    if len(kept) == 0:
        counts = drop_log["reason"].value_counts(sort=True)
        raise EmptySourceError(
            f"Every one of the {read.n_source_rows} rows of {_name(source)} was dropped; the "
            f"commonest reason ({int(counts.iloc[0])} rows): {counts.index[0]!r}. Each row needs "
            "every outcome, treatment, exposure, covariate and cluster; declare fewer roles or "
            "fill in the values. The full drop log is in this error's 'drop_log' attribute.",
            drop_log=drop_log,
        )

    check_timing_role(kept, unit=unit, time=time, cohort=cohort, never_treated=never_treated)
    nb = None if neighbours is None else parse_neighbours(neighbours, frame[unit], kept[unit])
    metadata = PanelMetadata(
        source=_name(source) if isinstance(source, pd.DataFrame) else str(source),
        sha256=_sha256(source),
        reader=read.reader,
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        n_source_rows=read.n_source_rows,
        reader_info=MappingProxyType(
            {k: tuple(v) if isinstance(v, list) else v for k, v in read.info.items()}
        ),
    )
    panel = Panel(kept, kept_rows, panel_roles, found_freq, drop_log, metadata, nb)
    _warn_about(panel, kept, key[1][order])  # kept is the panel's frame; read only, not copied
    return panel


# ---------------------------------------------------------------------- warnings
def _warn_about(panel: Panel, frame: pd.DataFrame, unit_codes: np.ndarray) -> None:
    """FewUnitsWarning, GapWarning and NoWithinVariationWarning, each only when it applies.

    ``frame`` is sorted by unit and time, ``unit_codes`` numbers its units in that order:
    gaps and within-unit spans are then differences between neighbouring rows.
    """
    same_unit = unit_codes[1:] == unit_codes[:-1]
    n_units = int(len(unit_codes) - same_unit.sum()) if len(unit_codes) else 0
    if n_units < FEW_UNITS:
        warnings.warn(
            f"The panel has only {n_units} unit(s) (fewer than {FEW_UNITS}). Unit fixed "
            "effects and cluster-robust inference need many units; with one unit use "
            "time-series designs (interrupted time series), with few use randomization "
            "inference or synthetic control.",
            FewUnitsWarning, stacklevel=3,
        )
    steps = np.diff(frame[panel.time].array.asi8)
    gaps = find_gaps(frame, panel.unit, panel.time) if (same_unit & (steps > 1)).any() else ()
    if len(gaps):
        shown = "; ".join(f"{r.unit!r}: {r.missing_periods}" for r in gaps.head(5).itertuples())
        warnings.warn(
            f"{len(gaps)} unit(s) have gaps (missing periods inside their span): {shown}"
            f"{' ...' if len(gaps) > 5 else ''}. Lags and differences across a gap are missing; "
            "see panel.summary().gaps and panel.drop_log.",
            GapWarning, stacklevel=3,
        )
    starts = np.flatnonzero(np.r_[True, ~same_unit])
    for col in panel.treatments:
        x = frame[col].to_numpy(dtype=float)  # no missing values: those rows were dropped
        spans = np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts)
        if (spans == 0).all():
            warnings.warn(
                f"Treatment {col!r} never changes within any unit, so unit fixed effects absorb "
                "it entirely. Use a design without unit effects (pooled, between) or a treatment "
                "that varies over time.",
                NoWithinVariationWarning, stacklevel=3,
            )
