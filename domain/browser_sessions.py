"""Launch links and the browser sessions they open (a member's browser acting as them), and who a caller is.

Only hashes of their secrets are stored (domain.connecting.secret_hash); the server makes the secrets.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from domain.access import Principal
from domain.connecting import secret_hash
from domain.errors import MemberNotFound
from domain.ports import UnitOfWork, UnitOfWorkFactory


class IssueLaunchLink(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    user_id: str
    #: The Roomlink page the link lands on (checked by the caller).
    next_path: str
    token: str
    ttl: timedelta
    #: A link for a user who is not a member is refused (the demo's seeded people always are).
    require_member: bool = True


class OpenLaunchLink(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    #: The new session's secrets, made by the caller.
    session_token: str
    csrf_token: str
    session_ttl: timedelta


class OpenedSession(msgspec.Struct, frozen=True, kw_only=True):
    next_path: str


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    """A browser session, and the member it acts as (None: no longer a member of any organization)."""

    csrf_token: str
    principal: Principal | None


async def issue_launch_link(cmd: IssueLaunchLink, uow: UnitOfWorkFactory, now: datetime) -> datetime:
    """Stores only the token's hash and commits, so the link works as soon as it is handed out; until when."""
    expires_at = now + cmd.ttl
    async with uow() as tx:
        if cmd.require_member and await tx.members.get(cmd.org_id, cmd.user_id) is None:
            raise MemberNotFound(f"Member {cmd.user_id!r} was not found in organization {cmd.org_id!r}.")
        await tx.sessions.add_launch_link(cmd.org_id, cmd.user_id, secret_hash(cmd.token), cmd.next_path, now, expires_at)
        await tx.commit()
    return expires_at


async def open_launch_link(cmd: OpenLaunchLink, uow: UnitOfWorkFactory, now: datetime) -> OpenedSession | None:
    """The link, once and in time, opens a session for its member; None when it no longer works."""
    async with uow() as tx:
        link = await tx.sessions.consume_launch_link(secret_hash(cmd.token), now)
        if link is None:
            return None
        await tx.sessions.add_session(
            link.org_id, link.user_id, secret_hash(cmd.session_token), cmd.csrf_token, now, now + cmd.session_ttl
        )
        await tx.commit()
    return OpenedSession(next_path=link.next_path)


async def signed_in(uow: UnitOfWorkFactory, session_token: str, now: datetime) -> SignedIn | None:
    """The session this cookie holds, and its member; None when it has ended."""
    async with uow(read_only=True) as tx:
        session = await tx.sessions.session(secret_hash(session_token), now)
        if session is None:
            return None
        principal = await _principal(tx, session.user_id, f"user:{session.user_id}")
    return SignedIn(csrf_token=session.csrf_token, principal=principal)


async def acting_member(uow: UnitOfWorkFactory, user_id: str, actor: str) -> Principal | None:
    """An API key acting as this user: the member they are, wherever they belong; None if nowhere."""
    async with uow(read_only=True) as tx:
        return await _principal(tx, user_id, actor)


async def _principal(tx: UnitOfWork, user_id: str, actor: str) -> Principal | None:
    member = await tx.members.find(user_id)
    if member is None:
        return None
    return Principal(org_id=member.org_id, user_id=member.user_id, role=member.role, actor=actor)
