"""The ``reproduce`` command of the CLI (placeholder; being built)."""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add the ``reproduce`` command to the Typer ``app`` (nothing yet)."""
