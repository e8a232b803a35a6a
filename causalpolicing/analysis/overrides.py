"""The command line's model options applied to the models of a spec.

``causalpolicing analyze --vcov/--ssc/--formula/--fe/--cluster/--bootstrap`` changes
the models of the spec it runs (built from a FILE and roles, read with ``--config``,
or the bundled default analysis). :func:`override_models` states and applies the
rule; every value is checked by the spec's own validators first, so a bad value is
named by its option (``--ssc: 'stata' is not allowed ...; allowed: ...``), and every
new model is validated like a ``[[models]]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from .._spec_fields import _fail, _fe, _int, _str, _vcov
from ..exceptions import FormulaError, SpecError
from ..formula import parse_formula
from ..inference.vcov import SSC_CONVENTIONS
from ..spec import _WITH_FE, _WITH_SSC, ESTIMATORS, ModelSpec

__all__ = ["override_models"]


def override_models(
    models: Sequence[ModelSpec],
    *,
    vcov: str | Mapping[str, Any] | None = None,
    ssc: str | None = None,
    formula: str | None = None,
    fe: Sequence[str] | None = None,
    cluster: str | None = None,
    bootstrap: int | None = None,
) -> tuple[ModelSpec, ...]:
    """The models with the command line's model options applied (``None``: keep).

    The rule (``causalpolicing analyze --vcov/--ssc/--formula/--fe/--cluster/--bootstrap``
    with ``--config`` or a FILE): ``vcov`` replaces every model's covariance; ``cluster``
    (without ``vcov``) re-clusters every model whose covariance is clustered (CRV1,
    CRV3); ``ssc``, ``formula``, ``fe`` and ``bootstrap`` replace those keys of the
    models that take them (``ssc``: feols, fepois, between, first_difference;
    ``formula``: all but distributed_lag; ``fe``: feols, fepois, fenegbin,
    febinomial — in a model's formula they replace the part after ``|``;
    ``bootstrap``: feols, fepois). An option that no model takes is an error. Each
    new model is validated like a ``[[models]]`` table.

    Examples
    --------
    >>> from causalpolicing.spec import ModelSpec
    >>> m = ModelSpec(name="Linear FE", estimator="feols", formula="y ~ x | unit + year")
    >>> new = override_models([m], vcov={"CRV3": "unit"}, fe=["unit"], ssc="stata_xtreg")
    >>> new[0].vcov, new[0].formula, new[0].ssc
    ({'CRV3': 'unit'}, 'y ~ x | unit', 'stata_xtreg')
    """
    # the values themselves first, so that a bad one is named by its option
    if vcov is not None:
        _vcov(vcov, "--vcov")
    _str(ssc, "--ssc", allowed=SSC_CONVENTIONS)
    _str(cluster, "--cluster")
    if bootstrap is not None:
        _int(bootstrap, "--bootstrap")
    if formula is not None:
        try:
            parse_formula(_str(formula, "--formula") or "")
        except FormulaError as exc:
            raise _fail("--formula", str(exc)) from None
    if fe is not None:
        _fe(list(fe), "--fe")
    takes = {"ssc": _WITH_SSC, "fe": _WITH_FE, "bootstrap": ("feols", "fepois"),
             "formula": tuple(e for e in ESTIMATORS if e != "distributed_lag")}
    given = {"ssc": ssc, "fe": fe, "bootstrap": bootstrap, "formula": formula}
    for key, value in given.items():
        if value is not None and models and not any(m.estimator in takes[key] for m in models):
            raise SpecError(f"--{key}: no model of the spec takes it (models that do: "
                            f"{', '.join(takes[key])}); the models are "
                            f"{', '.join(m.estimator for m in models)}.")
    out = []
    for i, model in enumerate(models):
        d = {k: v for k, v in asdict(model).items() if v is not None}
        if vcov is not None:
            d["vcov"] = vcov
        elif cluster is not None and isinstance(model.vcov, Mapping):
            (name,) = model.vcov
            if str(name).upper() in ("CRV1", "CRV3"):
                d["vcov"] = {name: cluster}
        if ssc is not None and model.estimator in _WITH_SSC:
            d["ssc"] = ssc
        if bootstrap is not None and model.estimator in takes["bootstrap"]:
            d["bootstrap"] = bootstrap
        if formula is not None and model.estimator in takes["formula"]:
            d["formula"] = formula
            d.pop("fe", None)  # a formula brings its own fixed effects
        if fe is not None and model.estimator in _WITH_FE:
            d["fe"] = _fe(list(fe), "--fe")
            if d.get("formula") is not None and d["fe"]:  # the fixed effects go into it
                d["formula"] = _with_fe(d["formula"], d.pop("fe"), f"models[{i}].formula")
        out.append(ModelSpec._parse(d, f"models[{i}] ({model.name})", i))
    return tuple(out)


def _with_fe(formula: str, fe: Sequence[str], path: str) -> str:
    """``formula`` with its fixed effects (the part after the first ``|``) replaced by ``fe``."""
    try:
        parsed = parse_formula(formula)
        new = parse_formula(f"y ~ x | {' + '.join(fe)}").fixed_effects
    except FormulaError as exc:
        raise _fail(path, str(exc)) from None
    return str(replace(parsed, fixed_effects=new))
