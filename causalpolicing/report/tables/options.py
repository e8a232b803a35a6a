"""The table-time options of :func:`~causalpolicing.report.table`, declared and documented once.

:class:`TableOptions` is the one declaration: its fields are the keyword
arguments of :func:`~causalpolicing.report.table` and of
:func:`~causalpolicing.report.tables.extract.extract`, its docstring documents
them, and :func:`takes_table_options` gives both functions the fields as their
visible signature (``help(cp.table)``, ``inspect.signature``) and docstring.
Validation against the models happens in :mod:`.extract` (and ``digits`` in
:mod:`.format`).

Examples
--------
>>> TableOptions(stars=True).uncertainty
'se'
>>> TableOptions.from_kwargs({"star": True})
Traceback (most recent call last):
...
causalpolicing.exceptions.SpecError: Unknown table option 'star' (did you mean 'stars'?); the options are names, uncertainty, level, stars, digits, rename, order, keep, drop, exponentiate, gof, title, notes.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..._hints import did_you_mean
from ...exceptions import SpecError

__all__ = ["DEFAULT_GOF", "OPTIONS_DOC", "TableOptions", "takes_table_options"]

#: The rows shown below the estimates by default (those blank for every model are left out).
DEFAULT_GOF: tuple[str, ...] = ("nobs", "n_clusters", "fixed_effects", "cov_type", "r2",
                                "within_r2", "pseudo_r2")

#: The numpydoc entries of the options, shared by every function that takes them.
OPTIONS_DOC = """\
names
    Column labels for a list of results (default ``"(1)", "(2)", ...``).
uncertainty
    What is shown under each estimate: ``"se"`` (standard error, in
    parentheses), ``"ci"`` (confidence interval at ``level``, in brackets),
    ``"t"`` (t statistic) or ``"p"`` (p-value).
level
    Confidence level of ``"ci"`` (between 0 and 1).
stars
    ``False`` (none), ``True`` (``*`` p < 0.1, ``**`` p < 0.05, ``***`` p <
    0.01) or a mapping ``{symbol: threshold}``; a symbol is shown when p is
    strictly below its threshold. A note explains the thresholds.
digits
    Decimals of estimates, uncertainty and fit statistics.
rename
    ``{term: label}``. Terms renamed to the same label share a row (e.g. the
    treatment called differently in two models).
order
    Terms to show first, in this order; the others follow in their order of
    appearance.
keep, drop
    Terms to keep / drop: exact names or globs where ``*`` matches anything
    (e.g. ``"year*"``); ``keep`` also orders the rows by pattern.
exponentiate
    ``True`` shows rate ratios (log-link count models) or odds ratios (logit
    models) per 1-unit change: estimates and interval ends exponentiated, the
    standard error by the delta method (``exp(b) * se(b)``), p-values
    unchanged (they test a ratio of 1). Only for count/binomial models; a list
    of booleans chooses per model.
gof
    Rows below the estimates, from each model's ``glance()`` plus
    ``"nobs"``, ``"n_clusters"``, ``"cov_type"`` and ``"fixed_effects"``
    (one Yes/No row per fixed effect, read from the model's ``spec``). A dict
    ``{name: label}`` sets labels. Models lacking a statistic show a blank;
    rows blank for every model are left out.
title
    Caption.
notes
    Extra notes, after the automatic ones."""


@dataclass(frozen=True, kw_only=True)
class TableOptions:
    """The options of a regression table (the keyword arguments of ``cp.table``).

    Parameters
    ----------
    {options}
    """

    names: Sequence[str] | None = None
    uncertainty: str = "se"
    level: float = 0.95
    stars: bool | Mapping[str, float] = False
    digits: int = 3
    rename: Mapping[str, str] | None = None
    order: Sequence[str] | None = None
    keep: str | Sequence[str] | None = None
    drop: str | Sequence[str] | None = None
    exponentiate: bool | Sequence[bool] = False
    gof: Sequence[str] | Mapping[str, str] = DEFAULT_GOF
    title: str | None = None
    notes: str | Sequence[str] = ()

    @classmethod
    def from_kwargs(cls, options: Mapping[str, Any]) -> TableOptions:
        """The options from keyword arguments; an unknown name raises a :class:`SpecError`."""
        fields = [f.name for f in dataclasses.fields(cls)]
        for key in options:
            if key not in fields:
                raise SpecError(f"Unknown table option {key!r}{did_you_mean(str(key), fields)}; "
                                f"the options are {', '.join(fields)}.")
        return cls(**options)


def _indented_doc(indent: str) -> str:
    return textwrap.indent(OPTIONS_DOC, indent).lstrip()


TableOptions.__doc__ = (TableOptions.__doc__ or "").replace("{options}", _indented_doc("    "))

_F = TypeVar("_F", bound=Callable[..., Any])


def takes_table_options(func: _F) -> _F:
    """Give ``func(results, ..., **options)`` the options as its signature and docstring.

    The keyword-only parameters of :class:`TableOptions` replace ``**options`` in
    ``inspect.signature(func)``; ``{options}`` in the docstring becomes
    :data:`OPTIONS_DOC`.
    """
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default,
                                 annotation=f.type)
               for f in dataclasses.fields(TableOptions)]
    func.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    if func.__doc__:
        func.__doc__ = func.__doc__.replace("{options}", _indented_doc("    "))
    return func
