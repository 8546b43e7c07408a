"""Alembic environment: migrates as the schema's owner (CSP_ATLAS_OWNER_DATABASE_URL, else DATABASE_URL)."""

import os

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine

from server.config import normalise_database_url
from server.store.models import Base

POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table" and name in POSTGIS_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_online() -> None:
    url = (context.config.attributes.get("database_url") or os.environ.get("CSP_ATLAS_OWNER_DATABASE_URL")
           or os.environ["DATABASE_URL"])
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
