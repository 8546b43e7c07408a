"""partnerships: a Community Safety Partnership with its district codes, its boundary sets (shared reference data
listed per partnership), its default set and its area (the union of its default set's areas)

Revision ID: 0014_partnerships
Revises: 0013_crime_summaries
Create Date: 2026-11-30 20:40:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014_partnerships'
down_revision: str | None = '0013_crime_summaries'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("partnerships", "partnership_sets")


def upgrade() -> None:
    # A county partnership (e.g. Kent's) may own district partnerships: parent_slug. One default partnership
    # answers the URLs without a partnership in them, so that links and embeds made before there were several work.
    op.execute(r"""
        CREATE TABLE partnerships (
            slug varchar(40) PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
            name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
            lad_codes varchar(9)[] NOT NULL
                CHECK (cardinality(lad_codes) BETWEEN 1 AND 400 AND array_position(lad_codes, NULL) IS NULL),
            parent_slug varchar(40) REFERENCES partnerships (slug) ON DELETE RESTRICT,
            is_default boolean NOT NULL DEFAULT false,
            default_set varchar(64) REFERENCES boundary_sets (id) ON DELETE SET NULL,
            area geometry(MultiPolygon, 4326),
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (parent_slug IS DISTINCT FROM slug)
        )""")
    op.execute("CREATE UNIQUE INDEX partnerships_one_default ON partnerships (is_default) WHERE is_default")
    op.execute("CREATE INDEX partnerships_area_gist ON partnerships USING gist (area)")
    op.execute("""
        CREATE TABLE partnership_sets (
            partnership_slug varchar(40) NOT NULL REFERENCES partnerships (slug) ON DELETE CASCADE,
            set_id varchar(64) NOT NULL REFERENCES boundary_sets (id) ON DELETE CASCADE,
            position integer NOT NULL,
            PRIMARY KEY (partnership_slug, set_id)
        )""")
    op.execute("CREATE INDEX partnership_sets_set ON partnership_sets (set_id)")
    for table in TABLES:  # what a partnership shows is in every cached response's key (migration 0003)
        op.execute(f"CREATE TRIGGER {table}_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")


def downgrade() -> None:
    op.execute("DROP TABLE partnership_sets")
    op.execute("DROP TABLE partnerships")
