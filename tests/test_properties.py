"""Hypothesis properties of the loader.

* Row-order invariance: shuffling the source rows gives the same panel frame and the
  same drop log once source row numbers are mapped back (and the same error, if any).
* Row accounting: ``len(source rows) == len(panel) + len(panel.drop_log)``, and every
  source row appears exactly once in the panel or in the drop log, for random frames
  with random missing cells and for CSV files with random blank lines.
* Time parsing round trips: periods written in any accepted layout parse back to the
  same periods.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import causalpolicing as cp
from causalpolicing.data.timeparse import parse_time
from causalpolicing.exceptions import AllMissingError, CausalPolicingError, EmptySourceError

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ROLES = {"unit": "u", "time": "t", "outcome": "y", "treatment": "x", "exposure": "pop",
         "covariates": ["z"]}


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    """A frame of distinct unit-year rows with random missing cells in the numeric roles."""
    n_units = draw(st.integers(1, 6))
    n_years = draw(st.integers(1, 6))
    cells = [(u, t) for u in range(n_units) for t in range(n_years)]
    keep = draw(st.lists(st.booleans(), min_size=len(cells), max_size=len(cells)))
    cells = [c for c, k in zip(cells, keep, strict=True) if k] or cells[:1]
    n = len(cells)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "u": [f"{u:05d}" for u, _ in cells],
        "t": [2000 + t for _, t in cells],
        "y": rng.poisson(3, n).astype(float),
        "x": rng.normal(size=n),
        "pop": rng.integers(0, 3, n).astype(float) * 100.0,  # zero exposure sometimes
        "z": rng.normal(size=n),
    })
    df.loc[df["pop"] == 0, "y"] = 0.0  # zero exposure only with zero count (else an error)
    for col in ("y", "x", "pop", "z"):
        p_missing = draw(st.sampled_from([0.0, 0.2, 0.6]))
        df.loc[rng.random(n) < p_missing, col] = np.nan
    return df


def load(source) -> cp.Panel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cp.load_panel(source, **ROLES)


def outcome(source) -> cp.Panel | type[Exception]:
    try:
        return load(source)
    except CausalPolicingError as exc:
        return type(exc)


@SETTINGS
@given(df=panels(), data=st.data())
def test_shuffling_rows_gives_the_same_panel_and_drop_log(df: pd.DataFrame, data) -> None:
    perm = np.array(data.draw(st.permutations(range(len(df)))), dtype=np.int64)
    shuffled = df.iloc[perm].reset_index(drop=True)
    a, b = outcome(df), outcome(shuffled)
    if not isinstance(a, cp.Panel):
        assert b is a  # the same error class
        return
    assert isinstance(b, cp.Panel)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    # row i+1 of the shuffled source is row perm[i]+1 of the original
    np.testing.assert_array_equal(perm[b.source_rows - 1] + 1, a.source_rows)
    log_b = b.drop_log
    log_b["source_row"] = perm[log_b["source_row"].to_numpy() - 1] + 1
    log_b = log_b.sort_values("source_row").reset_index(drop=True)
    pd.testing.assert_frame_equal(a.drop_log, log_b)
    assert a.freq == b.freq
    assert dict(a.outcome_kinds) == dict(b.outcome_kinds)
    assert dict(a.treatment_kinds) == dict(b.treatment_kinds)


@SETTINGS
@given(df=panels())
def test_every_source_row_is_in_the_panel_or_the_drop_log(df: pd.DataFrame) -> None:
    result = outcome(df)
    if not isinstance(result, cp.Panel):
        # only two errors are possible here: an outcome/treatment with no value at all,
        # or every row dropped
        assert result in (AllMissingError, EmptySourceError)
        needed = df[["y", "x", "pop", "z"]].notna().all(axis=1) & (df["pop"] != 0)
        assert not needed.any()
        return
    panel = result
    assert len(df) == len(panel) + len(panel.drop_log)
    assert panel.metadata.n_source_rows == len(df)
    rows = np.concatenate([panel.source_rows, panel.drop_log["source_row"].to_numpy()])
    assert sorted(rows.tolist()) == list(range(1, len(df) + 1))
    complete = df[["y", "x", "pop", "z"]].notna().all(axis=1) & (df["pop"] != 0)
    assert sorted(panel.source_rows.tolist()) == (np.flatnonzero(complete) + 1).tolist()
    assert not panel.to_frame()[["y", "x", "pop", "z"]].isna().any().any()


@SETTINGS
@given(df=panels(), data=st.data())
def test_row_accounting_holds_for_csv_files_with_blank_lines(df: pd.DataFrame, data) -> None:
    blank_after = data.draw(st.lists(st.integers(0, len(df)), max_size=4))
    lines = df.to_csv(index=False, na_rep="").splitlines()
    header, body = lines[0], lines[1:]
    blank_line = data.draw(st.sampled_from(["", ",,,,,", "   "]))
    out: list[str] = []
    for i, line in enumerate(body):
        out.extend([blank_line] * blank_after.count(i))
        out.append(line)
    n_rows = len(out)
    out.extend([""] * blank_after.count(len(body)))  # blank lines at the end are not rows
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        path.write_text(header + "\n" + "\n".join(out) + "\n")
        result = outcome(path)
    if not isinstance(result, cp.Panel):
        assert result in (AllMissingError, EmptySourceError)
        return
    panel = result
    assert panel.metadata.n_source_rows == n_rows
    assert len(panel) + len(panel.drop_log) == n_rows
    reader_drops = panel.drop_log[panel.drop_log["stage"] == "reader"]
    assert len(reader_drops) == n_rows - len(body)
    rows = np.concatenate([panel.source_rows, panel.drop_log["source_row"].to_numpy()])
    assert sorted(rows.tolist()) == list(range(1, n_rows + 1))


# ----------------------------------------------------------------- time parsing
FORMATS = {
    "Y": [lambda p: str(p.year), lambda p: p.year, lambda p: float(p.year),
          lambda p: f"{p.year}.0"],
    "Q": [lambda p: f"{p.year}Q{p.quarter}", lambda p: f"Q{p.quarter} {p.year}",
          lambda p: f"{p.year}-Q{p.quarter}", lambda p: f"{p.year} q{p.quarter}"],
    "M": [lambda p: f"{p.year}-{p.month:02d}", lambda p: f"{p.year}/{p.month}",
          lambda p: f"{p.year}M{p.month:02d}", lambda p: p.year * 100 + p.month,
          lambda p: f"{p.year}{p.month:02d}"],
    "D": [lambda p: f"{p.year}-{p.month:02d}-{p.day:02d}",
          lambda p: pd.Timestamp(p.year, p.month, p.day)],
}


@settings(max_examples=150, deadline=None)
@given(
    freq=st.sampled_from(["Y", "Q", "M", "D"]),
    ordinals=st.lists(st.integers(-200, 600), min_size=1, max_size=20),
    data=st.data(),
)
def test_time_parsing_round_trips(freq: str, ordinals: list[int], data) -> None:
    if freq == "D":
        ordinals = [o * 37 + 5 for o in ordinals]  # days spread over the decades
        ordinals.append(5)  # 1970-01-06 is not a first of a month: days stay days
    fmt = data.draw(st.sampled_from(FORMATS[freq]))
    periods = [pd.Period(ordinal=o, freq=freq) for o in ordinals]
    values = pd.Series([fmt(p) for p in periods])
    per, found = parse_time(values, column="t")
    assert found == freq
    np.testing.assert_array_equal(per.array.asi8, np.array(ordinals, dtype=np.int64))


@settings(max_examples=60, deadline=None)
@given(
    ordinals=st.lists(st.integers(0, 600), min_size=1, max_size=30),
    target=st.sampled_from(["Q", "Y"]),
)
def test_coarsening_months_equals_pandas_asfreq(ordinals: list[int], target: str) -> None:
    months = pd.PeriodIndex.from_ordinals(ordinals, freq="M")
    per, found = parse_time(pd.Series(months.strftime("%Y-%m")), column="t", freq=target)
    assert found == target
    np.testing.assert_array_equal(per.array.asi8, months.asfreq(target).asi8)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.sampled_from(["2017-01", "2017-02", "2018-11", "2019/3", "2020M12"]),
                       min_size=1, max_size=30),
       data=st.data())
def test_parsing_commutes_with_shuffling(values: list[str], data) -> None:
    perm = data.draw(st.permutations(range(len(values))))
    a, _ = parse_time(pd.Series(values), column="t")
    b, _ = parse_time(pd.Series([values[i] for i in perm]), column="t")
    np.testing.assert_array_equal(a.array.asi8[list(perm)], b.array.asi8)


# ------------------------------------------------------------------------ gaps
def naive_gaps(frame: pd.DataFrame) -> list[tuple[object, int, list[int]]]:
    out = []
    for u, g in frame.groupby("u", sort=True):
        seen = set(g["t"].array.asi8.tolist())
        missing = [o for o in range(min(seen), max(seen) + 1) if o not in seen]
        if missing:
            out.append((u, len(missing), missing))
    return out


@settings(max_examples=80, deadline=None)
@given(
    cells=st.sets(st.tuples(st.integers(0, 4), st.integers(0, 30)), min_size=1, max_size=60),
    freq=st.sampled_from(["Y", "Q", "M", "W", "D"]),
    int_units=st.booleans(),
)
def test_find_gaps_matches_a_naive_scan(cells, freq: str, int_units: bool) -> None:
    from causalpolicing.data.summary import find_gaps

    cells = sorted(cells)
    frame = pd.DataFrame({
        "u": [u if int_units else f"U{u}" for u, _ in cells],
        "t": pd.PeriodIndex.from_ordinals([t + 1000 for _, t in cells], freq=freq),
    })
    got = find_gaps(frame, "u", "t")
    expected = naive_gaps(frame)
    assert got["unit"].tolist() == [u for u, _, _ in expected]
    assert got["n_missing"].tolist() == [n for _, n, _ in expected]
    for text, (_, n, missing) in zip(got["missing_periods"], expected, strict=True):
        labels = [str(pd.Period(ordinal=o, freq=freq)) for o in missing[:12]]
        assert text == ", ".join(labels) + (f" and {n - 12} more" if n > 12 else "")
