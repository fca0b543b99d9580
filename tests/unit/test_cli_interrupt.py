"""Ctrl-C stops a long command (server.cli_long_work.run) with 130, even when the cancellation it causes is lost
on the way, as Python 3.11's asyncio.wait_for loses one that arrives as the awaited future completes."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from server import cli_long_work


async def batches_that_lose_a_cancellation(done: list[int]) -> None:
    for batch in range(300):
        cli_long_work.checkpoint()
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            pass  # lost, like wait_for's
        done.append(batch)


def test_ctrl_c_stops_a_command_at_the_next_batch_even_when_its_cancellation_is_lost():
    done: list[int] = []

    async def command() -> None:
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGINT)
        await batches_that_lose_a_cancellation(done)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal, however pytest runs
    try:
        with pytest.raises(SystemExit) as stopped:
            cli_long_work.run(command())
    finally:
        signal.signal(signal.SIGINT, previous)

    assert stopped.value.code == cli_long_work.INTERRUPTED
    assert 1 <= len(done) < 300


def test_a_command_that_ends_by_itself_leaves_ctrl_c_as_it_was():
    before = signal.getsignal(signal.SIGINT)

    async def command() -> int:
        cli_long_work.checkpoint()
        return 7

    cli_long_work.run(command())

    assert signal.getsignal(signal.SIGINT) is before


def test_a_command_started_with_ctrl_c_ignored_keeps_it_ignored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        async def command() -> None:
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(0.05)
            cli_long_work.checkpoint()

        cli_long_work.run(command())

        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
