"""One model to fit: the class shared by the analysis spec and the study files.

A :class:`ModelSpec` is a name, an estimator of the registry
(:mod:`causalpolicing.estimators.registry`) and its options, validated by the
registry's one validator, plus what only one door uses: ``fe``, ``bootstrap`` and
``bootstrap_weights`` in an analysis spec (``[[models]]`` of :mod:`causalpolicing.spec`),
``label``, ``sample`` and the position ``index`` in a study file
(:mod:`causalpolicing.studies.schema`). The TOML keys are the same as before: the
options are the model table's other keys.

Examples
--------
>>> m = ModelSpec("Poisson", "fepois", formula="deaths ~ x | unit + year", vcov="iid")
>>> m.options["vcov"], m.formula, m.ssc
('iid', 'deaths ~ x | unit + year', None)
>>> parse_analysis_model({"estimator": "fenegbin", "vcov": {"DK": "year"}}, "models[0]", 0)
Traceback (most recent call last):
...
causalpolicing.estimators.registry.OptionError: models[0].vcov: vcov={'DK': 'year'} (DK) is not available for fenegbin; it takes iid, HC0, HC1, CRV1, HAC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ._spec_fields import _fail, _fe, _int, _str
from .estimators import registry

__all__ = ["ModelSpec", "parse_analysis_model", "BOOTSTRAP_WEIGHTS", "ANALYSIS_KEYS"]

#: Weights of the analysis runner's bootstraps.
BOOTSTRAP_WEIGHTS = ("rademacher", "webb", "mammen")
#: Keys of an analysis ``[[models]]`` table that are not estimator options.
ANALYSIS_KEYS = ("name", "estimator", "bootstrap", "bootstrap_weights", "fe")


@dataclass(frozen=True, init=False)
class ModelSpec:
    """One model: a name, an estimator of the registry and its options.

    Parameters
    ----------
    name
        The model's name (an analysis spec's ``name``, a study's ``id``).
    estimator
        A registry name (:func:`causalpolicing.estimators.registry.names`).
    options
        The estimator's options (validated by
        :func:`~causalpolicing.estimators.registry.validate_options` when parsed);
        may also be given as keywords (``formula=...``, ``vcov=...``). ``None`` values
        are left out.
    fe
        Analysis spec: the fixed effects of the default formula (formula estimators).
    bootstrap, bootstrap_weights
        Analysis spec: draws of the estimator's bootstrap (``0``: none) and their weights.
    label, sample
        Study file: the model's label and its sample restriction (an expression).
    index
        Position in the file (for error messages; not compared).
    """

    name: str
    estimator: str
    options: Mapping[str, Any]
    fe: tuple[str, ...] | None
    bootstrap: int
    bootstrap_weights: str
    label: str | None
    sample: Any
    index: int = field(compare=False)

    def __init__(self, name: str, estimator: str, options: Mapping[str, Any] | None = None, *,
                 fe: tuple[str, ...] | None = None, bootstrap: int = 0,
                 bootstrap_weights: str = "webb", label: str | None = None, sample: Any = None,
                 index: int = 0, **option_values: Any) -> None:
        opts = {k: v for k, v in {**dict(options or {}), **option_values}.items()
                if v is not None}
        for key, value in (("name", name), ("estimator", estimator),
                           ("options", MappingProxyType(opts)), ("fe", fe),
                           ("bootstrap", bootstrap), ("bootstrap_weights", bootstrap_weights),
                           ("label", label), ("sample", sample), ("index", index)):
            object.__setattr__(self, key, value)

    # the options read most often, by name (None when not given)
    @property
    def id(self) -> str:
        """The study file's name for :attr:`name`."""
        return self.name

    @property
    def entry(self) -> registry.EstimatorEntry:
        """The estimator's registry entry."""
        return registry.get(self.estimator, study=True)

    def option(self, key: str) -> Any:
        """The option's value, else the estimator's default for it (``None`` if none)."""
        if key in self.options:
            return self.options[key]
        opt = self.entry.option(key)
        return None if opt is None else opt.default

    @property
    def formula(self) -> str | None:
        """The model formula, if given."""
        f = self.options.get("formula")
        return None if f is None else str(f)

    @property
    def vcov(self) -> Any:
        """The covariance, if given."""
        return self.options.get("vcov")

    @property
    def ssc(self) -> str | None:
        """The small-sample convention, if given."""
        return self.options.get("ssc")

    @property
    def exposure(self) -> Any:
        """The exposure column (or ``False``), if given."""
        return self.options.get("exposure")

    @property
    def trials(self) -> str | None:
        """The binomial model's trials column, if given."""
        return self.options.get("trials")

    @property
    def weights(self) -> str | None:
        """The weights column, if given."""
        return self.options.get("weights")

    @property
    def lags(self) -> int | None:
        """Lags of a distributed-lag model (its default when not given)."""
        return self.option("lags")  # type: ignore[no-any-return]

    @property
    def leads(self) -> int | None:
        """Leads of a distributed-lag model (its default when not given)."""
        return self.option("leads")  # type: ignore[no-any-return]

    def to_analysis_dict(self) -> dict[str, Any]:
        """The ``[[models]]`` table of an analysis spec (what :func:`parse_analysis_model` reads)."""
        out: dict[str, Any] = {"name": self.name, "estimator": self.estimator, **self.options}
        if self.fe is not None:
            out["fe"] = list(self.fe)
        out["bootstrap"] = self.bootstrap
        out["bootstrap_weights"] = self.bootstrap_weights
        return out


def _door_keys(entry: registry.EstimatorEntry) -> tuple[str, ...]:
    # an estimator with an own `fe` option (distributed_lag) gets it as an option
    return tuple(k for k in ANALYSIS_KEYS if k not in entry.option_names())


def parse_analysis_model(raw: Any, path: str, index: int) -> ModelSpec:
    """Validate one ``[[models]]`` table of an analysis spec.

    The estimator's options are checked by the registry (the schema the function
    enforces); the formula may be left out (the runner builds it from the data
    roles). ``fe`` (the default formula's fixed effects) needs a formula estimator
    and no formula; ``bootstrap`` an estimator with a bootstrap.
    """
    if not isinstance(raw, Mapping):
        raise _fail(path, f"expected a table (mapping), got {type(raw).__name__} {raw!r}.")
    entry = registry.get(_str(raw.get("estimator"), f"{path}.estimator", optional=False),
                         path=f"{path}.estimator")
    est = entry.name
    door = _door_keys(entry)
    options = registry.validate_options(
        est, {k: v for k, v in raw.items() if k not in door}, path=path, also=door,
        supplied=("formula",), study=False)
    fe = _fe(raw.get("fe"), f"{path}.fe") if "fe" in door else None
    if fe and not entry.fixed_effects:
        with_fe = [e.name for e in registry.entries() if e.fixed_effects and e.formula]
        raise _fail(f"{path}.fe", f"{est} takes no fixed effects; models that do: "
                                  f"{', '.join(with_fe)}.")
    if fe and "formula" in options:
        raise _fail(f"{path}.fe", "give the fixed effects in the formula (after '|') or "
                                  "'fe' without a formula, not both.")
    bootstrap = _int(raw.get("bootstrap", 0), f"{path}.bootstrap")
    if bootstrap and entry.bootstrap is None:
        with_boot = [f"{e.name} ({e.bootstrap})" for e in registry.entries() if e.bootstrap]
        raise _fail(f"{path}.bootstrap", f"{est} has no bootstrap; models that do: "
                                         f"{', '.join(with_boot)}. Remove 'bootstrap'.")
    if 0 < bootstrap < 99:
        raise _fail(f"{path}.bootstrap", f"use at least 99 draws (999 or 9999 for a paper); "
                                         f"got {bootstrap}.")
    weights = _str(raw.get("bootstrap_weights", "webb"), f"{path}.bootstrap_weights",
                   allowed=BOOTSTRAP_WEIGHTS) or "webb"
    name = _str(raw.get("name"), f"{path}.name") or f"{est} {index + 1}"
    return ModelSpec(name, est, options, fe=fe, bootstrap=bootstrap, bootstrap_weights=weights,
                     index=index)
