from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, BigSerial, Text, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-01T00:13:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "each member under each word of their folded name and email, and each organization's words, kept by triggers"

#: (column, class, params beyond the defaults) — in the order of persistence/tables.py.
WORD_COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("word", Text, {"default": ""}),
    ("name", Varchar, {"length": 200, "default": ""}),
    ("user_id", Varchar, {"length": 128, "default": ""}),
]
DICTIONARY_COLUMNS = [
    ("id", BigSerial, {"primary_key": True}),
    ("org_id", Varchar, {"length": 128, "default": ""}),
    ("word", Text, {"default": ""}),
    ("members", BigInt, {"default": 0}),
]

_DEFAULT_PARAMS = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

# A member's words are `members.search_text` (m0012: folded by roomlink_fold, one space between words)
# split at its spaces, each once. A search expands each of its words to the organization's words that
# contain it (member_search_words, by trigram) and reads, for a few of them, each one's members in the
# members table's order (member_words), merged (persistence/members_table.py). The words are the name
# and the email only, never a connection's state: breaking an organization's connection or a seat
# resync writes no word. No foreign keys (a check per word row would double the cost of provisioning):
# the triggers below keep both tables exactly in step with `members`. Each statement changes the
# dictionary's rows in (org_id, word) order, so concurrent changes wait on each other, never deadlock;
# a word no member has any more is deleted, and a concurrent insert of it then inserts it again.
_WORDS_OF = "(SELECT DISTINCT unnest(string_to_array(btrim({row}.search_text), ' ')) AS word) AS w"

WORD_TRIGGERS = (
    f"""CREATE FUNCTION list_inserted_member_words() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        WITH words AS (
            SELECT a.org_id, w.word, a.name, a.user_id FROM added a CROSS JOIN LATERAL {_WORDS_OF.format(row="a")}
        ), listed AS (
            INSERT INTO member_words (org_id, word, name, user_id) SELECT org_id, word, name, user_id FROM words
        )
        INSERT INTO member_search_words AS d (org_id, word, members)
        SELECT org_id, word, count(*) FROM words GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (org_id, word) DO UPDATE SET members = d.members + EXCLUDED.members;
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION unlist_deleted_member_words() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        emptied bigint[];
    BEGIN
        WITH words AS (
            SELECT r.org_id, w.word, r.name, r.user_id FROM removed r CROSS JOIN LATERAL {_WORDS_OF.format(row="r")}
        ), unlisted AS (
            DELETE FROM member_words m USING words w
            WHERE m.org_id = w.org_id AND m.word = w.word AND m.name = w.name AND m.user_id = w.user_id
        ), counted AS (
            INSERT INTO member_search_words AS d (org_id, word, members)
            SELECT org_id, word, -count(*) FROM words GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (org_id, word) DO UPDATE SET members = d.members + EXCLUDED.members
            RETURNING d.id, d.members
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE members <= 0;
        DELETE FROM member_search_words WHERE id = ANY (emptied) AND members <= 0;
        RETURN NULL;
    END $$""",
    # A renamed member (or a new email): row by row, and only when the words or the name changed.
    f"""CREATE FUNCTION relist_updated_member_words() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        emptied bigint[];
    BEGIN
        WITH old_words AS (SELECT w.word FROM {_WORDS_OF.format(row="OLD")}),
        new_words AS (SELECT w.word FROM {_WORDS_OF.format(row="NEW")}),
        unlisted AS (
            DELETE FROM member_words
            WHERE org_id = OLD.org_id AND word IN (SELECT word FROM old_words) AND name = OLD.name
              AND user_id = OLD.user_id
        ), listed AS (
            INSERT INTO member_words (org_id, word, name, user_id) SELECT NEW.org_id, word, NEW.name, NEW.user_id
            FROM new_words
        ), counted AS (
            INSERT INTO member_search_words AS d (org_id, word, members)
            SELECT org_id, word, sum(delta) FROM (
                SELECT OLD.org_id, word, -1 FROM old_words UNION ALL SELECT NEW.org_id, word, 1 FROM new_words
            ) AS changes (org_id, word, delta)
            GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
            ON CONFLICT (org_id, word) DO UPDATE SET members = d.members + EXCLUDED.members
            RETURNING d.id, d.members
        )
        SELECT array_agg(id) INTO emptied FROM counted WHERE members <= 0;
        DELETE FROM member_search_words WHERE id = ANY (emptied) AND members <= 0;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER members_list_words_inserted AFTER INSERT ON members
       REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION list_inserted_member_words()""",
    """CREATE TRIGGER members_list_words_deleted AFTER DELETE ON members
       REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION unlist_deleted_member_words()""",
    # A column list keeps every other update (a seat, a personal connection, a removal) from even
    # considering this trigger.
    """CREATE TRIGGER members_relist_words_updated AFTER UPDATE OF name, email, user_id, org_id ON members
       FOR EACH ROW WHEN ((OLD.search_text, OLD.name, OLD.user_id, OLD.org_id)
                          IS DISTINCT FROM (NEW.search_text, NEW.name, NEW.user_id, NEW.org_id))
       EXECUTE FUNCTION relist_updated_member_words()""",
)


class _KeysAfterTables(MigrationManager):
    """Piccolo runs `add_raw` steps before it creates tables; the backfill and triggers need them first.

    One transaction around both; members are locked while their words are listed, so no change slips
    between the backfill and the triggers.
    """

    async def run(self, backwards: bool = False):
        async with engine_finder().transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await add_what_piccolo_cannot_declare()


async def add_what_piccolo_cannot_declare():
    for statement in (
        "LOCK TABLE members IN SHARE ROW EXCLUSIVE MODE",
        f"""INSERT INTO member_words (org_id, word, name, user_id)
            SELECT m.org_id, w.word, m.name, m.user_id FROM members m CROSS JOIN LATERAL {_WORDS_OF.format(row="m")}""",
        """INSERT INTO member_search_words (org_id, word, members)
           SELECT org_id, word, count(*) FROM member_words GROUP BY 1, 2""",
        # A word's members in the members table's order: one range per word.
        "CREATE INDEX member_words_in_order ON member_words (org_id, word, name, user_id)",
        # One row per word; byte order, so that the words starting with a short search word are a range.
        "CREATE UNIQUE INDEX member_search_words_key ON member_search_words (org_id, word text_pattern_ops)",
        # The words containing a longer one (not led by org_id: that needs btree_gin, as m0012 says).
        "CREATE INDEX member_search_words_text ON member_search_words USING gin (word public.gin_trgm_ops)",
        *WORD_TRIGGERS,
    ):
        await engine_finder().run_ddl(statement)


def _column(manager, class_name, tablename, name, column_class, params):
    manager.add_column(
        table_class_name=class_name,
        tablename=tablename,
        column_name=name,
        db_column_name=name,
        column_class_name=column_class.__name__,
        column_class=column_class,
        params={**_DEFAULT_PARAMS, **params},
        schema=None,
    )


async def forwards():
    manager = _KeysAfterTables(migration_id=ID, app_name="persistence", description=DESCRIPTION)
    for class_name, tablename, columns in (
        ("MemberWordTable", "member_words", WORD_COLUMNS),
        ("MemberSearchWordTable", "member_search_words", DICTIONARY_COLUMNS),
    ):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            _column(manager, class_name, tablename, name, column_class, params)
    return manager
