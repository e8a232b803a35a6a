r"""Extract: results objects -> a neutral, numeric table model.

This is the first of the three table stages (extract -> format -> render). It
reads only the results contract (:class:`~causalpolicing.results.EstimationResults`:
``tidy()``, ``glance()``, ``spec``, ``nobs``, ``n_clusters``, ``cov_type``,
``estimator``) and produces a frozen :class:`TableModel` holding numbers, not
strings: one :class:`Cell` per term x model and the bottom goodness-of-fit rows.

Term selection (``keep``/``drop``) takes exact names or simple globs where ``*``
matches any run of characters (nothing else is special; patterns are never
evaluated as regular expressions or code).

Exponentiated estimates (``exponentiate=True``) are rate ratios for log-link
count models and odds ratios for logit models: the estimate is
:math:`\exp(\hat\beta)`, the interval :math:`[\exp(\ell), \exp(u)]` (the
model's own interval, transformed) and the standard error the delta-method
:math:`\exp(\hat\beta)\,\mathrm{se}(\hat\beta)`; the statistic and p-value still
test :math:`\beta = 0` (ratio = 1).

Examples
--------
>>> import pandas as pd
>>> from causalpolicing.results import BaseResults
>>> from causalpolicing.report.tables.extract import extract
>>> res = BaseResults(params=pd.Series({"x": 2.0}), cov=pd.DataFrame([[0.25]], ["x"], ["x"]),
...                   nobs=100, df_inference=98, cov_type="iid", estimator="OLS",
...                   spec={"depvar": "y", "fixed_effects": []})
>>> model = extract([res])
>>> model.model_names, model.terms
(('(1)',), ('x',))
>>> model.cells[0][0].estimate, model.cells[0][0].std_error
(2.0, 0.5)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ..._hints import check_level, did_you_mean
from ...exceptions import SpecError
from ...results import EstimationResults
from .options import DEFAULT_GOF, TableOptions, takes_table_options

__all__ = ["Cell", "GofRow", "TableModel", "extract", "DEFAULT_GOF", "GOF_LABELS",
           "DEFAULT_STARS", "resolve_stars"]

Uncertainty = Literal["se", "ci", "t", "p"]
UNCERTAINTIES = ("se", "ci", "t", "p")

#: Row labels of the common fit statistics; other ``glance()`` columns keep their name.
GOF_LABELS: dict[str, str] = {
    "nobs": "Observations",
    "n_clusters": "Clusters",
    "cov_type": "Std. errors",
    "estimator": "Estimator",
    "r2": "R2",
    "adj_r2": "Adj. R2",
    "within_r2": "Within R2",
    "pseudo_r2": "Pseudo R2",
    "rmse": "RMSE",
    "loglik": "Log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "deviance": "Deviance",
    "alpha": "NB alpha",
}

#: ``stars=True``: symbol -> p-value threshold (a star when p < threshold).
DEFAULT_STARS: dict[str, float] = {"*": 0.1, "**": 0.05, "***": 0.01}

_RATIO_LINKS = {"log": "rate ratios", "logit": "odds ratios"}


@dataclass(frozen=True)
class Cell:
    """One estimate of one term in one model (numbers only).

    ``std_error`` is the delta-method standard error when the estimate is
    exponentiated; ``statistic`` and ``p_value`` always test the coefficient = 0.
    """

    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float


@dataclass(frozen=True)
class GofRow:
    """A row below the estimates: its key, label and one raw value per model (``None``: blank)."""

    key: str
    label: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class TableModel:
    """The neutral table: what to show, as numbers, before any formatting.

    Attributes
    ----------
    model_names
        Column labels, one per model.
    header_rows
        Extra header rows ``(label, one string per model)``, e.g. the dependent variable.
    term_keys
        The original term names, one per body row (after keep/drop/order); a
        row may gather several original names renamed to the same label, in
        which case this is the first of them.
    terms
        The row labels (after ``rename``).
    cells
        ``cells[i][j]``: :class:`Cell` of term ``i`` in model ``j``, ``None`` when
        the model lacks the term.
    gof
        The bottom rows.
    uncertainty, level, stars, exponentiated
        The table-time options, kept for formatting and notes.
    title, notes
        Caption and the user's notes (automatic notes are added when formatting).
    """

    model_names: tuple[str, ...]
    header_rows: tuple[tuple[str, tuple[str, ...]], ...]
    term_keys: tuple[str, ...]
    terms: tuple[str, ...]
    cells: tuple[tuple[Cell | None, ...], ...]
    gof: tuple[GofRow, ...]
    uncertainty: str
    level: float
    stars: tuple[tuple[str, float], ...]
    exponentiated: tuple[bool, ...]
    title: str | None
    notes: tuple[str, ...]


# ------------------------------------------------------------------ validation helpers
def _close(name: str, options: Sequence[str]) -> str:
    return did_you_mean(name, options, style="sentence", n=3)


def _unknown_term(arg: str, name: str, available: Sequence[str]) -> SpecError:
    return SpecError(
        f"{arg}: term {name!r} is not in any model.{_close(name, available)} Available terms: "
        f"{', '.join(map(repr, available))}.")


def _glob(pattern: str) -> re.Pattern[str]:
    """An exact-or-``*`` pattern as a compiled matcher (every other character is literal)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _str_list(arg: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        what = "model names" if arg == "names" else "term names or * patterns"
        raise SpecError(f"{arg} must be a string or a list of strings ({what}); got {value!r}.")
    return list(value)


def resolve_stars(stars: Any) -> tuple[tuple[str, float], ...]:
    """Validate ``stars`` and return ``((symbol, threshold), ...)``, loosest threshold first.

    Examples
    --------
    >>> resolve_stars(True)
    (('*', 0.1), ('**', 0.05), ('***', 0.01))
    >>> resolve_stars({"+": 0.1, "*": 0.05})
    (('+', 0.1), ('*', 0.05))
    >>> resolve_stars(False)
    ()
    """
    if stars is False or stars is None:
        return ()
    if stars is True:
        return tuple(DEFAULT_STARS.items())
    if isinstance(stars, Mapping) and stars:
        out = []
        for sym, thr in stars.items():
            if not isinstance(sym, str) or not sym:
                raise SpecError(f"stars: symbols must be non-empty strings; got {sym!r}.")
            if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not 0 < thr < 1:
                raise SpecError(f"stars: the threshold of {sym!r} must be a number between 0 "
                                f"and 1 (e.g. 0.05); got {thr!r}.")
            out.append((sym, float(thr)))
        out.sort(key=lambda st: -st[1])
        if len({t for _, t in out}) != len(out):
            raise SpecError(f"stars: two symbols share a threshold in {dict(stars)!r}.")
        return tuple(out)
    raise SpecError("stars must be False, True (* p<0.1, ** p<0.05, *** p<0.01) or a "
                    f"non-empty mapping symbol -> threshold such as {{'*': 0.05}}; got {stars!r}.")


def _models(results: Any, names: Any) -> tuple[list[EstimationResults], list[str]]:
    if isinstance(results, Mapping):
        if names is not None:
            raise SpecError("names: the results are a dict, whose keys already name the "
                            "models; pass a list of results to use names=..., or rename the "
                            "dict keys.")
        items = list(results.items())
        if not all(isinstance(k, str) for k, _ in items):
            raise SpecError(f"results: dict keys must be strings (model names); got "
                            f"{[k for k, _ in items]!r}.")
        labels = [k for k, _ in items]
        models = [v for _, v in items]
    elif isinstance(results, EstimationResults):
        models, labels = [results], []
    elif isinstance(results, Sequence) and not isinstance(results, str):
        models, labels = list(results), []
    else:
        raise SpecError("results must be a results object (e.g. from cp.feols), a list of "
                        f"them or a dict name -> results; got {type(results).__name__}.")
    if not models:
        raise SpecError("results: no models given; pass at least one results object.")
    for i, m in enumerate(models):
        if not isinstance(m, EstimationResults):
            raise SpecError(f"results: item {i} is a {type(m).__name__}, not a results object "
                            "(anything with params, std_errors, tidy(), glance(), ...; e.g. "
                            "the output of cp.feols or cp.fepois).")
    if not labels:
        if names is None:
            labels = [f"({i + 1})" for i in range(len(models))]
        else:
            labels = _str_list("names", names)
            if len(labels) != len(models):
                raise SpecError(f"names: got {len(labels)} names for {len(models)} models; give "
                                "one per model.")
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise SpecError(f"names: model names must be unique; {dup!r} repeated in {labels!r}.")
    return models, labels


def _exp_flags(exponentiate: Any, models: list[EstimationResults],
               labels: list[str]) -> tuple[bool, ...]:
    n = len(models)
    if isinstance(exponentiate, bool):
        flags = (exponentiate,) * n
    elif (isinstance(exponentiate, Sequence) and len(exponentiate) == n
          and all(isinstance(v, bool) for v in exponentiate)):
        flags = tuple(exponentiate)
    else:
        raise SpecError(f"exponentiate must be True, False or a list of {n} booleans (one per "
                        f"model); got {exponentiate!r}.")
    for flag, m, lab in zip(flags, models, labels, strict=True):
        if flag and m.spec.get("link") not in _RATIO_LINKS:
            raise SpecError(
                f"exponentiate: model {lab} ({m.estimator}) is not a count or binomial model "
                f"(its link is {m.spec.get('link')!r}); exponentiated coefficients (rate/odds "
                "ratios) are only defined for log-link (cp.fepois, cp.fenegbin) and logit "
                "(cp.febinomial) models. Pass a list such as exponentiate=[False, True] to "
                "exponentiate some models only.")
    return flags


def _fixed_effects(m: EstimationResults) -> list[str]:
    spec = m.spec
    for key in ("fixed_effects", "fe"):
        fe = spec.get(key)
        if isinstance(fe, str):
            return [f.strip() for f in fe.split("+") if f.strip()]
        if isinstance(fe, Sequence) and fe:
            return [str(f) if isinstance(f, str) else "^".join(map(str, f)) for f in fe]
    g = m.glance()
    if "fixed_effects" in g.columns and isinstance(g["fixed_effects"].iloc[0], str):
        return [f.strip() for f in g["fixed_effects"].iloc[0].split("+") if f.strip()]
    return []


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _gof_rows(gof: Any, models: list[EstimationResults]) -> tuple[GofRow, ...]:
    if isinstance(gof, Mapping):
        items = list(gof.items())
    elif isinstance(gof, str):
        items = [(gof, None)]
    elif isinstance(gof, Sequence):
        items = [(k, None) for k in gof]
    else:
        raise SpecError(f"gof must be a list of statistic names or a dict name -> label; "
                        f"got {gof!r}.")
    glances = [m.glance().iloc[0].to_dict() for m in models]
    available = sorted({"nobs", "n_clusters", "cov_type", "fixed_effects"}
                       | {k for g in glances for k in g})
    rows: list[GofRow] = []
    for key, label in items:
        if not isinstance(key, str) or (label is not None and not isinstance(label, str)):
            raise SpecError(f"gof: names and labels must be strings; got {key!r}: {label!r}.")
        if key == "fixed_effects":
            fes = [_fixed_effects(m) for m in models]
            # first-difference models remove the unit effects by differencing
            diffed = [str(m.spec.get("differenced_out") or "") for m in models]
            order: list[str] = []
            for fe in [*fes, [x for x in diffed if x]]:
                order.extend(f for f in fe if f and f not in order)
            for f in order:
                cells = tuple(
                    "Yes" if f in fe else ("Differenced" if f == d else "No")
                    for fe, d in zip(fes, diffed, strict=True)
                )
                rows.append(GofRow(f"fe:{f}", f"{f} FE" if label is None else f"{label}: {f}",
                                   cells))
            continue
        if key not in available:
            if key in DEFAULT_GOF:  # a default statistic that these models do not report
                continue
            raise SpecError(f"gof: no model reports {key!r}.{_close(key, available)} "
                            f"Available: {', '.join(map(repr, available))}.")
        vals: list[Any] = []
        for m, g in zip(models, glances, strict=True):
            if key == "nobs":
                v: Any = m.nobs
            elif key == "n_clusters":
                v = m.n_clusters
            elif key == "cov_type":
                v = m.cov_type
            else:
                v = g.get(key)
            vals.append(None if _blank(v) else v)
        if all(v is None for v in vals):
            continue
        rows.append(GofRow(key, label or GOF_LABELS.get(key, key), tuple(vals)))
    return tuple(rows)


_EVENT_TERM = re.compile(r"event_(lead|lag)(\d+)")


def event_time_of(term: str) -> int | None:
    """The event time of a design's event-time term (``event_lead2`` -> -2), else ``None``.

    >>> event_time_of("event_lead2"), event_time_of("event_lag0"), event_time_of("x")
    (-2, 0, None)
    """
    m = _EVENT_TERM.fullmatch(term)
    if m is None:
        return None
    return -int(m.group(2)) if m.group(1) == "lead" else int(m.group(2))


def _event_order(terms: list[str]) -> list[str]:
    """Designs' terms in reading order: ``ATT`` then the event-time terms by event time, as
    one block where the first of them appears; other terms keep their order."""
    block = [t for t in terms if t == "ATT" or event_time_of(t) is not None]
    if not block:
        return terms
    block.sort(key=lambda t: (t != "ATT", event_time_of(t) or 0))
    at = next(i for i, t in enumerate(terms) if t in block)
    rest = [t for t in terms if t not in block]
    return rest[:at] + block + rest[at:]


def _label(term: str) -> str:
    e = event_time_of(term)
    return term if e is None else f"Event time {e}"


def _select(all_terms: list[str], keep: Any, drop: Any, order: Any) -> list[str]:
    terms = list(all_terms)
    if keep is not None:
        pats = _str_list("keep", keep)
        kept: list[str] = []
        for p in pats:  # keep also orders: terms in the order of the patterns
            rx = _glob(p)
            hits = [t for t in all_terms if rx.fullmatch(t)]
            if not hits:
                raise _unknown_term("keep", p, all_terms)
            kept.extend(t for t in hits if t not in kept)
        terms = kept
    if drop is not None:
        for p in _str_list("drop", drop):
            rx = _glob(p)
            if not any(rx.fullmatch(t) for t in all_terms):
                raise _unknown_term("drop", p, all_terms)
            terms = [t for t in terms if not rx.fullmatch(t)]
    if order is not None:
        first = _str_list("order", order)
        for t in first:
            if t not in all_terms:
                raise _unknown_term("order", t, all_terms)
        terms = [t for t in first if t in terms] + [t for t in terms if t not in first]
    return terms


def _cell(row: pd.Series, exp: bool) -> Cell:
    b, se = float(row["estimate"]), float(row["std_error"])
    lo, hi = float(row["conf_low"]), float(row["conf_high"])
    if exp:
        b, se, lo, hi = math.exp(b), math.exp(b) * se, math.exp(lo), math.exp(hi)
    return Cell(b, se, float(row["statistic"]), float(row["p_value"]), lo, hi)


@takes_table_options
def extract(results: Any, options: TableOptions | None = None, **kwargs: Any) -> TableModel:
    """Validate the options and build the :class:`TableModel` (see :func:`~causalpolicing.report.table`).

    Parameters
    ----------
    results
        As for :func:`~causalpolicing.report.table`.
    options
        The options as one :class:`~.options.TableOptions`; or pass them as
        keyword arguments (not both). ``digits`` is used when formatting.
    {options}

    Examples
    --------
    >>> import pandas as pd
    >>> from causalpolicing.results import BaseResults
    >>> a = BaseResults(params=pd.Series({"x": 1.0}), cov=pd.DataFrame([[1.0]], ["x"], ["x"]),
    ...                 nobs=10, df_inference=None, cov_type="iid", estimator="OLS", spec={})
    >>> b = BaseResults(params=pd.Series({"w": 1.0}), cov=pd.DataFrame([[1.0]], ["w"], ["w"]),
    ...                 nobs=10, df_inference=None, cov_type="iid", estimator="OLS", spec={})
    >>> m = extract({"A": a, "B": b})
    >>> m.terms, m.cells[0][1] is None
    (('x', 'w'), True)
    """
    if options is None:
        options = TableOptions.from_kwargs(kwargs)
    elif not isinstance(options, TableOptions) or kwargs:
        raise SpecError("extract: pass the options as one TableOptions or as keyword arguments, "
                        f"not both; got {type(options).__name__} and {sorted(kwargs)}.")
    o = options
    names, uncertainty, level, stars = o.names, o.uncertainty, o.level, o.stars
    rename, order, keep, drop = o.rename, o.order, o.keep, o.drop
    exponentiate, gof, title, notes = o.exponentiate, o.gof, o.title, o.notes
    models, labels = _models(results, names)
    if uncertainty not in UNCERTAINTIES:
        raise SpecError(f"uncertainty must be one of {', '.join(map(repr, UNCERTAINTIES))} "
                        f"(shown under each estimate); got {uncertainty!r}.")
    level = check_level(level)
    star_spec = resolve_stars(stars)
    exp_flags = _exp_flags(exponentiate, models, labels)
    if title is not None and not isinstance(title, str):
        raise SpecError(f"title must be a string or None; got {title!r}.")
    note_list = [notes] if isinstance(notes, str) else notes
    if not isinstance(note_list, Sequence) or not all(isinstance(n, str) for n in note_list):
        raise SpecError(f"notes must be a string or a list of strings; got {notes!r}.")

    tidies = [m.tidy(level=level).set_index("term") for m in models]
    all_terms: list[str] = []
    for t in tidies:
        all_terms.extend(x for x in t.index if x not in all_terms)
    all_terms = _event_order(all_terms)
    terms = _select(all_terms, keep, drop, order)

    if rename is not None and not isinstance(rename, Mapping):
        raise SpecError(f"rename must be a dict term -> label; got {rename!r}.")
    rename = dict(rename or {})
    for k, v in rename.items():
        if k not in all_terms:
            raise _unknown_term("rename", str(k), all_terms)
        if not isinstance(v, str):
            raise SpecError(f"rename: the label of {k!r} must be a string; got {v!r}.")

    row_labels: list[str] = []
    row_keys: list[str] = []
    row_members: list[list[str]] = []
    for t in terms:
        lab = rename.get(t, _label(t))
        if lab in row_labels:
            row_members[row_labels.index(lab)].append(t)
        else:
            row_labels.append(lab)
            row_keys.append(t)
            row_members.append([t])
    cells: list[tuple[Cell | None, ...]] = []
    for lab, members in zip(row_labels, row_members, strict=True):
        row: list[Cell | None] = []
        for tid, exp, mlab in zip(tidies, exp_flags, labels, strict=True):
            present = [t for t in members if t in tid.index]
            if len(present) > 1:
                raise SpecError(f"rename: terms {present!r} of model {mlab} are all renamed to "
                                f"{lab!r}; one model can show only one of them per row.")
            row.append(_cell(tid.loc[present[0]], exp) if present else None)
        cells.append(tuple(row))

    header: list[tuple[str, tuple[str, ...]]] = []
    depvars = [m.spec.get("depvar") or m.spec.get("outcome") for m in models]
    if any(isinstance(d, str) and d for d in depvars):
        header.append(("Dependent variable",
                       tuple(d if isinstance(d, str) else "" for d in depvars)))
    header.append(("Estimator", tuple(m.estimator for m in models)))
    return TableModel(
        model_names=tuple(labels),
        header_rows=tuple(header),
        term_keys=tuple(row_keys),
        terms=tuple(row_labels),
        cells=tuple(cells),
        gof=_gof_rows(gof, models),
        uncertainty=uncertainty,
        level=float(level),
        stars=star_spec,
        exponentiated=exp_flags,
        title=title,
        notes=tuple(note_list),
    )
