"""The Grafana dashboard in ops/ reads only metrics Roomlink exports, and routes Roomlink has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter, Histogram

from server import metrics
from server.app import create_app
from server.config import Settings
from server.scrape import _DatabaseFigures

DASHBOARD = Path(__file__).parents[2] / "ops" / "grafana-roomlink.json"


def exported_names() -> set[str]:
    names = {family.name for family in _DatabaseFigures([], {}, {}).collect()}
    for instrument in vars(metrics).values():
        if isinstance(instrument, Histogram):
            names |= {f"{instrument._name}_{suffix}" for suffix in ("bucket", "count", "sum")}
        elif isinstance(instrument, Counter):
            names.add(f"{instrument._name}_total")
    return names


def expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_every_dashboard_query_reads_an_exported_metric():
    exported = exported_names()
    read = {name for expr in expressions() for name in re.findall(r"\broomlink_[a-z_]+", expr)}
    assert read and read <= exported, read - exported
    assert {"roomlink_jobs", "roomlink_connections", "roomlink_members", "roomlink_zoom_requests_total"} <= read


def test_routes_the_dashboard_names_exist():
    routes = {route.path_format for route in create_app(Settings(demo=True)).routes}
    named = {route for expr in expressions() for route in re.findall(r'route="([^"]+)"', expr)}
    assert named and named <= routes, named - routes
