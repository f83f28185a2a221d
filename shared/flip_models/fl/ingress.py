"""The FL ingress (SPEC §10): FLIP's internal HTTP routes, checked and put in the FL queues.

FLIP's FL servers (flip-utils ``FLIPStandardProd``) call the hub at ``FLIP_API_INTERNAL_URL`` with
the header ``X-Internal-Service-Key``, one request per event, no retry. These routes take exactly
those requests and give FLIP's answers, but apply nothing themselves: a request is

1. **authenticated**: the key's SHA-256 compared in constant time with every accepted hash (the
   secret's, two during a rotation), FLIP's three 401 texts;
2. **validated** by the queue message's own model (:mod:`flip_models.fl.messages`; a 422 names the
   field), the path's model id and, for an ``Idempotency-Key`` header, its key included;
3. **checked** as FLIP checks synchronously, read-only: the model exists (404), a named FL client
   resolves to a trust of the model (FLIP's 400 texts; a failed client's text is kept all the same,
   SPEC §5). A yes is kept :attr:`~flip_models.store.settings.Settings.ingress_cache_seconds` (30 s)
   per container; a no is asked again every time;
4. **enqueued** in its FL queue (the status queue is FIFO with the model as its group), and answered
   ``2xx`` only once SQS has accepted the message. The consumers then apply it once, or dead-letter
   it with a reason, as any SQS message.

Idempotency: ``event_id`` in the body, else the ``Idempotency-Key`` header, becomes the message's
``event_id``, the per-model key the consumers apply once (a FIFO message's deduplication id is
derived from it and the body); without one each request is one message, as in FLIP.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from flip_models.errors import ConfigurationError, DatabaseUnavailableError
from flip_models.fl.attribution import ModelAndClient, find_model_and_client
from flip_models.fl.dead_letters import sqs_client
from flip_models.fl.messages import (
    MAX_EVENT_ID_LENGTH,
    FLLogMessage,
    FLMetricMessage,
    FLStatusMessage,
    truncate,
)
from flip_models.observability import logger, metrics
from flip_models.store import db
from flip_models.store.settings import get_settings

#: The header FLIP's FL servers send their key in (flip-api's ``INTERNAL_SERVICE_KEY_HEADER``).
KEY_HEADER: Final = "X-Internal-Service-Key"
#: The header a sender may name its request's idempotency key in.
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
#: FLIP's three 401 texts (flip-api ``authenticate_internal_service``).
KEY_MISSING: Final = "Not authenticated: internal service key is missing."
KEY_NOT_CONFIGURED: Final = "Internal service auth not configured."
KEY_INVALID: Final = "Invalid internal service key."
#: The JSON keys of the secret (FLIP's own secret names its hash ``internal_service_key_hash``).
SECRET_KEYS: Final = ("internal_service_key_hash", "internal_service_key_hash_previous")
#: SQS's own limit on a message: a request body larger than this is refused before it is read.
MAX_BODY_BYTES: Final = 262_144
#: The base path that makes ``FLIP_API_INTERNAL_URL=<ingress URL>/api`` work as flip-utils joins it.
BASE_PATH: Final = "/api"
#: How many (model, client) answers a container keeps.
_CACHE_ENTRIES: Final = 4096


class IngressAnswer(Exception):
    """A request ends here with ``status`` and FLIP's body ``{"detail": detail}``."""

    def __init__(self, status: HTTPStatus, detail: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def _invalid(*issues: tuple[Sequence[str | int], str, str]) -> IngressAnswer:
    """A 422 in FastAPI's shape: ``{"detail": [{"type", "loc", "msg"}]}`` (never the input)."""
    detail = [{"type": kind, "loc": list(loc), "msg": truncate(msg, 200)} for loc, msg, kind in issues]
    return IngressAnswer(HTTPStatus.UNPROCESSABLE_ENTITY, detail)


# --- 1. the key -------------------------------------------------------------------------------


def parse_hashes(value: str | bytes | Mapping[str, Any] | None) -> tuple[str, ...]:
    """The accepted SHA-256 hashes (lower-case hex) in a secret's value: JSON with
    :data:`SECRET_KEYS`, or the hashes as text (comma or space separated). Anything that is not a
    64-digit hex hash is ignored: a secret holding a key instead of its hash accepts nothing."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    candidates: list[Any] = []
    if isinstance(value, Mapping):
        candidates = [value.get(name) for name in SECRET_KEYS]
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                return parse_hashes(json.loads(text))
            except (ValueError, RecursionError):
                return ()
        candidates = text.replace(",", " ").split()
    hashes = []
    for candidate in candidates:
        if isinstance(candidate, str):
            digest = candidate.strip().lower()
            if len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
                hashes.append(digest)
    return tuple(dict.fromkeys(hashes))


def accepted_hashes() -> tuple[str, ...]:
    """The hashes of the keys accepted now: the secret's (Powertools' cache, ``max_age`` from the
    settings, so a rotation is seen within that time) or, without a secret, the setting's."""
    settings = get_settings()
    if settings.internal_service_key_secret_arn is None:
        return parse_hashes(settings.internal_service_key_hash)
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(
            settings.internal_service_key_secret_arn,
            max_age=settings.internal_service_key_max_age_seconds,
        )
    except parameters.GetParameterError as error:
        logger.error("the internal service key's secret could not be read", extra={"error": str(error)[:200]})
        raise IngressAnswer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "Internal service auth unavailable; try again.",
            {"Retry-After": "5"},
        ) from None
    return parse_hashes(value)


def authenticate(key: str | None) -> None:
    """FLIP's check: a key is given, hashes are configured, and the key's SHA-256 is one of them.

    Every accepted hash is compared (``hmac.compare_digest``, equal-length hex), none skipped: the
    time taken says nothing about which hash, if any, matched, nor about the key's length.
    """
    if not key:
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_MISSING)
    hashes = accepted_hashes()
    if not hashes:
        logger.warning("internal service key hash not configured")
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_NOT_CONFIGURED)
    provided = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).hexdigest()
    matched = False
    for expected in hashes:
        matched |= hmac.compare_digest(provided, expected)
    if not matched:
        raise IngressAnswer(HTTPStatus.UNAUTHORIZED, KEY_INVALID)


# --- 2. the body ------------------------------------------------------------------------------


def _is_json(content_type: str | None) -> bool:
    """FastAPI's rule: no content type, or ``application/json`` or ``application/*+json``."""
    if not content_type:
        return True
    parsed = Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def read_body(body: str | None, base64_encoded: bool, content_type: str | None) -> dict[str, Any]:
    """The request's JSON object, or a 413 (over SQS's limit) or a 422 (missing, not JSON, not an
    object, not sent as JSON)."""
    if body is None or body == "":
        raise _invalid((["body"], "Field required", "missing"))
    raw = body.encode("utf-8", errors="surrogatepass")
    if base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise _invalid((["body"], "body is not valid base64", "value_error")) from None
    if len(raw) > MAX_BODY_BYTES:
        raise IngressAnswer(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"Request body too large: {len(raw)} bytes, at most {MAX_BODY_BYTES} (an FL message's limit).",
        )
    if not _is_json(content_type):
        raise _invalid(
            (["body"], "send the body as JSON (Content-Type: application/json)", "model_attributes_type")
        )
    try:
        parsed = json.loads(raw)
    except RecursionError:
        raise _invalid((["body"], "nested too deeply", "json_invalid")) from None
    except ValueError as error:
        raise _invalid((["body"], f"JSON decode error: {str(error)[:80]}", "json_invalid")) from None
    if not isinstance(parsed, dict):
        raise _invalid((["body"], "Input should be a valid dictionary or object", "model_attributes_type"))
    return parsed


def _issues(error: ValidationError, path_fields: Mapping[str, Sequence[str]]) -> IngressAnswer:
    """A 422 naming each field at fault: a path field as FLIP names it, the others in the body; a
    rule of SPEC §5 (``"field: rule"``) names its field(s) in its text."""
    issues: list[tuple[Sequence[str | int], str, str]] = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = str(item["msg"])
        fields: list[Sequence[str | int]] = [
            [str(part) if isinstance(part, str) else part for part in item["loc"]]
        ]
        if item["type"] == "fl_message_rule" and ": " in message:
            fields = [[name.strip()] for name in message.split(": ", 1)[0].split(",")]
        for loc in fields:
            head = str(loc[0]) if loc else ""
            where = list(path_fields[head]) if head in path_fields else ["body", *loc]
            issues.append((where, message, str(item["type"])))
    return _invalid(*issues)


def storable_problem(
    value: Any, path: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], str] | None:
    """Text PostgreSQL cannot store (a NUL character, a lone surrogate) anywhere in ``value``: its
    place and why, or None. Such a message would only be dead-lettered by its consumer."""
    if isinstance(value, str):
        if "\x00" in value:
            return path, "text must not contain a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "text must be valid Unicode (a lone surrogate)"
        return None
    items: Iterator[tuple[str | int, Any]]
    if isinstance(value, Mapping):
        for key in value:
            if (problem := storable_problem(str(key), (*path, str(key)))) is not None:
                return problem
        items = ((str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if (problem := storable_problem(item, (*path, key))) is not None:
            return problem
    return None


# --- 3. the read-only checks ------------------------------------------------------------------


class _Found:
    """The (model, client) pairs found good, each for ``ingress_cache_seconds`` (a no is not kept)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[tuple[uuid.UUID, str | None], tuple[float, ModelAndClient]] = {}

    def get(self, key: tuple[uuid.UUID, str | None]) -> ModelAndClient | None:
        with self._lock:
            entry = self._until.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def keep(self, key: tuple[uuid.UUID, str | None], found: ModelAndClient, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            if len(self._until) >= _CACHE_ENTRIES:
                now = time.monotonic()
                self._until = {k: v for k, v in self._until.items() if v[0] > now}
                if len(self._until) >= _CACHE_ENTRIES:
                    self._until.clear()
            self._until[key] = (time.monotonic() + seconds, found)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


FOUND = _Found()


def model_and_client(model_id: uuid.UUID, fl_client_name: str | None) -> ModelAndClient:
    """The model and the client's attribution: from the cache, else one read-only query."""
    key = (model_id, fl_client_name)
    cached = FOUND.get(key)
    if cached is not None:
        return cached
    try:
        with db.session_scope() as session:
            found = find_model_and_client(model_id, fl_client_name, session.connection())
    except DatabaseUnavailableError as error:
        raise IngressAnswer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            f"The hub's database is unavailable: {error.message}",
            {"Retry-After": "5"},
        ) from None
    if found.model_found and (fl_client_name is None or found.trust_in_model):
        FOUND.keep(key, found, get_settings().ingress_cache_seconds)
    return found


def _model_not_found(model_id: uuid.UUID) -> IngressAnswer:
    return IngressAnswer(HTTPStatus.NOT_FOUND, f"Model ID: {model_id} does not exist")


def check_attribution(message: FLLogMessage | FLMetricMessage) -> None:
    """FLIP's synchronous answers: 404 for an unknown model, its 400s for a client that resolves to
    no trust or whose trust is not on the model, except a failed client's text, which is kept as a
    model-level row (SPEC §5) and so accepted."""
    name = message.fl_client_name
    found = model_and_client(message.model_id, name)
    if not found.model_found:
        raise _model_not_found(message.model_id)
    if name is None or found.trust_in_model:
        return
    if isinstance(message, FLLogMessage) and message.log is not None and not message.success:
        return  # kept as "[unattributed client 'NAME'] …" by the consumer
    if found.trust_name is None:
        text = f"FL client '{name}' could not be resolved to a trust (model: {message.model_id})"
    else:
        text = f"The trust: {found.trust_name} is not associated with model: {message.model_id}"
    raise IngressAnswer(HTTPStatus.BAD_REQUEST, text)


# --- 4. the queues ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    """One FL queue the ingress sends to: its name (for logs) and its URL's setting."""

    name: str
    url_setting: str
    fifo: bool = False

    def url(self) -> str:
        url: str | None = getattr(get_settings(), self.url_setting)
        if not url:
            raise ConfigurationError(f"{self.url_setting.upper()} is not set: the FL ingress has no queue")
        return url


LOGS = Queue("fl-logs", "fl_logs_queue_url")
METRICS = Queue("fl-metrics", "fl_metrics_queue_url")
STATUS = Queue("fl-status.fifo", "fl_status_queue_url", fifo=True)


def deduplication_id(message: FLLogMessage | FLMetricMessage | FLStatusMessage) -> str:
    """A FIFO message's deduplication id: its model, key and body (a key reused with another body
    reaches the consumer, which dead-letters it), or a fresh id when the request names no key."""
    if message.event_id is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{message.model_id}\n{message.event_id}\n{message.digest()}".encode()).hexdigest()


def enqueue(queue: Queue, message: FLLogMessage | FLMetricMessage | FLStatusMessage) -> str:
    """Send the validated message; returns SQS's message id once SQS has accepted it.

    The body is the message as validated (defaults applied, a long text cut), ASCII JSON: every
    character SQS allows, and what the consumer validates again to the same message.
    """
    body = json.dumps(message.model_dump(mode="json"), separators=(",", ":"))
    url = queue.url()
    extra: dict[str, str] = {}
    if queue.fifo:
        extra = {"MessageGroupId": str(message.model_id), "MessageDeduplicationId": deduplication_id(message)}
    try:
        response = sqs_client().send_message(QueueUrl=url, MessageBody=body, **extra)  # type: ignore[arg-type]
    except Exception as error:  # botocore's ClientError, connection and timeout errors alike
        logger.error(
            "the FL queue refused a message", extra={"queue": queue.name, "error": type(error).__name__}
        )
        raise IngressAnswer(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The FL queue did not accept the message; nothing was recorded. Try again.",
            {"Retry-After": "5"},
        ) from None
    return str(response["MessageId"])


# --- the routes -------------------------------------------------------------------------------


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
            raise _invalid(
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
            raise _issues(error, {"model_id": ["path", "model_id"]}) from None
        except RecursionError:
            raise _invalid((["body"], "nested too deeply", "json_invalid")) from None
        problem = storable_problem(message.model_dump(mode="json"))
        if problem is not None:
            raise _invalid((["body", *problem[0]], problem[1], "value_error"))
        return message

    @app.put(f"{BASE_PATH}/model/<modelId>/status/<status>")
    def update_status(modelId: str, status: str) -> Response[Any]:
        authenticate(header(KEY_HEADER))
        try:
            message = FLStatusMessage.model_validate(
                {"model_id": modelId, "status": status, "event_id": idempotency_key()}
            )
        except ValidationError as error:
            raise _issues(
                error, {"model_id": ["path", "model_id"], "status": ["path", "model_status"]}
            ) from None
        if not model_and_client(message.model_id, None).model_found:
            raise _model_not_found(message.model_id)
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
