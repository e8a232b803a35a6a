"""Save results as plain JSON and read them back as results objects.

``causalpolicing analyze`` writes every fitted model with :func:`save_results`;
``causalpolicing table`` reads them with :func:`load_results` and builds tables
from them later, on another machine if need be. The JSON holds what the results
contract exposes (estimates, the full covariance, degrees of freedom for
inference, number of observations and clusters, covariance label, estimator,
spec, fit statistics and warnings), so tables, intervals and p-values computed
from a stored result equal those of the original. It is data only: reading it
runs no code (no pickle).

Examples
--------
>>> import json, tempfile, pathlib
>>> import causalpolicing as cp
>>> from causalpolicing.results_io import save_results, load_results
>>> res = cp.feols("lcrmrte ~ lprbarr + lpolpc | county + year",
...                cp.datasets.load("nc_crime").to_frame(), vcov="iid")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "within.json"
>>> _ = save_results(res, path, name="within")
>>> back = load_results(path)
>>> bool((back.tidy().drop(columns="term") == res.tidy().drop(columns="term")).all().all())
True
>>> back.estimator, back.name
('FEOLS', 'within')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import SpecError
from .results import BaseResults

__all__ = ["FORMAT", "StoredResults", "results_to_dict", "results_from_dict", "save_results",
           "load_results"]

#: Identifies the JSON layout; bumped when it changes.
FORMAT = "causalpolicing.results/1"
_GLANCE_OWN = {"estimator", "nobs", "n_clusters", "cov_type"}


class StoredResults(BaseResults):
    """Results read back from JSON: the full results contract plus the model's ``name``."""

    __slots__ = ("_name",)

    def __init__(self, *, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        object.__setattr__(self, "_name", name)

    @property
    def name(self) -> str | None:
        """The model's name in the analysis that saved it (``None`` if not named)."""
        return self._name


def _plain(obj: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None, tuples to lists."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def results_to_dict(res: Any, *, name: str | None = None) -> dict[str, Any]:
    """The results contract of ``res`` as a JSON-ready dict (see the module docstring)."""
    for attr in ("params", "cov", "nobs", "cov_type", "estimator", "spec", "glance"):
        if not hasattr(res, attr):
            raise SpecError(f"cannot save {type(res).__name__}: it lacks {attr!r} of the results "
                            f"contract (causalpolicing.results.EstimationResults).")
    params = res.params
    cov = res.cov.loc[params.index, params.index]
    glance = res.glance().iloc[0].to_dict() if len(res.glance()) else {}
    n_cl = res.n_clusters
    return {
        "format": FORMAT,
        "name": name,
        "estimator": res.estimator,
        "terms": [str(t) for t in params.index],
        "params": _plain([float(v) for v in params.to_numpy()]),
        "cov": _plain([[float(v) for v in row] for row in cov.to_numpy()]),
        "nobs": int(res.nobs),
        "df_inference": getattr(res, "df_inference", None),
        "n_clusters": list(n_cl) if isinstance(n_cl, tuple) else n_cl,
        "cov_type": res.cov_type,
        "spec": _plain(res.spec),
        "fit_stats": _plain({k: v for k, v in glance.items() if k not in _GLANCE_OWN}),
        "warnings": list(getattr(res, "warnings", ()) or ()),
        "tidy": _plain(res.tidy().to_dict(orient="records")),
    }


def results_from_dict(raw: Mapping[str, Any], *, source: str = "results") -> StoredResults:
    """Rebuild results from :func:`results_to_dict` output."""
    if not isinstance(raw, Mapping) or raw.get("format") != FORMAT:
        raise SpecError(f"{source}: not a causalpolicing results file: it holds {_describe(raw)}. "
                        f"Results files are the per-model files `causalpolicing analyze` writes "
                        f"to OUT/results/ (format {FORMAT!r}), or files written by "
                        f"causalpolicing.results_io.save_results.")
    try:
        terms = [str(t) for t in raw["terms"]]
        params = pd.Series(np.asarray(raw["params"], dtype=float), index=terms, dtype=float)
        cov = pd.DataFrame(np.asarray(raw["cov"], dtype=float), index=terms, columns=terms)
        n_cl = raw.get("n_clusters")
        return StoredResults(
            name=raw.get("name"),
            params=params, cov=cov, nobs=int(raw["nobs"]),
            df_inference=raw.get("df_inference"), cov_type=str(raw["cov_type"]),
            estimator=str(raw["estimator"]), spec=dict(raw.get("spec") or {}),
            n_clusters=tuple(n_cl) if isinstance(n_cl, list) else n_cl,
            fit_stats=dict(raw.get("fit_stats") or {}),
            warnings=tuple(raw.get("warnings") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{source}: malformed results file ({type(exc).__name__}: {exc}).") from None


def _describe(raw: Any) -> str:
    """What a JSON value that is not a results file is, in a few words."""
    if isinstance(raw, list):
        if raw and all(isinstance(r, Mapping) and {"model", "term"} <= set(r) for r in raw):
            return (f"a list of {len(raw)} tidy rows (model, term, estimate, ...): the combined "
                    f"table `analyze` writes as OUT/tidy.json, not one model's results")
        return f"a JSON list of {len(raw)} item{'s' if len(raw) != 1 else ''}"
    if isinstance(raw, Mapping):
        if "format" in raw:
            return f"a JSON object of format {raw['format']!r}"
        keys = ", ".join(repr(str(k)) for k in list(raw)[:5])
        return (f"a JSON object with keys {keys}{', ...' if len(raw) > 5 else ''}" if raw
                else "an empty JSON object")
    kind = {bool: "boolean", int: "number", float: "number", str: "string"}.get(type(raw), "null")
    return f"a JSON {kind} ({str(raw)[:40]!r})"


def save_results(res: Any, path: str | Path, *, name: str | None = None) -> Path:
    """Write ``res`` as JSON to ``path``; returns the path."""
    p = Path(path)
    p.write_text(json.dumps(results_to_dict(res, name=name), indent=1, allow_nan=False),
                 encoding="utf-8")
    return p


def load_results(path: str | Path) -> StoredResults:
    """Read results written by :func:`save_results`."""
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"results file {str(p)!r} not found.")
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p}: not valid JSON ({exc}).") from None
    return results_from_dict(raw, source=str(p))
