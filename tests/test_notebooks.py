"""Every notebook in notebooks/ is executed, top to bottom, on small settings.

A notebook reads the environment variable ``CAUSALPOLICING_SMALL=1`` to use small
settings (fewer bootstrap draws, etc.); any cell error fails the test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_every_numbered_notebook_is_collected() -> None:
    stems = [p.stem[:2] for p in NOTEBOOKS]
    assert stems[:2] == ["01", "02"]
    assert stems == [f"{i:02d}" for i in range(1, len(stems) + 1)], stems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUSALPOLICING_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        out for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if out.get("output_type") == "error"
    ]
    assert errors == []
