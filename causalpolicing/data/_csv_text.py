"""Text helpers of the CSV reader: encodings, delimiters, header names, option checks."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..exceptions import ReaderError

__all__ = ["detect_encoding"]


def detect_encoding(raw: bytes) -> str:
    """Detect UTF-8 (with or without BOM), UTF-16 (with BOM) or fall back to Latin-1.

    Examples
    --------
    >>> detect_encoding("Zürich".encode("utf-8")), detect_encoding("Zürich".encode("latin-1"))
    ('utf-8', 'cp1252')
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


def _strip_trailing_blank_lines(body: str) -> str:
    """Remove whitespace-only lines at the end of the text (they are not rows)."""
    end = len(body)
    while True:
        nl = body.rfind("\n", 0, end)
        if nl == -1 or body[nl + 1:end].strip():
            break
        end = nl
    return body[:end].rstrip("\r") + "\n"


def _check_char_option(value: Any, name: str, path: Path, *, allow_none: bool) -> Any:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n\"":
        raise ReaderError(
            f"{name} must be a single character (e.g. ',', ';', '\\t', '|'); got {value!r} "
            f"for {path.name!r}."
        )
    return value


def _decode(raw: bytes, encoding: str | None, path: Path) -> tuple[str, str]:
    """Decode the file: the given encoding, or the detected one with fallbacks."""
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError as exc:
            raise ReaderError(f"Unknown encoding {encoding!r} for {path.name!r}.") from exc
        except UnicodeDecodeError as exc:
            raise ReaderError(
                f"{path.name!r} is not valid {encoding} (byte {exc.start}). Leave encoding "
                "unset to detect it, or pass the file's real encoding (e.g. 'latin-1')."
            ) from exc
    enc = detect_encoding(raw[:262144])
    for candidate in dict.fromkeys([enc, "cp1252", "latin-1"]):
        try:
            return raw.decode(candidate), candidate
        except UnicodeDecodeError:  # a non-UTF-8 byte after the sampled head
            continue
    raise ReaderError(f"{path.name!r} cannot be decoded; pass encoding=.")  # pragma: no cover


def _header_names(body: str, sep: str) -> list[str]:
    """The header's column names as written (stripped), trailing empty names removed."""
    try:
        names = next(csv.reader(io.StringIO(body[:1 << 20]), delimiter=sep))
    except (StopIteration, csv.Error):
        return []
    names = [n.strip() for n in names]
    while names and not names[-1]:
        names.pop()
    return names


def pa_nested(arrow_type: Any) -> bool:
    """True for Arrow list, struct, map and union types (one cell holds several values)."""
    import pyarrow.types as pat

    return bool(
        pat.is_list(arrow_type) or pat.is_large_list(arrow_type)
        or pat.is_fixed_size_list(arrow_type) or pat.is_struct(arrow_type)
        or pat.is_map(arrow_type) or pat.is_union(arrow_type)
        or getattr(pat, "is_list_view", lambda _t: False)(arrow_type)
        or getattr(pat, "is_large_list_view", lambda _t: False)(arrow_type)
    )
