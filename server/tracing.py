"""OpenTelemetry spans for requests, jobs and Zoom calls, only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Install with `pip install 'roomlink[otel]'`. Unset, nothing of OpenTelemetry is imported or started and
`span()` costs one check. A request's trace goes on into the jobs it enqueues: the W3C `traceparent` of
the span at work rides in the job's headers (persistence/correlation.py) and the job's span continues it.
The exporter is OTLP over HTTP and reads the standard OTEL_* variables (endpoint, headers, timeouts).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from persistence.correlation import traceparent

_tracer: Any = None
_provider: Any = None

SERVER, CLIENT, CONSUMER = "server", "client", "consumer"


def active() -> bool:
    return _tracer is not None


def start(service: str) -> None:
    """`service`: `api` or `worker`; the resource is named `roomlink-{service}` unless OTEL_SERVICE_NAME says."""
    global _tracer, _provider
    if _tracer is not None or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"roomlink-{service}"})
    )
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(_provider)
    _tracer = trace.get_tracer("roomlink")


def stop() -> None:
    """Send what is buffered; a process ends with its spans delivered."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


@contextmanager
def span(name: str, kind: str, parent: str | None = None, **attributes: object) -> Iterator[Any]:
    """A span around the block (None when tracing is off); `parent` is a W3C traceparent to continue."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    context = TraceContextTextMapPropagator().extract({"traceparent": parent}) if parent else None
    with _tracer.start_as_current_span(
        name, context=context, kind=getattr(SpanKind, kind.upper()), attributes=_attributes(attributes)
    ) as current:
        carried = traceparent.set(_traceparent_of(current))
        try:
            yield current
        finally:
            traceparent.reset(carried)


def _traceparent_of(current: Any) -> str:
    context = current.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def _attributes(values: dict[str, object]) -> dict[str, Any]:
    return {key.replace("__", "."): value for key, value in values.items() if value is not None}
