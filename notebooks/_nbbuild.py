"""Shared by the notebook builders (`_build_05.py`, `_build_06.py`): write and execute one.

A builder lists its cells as ``("md" | "code", source)`` and calls :func:`build`; the
notebook is executed with nbclient (``CAUSALPOLICING_SMALL=1``, as tests/test_notebooks.py
does) and stored with its outputs; ``--no-execute`` writes it without outputs.
"""

import os
from pathlib import Path

import nbformat as nbf


def build(cells: list[tuple[str, str]], target: Path, argv: list[str]) -> int:
    """Write the notebook ``target`` from ``cells`` (executed unless ``--no-execute``)."""
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                for kind, src in cells]
    if "--no-execute" not in argv:
        from nbclient import NotebookClient

        os.environ["CAUSALPOLICING_SMALL"] = "1"
        os.environ.setdefault("MPLBACKEND", "Agg")
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(target.parent)}}).execute()
    nbf.write(nb, target)
    print(f"wrote {target}")
    return 0
