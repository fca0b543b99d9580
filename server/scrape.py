"""GET /metrics: every process's counters added up, and the figures that live in PostgreSQL read now.

Figures that live in the database (the job queue, event deliveries, connections, members by effective type)
are read at scrape time, never kept in a process, so they are the same whichever process answers.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from persistence.figures import MeetingFigures, read_figures
from server.clock import utcnow
from server.problems import Problem


class _DatabaseFigures(Collector):
    def __init__(self, jobs, connections, members, deliveries=(), meetings: MeetingFigures | None = None) -> None:
        self._jobs, self._connections, self._members = jobs, connections, members
        self._deliveries = deliveries
        self._meetings = meetings or MeetingFigures(meetings={}, waiting_for_budget=0, hosts_by_budget={}, sessions={})

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queued = GaugeMetricFamily(
            "roomlink_jobs", "Background jobs in the queue by kind and status (queued, picked, failed).", labels=["kind", "status"]
        )
        oldest = GaugeMetricFamily(
            "roomlink_jobs_oldest_age_seconds",
            "How long the oldest job of a kind and status has waited: queued since due, picked since enqueued,"
            " failed since it failed.",
            labels=["kind", "status"],
        )
        for figure in self._jobs:
            queued.add_metric([figure.kind, figure.status], figure.count)
            oldest.add_metric([figure.kind, figure.status], figure.oldest_age_s)
        connections = GaugeMetricFamily(
            "roomlink_connections", "Zoom connections by type and status.", labels=["type", "status"]
        )
        for (type_, status), count in sorted(self._connections.items()):
            connections.add_metric([type_, status], count)
        members = GaugeMetricFamily(
            "roomlink_members",
            "Members by effective connection type (organization, personal, none), connected or not and why (R7).",
            labels=["type", "connected", "reason"],
        )
        for (type_, connected, reason), count in sorted(self._members.items()):
            members.add_metric([type_, "true" if connected else "false", reason], count)
        deliveries = GaugeMetricFamily(
            "roomlink_event_deliveries",
            "Event deliveries to the host product's endpoints: pending (retrying) and failed for good (R24).",
            labels=["status"],
        )
        late = GaugeMetricFamily(
            "roomlink_event_deliveries_oldest_due_seconds",
            "How long the oldest due pending event delivery has existed.",
        )
        for figure in self._deliveries:
            deliveries.add_metric([figure.status], figure.count)
            if figure.status == "pending":
                late.add_metric([], figure.oldest_due_age_s)
        yield from (queued, oldest, connections, members, deliveries, late)
        yield from _meeting_families(self._meetings)


def _meeting_families(figures: MeetingFigures) -> Iterator[GaugeMetricFamily]:
    meetings = GaugeMetricFamily(
        "roomlink_meetings", "Meetings by status: scheduled, pending (not in Zoom yet), needs_attention.", labels=["status"]
    )
    for status in ("scheduled", "pending", "needs_attention"):
        meetings.add_metric([status], figures.meetings.get(status, 0))
    waiting = GaugeMetricFamily(
        "roomlink_meetings_waiting_for_budget", "Pending meetings held until 00:00 UTC: their host spent Zoom's daily 100 (R20)."
    )
    waiting.add_metric([], figures.waiting_for_budget)
    hosts = GaugeMetricFamily(
        "roomlink_meeting_budget_hosts",
        "Zoom users by how much of today's 100 meeting creates and updates they have spent (R20).",
        labels=["spent"],
    )
    for bucket, count in figures.hosts_by_budget.items():
        hosts.add_metric([bucket], count)
    sessions = GaugeMetricFamily(
        "roomlink_sessions", "Remote sessions not over, by status (R16, R21).", labels=["status"]
    )
    for status in ("no_bookings", "link_pending", "ready", "needs_attention", "cancelled"):
        sessions.add_metric([status], figures.sessions.get(status, 0))
    yield from (meetings, waiting, hosts, sessions)


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


async def exposition() -> bytes:
    read = await read_figures(utcnow())
    figures = CollectorRegistry(auto_describe=False)
    figures.register(_DatabaseFigures(read.jobs, read.connections, read.members, read.deliveries, read.meetings))
    return _process_metrics() + generate_latest(figures)


@get("/metrics", operation_id="Metrics", include_in_schema=False)
async def metrics_endpoint(request: Request, state: State) -> Response[bytes]:
    """Only with ROOMLINK_METRICS_TOKEN set (404 otherwise), and only for its bearer."""
    token: str | None = state.settings.metrics_token
    if not token:
        raise Problem(404, "not_found", "There is nothing here.")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise Problem(401, "metrics_token_invalid", "Scraping needs the metrics bearer token (ROOMLINK_METRICS_TOKEN).")
    return Response(await exposition(), media_type=CONTENT_TYPE_LATEST)
