"""Configuration, read once from the environment."""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping
from datetime import timedelta

import msgspec

#: Seconds a stopping server (`serve`, the demo) gives the requests in flight before it closes.
GRACEFUL_SHUTDOWN_S = 4


class ApiKey(msgspec.Struct, frozen=True):
    label: str
    secret: str

    def __repr__(self) -> str:
        return f"ApiKey(label={self.label!r})"


class ZoomAppCredentials(msgspec.Struct, frozen=True, kw_only=True):
    client_id: str
    client_secret: str
    #: Zoom's "secret token" for this app's webhooks.
    webhook_secret: str

    def __repr__(self) -> str:
        return f"ZoomAppCredentials(client_id={self.client_id!r})"


class ZoomSettings(msgspec.Struct, frozen=True, kw_only=True):
    oauth_base_url: str
    api_base_url: str
    redirect_uri: str
    user_app: ZoomAppCredentials
    admin_app: ZoomAppCredentials


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    #: Public address of Roomlink, used in the links it hands out.
    base_url: str = "http://127.0.0.1:8000"
    api_keys: tuple[ApiKey, ...] = ()
    #: Seconds a launch link stays usable, and a session lasts.
    launch_link_ttl_s: int = 300
    session_ttl_s: int = 12 * 3600
    demo: bool = False
    #: `kid:<key>,…` (persistence/token_cipher.py); required: tokens are never stored in clear.
    token_keys: str = ""
    #: Where email goes (server/mail.py); None: Roomlink sends none and says so.
    smtp_url: str | None = None
    #: None when the Zoom apps are not configured: Zoom features answer 503 until they are.
    zoom: ZoomSettings | None = None
    activation_link_ttl_s: int = 7 * 24 * 3600
    #: How often workers check every organization's Zoom admin and resync seats (R11); 0: this worker does not schedule it.
    verify_interval_s: float = 900
    #: Tokens expiring within this are refreshed by the keep-alive job.
    keep_alive_within_s: float = 600
    #: How long one request to Zoom may take before it counts as a timeout (and is retried).
    zoom_timeout_s: float = 10
    #: Database connections per process, and how long a request waits for one before answering 503.
    db_pool_size: int = 10
    db_acquire_timeout_s: float = 10.0
    #: How much a server process keeps of the hottest reads, dropped by PostgreSQL's notifications
    #: (persistence/cached_reads.py), in rows: a page of members costs its rows, anything else 1 (20,000 is
    #: about 15 MB); 0: nothing kept, every read asks PostgreSQL.
    read_cache_rows: int = 20_000
    #: Failed authentications or capability URLs per client per minute before 429 (per process).
    failed_attempts_per_minute: int = 30
    #: ROOMLINK_TRUSTED_PROXIES: comma-separated addresses or CIDRs of the proxies and load balancers in front
    #: of Roomlink (e.g. `10.0.0.0/8,192.168.1.7`); default none. Only a request whose TCP peer is one of them
    #: has its client address taken from X-Forwarded-For (the right-most address that is not itself a trusted
    #: proxy) and its scheme from X-Forwarded-Proto; from any other peer these headers are ignored, so nobody
    #: can pick the address their failed attempts are counted against. `roomlink serve` hands this list to
    #: uvicorn (forwarded_allow_ips), which resolves the address before Roomlink sees the request.
    trusted_proxies: tuple[str, ...] = ()
    #: Event endpoints may be http:// or https:// on loopback (tests and the demo); never in production.
    events_allow_loopback: bool = False
    #: One delivery to an event endpoint, all told.
    events_timeout_s: float = 10
    #: How often an idle worker looks for due deliveries.
    events_poll_s: float = 0.5
    #: Backoff of failed deliveries: first delay, longest delay, and how long after the first attempt they go on.
    events_retry_first_s: float = 10
    events_retry_max_s: float = 6 * 3600
    events_retry_for_s: float = 3 * 24 * 3600
    #: How long one request or job may hold a meeting's creation while it waits on Zoom (R23);
    #: None: as long as the Zoom client's retries can take.
    meeting_lease_s: float | None = None
    #: Bearer token for GET /metrics; None: /metrics answers 404.
    metrics_token: str | None = None
    #: `json`: one JSON object per log line (server/logging_setup.py); `text`: as uvicorn writes them.
    log_format: str = "text"

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, api_keys={len(self.api_keys)} configured)"

    def find_api_key(self, presented: str) -> ApiKey | None:
        found = None
        for key in self.api_keys:
            if hmac.compare_digest(key.secret.encode(), presented.encode()):
                found = key
        return found

    @property
    def meeting_lease(self) -> timedelta:
        if self.meeting_lease_s is not None:
            return timedelta(seconds=self.meeting_lease_s)
        # Four attempts of zoom_timeout_s each, their backoff (≤ 3 s each), and a margin.
        return timedelta(seconds=4 * self.zoom_timeout_s + 3 * 3 + 5)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def parse_api_keys(text: str) -> tuple[ApiKey, ...]:
    """`label:secret,label2:secret2`; a bare secret gets the label `key-N`."""
    keys = []
    for index, entry in enumerate(part.strip() for part in text.split(",")):
        if not entry:
            continue
        label, _, secret = entry.rpartition(":")
        if len(secret) < 16:
            raise ValueError(f"ROOMLINK_API_KEYS entry {index + 1} is shorter than 16 characters")
        keys.append(ApiKey(label=label or f"key-{index + 1}", secret=secret))
    return tuple(keys)


#: A request's line and headers, together, in bytes; and how long they may take to arrive, in seconds
#: (ROOMLINK_MAX_HEADER_BYTES, ROOMLINK_HEADER_TIMEOUT_S). Enforced by `roomlink serve`'s HTTP protocol
#: (server/http_protocol.py) before anything reaches the app: beyond the size 431, beyond the time 408, and
#: the connection closed. 64 KiB holds any header a browser or host product sends (nginx's default is
#: 4 × 8 KiB); 10 s is far beyond any real client's head and keeps a slow-header attack's connections few.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_HEADER_TIMEOUT_S = 10.0


def header_limits_from_env(environ: Mapping[str, str]) -> tuple[int, float]:
    size = int(environ.get("ROOMLINK_MAX_HEADER_BYTES", str(DEFAULT_MAX_HEADER_BYTES)))
    timeout = float(environ.get("ROOMLINK_HEADER_TIMEOUT_S", str(DEFAULT_HEADER_TIMEOUT_S)))
    if size < 1024 or timeout <= 0:
        raise ValueError("ROOMLINK_MAX_HEADER_BYTES must be at least 1024 and ROOMLINK_HEADER_TIMEOUT_S more than 0")
    return size, timeout


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """`10.0.0.0/8, 192.168.1.7, fd00::/8`: addresses or CIDRs; anything else is refused."""
    proxies = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"ROOMLINK_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR") from None
        proxies.append(entry)
    return tuple(proxies)


def zoom_settings_from_env(environ: Mapping[str, str], base_url: str) -> ZoomSettings | None:
    def app(prefix: str) -> ZoomAppCredentials | None:
        values = [environ.get(f"{prefix}_{part}", "") for part in ("CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_SECRET")]
        return ZoomAppCredentials(client_id=values[0], client_secret=values[1], webhook_secret=values[2]) if all(values) else None

    user_app, admin_app = app("ZOOM_USER_APP"), app("ZOOM_ADMIN_APP")
    if user_app is None or admin_app is None:
        return None
    return ZoomSettings(
        oauth_base_url=environ.get("ZOOM_OAUTH_BASE_URL", "https://zoom.us").rstrip("/"),
        api_base_url=environ.get("ZOOM_API_BASE_URL", "https://api.zoom.us/v2").rstrip("/"),
        redirect_uri=f"{base_url}/oauth/zoom/callback",
        user_app=user_app,
        admin_app=admin_app,
    )


def settings_from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    base_url = environ.get("ROOMLINK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return Settings(
        base_url=base_url,
        api_keys=parse_api_keys(environ.get("ROOMLINK_API_KEYS", "")),
        launch_link_ttl_s=int(environ.get("ROOMLINK_LAUNCH_LINK_TTL_S", "300")),
        session_ttl_s=int(environ.get("ROOMLINK_SESSION_TTL_S", str(12 * 3600))),
        demo=environ.get("ROOMLINK_DEMO", "") == "1",
        token_keys=environ.get("ROOMLINK_TOKEN_KEYS", ""),
        smtp_url=environ.get("SMTP_URL") or None,
        zoom=zoom_settings_from_env(environ, base_url),
        activation_link_ttl_s=int(environ.get("ROOMLINK_ACTIVATION_LINK_TTL_S", str(7 * 24 * 3600))),
        verify_interval_s=float(environ.get("ROOMLINK_VERIFY_INTERVAL_S", "900")),
        keep_alive_within_s=float(environ.get("ROOMLINK_KEEP_ALIVE_WITHIN_S", "600")),
        zoom_timeout_s=float(environ.get("ROOMLINK_ZOOM_TIMEOUT_S", "10")),
        db_pool_size=int(environ.get("ROOMLINK_DB_POOL_SIZE", "10")),
        db_acquire_timeout_s=float(environ.get("ROOMLINK_DB_ACQUIRE_TIMEOUT_S", "10")),
        read_cache_rows=int(environ.get("ROOMLINK_READ_CACHE_ROWS", "20000")),
        failed_attempts_per_minute=int(environ.get("ROOMLINK_FAILED_ATTEMPTS_PER_MINUTE", "30")),
        trusted_proxies=parse_trusted_proxies(environ.get("ROOMLINK_TRUSTED_PROXIES", "")),
        events_allow_loopback=environ.get("ROOMLINK_EVENTS_ALLOW_LOOPBACK", "") == "1",
        events_timeout_s=float(environ.get("ROOMLINK_EVENTS_TIMEOUT_S", "10")),
        events_poll_s=float(environ.get("ROOMLINK_EVENTS_POLL_S", "0.5")),
        events_retry_first_s=float(environ.get("ROOMLINK_EVENTS_RETRY_FIRST_S", "10")),
        events_retry_max_s=float(environ.get("ROOMLINK_EVENTS_RETRY_MAX_S", str(6 * 3600))),
        events_retry_for_s=float(environ.get("ROOMLINK_EVENTS_RETRY_FOR_S", str(3 * 24 * 3600))),
        meeting_lease_s=float(environ["ROOMLINK_MEETING_LEASE_S"]) if environ.get("ROOMLINK_MEETING_LEASE_S") else None,
        metrics_token=environ.get("ROOMLINK_METRICS_TOKEN") or None,
        log_format=environ.get("ROOMLINK_LOG_FORMAT", "text").strip().lower(),
    )
