"""JSON errors for every failure: a clear message for bad input, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from server.domain.errors import DomainError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, **details: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def error_response(status: int, message: str, **details: Any):
    return jsonify({"error": {"status": status, "message": message, **details}}), status


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        response, status = error_response(error.status, error.message, **error.details)
        if "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response, status

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return error_response(error.status, error.message, **error.details())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 413:
            limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
            size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
            return error_response(413, f"the request body is larger than the {size} limit of this route")
        if not request.path.startswith("/api/") and error.code == 404:
            return error_response(404, f"no page at {request.path}")
        response, status = error_response(error.code or 500, error.description or error.name)
        for header, value in error.get_headers():
            if header.lower() != "content-type":  # e.g. Allow on 405, WWW-Authenticate on 401
                response.headers[header] = value
        return response, status

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        if not error.connection_invalidated and not _is_unreachable(error):
            return _unexpected(error)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        response, status = error_response(503, "the database is unavailable; try again in a minute")
        response.headers["Retry-After"] = "30"
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal error; the details are in the server log")


def _is_unreachable(error: DBAPIError) -> bool:
    """Connection refused or lost (psycopg's OperationalError without an SQLSTATE), not a failing statement."""
    return type(error.orig).__name__ == "OperationalError" and getattr(error.orig, "sqlstate", None) is None
