"""police.uk API fetches: provenance per month, and the pieces of a fetch under way (so that it can resume)

Revision ID: 0011_police_api
Revises: 0010_partnership_annotations
Create Date: 2026-11-30 17:45:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011_police_api'
down_revision: str | None = '0010_partnership_annotations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per month loaded from the API: the legend shows it, so a change bumps the data version (0003).
    op.execute("""
        CREATE TABLE police_api_months (
            month date PRIMARY KEY CONSTRAINT police_api_months_first_day CHECK (extract(day FROM month) = 1),
            fetched_at timestamptz NOT NULL,
            api_last_updated date,
            api_url text NOT NULL,
            records integer NOT NULL,
            inserted integer NOT NULL,
            requests integer NOT NULL,
            import_id integer REFERENCES crime_imports (id) ON DELETE SET NULL
        )""")
    op.execute("CREATE TRIGGER police_api_months_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
               "ON police_api_months FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")
    # The answers of a month's fetch so far, one per piece of the area (a path in the split tree), committed as
    # they come: an interrupted fetch asks only for the pieces it has not got. area_key names the area's polygon.
    op.execute("""
        CREATE TABLE police_api_pieces (
            month date NOT NULL,
            area_key varchar(64) NOT NULL,
            piece varchar(64) NOT NULL,
            crimes jsonb NOT NULL,
            fetched_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (month, area_key, piece)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE police_api_pieces")
    op.execute("DROP TABLE police_api_months")
