"""Figures for the report: a matplotlib figure -> PNG or SVG bytes, a file name and a data URI.

Rendering happens once, when the report is built, so the report does not keep
the figure objects (and later changes to them do not change the report). SVG
output is made deterministic (no date, a fixed id salt); PNG output of the same
figure is byte-identical across runs with the same matplotlib.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots(figsize=(2, 1.5))
>>> _ = ax.plot([0, 1], [0, 1])
>>> f = render_figure(fig, "Deaths & offences, 1975-2007", 1, "png", dpi=50)
>>> f.filename, f.media_type, f.data_uri.startswith("data:image/png;base64,")
('figures/01-deaths-offences-1975-2007.png', 'image/png', True)
>>> plt.close(fig)
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Literal

from ...exceptions import SpecError

__all__ = ["ReportFigure", "render_figure", "slugify", "FIGURE_FORMATS"]

FIGURE_FORMATS = ("png", "svg")
_MEDIA = {"png": "image/png", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class ReportFigure:
    """One rendered figure.

    Attributes
    ----------
    caption
        The caption given.
    filename
        Path relative to the report, ``figures/NN-slug.png`` (or ``.svg``).
    media_type
        ``image/png`` or ``image/svg+xml``.
    data
        The image file's bytes.
    width_in
        The rendered width in inches (after the tight bounding box), when known.
    """

    caption: str
    filename: str
    media_type: str
    data: bytes
    width_in: float | None = None

    @property
    def min_width_px(self) -> int | None:
        """The narrowest the figure may be shown (CSS px) with its text still legible:
        50 px per inch of figure (10-12 pt text at 7-8 px or more), for figures wider
        than a phone (390 px) at that scale; ``None`` for the others, which shrink to
        fit. A wide figure then scrolls sideways on a phone rather than shrinking its
        text to nothing (the report wraps every figure in a scrolling box)."""
        if self.width_in is None:
            return None
        px = round(50 * self.width_in)
        return px if px > 390 else None

    @property
    def data_uri(self) -> str:
        """``data:<media type>;base64,...`` for embedding."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


def slugify(text: str, max_length: int = 100) -> str:
    """A file-name-safe slug: ASCII lowercase words joined by ``-`` (``"figure"`` if empty).

    >>> slugify("Rate ratio: offences per 1,000 (Zürich)")
    'rate-ratio-offences-per-1-000-zurich'
    """
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "figure"


def render_figure(fig: Any, caption: str, number: int, fmt: Literal["png", "svg"] = "png", *,
                  dpi: int = 144) -> ReportFigure:
    """Render ``fig`` (anything with matplotlib's ``savefig``) to bytes.

    Parameters
    ----------
    fig
        A :class:`matplotlib.figure.Figure` (seaborn grids work too).
    caption
        Its caption (also gives the file name's slug).
    number
        Its position (1-based) in the report: ``figures/01-...``.
    fmt
        ``"png"`` or ``"svg"``.
    dpi
        Resolution of PNG output.
    """
    if not isinstance(caption, str) or not caption.strip():
        raise SpecError(f"Figure captions must be non-empty strings; got {caption!r}.")
    savefig = getattr(fig, "savefig", None)
    if not callable(savefig):
        raise SpecError(f"The figure {caption!r} must be a matplotlib Figure (anything with "
                        f"savefig); got {type(fig).__name__}. Pass {{caption: fig}}.")
    if fmt not in FIGURE_FORMATS:
        raise SpecError(f"figure_format must be one of {list(FIGURE_FORMATS)}; got {fmt!r}.")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 10 <= dpi <= 1200:
        raise SpecError(f"figure_dpi must be an integer between 10 and 1200; got {dpi!r}.")
    import matplotlib

    buf = BytesIO()
    if fmt == "svg":
        with matplotlib.rc_context({"svg.hashsalt": "causalpolicing"}):
            savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    else:
        savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = buf.getvalue()
    return ReportFigure(caption=caption, filename=f"figures/{number:02d}-{slugify(caption)}.{fmt}",
                        media_type=_MEDIA[fmt], data=data, width_in=_width_in(data, fmt, dpi))


def _width_in(data: bytes, fmt: str, dpi: int) -> float | None:
    """Width of the rendered image in inches: PNG header pixels / dpi, or SVG points / 72."""
    if fmt == "png" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big") / dpi
    match = re.search(rb'<svg[^>]*\swidth="([0-9.]+)pt"', data[:2000])
    return float(match.group(1)) / 72 if match else None
