"""Provenance of a report: input file checksum, package versions, seed, spec, command, time.

:func:`gather_provenance` merges what the caller passes (a mapping) with what
can be found automatically: the input's source and SHA-256 from the panel's
metadata, the versions of the packages the analysis rests on (read from the
installed distributions' metadata, so nothing is imported), the Python version,
the platform and the UTC time (overridable with ``timestamp`` for reproducible
output).

Keys of the caller's mapping with a meaning:

``timestamp``
    ``str`` or :class:`datetime.datetime` (converted to UTC ISO 8601).
``seed`` (or ``random_seed``)
    The random seed (int or None).
``spec`` (or ``spec_toml``, ``spec_json``)
    The full analysis spec: its text (TOML or JSON), or a mapping (shown as JSON).
``spec_format``
    ``"toml"`` or ``"json"`` (default: JSON when the text parses as JSON, else TOML;
    ``spec_toml``/``spec_json`` say it).
``command`` (or ``command_line``)
    The command line: a string, or a list of arguments (quoted with :func:`shlex.join`).
``packages``
    ``{name: version}`` added to (or replacing) the automatic versions.
``source``, ``sha256``, ``reader``
    The input (default: from the panel's metadata; given values replace them).
``python``, ``platform``
    Replace the automatic values.

Any other key is listed as it is (``str(value)``).

Examples
--------
>>> p = gather_provenance({"timestamp": "2026-01-01T00:00:00+00:00", "seed": 7,
...                        "command": ["causalpolicing", "analyze", "--out", "my dir"]}, None)
>>> p["timestamp"], p["seed"], p["command"]
('2026-01-01T00:00:00+00:00', '7', "causalpolicing analyze --out 'my dir'")
>>> [name for name, _ in p["packages"]][:3]
['causalpolicing', 'numpy', 'pandas']
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import shlex
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from ...exceptions import SpecError

__all__ = ["PROVENANCE_PACKAGES", "gather_provenance"]

#: Packages whose versions every report lists.
PROVENANCE_PACKAGES: tuple[str, ...] = ("causalpolicing", "numpy", "pandas", "scipy",
                                        "statsmodels", "linearmodels", "dowhy", "matplotlib")
_KNOWN = {"timestamp", "seed", "random_seed", "spec", "spec_toml", "spec_json", "spec_format",
          "command", "command_line", "packages", "source", "sha256", "reader", "python",
          "platform"}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _timestamp(value: Any) -> str:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise SpecError(f"provenance['timestamp'] must be an ISO 8601 string or a datetime; got "
                    f"{value!r}.")


def _spec(value: Any, fmt: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if fmt is not None and fmt not in ("toml", "json"):
        raise SpecError(f"provenance['spec_format'] must be 'toml' or 'json'; got {fmt!r}.")
    if isinstance(value, Mapping):
        return json.dumps(value, indent=2, ensure_ascii=False, default=str), "json"
    if isinstance(value, str):
        if fmt is None:
            try:
                json.loads(value)
                fmt = "json"
            except ValueError:
                fmt = "toml"
        return value, fmt
    raise SpecError(f"provenance['spec'] must be the spec's text (TOML or JSON) or a mapping; "
                    f"got {type(value).__name__}.")


def _command(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and all(isinstance(a, str) for a in value):
        return shlex.join(value)
    raise SpecError(f"provenance['command'] must be a string or a list of arguments; got "
                    f"{value!r}.")


def gather_provenance(provenance: Mapping[str, Any] | None, panel: Any) -> dict[str, Any]:
    """Provenance as plain strings and ``(label, value)`` pairs (see the module docstring).

    Returns
    -------
    dict
        ``timestamp``, ``seed`` (str or None), ``command``, ``spec``,
        ``spec_format``, ``input`` (pairs from the panel's metadata), ``dataset``
        (pairs from a bundled dataset's card), ``packages`` (pairs), ``python``,
        ``platform`` and ``other`` (pairs of the remaining keys, sorted).
    """
    if provenance is None:
        provenance = {}
    if not isinstance(provenance, Mapping):
        raise SpecError(f"provenance must be a mapping (e.g. {{'seed': 1, 'command': ...}}); got "
                        f"{type(provenance).__name__}.")
    bad = [k for k in provenance if not isinstance(k, str)]
    if bad:
        raise SpecError(f"provenance keys must be strings; got {bad}.")
    seed = provenance.get("seed", provenance.get("random_seed"))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
        raise SpecError(f"provenance['seed'] must be an integer (or None); got {seed!r}.")
    given = [k for k in ("spec", "spec_toml", "spec_json") if provenance.get(k) is not None]
    if len(given) > 1:
        raise SpecError(f"provenance gives the spec more than once ({given}); pass one of "
                        "spec, spec_toml or spec_json.")
    key = given[0] if given else "spec"
    fmt = {"spec_toml": "toml", "spec_json": "json"}.get(key, provenance.get("spec_format"))
    spec_text, spec_format = _spec(provenance.get(key), fmt)
    if spec_text is not None:
        spec_text = spec_text.rstrip("\n")
    versions = {name: _version(name) for name in PROVENANCE_PACKAGES}
    extra = provenance.get("packages") or {}
    if not isinstance(extra, Mapping):
        raise SpecError(f"provenance['packages'] must be a mapping {{name: version}}; got "
                        f"{type(extra).__name__}.")
    versions.update({str(k): str(v) for k, v in extra.items()})
    inputs: dict[str, str] = {}
    dataset_pairs: list[tuple[str, str]] = []
    if panel is not None:
        md = panel.metadata
        # the load time (md.loaded_at) is left out: it would make reports of the same
        # input differ from run to run; the checksum identifies the input
        inputs = {"Source": str(md.source), "SHA-256": md.sha256, "Reader": md.reader,
                  "Source rows": f"{md.n_source_rows:,}"}
    for key, label in (("source", "Source"), ("sha256", "SHA-256"), ("reader", "Reader")):
        if provenance.get(key) is not None:
            inputs[label] = str(provenance[key])
    input_pairs = [(k, inputs[k]) for k in ("Source", "SHA-256", "Reader", "Source rows")
                   if k in inputs]
    if panel is not None:
        card = panel.card
        if card is not None:
            dataset_pairs = [("Dataset", card.name), ("Kind", card.kind),
                             ("Citation", card.citation), ("Licence", card.licence)]
    return {
        "timestamp": _timestamp(provenance.get("timestamp")),
        "seed": None if seed is None else str(seed),
        "command": _command(provenance.get("command", provenance.get("command_line"))),
        "spec": spec_text,
        "spec_format": spec_format,
        "input": input_pairs,
        "dataset": dataset_pairs,
        "packages": list(versions.items()),
        "python": str(provenance.get("python") or platform.python_version()),
        "platform": str(provenance.get("platform") or platform.platform()),
        "other": sorted((k, str(v)) for k, v in provenance.items() if k not in _KNOWN),
    }
