"""The routes of Roomlink's pages, for create_app."""

from __future__ import annotations

from server.ui.connect_pages import (
    activation_page,
    confirm_link_to_zoom,
    send_to_zoom,
    start_activation,
    zoom_callback,
)
from server.ui.events_page import organization_event_redeliver, organization_events_page
from server.ui.front_door import front_door
from server.ui.layout import static_files
from server.ui.meetings_page import (
    meeting_cancel,
    meeting_cancel_page,
    meeting_recreate,
    meetings_page,
)
from server.ui.page_changes import page_changes
from server.ui.sessions_pages import organization_sessions_page, sessions_day_page
from server.ui.zoom_page import zoom_page

#: For every deployment: add to create_app's route_handlers.
UI_ROUTES = [
    front_door,
    zoom_page,
    meetings_page,
    meeting_cancel_page,
    meeting_cancel,
    meeting_recreate,
    sessions_day_page,
    organization_sessions_page,
    organization_events_page,
    organization_event_redeliver,
    page_changes,
    static_files,
    activation_page,
    start_activation,
    send_to_zoom,
    confirm_link_to_zoom,
    zoom_callback,
]

__all__ = ["UI_ROUTES"]
