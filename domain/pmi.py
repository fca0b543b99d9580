"""R17: a meeting Zoom still put in the host's Personal Meeting ID room, seen from every signal there is.

Roomlink always asks for a unique meeting (`use_pmi: false`). Zoom honours that unless the host's
"Use Personal Meeting ID (PMI) when scheduling a meeting" is locked on by their Zoom admin, and some
accounts and older clients ignore it anyway. No one signal is reliable on its own, so each is read:
the `pmi` Zoom puts in the create answer, the meeting's own settings, the id in its join URL, the id
itself against the host's PMI. A meeting found in the PMI room while `use_pmi: false` was sent tells
that the setting is locked.
"""

from __future__ import annotations

import re

import msgspec

PMI_SETTING = "Use Personal Meeting ID (PMI) when scheduling a meeting"
PMI_PASSCODE_SETTING = "PMI passcode"
_JOIN_URL_ID = re.compile(r"/j/(\d+)")


class HostPmiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The host's PMI, as Zoom's user settings and profile have it."""

    pmi: str | None = None
    use_pmi_for_scheduled_meetings: bool = False
    #: Zoom's `require_password_for_pmi_meetings` is not "none".
    pmi_passcode_required: bool = False


class CreatedInZoom(msgspec.Struct, frozen=True, kw_only=True):
    """What the signals are read from: Zoom's answer about a meeting."""

    zoom_meeting_id: int
    join_url: str
    #: The `pmi` field of the answer, when Zoom sent one.
    pmi: str | None = None
    #: The answer's `settings.use_pmi`.
    use_pmi: bool = False


def personal_room_signals(meeting: CreatedInZoom, host: HostPmiSettings) -> list[str]:
    """Every sign that the meeting is the host's PMI room; empty when it is a meeting of its own."""
    signals = []
    if meeting.pmi:
        signals.append("pmi_in_answer")
    if meeting.use_pmi:
        signals.append("use_pmi_setting")
    url_id = _JOIN_URL_ID.search(meeting.join_url or "")
    if host.pmi and url_id and url_id.group(1) == host.pmi:
        signals.append("join_url_is_pmi")
    if host.pmi and str(meeting.zoom_meeting_id) == host.pmi:
        signals.append("id_is_pmi")
    if meeting.pmi and str(meeting.zoom_meeting_id) == meeting.pmi and "id_is_pmi" not in signals:
        signals.append("id_is_pmi")
    return signals


def personal_room_fix(host: HostPmiSettings, *, locked: bool) -> str:
    """The words that tell the host which Zoom setting to turn off (R17)."""
    settings = f'"{PMI_SETTING}"'
    if host.pmi_passcode_required:
        settings += f' and "{PMI_PASSCODE_SETTING}"'
    words = (
        "Zoom put this meeting in your Personal Meeting ID room, which every meeting of yours then shares, "
        f"with one passcode. In Zoom's settings (Meetings → Schedule Meeting), turn off {settings}."
    )
    if locked:
        words += " Your Zoom admin has locked this setting on: ask them to unlock it."
    return words
