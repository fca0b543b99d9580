"""`roomlink keys rotate`: every secret at rest re-sealed under the key ring's current key."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg

from persistence.token_cipher import TokenCipher

BATCH = 500

#: Each sealed column with the column its associated data comes from.
SEALED_COLUMNS = (
    ("connections", "id", "access_token"),
    ("connections", "id", "refresh_token"),
    ("oauth_states", "state_hash", "code_verifier"),
    ("event_endpoints", "id", "secret"),
    ("event_endpoints", "id", "previous_secret"),
)


async def ring_opens_stored_secrets(db: asyncpg.Connection, cipher: TokenCipher) -> bool:
    """Whether one stored value of each sealed column names a key the ring holds: cheap enough for /readyz,
    and enough to notice a server started with the wrong ROOMLINK_TOKEN_KEYS."""
    samples = " UNION ALL ".join(
        f"(SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1)" for table, _, column in SEALED_COLUMNS
    )
    return all(cipher.holds_key_of(row[0]) for row in await db.fetch(samples))


async def sealed_values(db: asyncpg.Connection) -> int:
    """How many values rotation looks at (for its progress)."""
    counts = " + ".join(f"(SELECT count(*) FROM {table} WHERE {column} IS NOT NULL)" for table, _, column in SEALED_COLUMNS)
    return await db.fetchval(f"SELECT {counts}")


async def rotate_keys(
    db: asyncpg.Connection, cipher: TokenCipher, on_batch: Callable[[int], None] | None = None
) -> int:
    """Returns how many values moved; values already under the current key are left alone, so a rotation
    stopped half way (each batch is its own transaction) is finished by running it again.
    `on_batch` hears how many values each batch looked at."""
    moved = 0
    for table, key, column in SEALED_COLUMNS:
        after = ""
        while True:
            rows = await db.fetch(
                f"SELECT {key}::text AS key, {column} AS value FROM {table}"
                f" WHERE {column} IS NOT NULL AND {key}::text > $1 ORDER BY {key}::text LIMIT {BATCH}",
                after,
            )
            if not rows:
                break
            stale = [row for row in rows if cipher.needs_rotation(row["value"])]
            async with db.transaction():
                for row in stale:
                    await db.execute(
                        f"UPDATE {table} SET {column} = $2 WHERE {key}::text = $1 AND {column} = $3",
                        row["key"],
                        cipher.reencrypt(row["value"], row["key"]),
                        row["value"],
                    )
            moved += len(stale)
            after = rows[-1]["key"]
            if on_batch is not None:
                on_batch(len(rows))
    return moved
