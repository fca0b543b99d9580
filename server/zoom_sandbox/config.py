"""What a Zoom sandbox is started with: its registered OAuth apps and its settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import msgspec

AppKind = Literal["user_managed", "admin_managed"]

CALLBACK_PATH = "/oauth/zoom/callback"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class ZoomAppConfig(msgspec.Struct, kw_only=True, frozen=True):
    """One OAuth app registered in the sandbox, as a Zoom Marketplace app would be."""

    client_id: str
    client_secret: str
    #: Zoom's "secret token": the key webhooks to this app are signed with.
    webhook_secret_token: str
    #: Compared exactly, as Zoom does; no prefix or trailing-slash leniency.
    redirect_uris: tuple[str, ...]
    kind: AppKind


class SandboxConfig(msgspec.Struct, kw_only=True, frozen=True):
    apps: tuple[ZoomAppConfig, ...]
    access_token_ttl_s: int = 3600
    #: With ``login_hint`` on the authorize URL, approve without showing the page (for scripts).
    auto_approve: bool = False
    webhook_url: str | None = None
    #: Meetings a host may create or update per UTC day (Zoom: 100).
    daily_meeting_limit: int = 100
    #: Refuse calls past Zoom's per-second limits (`SandboxSettings.enforce_qps`).
    enforce_qps: bool = False

    def __post_init__(self) -> None:
        client_ids = [app.client_id for app in self.apps]
        if len(set(client_ids)) != len(client_ids):
            raise ValueError("each sandbox app needs its own client_id")


def sandbox_config_from_env(environ: Mapping[str, str] = os.environ) -> SandboxConfig:
    """Read the sandbox's configuration; every value has a demo default so `demo` needs none."""
    base_url = environ.get("ROOMLINK_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
    redirect_uris = (base_url + CALLBACK_PATH,)
    user_app = ZoomAppConfig(
        client_id=environ.get("ZOOM_USER_APP_CLIENT_ID", "roomlink-user-app"),
        client_secret=environ.get("ZOOM_USER_APP_CLIENT_SECRET", "roomlink-user-app-demo-secret"),
        webhook_secret_token=environ.get("ZOOM_USER_APP_WEBHOOK_SECRET", "roomlink-user-app-demo-webhook-secret"),
        redirect_uris=redirect_uris,
        kind="user_managed",
    )
    admin_app = ZoomAppConfig(
        client_id=environ.get("ZOOM_ADMIN_APP_CLIENT_ID", "roomlink-admin-app"),
        client_secret=environ.get("ZOOM_ADMIN_APP_CLIENT_SECRET", "roomlink-admin-app-demo-secret"),
        webhook_secret_token=environ.get("ZOOM_ADMIN_APP_WEBHOOK_SECRET", "roomlink-admin-app-demo-webhook-secret"),
        redirect_uris=redirect_uris,
        kind="admin_managed",
    )
    return SandboxConfig(
        apps=(user_app, admin_app),
        access_token_ttl_s=int(environ.get("ZOOM_SANDBOX_ACCESS_TOKEN_TTL_S", "3600")),
        auto_approve=environ.get("ZOOM_SANDBOX_AUTO_APPROVE", "").strip().lower() in {"1", "true"},
        webhook_url=environ.get("ZOOM_SANDBOX_WEBHOOK_URL") or None,
        enforce_qps=environ.get("ZOOM_SANDBOX_ENFORCE_QPS", "").strip().lower() in {"1", "true"},
    )
