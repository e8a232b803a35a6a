r"""The one escaping rule of every Markdown the package writes.

Text that comes from the user (model names, titles, column names, study titles,
warnings) is put into Markdown by ``report.md``, the Markdown estimates tables
(:meth:`causalpolicing.report.Table.to_markdown`) and ``causalpolicing reproduce
--format markdown``. Markdown passes raw HTML through to the page, so every
renderer escapes such text with :func:`md_escape` (running text) or
:func:`md_cell` (a pipe-table cell):

* ``&``, ``<`` and ``>`` become the HTML entities ``&amp;``, ``&lt;`` and ``&gt;``
  (a backslash is not enough: Python-Markdown, for one, does not treat ``\<`` as
  an escape and would pass ``<script>`` through), so no tag or entity of the
  input reaches the page as markup, exactly as in the HTML report;
* Markdown's own metacharacters ``\ ` * _ | #`` are backslash-escaped, so
  ``a_b_c`` is not italic and ``|`` does not split a table cell; brackets are
  escaped only where they could make a link (text with ``](``, ``][`` or ``]:``),
  so a confidence interval ``[1.03, 1.09]`` stays as written while
  ``[x](javascript:...)`` is never a link;
* in a cell, line breaks become spaces (a newline would end the table row).

Every Markdown renderer reads the entities back as the original characters.

Examples
--------
>>> md_escape("<script>alert(1)</script>|x")
'&lt;script&gt;alert(1)&lt;/script&gt;\\|x'
>>> md_escape("R&D *c* [d] a_b #1")
'R&amp;D \\*c\\* [d] a\\_b \\#1'
>>> md_escape("[click](javascript:alert(1))")
'\\[click\\](javascript:alert(1))'
>>> md_cell("two\nlines | here")
'two lines \\| here'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["md_escape", "md_cell"]

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MD_SPECIAL = re.compile(r"([\\`*_|#])")
_BRACKETS = re.compile(r"([\[\]])")
_LINKISH = re.compile(r"\]\s*[(\[:]")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def md_escape(text: Any) -> str:
    """``text`` (any object, via ``str``) safe for Markdown running text (see the module
    docstring): HTML entities for ``& < >``, backslashes before ``\\ ` * _ | #``, and
    before brackets when the text has a link's shape."""
    out = _MD_SPECIAL.sub(r"\\\1", str(text).translate(_ENTITIES))
    return _BRACKETS.sub(r"\\\1", out) if _LINKISH.search(out) else out


def md_cell(text: Any) -> str:
    """:func:`md_escape` for one cell of a pipe table: line breaks become spaces too."""
    return _NEWLINES.sub(" ", md_escape(text))
