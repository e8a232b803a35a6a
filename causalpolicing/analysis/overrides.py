"""The command line's model options applied to the models of a spec.

``causalpolicing analyze --vcov/--ssc/--formula/--fe/--cluster/--bootstrap`` changes
the models of the spec it runs (built from a FILE and roles, read with ``--config``,
or the bundled default analysis). :func:`override_models` states and applies the
rule; every value is checked by the spec's own validators first, so a bad value is
named by its option (``--ssc: unknown small-sample convention 'stata'; valid: ...``), and every
new model is validated like a ``[[models]]`` table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._model_spec import parse_analysis_model
from .._spec_fields import _fail, _fe, _int, _str, _vcov
from ..estimators import registry
from ..exceptions import FormulaError, SpecError
from ..formula import parse_formula
from ..spec import ModelSpec

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
    models that take them, as the estimator registry says
    (:mod:`causalpolicing.estimators.registry`: ``ssc``, ``formula``,
    ``fixed_effects`` — in a model's formula they replace the part after ``|`` — and
    ``bootstrap``). An option that no model takes is an error. Each new model is
    validated like a ``[[models]]`` table.

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
    if ssc is not None:
        try:
            registry.SSC.check(ssc)
        except SpecError as exc:
            raise _fail("--ssc", str(exc)) from None
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
    entries = list(registry.entries())
    takes = {"ssc": tuple(e.name for e in entries if e.ssc),
             "fe": tuple(e.name for e in entries if e.fixed_effects and e.formula),
             "bootstrap": tuple(e.name for e in entries if e.bootstrap),
             "formula": tuple(e.name for e in entries if e.formula)}
    given = {"ssc": ssc, "fe": fe, "bootstrap": bootstrap, "formula": formula}
    for key, value in given.items():
        if value is not None and models and not any(m.estimator in takes[key] for m in models):
            raise SpecError(f"--{key}: no model of the spec takes it (models that do: "
                            f"{', '.join(takes[key])}); the models are "
                            f"{', '.join(m.estimator for m in models)}.")
    out = []
    for i, model in enumerate(models):
        d = {k: v for k, v in model.to_analysis_dict().items() if v is not None}
        if vcov is not None:
            d["vcov"] = vcov
        elif cluster is not None and isinstance(model.vcov, Mapping):
            (name,) = model.vcov
            if str(name).upper() in ("CRV1", "CRV3"):
                d["vcov"] = {name: cluster}
        if ssc is not None and model.estimator in takes["ssc"]:
            d["ssc"] = ssc
        if bootstrap is not None and model.estimator in takes["bootstrap"]:
            d["bootstrap"] = bootstrap
        if formula is not None and model.estimator in takes["formula"]:
            d["formula"] = formula
            d.pop("fe", None)  # a formula brings its own fixed effects
        if fe is not None and model.estimator in takes["fe"]:
            d["fe"] = _fe(list(fe), "--fe")
            if d.get("formula") is not None and d["fe"]:  # the fixed effects go into it
                d["formula"] = _with_fe(d["formula"], d.pop("fe"), f"models[{i}].formula")
        out.append(parse_analysis_model(d, f"models[{i}] ({model.name})", i))
    return tuple(out)


def _with_fe(formula: str, fe: Sequence[str], path: str) -> str:
    """``formula`` with its fixed effects (the part after the first ``|``) replaced by ``fe``."""
    try:
        parsed = parse_formula(formula)
        new = parse_formula(f"y ~ x | {' + '.join(fe)}").fixed_effects
    except FormulaError as exc:
        raise _fail(path, str(exc)) from None
    return str(replace(parsed, fixed_effects=new))
