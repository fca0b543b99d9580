"""Progress of long `roomlink` work: a bar with counts and rate redrawn in place on a terminal, plain
lines (at most one every few seconds, and the last) when the output is a file or a pipe."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 28
#: A terminal is redrawn at most this often; a log gets a line at most this often.
TTY_REFRESH_S = 0.1
LINE_EVERY_S = 2.0


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._clock = clock
        self._started = self._shown = clock()
        self._every = TTY_REFRESH_S if self._tty else LINE_EVERY_S
        self._show(force=True)

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._show()

    def finish(self, summary: str = "") -> None:
        self._show(force=True, last=True, note=summary)

    def stopped(self, why: str, hint: str) -> None:
        self._show(force=True, last=True, note=f"{why}; {hint}")

    def rate(self) -> float:
        elapsed = self._clock() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        rate = f"{self.rate():,.0f}{unit}/s"
        if not self.total:
            return f"{self.label}: {self.done:,}{unit}, {rate}"
        fraction = min(1.0, self.done / self.total)
        counts = f"{self.done:,}/{self.total:,}{unit} {fraction:4.0%}, {rate}"
        remaining = (self.total - self.done) / self.rate() if self.rate() > 0 and self.done < self.total else None
        eta = f", {remaining:,.0f} s left" if remaining is not None else ""
        if not self._tty:
            return f"{self.label}: {counts}{eta}"
        filled = int(BAR_WIDTH * fraction)
        return f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {counts}{eta}"

    def _show(self, *, force: bool = False, last: bool = False, note: str = "") -> None:
        now = self._clock()
        if not force and now - self._shown < self._every:
            return
        self._shown = now
        text = self.line() + (f" — {note}" if note else "")
        if self._tty:
            self._stream.write(f"\r\x1b[K{text}" + ("\n" if last else ""))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
