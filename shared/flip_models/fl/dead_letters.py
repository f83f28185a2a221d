"""Sending a rejected FL message to its queue's dead-letter queue (``DEAD_LETTER_QUEUE_URL``).

The DLQ copy keeps the original body untouched (so SQS's message-move task can redrive it to the
source queue once the cause is fixed) and carries why it was rejected as message attributes:
``rejection_reason`` (field or rule, short, never a stack trace), ``rejection_kind``,
``source_queue`` and ``original_message_id``. A FIFO DLQ also needs a group and a deduplication id:
the model id (or ``invalid``) and the original message id.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from flip_models.errors import ConfigurationError
from flip_models.fl.messages import truncate

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

#: The group of a FIFO dead letter whose model id could not be read.
INVALID_GROUP = "invalid"


@dataclass(frozen=True)
class DeadLetter:
    """One rejected record: its original id, body and queue, and why it was rejected."""

    message_id: str
    body: str
    source_queue: str
    reason: str
    kind: str
    group_id: str | None = None


@cache
def sqs_client() -> SQSClient:
    """The container's SQS client, created on first use (endpoint and region from the environment).

    boto3 is imported here, not at module level: most invocations dead-letter nothing, and its
    import is a large share of a cold start.
    """
    import boto3

    return boto3.client("sqs")


def reset_client() -> None:
    """Forget the cached client (tests that switch between moto and LocalStack)."""
    sqs_client.cache_clear()


def is_fifo(queue_url: str) -> bool:
    return queue_url.endswith(".fifo")


def send_dead_letter(letter: DeadLetter, queue_url: str | None) -> str:
    """Send ``letter`` to ``queue_url``; returns the DLQ message id.

    Raises (so the record is retried rather than dropped) when no DLQ is configured or SQS fails.
    """
    if not queue_url:
        raise ConfigurationError("DEAD_LETTER_QUEUE_URL is not set: cannot dead-letter a rejected message")
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        "rejection_reason": {"DataType": "String", "StringValue": truncate(letter.reason) or "rejected"},
        "rejection_kind": {"DataType": "String", "StringValue": letter.kind},
        "source_queue": {"DataType": "String", "StringValue": letter.source_queue or "unknown"},
        "original_message_id": {"DataType": "String", "StringValue": letter.message_id},
    }
    body = letter.body or "(empty body)"  # SQS refuses an empty body
    if is_fifo(queue_url):
        response = sqs_client().send_message(
            QueueUrl=queue_url,
            MessageBody=body,
            MessageAttributes=attributes,
            MessageGroupId=letter.group_id or INVALID_GROUP,
            MessageDeduplicationId=letter.message_id,
        )
    else:
        response = sqs_client().send_message(
            QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes
        )
    return response["MessageId"]
