"""Zoom's meeting calls through a connection (domain.meeting_ports.MeetingsZoom), over HTTP.

Tokens come from the TokenKeeper (refreshed under the connection's row lock; a rejected token is
refreshed and the call made once more). Zoom's answers become the port's errors by Zoom's `code`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import httpx

from domain.errors import ConnectionBroken, NotConnected, ZoomNotReached
from domain.meeting_model import MeetingHost, ZoomMeeting, ZoomMeetingRequest, has_marker
from domain.meeting_ports import (
    ZoomDayLimitReached,
    ZoomHostGone,
    ZoomMeetingError,
    ZoomMeetingGone,
    ZoomNotTheHost,
    ZoomPersonalRoom,
    ZoomScopeMissing,
)
from domain.model import Connection, ZoomUser
from domain.pmi import HostPmiSettings
from domain.zoom import ZoomProfile
from server.tokens import TokenKeeper
from server.zoom_client import HttpZoom, ZoomDailyLimit, ZoomRateLimited, ZoomTokenRejected, ZoomUnavailable

SCHEDULED = 2
#: Zoom's largest page of a user's meetings.
MEETINGS_PAGE_SIZE = 300
#: A host's PMI settings are read before each create; this long they are taken as still true.
PMI_SETTINGS_TTL_S = 60.0

MEETING_NOT_FOUND, NOT_THE_HOST, USER_NOT_FOUND, MISSING_SCOPES, PMI_NOT_DELETABLE = 3001, 3003, 1001, 4711, 3018
_SCOPES = re.compile(r"scopes:\s*\[([^\]]*)\]")


def zoom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_zoom_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def meeting_of(body: dict) -> ZoomMeeting:
    pmi = body.get("pmi")
    settings = body.get("settings") if isinstance(body.get("settings"), dict) else {}
    return ZoomMeeting(
        zoom_meeting_id=int(body["id"]),
        topic=str(body.get("topic", "")),
        start_time=parse_zoom_time(body.get("start_time")),
        duration_minutes=int(body.get("duration") or 0),
        timezone=str(body.get("timezone") or ""),
        agenda=str(body.get("agenda") or ""),
        join_url=str(body.get("join_url") or ""),
        passcode=body.get("password"),
        pmi=str(pmi) if pmi not in (None, "", 0) else None,
        use_pmi=bool(settings.get("use_pmi", False)),
        uuid=str(body["uuid"]) if body.get("uuid") else None,
    )


def meeting_error(response: httpx.Response) -> ZoomMeetingError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code, message = body.get("code"), str(body.get("message", response.status_code))
    if code == MEETING_NOT_FOUND or (response.status_code == 404 and code is None):
        return ZoomMeetingGone(message)
    if code == NOT_THE_HOST:
        return ZoomNotTheHost(message)
    if code == USER_NOT_FOUND:
        return ZoomHostGone(message)
    if code == MISSING_SCOPES:
        found = _SCOPES.search(message)
        return ZoomScopeMissing(found.group(1).strip() if found else message)
    if code == PMI_NOT_DELETABLE:
        return ZoomPersonalRoom(message)
    if code == 429 or "daily" in message.lower():
        return ZoomDayLimitReached(None)
    return ZoomMeetingError(f"Zoom answered {response.status_code}: {message}")


class ZoomMeetings:
    def __init__(self, keeper: TokenKeeper, zoom: HttpZoom) -> None:
        self._keeper = keeper
        self._zoom = zoom
        #: (connection id, Zoom user id) → (read at, settings): a hint, not a fact Roomlink relies on.
        self._pmi: dict[tuple[str, str], tuple[float, HostPmiSettings]] = {}

    async def _call(
        self, host: MeetingHost, method: str, path: str, *, params: dict[str, str] | None = None, json: dict | None = None
    ) -> httpx.Response:
        try:
            response = await self._keeper.call(
                host.connection, lambda tokens: self._zoom.api_request(tokens, method, path, params=params, json=json)
            )
        except ZoomDailyLimit as limited:
            retry_at = datetime.now(UTC) + timedelta(seconds=limited.retry_after_s) if limited.retry_after_s else None
            raise ZoomDayLimitReached(retry_at) from None
        except ZoomRateLimited as limited:
            raise ZoomNotReached(f"Zoom is limiting how often Roomlink may call it ({limited}).") from None
        except ZoomUnavailable as unavailable:
            raise ZoomNotReached(f"Zoom could not be reached ({unavailable}).") from None
        except (NotConnected, ZoomTokenRejected):
            raise ConnectionBroken("Zoom no longer accepts this connection; it needs reconnecting.") from None
        if response.status_code in (200, 201, 204):
            return response
        raise meeting_error(response)

    async def host_pmi(self, host: MeetingHost, *, fresh: bool = False) -> HostPmiSettings:
        key = (host.connection.id, host.zoom_user_id)
        cached = self._pmi.get(key)
        if not fresh and cached is not None and time.monotonic() - cached[0] < PMI_SETTINGS_TTL_S:
            return cached[1]
        settings = (await self._call(host, "GET", f"/users/{host.user_ref}/settings")).json()
        user = (await self._call(host, "GET", f"/users/{host.user_ref}")).json()
        schedule = settings.get("schedule_meeting") or {}
        pmi = HostPmiSettings(
            pmi=str(user["pmi"]) if user.get("pmi") else None,
            use_pmi_for_scheduled_meetings=bool(schedule.get("use_pmi_for_scheduled_meetings", False)),
            pmi_passcode_required=schedule.get("require_password_for_pmi_meetings", "none") != "none",
        )
        self._pmi[key] = (time.monotonic(), pmi)
        return pmi

    async def create(self, host: MeetingHost, request: ZoomMeetingRequest) -> ZoomMeeting:
        body: dict[str, object] = {
            "topic": request.topic,
            "type": SCHEDULED,
            "start_time": zoom_time(request.start_time),
            "duration": request.duration_minutes,
            "timezone": request.timezone,
            "agenda": request.agenda,
            # R17: a meeting of its own, every time.
            "settings": {"use_pmi": False},
        }
        if request.alternative_hosts:
            body["settings"] = {"use_pmi": False, "alternative_hosts": request.alternative_hosts}
        if request.passcode:
            body["password"] = request.passcode
        response = await self._call(host, "POST", f"/users/{host.user_ref}/meetings", json=body)
        return meeting_of(response.json())

    async def find_upcoming(self, host: MeetingHost, marker: str) -> ZoomMeeting | None:
        page_token = ""
        while True:
            params = {"type": "upcoming", "page_size": str(MEETINGS_PAGE_SIZE)}
            if page_token:
                params["next_page_token"] = page_token
            page = (await self._call(host, "GET", f"/users/{host.user_ref}/meetings", params=params)).json()
            for item in page.get("meetings", []):
                if has_marker(item.get("agenda"), marker):
                    return await self.get(host, int(item["id"]))
            page_token = page.get("next_page_token") or ""
            if not page_token:
                return None

    async def get(self, host: MeetingHost, zoom_meeting_id: int) -> ZoomMeeting:
        return meeting_of((await self._call(host, "GET", f"/meetings/{zoom_meeting_id}")).json())

    async def update(self, host: MeetingHost, zoom_meeting_id: int, changes: dict[str, object]) -> None:
        body: dict[str, object] = {}
        for name, value in changes.items():
            if name == "start_time" and isinstance(value, datetime):
                body["start_time"] = zoom_time(value)
            elif name == "duration_minutes":
                body["duration"] = value
            elif name == "alternative_hosts":
                body["settings"] = {"alternative_hosts": value}
            else:
                body[name] = value
        await self._call(host, "PATCH", f"/meetings/{zoom_meeting_id}", json=body)

    async def delete(self, host: MeetingHost, zoom_meeting_id: int) -> None:
        await self._call(host, "DELETE", f"/meetings/{zoom_meeting_id}")

    async def start_url(self, host: MeetingHost, zoom_meeting_id: int) -> str:
        return str((await self._call(host, "GET", f"/meetings/{zoom_meeting_id}")).json()["start_url"])


class KeptZoom:
    """domain.zoom.ConnectedZoom through the TokenKeeper, an unreachable Zoom said in the domain's words."""

    def __init__(self, keeper: TokenKeeper) -> None:
        self._keeper = keeper

    async def me(self, connection: Connection) -> ZoomProfile:
        try:
            return await self._keeper.me(connection)
        except ZoomUnavailable as unavailable:
            raise ZoomNotReached(f"Zoom could not be reached ({unavailable}).") from None

    async def account_users(self, connection: Connection) -> list[ZoomUser]:
        try:
            return await self._keeper.account_users(connection)
        except ZoomUnavailable as unavailable:
            raise ZoomNotReached(f"Zoom could not be reached ({unavailable}).") from None
