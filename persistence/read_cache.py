"""Answers of the hottest reads (who is calling, the members page, the owner's counts), kept in this process
until PostgreSQL says their organization changed.

Every entry belongs to one organization. The triggers of migration m0017 notify an organization's id when a
statement changes its organization, members, connections, Zoom users or browser sessions; the change feed
(persistence/change_feed.py) drops that organization's entries, or every entry on `*` and whenever it
cannot vouch for what it has seen (it lost its connection, or is starting).

An entry answers only after the feed's barrier: every change committed before the read began has dropped
what it made stale by then. A value read from the database is kept only if nothing was dropped while it was
being read (`generation`), since a change it did not see may have been announced meanwhile. So an answer
from here is never older than the database's at the moment the read began.

Bounded by `capacity` in rows: a page of the members table costs its rows, any other answer 1; the oldest
entries go first. Values are shared by every request that reads them, and never changed.
"""

from __future__ import annotations

from collections.abc import Hashable

#: What `get` answers for a key it does not hold (None is a value the reads may answer).
MISSING = object()


class ReadCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        #: Counts the drops; a read started at one generation keeps its answer only if it is still current.
        self.generation = 0
        self._entries: dict[Hashable, tuple[str, object, int]] = {}
        self._keys_of: dict[str, set[Hashable]] = {}
        self._cost = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> object:
        entry = self._entries.get(key)
        return MISSING if entry is None else entry[1]

    @property
    def cost(self) -> int:
        return self._cost

    def put(self, key: Hashable, org_id: str, value: object, generation: int, cost: int = 1) -> None:
        """Keeps `value`, read since `generation`, unless something was dropped meanwhile."""
        if generation != self.generation or cost > self.capacity:
            return
        self._forget(key)
        while self._cost + cost > self.capacity:
            self._forget(next(iter(self._entries)))
        self._entries[key] = (org_id, value, cost)
        self._keys_of.setdefault(org_id, set()).add(key)
        self._cost += cost

    def drop(self, org_id: str) -> None:
        """The organization changed: nothing of it answers again until read anew."""
        self.generation += 1
        for key in self._keys_of.pop(org_id, ()):
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._cost -= entry[2]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._keys_of.clear()
        self._cost = 0

    def _forget(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._cost -= entry[2]
            keys = self._keys_of.get(entry[0])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_of[entry[0]]
