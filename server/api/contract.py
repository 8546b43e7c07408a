"""The API contract: each route's parameters are declared once, as marshmallow schemas that flask-smorest (webargs)
parses and apispec turns into /api/openapi.json, so the document and the code cannot drift.

Here live the pieces every blueprint shares: the parser (one unknown-parameter check, one 400 message format), the
field types (whole numbers, numbers, strict booleans, choices, patterned text) and the response declarations.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any

from flask import request
from flask_smorest import Api
from flask_smorest import Blueprint as _Blueprint
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, missing, pre_load, validate
from webargs.flaskparser import FlaskParser

from server.api.errors import ApiError

GEOJSON = "application/geo+json"
JSON = "application/json"
UNKNOWN_FIELD = "Unknown field."


# --- parsing: one parser, one message format ----------------------------------------------------------------------


def _valid_names(schema: Schema) -> list[str]:
    return [field.data_key or name for name, field in schema.fields.items() if not field.dump_only]


def describe(messages: Mapping[str, Any], schema: Schema, what: str = "parameter") -> str:
    """A marshmallow error as one sentence naming the parameter and what is valid."""
    unknown = sorted(name for name, problem in messages.items() if problem == [UNKNOWN_FIELD])
    if unknown:
        valid = ", ".join(_valid_names(schema)) or "none"
        return f"unknown {what}(s) {', '.join(unknown)}; valid: {valid}"
    name, problem = next(iter(messages.items()))
    while isinstance(problem, Mapping):  # nested or list item errors: the innermost message
        problem = next(iter(problem.values()))
    text = problem[0] if isinstance(problem, list) else str(problem)
    if name == "_schema" or text.startswith((name, "unknown ", "send ", "attach ")):
        return text
    if what == "form field" and text.startswith("is required"):
        return f"the form field '{name}' {text}"
    return f"{name} {text}"


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    # The schema's Meta decides: RAISE, so an unknown parameter is a 400 that lists the valid ones.
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012 (webargs reads the class attribute)
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None, "json": None, "form": None}

    def _raw_load_json(self, req: Any) -> Any:
        """Through Flask's JSON provider, which bounds the nesting depth (server.api.limits): a 400, never a 500."""
        if not req.is_json:
            return missing
        return req.get_json()

    def handle_error(self, error: ValidationError, req: Any, schema: Schema, *, error_status_code: int | None,
                     error_headers: Any) -> None:
        (location, messages), = error.messages.items()
        what = {"query": "parameter", "querystring": "parameter", "form": "form field",
                "files": "form field"}.get(location, "field")
        raise ApiError(400, describe(messages, schema, what))


def refuse_unsafe_path_values(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Path parameters get the check query parameters get (plain_text): no NUL, control characters or lone
    surrogates reach the database or a file name."""
    for name, value in (values or {}).items():
        if isinstance(value, str) and _UNSAFE_CHARACTERS.search(value):
            raise ApiError(400, f"{name} must be text without control characters")


def load_query(schema: Schema, args: Mapping[str, str]) -> dict[str, Any]:
    """Parse `args` with a declared schema outside a decorated route (e.g. /ogc's classified collections)."""
    try:
        return schema.load(dict(args))
    except ValidationError as error:
        raise ApiError(400, describe(error.messages, schema)) from None


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = Parser()


class Query(Schema):
    """Query parameters: unknown ones refused; an empty value means the default (as the map's own links send)."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _empty_is_absent(self, data: Mapping[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {name: data[name] for name in data if data[name] not in ("", [""])}


class Body(Schema):
    """A JSON or form body: unknown fields refused."""

    error_messages = {"type": "send a JSON object (Content-Type: application/json)"}  # noqa: RUF012

    class Meta:
        unknown = RAISE


def declared_body(bp: _Blueprint, schema: type[Schema], location: str = "json") -> Callable:
    """Document `schema` as the route's body without loading it before the view runs: the view loads it with
    load_declared once its own access checks have passed (a caller who may not write gets 401/403/404, not a 400
    about the body)."""
    content_type = {"json": JSON, "files": "multipart/form-data"}[location]
    return bp.doc(requestBody={"required": True, "content": {content_type: {"schema": schema}}})


def load_declared(schema: type[Schema], location: str = "json") -> dict[str, Any]:
    """The body of a declared_body route, loaded with its schema (400 naming the field and what is valid)."""
    if location == "json" and not request.is_json:
        raise ApiError(400, Body.error_messages["type"])
    return Blueprint.ARGUMENTS_PARSER.parse(schema(), request, location=location)


class Loose(Body):
    """A body whose values the domain checks (its check is shared with imported files): declared here for the
    document, with unknown fields passed on to the domain, which names them."""

    class Meta:
        unknown = INCLUDE


def loose(kind: str, description: str = "", required: str | None = None, **schema: Any) -> fields.Raw:
    """A member of a Loose body: any JSON value reaches the domain; `kind` and `schema` document what it takes.
    `required`: the message when it is missing."""
    return fields.Raw(allow_none=True, required=required is not None, error_messages={"required": required or ""},
                      metadata={"type": kind, **({"description": description} if description else {}), **schema})


class _Files(Schema):
    class Meta:
        unknown = EXCLUDE  # other form fields are not files; webargs leaves them out of the files anyway


def file_upload(name: str, missing_file: str, several: bool = False) -> type[Schema]:
    """A multipart body of one file named 'file' (several: the field repeated); `missing_file` when there is none."""
    binary = {"type": "string", "format": "binary"}
    required = {"required": True, "error_messages": {"required": missing_file}}
    field = (fields.List(fields.Raw(metadata=binary), metadata={"description": "a file; repeat the field for more"},
                         **required) if several else fields.Raw(metadata=binary, **required))
    return _Files.from_dict({"file": field}, name=name)


def json_only(view: Callable) -> Callable:
    """415 for a body that is not JSON (a form post from another site cannot reach the route)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not request.is_json:
            raise ApiError(415, "send the body as JSON (Content-Type: application/json)")
        return view(*args, **kwargs)

    wrapped.csp_errors = (*getattr(view, "csp_errors", ()), 415)
    return wrapped


# --- field types --------------------------------------------------------------------------------------------------

_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def plain_text(value: str) -> None:
    """No NUL or other control characters and no lone surrogates: PostgreSQL, headers and files refuse them."""
    if _UNSAFE_CHARACTERS.search(value):
        raise ValidationError("must be text without control characters")


def _default(value: Any) -> dict[str, Any]:
    return {} if value is None else {"load_default": value}


def whole(low: int, high: int, description: str, default: int | None = None, **kwargs: Any) -> fields.Integer:
    return fields.Integer(**_default(default), validate=validate.Range(low, high, error="must be from {min} to {max}"),
                          error_messages={"invalid": "must be a whole number, not '{input}'",
                                          "too_large": f"must be from {low} to {high}"},
                          metadata={"description": description}, **kwargs)


def number(low: float, high: float, description: str, default: float | None = None, **kwargs: Any) -> fields.Float:
    return fields.Float(**_default(default), allow_nan=False,
                        validate=validate.Range(low, high, error="must be from {min:g} to {max:g}"),
                        error_messages={"invalid": "must be a number, not '{input}'",
                                        "special": "must be a finite number"},
                        metadata={"description": description}, **kwargs)


def flag(description: str, default: bool | None = None, **kwargs: Any) -> fields.Boolean:
    """Strictly true or false: 'yes', '1' or 'TRUE' are refused, not guessed."""
    return fields.Boolean(**_default(default), truthy={"true"}, falsy={"false"},
                          error_messages={"invalid": "must be true or false"},
                          metadata={"description": description}, **kwargs)


class JsonBool(fields.Boolean):
    """A JSON true or false, nothing else: "false" as text is refused, not read as true."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"must be true or false (a JSON boolean), not {json.dumps(value)[:40]}")
        return value


def choice(values: Iterable[str], description: str, default: str | None = None, error: str = "must be one of {choices}",
           **kwargs: Any) -> fields.String:
    """One of `values`; `error` may use {input} and {choices}."""
    values = list(values)
    return fields.String(**_default(default), validate=validate.OneOf(values, error=error),
                         metadata={"description": description}, **kwargs)


def text(description: str, pattern: str | None = None, max_length: int = 200, default: str | None = None,
         example: str | None = None, pattern_error: str | None = None, min_length: int = 0,
         **kwargs: Any) -> fields.String:
    length_error = "must have {min} to {max} characters" if min_length else "may be at most {max} characters"
    checks: list[Callable] = [validate.Length(min=min_length, max=max_length, error=length_error), plain_text]
    if pattern:
        checks.insert(0, validate.Regexp(pattern, error=pattern_error or "must match {regex}"))
    metadata = {"description": description, **({"example": example} if example else {})}
    return fields.String(**_default(default), validate=checks, metadata=metadata,
                         error_messages={"invalid": "must be text", "required": "is required"}, **kwargs)


# --- responses ----------------------------------------------------------------------------------------------------

ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["status", "message"],
    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}}
BINARY = {"type": "string", "format": "binary"}


def responds(bp: _Blueprint, status: int, description: str, content_type: str | Iterable[str] = JSON,
             schema: Any = None, errors: Iterable[int] = (), queued: bool = False) -> Callable:
    """Declare a route's success response (content types and body schema), the errors it answers besides those its
    parameters, role and limits imply (complete_document adds those), and whether it may queue a job (202)."""
    types = [content_type] if isinstance(content_type, str) else list(content_type)

    def decorator(view: Callable) -> Callable:
        for kind in reversed(types):
            view = bp.alt_response(status, schema=schema if schema is not None else {"type": "object"},
                                   content_type=kind, description=description, success=True)(view)
        if queued:
            view = bp.alt_response(202, schema="JobAccepted", description=JOB_ACCEPTED, success=True)(view)
        view.csp_errors = (*getattr(view, "csp_errors", ()), *errors)
        return view

    return decorator


JOB_ACCEPTED = ("queued as a job (figure packs; maps and exports of sets over 2,000 areas; Gi* beyond 999 permutations "
                "or below 300 m hexagons): follow Location, GET /api/jobs/{job_id}, until done")
SECURITY = [{"bearer": []}, {"session": []}]
ERROR_REF = {"$ref": "#/components/responses/Error"}
URI_TOO_LONG = {"description": "the request line is over 4094 bytes (answered by gunicorn, before the app)",
                "content": {"text/html": {"schema": {"type": "string"}}}}


def complete_document(api: Api, app: Any, expensive_endpoints: Iterable[str]) -> None:
    """Add to every operation the answers its declarations imply: 400 for parameters or a body, 401/403 and security
    for a role (require_role) or a sign-in, 404 for path parameters, 413 for a body, 429 and 503 for the rate-limited
    and heavy routes, 503 for all (the database may be down)."""
    from flask_smorest.spec.plugins import FlaskPlugin

    expensive = set(expensive_endpoints)
    paths = api.spec._paths
    for rule in app.url_map.iter_rules():
        path = FlaskPlugin.flaskpath2openapi(rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = paths.get(path, {}).get(method.lower())
            if operation is None:
                continue
            codes = {503, *getattr(view, "csp_errors", ())}
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.add(400)
            if "{" in path:  # refuse_unsafe_path_values: 400; no such resource: 404
                codes |= {400, 404}
            if "requestBody" in operation:
                codes |= {400, 413}
            if getattr(view, "csp_role", None):
                codes |= {401, 403}
            if rule.endpoint in expensive:
                codes |= {429, 503}
            if 401 in codes:
                operation["security"] = SECURITY
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                operation["responses"]["414"] = URI_TOO_LONG
            responses = operation.setdefault("responses", {})
            for code in {*map(str, codes), *(c for c in responses if c.isdigit() and int(c) >= 400)} - {"414"}:
                responses[code] = ERROR_REF  # also replaces flask-smorest's own error bodies with ours


def complete_hand_written(paths: dict[str, Any]) -> None:
    """What every route answers, added to the part of the document written by hand (/ogc): 400 for a path parameter
    with control characters (refuse_unsafe_path_values), 503 when the database is down, 414 where a query string can
    make the request line too long."""
    for operations in paths.values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("503", ERROR_REF)
            responses.setdefault("400", ERROR_REF)
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                responses["414"] = URI_TOO_LONG


def _refs(value: Any, kind: str) -> set[str]:
    """Names of the components of `kind` (schemas, responses) that `value` refers to."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        found = {ref.rsplit("/", 1)[-1]} if isinstance(ref, str) and ref.startswith(f"#/components/{kind}/") else set()
        return found.union(*(_refs(item, kind) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item, kind) for item in value))
    return set()


def without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The document without components nothing refers to (flask-smorest registers its own error responses and
    schemas and a pagination schema, which this API does not use)."""
    components = document["components"]
    responses = _refs(document["paths"], "responses")
    components["responses"] = {name: value for name, value in components.get("responses", {}).items()
                               if name in responses}
    schemas = components["schemas"]
    used = _refs(document["paths"], "schemas") | _refs(components["responses"], "schemas")
    pending = list(used)
    while pending:
        for name in _refs(schemas.get(pending.pop(), {}), "schemas") - used:
            used.add(name)
            pending.append(name)
    components["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    return document


class DocumentedApi(Api):
    DEFAULT_ERROR_RESPONSE_NAME = None  # errors are declared per route (complete_document)


def make_api(app: Any, schemas: Mapping[str, Any]) -> Api:
    """The API object: its blueprints are registered through it so their declarations reach the document."""
    app.config.update(API_CONFIG)
    api = DocumentedApi(app, spec_kwargs={"info": {"description": (
        "Boundaries, crime statistics and hotspot layers for Community Safety Partnerships. Geometries are RFC 7946 "
        "GeoJSON in lon/lat (EPSG:4326). Every error is JSON {error: {status, message}}; a 405 names the allowed "
        "methods in Allow; 429 and 503 give Retry-After.")}})
    app.url_value_preprocessor(refuse_unsafe_path_values)
    components = api.spec.components
    components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session",
                                           "description": "__Host-session when served over HTTPS"})
    components.response("Error", {"description": "an error, with a message that says what is valid",
                                  "content": {JSON: {"schema": ERROR_SCHEMA}}})
    for name, schema in schemas.items():
        components.schema(name, schema)
    return api


API_CONFIG = {"API_TITLE": "CSP Atlas API", "API_VERSION": "0.1.0", "OPENAPI_VERSION": "3.0.3"}


# --- parameters several routes share --------------------------------------------------------------------------------

SLUG = r"^[a-z0-9][a-z0-9-]{0,79}$"
BBOX = r"^-?[0-9]+(\.[0-9]+)?(,-?[0-9]+(\.[0-9]+)?){3}$"


def period_param(description: str) -> fields.String:
    from server.domain.periods import PATTERN, PERIOD_HELP

    return text(description, pattern=PATTERN, max_length=15, example="2022-01/2022-11",
                pattern_error=f"is not a period: use {PERIOD_HELP}")


class Bbox(fields.String):
    """minLon,minLat,maxLon,maxLat in degrees, parsed to a tuple of four floats."""

    def __init__(self, **kwargs: Any):
        super().__init__(metadata={"description": "minLon,minLat,maxLon,maxLat: only what lies inside",
                                   "pattern": BBOX, "example": "0.45,51.2,0.6,51.3"}, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[float, float, float, float]:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > 120 or not re.match(BBOX, raw):
            raise ValidationError("must be four numbers: minLon,minLat,maxLon,maxLat")
        minx, miny, maxx, maxy = (float(part) for part in raw.split(","))
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise ValidationError("must be minLon,minLat,maxLon,maxLat in degrees with min < max")
        return minx, miny, maxx, maxy


class Numbers(fields.String):
    """Numbers separated by commas, e.g. 10,50,100, parsed to a tuple of floats."""

    PATTERN = r"^-?[0-9]+(\.[0-9]+)?(,-?[0-9]+(\.[0-9]+)?){0,19}$"

    def __init__(self, description: str, **kwargs: Any):
        super().__init__(metadata={"description": description, "pattern": self.PATTERN, "example": "10,50,100"},
                         **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> tuple[float, ...]:
        raw = super()._deserialize(value, attr, data, **kwargs)
        if len(raw) > 400 or not re.match(self.PATTERN, raw):
            raise ValidationError(f"must be numbers separated by commas, e.g. 10,50,100; not '{raw[:40]}'")
        return tuple(float(part) for part in raw.split(","))
