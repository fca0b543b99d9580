"""What bounds a request's head, as configured."""

from __future__ import annotations

import pytest

from server.config import header_limits_from_env


def test_request_heads_default_to_64_kib_within_10_seconds():
    assert header_limits_from_env({}) == (65536, 10.0)
    assert header_limits_from_env({"ROOMLINK_MAX_HEADER_BYTES": "32768", "ROOMLINK_HEADER_TIMEOUT_S": "5"}) == (32768, 5.0)


@pytest.mark.parametrize("env", [{"ROOMLINK_MAX_HEADER_BYTES": "100"}, {"ROOMLINK_HEADER_TIMEOUT_S": "0"}])
def test_a_bound_that_would_refuse_every_request_is_refused(env):
    with pytest.raises(ValueError, match="ROOMLINK_"):
        header_limits_from_env(env)
