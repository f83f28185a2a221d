"""The HTTP door shared by every API function: the resolver, the request's caller, errors → HTTP.

Every domain error class has exactly one handler here, so a handler module never builds an error
response itself. Bodies are JSON ``{"statusCode", "message"}`` (plus ``field`` for a 400, and
``detail`` for a 422); they never carry a stack trace, SQL, driver text or the rejected input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit

from flip_models.api.documentation import cors_config
from flip_models.core.access import Caller
from flip_models.errors import (
    ConfigurationError,
    ConflictError,
    DatabaseUnavailableError,
    FlipError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnauthorizedError,
)
from flip_models.observability import logger, metrics
from flip_models.store.settings import get_settings

#: Cap on what a 422 body repeats of a validation message (never the input itself).
_MAX_MESSAGE = 200

#: Domain error class → HTTP status; one handler each (see :func:`make_resolver`).
DOMAIN_STATUS: Mapping[type[FlipError], HTTPStatus] = {
    InvalidError: HTTPStatus.BAD_REQUEST,
    UnauthorizedError: HTTPStatus.UNAUTHORIZED,
    ForbiddenError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    DatabaseUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def json_response(
    status: HTTPStatus | int, body: Any, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


def error_body(status: HTTPStatus, message: str, **extra: Any) -> dict[str, Any]:
    return {"statusCode": int(status), "message": message, **extra}


def _domain_error_handler(status: HTTPStatus) -> Callable[[FlipError], Response[Any]]:
    def handle(error: FlipError) -> Response[Any]:
        extra = {"field": error.field} if status == HTTPStatus.BAD_REQUEST and error.field else {}
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            logger.warning("request failed", extra={"status": int(status), "reason": error.message})
            metrics.add_metric(name="ApiUnavailable", unit=MetricUnit.Count, value=1)
        headers = {"Retry-After": "5"} if status == HTTPStatus.SERVICE_UNAVAILABLE else None
        return json_response(status, error_body(status, error.message, **extra), headers)

    return handle


def _validation_error(error: RequestValidationError) -> Response[Any]:
    """422 listing each offending field (``loc`` such as ``["body", "name"]``) and why; no input."""
    detail = [
        {
            # A body that is not JSON at all: the location is the body itself, not a character index.
            "loc": ["body"] if item.get("type") == "json_invalid" else list(item.get("loc", ())),
            "msg": str(item.get("msg", ""))[:_MAX_MESSAGE],
            "type": str(item.get("type", "")),
        }
        for item in error.errors()
    ]
    fields = ", ".join(".".join(str(part) for part in item["loc"]) for item in detail) or "request"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    metrics.add_metric(name="ApiRejected", unit=MetricUnit.Count, value=1)
    return json_response(status, error_body(status, f"invalid {fields}", detail=detail))


def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    metrics.add_metric(name="ApiRejected", unit=MetricUnit.Count, value=1)
    return json_response(status, error_body(status, "send the body as application/json"))


def _service_error(error: ServiceError) -> Response[Any]:
    status = HTTPStatus(error.status_code)
    metrics.add_metric(name="ApiRejected", unit=MetricUnit.Count, value=1)
    return json_response(status, error_body(status, str(error.msg)))


def _configuration_error(error: ConfigurationError) -> Response[Any]:
    """A container that cannot work as configured: the problem (which setting, and why) goes to the
    log for the operator; the caller gets a 500 that says only that (no configuration detail)."""
    logger.error("misconfigured", extra={"reason": error.message})
    metrics.add_metric(name="ApiErrors", unit=MetricUnit.Count, value=1)
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    return json_response(status, error_body(status, "the service is misconfigured; the operator must fix it"))


def _body_too_deep(error: RecursionError) -> Response[Any]:
    """A request body nested deeper than Python's JSON parser goes (Powertools parses it before the
    route): a schema error on the body, like any other body the route cannot take."""
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    metrics.add_metric(name="ApiRejected", unit=MetricUnit.Count, value=1)
    detail = [{"loc": ["body"], "msg": "nested too deeply", "type": "json_too_deep"}]
    return json_response(status, error_body(status, "invalid body: nested too deeply", detail=detail))


def _unexpected_error(error: Exception) -> Response[Any]:
    """Anything else is our fault: log it with its trace, answer 500 with nothing inside."""
    logger.exception("unexpected error", extra={"error_type": type(error).__name__})
    metrics.add_metric(name="ApiErrors", unit=MetricUnit.Count, value=1)
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    return json_response(status, error_body(status, "internal error; it has been logged"))


#: How every polled read may be cached: kept, but asked again (``If-None-Match``) before each use.
CACHE_CONTROL = "no-cache"


class NotModified(Exception):
    """The caller's copy is current: the route answers ``304`` (raised by :func:`conditional`)."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


def _matches(header: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 §13.1.2 asks: ``W/``
    ignored) or is ``*``."""
    if not header:
        return False
    for item in header.split(","):
        candidate = item.strip().removeprefix("W/")
        if candidate in ("*", tag):
            return True
    return False


def conditional(app: APIGatewayRestResolver, tag: str, *, revalidate: bool = True) -> None:
    """The answer's tag, once the route has checked access: a request whose ``If-None-Match`` names it
    gets ``304`` (:class:`NotModified`; not with ``revalidate=False``, a ``POST``); any other answer
    of the route carries ``ETag`` and ``Cache-Control`` (added by :class:`FlipRestResolver`)."""
    if isinstance(app, FlipRestResolver):
        app.etag = tag
    if revalidate and _matches(app.current_event.headers.get("If-None-Match"), tag):
        raise NotModified(tag)


def revalidating(app: APIGatewayRestResolver) -> bool:
    """Whether the request names a tag (``If-None-Match``): a route that can compute its tag from its
    answer does so when none is named, and reads it first only when it may save the answer."""
    return bool(app.current_event.headers.get("If-None-Match"))


def _not_modified(answer: NotModified) -> Response[Any]:
    """``304``: no body; the headers the ``200`` would have that describe it as a whole."""
    metrics.add_metric(name="ApiNotModified", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=int(HTTPStatus.NOT_MODIFIED),
        content_type=content_types.APPLICATION_JSON,
        body="",
        headers={"ETag": answer.tag, "Cache-Control": CACHE_CONTROL},
    )


class FlipRestResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, with CORS headers on every response (SPEC §4).

    The allowed origin comes from the container's ``Settings``, read on the first request rather
    than at import, so that a misconfigured container still answers (a 500 from the route) instead
    of failing to start. Powertools adds CORS headers only when the request carries an ``Origin``;
    server-to-server callers and ``sam local invoke`` events do not, and still get the configured
    origin. Each request counts once in the ``ApiRequests`` metric.
    """

    def __init__(self) -> None:
        super().__init__(enable_validation=True, cors=cors_config("*"))
        self._cors_headers: dict[str, str] | None = None
        #: The answer's tag, set by :func:`conditional` during the request.
        self.etag: str | None = None

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)
        self.etag = None
        if self._cors_headers is None:
            try:
                origin = get_settings().cors_allow_origin
            except ConfigurationError:
                pass  # the route answers 500 naming the problem, without CORS headers
            else:
                self._cors = cors_config(origin)
                self._cors_headers = self._cors.to_dict(origin)
        response = super().resolve(event, context)
        headers = response.get("multiValueHeaders") or {}
        single = response.get("headers") or {}
        if self._cors_headers and not (
            "Access-Control-Allow-Origin" in headers or "Access-Control-Allow-Origin" in single
        ):
            for name, value in self._cors_headers.items():
                headers[name] = [value]
            response["multiValueHeaders"] = headers
        if self.etag is not None and response.get("statusCode") == HTTPStatus.OK:
            headers = response.get("multiValueHeaders") or {}
            headers["ETag"] = [self.etag]
            headers["Cache-Control"] = [CACHE_CONTROL]
            response["multiValueHeaders"] = headers
        return response


def make_resolver() -> APIGatewayRestResolver:
    """A REST API resolver with request/response validation, CORS and the error mapping."""
    app = FlipRestResolver()
    for error_class, status in DOMAIN_STATUS.items():
        app.exception_handler(error_class)(_domain_error_handler(status))
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(ServiceError)(_service_error)
    app.exception_handler(ConfigurationError)(_configuration_error)
    app.exception_handler(RecursionError)(_body_too_deep)
    app.exception_handler(NotModified)(_not_modified)
    app.exception_handler(Exception)(_unexpected_error)
    return app


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller of the request being handled (``requestContext.authorizer.claims``); none → 401."""
    settings = get_settings()
    caller = Caller.from_claims(
        app.current_event.request_context.authorizer.get("claims"),
        admin_group=settings.admin_group,
        researcher_group=settings.researcher_group,
    )
    logger.append_keys(user_id=str(caller.user_id))
    return caller


def page_headers(
    app: APIGatewayRestResolver, limit: int, next_cursor: str | None, prev_cursor: str | None
) -> dict[str, str]:
    """``Link`` (``rel="prev"``, ``rel="next"``) with ``X-Prev-Cursor`` and ``X-Next-Cursor``, for the
    pages a page has around it.

    Each link is the path the client called (``requestContext.path``: with the stage, or the custom
    domain's base path) with the same ``limit`` and that page's cursor.
    """
    event = app.current_event
    path = event.request_context.path or event.path
    links: list[str] = []
    headers: dict[str, str] = {}
    for rel, cursor, header in (
        ("prev", prev_cursor, "X-Prev-Cursor"),
        ("next", next_cursor, "X-Next-Cursor"),
    ):
        if cursor is not None:
            links.append(f'<{path}?{urlencode({"limit": limit, "cursor": cursor})}>; rel="{rel}"')
            headers[header] = cursor
    if links:
        headers["Link"] = ", ".join(links)
    return headers
