"""The jinja2 environment of the report: templates from the package, two filters.

Templates live in ``causalpolicing/report/templates`` (package data) and are
loaded with a :class:`jinja2.PackageLoader`; nothing is fetched from the
network. HTML templates (``*.html.j2``) are autoescaped; the Markdown template
escapes its text with the ``md`` filter (table cells with ``mdcell``), the rule of
:mod:`causalpolicing.report.markdown_escape` that every Markdown output follows.

Examples
--------
>>> md_escape("a_b *c* [d](e) <e> | #")
'a\\\\_b \\\\*c\\\\* \\\\[d\\\\](e) &lt;e&gt; \\\\| \\\\#'
>>> fence_for("no backticks"), fence_for("a ``` b")
('```', '````')
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2

from ..markdown_escape import md_cell, md_escape

__all__ = ["environment", "render", "md_escape", "fence_for", "tidy_markdown"]


def fence_for(text: Any) -> str:
    """A backtick fence longer than any run of backticks in ``text`` (at least three)."""
    runs = [len(m) for m in re.findall(r"`+", str(text))]
    return "`" * max(3, max(runs, default=0) + 1)


def tidy_markdown(text: str) -> str:
    """Collapse runs of blank lines outside fenced code blocks; end with one newline."""
    out: list[str] = []
    fence: str | None = None
    blank = 0
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            m = re.match(r"^(`{3,})", stripped)
            if m:
                fence = m.group(1)
            if not stripped:
                blank += 1
                if blank > 1:
                    continue
            else:
                blank = 0
            out.append(line.rstrip())
        else:
            out.append(line)
            if stripped == fence:
                fence = None
            blank = 0
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared environment (autoescape for ``.html.j2``, strict undefined)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("causalpolicing.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True, default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["mdcell"] = md_cell
    env.filters["fence"] = fence_for
    return env


def render(template: str, context: dict[str, Any]) -> str:
    """Render one of the package's templates with ``context``."""
    return environment().get_template(template).render(**context)
