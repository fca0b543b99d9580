"""PostgreSQL's word on what changed, for this process's ReadCache (persistence/read_cache.py).

The feed holds one connection of its own, not the pool's, and LISTENs on `roomlink_changes`, where the
triggers of migration m0017 name each organization whose rows a committed transaction changed (`*`: too
many to name). Each name drops that organization's entries from the cache.

`caught_up()` is the barrier a cached answer waits for: the feed sends a notification to a channel only it
listens on and waits for it to come back. PostgreSQL delivers notifications in the order their
transactions committed, so once the barrier is back, every change committed before it was sent has
dropped what it made stale. Reads that wait at the same time share one barrier; a barrier costs one short
statement (a transaction id, committed without waiting for the disk).

While the feed cannot vouch for what it has seen (not connected yet, connection lost, a barrier not back
within `barrier_timeout_s`), `caught_up()` answers False at once, every read goes to the database, and the
cache is emptied before it is used again.

Before anything is kept, a connection is proved with a barrier sent from another session: behind a pooler
in transaction mode a connection's own NOTIFY comes back to it (it runs on the server connection that
listens, and the answer rides back with it) while every other session's notifications are dropped, so only
a notification from elsewhere shows that changes made elsewhere will arrive.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

import asyncpg

from persistence.read_cache import ReadCache

log = logging.getLogger("roomlink.change_feed")

CHANNEL = "roomlink_changes"
#: The payload that names every organization (never an identifier: domain.identifiers refuses `*`).
EVERYTHING = "*"
#: The longest wait between attempts to listen again.
MAX_RETRY_S = 30.0


class Subscription:
    """One open page's share of the feed: the organizations named since it last looked, up to a bound."""

    def __init__(self, org_id: str, size: int) -> None:
        self.org_id = org_id
        self.changes: asyncio.Queue[str] = asyncio.Queue(size)
        #: Set when it fell behind and was dropped: the page's stream ends, and the page asks again.
        self.dropped = False


class OrganizationChanges:
    """The feed's notifications fanned out to per-organization subscribers (the pages' event streams, one per
    open page). Bounded: at most `max_subscribers` in this process, each holding `queue_size` unread
    changes; a subscriber that falls further behind is dropped rather than let the feed wait or grow."""

    def __init__(self, max_subscribers: int = 2000, queue_size: int = 16) -> None:
        self._max = max_subscribers
        self._queue_size = queue_size
        self._by_org: dict[str, set[Subscription]] = {}
        self._count = 0

    def subscribe(self, org_id: str) -> Subscription | None:
        """None when this process already serves as many streams as it may."""
        if self._count >= self._max:
            return None
        subscription = Subscription(org_id, self._queue_size)
        self._by_org.setdefault(org_id, set()).add(subscription)
        self._count += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._by_org.get(subscription.org_id)
        if subscribers is not None and subscription in subscribers:
            subscribers.discard(subscription)
            self._count -= 1
            if not subscribers:
                del self._by_org[subscription.org_id]

    def tell(self, payload: str) -> None:
        """`payload` an organization's id, or EVERYTHING (also said when notifications may have been missed)."""
        groups = list(self._by_org.values()) if payload == EVERYTHING else [self._by_org.get(payload, set())]
        for subscription in [each for group in groups for each in group]:
            try:
                subscription.changes.put_nowait(subscription.org_id)
            except asyncio.QueueFull:
                subscription.dropped = True
                self.unsubscribe(subscription)

    @property
    def subscribers(self) -> int:
        return self._count


class ChangeFeed:
    def __init__(
        self,
        cache: ReadCache,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        barrier_timeout_s: float = 2.0,
        retry_s: float = 1.0,
        observe: Callable[[str], None] | None = None,
    ) -> None:
        self.cache = cache
        #: Told "hit", "miss" (cached_reads.py), "barrier" and "lost": the server counts them for /metrics.
        self.observe = observe or _unobserved
        self._connect = connect
        self._barrier_timeout_s = barrier_timeout_s
        self._retry_s = retry_s
        self._barrier_channel = f"roomlink_barrier_{secrets.token_hex(8)}"
        self._connection: asyncpg.Connection | None = None
        #: The connection has carried a barrier back: until then nothing is kept or answered.
        self._proven = False
        self._lost = asyncio.Event()
        self._keeper: asyncio.Task | None = None
        #: The round the next barrier answers: whoever asks while one is on its way waits for the next.
        self._next_round: asyncio.Future[bool] | None = None
        self._pump: asyncio.Task | None = None
        self._arrivals: dict[str, asyncio.Future[None]] = {}
        #: Barriers sent so far, each's token its number (tests read it: reads waiting together share one).
        self.barriers = 0
        #: Open pages following their organization's changes.
        self.subscribers = OrganizationChanges()

    @property
    def live(self) -> bool:
        return self._connection is not None and self._proven

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend listening for this feed (pg_stat_activity's pid), while it listens."""
        return self._connection.get_server_pid() if self._connection is not None else None

    async def start(self, wait_s: float = 5.0) -> None:
        """Starts listening, and waits up to `wait_s` for it: until then, reads simply go to the database."""
        self._keeper = asyncio.create_task(self._keep_listening(), name="roomlink-change-feed")
        deadline = asyncio.get_running_loop().time() + wait_s
        while not self.live and asyncio.get_running_loop().time() < deadline and not self._keeper.done():
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for task in (self._keeper, self._pump):
            if task is not None:
                task.cancel()
        for task in (self._keeper, self._pump):
            if task is not None:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        connection, self._connection = self._connection, None
        self._proven = False
        if connection is not None:
            connection.terminate()
        if self._next_round is not None and not self._next_round.done():
            self._next_round.set_result(False)
        self._next_round = None
        self.cache.clear()

    async def caught_up(self) -> bool:
        """True once every change committed before this call has reached the cache; False (at once, or
        after the barrier's timeout) when the feed cannot say so: read the database instead."""
        if not self.live:
            return False
        if self._next_round is None:
            self._next_round = asyncio.get_running_loop().create_future()
            if self._pump is None or self._pump.done():
                self._pump = asyncio.create_task(self._rounds())
        return await asyncio.shield(self._next_round)

    async def _rounds(self) -> None:
        while self._next_round is not None:
            waiting, self._next_round = self._next_round, None
            caught_up = False
            try:
                caught_up = await self._barrier()
            finally:
                if not waiting.done():
                    waiting.set_result(caught_up)

    async def _barrier(self, from_another_session: bool = False) -> bool:
        connection = self._connection
        if connection is None:
            return False
        self.barriers += 1
        token = str(self.barriers)
        back = asyncio.get_running_loop().create_future()
        self._arrivals[token] = back
        self.observe("barrier")
        notify = f"NOTIFY {self._barrier_channel}, '{token}'"
        try:
            async with asyncio.timeout(self._barrier_timeout_s):
                if from_another_session:
                    sender = await self._connect()
                    try:
                        await sender.execute(notify)
                    finally:
                        sender.terminate()
                else:
                    await connection.execute(notify)
                await back
            return True
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("change feed: a barrier did not come back (%s); reads go to the database", type(error).__name__)
            self._lose(connection)
            return False
        finally:
            self._arrivals.pop(token, None)

    async def _keep_listening(self) -> None:
        """Connects, listens, and proves it with a barrier from another session before anything is kept:
        where other sessions' notifications never arrive (a pooler in transaction mode between Roomlink and
        PostgreSQL), the cache stays off and reads go to the database, instead of kept answers going stale."""
        delay = self._retry_s
        while True:
            connection = await self._listening()
            if connection is not None:
                # Whatever the cache holds was kept before this connection listened: nobody vouches for it.
                self.cache.clear()
                self._lost.clear()
                self._connection = connection
                if await self._barrier(from_another_session=True):
                    self._proven = True
                    # Changes made while nobody listened were not named: every open page looks again.
                    self.subscribers.tell(EVERYTHING)
                    delay = self._retry_s
                    await self._lost.wait()
                    continue
                log.warning("change feed: notifications do not come back on this connection; the read cache is off")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_S)

    async def _listening(self) -> asyncpg.Connection | None:
        try:
            connection = await self._connect()
        except (OSError, TimeoutError, asyncpg.PostgresError) as error:
            log.warning("change feed: cannot connect (%s); the read cache is off until it can", error)
            return None
        try:
            await connection.add_listener(CHANNEL, self._changed)
            await connection.add_listener(self._barrier_channel, self._arrived)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("change feed: cannot listen (%s); the read cache is off until it can", error)
            connection.terminate()
            return None
        connection.add_termination_listener(self._terminated)
        return connection

    def _changed(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == EVERYTHING:
            self.cache.clear()
        else:
            self.cache.drop(payload)
        self.subscribers.tell(payload)

    def _arrived(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        back = self._arrivals.get(payload)
        if back is not None and not back.done():
            back.set_result(None)

    def _terminated(self, connection: asyncpg.Connection) -> None:
        if connection is self._connection:
            log.warning("change feed: connection closed; reads go to the database until it is back")
        self._lose(connection)

    def _lose(self, connection: asyncpg.Connection) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        self._proven = False
        self.cache.clear()
        self.observe("lost")
        connection.terminate()
        self._lost.set()


def _unobserved(_: str) -> None:
    pass
