"""What the API says about itself: each route's OpenAPI responses, the headers its answers may carry
(exposed to browsers by CORS), and CORS itself. One home, so ``openapi.json`` and the answers agree."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import CORSConfig, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from flip_models.api.bodies import ErrorBody, ValidationErrorBody

_ERROR_DESCRIPTIONS: Mapping[int, str] = {
    400: "A rule of the operation is broken (the body names the field)",
    401: "No user identity (sign in)",
    403: "The caller may not do this",
    404: "The model or project does not exist (or is deleted)",
    409: "The request contradicts the current state",
    500: "Internal error (logged; nothing about it in the body)",
    503: "The database is unreachable; retry later",
}


#: Response headers a route may send besides CORS, and what they mean (exposed to browsers).
RESPONSE_HEADERS: Mapping[str, str] = {
    "Link": 'The pages around this one: `<…?limit=N&cursor=C>; rel="prev"` (older rows, when there are '
    'some) and `<…?limit=N&cursor=C>; rel="next"` (newer rows: always, an empty page means none yet)',
    "X-Next-Cursor": "The cursor of the newer rows' page (always given)",
    "X-Prev-Cursor": "The cursor of the older rows' page, when there are older rows",
    "X-Series-Omitted": "How many series the answer leaves out to stay within Lambda's response limit "
    "(the last ones, in the answer's order; `0` when none)",
    "X-Points-Omitted": "How many points the series left out store (`0` when none)",
    "ETag": "The answer's version (strong): send it back as `If-None-Match` and an unchanged answer is a "
    "`304` without a body (browsers do so by themselves: every answer says `Cache-Control: no-cache`)",
}


def api_responses(
    status: int = 200,
    description: str = "OK",
    *,
    errors: tuple[int, ...] = (),
    model: Any = None,
    headers: tuple[str, ...] = (),
    not_modified: bool = True,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: its success, 401/403/404/422/500/503 and any ``errors`` given.

    ``model`` documents the success body when the route returns it already serialised (a JSON
    text passed through); otherwise the route's return annotation documents it. ``headers`` names
    the :data:`RESPONSE_HEADERS` the success may carry; with ``ETag`` among them (and
    ``not_modified``), the ``304`` of a matching ``If-None-Match`` is documented too.
    """
    documented: dict[int, OpenAPIResponse] = {status: {"description": description}}
    if model is not None:
        documented[status]["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    if headers:
        documented[status]["headers"] = {
            name: {"description": RESPONSE_HEADERS[name], "schema": {"type": "string"}} for name in headers
        }
    if status == HTTPStatus.NO_CONTENT:
        documented[status]["content"] = {}
    if "ETag" in headers and not_modified:
        documented[int(HTTPStatus.NOT_MODIFIED)] = {
            "description": "`If-None-Match` names the answer's current `ETag`: unchanged, no body",
            "headers": {"ETag": {"description": RESPONSE_HEADERS["ETag"], "schema": {"type": "string"}}},
        }
    for code in sorted({401, 403, 404, 500, 503, *errors}):
        documented[code] = {
            "description": _ERROR_DESCRIPTIONS[code],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
    documented[422] = {
        "description": "The request does not match the schema (each field listed)",
        "content": {content_types.APPLICATION_JSON: {"model": ValidationErrorBody}},
    }
    return documented


def cors_config(origin: str) -> CORSConfig:
    """CORS of every response: the allowed origin (the template's ``CorsAllowOrigin``), bearer tokens,
    and the headers a browser may read (:data:`RESPONSE_HEADERS`: paging, what an answer left out)."""
    return CORSConfig(
        allow_origin=origin,
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=list(RESPONSE_HEADERS),
        max_age=600,
    )
