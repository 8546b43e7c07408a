"""Refusals of the domain, each carrying the HTTP status it means, so one handler in the API layer maps them all.

The domain knows nothing of Flask: `status` is just a number the API layer reads (400 by default)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Input that cannot be used (400 unless a subclass says otherwise); the message names what is valid."""

    status = 400

    @property
    def message(self) -> str:
        return str(self)

    def details(self) -> dict[str, Any]:
        """Members of the error body besides status and message (e.g. the problems of a file)."""
        return {}


class ForbiddenError(DomainError):
    status = 403


class NotFoundError(DomainError):
    status = 404


class ConflictError(DomainError):
    status = 409


class UnavailableError(DomainError):
    status = 503
