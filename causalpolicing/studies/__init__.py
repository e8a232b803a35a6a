"""Reproducing published estimates: a catalogue of studies declared in files.

A *study file* (TOML; schema in ``docs/studies.md``) declares a published study: the
citation, the data (a bundled dataset or a file), the variable construction and
sample restriction in a safe expression language, the models, and the published
numbers as printed. :func:`reproduce` runs it and returns a
:class:`~causalpolicing.studies.comparison.Comparison` of published and reproduced
numbers, matched at the published rounding.

* :func:`list_studies` -- the catalogue shipped with the package.
* :func:`load_study` -- a study by catalogue id or from your own ``.toml`` file.
* :func:`reproduce` -- run it; ``data=`` supplies data (required for studies whose
  data are not public, status ``"needs data"``).

The command line: ``causalpolicing reproduce --list``, ``causalpolicing reproduce
cornwell_trumbull``, ``causalpolicing reproduce --all``, ``causalpolicing reproduce
--study my_study.toml --format markdown``.

Examples
--------
>>> import causalpolicing.studies as st
>>> cmp = st.reproduce("castle_mixtape")
>>> cmp.all_match, cmp.table.loc[0, "printed"]
(True, '0.081812')
"""

from .._lazy import lazy_exports as _lazy_exports

__all__ = [
    "Comparison",
    "ExpressionError",
    "Study",
    "StudyError",
    "catalogue_dir",
    "list_studies",
    "load_study",
    "reproduce",
]

# Loaded on first use so that the command line (which imports this package to register
# its `reproduce` command) stays fast.
_LAZY: dict[str, str] = {
    "Comparison": ".comparison",
    "ExpressionError": ".expressions",
    "Study": ".schema",
    "StudyError": ".schema",
    "catalogue_dir": ".runner",
    "list_studies": ".runner",
    "load_study": ".runner",
    "reproduce": ".runner",
}

__getattr__, __dir__ = _lazy_exports(__name__, __all__, _LAZY)
