"""FLIP's three internal routes, each the four steps in order, and FLIP's answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from flip_models.errors import ConfigurationError
from flip_models.fl.ingress.answers import IngressAnswer, invalid
from flip_models.fl.ingress.bodies import read_body, storable_problem, validation_issues
from flip_models.fl.ingress.checks import check_attribution, model_and_client, model_not_found
from flip_models.fl.ingress.key import KEY_HEADER, authenticate
from flip_models.fl.ingress.queues import LOGS, METRICS, STATUS, Queue, enqueue
from flip_models.fl.messages import (
    MAX_EVENT_ID_LENGTH,
    FLLogMessage,
    FLMetricMessage,
    FLStatusMessage,
    truncate,
)
from flip_models.observability import logger, metrics

#: The header a sender may name its request's idempotency key in.
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
#: The base path that makes ``FLIP_API_INTERNAL_URL=<ingress URL>/api`` work as flip-utils joins it.
BASE_PATH: Final = "/api"


def _answer(status: HTTPStatus, body: Any, headers: Mapping[str, str] | None = None) -> Response[Any]:
    if status == HTTPStatus.NO_CONTENT:
        return Response(status_code=int(status), body="", headers=dict(headers or {}))
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=dict(headers or {}),
    )


def make_ingress() -> APIGatewayRestResolver:
    """The ingress's resolver: FLIP's three routes under :data:`BASE_PATH`, FLIP's answers."""
    app = APIGatewayRestResolver()

    def header(name: str) -> str | None:
        value: str | None = app.current_event.headers.get(name)  # case-insensitive (Powertools v3)
        return value

    def accepted(queue: Queue, message: FLLogMessage | FLMetricMessage | FLStatusMessage) -> dict[str, str]:
        message_id = enqueue(queue, message)
        metrics.add_metric(name="IngressAccepted", unit=MetricUnit.Count, value=1)
        logger.info(
            "FL ingress request accepted",
            extra={"queue": queue.name, "model_id": str(message.model_id), "message_id": message_id},
        )
        return {"X-FL-Message-Id": message_id, "X-FL-Queue": queue.name}

    def idempotency_key() -> str | None:
        """The ``Idempotency-Key`` header (blank is absent), the key of a request whose body names none."""
        key = header(IDEMPOTENCY_HEADER)
        if key is None or not key.strip():
            return None
        if len(key) > MAX_EVENT_ID_LENGTH:
            raise invalid(
                (
                    ["header", IDEMPOTENCY_HEADER],
                    f"at most {MAX_EVENT_ID_LENGTH} characters",
                    "string_too_long",
                )
            )
        return key

    def message_of(
        kind: type[FLLogMessage] | type[FLMetricMessage], model_id: str
    ) -> FLLogMessage | FLMetricMessage:
        event = app.current_event
        body = read_body(event.body, event.is_base64_encoded or False, header("Content-Type"))
        fields = {**body, "model_id": model_id}
        given = body.get("event_id")
        if given is None or (isinstance(given, str) and not given.strip()):
            fields["event_id"] = idempotency_key()  # the body's own event_id wins
        try:
            message = kind.model_validate(fields)
        except ValidationError as error:
            raise validation_issues(error, {"model_id": ["path", "model_id"]}) from None
        except RecursionError:
            raise invalid((["body"], "nested too deeply", "json_invalid")) from None
        problem = storable_problem(message.model_dump(mode="json"))
        if problem is not None:
            raise invalid((["body", *problem[0]], problem[1], "value_error"))
        return message

    @app.put(f"{BASE_PATH}/model/<modelId>/status/<status>")
    def update_status(modelId: str, status: str) -> Response[Any]:
        authenticate(header(KEY_HEADER))
        try:
            message = FLStatusMessage.model_validate(
                {"model_id": modelId, "status": status, "event_id": idempotency_key()}
            )
        except ValidationError as error:
            raise validation_issues(
                error, {"model_id": ["path", "model_id"], "status": ["path", "model_status"]}
            ) from None
        if not model_and_client(message.model_id, None).model_found:
            raise model_not_found(message.model_id)
        headers = accepted(STATUS, message)
        return _answer(HTTPStatus.OK, {"success": "status set"}, headers)

    @app.post(f"{BASE_PATH}/model/<modelId>/logs")
    def add_log(modelId: str) -> Response[Any]:
        authenticate(header(KEY_HEADER))
        message = message_of(FLLogMessage, modelId)
        check_attribution(message)
        return _answer(HTTPStatus.OK, {"detail": "Created"}, accepted(LOGS, message))

    @app.post(f"{BASE_PATH}/model/<modelId>/metrics")
    def save_metrics(modelId: str) -> Response[Any]:
        authenticate(header(KEY_HEADER))
        message = message_of(FLMetricMessage, modelId)
        check_attribution(message)
        return _answer(HTTPStatus.NO_CONTENT, None, accepted(METRICS, message))

    @app.not_found
    def not_found(_: RouteNotFound) -> Response[Any]:
        metrics.add_metric(name="IngressRefused", unit=MetricUnit.Count, value=1)
        return _answer(HTTPStatus.NOT_FOUND, {"detail": "Not Found"})

    def answer(error: IngressAnswer) -> Response[Any]:
        _count_refusal(app, error.status, error.detail)
        return _answer(error.status, {"detail": error.detail}, error.headers)

    def misconfigured(error: ConfigurationError) -> Response[Any]:
        logger.error("misconfigured", extra={"reason": error.message})
        metrics.add_metric(name="IngressErrors", unit=MetricUnit.Count, value=1)
        return _answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"detail": "The service is misconfigured."})

    def unexpected(error: Exception) -> Response[Any]:
        logger.exception("unexpected error", extra={"error_type": type(error).__name__})
        metrics.add_metric(name="IngressErrors", unit=MetricUnit.Count, value=1)
        return _answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"detail": "An internal server error occurred."})

    app.exception_handler(IngressAnswer)(answer)
    app.exception_handler(ConfigurationError)(misconfigured)
    app.exception_handler(Exception)(unexpected)
    return app


def _count_refusal(app: APIGatewayRestResolver, status: HTTPStatus, detail: Any) -> None:
    """One metric and one log line per refused request (the reason, never the body or the key)."""
    metrics.add_metric(name="IngressRefused", unit=MetricUnit.Count, value=1)
    reason = (
        detail
        if isinstance(detail, str)
        else "; ".join(f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in detail)
    )
    log: Callable[..., None] = logger.warning if status >= HTTPStatus.INTERNAL_SERVER_ERROR else logger.info
    log(
        "FL ingress request refused",
        extra={"status": int(status), "reason": truncate(reason, 200), "path": app.current_event.path[:200]},
    )
