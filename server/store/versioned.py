"""Whole-table aggregates (loaded months, crime types, unplaced counts) computed once per data version per process,
instead of on every request: any import bumps the version, so a stale answer is never served."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from threading import Lock
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

Result = TypeVar("Result")
MAX_ENTRIES = 512


def per_data_version(function: Callable[..., Result]) -> Callable[..., Result]:
    memo: dict[tuple[str, str], Any] = {}
    lock = Lock()

    @wraps(function)
    def wrapped(session: Session, *args: Any, **kwargs: Any) -> Result:
        # xmin names the transaction that wrote this version: inside an import that later rolls back, the same
        # number can come again with other data, but never with the same xmin. The partnership the transaction acts
        # for is part of the key: what it shows (its sets, its area) is not another's.
        version = session.execute(text("SELECT version || '.' || xmin || '.' || coalesce(atlas_partnership(), '') "
                                       "FROM data_version WHERE id = 1")).scalar_one()
        key = (version, repr((args, sorted(kwargs.items()))))
        with lock:
            found = memo.get(key)
        if found is None:
            found = function(session, *args, **kwargs)
            with lock:
                for stale in [k for k in memo if k[0] != version]:
                    del memo[stale]
                if len(memo) >= MAX_ENTRIES:
                    memo.clear()
                memo[key] = found
        return copy.deepcopy(found)  # callers may change what they get

    return wrapped
