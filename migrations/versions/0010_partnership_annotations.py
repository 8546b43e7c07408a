"""partnership annotations (the assessment's statements tied to places) and borough-level figures of hotspot layers

Revision ID: 0010_partnership_annotations
Revises: 0009
Create Date: 2026-11-30 17:40:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010_partnership_annotations'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Public: read by GET /api/annotations, static maps and patrol summaries (so it bumps the public data version).
    op.execute("""
        CREATE TABLE partnership_annotations (
            id varchar(80) PRIMARY KEY,
            kind varchar(40) NOT NULL,
            title varchar(200) NOT NULL,
            boundary_set varchar(64) NOT NULL REFERENCES boundary_sets (id) ON DELETE CASCADE,
            area_codes text[] NOT NULL CONSTRAINT partnership_annotations_has_areas CHECK (cardinality(area_codes) > 0),
            paragraph varchar(40) NOT NULL,
            source_line integer NOT NULL CONSTRAINT partnership_annotations_line_valid CHECK (source_line > 0),
            quote text NOT NULL,
            figure text,
            note text NOT NULL DEFAULT '',
            source text NOT NULL,
            geom geometry(MultiPolygon, 4326) NOT NULL
        )""")
    op.execute("CREATE INDEX idx_partnership_annotations_geom ON partnership_annotations USING gist (geom)")
    op.execute("CREATE TRIGGER partnership_annotations_bump_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
               "ON partnership_annotations FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version()")
    # Figures with no locations that belong to a hotspot layer (the DCSM's 2023 counts): shown only to those who may
    # read the layer, so they bump the private (hotspot) data version.
    op.execute("""
        CREATE TABLE hotspot_layer_statistics (
            layer_id varchar(64) NOT NULL REFERENCES hotspot_layers (id) ON DELETE CASCADE,
            key varchar(80) NOT NULL,
            label varchar(200) NOT NULL,
            value numeric NOT NULL,
            unit varchar(80) NOT NULL,
            period varchar(40) NOT NULL,
            geography varchar(80) NOT NULL,
            paragraph varchar(40) NOT NULL,
            source_line integer NOT NULL CONSTRAINT hotspot_layer_statistics_line_valid CHECK (source_line > 0),
            quote text NOT NULL,
            source text NOT NULL,
            PRIMARY KEY (layer_id, key)
        )""")
    op.execute("CREATE TRIGGER hotspot_layer_statistics_bump_hotspot_data_version AFTER INSERT OR UPDATE OR DELETE "
               "OR TRUNCATE ON hotspot_layer_statistics FOR EACH STATEMENT EXECUTE FUNCTION "
               "bump_hotspot_data_version()")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS hotspot_layer_statistics")
    op.execute("DROP TABLE IF EXISTS partnership_annotations")
