"""partnership ownership: accounts, hotspot layers (points, history, gazetteer, grants, audit), patrol areas,
annotations, the security audit and jobs belong to one partnership, and PostgreSQL row-level security keeps each
partnership's rows from every other (SECURITY.md, "Partnerships")

Revision ID: 0015_partnership_ownership
Revises: 0014_partnerships
Create Date: 2026-11-30 21:00:00.000000
"""
import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = '0015_partnership_ownership'
down_revision: str | None = '0014_partnerships'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTNERSHIP_DIR = Path(__file__).resolve().parents[2] / "geodata" / "partnerships"
# Tables whose rows carry their partnership; a transaction sees and writes only its own partnership's rows.
OWNED_TABLES = ("users", "security_audit", "hotspot_layers", "hotspot_grants", "gazetteer_places", "hotspot_points",
                "hotspot_point_history", "hotspot_audit", "hotspot_layer_statistics", "patrol_areas",
                "patrol_area_history", "partnership_annotations", "jobs")
# Tables that belong to a row of an owned table: visible when that row is.
DEPENDENT_TABLES = {"api_tokens": "user_id IN (SELECT id FROM users)",
                    "user_sessions": "user_id IN (SELECT id FROM users)",
                    "job_files": "job_id IN (SELECT id FROM jobs)"}
HOTSPOT_VERSIONED = ("hotspot_layers", "gazetteer_places", "hotspot_points", "hotspot_layer_statistics")

# The partnership a transaction acts for: the transaction-local setting the app sets at the start of each
# transaction of a request or job (server/store/scope.py), else the default partnership (commands, old URLs).
ACTING_FOR = """
    CREATE FUNCTION atlas_partnership() RETURNS varchar LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(nullif(current_setting('atlas.partnership', true), ''),
                        (SELECT slug FROM partnerships WHERE is_default))
    $$"""

# Boundary sets are shared reference data, listed per partnership (partnership_sets); a set no partnership lists
# (one uploaded before there were several, or a test's) is the default partnership's.
SHOWS_SET = """
    CREATE FUNCTION atlas_shows_set(set_id varchar) RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT EXISTS (SELECT 1 FROM partnership_sets s
                       WHERE s.set_id = $1 AND s.partnership_slug = atlas_partnership())
            OR (NOT EXISTS (SELECT 1 FROM partnership_sets s WHERE s.set_id = $1)
                AND EXISTS (SELECT 1 FROM partnerships p WHERE p.slug = atlas_partnership() AND p.is_default))
    $$"""

# The private (hotspot) version is per partnership, so a write in one never changes another's ETags.
HOTSPOT_VERSION = """
    CREATE OR REPLACE FUNCTION bump_hotspot_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO partnership_hotspot_versions (partnership_slug, version) VALUES (atlas_partnership(), 1)
        ON CONFLICT (partnership_slug) DO UPDATE SET version = partnership_hotspot_versions.version + 1,
                                                      changed_at = now();
        RETURN NULL;
    END $$"""
TRUNCATED = """
    CREATE FUNCTION bump_every_hotspot_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE partnership_hotspot_versions SET version = version + 1, changed_at = now();
        RETURN NULL;
    END $$"""


def upgrade() -> None:
    default_slug = _ensure_default_partnership()
    op.execute(ACTING_FOR)
    op.execute(SHOWS_SET)
    for table in OWNED_TABLES:
        # The constant default fills the existing rows without firing row triggers (the audit trails refuse
        # UPDATE); new rows then take the partnership the transaction acts for.
        op.execute(f"ALTER TABLE {table} ADD COLUMN partnership_slug varchar(40) NOT NULL "
                   f"DEFAULT '{default_slug}' REFERENCES partnerships (slug)")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN partnership_slug SET DEFAULT atlas_partnership()")
        op.execute(f"CREATE INDEX ix_{table}_partnership ON {table} (partnership_slug)")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for table in OWNED_TABLES:
        if table != "users":
            op.execute(f"CREATE POLICY {table}_own_partnership ON {table} "
                       "USING (partnership_slug = atlas_partnership()) "
                       "WITH CHECK (partnership_slug = atlas_partnership())")
    # A county partnership's admins may act in its district partnerships: they are visible there (so their
    # sessions and tokens work), but only their own partnership changes their accounts.
    op.execute("CREATE POLICY users_own_partnership ON users USING (partnership_slug = atlas_partnership()) "
               "WITH CHECK (partnership_slug = atlas_partnership())")
    op.execute("""CREATE POLICY users_county_admins ON users FOR SELECT USING (
        role = 'admin' AND partnership_slug = (SELECT parent_slug FROM partnerships WHERE slug = atlas_partnership()))""")
    for table, visible in DEPENDENT_TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_own_partnership ON {table} USING ({visible}) WITH CHECK ({visible})")
    # Public place names are per partnership now: two districts may both have a "High Street".
    op.execute("ALTER TABLE gazetteer_places DROP CONSTRAINT gazetteer_places_one_name")
    op.execute("ALTER TABLE gazetteer_places ADD CONSTRAINT gazetteer_places_one_name "
               "UNIQUE NULLS NOT DISTINCT (partnership_slug, layer_id, name_key)")
    op.execute("""
        CREATE TABLE partnership_hotspot_versions (
            partnership_slug varchar(40) PRIMARY KEY REFERENCES partnerships (slug) ON DELETE CASCADE,
            version bigint NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute(f"INSERT INTO partnership_hotspot_versions (partnership_slug, version) "
               f"SELECT '{default_slug}', version FROM hotspot_data_version WHERE id = 1")
    op.execute(HOTSPOT_VERSION)
    op.execute(TRUNCATED)
    for table in HOTSPOT_VERSIONED:  # TRUNCATE empties every partnership's rows: its statement bumps them all
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_hotspot_data_version ON {table}")
        op.execute(f"CREATE TRIGGER {table}_bump_hotspot_data_version AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_hotspot_data_version()")
        op.execute(f"CREATE TRIGGER {table}_truncate_bumps_all AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION bump_every_hotspot_version()")


def _ensure_default_partnership() -> str:
    """The default partnership's slug. A database upgraded from 0014 may not have its row yet (the reference loader
    writes it after `db upgrade`): it is inserted from geodata/partnerships/*.json's default, name and districts only;
    the loader fills in its sets and area as it would have anyway."""
    connection = op.get_bind()
    slug = connection.execute(sa.text("SELECT slug FROM partnerships WHERE is_default")).scalar()
    if slug:
        return slug
    defaults = [d for d in (json.loads(p.read_text(encoding="utf-8"))
                            for p in sorted(PARTNERSHIP_DIR.glob("*.json"))) if d.get("default")]
    if len(defaults) != 1:
        raise RuntimeError(f"{PARTNERSHIP_DIR}: exactly one partnership must be \"default\": true "
                           f"(found {len(defaults)}); existing accounts and layers are given to it")
    default = defaults[0]
    connection.execute(sa.text("""
        INSERT INTO partnerships (slug, name, lad_codes, is_default) VALUES (:slug, :name, :lads, true)
        ON CONFLICT (slug) DO UPDATE SET is_default = true"""),
        {"slug": default["slug"], "name": default["name"], "lads": list(default["lad_codes"])})
    return default["slug"]


def downgrade() -> None:
    for table in HOTSPOT_VERSIONED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_truncate_bumps_all ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_hotspot_data_version ON {table}")
        op.execute(f"CREATE TRIGGER {table}_bump_hotspot_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_hotspot_data_version()")
    op.execute("""
        CREATE OR REPLACE FUNCTION bump_hotspot_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE hotspot_data_version SET version = version + 1, changed_at = now() WHERE id = 1;
            RETURN NULL;
        END $$""")
    op.execute("DROP FUNCTION IF EXISTS bump_every_hotspot_version()")
    op.execute("DROP TABLE partnership_hotspot_versions")
    op.execute("ALTER TABLE gazetteer_places DROP CONSTRAINT gazetteer_places_one_name")
    op.execute("ALTER TABLE gazetteer_places ADD CONSTRAINT gazetteer_places_one_name "
               "UNIQUE NULLS NOT DISTINCT (layer_id, name_key)")
    for table in DEPENDENT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {table}_own_partnership ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP POLICY IF EXISTS users_county_admins ON users")
    for table in OWNED_TABLES:
        op.execute(f"DROP POLICY IF EXISTS {table}_own_partnership ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DROP COLUMN partnership_slug")
    op.execute("DROP FUNCTION IF EXISTS atlas_shows_set(varchar)")
    op.execute("DROP FUNCTION IF EXISTS atlas_partnership()")
