"""Progress over a known number of steps: a bar redrawn in place on a terminal, plain lines otherwise.

    progress = Progress(len(paths))
    for path in paths:
        progress.start(path.stem)        # [3/8] 03_policy_gradient ...
        ...
        progress.done("12 verdicts, 4.1 s")

On a terminal, `start` draws `[####....] 3/8 03_policy_gradient ...` over the previous bar and
`done` replaces the bar with the finished step's line. Elsewhere (CI logs, pipes) each step is one
plain line, `[3/8] 03_policy_gradient ... 12 verdicts, 4.1 s`, its first half flushed at the start
so that a step that hangs shows which one.
"""

from __future__ import annotations

import sys
from typing import TextIO

_CLEAR = "\r\x1b[K"  # back to the start of the line, erase it


class Progress:
    """Steps 1..total of a long command, shown on `stream` (default: standard output)."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 20):
        if total < 0:
            raise ValueError(f"total: expected a number of steps >= 0, got {total}")
        self.total, self.width, self.count = total, width, 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.name = ""

    def start(self, name: str) -> None:
        """Begin the next step, called `name`."""
        self.count, self.name = self.count + 1, name
        if self.tty:
            filled = self.width * (self.count - 1) // max(self.total, 1)
            bar = "#" * filled + "." * (self.width - filled)
            self._write(f"{_CLEAR}[{bar}] {self.count}/{self.total} {name} ...")
        else:
            self._write(f"{self._label()} ... ")

    def done(self, result: str) -> None:
        """End the current step with a short `result` (kept on screen as one line)."""
        prefix = f"{_CLEAR}{self._label()} ... " if self.tty else ""
        self._write(f"{prefix}{result}\n")

    def _label(self) -> str:
        return f"[{self.count}/{self.total}] {self.name}"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
