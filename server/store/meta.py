"""Questions about the database itself."""

from __future__ import annotations

from sqlalchemy import Engine, text


def database_versions(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT current_setting('server_version') AS postgres, postgis_lib_version() AS postgis, "
            "(SELECT version_num FROM alembic_version) AS schema")).mappings().one()
    return {"database": "ok", "postgresql": row["postgres"], "postgis": row["postgis"],
            "schema_revision": row["schema"]}
