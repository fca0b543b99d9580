"""`roomlink demo` only: the demo organization written fresh on every start, and its launch links.

Storage setup for the demo, not a flow of the product: each is one transaction, as server/demo.py asks.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.model import Connection, Policy, ZoomUser
from domain.ports import MemberInput
from domain.zoom import TokenSet
from persistence.database import unit_of_work


class DemoOrganization(msgspec.Struct, frozen=True, kw_only=True):
    org_id: str
    name: str
    policy: Policy
    members: list[MemberInput]
    #: The organization connection, with its tokens, and the Zoom users of its account.
    organization: Connection
    organization_tokens: TokenSet
    zoom_users: list[ZoomUser]
    #: Per member, in order: (user_id, removed from the organization connection, their personal connection
    #: with its tokens if any).
    people: list[tuple[str, bool, Connection | None, TokenSet | None]]


async def replace_organization(seed: DemoOrganization, now: datetime) -> None:
    """The organization deleted with everything it holds, then written as `seed` says, in one transaction."""
    async with unit_of_work() as uow:
        await uow.organizations.delete(seed.org_id)
        await uow.organizations.save(seed.org_id, seed.name, now)
        await uow.organizations.set_policy(seed.org_id, seed.policy, now)
        await uow.members.save_many(seed.org_id, seed.members, now)
        await uow.connections.add(seed.organization)
        await uow.tokens.store(seed.organization, seed.organization_tokens)
        await uow.zoom_users.sync(seed.organization, seed.zoom_users)
        for user_id, removed, personal, tokens in seed.people:
            if removed:
                await uow.members.set_organization_removed(seed.org_id, user_id, True, now)
            if personal is not None:
                await uow.connections.add(personal)
                if tokens is not None:
                    await uow.tokens.store(personal, tokens)
        await uow.commit()


async def add_launch_links(
    org_id: str, links: list[tuple[str, str]], next_path: str, now: datetime, expires_at: datetime
) -> None:
    """One-time launch links, (user_id, token hash) each, all in one transaction."""
    async with unit_of_work() as uow:
        for user_id, token_hash in links:
            await uow.sessions.add_launch_link(org_id, user_id, token_hash, next_path, now, expires_at)
        await uow.commit()
