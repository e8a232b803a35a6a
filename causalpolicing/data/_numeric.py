"""Numbers from source columns: missing markers, separators and errors that name the rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..exceptions import InfiniteValueError, NonNumericError
from ._messages import describe_rows, format_hint, quote_list, read_options_hint
from ._reader_registry import available_readers

#: Cell texts read as missing in numeric columns (besides empty cells).
NA_MARKERS: frozenset[str] = frozenset(
    {"", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A"}
)

_CDC_CODES = {"Suppressed", "Unreliable", "Not Applicable", "Missing"}
# numbers with a thousands separator: groups of three digits, perhaps a decimal part
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?P<sep>[,'. ])\d{3}(?:(?P=sep)\d{3})*(?:[.,]\d+)?$")
# one comma, then not three digits, or an integer part no grouping allows: a decimal comma
_DECIMAL_COMMA = re.compile(r"^[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|(?:0|\d{4,}|0\d+),\d+)$")
# one comma followed by exactly three digits: 5,346 is 5346 or 5.346
_EITHER = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$")


def _grouped(thousands: str, decimal: str) -> re.Pattern[str]:
    """Numbers whose every ``thousands`` separator separates groups of three digits."""
    return re.compile(_grouped_pattern(thousands, decimal))


def _grouped_pattern(thousands: str, decimal: str) -> str:
    """The pattern of :func:`_grouped` (also valid for pyarrow's RE2)."""
    t, d = (f"[\\{c}]" if c in "]^\\-" else f"[{c}]" for c in (thousands, decimal))
    return rf"^[+-]?(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)(?:{d}\d*)?(?:[eE][+-]?\d+)?$"


def _separator_hint(bad: list[str]) -> str | None:
    """Thousands separators or decimal commas: the fix the column's values support."""
    decimal_like = [v for v in bad if _DECIMAL_COMMA.match(v)]
    either = [v for v in bad if _EITHER.match(v)]
    grouped = [v for v in bad if _THOUSANDS.match(v) and v not in either]
    by_sep: dict[str, list[str]] = {}
    for v in grouped:
        m = _THOUSANDS.match(v)
        if m:
            by_sep.setdefault(m.group("sep"), []).append(v)
    comma_groups = by_sep.pop(",", [])
    if by_sep and not decimal_like:  # 1.234.567, 1'234 or 1 234 (perhaps with ,5 decimals)
        sep = sorted(by_sep)[0]
        example = by_sep[sep][0]
        options: dict[str, object] = {"thousands": sep}
        if sep == "." or any(v.rsplit(sep, 1)[-1].count(",") for v in by_sep[sep]):
            options["decimal"] = ","
        return (f" They look like numbers with thousands separators (e.g. {example!r}): "
                f"{read_options_hint(options)}.")
    decimal_hint = read_options_hint({"decimal": ","})
    thousands_hint = read_options_hint({"thousands": ","})
    if decimal_like and not comma_groups:
        also = (f" Values such as {either[0]!r} then read as {either[0].replace(',', '.')}, "
                "as the rest of the column suggests." if either else "")
        return (f" They look like decimal commas (e.g. {decimal_like[0]!r}): "
                f"{decimal_hint}.{also}")
    if comma_groups and not decimal_like:
        return (f" They look like numbers with thousands separators (e.g. "
                f"{comma_groups[0]!r}): {thousands_hint}.")
    if decimal_like and comma_groups:
        return (f" The column mixes decimal commas (e.g. {decimal_like[0]!r}) and thousands "
                f"separators (e.g. {comma_groups[0]!r}), so no one setting reads every value: "
                f"correct the source, or {decimal_hint} if ',' marks decimals, or "
                f"{thousands_hint} if it separates thousands.")
    if either:
        v = either[0]
        return (f" Every such value has one comma followed by three digits (e.g. {v!r}), which "
                f"reads as {v.replace(',', '')} with a thousands separator or as "
                f"{v.replace(',', '.')} with a decimal comma; nothing in the column decides "
                f"which (a value like '0,5' or '12,75' would mean decimals, one like "
                f"'1,234,567' thousands). If ',' separates thousands, {thousands_hint}; if it "
                f"marks decimals, {decimal_hint}.")
    return None


def _numeric_hint(bad: list[str], decimal: str, thousands: str | None) -> str:
    """What the text in a numeric column probably is, and the option that reads it."""
    if any(v in _CDC_CODES or v.endswith("(Unreliable)") for v in bad):
        found = sorted({v for v in bad if v in _CDC_CODES or v.endswith("(Unreliable)")})
        use = (
            "load the export with " + format_hint("cdc_wonder")
            if "cdc_wonder" in available_readers()
            else "pass na_values=[...] to drop those rows (knowing that dropping censored "
            "small counts biases totals and rates)"
        )
        return (
            f" These are CDC WONDER codes ({quote_list(found)}): 'Suppressed' marks counts "
            f"of 1-9 (censored, not zero and not missing); {use}."
        )
    if thousands:
        misgrouped = [v for v in bad if thousands in v]
        if misgrouped:
            hint = (f" With thousands={thousands!r}, every {thousands!r} must separate groups of "
                    f"three digits, as in '1{thousands}234{thousands}567'; "
                    f"{misgrouped[0]!r} does not.")
            if thousands == "," and any(_DECIMAL_COMMA.match(v) for v in misgrouped):
                hint += (f" It looks like a decimal comma: "
                         f"{read_options_hint({'decimal': ','})} instead.")
            return hint
    if decimal == "." and not thousands:
        found_hint = _separator_hint(bad)
        if found_hint:
            return found_hint
    elif any(_THOUSANDS.match(v) for v in bad):
        sep = next(m.group("sep") for v in bad if (m := _THOUSANDS.match(v)))
        if sep != decimal:
            return (f" They look like numbers with thousands separators: "
                    f"{read_options_hint({'thousands': sep, 'decimal': decimal})}.")
    return (
        " If these mark missing values, pass na_values=[...] to read them as missing "
        "(command line: --na-value TEXT ; spec [data]: na_values = [...]); the rows are then "
        "dropped and logged. Otherwise correct them in the source."
    )


# every spelling pandas.to_numeric reads as a number (a superset): a cell that does not
# match this is text for certain
_NUMBER_LIKE = r"(?i)^[+-]?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|inf|infinity|nan)$"
KEEP_TEXT = "text"


def _leading_zero(text: object) -> bool:
    """True when a cell of ``text`` (pyarrow strings) is a number with a leading zero."""
    import pyarrow.compute as pc

    maybe = pc.fill_null(pc.or_(pc.starts_with(text, "0"), pc.starts_with(text, "-0")), False)
    if not pc.any(maybe).as_py():  # the usual case, without a regular expression
        return False
    return bool(pc.any(pc.match_substring_regex(pc.filter(text, maybe), r"^-?0\d")).as_py())


def _text_for_certain(text: object, markers: frozenset[str] | set[str]) -> bool:
    """True when some cell of ``text`` (a pyarrow array) is neither a marker nor number-like."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(text)
    is_marker = pc.fill_null(pc.is_in(trimmed, pa.array(sorted(markers))), True)
    number_like = pc.fill_null(pc.match_substring_regex(trimmed, _NUMBER_LIKE), True)
    return bool(pc.any(pc.and_(pc.invert(is_marker), pc.invert(number_like))).as_py())


def _arrow_numbers(
    values: pd.Series, markers: frozenset[str] | set[str], decimal: str, thousands: str | None,
    *, codes_stay_text: bool,
) -> np.ndarray | str | None:
    """The fast path: float64 values of a text column, or None when it needs the slow path.

    Cells are stripped, missing markers become missing, separators are applied and
    the rest is cast with pyarrow. Any cell that does not cast cleanly (text, an
    ambiguous ``NaN`` spelling) returns None: the pandas path then decides and
    names the rows, so the fast path never changes what is accepted. With
    ``codes_stay_text`` (columns without a role), :data:`KEEP_TEXT` is returned
    when the column certainly stays text: a code with a leading zero, or a cell
    that no number spelling matches.
    """
    if not (pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values)):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values.array
        if isinstance(getattr(arr, "_pa_array", None), pa.ChunkedArray):
            text = arr._pa_array
        else:  # object columns: only plain strings and missing values
            text = pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        if not thousands and decimal == ".":
            try:  # plain numbers and empty cells (the common case): one cast, no copies
                out = pc.cast(text, pa.float64())
            except pa.ArrowInvalid:
                if codes_stay_text and _text_for_certain(text.slice(0, 10_000), markers):
                    return KEEP_TEXT  # e.g. labels: decided on the first rows
            else:
                if codes_stay_text and _leading_zero(text):
                    return KEEP_TEXT
                if not pc.any(pc.fill_null(pc.is_nan(out), False)).as_py():
                    return out.to_numpy(zero_copy_only=False)
        text = pc.utf8_trim_whitespace(text)
        is_marker = pc.or_kleene(pc.is_null(text), pc.is_in(text, pa.array(sorted(markers))))
        is_marker = pc.fill_null(is_marker, True)
        if codes_stay_text and _leading_zero(pc.filter(text, pc.invert(is_marker))):
            return KEEP_TEXT
        if thousands:
            misgrouped = pc.and_(pc.invert(is_marker), pc.and_(
                pc.fill_null(pc.match_substring(text, thousands), False),
                pc.invert(pc.fill_null(pc.match_substring_regex(
                    text, _grouped_pattern(thousands, decimal)), False)),
            ))
            if pc.any(misgrouped).as_py():
                return KEEP_TEXT if codes_stay_text else None  # e.g. '0,5' with thousands=','
            text = pc.replace_substring(text, thousands, "")
        if decimal != ".":
            text = pc.replace_substring(text, decimal, ".")
        text = pc.if_else(is_marker, pa.scalar(None, text.type), text)
        try:
            out = pc.cast(text, pa.float64())
        except pa.ArrowInvalid:
            if codes_stay_text and pc.any(pc.invert(pc.fill_null(
                pc.match_substring_regex(text, _NUMBER_LIKE), True
            ))).as_py():
                return KEEP_TEXT  # a cell no number spelling matches: text for certain
            return None
        if pc.any(pc.fill_null(pc.is_nan(out), False)).as_py():
            return None  # 'NAN', 'nan' spellings that are not markers: the slow path decides
        return out.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None


def _misgrouped(text: pd.Series, is_marker: pd.Series, thousands: str, decimal: str) -> np.ndarray:
    """Cells holding ``thousands`` that are not numbers in groups of three digits."""
    has = text.str.contains(thousands, regex=False).fillna(False)
    ok = text.str.match(_grouped_pattern(thousands, decimal)).fillna(False)
    return (has & ~ok & ~is_marker).to_numpy(dtype=bool)


def _to_numeric(
    values: pd.Series, column: str, role: str, rows: np.ndarray, markers: frozenset[str] | set[str],
    decimal: str, thousands: str | None,
) -> pd.Series:
    """Numbers from a column, or an error naming the rows that hold text."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if isinstance(values.dtype, pd.CategoricalDtype):
        raise NonNumericError(
            f"{role.capitalize()} {column!r} holds labelled categories "
            f"({quote_list(values.cat.categories[:5])}), not numbers. For Stata files "
            f"{read_options_hint({'convert_categoricals': False})} to get the codes."
        )
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(
        values
    ) or isinstance(values.dtype, pd.PeriodDtype):
        raise NonNumericError(
            f"{role.capitalize()} {column!r} holds dates or durations (dtype {values.dtype}), "
            "not numbers. Convert it to a number first (e.g. df[col].dt.days for durations), "
            "or give it another role."
        )
    if pd.api.types.is_numeric_dtype(values):
        out = values.astype("float64")
    elif isinstance(fast := _arrow_numbers(values, markers, decimal, thousands,
                                           codes_stay_text=False), np.ndarray):
        out = pd.Series(fast, index=values.index)
    else:
        text = values.astype("string").str.strip()
        is_marker = text.isna() | text.isin(list(markers))
        cleaned = text.mask(is_marker)
        if thousands:
            cleaned = cleaned.str.replace(thousands, "", regex=False)
        if decimal != ".":
            cleaned = cleaned.str.replace(decimal, ".", regex=False)
        out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
        bad = (out.isna() & ~is_marker).to_numpy()
        if thousands:  # '0,5' with thousands=',' is not 5: a separator must group 3 digits
            bad = bad | _misgrouped(text, is_marker, thousands, decimal)
        if bad.any():
            bad_vals = [str(v) for v in values.to_numpy()[bad]]
            hint = _numeric_hint([v.strip() for v in bad_vals], decimal, thousands)
            raise NonNumericError(
                f"{role.capitalize()} {column!r} must be numeric but holds text in "
                f"{describe_rows(rows[bad], bad_vals)}.{hint}"
            )
    arr = out.to_numpy()
    inf = np.isinf(arr)
    if inf.any():
        raise InfiniteValueError(
            f"{role.capitalize()} {column!r} is infinite in {describe_rows(rows[inf], arr[inf])}. "
            "Infinite values usually come from dividing by zero upstream: fix them or set them "
            "missing in the source."
        )
    return out.reset_index(drop=True).set_axis(values.index)


_LEADING_ZERO = re.compile(r"^-?0\d")


def infer_numeric(
    values: pd.Series, markers: frozenset[str] | set[str], decimal: str, thousands: str | None
) -> pd.Series:
    """Numbers from a text column without a role, only when nothing is lost.

    A text column becomes float64 when every cell is a missing marker or a finite
    number written without leading zeros (``"01001"`` is a code, not 1001), so
    codes and labels stay text. Anything else is returned unchanged.

    Examples
    --------
    >>> infer_numeric(pd.Series(["1.5", "", "-2"]), NA_MARKERS, ".", None).tolist()
    [1.5, nan, -2.0]
    >>> infer_numeric(pd.Series(["01001", "01003"]), NA_MARKERS, ".", None).tolist()
    ['01001', '01003']
    >>> infer_numeric(pd.Series(["3", "n.a."]), NA_MARKERS, ".", None).tolist()
    ['3', 'n.a.']
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    if pd.api.types.is_object_dtype(values) and not values.map(
        lambda v: v is None or isinstance(v, str) or (isinstance(v, float) and v != v)
    ).all():
        return values  # mixed Python objects (Excel cells, Parquet lists): leave them as they are
    fast = _arrow_numbers(values, markers, decimal, thousands, codes_stay_text=True)
    if isinstance(fast, str):  # KEEP_TEXT
        return values
    if fast is not None:
        if np.isinf(fast).any() or np.isnan(fast).all():
            return values
        return pd.Series(fast, index=values.index)
    text = values.astype("string").str.strip()
    is_marker = text.isna() | text.isin(list(markers))
    if is_marker.all():
        return values
    cleaned = text.mask(is_marker)
    if cleaned.str.match(_LEADING_ZERO).fillna(False).any():
        return values
    if thousands:
        cleaned = cleaned.str.replace(thousands, "", regex=False)
    if decimal != ".":
        cleaned = cleaned.str.replace(decimal, ".", regex=False)
    out = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    if (out.isna() & ~is_marker).any() or np.isinf(out.to_numpy()).any():
        return values
    if thousands and _misgrouped(text, is_marker, thousands, decimal).any():
        return values
    return out
