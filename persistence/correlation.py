"""The id of the request (or job) at work, carried into the jobs it enqueues as a pgqueuer header.

Set by the edge (server/request_context.py for requests, server/jobs.py for jobs); read here when a
job is enqueued and by the log formatter, so one id follows a request through every process it reaches.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("roomlink_request_id", default=None)

#: The job header holding it.
REQUEST_ID_HEADER = "request_id"


def job_headers() -> dict[str, str] | None:
    current = request_id.get()
    return {REQUEST_ID_HEADER: current} if current else None
