from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "members searched by any part of a name or email, accents and case aside (pg_trgm, unaccent)"

# Both extensions are contrib modules marked trusted (PostgreSQL 13+): a database's owner may create
# them. unaccent() is STABLE (it reads its dictionary by name), so an index cannot use it directly;
# the wrapper names the dictionary by schema and is declared IMMUTABLE, which holds as long as
# nobody edits unaccent.rules (then: REINDEX INDEX members_search_text).
SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
    # What a search compares, on both sides: accents off, lower case, punctuation and spaces folded
    # to one space (so a word's start is a space before it).
    """CREATE FUNCTION public.roomlink_fold(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, $1)),
                              '[[:space:][:punct:]]+', ' ', 'g')
    $$""",
    "ALTER TABLE members DROP COLUMN search",
    """ALTER TABLE members ADD COLUMN search_text text GENERATED ALWAYS AS (
           ' ' || public.roomlink_fold(name || ' ' || email) || ' '
       ) STORED""",
    # Not led by org_id (that needs btree_gin); the members table asks it only when a search is rare.
    "CREATE INDEX members_search_text ON members USING gin (search_text public.gin_trgm_ops)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="persistence", description=DESCRIPTION)

    async def add_search():
        for statement in SEARCH:  # in the transaction Piccolo wraps each migration in
            await engine_finder().run_ddl(statement)

    manager.add_raw(add_search)
    return manager
