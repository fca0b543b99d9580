"""The database schema. Every organization-scoped table carries `org_id` and leads its keys with it."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Check, Unique
from piccolo.table import Table

ROLES = "('owner', 'admin', 'member')"
CONNECTION_TYPES = "('personal', 'organization')"
CONNECTION_STATUSES = "('active', 'admin_lost', 'needs_reconnect', 'deauthorized')"


class OrganizationTable(Table, tablename="organizations"):
    #: The host product's identifier for the organization.
    org_id = Varchar(length=128, primary_key=True)
    name = Varchar(length=200)
    #: R10: whether members may remove the organization connection for themselves.
    allow_members_to_remove = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class MemberTable(Table, tablename="members"):
    id = BigSerial(primary_key=True)
    org_id = ForeignKey(OrganizationTable, on_delete=OnDelete.cascade, null=False)
    #: The host product's identifier for the person; a user belongs to one organization.
    user_id = Varchar(length=128)
    email = Varchar(length=320)
    #: The email as domain.emails.email_key compares it (domain in IDNA ASCII, ASCII letters folded): seats match on it (R5).
    email_normalized = Varchar(length=320)
    name = Varchar(length=200)
    role = Varchar(length=16)
    #: R10: the member removed the organization connection for themselves.
    organization_removed = Boolean(default=False)
    #: Kept by triggers (migration m0002): the status of the member's personal connection, or 'none'.
    personal_status = Varchar(length=32, default="none")
    #: Kept by triggers (migration m0002): an active Zoom user of the organization's account has this email (R5).
    seated = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    one_organization_per_user = Unique([user_id])
    member_key = Unique([org_id, user_id])
    known_role = Check(f"role IN {ROLES}")
    known_personal_status = Check(f"personal_status = 'none' OR personal_status IN {CONNECTION_STATUSES}")


class MemberStateCountTable(Table, tablename="member_state_counts"):
    """Kept by triggers (migration m0008): how many of an organization's members are in each member state.

    The counts fold these (at most 16) rows through domain.precedence: no GROUP BY over every member.
    """

    id = BigSerial(primary_key=True)
    #: References organizations (ON DELETE CASCADE), declared in migration m0008.
    org_id = Varchar(length=128)
    personal_status = Varchar(length=32, default="none")
    seated = Boolean(default=False)
    organization_removed = Boolean(default=False)
    members = BigInt(default=0)

    one_row_per_state = Unique([org_id, personal_status, seated, organization_removed])


class MemberWordTable(Table, tablename="member_words"):
    """Kept by triggers (migration m0013): each member once under each word of their `search_text`
    (folded name and email), indexed (org_id, word, name, user_id): a word's members in the members
    table's order. A search merges a few words' ranges (persistence/members_table.py)."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    word = Text()
    name = Varchar(length=200)
    user_id = Varchar(length=128)


class MemberSearchWordTable(Table, tablename="member_search_words"):
    """Kept by triggers (migration m0013): each organization's distinct member words and how many members
    have each; unique (org_id, word), trigram-indexed: the words a search word is part of."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    word = Text()
    members = BigInt(default=0)


class ConnectionTable(Table, tablename="connections"):
    """Live connections only: a connection that ends is deleted, its history is in the audit trail."""

    id = UUID(primary_key=True)
    org_id = ForeignKey(OrganizationTable, on_delete=OnDelete.cascade, null=False)
    type = Varchar(length=16)
    #: The owner of a personal connection; NULL for the organization connection.
    user_id = Varchar(length=128, null=True, default=None)
    zoom_account_id = Varchar(length=64)
    #: The Zoom user who authorized: the member, or the Zoom admin who activated.
    zoom_user_id = Varchar(length=64)
    zoom_email = Varchar(length=320)
    status = Varchar(length=32)
    status_reason = Text(null=True, default=None)
    status_changed_at = Timestamptz()
    connected_at = Timestamptz()
    last_verified_at = Timestamptz(null=True, default=None)
    scopes = Text(default="")
    #: AES-256-GCM ciphertexts (persistence/token_cipher.py), the row id as associated data.
    access_token = Text(null=True, default=None, secret=True)
    refresh_token = Text(null=True, default=None, secret=True)
    access_token_expires_at = Timestamptz(null=True, default=None)

    #: R4 and one personal connection per member: NULL user_id counts as equal.
    one_live_connection = Unique([org_id, type, user_id], nulls_distinct=False)
    known_type = Check(f"type IN {CONNECTION_TYPES}")
    known_status = Check(f"status IN {CONNECTION_STATUSES}")
    personal_has_owner = Check("(type = 'personal') = (user_id IS NOT NULL)")
    #: Only the organization connection depends on an admin staying an admin (R11).
    admin_lost_is_organizational = Check("status <> 'admin_lost' OR type = 'organization'")


class ZoomIdentityClaimTable(Table, tablename="zoom_identity_claims"):
    """R13: a Zoom user is one member's personal connection; a Zoom account serves one organization.

    Keyed by the Zoom identity, not by organization, because the rule spans organizations.
    """

    #: `user:<zoom user id>` for a personal connection, `account:<zoom account id>` for an organization's.
    claim = Varchar(length=80, primary_key=True)
    org_id = Varchar(length=128)
    user_id = Varchar(length=128, null=True, default=None)
    connection_id = ForeignKey(ConnectionTable, on_delete=OnDelete.cascade, null=False)


class ZoomUserTable(Table, tablename="zoom_users"):
    """The users of the organization's Zoom account, mirrored: a member holds a seat when one matches."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    connection_id = ForeignKey(ConnectionTable, on_delete=OnDelete.cascade, null=False)
    zoom_user_id = Varchar(length=64)
    email_normalized = Varchar(length=320)
    #: Zoom's user status: active, inactive or pending; only active users give seats.
    status = Varchar(length=16)
    role_id = Varchar(length=16, default="")

    zoom_user_key = Unique([org_id, zoom_user_id])


class AuditEventTable(Table, tablename="audit_events"):
    """R18: every change of a connection, with actor, time and reason."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    at = Timestamptz()
    #: Who did it: `user:<id>`, `api_key:<label>`, `zoom`, `system`.
    actor = Varchar(length=200)
    action = Varchar(length=64)
    connection_id = UUID(null=True, default=None)
    connection_type = Varchar(length=16, null=True, default=None)
    user_id = Varchar(length=128, null=True, default=None)
    reason = Text(null=True, default=None)
    details = JSONB(default="{}")


class LaunchLinkTable(Table, tablename="launch_links"):
    """One-time links issued to the host product that open a member's session."""

    id = UUID(primary_key=True)
    org_id = Varchar(length=128)
    user_id = Varchar(length=128)
    #: SHA-256 of the link's secret; the secret itself is never stored.
    token_hash = Varchar(length=64, unique=True)
    next_path = Varchar(length=512)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class SessionTable(Table, tablename="sessions"):
    id = UUID(primary_key=True)
    org_id = Varchar(length=128)
    user_id = Varchar(length=128)
    #: SHA-256 of the cookie's value.
    token_hash = Varchar(length=64, unique=True)
    #: Echoed by the page in X-CSRF-Token on every change.
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class ActivationLinkTable(Table, tablename="activation_links"):
    """R3: capability URLs for a Zoom admin to connect the organization."""

    id = UUID(primary_key=True)
    org_id = ForeignKey(OrganizationTable, on_delete=OnDelete.cascade, null=False)
    #: SHA-256 of the link's 256-bit token; the token itself is never stored.
    token_hash = Varchar(length=64, unique=True)
    #: The owner or admin who created it.
    created_by = Varchar(length=128)
    #: Who Roomlink emailed the link to (the Zoom admin asked to complete it); null when shared by hand.
    emailed_to = Varchar(length=320, null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class OAuthStateTable(Table, tablename="oauth_states"):
    """Pending OAuth round trips to Zoom; each row is deleted when its callback arrives."""

    #: SHA-256 of the `state` parameter.
    state_hash = Varchar(length=64, primary_key=True)
    #: `personal` (a member connecting their own Zoom) or `organization` (an activation link being completed).
    connection_type = Varchar(length=16)
    org_id = Varchar(length=128)
    user_id = Varchar(length=128, null=True, default=None)
    activation_link_id = UUID(null=True, default=None)
    #: The PKCE verifier, encrypted like tokens with the state hash as associated data.
    code_verifier = Text(secret=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    #: SHA-256 of the secret in the cookie of the browser sent to Zoom; only its callback is accepted.
    browser_hash = Varchar(length=64, null=True, default=None)
    #: SHA-256 of the session token of the member who started it in a browser (null for an API key).
    session_hash = Varchar(length=64, null=True, default=None)

    known_connection_type = Check("connection_type IN ('personal', 'organization')")


class WebhookEventTable(Table, tablename="webhook_events"):
    """Zoom event notifications already accepted: a replay of the same delivery is ignored."""

    #: SHA-256 of the raw body Zoom signed.
    event_key = Varchar(length=64, primary_key=True)
    event = Varchar(length=64)
    received_at = Timestamptz()


class EventEndpointTable(Table, tablename="event_endpoints"):
    """Where the host product hears events (R24), registered with the API key."""

    #: The host product's identifier for the endpoint.
    id = Varchar(length=128, primary_key=True)
    #: https:// (http:// to loopback only where ROOMLINK_EVENTS_ALLOW_LOOPBACK is on), never a private address.
    url = Text()
    #: The event types it wants; empty: every type.
    event_types = JSONB(default="[]")
    #: Only this organization's events; NULL: every organization's.
    org_id = Varchar(length=128, null=True, default=None)
    #: The `whsec_` signing secret, sealed like Zoom tokens with the endpoint id as associated data.
    secret = Text(secret=True)
    #: After a rotation, the old secret also signs until `previous_secret_expires_at`.
    previous_secret = Text(null=True, default=None, secret=True)
    previous_secret_expires_at = Timestamptz(null=True, default=None)
    #: Set when the endpoint answered 410 Gone; nothing is sent until it is registered again.
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Text(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class EventTable(Table, tablename="events"):
    """The transactional outbox: an event exists only if the change it tells of committed."""

    #: Commit order within an organization (the unit of work writes events under its row lock).
    position = BigSerial(primary_key=True)
    #: The event's id, sent as `webhook-id`: the same on every attempt and redelivery.
    id = UUID(unique=True)
    org_id = Varchar(length=128)
    type = Varchar(length=64)
    #: What the event is about, the unit of ordering: `member:<user id>`, `organization`, `meeting:<id>`…
    subject = Varchar(length=200)
    #: The position deliveries are ordered by: its own, or that of the organization event it was fanned out from.
    ordinal = BigInt()
    occurred_at = Timestamptz()
    #: The event's `data`, as sent.
    data = JSONB(default="{}")
    #: An organization event: the organization's facts before and after, which the worker fans out to members.
    fan_out = JSONB(null=True, default=None)
    fan_out_state = Varchar(length=16, null=True, default=None)
    #: The last member (user id) fanned out: a worker that dies resumes after it.
    fan_out_cursor = Varchar(length=128, null=True, default=None)
    #: A member's own facts before their change: what an earlier organization event's fan-out, run later, reads.
    facts_before = JSONB(null=True, default=None)

    known_fan_out_state = Check("fan_out_state IN ('pending', 'running', 'done')")


class EventDeliveryTable(Table, tablename="event_deliveries"):
    """One event to one endpoint: attempts, backoff, outcome; the delivery log."""

    id = BigSerial(primary_key=True)
    endpoint_id = Varchar(length=128)
    event_position = BigInt()
    org_id = Varchar(length=128)
    subject = Varchar(length=200)
    ordinal = BigInt()
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    #: A worker is sending it until then; past it (the worker died), another worker sends it.
    leased_until = Timestamptz(null=True, default=None)
    #: Retries go on for days from here (server/event_delivery.py).
    first_attempt_at = Timestamptz(null=True, default=None)
    last_attempt_at = Timestamptz(null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()

    known_delivery_status = Check("status IN ('pending', 'delivered', 'failed')")
    one_delivery_per_endpoint = Unique([endpoint_id, event_position])


class MemberFactChangeTable(Table, tablename="member_fact_changes"):
    """A member's facts before a change (trigger, m0007), until its transaction commits and turns them into events."""

    id = BigSerial(primary_key=True)
    txid = BigInt()
    org_id = Varchar(length=128)
    user_id = Varchar(length=128)
    personal_status = Varchar(length=32)
    seated = Boolean()
    organization_removed = Boolean()


class OrganizationFactChangeTable(Table, tablename="organization_fact_changes"):
    """An organization's facts before a change (trigger, m0007), until its transaction commits."""

    id = BigSerial(primary_key=True)
    txid = BigInt()
    org_id = Varchar(length=128)
    connection_id = UUID(null=True, default=None)
    connection_status = Varchar(length=32, null=True, default=None)
    members_may_remove = Boolean(null=True, default=None)


MEETING_STATUSES = "('scheduled', 'pending', 'cancelled', 'needs_attention')"


class MeetingTable(Table, tablename="meetings"):
    """Meetings made in Zoom for members (R15: only what the features need; never the start URL)."""

    id = UUID(primary_key=True)
    org_id = Varchar(length=128)
    #: The member the meeting is for, its host.
    user_id = Varchar(length=128)
    #: R19: the connection and Zoom user that made it. No foreign key: a meeting outlives its connection.
    connection_id = UUID()
    connection_type = Varchar(length=16)
    zoom_user_id = Varchar(length=64)
    zoom_user_email = Varchar(length=320)
    topic = Varchar(length=200)
    start_time = Timestamptz()
    duration_minutes = Integer()
    timezone = Varchar(length=64)
    agenda = Text(default="")
    passcode = Varchar(length=10, null=True, default=None)
    zoom_meeting_id = BigInt(null=True, default=None)
    join_url = Text(null=True, default=None)
    status = Varchar(length=32)
    status_reason = Text(null=True, default=None)
    #: R17: Zoom put it in the host's Personal Meeting ID room.
    in_personal_room = Boolean(default=False)
    #: R23: unique per member (with org_id and user_id); a digest of the request it came with.
    idempotency_key = Varchar(length=255, null=True, default=None)
    request_hash = Varchar(length=64)
    #: Times Roomlink set out to make it in Zoom; after the first, Zoom is searched before creating.
    attempts = Integer(default=0)
    #: One caller at a time calls Zoom for a pending meeting: it holds the lease until then.
    lease_until = Timestamptz(null=True, default=None)
    #: A pending meeting waits until then (Zoom's daily limit resets at 00:00 UTC).
    not_before = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    #: R16: the remote session (the host product's id) the meeting is for; its latest meeting is its current one.
    session_id = Varchar(length=128, null=True, default=None)
    #: Zoom's settings.alternative_hosts as Roomlink set them (a session's co-hosts).
    alternative_hosts = Text(default="")
    #: Cancelled in Roomlink but still in Zoom: made through a connection that is gone, with a Zoom user no
    #: connection of Roomlink's reaches now. Owners and admins see it listed, to cancel it in Zoom.
    left_in_zoom = Boolean(default=False)
    #: Zoom's uuid of the meeting: what its events name it by when they show a PMI room's number as its id.
    zoom_uuid = Text(null=True, default=None)

    one_meeting_per_key = Unique([org_id, user_id, idempotency_key])
    known_status = Check(f"status IN {MEETING_STATUSES}")
    known_connection_type = Check(f"connection_type IN {CONNECTION_TYPES}")
    zoom_duration = Check("duration_minutes BETWEEN 1 AND 1440")


class MeetingBudgetTable(Table, tablename="meeting_budget"):
    """R20: meeting creates and updates spent per Zoom user per UTC day; never past Zoom's 100."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    zoom_user_id = Varchar(length=64)
    #: The UTC day, as Zoom counts it.
    day = Date()
    used = Integer(default=0)

    one_row_per_host_and_day = Unique([org_id, zoom_user_id, day])
    within_zoom_limit = Check("used BETWEEN 0 AND 100")


SESSION_STATUSES = "('no_bookings', 'link_pending', 'ready', 'needs_attention', 'cancelled')"


class RemoteSessionTable(Table, tablename="remote_sessions"):
    """The host product's classes, appointments and demos (R16); their meeting is in `meetings` (session_id)."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    #: The host product's id of the session.
    session_id = Varchar(length=128)
    host_user_id = Varchar(length=128)
    title = Varchar(length=200)
    start_time = Timestamptz()
    duration_minutes = Integer()
    timezone = Varchar(length=64)
    remote = Boolean(default=True)
    #: Seats; NULL for no limit.
    capacity = Integer(null=True, default=None)
    status = Varchar(length=32)
    status_reason = Text(null=True, default=None)
    #: Why the host cannot have a meeting made now (R7, R21), in words.
    host_problem = Text(null=True, default=None)
    #: The times the session became ready with a join link its participants were not sent yet; each
    #: participant is emailed once per time.
    link_generation = Integer(default=0)
    #: The join link participants were last sent: the session being ready again with it sends nothing.
    announced_join_url = Text(null=True, default=None)
    #: Members to make Zoom alternative hosts where Zoom allows it (seated in the host's Zoom account).
    co_host_user_ids = JSONB(default="[]")
    cancelled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()

    one_session_per_id = Unique([org_id, session_id])
    known_session_status = Check(f"status IN {SESSION_STATUSES}")
    session_duration = Check("duration_minutes BETWEEN 1 AND 1440")


class SessionBookingTable(Table, tablename="session_bookings"):
    """Who is booked into a session; a cancelled booking is deleted."""

    id = BigSerial(primary_key=True)
    org_id = Varchar(length=128)
    session_id = Varchar(length=128)
    #: The host product's id of the booking.
    booking_id = Varchar(length=128)
    name = Varchar(length=200)
    email = Varchar(length=320)
    user_id = Varchar(length=128, null=True, default=None)
    #: The session's link_generation this participant's link email was queued for (0: not yet).
    notified_generation = Integer(default=0)
    #: The link_generation whose email was claimed for sending: never sent twice.
    emailed_generation = Integer(default=0)
    created_at = Timestamptz()

    one_booking_per_id = Unique([org_id, session_id, booking_id])
