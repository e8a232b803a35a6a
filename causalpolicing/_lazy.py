"""One way for a package to declare its public names and import them on first use.

Every ``__init__.py`` of causalpolicing lists its public names in ``__all__`` and
builds its module ``__getattr__`` and ``__dir__`` with :func:`lazy_exports`, so that

* ``import causalpolicing`` stays fast (pandas, scipy and the plotting stack load
  only when a name that needs them is first used);
* ``__all__`` is the public surface and ``dir(package)`` shows exactly it (plus
  dunder and private names): a helper imported for the package's own use
  (``annotations``, ``Any``, a submodule bound by an eager import) is not listed;
* every name in ``__all__`` resolves.

Examples
--------
>>> import types, sys
>>> pkg = types.ModuleType("demo_pkg")
>>> pkg.__path__ = []
>>> sys.modules["demo_pkg"] = pkg
>>> pkg.__all__ = ["dumps", "here", "path"]
>>> pkg.here = 1
>>> pkg.__getattr__, pkg.__dir__ = lazy_exports(
...     "demo_pkg", pkg.__all__, {"dumps": "json", "path": "os"})
>>> pkg.dumps([1])
'[1]'
>>> [n for n in dir(pkg) if not n.startswith("_")]
['dumps', 'here', 'path']
>>> pkg.nope
Traceback (most recent call last):
...
AttributeError: module 'demo_pkg' has no attribute 'nope'
>>> del sys.modules["demo_pkg"]
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    public: Iterable[str],
    lazy: Mapping[str, str] | None = None,
    *,
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package named ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    public
        The package's ``__all__``: every public name, whether the ``__init__``
        imports it itself or it is listed in ``lazy`` or ``submodules``.
    lazy
        Public name -> the module that defines it, relative to ``package``
        (``".lags"``) or absolute (``"json"``); imported on first access and then
        cached in the package's namespace.
    submodules
        Public submodules imported on first access (``"plots"`` -> ``package.plots``).

    Returns
    -------
    tuple
        ``__getattr__`` (the lazy import; ``AttributeError`` for anything else) and
        ``__dir__`` (``public`` plus the dunder and private names).

    Raises
    ------
    ValueError
        A lazy name or submodule missing from ``public`` (a programming error,
        raised when the package is imported).
    """
    table = dict(lazy or {})
    subs = frozenset(submodules)
    names = sorted(set(public))
    missing = sorted((set(table) | subs) - set(names))
    if missing:
        raise ValueError(f"{package}: lazy names {missing} are missing from __all__; add them.")

    def __getattr__(name: str) -> object:
        if name in subs:
            return importlib.import_module(f".{name}", package)
        if name in table:
            module = importlib.import_module(table[name], package)
            value = getattr(module, name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        private = [n for n in vars(sys.modules[package]) if n.startswith("_")]
        return sorted({*names, *private})

    return __getattr__, __dir__
