"""Engine and session handling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from server.config import ROOT, normalise_database_url
from server.store import roles, scope


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    engine = create_engine(normalise_database_url(url), pool_pre_ping=True, future=True)
    scope.install(engine)  # each transaction acts for the partnership of its request or job (server/store/scope.py)
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back everything on any error."""
    session = sessionmaker(bind=engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade_schema(owner_url: str, app_url: str, log: Callable[[str], None]) -> roles.GrantReport | None:
    """`db upgrade`: the migrations as the schema's owner, then the app role's grants (server/store/roles.py)."""
    owner = engine_for(owner_url)
    with owner.connect() as connection:
        missing = roles.missing_extensions(connection)
    if missing:
        raise roles.RoleSetupError(
            f"the extension(s) {', '.join(missing)} must be created by a superuser first: "
            f"CREATE EXTENSION {missing[0]}; in this database (README, \"Database roles\")")
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = owner_url
    command.upgrade(config, "head")
    with owner.begin() as connection:
        return roles.grant_app_privileges(connection, database_role(app_url), log)


def database_role(url: str) -> str:
    """The role a database URL connects as (the URL may leave it to PGUSER or the login name)."""
    with engine_for(url).connect() as connection:
        return connection.execute(text("SELECT CURRENT_USER")).scalar_one()
