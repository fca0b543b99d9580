"""Zoom's meeting events (R21): meeting.updated, .deleted and .recovered keep Roomlink's records of the
meetings it made true."""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.meeting_in_zoom import GONE_FROM_ZOOM, with_zoom_fields
from domain.meeting_model import Meeting, MeetingStatus
from domain.meetings import save_meeting
from domain.ports import UnitOfWork
from domain.zoom import ZoomEvent


async def handle_meeting_event(tx: UnitOfWork, event: ZoomEvent, now: datetime) -> int:
    """meeting.updated / .deleted / .recovered keep the records true; returns how many changed."""
    meeting_id = event.object.get("id")
    if not str(meeting_id or "").isdigit():
        return 0
    host_id = str(event.object.get("host_id") or "")
    claim = f"account:{event.account_id}" if event.app.value == "admin" else f"user:{host_id}"
    connection = await tx.connections.claimed(claim)
    if connection is None:
        return 0
    # A meeting held in the PMI room is named by the PMI in Zoom's events: its uuid says which one it is.
    uuid = str(event.object.get("uuid") or "")
    matched = await tx.meetings.by_zoom_uuid(connection.org_id, uuid) if uuid else []
    changed = 0
    for found in matched or await tx.meetings.by_zoom_id(connection.org_id, int(str(meeting_id))):
        # Locked: a cancellation committing meanwhile is seen, not overwritten.
        meeting = await tx.meetings.locked(found.org_id, found.id) or found
        updated = _after_event(meeting, event, now)
        if updated != meeting:
            await save_meeting(tx, meeting, updated, now)
            changed += 1
    await tx.commit()
    return changed


def _after_event(meeting: Meeting, event: ZoomEvent, now: datetime) -> Meeting:
    if meeting.status is MeetingStatus.CANCELLED:
        return meeting
    if event.event == "meeting.deleted":
        being_cancelled = meeting.lease_until is not None and meeting.lease_until > now
        if being_cancelled:
            return meeting
        return msgspec.structs.replace(meeting, status=MeetingStatus.NEEDS_ATTENTION, status_reason=GONE_FROM_ZOOM, updated_at=now)
    if event.event == "meeting.recovered" and meeting.status is MeetingStatus.NEEDS_ATTENTION:
        return msgspec.structs.replace(meeting, status=MeetingStatus.SCHEDULED, status_reason=None, updated_at=now)
    if event.event == "meeting.updated":
        return with_zoom_fields(meeting, event.object, now)
    return meeting
