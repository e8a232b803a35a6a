"""The README's examples run as written (docs must not drift from the code).

The first tour block loads a user's own file (``deaths.csv``) and is checked by
replacing that file with a copy of the bundled data; the estimation block runs
as is.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_two_quickstart_commands() -> None:
    quick = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick, flags=re.S)
    assert [c.strip() for c in commands] == [
        "pip install . && causalpolicing analyze --out report",
        'pip install -e ".[dev]" && python -m pytest',
    ]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[dev]" && python -m pytest' in ci


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda i: f"block{i}")
def test_readme_python_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import causalpolicing as cp

    code = BLOCKS[index]
    if "deaths.csv" in code:  # the tour's own-file example: give it a file to read
        frame = cp.datasets.load("simulated_cantons").to_frame()
        frame["year"] = frame["year"].astype(str)
        frame.to_csv(tmp_path / "deaths.csv", index=False)
        edges = [(u, v) for u, nbs in cp.datasets.load("simulated_cantons").neighbours.items()
                 for v in nbs]
        pd.DataFrame(edges, columns=["canton", "neighbour"]).to_csv(
            tmp_path / "canton_borders.csv", index=False)
    monkeypatch.chdir(tmp_path)  # files the examples write (e.g. a report) land here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cp.exceptions.FewClustersWarning)
        namespace = {"__name__": "__readme__", "cp": cp}  # later blocks continue the first
        exec(compile(code, f"README block {index}", "exec"), namespace)  # noqa: S102
