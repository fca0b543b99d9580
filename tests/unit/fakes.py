"""In-memory stand-ins for the domain's ports, and the journeys unit tests take through the use cases.

Everything lives in plain dicts and lists. A unit of work copies the committed tables when it
begins and puts its copy back on `commit()`, so leaving without a commit keeps nothing, as a
PostgreSQL transaction would. The fakes keep the promises written on the ports (and kept by
persistence/): the R13 claims, one member per user ID, single-use OAuth states, seats by
case-insensitive email, the members table decided by domain.precedence.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec

from domain import connecting, provisioning
from domain.access import Principal
from domain.emails import email_key
from domain.errors import (
    ConnectionChangedConcurrently,
    MemberOfAnotherOrganization,
    ZoomAccountServesAnotherOrganization,
    ZoomRefused,
    ZoomUserAlreadyConnected,
)
from domain.impact_model import CutOff, UpcomingAffected
from domain.model import (
    Connection,
    ConnectionCounts,
    ConnectionStatus,
    ConnectionType,
    EffectiveConnection,
    Member,
    MemberRow,
    Organization,
    Policy,
    Role,
    Seat,
    ZoomUser,
)
from domain.ports import (
    ActivationLink,
    AuditEvent,
    Disconnection,
    MemberInput,
    MembersPage,
    MembersQuery,
    OAuthState,
    OrganizationOverview,
)
from domain.precedence import effective_connection
from domain.zoom import TokenSet, ZoomApp, ZoomProfile

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Job(NamedTuple):
    kind: str
    payload: dict[str, object]
    dedupe_key: str | None


@dataclass
class Tables:
    organizations: dict[str, Organization] = field(default_factory=dict)
    #: (org_id, user_id) → member.
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    #: connection id → connection.
    connections: dict[str, Connection] = field(default_factory=dict)
    #: connection id → its tokens.
    tokens: dict[str, TokenSet] = field(default_factory=dict)
    #: connection id → the Zoom users of the organization's account, by Zoom user id (emails normalized).
    zoom_users: dict[str, dict[str, ZoomUser]] = field(default_factory=dict)
    #: `user:<zoom user id>` or `account:<zoom account id>` → the connection id holding it (R13).
    claims: dict[str, str] = field(default_factory=dict)
    activation_links: dict[str, ActivationLink] = field(default_factory=dict)
    #: token hash → activation link id.
    activation_tokens: dict[str, str] = field(default_factory=dict)
    #: state hash → state.
    oauth_states: dict[str, OAuthState] = field(default_factory=dict)
    audit: list[AuditEvent] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    webhook_events: set[str] = field(default_factory=set)


class FakeStore:
    """The committed state; `uow()` begins a transaction over it."""

    def __init__(self) -> None:
        self.tables = Tables()

    def uow(self, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def audit(self) -> list[AuditEvent]:
        return list(self.tables.audit)

    @property
    def jobs(self) -> list[Job]:
        return list(self.tables.jobs)


class FakeUnitOfWork:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._tables = copy.deepcopy(store.tables)
        self.organizations = FakeOrganizations(self._tables)
        self.members = FakeMembers(self._tables)
        self.connections = FakeConnections(self._tables)
        self.tokens = FakeTokenVault(self._tables)
        self.zoom_users = FakeZoomDirectory(self._tables)
        self.members_table = FakeMembersTable(self._tables)
        self.activation_links = FakeActivationLinks(self._tables)
        self.oauth_states = FakeOAuthStates(self._tables)
        self.audit = FakeAuditTrail(self._tables)
        self.jobs = FakeJobQueue(self._tables)
        self.webhooks = FakeWebhookLog(self._tables)
        self.remote_sessions = self.meetings = NothingUpcoming()
        self.commits = 0

    async def commit(self) -> None:
        self._store.tables = copy.deepcopy(self._tables)
        self.commits += 1

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Leaving without commit() keeps nothing, as a rolled-back transaction."""


class NothingUpcoming:
    """Sessions and meetings, where a unit test has none."""

    async def upcoming_without_personal_host(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        return UpcomingAffected(total=0, first=[])

    async def upcoming_through_organization(self, org_id: str, now: datetime, first: int) -> UpcomingAffected:
        return UpcomingAffected(total=0, first=[])


class FakeOrganizations:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def get(self, org_id: str) -> Organization | None:
        return self._t.organizations.get(org_id)

    async def save(self, org_id: str, name: str, now: datetime) -> tuple[Organization, bool]:
        existing = self._t.organizations.get(org_id)
        if existing is None:
            saved = Organization(org_id=org_id, name=name, policy=Policy(), created_at=now, updated_at=now)
        else:
            saved = _replace(existing, name=name, updated_at=now)
        self._t.organizations[org_id] = saved
        return saved, existing is None

    async def set_policy(self, org_id: str, policy: Policy, now: datetime) -> Organization:
        saved = _replace(self._t.organizations[org_id], policy=policy, updated_at=now)
        self._t.organizations[org_id] = saved
        return saved


class FakeMembers:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def get(self, org_id: str, user_id: str) -> Member | None:
        return self._t.members.get((org_id, user_id))

    async def find(self, user_id: str) -> Member | None:
        return next((m for m in self._t.members.values() if m.user_id == user_id), None)

    async def managers(self, org_id: str) -> list[Member]:
        return sorted(
            (m for m in self._t.members.values() if m.org_id == org_id and m.role.manages_organization),
            key=lambda m: m.name,
        )

    async def save_many(self, org_id: str, members: list[MemberInput], now: datetime) -> tuple[int, int]:
        taken = sorted(
            m.user_id for m in self._t.members.values() if m.org_id != org_id and m.user_id in {i.user_id for i in members}
        )
        if taken:
            raise MemberOfAnotherOrganization(
                f"A user belongs to one organization; already a member elsewhere: {', '.join(taken)}.",
                errors={"user_id": "already a member of another organization"},
            )
        created = updated = 0
        for given in members:
            key = (org_id, given.user_id)
            existing = self._t.members.get(key)
            if existing is None:
                self._t.members[key] = Member(
                    org_id=org_id,
                    user_id=given.user_id,
                    email=given.email.strip(),
                    name=given.name,
                    role=given.role,
                    created_at=now,
                    updated_at=now,
                )
                created += 1
            else:
                self._t.members[key] = _replace(
                    existing, email=given.email.strip(), name=given.name, role=given.role, updated_at=now
                )
                updated += 1
        return created, updated

    async def delete(self, org_id: str, user_id: str) -> bool:
        if self._t.members.pop((org_id, user_id), None) is None:
            return False
        for connection in list(self._t.connections.values()):
            if connection.org_id == org_id and connection.user_id == user_id:
                _drop_connection(self._t, connection.id)
        return True

    async def set_organization_removed(self, org_id: str, user_id: str, removed: bool, now: datetime) -> None:
        key = (org_id, user_id)
        if key in self._t.members:
            self._t.members[key] = _replace(self._t.members[key], organization_removed=removed, updated_at=now)


class FakeConnections:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def serialize(self, keys: list[str]) -> None:
        """One fake transaction at a time already."""

    async def organization(self, org_id: str) -> Connection | None:
        return _organization_connection(self._t, org_id)

    async def personal(self, org_id: str, user_id: str) -> Connection | None:
        return _personal_connection(self._t, org_id, user_id)

    async def add(self, connection: Connection) -> None:
        same_slot = [
            c
            for c in self._t.connections.values()
            if (c.org_id, c.type, c.user_id) == (connection.org_id, connection.type, connection.user_id)
        ]
        if same_slot:  # one connection per organization, and per member (unique constraint)
            raise ConnectionChangedConcurrently("Zoom was just connected here by another request; reload to see it.")
        claim = _claim(connection)
        if claim in self._t.claims:
            if connection.type is ConnectionType.PERSONAL:
                raise ZoomUserAlreadyConnected(f"The Zoom user {connection.zoom_email} is already connected by another person.")
            raise ZoomAccountServesAnotherOrganization("This Zoom account is already connected to another organization.")
        self._t.connections[connection.id] = connection
        self._t.claims[claim] = connection.id

    async def locked(self, connection: Connection) -> Connection | None:
        return self._t.connections.get(connection.id)

    async def set_status(
        self, connection: Connection, status: ConnectionStatus, reason: str | None, now: datetime
    ) -> None:
        current = self._t.connections.get(connection.id)
        if current is not None:
            self._t.connections[connection.id] = _replace(
                current, status=status, status_reason=reason, status_changed_at=now
            )

    async def mark_verified(self, connection: Connection, now: datetime) -> None:
        current = self._t.connections.get(connection.id)
        if current is not None:
            self._t.connections[connection.id] = _replace(current, last_verified_at=now)

    async def by_id(self, org_id: str, connection_id: str) -> Connection | None:
        connection = self._t.connections.get(connection_id)
        return connection if connection is not None and connection.org_id == org_id else None

    async def claimed(self, claim: str) -> Connection | None:
        connection_id = self._t.claims.get(claim)
        return self._t.connections.get(connection_id) if connection_id else None

    async def live_organization_connections(self) -> list[Connection]:
        return [
            c
            for c in self._t.connections.values()
            if c.type is ConnectionType.ORGANIZATION and c.status in (ConnectionStatus.ACTIVE, ConnectionStatus.ADMIN_LOST)
        ]

    async def regrant(self, connection: Connection, zoom_user_id: str, zoom_email: str, now: datetime) -> Connection:
        updated = msgspec.structs.replace(
            self._t.connections[connection.id],
            zoom_user_id=zoom_user_id,
            zoom_email=zoom_email,
            status=ConnectionStatus.ACTIVE,
            status_reason=None,
            status_changed_at=now,
            connected_at=now,
            last_verified_at=now,
        )
        self._t.connections[connection.id] = updated
        return updated

    async def delete(self, connection: Connection) -> None:
        _drop_connection(self._t, connection.id)


class FakeTokenVault:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def store(self, connection: Connection, tokens: TokenSet) -> None:
        """On the connection's row: a connection that has ended keeps none."""
        if connection.id in self._t.connections:
            self._t.tokens[connection.id] = tokens

    async def read(self, connection: Connection) -> TokenSet | None:
        return self._t.tokens.get(connection.id)

    async def forget(self, connection: Connection) -> None:
        self._t.tokens.pop(connection.id, None)

    async def holders(self) -> list[Connection]:
        return [c for c in self._t.connections.values() if c.id in self._t.tokens]


class FakeZoomDirectory:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def seat(self, org_id: str, email: str) -> Seat | None:
        member = next(
            (m for m in self._t.members.values() if m.org_id == org_id and email_key(m.email) == email_key(email)),
            None,
        )
        if member is None:
            return None
        user = _seat_user(self._t, member)
        return Seat(user_id=member.user_id, zoom_user_id=user.zoom_user_id, zoom_email=user.email) if user else None

    async def sync(self, connection: Connection, users: list[ZoomUser]) -> int:
        if connection.id not in self._t.connections:
            return 0
        before = self._t.zoom_users.get(connection.id, {})
        after = {u.zoom_user_id: _normalized(u) for u in users}
        # As PostgreSQL writes them: a changed user is one row deleted and one inserted.
        removed = sum(1 for key in before if before[key] != after.get(key))
        written = sum(1 for key in after if after[key] != before.get(key))
        self._t.zoom_users[connection.id] = after
        return removed + written

    async def upsert(self, connection: Connection, user: ZoomUser) -> None:
        if connection.id in self._t.connections:
            users = self._t.zoom_users.setdefault(connection.id, {})
            known = users.get(user.zoom_user_id)
            users[user.zoom_user_id] = _normalized(user if known is None else _replace(user, role_id=known.role_id))

    async def update(self, connection: Connection, zoom_user_id: str, email: str | None, status: str | None) -> None:
        users = self._t.zoom_users.get(connection.id, {})
        if zoom_user_id in users:
            user = users[zoom_user_id]
            users[zoom_user_id] = _replace(
                user, email=email_key(email) if email is not None else user.email, status=status or user.status
            )

    async def delete(self, connection: Connection, zoom_user_id: str) -> None:
        self._t.zoom_users.get(connection.id, {}).pop(zoom_user_id, None)


class FakeMembersTable:
    """R9 over the fake tables: every member's row decided by domain.precedence."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def page(self, query: MembersQuery) -> MembersPage:
        words = _search_words(query.q)[:8] if query.q is not None else None
        rows = sorted(
            (row for row in self._rows(query.org_id) if _selected(row, query, words)),
            key=lambda row: (row.name, row.user_id),
            reverse=query.descending,
        )
        total = len(rows) if query.q is None else None
        if query.after is not None:
            past = (lambda key: key < query.after) if query.descending else (lambda key: key > query.after)
            rows = [row for row in rows if past((row.name, row.user_id))]
        items = rows[: query.limit]
        more = len(rows) > query.limit
        return MembersPage(items=items, next_after=(items[-1].name, items[-1].user_id) if more else None, total=total)

    async def counts(self, org_id: str) -> ConnectionCounts:
        rows = self._rows(org_id)
        return ConnectionCounts(
            organization=sum(1 for r in rows if r.type is ConnectionType.ORGANIZATION),
            personal=sum(1 for r in rows if r.type is ConnectionType.PERSONAL),
            not_connected=sum(1 for r in rows if not r.connected),
            total=len(rows),
        )

    async def overview(self, org_id: str) -> OrganizationOverview | None:
        organization = self._t.organizations.get(org_id)
        if organization is None:
            return None
        return OrganizationOverview(
            organization=organization,
            connection=_organization_connection(self._t, org_id),
            counts=await self.counts(org_id),
        )

    async def count_relying_on_organization(self, org_id: str) -> int:
        return sum(1 for effective in self._effective(org_id).values() if effective.type is ConnectionType.ORGANIZATION)

    def _rows(self, org_id: str) -> list[MemberRow]:
        return [row for row, _ in self._decided(org_id)]

    async def cut_off(self, org_id: str) -> CutOff:
        organization = self._t.organizations.get(org_id)
        lost = kept = 0
        for member in (m for m in self._t.members.values() if m.org_id == org_id):
            personal = _personal_connection(self._t, org_id, member.user_id)
            working = effective_connection(
                personal=personal.status if personal else None,
                organization=ConnectionStatus.ACTIVE,
                has_seat=_seat_user(self._t, member) is not None,
                removed_organization=member.organization_removed,
                members_may_remove=organization.policy.allow_members_to_remove if organization else False,
            )
            lost += working.type is ConnectionType.ORGANIZATION
            kept += personal is not None and personal.status is ConnectionStatus.ACTIVE
        return CutOff(lost_zoom=lost, keep_personal=kept)

    def _effective(self, org_id: str) -> dict[str, EffectiveConnection]:
        return {row.user_id: effective for row, effective in self._decided(org_id)}

    def _decided(self, org_id: str) -> list[tuple[MemberRow, EffectiveConnection]]:
        organization = self._t.organizations.get(org_id)
        members_may_remove = organization.policy.allow_members_to_remove if organization else False
        org_connection = _organization_connection(self._t, org_id)
        rows = []
        for member in (m for m in self._t.members.values() if m.org_id == org_id):
            personal = _personal_connection(self._t, org_id, member.user_id)
            effective = effective_connection(
                personal=personal.status if personal else None,
                organization=org_connection.status if org_connection else None,
                has_seat=_seat_user(self._t, member) is not None,
                removed_organization=member.organization_removed,
                members_may_remove=members_may_remove,
            )
            seat = _seat_user(self._t, member)
            zoom_user_email = None
            if effective.type is ConnectionType.PERSONAL:
                status = personal.status if personal else None
                zoom_user_email = personal.zoom_email if personal else None
            elif effective.type is ConnectionType.ORGANIZATION:
                status = org_connection.status if org_connection else None
                zoom_user_email = seat.email if seat else None
            else:
                status = None
            row = MemberRow(
                user_id=member.user_id,
                name=member.name,
                email=member.email,
                role=member.role,
                connected=effective.connected,
                type=effective.serving_type,
                status=status,
                reason=effective.reason,
                zoom_user_email=zoom_user_email,
            )
            rows.append((row, effective))
        return rows


class FakeActivationLinks:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, link: ActivationLink, token_hash: str) -> None:
        assert token_hash not in self._t.activation_tokens
        self._t.activation_links[link.id] = link
        self._t.activation_tokens[token_hash] = link.id

    async def get(self, org_id: str, link_id: str) -> ActivationLink | None:
        link = self._t.activation_links.get(link_id)
        return link if link is not None and link.org_id == org_id else None

    async def find(self, token_hash: str) -> ActivationLink | None:
        link_id = self._t.activation_tokens.get(token_hash)
        return self._t.activation_links.get(link_id) if link_id else None

    async def mark_used(self, link: ActivationLink, now: datetime) -> None:
        self._t.activation_links[link.id] = _replace(self._t.activation_links[link.id], used_at=now)

    async def revoke(self, link: ActivationLink, now: datetime) -> None:
        self._t.activation_links[link.id] = _replace(self._t.activation_links[link.id], revoked_at=now)

    async def pending(self, org_id: str, now: datetime) -> list[ActivationLink]:
        pending = [link for link in self._t.activation_links.values() if link.org_id == org_id and _pending(link, now)]
        return sorted(pending, key=lambda link: (-link.created_at.timestamp(), link.id))

    async def revoke_pending(self, org_id: str, now: datetime) -> int:
        pending = await self.pending(org_id, now)
        for link in pending:
            await self.revoke(link, now)
        return len(pending)


class FakeOAuthStates:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def add(self, state_hash: str, state: OAuthState) -> None:
        assert state_hash not in self._t.oauth_states
        self._t.oauth_states[state_hash] = state

    async def pending(self, state_hash: str, now: datetime) -> OAuthState | None:
        state = self._t.oauth_states.get(state_hash)
        return state if state is not None and state.expires_at > now else None

    async def bind(self, state_hash: str, browser_hash: str, now: datetime) -> OAuthState | None:
        state = await self.pending(state_hash, now)
        if state is None or state.browser_hash is not None:
            return None
        self._t.oauth_states[state_hash] = _replace(state, browser_hash=browser_hash)
        return self._t.oauth_states[state_hash]

    async def take(self, state_hash: str, browser_hash: str | None, now: datetime) -> OAuthState | None:
        state = self._t.oauth_states.get(state_hash)
        if state is None or browser_hash is None or state.browser_hash != browser_hash:
            return None
        del self._t.oauth_states[state_hash]
        return state if state.expires_at > now else None

    async def spend(self, state_hash: str) -> None:
        self._t.oauth_states.pop(state_hash, None)


class FakeAuditTrail:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def record(self, event: AuditEvent) -> None:
        self._t.audit.append(event)

    async def last_organization_disconnection(self, org_id: str) -> Disconnection | None:
        ended = [
            event for event in self._t.audit
            if event.org_id == org_id and event.connection_type is ConnectionType.ORGANIZATION
            and event.action == "disconnected"
        ]
        if not ended:
            return None
        last = ended[-1]
        member = self._t.members.get((org_id, last.actor.rpartition("user:")[2])) if "user:" in last.actor else None
        return Disconnection(at=last.at, by=member.name if member else None)


class FakeJobQueue:
    """A job whose dedupe key is already queued is not queued again."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def enqueue(self, kind: str, payload: dict[str, object], dedupe_key: str | None = None) -> None:
        if dedupe_key is not None and any(job.dedupe_key == dedupe_key for job in self._t.jobs):
            return
        self._t.jobs.append(Job(kind, payload, dedupe_key))


class FakeWebhookLog:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    async def accept(self, event_key: str, event: str, now: datetime) -> bool:
        if event_key in self._t.webhook_events:
            return False
        self._t.webhook_events.add(event_key)
        return True


class Invitation(NamedTuple):
    to: str
    org_id: str
    requested_by: str
    url: str
    link_id: str


class FakeInvitations:
    """domain.connecting.Invitations: the activation emails sent; `failing` makes the mail server refuse."""

    def __init__(self) -> None:
        self.sent: list[Invitation] = []
        self.failing = False

    async def send(self, to: str, organization: Organization, requested_by: Member, url: str, link: ActivationLink) -> None:
        if self.failing:
            raise OSError("the mail server refused the message")
        self.sent.append(Invitation(to, organization.org_id, requested_by.user_id, url, link.id))


class FakeZoom:
    """Zoom's OAuth and Users API as the domain sees them, scripted by the test.

    `approve(profile)` is a Zoom user pressing *Allow*: it returns the code Zoom would send back.
    Codes work once; with `authorize_url` the code is bound to that URL's PKCE challenge.
    """

    def __init__(self) -> None:
        #: account id → the users `account_users` lists.
        self.accounts: dict[str, list[ZoomUser]] = {}
        #: Every token revoked, with the app it was revoked for.
        self.revoked: list[tuple[ZoomApp, TokenSet]] = []
        #: Every token set handed out by `exchange_code`.
        self.issued: list[TokenSet] = []
        #: When set, Zoom refuses every code.
        self.refusing = False
        self._codes: dict[str, tuple[ZoomProfile, str | None]] = {}
        self._grants: dict[str, ZoomProfile] = {}
        self._serial = itertools.count(1)

    def approve(self, profile: ZoomProfile, authorize_url: str | None = None) -> str:
        challenge = parse_qs(urlsplit(authorize_url).query)["code_challenge"][0] if authorize_url else None
        code = f"code-{next(self._serial)}"
        self._codes[code] = (profile, challenge)
        return code

    def authorize_url(self, app: ZoomApp, state: str, code_verifier: str) -> str:
        query = urlencode({"app": app.value, "state": state, "code_challenge": s256(code_verifier)})
        return f"https://zoom.test/oauth/authorize?{query}"

    async def exchange_code(self, app: ZoomApp, code: str, code_verifier: str) -> TokenSet:
        approved = self._codes.pop(code, None)
        if self.refusing or approved is None:
            raise ZoomRefused("Zoom did not accept the authorization code.")
        profile, challenge = approved
        if challenge is not None and challenge != s256(code_verifier):
            raise ZoomRefused("Invalid code_verifier.")
        serial = next(self._serial)
        tokens = TokenSet(
            access_token=f"access-{app.value}-{serial}",
            refresh_token=f"refresh-{app.value}-{serial}",
            expires_at=NOW + timedelta(hours=1),
            scope=app.value,
        )
        self._grants[tokens.access_token] = profile
        self.issued.append(tokens)
        return tokens

    async def me(self, tokens: TokenSet) -> ZoomProfile:
        return self._grants[tokens.access_token]

    async def account_users(self, tokens: TokenSet) -> list[ZoomUser]:
        return list(self.accounts.get(self._grants[tokens.access_token].account_id, []))

    async def revoke(self, app: ZoomApp, tokens: TokenSet) -> None:
        self.revoked.append((app, tokens))


def s256(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# Journeys through the use cases, for arranging a test.


def principal(org_id: str, user_id: str, role: Role = Role.MEMBER) -> Principal:
    return Principal(org_id=org_id, user_id=user_id, role=role, actor=f"user:{user_id}")


def person(user_id: str, role: Role = Role.MEMBER, *, email: str | None = None, name: str | None = None) -> MemberInput:
    return MemberInput(user_id=user_id, email=email or f"{user_id}@acme.example", name=name or user_id.title(), role=role)


def zoom_user(zoom_user_id: str, email: str, role_id: str = "2", status: str = "active") -> ZoomUser:
    return ZoomUser(zoom_user_id=zoom_user_id, email=email, role_id=role_id, status=status)


def profile_of(user: ZoomUser, account_id: str) -> ZoomProfile:
    return ZoomProfile(
        zoom_user_id=user.zoom_user_id, email=user.email, account_id=account_id, role_id=user.role_id, status=user.status
    )


async def organization_with(store: FakeStore, org_id: str, *people: MemberInput, name: str = "Acme") -> None:
    await provisioning.provision_organization(store.uow, org_id, name, NOW)
    if people:
        await provisioning.provision_members(store.uow, org_id, list(people), NOW)


async def connect_personal(
    store: FakeStore, zoom: FakeZoom, who: Principal, profile: ZoomProfile, now: datetime = NOW
) -> Connection:
    state, verifier, browser = f"state-{who.user_id}-{now.timestamp()}", f"verifier-{who.user_id}", f"browser-{who.user_id}"
    await connecting.start_personal_connection(store.uow, who, state, verifier, None, now)
    url = await connecting.send_browser_to_zoom(store.uow, zoom, state, browser, None, now)
    code = zoom.approve(profile, url)
    pending = await connecting.take_oauth_state(store.uow, state, browser, now)
    grant = await connecting.collect_grant(zoom, pending, code)
    return await connecting.finish_personal_connection(store.uow, zoom, pending, grant, now)


async def new_activation_link(
    store: FakeStore, by: Principal, token: str, now: datetime = NOW, ttl: timedelta = timedelta(days=7)
) -> ActivationLink:
    return await connecting.create_activation_link(
        store.uow, None, by, by.org_id, token, activation_url(token), None, now, ttl
    )


def activation_url(token: str) -> str:
    return f"https://roomlink.test/activate/{token}"


async def pending_activation(store: FakeStore, zoom: FakeZoom, token: str, now: datetime = NOW) -> tuple[OAuthState, str]:
    """The Zoom admin opened the link and went to Zoom: the state Roomlink gets back, and the URL."""
    state = f"activation-state-{token}-{now.timestamp()}"
    url = await connecting.start_activation(store.uow, zoom, token, state, "activation-verifier", "admin-browser", now)
    return await connecting.take_oauth_state(store.uow, state, "admin-browser", now), url


async def activate(
    store: FakeStore, zoom: FakeZoom, token: str, admin: ZoomProfile, now: datetime = NOW
) -> Connection:
    pending, url = await pending_activation(store, zoom, token, now)
    return await finish(store, zoom, pending, zoom.approve(admin, url), now)


async def finish(store: FakeStore, zoom: FakeZoom, pending: OAuthState, code: str, now: datetime = NOW) -> Connection:
    """The activation callback as the server runs it: link checked, Zoom asked, then one transaction."""
    await connecting.activation_link_of(store.uow, pending, now)
    grant = await connecting.collect_grant(zoom, pending, code)
    return await connecting.finish_activation(store.uow, zoom, pending, grant, now)


# The tables' own rules, as PostgreSQL keeps them.


def _claim(connection: Connection) -> str:
    if connection.type is ConnectionType.PERSONAL:
        return f"user:{connection.zoom_user_id}"
    return f"account:{connection.zoom_account_id}"


def _drop_connection(tables: Tables, connection_id: str) -> None:
    """The row goes with its tokens, its claim and its account's users (ON DELETE CASCADE)."""
    tables.connections.pop(connection_id, None)
    tables.tokens.pop(connection_id, None)
    tables.zoom_users.pop(connection_id, None)
    for claim in [claim for claim, holder in tables.claims.items() if holder == connection_id]:
        del tables.claims[claim]


def _organization_connection(tables: Tables, org_id: str) -> Connection | None:
    return next(
        (c for c in tables.connections.values() if c.org_id == org_id and c.type is ConnectionType.ORGANIZATION),
        None,
    )


def _personal_connection(tables: Tables, org_id: str, user_id: str) -> Connection | None:
    return next(
        (
            c
            for c in tables.connections.values()
            if c.org_id == org_id and c.type is ConnectionType.PERSONAL and c.user_id == user_id
        ),
        None,
    )


def _seat_user(tables: Tables, member: Member) -> ZoomUser | None:
    connection = _organization_connection(tables, member.org_id)
    if connection is None:
        return None
    email = email_key(member.email)
    return next(
        (u for u in tables.zoom_users.get(connection.id, {}).values() if u.email == email and u.status == "active"),
        None,
    )


def _normalized(user: ZoomUser) -> ZoomUser:
    return _replace(user, email=email_key(user.email))


def _selected(row: MemberRow, query: MembersQuery, words: list[str] | None) -> bool:
    if query.connected is not None and row.connected != query.connected:
        return False
    if query.type is not None and row.type != (None if query.type == "none" else ConnectionType(query.type)):
        return False
    if words is None:
        return True
    own_words = _search_words(f"{row.name} {row.email}")
    # As PostgresMembersTable: three letters or more anywhere, shorter at the start of a word.
    return bool(words) and all(
        any((word in own) if len(word) >= 3 else own.startswith(word) for own in own_words) for word in words
    )


def _search_words(text: str) -> list[str]:
    """Accents and case aside, as migration m0012 folds members."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", folded.lower())


def _pending(link: ActivationLink, now: datetime) -> bool:
    return link.used_at is None and link.revoked_at is None and link.expires_at > now


def _replace(struct, **changes):
    return msgspec.structs.replace(struct, **changes)
