"""What the use cases need from storage. persistence/ implements these; tests use in-memory fakes."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

import msgspec

from domain.impact_model import CutOff
from domain.meeting_ports import MeetingBudget, MeetingRepository
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    Member,
    MemberRow,
    Organization,
    Policy,
    Role,
    Seat,
    ZoomUser,
)
from domain.session_model import BookingRepository, RemoteSessionRepository
from domain.zoom import TokenSet

#: Deliveries to one endpoint in flight at once, across workers: a slow endpoint holds up only its own (R24).
ENDPOINT_IN_FLIGHT = 4


class MemberInput(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    name: str
    role: Role


class MembersQuery(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    limit: int = 50
    #: Keyset position: (name, user_id) of the last row of the previous page.
    after: tuple[str, str] | None = None
    #: Names Z to A (then user ids, descending), instead of A to Z; `after` is a position in this order.
    descending: bool = False
    #: "organization", "personal" or "none".
    type: str | None = None
    connected: bool | None = None
    q: str | None = None


class MembersPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[MemberRow]
    #: Keyset position of the last item when more rows follow.
    next_after: tuple[str, str] | None
    #: How many rows the filter lists in all (its count, docs/design.md#r9); None for a search.
    total: int | None = None


class OrganizationOverview(msgspec.Struct, frozen=True, kw_only=True):
    organization: Organization
    #: The organization's connection, if it has one.
    connection: Connection | None
    counts: ConnectionCounts


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    at: datetime
    actor: str
    action: str
    connection_id: str | None = None
    connection_type: ConnectionType | None = None
    user_id: str | None = None
    reason: str | None = None
    details: dict[str, object] = {}


class Disconnection(msgspec.Struct, frozen=True, kw_only=True):
    """The last time the organization's Zoom was disconnected, from the audit trail (R18)."""

    at: datetime
    #: The name of the member who disconnected it; None when no member did (Zoom, Roomlink itself).
    by: str | None
    #: How many members relied on it then.
    affected_members: int | None = None


class MemberFacts(msgspec.Struct, frozen=True, kw_only=True):
    """A member's own facts that their effective connection follows (R7)."""

    personal: ConnectionStatus | None
    has_seat: bool
    removed_organization: bool


class OrganizationFacts(msgspec.Struct, frozen=True, kw_only=True):
    """The organization's facts that every member's effective connection follows (R7, R10)."""

    connection_id: str | None
    status: ConnectionStatus | None
    status_reason: str | None = None
    members_may_remove: bool


class OutboxEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event to the host product (R24): `{"id","type","occurred_at","org_id","data"}` on the wire."""

    id: str
    type: str
    org_id: str
    #: The unit of ordering: events of one subject reach each endpoint in the order they happened.
    subject: str
    occurred_at: datetime
    data: dict[str, object]
    #: An organization event's facts (before, after), for the worker to fan out to members.
    fan_out: tuple[OrganizationFacts, OrganizationFacts] | None = None
    #: A member's own change: their facts before it. An earlier organization event fanned out after
    #: this change reads the member's facts as they were from here.
    facts_before: MemberFacts | None = None


class FanOut(msgspec.Struct, frozen=True, kw_only=True):
    """An organization event still being fanned out to its members."""

    event_id: str
    #: Where its member events sort among the organization's events (the organization event's position).
    ordinal: int
    org_id: str
    occurred_at: datetime
    before: OrganizationFacts
    after: OrganizationFacts
    #: The last member (user id) fanned out; None before the first batch.
    cursor: str | None


class EventEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where the host product hears events (R24); its secret is never read back."""

    id: str
    url: str
    event_types: list[str]
    org_id: str | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class SigningSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """The secrets that sign now: the current one, and the previous one during its grace period."""

    current: str
    previous: str | None


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One event to one endpoint, as the delivery log shows it."""

    id: int
    endpoint_id: str
    event_id: str
    type: str
    subject: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    delivered_at: datetime | None


class ActivationLink(msgspec.Struct, frozen=True, kw_only=True):
    """R3: a capability URL to activate the organization connection; only its token's hash is kept."""

    id: str
    org_id: str
    created_by: str
    #: Who Roomlink emailed the link to (the Zoom admin asked to complete it), or None: shared by hand.
    emailed_to: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class OAuthState(msgspec.Struct, frozen=True, kw_only=True):
    """What a pending OAuth round trip is for; stored under the hash of its `state`, used once, and only
    by the browser it is bound to."""

    #: Personal: a member connecting their own Zoom; organization: an activation link being completed.
    connection_type: ConnectionType
    org_id: str
    user_id: str | None = None
    activation_link_id: str | None = None
    code_verifier: str
    expires_at: datetime
    #: Hash of the secret that the browser sent to Zoom holds in a cookie; None until one is sent.
    browser_hash: str | None = None
    #: Hash of the session token of the member who started it from a browser session (not an API key).
    session_hash: str | None = None

    def __repr__(self) -> str:
        return f"OAuthState(connection_type={self.connection_type.value!r}, org_id={self.org_id!r})"


class OrganizationRepository(Protocol):
    async def get(self, org_id: str) -> Organization | None: ...

    async def save(self, org_id: str, name: str, now: datetime) -> tuple[Organization, bool]:
        """Create or rename; True when created."""

    async def set_policy(self, org_id: str, policy: Policy, now: datetime) -> Organization: ...


class MemberRepository(Protocol):
    async def get(self, org_id: str, user_id: str) -> Member | None: ...

    async def find(self, user_id: str) -> Member | None:
        """The member with this user ID in whichever organization holds it."""

    async def save_many(
        self, org_id: str, members: list[MemberInput], now: datetime
    ) -> tuple[int, int]:
        """Create or update; (created, updated). Raises MemberOfAnotherOrganization."""

    async def delete(self, org_id: str, user_id: str) -> bool: ...

    async def managers(self, org_id: str) -> list[Member]:
        """Owners and admins, by name: who hears about the organization connection's incidents."""

    async def set_organization_removed(
        self, org_id: str, user_id: str, removed: bool, now: datetime
    ) -> None: ...


class ConnectionRepository(Protocol):
    """The connection rows: who is connected to which Zoom, and how it stands (R4, R7, R13, R14)."""

    async def organization(self, org_id: str) -> Connection | None: ...

    async def personal(self, org_id: str, user_id: str) -> Connection | None: ...

    async def add(self, connection: Connection) -> None:
        """Stores a live connection and claims its Zoom identity (R13); raises the R13 errors."""

    async def serialize(self, keys: list[str]) -> None:
        """Waits, in this order, for every other transaction that asked for one of `keys`, and holds them
        until this one ends: approvals finishing at once for one Zoom identity or one connection's place are
        decided one at a time, each seeing the one before (R4, R13)."""

    async def locked(self, connection: Connection) -> Connection | None:
        """The connection as committed now, its row locked until the transaction ends (its tokens with it:
        one token refresh at a time, across processes); None when the connection has ended."""

    async def set_status(
        self, connection: Connection, status: ConnectionStatus, reason: str | None, now: datetime
    ) -> None:
        """One write, however many members rely on the connection."""

    async def mark_verified(self, connection: Connection, now: datetime) -> None: ...

    async def by_id(self, org_id: str, connection_id: str) -> Connection | None: ...

    async def claimed(self, claim: str) -> Connection | None:
        """The live connection holding a Zoom identity: `user:<id>` or `account:<id>`."""

    async def live_organization_connections(self) -> list[Connection]: ...

    async def regrant(self, connection: Connection, zoom_user_id: str, zoom_email: str, now: datetime) -> Connection:
        """The same Zoom account approved again (R4): same connection, new admin, active again."""

    async def delete(self, connection: Connection) -> None:
        """Ends a connection: the row, its tokens and its account's Zoom users go (R14); history stays in the
        audit trail."""


class TokenVault(Protocol):
    """A connection's Zoom tokens, sealed at rest and bound to the connection's id."""

    async def store(self, connection: Connection, tokens: TokenSet) -> None:
        """Replaces the connection's tokens; nothing is stored for a connection that has ended."""

    async def read(self, connection: Connection) -> TokenSet | None:
        """None when the connection has ended or holds no tokens."""

    async def forget(self, connection: Connection) -> None:
        """The connection stays; its tokens go."""

    async def holders(self) -> list[Connection]:
        """Every connection that holds tokens, whatever its status."""


class ZoomDirectory(Protocol):
    """The Zoom users of each organization connection's account, as Roomlink mirrors them: seats (R5)."""

    async def seat(self, org_id: str, email: str) -> Seat | None:
        """The active Zoom user of the organization's account with this member's email (R5)."""

    async def sync(self, connection: Connection, users: list[ZoomUser]) -> int:
        """Mirror the account's users as Zoom lists them now (seats follow, R5); writes only rows that
        changed and returns how many did."""

    async def upsert(self, connection: Connection, user: ZoomUser) -> None:
        """Adds the user, or changes a known one's email and status (its role stays as it was mirrored)."""

    async def update(self, connection: Connection, zoom_user_id: str, email: str | None, status: str | None) -> None:
        """Changes what is given of a known user; an unknown one is left unknown."""

    async def delete(self, connection: Connection, zoom_user_id: str) -> None: ...


class ActivationLinkRepository(Protocol):
    async def add(self, link: ActivationLink, token_hash: str) -> None: ...

    async def get(self, org_id: str, link_id: str) -> ActivationLink | None: ...

    async def find(self, token_hash: str) -> ActivationLink | None: ...

    async def mark_used(self, link: ActivationLink, now: datetime) -> None: ...

    async def revoke(self, link: ActivationLink, now: datetime) -> None: ...

    async def pending(self, org_id: str, now: datetime) -> list[ActivationLink]:
        """Not used, not revoked, not expired; newest first."""

    async def revoke_pending(self, org_id: str, now: datetime) -> int:
        """Revokes every pending link of the organization; how many were."""


class OAuthStateRepository(Protocol):
    async def add(self, state_hash: str, state: OAuthState) -> None: ...

    async def pending(self, state_hash: str, now: datetime) -> OAuthState | None:
        """The state while it waits for its callback, left as it is; None if unknown or expired."""

    async def bind(self, state_hash: str, browser_hash: str, now: datetime) -> OAuthState | None:
        """Binds a waiting state to a browser, once; None if unknown, expired or already bound."""

    async def take(self, state_hash: str, browser_hash: str | None, now: datetime) -> OAuthState | None:
        """The state bound to this browser, removed so that it cannot be used again; None if unknown,
        expired or bound to another browser (it is then left as it is)."""

    async def spend(self, state_hash: str) -> None:
        """Removes the state whatever browser it is bound to: a callback that brought it was refused."""


class MembersTable(Protocol):
    async def page(self, query: MembersQuery) -> MembersPage: ...

    async def cut_off(self, org_id: str) -> CutOff:
        """Who the organization's Zoom would serve were it working, and who keeps their own Zoom: one read."""

    async def counts(self, org_id: str) -> ConnectionCounts: ...

    async def overview(self, org_id: str) -> OrganizationOverview | None:
        """The organization, its connection and its members' counts, as one read sees them (the owner's
        page); None when there is no such organization."""

    async def count_relying_on_organization(self, org_id: str) -> int: ...


class AuditTrail(Protocol):
    async def record(self, event: AuditEvent) -> None: ...

    async def last_organization_disconnection(self, org_id: str) -> Disconnection | None:
        """When the organization's Zoom was last disconnected, and by whom; None if it never was."""


class JobQueue(Protocol):
    """Durable background work, enqueued in the same transaction as the change that calls for it."""

    async def enqueue(self, kind: str, payload: dict[str, object], dedupe_key: str | None = None) -> None: ...


class WebhookLog(Protocol):
    async def accept(self, event_key: str, event: str, now: datetime) -> bool:
        """False when this delivery was already accepted (a replay)."""


class Outbox(Protocol):
    """Events to the host product, written in the transaction of the change they tell of (R24).

    Changes of members' and organizations' connections are turned into events when the unit of
    work commits (domain.events.transaction_events); other use cases `add` theirs.
    """

    async def add(self, event: OutboxEvent) -> None: ...

    async def fan_out(self, event_id: str) -> FanOut | None:
        """The organization event's fan-out, locked until the transaction ends; None once it is done."""

    async def member_states(self, fan_out: FanOut) -> list[tuple[MemberFacts, int]]:
        """How many of the organization's members held each combination of facts at the organization event."""

    async def members_after(self, fan_out: FanOut, limit: int) -> list[tuple[str, MemberFacts]]:
        """The members after the fan-out's cursor by user id, with their facts as they were at the organization
        event (a member's own later change says what they were); members added since are left out."""

    async def count_affected(self, fan_out: FanOut, affected: int) -> None:
        """The organization event says how many members it moves, and may go out."""

    async def add_fanned_out(self, fan_out: FanOut, events: list[OutboxEvent]) -> None: ...

    async def advance(self, fan_out: FanOut, cursor: str | None, done: bool) -> None: ...

    async def refresh_statistics(self) -> None:
        """After a large fan-out: the planner learns the outbox grew (claiming due deliveries depends on it)."""

    async def unfinished_fan_outs(self) -> list[str]:
        """Fan-outs left unfinished for a while (their job failed for good, or was lost)."""


class EventEndpointRepository(Protocol):
    async def get(self, endpoint_id: str) -> EventEndpoint | None: ...

    async def save(
        self, endpoint_id: str, url: str, event_types: list[str], org_id: str | None, secret: str, now: datetime
    ) -> tuple[EventEndpoint, bool]:
        """Create with `secret` (True), or update what it wants and enable it again; the secret stays."""

    async def delete(self, endpoint_id: str) -> bool: ...

    async def rotate_secret(self, endpoint_id: str, secret: str, previous_until: datetime, now: datetime) -> bool:
        """`secret` signs from now on; the one it replaces also signs until `previous_until`."""

    async def signing_secrets(self, endpoint_id: str, now: datetime) -> SigningSecrets | None:
        """The secrets that sign the endpoint's deliveries now (None: no such endpoint)."""

    async def hearing(self, org_id: str) -> list[EventEndpoint]:
        """The endpoints this organization's events go to: registered for it or for every organization, by id."""

    async def disable(self, endpoint_id: str, reason: str, now: datetime) -> None: ...


class LeasedDelivery(Protocol):
    """A delivery leased to a worker: what recording its outcome needs (the sender reads the rest)."""

    @property
    def id(self) -> int: ...

    @property
    def endpoint_id(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @property
    def first_attempt_at(self) -> datetime: ...


class DeliveryLog(Protocol):
    async def page(
        self, endpoint_id: str, status: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Delivery], int | None]:
        """Newest first, and the id to continue before when more follow."""

    async def redeliver(self, endpoint_id: str, delivery_id: int) -> bool: ...

    async def organization_page(
        self, org_id: str, status: str | None, before_id: int | None, limit: int
    ) -> tuple[list[Delivery], int | None]:
        """Deliveries of the organization's events to any endpoint, newest first, and the id to continue before."""

    async def of_organization(self, org_id: str, delivery_id: int) -> Delivery | None: ...

    async def claim(self, limit: int, lease_s: float, per_endpoint: int = ENDPOINT_IN_FLIGHT) -> list[LeasedDelivery]:
        """Due deliveries, leased for `lease_s`: at most one per (endpoint, subject), and none of an endpoint
        that already has `per_endpoint` leased (in flight, on any worker)."""

    async def delivered(self, delivery_id: int, status_code: int) -> None: ...

    async def failed(self, delivery_id: int, status_code: int | None, error: str, retry_at: datetime | None) -> None:
        """`retry_at` None: failed for good (it stays in the log for redelivery)."""


class SessionRecord(Protocol):
    org_id: str
    user_id: str
    csrf_token: str


class LaunchRecord(Protocol):
    org_id: str
    user_id: str
    next_path: str


class BrowserSessions(Protocol):
    """Launch links and the browser sessions they open (domain.browser_sessions); only hashes are kept."""

    async def add_launch_link(
        self, org_id: str, user_id: str, token_hash: str, next_path: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def consume_launch_link(self, token_hash: str, now: datetime) -> LaunchRecord | None:
        """Single use: a replay finds nothing."""

    async def add_session(
        self, org_id: str, user_id: str, token_hash: str, csrf_token: str, now: datetime, expires_at: datetime
    ) -> None: ...

    async def session(self, token_hash: str, now: datetime) -> SessionRecord | None:
        """The session while it lasts."""


class Housekeeping(Protocol):
    async def purge_expired(self, now: datetime) -> dict[str, int]:
        """Rows deleted per table."""


class UnitOfWork(Protocol):
    """A transaction: nothing is kept unless `commit()` is called before the block ends."""

    organizations: OrganizationRepository
    members: MemberRepository
    connections: ConnectionRepository
    tokens: TokenVault
    zoom_users: ZoomDirectory
    members_table: MembersTable
    activation_links: ActivationLinkRepository
    oauth_states: OAuthStateRepository
    audit: AuditTrail
    jobs: JobQueue
    webhooks: WebhookLog
    outbox: Outbox
    event_endpoints: EventEndpointRepository
    deliveries: DeliveryLog
    sessions: BrowserSessions
    housekeeping: Housekeeping
    meetings: MeetingRepository
    meeting_budget: MeetingBudget
    remote_sessions: RemoteSessionRepository
    bookings: BookingRepository

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Begins a transaction: what a use case takes, so that it owns its sequence and its transactions
    (`async with uow() as tx: ...; await tx.commit()`), and nothing else opens one."""

    def __call__(self, read_only: bool = False) -> AbstractAsyncContextManager[UnitOfWork]: ...
