"""Progress of an analysis on stderr: one line per step, sub-steps inside the long ones.

:func:`~causalpolicing.analysis.analyze` reports what it is doing in one of three
modes (``progress=`` of ``analyze``, ``--progress/--no-progress`` of the CLI):

``"off"``
    Nothing (the Python API's default).
``"lines"``
    One line per step on stderr, e.g. ``[3/9] fitting fepois ... done in 1.2 s``,
    and an indented line per sub-step of the long steps (each refuter and the
    implication tests of the causal checks, each figure drawn and rendered, each
    kind of output written). Plain text that a log file or CI keeps: the mode
    when stderr is not a terminal.
``"bars"``
    The same step lines; sub-step lines are printed whole when they start (no
    duration), so that the progress bars of the draw loops inside them
    (bootstraps, refuters, mediation) start on a line of their own: the mode on
    a terminal.

``progress=True`` means "bars on a terminal, lines otherwise" (what the CLI does
unless ``--no-progress``); ``False`` or ``None`` is ``"off"``.

Examples
--------
>>> import io
>>> log = StepLog("lines", total=2, stream=io.StringIO(), clock=iter(range(100)).__next__)
>>> log.step("fitting within")
>>> log.step("causal checks")
>>> log.sub("refuter placebo_permutation")
>>> log.close()
>>> print(log.stream.getvalue(), end="")
[1/2] fitting within ... done in 1.0 s
[2/2] causal checks ...
      refuter placebo_permutation ... done in 1.0 s
[2/2] causal checks ... done in 3.0 s
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Literal

from ..exceptions import SpecError

__all__ = ["StepLog", "resolve_mode", "Mode", "AnnouncedFigures", "AnnouncedModule"]

Mode = Literal["off", "lines", "bars"]
_MODES = ("off", "lines", "bars")


def resolve_mode(progress: bool | str | None, stream: IO[str] | None = None) -> Mode:
    """The mode for ``progress`` (see the module docstring); ``True`` looks at ``stream``.

    Examples
    --------
    >>> import io
    >>> resolve_mode(True, io.StringIO()), resolve_mode(False), resolve_mode("bars")
    ('lines', 'off', 'bars')
    """
    if progress is None or progress is False:
        return "off"
    if progress is True:
        stream = sys.stderr if stream is None else stream
        isatty = getattr(stream, "isatty", None)
        return "bars" if callable(isatty) and isatty() else "lines"
    if isinstance(progress, str) and progress in _MODES:
        return progress  # type: ignore[return-value]
    raise SpecError(f"progress must be True (bars on a terminal, step lines otherwise), False, "
                    f"or one of {', '.join(map(repr, _MODES))}; got {progress!r}.")


class StepLog:
    """Numbered step lines and indented sub-step lines, each closed with its duration.

    A step or sub-step prints its line when it starts (without a newline) and
    adds ``done in X s`` when the next one starts; if other lines came in
    between, the closing line repeats the text. Nothing is printed in mode
    ``"off"``.
    """

    def __init__(self, mode: Mode, total: int, *, stream: IO[str] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.mode = mode
        self.stream = sys.stderr if stream is None else stream
        self._clock = clock
        self.total = total
        self._done = 0
        self._step: tuple[str, float] | None = None   # text, start
        self._sub: tuple[str, float] | None = None
        self._open = False                             # a line awaits its end

    def now(self) -> float:
        """The log's clock (for ``step(..., since=)``)."""
        return self._clock()

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _break(self) -> None:
        if self._open:
            self._write("\n")
            self._open = False

    def _finish(self, head: str, verdict: str) -> None:
        self._write(f" {verdict}\n" if self._open else f"{head} ... {verdict}\n")
        self._open = False

    def _end_sub(self, verdict: str | None = None) -> None:
        if self._sub is None:
            return
        text, start = self._sub
        self._sub = None
        if self.mode == "bars":  # its line is out already; the step line closes the group
            return
        self._finish(f"      {text}", verdict or f"done in {self._clock() - start:.1f} s")

    def _end_step(self, verdict: str | None = None) -> None:
        self._end_sub(verdict)
        if self._step is None:
            return
        text, start = self._step
        self._step = None
        self._finish(f"[{self._done}/{self.total}] {text}",
                     verdict or f"done in {self._clock() - start:.1f} s")

    def step(self, text: str, *, since: float | None = None) -> None:
        """Close the current step and start the next one (``since``: when it began, on
        this log's clock, for a step announced after the fact)."""
        if not self.enabled:
            return
        self._end_step()
        self._done += 1
        self.total = max(self.total, self._done)
        self._step = (text, self._clock() if since is None else since)
        self._write(f"[{self._done}/{self.total}] {text} ...")
        self._open = True

    def sub(self, text: str) -> None:
        """Close the current sub-step and start the next one (inside the current step)."""
        if not self.enabled:
            return
        self._end_sub()
        self._break()
        self._sub = (text, self._clock())
        if self.mode == "bars":  # a whole line: a progress bar may follow
            self._write(f"      {text} ...\n")
            return
        self._write(f"      {text} ...")
        self._open = True

    @property
    def bars(self) -> bool:
        """Whether draw loops show their progress bars (mode ``"bars"``)."""
        return self.mode == "bars"

    def close(self) -> None:
        """Close the current step (the run finished)."""
        if self.enabled:
            self._end_step()

    def fail(self, exc: BaseException) -> None:
        """Close the current step as failed (the run stops with ``exc``)."""
        if self.enabled:
            word = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self._end_step(word)


class AnnouncedFigures(Mapping[str, Any]):
    """Caption -> figure, announcing each caption (a sub-step) as iteration reaches it.

    The report renders its figures while it iterates over them, so each figure's
    rendering is one sub-step; the figures themselves are passed unchanged.
    """

    def __init__(self, figures: Mapping[str, Any], note: Callable[[str], None]) -> None:
        self._figures = dict(figures)
        self._note = note

    def __getitem__(self, caption: str) -> Any:
        return self._figures[caption]

    def __iter__(self) -> Iterator[str]:
        for caption in self._figures:
            self._note(f"rendering figure: {caption}")
            yield caption

    def __len__(self) -> int:
        return len(self._figures)


class AnnouncedModule:
    """A module whose ``*_plot`` functions first announce a sub-step (drawing a figure)."""

    def __init__(self, module: Any, note: Callable[[str], None]) -> None:
        self._module = module
        self._note = note

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        if not (callable(attr) and name.endswith("_plot")):
            return attr
        label = name[: -len("_plot")].replace("_", " ")

        def announced(*args: Any, **kwargs: Any) -> Any:
            self._note(f"drawing figure: {label}")
            return attr(*args, **kwargs)

        return announced
