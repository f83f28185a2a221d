"""Step 4, the queues: a checked message sent to its FL queue, answered only once SQS accepted it."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from http import HTTPStatus

from flip_models.errors import ConfigurationError
from flip_models.fl.dead_letters import sqs_client
from flip_models.fl.ingress.answers import IngressAnswer
from flip_models.fl.messages import FLLogMessage, FLMetricMessage, FLStatusMessage
from flip_models.observability import logger
from flip_models.store.settings import get_settings


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
