"""The runners record the warnings about the analysis, not other libraries' deprecations.

With the oldest matplotlib allowed and a newer pyparsing, matplotlib logged the
pyparsing deprecation notices it caught while reading its style files, because the
runner recorded every warning with the "always" filter: eight lines in the middle of
the progress output.
"""

from __future__ import annotations

import warnings

import causalpolicing as cp
from causalpolicing._warnings import record_warnings
from causalpolicing.analysis import run as run_module

FAST = {"data": {"dataset": "nc_crime"},
        "models": [{"name": "within", "estimator": "feols",
                    "formula": "lcrmrte ~ lprbarr | county + year", "vcov": "hetero"}],
        "diagnostics": {"feedback": False}, "report": {"figures": []}}


def test_other_libraries_deprecations_are_not_recorded() -> None:
    with record_warnings() as caught:
        warnings.warn_explicit("'parseString' deprecated", DeprecationWarning, "core.py", 1,
                               module="matplotlib.style.core")
        warnings.warn_explicit("soon", PendingDeprecationWarning, "x.py", 1, module="pandas")
        warnings.warn_explicit("ours", DeprecationWarning, "run.py", 1,
                               module="causalpolicing.analysis.run")
        warnings.warn("data problem", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["ours", "data problem"]


def test_analysis_lists_its_own_warnings_not_library_deprecations(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    original = run_module._diagnostics

    def noisy(*args, **kwargs):  # type: ignore[no-untyped-def]
        warnings.warn_explicit("'resetCache' deprecated", DeprecationWarning, "core.py", 1,
                               module="matplotlib.style.core")
        warnings.warn("a caveat about the data", UserWarning, stacklevel=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(run_module, "_diagnostics", noisy)
    result = cp.analyze(FAST)
    assert any("a caveat about the data" in m for m in result.warnings)
    assert not any("deprecated" in m for m in result.warnings)
