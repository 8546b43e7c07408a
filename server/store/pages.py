"""SQL for reading append-only logs a page at a time, newest first (the security audit and the hotspot audit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


def newest_first(session: Session, table: str, columns: str, filters: dict[str, Any], before_id: int | None,
                 limit: int) -> list[dict[str, Any]]:
    """Rows of `table` (a constant of the caller's, never user input) whose columns equal the given filters (None:
    any), with id below `before_id`, newest first."""
    clauses, params = ["TRUE"], {"limit": limit}
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{column} = :{column}")
            params[column] = value
    if before_id is not None:
        clauses.append("id < :before")
        params["before"] = before_id
    rows = session.execute(text(f"SELECT {columns} FROM {table} WHERE {' AND '.join(clauses)} "
                                "ORDER BY id DESC LIMIT :limit"), params).mappings().all()
    return [dict(row) for row in rows]
