"""Traces (optional): with OTEL_EXPORTER_OTLP_ENDPOINT set, a request, the Zoom calls it makes and the job it
enqueues are spans of one trace, sent over OTLP/HTTP; without it, OpenTelemetry is not even imported."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.support.servers import ZOOM_APPS, free_port, running, worker
from tests.support.zoom import activate_through, as_member, eventually, signed_webhook

trace_service = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")


class Collector:
    """An OTLP/HTTP trace receiver: the spans it was sent, as (service, name, trace id, parent span id)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, str, str]] = []
        collector = self

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = trace_service.ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource in request.resource_spans:
                    service = next(a.value.string_value for a in resource.resource.attributes if a.key == "service.name")
                    for scope in resource.scope_spans:
                        collector.spans += [(service, s.name, s.trace_id.hex(), s.parent_span_id.hex()) for s in scope.spans]
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(trace_service.ExportTraceServiceResponse().SerializeToString())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receive)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def traced(roomlink, roomlink_env):
    collector = Collector()
    env = {
        **roomlink_env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "ROOMLINK_DB_POOL_SIZE": "3",
    }
    try:
        with running("server.app:create_app", env, free_port()) as base_url, worker(env):
            yield base_url, collector
    finally:
        collector.server.shutdown()


async def test_a_request_its_zoom_calls_and_its_jobs_are_one_trace(traced, org, zoom_account):
    base_url, collector = traced
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await activate_through(client, org["org_id"], org["owner"], zoom_account["admin"]["email"])
        verify_path = f"/api/v1/orgs/{org['org_id']}/integrations/zoom/verify"
        verify = await client.post(verify_path, headers=as_member(org["owner"]))
        assert verify.status_code == 200
        body = json.dumps(
            {"event": "user.updated", "payload": {"account_id": zoom_account["id"], "object": {"id": "nobody-we-know"}}}
        ).encode()
        signature = signed_webhook(body, ZOOM_APPS["ZOOM_ADMIN_APP_WEBHOOK_SECRET"])
        answer = await client.post("/webhooks/zoom", content=body, headers=signature)
        assert answer.status_code == 200

    def trace_of(name: str) -> str | None:
        return next((trace for _, span, trace, _ in collector.spans if span == name), None)

    async def sent():
        return trace_of("job zoom_event") and trace_of("POST /api/v1/orgs/{org_id}/integrations/zoom/verify")

    assert await eventually(sent, timeout=20), collector.spans
    verify_trace = trace_of("POST /api/v1/orgs/{org_id}/integrations/zoom/verify")
    in_verify = {(service, name) for service, name, trace, _ in collector.spans if trace == verify_trace}
    assert {("roomlink-api", "zoom GET /users/me"), ("roomlink-api", "zoom GET /users")} <= in_verify
    webhook_trace = trace_of("POST /webhooks/zoom")
    assert ("roomlink-worker", "job zoom_event") in {(s, n) for s, n, t, _ in collector.spans if t == webhook_trace}


def test_without_an_endpoint_no_tracer_is_imported_or_started():
    # Litestar looks at opentelemetry's conventions when they are installed; the SDK, the exporter and the
    # tracing API are what Roomlink would load, and does not.
    script = (
        "ROOMLINKS = ('opentelemetry.sdk', 'opentelemetry.exporter', 'opentelemetry.trace');"
        "import sys; from server import tracing; from server.app import create_app; from server.config import Settings;"
        " create_app(Settings(demo=True)); tracing.start('api');"
        " assert not tracing.active(); print([m for m in sys.modules if m.startswith(ROOMLINKS)])"
    )
    env = {"PATH": "/usr/bin:/bin", "ROOMLINK_TOKEN_KEYS": "k:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
