"""Start-up of the command line: ``--help`` and ``--version`` import no heavy library.

Timings are not asserted (they depend on the machine); what is imported is. The
measured times are in ``benchmarks/README.md`` ("CLI start-up").
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import causalpolicing

HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "seaborn", "dowhy", "statsmodels", "pyarrow")

PROBE = """
import sys
from causalpolicing.cli import main
code = main({argv!r})
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def _probe(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE.format(argv=argv, heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120)


def _heavy(res: subprocess.CompletedProcess[str]) -> list[str]:
    line = [x for x in res.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, res.stderr
    return [m for m in line[-1].removeprefix("HEAVY=").split(",") if m]


def test_import_causalpolicing_loads_no_heavy_library() -> None:
    code = ("import sys, causalpolicing; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""


@pytest.mark.parametrize("argv", [["--help"], ["analyze", "--help"], ["validate", "--help"],
                                  ["reproduce", "--help"], ["table", "--help"], ["--version"]],
                         ids=["help", "analyze-help", "validate-help", "reproduce-help",
                              "table-help", "version"])
def test_help_and_version_import_no_heavy_library(argv: list[str]) -> None:
    res = _probe(argv)
    assert res.returncode == 0, res.stderr
    assert _heavy(res) == []


def test_version_prints_the_package_version() -> None:
    res = subprocess.run([sys.executable, "-m", "causalpolicing", "--version"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"causalpolicing {causalpolicing.__version__}"


def test_lazy_exports_stay_consistent() -> None:
    assert set(causalpolicing.__all__) <= set(dir(causalpolicing))
    assert causalpolicing.load_panel.__name__ == "load_panel"
    assert causalpolicing.Panel.__name__ == "Panel"
    from causalpolicing import Panel, load_panel

    assert Panel is causalpolicing.data.Panel
    assert load_panel is causalpolicing.data.load_panel
