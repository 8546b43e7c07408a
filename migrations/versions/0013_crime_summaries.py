"""crime summaries kept by triggers (records per month and crime type; placed records per area, month and crime
type), and a notification on every data-version change so that app processes know the version without asking

Revision ID: 0013_crime_summaries
Revises: 0012_upload_jobs
Create Date: 2026-11-30 17:40:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013_crime_summaries'
down_revision: str | None = '0012_upload_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Statement-level triggers with transition tables: one grouped statement per INSERT/COPY/DELETE/UPDATE, whoever
# writes (imports, boundary loads, re-placement, cascades). A deleted record's placements are gone before its own
# trigger runs, so record deletes, updates that move a record and TRUNCATE rebuild the summaries from scratch
# (none of them happens in normal operation).
FUNCTIONS = r"""
CREATE FUNCTION crime_summaries_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crime_month_counts;
    DELETE FROM crime_area_counts;
    INSERT INTO crime_month_counts (month, crime_type_slug, crime_type, records, no_location)
    SELECT month, crime_type_slug, crime_type, count(*), count(*) FILTER (WHERE geom IS NULL)
    FROM crime_records GROUP BY 1, 2, 3;
    INSERT INTO crime_area_counts (set_id, area_code, month, crime_type_slug, records)
    SELECT p.set_id, p.area_code, r.month, r.crime_type_slug, count(*)
    FROM crime_placements p JOIN crime_records r ON r.id = p.record_id GROUP BY 1, 2, 3, 4;
END $$;

CREATE FUNCTION crime_month_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crime_month_counts AS c (month, crime_type_slug, crime_type, records, no_location)
    SELECT month, crime_type_slug, crime_type, count(*), count(*) FILTER (WHERE geom IS NULL)
    FROM added GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (month, crime_type_slug, crime_type) DO UPDATE
    SET records = c.records + EXCLUDED.records, no_location = c.no_location + EXCLUDED.no_location;
    RETURN NULL;
END $$;

CREATE FUNCTION crime_summaries_rebuild_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM crime_summaries_rebuild();
    RETURN NULL;
END $$;

CREATE FUNCTION crime_records_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM before_change o JOIN after_change n ON n.id = o.id
               WHERE (o.month, o.crime_type_slug, o.crime_type, o.geom IS NULL)
                     IS DISTINCT FROM (n.month, n.crime_type_slug, n.crime_type, n.geom IS NULL)) THEN
        PERFORM crime_summaries_rebuild();
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION crime_area_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO crime_area_counts AS c (set_id, area_code, month, crime_type_slug, records)
    SELECT a.set_id, a.area_code, r.month, r.crime_type_slug, count(*)
    FROM added a JOIN crime_records r ON r.id = a.record_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (set_id, area_code, month, crime_type_slug) DO UPDATE SET records = c.records + EXCLUDED.records;
    RETURN NULL;
END $$;

CREATE FUNCTION crime_area_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crime_area_counts c SET records = c.records - gone.records
    FROM (SELECT o.set_id, o.area_code, r.month, r.crime_type_slug, count(*) AS records
          FROM removed o JOIN crime_records r ON r.id = o.record_id GROUP BY 1, 2, 3, 4) gone
    WHERE (c.set_id, c.area_code, c.month, c.crime_type_slug)
          = (gone.set_id, gone.area_code, gone.month, gone.crime_type_slug);
    DELETE FROM crime_area_counts WHERE records <= 0;
    RETURN NULL;
END $$;

CREATE FUNCTION crime_area_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE crime_area_counts c SET records = c.records - gone.records
    FROM (SELECT o.set_id, o.area_code, r.month, r.crime_type_slug, count(*) AS records
          FROM before_change o JOIN crime_records r ON r.id = o.record_id GROUP BY 1, 2, 3, 4) gone
    WHERE (c.set_id, c.area_code, c.month, c.crime_type_slug)
          = (gone.set_id, gone.area_code, gone.month, gone.crime_type_slug);
    DELETE FROM crime_area_counts WHERE records <= 0;
    INSERT INTO crime_area_counts AS c (set_id, area_code, month, crime_type_slug, records)
    SELECT a.set_id, a.area_code, r.month, r.crime_type_slug, count(*)
    FROM after_change a JOIN crime_records r ON r.id = a.record_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (set_id, area_code, month, crime_type_slug) DO UPDATE SET records = c.records + EXCLUDED.records;
    RETURN NULL;
END $$;

CREATE FUNCTION crime_area_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM crime_area_counts;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER crime_records_summary_insert AFTER INSERT ON crime_records
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION crime_month_counts_add();
CREATE TRIGGER crime_records_summary_delete AFTER DELETE ON crime_records
    FOR EACH STATEMENT EXECUTE FUNCTION crime_summaries_rebuild_trigger();
CREATE TRIGGER crime_records_summary_update AFTER UPDATE ON crime_records
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION crime_records_changed();
CREATE TRIGGER crime_records_summary_truncate AFTER TRUNCATE ON crime_records
    FOR EACH STATEMENT EXECUTE FUNCTION crime_summaries_rebuild_trigger();
CREATE TRIGGER crime_placements_summary_insert AFTER INSERT ON crime_placements
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION crime_area_counts_add();
CREATE TRIGGER crime_placements_summary_delete AFTER DELETE ON crime_placements
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION crime_area_counts_remove();
CREATE TRIGGER crime_placements_summary_update AFTER UPDATE ON crime_placements
    REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
    FOR EACH STATEMENT EXECUTE FUNCTION crime_area_counts_move();
CREATE TRIGGER crime_placements_summary_truncate AFTER TRUNCATE ON crime_placements
    FOR EACH STATEMENT EXECUTE FUNCTION crime_area_counts_clear();
"""

# Listeners (server/store/version_listener.py) learn each committed version from the payload, whatever bumped it;
# NOTIFY is delivered only on commit, so a rolled-back import is never announced.
ANNOUNCE = """
CREATE FUNCTION announce_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('csp_atlas_data_version', NEW.version::text);
    RETURN NULL;
END $$;
CREATE TRIGGER data_version_announce AFTER UPDATE ON data_version
    FOR EACH ROW EXECUTE FUNCTION announce_data_version();
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE crime_month_counts (
            month date NOT NULL,
            crime_type_slug text NOT NULL,
            crime_type text NOT NULL,
            records bigint NOT NULL,
            no_location bigint NOT NULL,
            PRIMARY KEY (month, crime_type_slug, crime_type)
        )""")
    op.execute("""
        CREATE TABLE crime_area_counts (
            set_id varchar NOT NULL,
            area_code varchar(32) NOT NULL,
            month date NOT NULL,
            crime_type_slug text NOT NULL,
            records bigint NOT NULL,
            PRIMARY KEY (set_id, area_code, month, crime_type_slug)
        )""")
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    op.execute("SELECT crime_summaries_rebuild()")
    op.execute(ANNOUNCE)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS data_version_announce ON data_version")
    op.execute("DROP FUNCTION IF EXISTS announce_data_version()")
    for table, events in (("crime_records", ("insert", "delete", "update", "truncate")),
                          ("crime_placements", ("insert", "delete", "update", "truncate"))):
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_summary_{event} ON {table}")
    for function in ("crime_summaries_rebuild_trigger", "crime_month_counts_add", "crime_records_changed",
                     "crime_area_counts_add", "crime_area_counts_remove", "crime_area_counts_move",
                     "crime_area_counts_clear"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.execute("DROP FUNCTION IF EXISTS crime_summaries_rebuild()")
    op.execute("DROP TABLE crime_area_counts")
    op.execute("DROP TABLE crime_month_counts")
