"""Progress redraws a terminal at most every TTY_REFRESH_S and writes a log line at most every LINE_EVERY_S,
always its first and last; measured on a clock the test moves, not on the machine's speed."""

from __future__ import annotations

import io

from server.progress import LINE_EVERY_S, TTY_REFRESH_S, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frames(stream: io.StringIO) -> list[str]:
    return [frame for frame in stream.getvalue().split("\r") if frame]


def test_a_terminal_is_redrawn_in_place_at_most_every_refresh_period():
    terminal, clock = Terminal(), Clock()
    progress = Progress("import", 100, unit="members", stream=terminal, clock=clock)
    progress.advance(10)  # within the period of the first frame: not drawn
    clock.now += 2 * TTY_REFRESH_S
    progress.advance(10)
    clock.now += TTY_REFRESH_S / 2
    progress.advance(10)  # too soon after the last frame
    progress.finish("30 created")

    shown = frames(terminal)
    assert len(shown) == 3 and all(frame.startswith("\x1b[K") for frame in shown)
    assert "[" + "." * 28 + "] 0/100 members   0%" in shown[0]
    assert "] 20/100 members  20%, 100 members/s" in shown[1]
    assert shown[2].endswith("30/100 members  30%, 120 members/s, 1 s left — 30 created\n")


def test_a_log_gets_plain_lines_at_most_every_few_seconds_and_the_last():
    log, clock = io.StringIO(), Clock()
    progress = Progress("resync", None, unit="users", stream=log, clock=clock)
    for _ in range(5):
        clock.now += LINE_EVERY_S / 2
        progress.advance(4)
    progress.finish()

    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        "resync: 0 users, 0 users/s",
        "resync: 8 users, 4 users/s",
        "resync: 16 users, 4 users/s",
        "resync: 20 users, 4 users/s",
    ]
