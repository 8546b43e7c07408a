"""Which partnership the current unit of work acts for. Every transaction of every engine starts by putting it in
the transaction-local setting `atlas.partnership`, which the row-level security policies of migration 0015 read:
rows a partnership owns are invisible to (and cannot be written by) a transaction acting for another, whatever the
query's WHERE says. Unset (the command line, the default partnership's URLs) means the default partnership."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Connection, Engine, event

_acting_for: ContextVar[str | None] = ContextVar("atlas_partnership", default=None)


def current() -> str | None:
    """The slug this unit of work acts for, or None for the default partnership."""
    return _acting_for.get()


@contextmanager
def acting_for(slug: str | None) -> Iterator[None]:
    """Transactions begun inside act for partnership `slug` (None: the default one)."""
    token = _acting_for.set(slug)
    try:
        yield
    finally:
        _acting_for.reset(token)


def act_for(slug: str | None) -> None:
    """From now on this context (a command-line run) acts for partnership `slug`."""
    _acting_for.set(slug)


def _set_local(connection: Connection) -> None:
    slug = _acting_for.get()
    if slug is not None:
        connection.exec_driver_sql("SELECT set_config('atlas.partnership', %(slug)s, true)", {"slug": slug})


def install(engine: Engine) -> None:
    if not event.contains(engine, "begin", _set_local):
        event.listen(engine, "begin", _set_local)
