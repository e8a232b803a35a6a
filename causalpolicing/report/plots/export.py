"""Saving figures as PNG or SVG files, and as ``data:`` URIs for the self-contained HTML report.

Output is reproducible: PNG and SVG carry no creation date and SVG element ids
use a fixed salt, so the same figure gives the same bytes on every run.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from ...exceptions import SpecError

__all__ = ["save_figure", "figure_to_data_uri", "FORMATS"]

#: Supported formats and their MIME types.
FORMATS: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
_METADATA: dict[str, dict[str, Any]] = {"png": {"Software": None},
                                        "svg": {"Date": None, "Creator": None}}


def _check_figure(fig: Any) -> Figure:
    if not isinstance(fig, Figure):
        raise SpecError(f"fig must be a matplotlib Figure (as returned by the plot functions); "
                        f"got {type(fig).__name__}.")
    return fig


def _check_format(fmt: Any, param: str = "format") -> str:
    if not isinstance(fmt, str) or fmt.lower().lstrip(".") not in FORMATS:
        raise SpecError(f"{param} must be one of {list(FORMATS)}; got {fmt!r}. Figures are saved "
                        "as PNG (raster) or SVG (vector).")
    return fmt.lower().lstrip(".")


def _write(fig: Figure, target: Any, fmt: str, dpi: float) -> None:
    with mpl.rc_context({"svg.hashsalt": "causalpolicing", "svg.fonttype": "path"}):
        fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_METADATA[fmt])


def _check_dpi(dpi: Any) -> float:
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 10 <= dpi <= 1200:
        raise SpecError(f"dpi must be a number between 10 and 1200; got {dpi!r}.")
    return float(dpi)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, format: str | None = None,
                dpi: float = 150) -> Path:
    """Save ``fig`` as PNG or SVG and return the path written.

    Parameters
    ----------
    fig
        The figure (from any plot function of :mod:`causalpolicing.report.plots`).
    path
        File to write. Its extension (``.png``/``.svg``) chooses the format unless
        ``format`` is given; the folder must exist.
    format
        ``"png"`` or ``"svg"``. When given and the path has an extension, the two must agree.
    dpi
        Resolution of PNG output (SVG is resolution-free).

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    SpecError
        For another format or extension, a format that contradicts the extension,
        or a ``dpi`` outside 10-1200.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> from causalpolicing.report.plots import save_figure
    >>> fig = Figure(figsize=(2, 2)); _ = fig.add_subplot().plot([0, 1], [0, 1])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = save_figure(fig, pathlib.Path(tmp) / "line.svg")
    ...     out.suffix, out.read_text()[:200].count("<svg")
    ('.svg', 1)
    """
    fig = _check_figure(fig)
    p = Path(os.fspath(path))
    suffix = p.suffix.lower().lstrip(".")
    if format is None:
        if not suffix:
            raise SpecError(f"path {str(p)!r} has no extension; name the file '.png' or '.svg', "
                            "or pass format='png' or format='svg'.")
        fmt = _check_format(suffix, "the extension of path")
    else:
        fmt = _check_format(format)
        if suffix and suffix != fmt:
            raise SpecError(f"format={format!r} contradicts the extension of path {str(p)!r}; "
                            f"use a '.{fmt}' file name or leave format out.")
    dpi = _check_dpi(dpi)
    if not p.parent.is_dir():
        raise SpecError(f"The folder {str(p.parent)!r} does not exist; create it first.")
    _write(fig, p, fmt, dpi)
    return p


def figure_to_data_uri(fig: Figure, format: str = "png", *, dpi: float = 150) -> str:
    """``fig`` as a base64 ``data:`` URI, for embedding in a self-contained HTML page.

    Parameters
    ----------
    fig
        The figure.
    format
        ``"png"`` (``data:image/png;base64,...``) or ``"svg"``
        (``data:image/svg+xml;base64,...``).
    dpi
        Resolution of PNG output.

    Returns
    -------
    str
        The URI, usable as ``<img src="...">``.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from causalpolicing.report.plots import figure_to_data_uri
    >>> fig = Figure(figsize=(2, 2)); _ = fig.add_subplot().plot([0, 1], [0, 1])
    >>> figure_to_data_uri(fig)[:22]
    'data:image/png;base64,'
    """
    fig = _check_figure(fig)
    fmt = _check_format(format)
    dpi = _check_dpi(dpi)
    buf = io.BytesIO()
    _write(fig, buf, fmt, dpi)
    return f"data:{FORMATS[fmt]};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"
