"""Jobs meeting Zoom's rate limits wait as long as Zoom asks; other failures go to the queue's backoff."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from pgqueuer import RetryRequested

from server.jobs import _logged
from server.zoom_client import ZoomRateLimited, ZoomUnavailable

JOB = SimpleNamespace(id=7, attempts=0, headers=None)


async def test_a_daily_rate_limit_is_retried_when_zoom_says():
    async def limited(job):
        raise ZoomRateLimited("daily limit", retry_after_s=6 * 3600)

    with pytest.raises(RetryRequested) as retry:
        await _logged("verify_organization", limited)(JOB)
    assert retry.value.delay == timedelta(hours=6)


@pytest.mark.parametrize("error", [ZoomRateLimited("no date", retry_after_s=None), ZoomUnavailable("503")])
async def test_other_failures_are_left_to_the_queue(error):
    async def failing(job):
        raise error

    with pytest.raises(type(error)):
        await _logged("verify_organization", failing)(JOB)
