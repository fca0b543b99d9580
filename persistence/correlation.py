"""The id of the request (or job) at work, and its trace, carried into the jobs it enqueues as pgqueuer headers.

Set by the edge (server/request_context.py for requests, server/jobs.py for jobs); read here when a
job is enqueued and by the log formatter, so one id follows a request through every process it reaches.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("roomlink_request_id", default=None)
#: The W3C traceparent of the span at work, when tracing is on (server/tracing.py).
traceparent: ContextVar[str | None] = ContextVar("roomlink_traceparent", default=None)

#: The job headers holding them.
REQUEST_ID_HEADER = "request_id"
TRACEPARENT_HEADER = "traceparent"


def job_headers() -> dict[str, str] | None:
    headers = {
        name: value
        for name, value in ((REQUEST_ID_HEADER, request_id.get()), (TRACEPARENT_HEADER, traceparent.get()))
        if value
    }
    return headers or None
